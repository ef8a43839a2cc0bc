"""The catalogs: coverage in every language, variants chosen by the step's facts, wire
visibility, safe placeholders, and the explanations a scenario is the lesson of."""

from __future__ import annotations

import datetime
import functools
import json
import re
import ssl
import string
import tempfile
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

import wssviz.explain as ex
import wssviz.explain.render as render
from wssviz import scenarios
from wssviz.explain import Explanation, explain, kind_title, languages, ui_text, visibility
from wssviz.steps import ALL_KINDS, LOCAL_KINDS, Field, Msg, Step

UI_ROOT = Path(__file__).resolve().parents[1] / "wssviz" / "ui"
SRC_ROOT = Path(__file__).resolve().parents[1] / "wssviz"
CJK = re.compile(r"[\u4e00-\u9fff]")
RFC_REF = re.compile(r"RFC \d{4}( (§\d+(\.\d+)*|Appendix [A-Z](\.\d+)*))?")
TLS12, TLS13 = 0x0303, 0x0304


def raw(lang: str) -> dict:
    text = resources.files("wssviz.explain").joinpath(f"{lang}.toml").read_text("utf-8")
    return tomllib.loads(text)


def F(id: str, raw: Any = None, value: Any = None, children: list[Field] | None = None, *,
      name: str | None = None) -> Field:
    """A computed field: its value for people defaults to its raw value as text."""
    shown = value if value is not None else ("" if raw is None else str(raw))
    return Field(id, shown, 0, 0, "none", children or [], raw, name)


def step(kind: str, direction: str | None = None, *, fields: dict[str, Any] | list[Field] | None = None,
         facts: dict[str, Any] | None = None, status: str = "ok", wire: bytes = b"",
         data: bytes = b"") -> Step:
    if direction is None:
        direction = "client" if kind in LOCAL_KINDS else "c2s"
    if isinstance(fields, dict):
        fields = [F(k, v) for k, v in fields.items()]
    return Step(0, kind, direction, Msg("title.message", name=kind), Msg("summary.no_extensions"),
                wire=wire, data=data, fields=list(fields or []), status=status, facts=dict(facts or {}))


def record(content_type: int, payload: bytes) -> bytes:
    return bytes([content_type, 3, 3]) + len(payload).to_bytes(2, "big") + payload


@functools.cache
def _live(name: str | None = None) -> list[Step]:
    """Steps of a live session: the default settings, or a scenario file."""
    from wssviz.live.pair import LiveSession
    from wssviz.live.settings import Settings

    return LiveSession(scenarios.load(name) if name else Settings()).run_all()


def _of(steps: list[Step], kind: str) -> list[Step]:
    return [s for s in steps if s.kind == kind]


# --- coverage --------------------------------------------------------------


def test_languages():
    assert languages() == ["en", "zh"]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("kind", sorted(ALL_KINDS))
def test_every_kind_has_its_own_complete_entry(kind, lang):
    entry = raw(lang)[kind]  # present in this language, not borrowed by fallback
    for part in ("title", "what", "why", "eavesdropper", "rfc"):
        assert isinstance(entry.get(part), str) and entry[part].strip(), (kind, lang, part)
    assert RFC_REF.match(entry["rfc"]), entry["rfc"]
    if kind in LOCAL_KINDS:
        assert entry.get("eavesdropper_local"), kind


NOT_ENTRIES = {"ui", "text", "field", "glossary", "scenario"}


def entries(lang: str) -> dict:
    return {k: v for k, v in raw(lang).items() if k not in NOT_ENTRIES}


def test_variants_are_chosen_by_conditions_in_the_reference_catalog():
    en, zh = entries("en"), entries("zh")
    for key, body in en.items():
        if key in ALL_KINDS or key == "_generic":
            assert "when" not in body, key
            continue
        assert isinstance(body.get("when"), dict) and body["when"], f"{key}: a variant needs when"
        assert key.split(".")[0] in ("tcp", "tls", "http", "ws", "error")
    for key, body in zh.items():
        assert "when" not in body, f"{key}: conditions live in en.toml only"
        assert key in en, f"zh entry {key} has no English entry"


def test_zh_translates_every_entry_and_part():
    en, zh = entries("en"), entries("zh")
    for key, body in en.items():
        parts = {p for p in body if p not in ("when", "rfc")}
        assert key in zh or not parts, key
        if key not in zh:
            continue
        assert parts <= set(zh[key]), (key, parts - set(zh[key]))
        for part in parts:
            if part != "title":
                assert CJK.search(zh[key][part]), (key, part)
                assert zh[key][part] != body[part]


def test_rfc_references_are_the_same_in_every_language():
    en, zh = entries("en"), entries("zh")
    assert [k for k in zh if "rfc" in zh[k] and zh[k]["rfc"] != en[k].get("rfc")] == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_entry_rules(lang):
    for key, entry in entries(lang).items():
        for part, text in entry.items():
            if part == "when":
                continue
            outside = re.sub(r"\[\[.*?\]\]", "", text, flags=re.DOTALL)
            assert "{" not in outside and "}" not in outside, (key, part)  # placeholders only in [[ ]]
            assert "[" not in outside and "]" not in outside, (key, part)  # nothing markup-like
        assert RFC_REF.match(entry.get("rfc", "RFC 0000")), key


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{([A-Za-z0-9 _.\-]+)(?::[a-z]+(?::[^{}]*)?)?\}", text))


def test_text_and_field_tables_are_complete_in_every_language():
    en, zh = raw("en"), raw("zh")
    for table in ("text", "field"):
        assert set(en[table]) == set(zh[table]), (table, set(en[table]) ^ set(zh[table]))
        for key, text in en[table].items():
            assert _placeholders(text) == _placeholders(zh[table][key]), (table, key)
    # every Chinese message says something in Chinese, or is only values and protocol names
    latin_only = {k for k, v in zh["text"].items() if not CJK.search(v)}
    for key in latin_only:
        stripped = re.sub(r"\{[^{}]*\}", "", zh["text"][key])
        # (a quiz concept's ``.words`` are what a reply is matched against, never shown)
        assert not re.search(r"\b[a-z]{3,}\b", stripped) or key.startswith(("opcode.", "how.", "layer.")) \
            or key.endswith(".words"), key


def _msgs(value: Any) -> list[Msg]:
    if isinstance(value, Msg):
        out = [value]
        for v in value.params.values():
            out += _msgs(v)
        return out
    if isinstance(value, (list, tuple)):
        return [m for v in value for m in _msgs(v)]
    return []


ALL_NAMES = sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "scenarios").glob("*.toml"))


@pytest.mark.parametrize("name", ALL_NAMES)
def test_every_message_a_scenario_shows_is_in_both_catalogs(name):
    en, zh = raw("en"), raw("zh")
    for s in _live(name):
        s.check()
        keys = [m.key for v in (s.title, s.summary) for m in _msgs(v)]
        for f in s.walk():
            keys += [m.key for m in _msgs(f.value)]
            if f.name is None:
                assert render.field_label(f.id, "en") and render.field_label(f.id, "zh"), f.id
        for k in keys:
            if k == "scenario.part":
                continue
            assert k in en["text"] and k in zh["text"], (name, s.kind, k)


def test_message_keys_in_the_source_exist():
    """Every literal Msg key the code names is in the catalogs (f-string families are
    covered by the scenario runs above)."""
    en = raw("en")["text"]
    found = set()
    for path in SRC_ROOT.rglob("*.py"):
        found |= set(re.findall(r"\bMsg\(\"([a-z0-9_.]+)\"", path.read_text(encoding="utf-8")))
        found |= {f"rule.{c}" for c in re.findall(r"code=\"([a-z0-9_.]+)\"", path.read_text(encoding="utf-8"))}
    found.discard("scenario.part")
    assert len(found) > 150
    assert sorted(k for k in found if k not in en) == []


def ui_keys_in_source() -> set[str]:
    """Every literal key the interface asks ``t``/``view.t`` for, plus its key families."""
    keys: set[str] = set()
    for path in UI_ROOT.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        keys |= set(re.findall(r"\bt\(\s*[\"']([a-z][a-z0-9_.\-]*)[\"']", text))
        keys |= set(re.findall(r"\(\s*\"((?:accept|explain|key)[._][a-z0-9_]+)\"\s*,", text))
    from wssviz.ui.model import PANES

    keys |= {f"pane_{p}" for p in PANES}
    keys |= {f"dir_{d}" for d in ("c2s", "s2c", "client", "server")}
    keys |= {"header_" + h for h in ("host", "upgrade", "connection", "sec-websocket-key",
                                     "sec-websocket-version", "sec-websocket-protocol",
                                     "sec-websocket-extensions", "origin", "sec-websocket-accept")}
    from wssviz.ui.texts import ALIASES

    return {ALIASES.get(k, k) for k in keys if not k.endswith("_")}  # "x_": a prefix code completes


def test_every_ui_key_is_in_both_catalogs():
    en, zh = raw("en")["ui"], raw("zh")["ui"]
    used = ui_keys_in_source()
    assert len(used) > 60  # the scan itself works
    assert sorted(used - set(en)) == []
    assert sorted(used - set(zh)) == []
    assert set(en) == set(zh)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_ui_text(lang):
    for key in raw(lang)["ui"]:
        assert ui_text(key, lang) and ui_text(key, lang) != key
    assert ui_text("eavesdropper_sees", "en") == "Eavesdropper sees"
    assert ui_text("no_such_key", lang) == "no_such_key"


def test_ui_text_is_translated():
    en, zh = raw("en")["ui"], raw("zh")["ui"]
    same = {k for k in en if zh[k] == en[k]}
    # a formula, a name, the protocols' names, a dash
    assert same <= {"accept.base64", "rfc", "compare_none", "pane_short_tls", "pane_short_accept",
                    *(f"{k}_{p}" for k in ("handout_phase", "help_band") for p in ("tcp", "tls", "http", "ws"))}
    for key, text in zh.items():
        if key not in same and key not in ("compare_none", "pane_short_tls", "pane_short_accept", "key_lang", "ladder_side", "plain_field", "field_sep", "span", "plain_status"):  # names only
            assert CJK.search(text), key
    assert ui_text("pane_explain", "zh") == "讲解" and ui_text("key_lang", "zh") == "English"


def test_ui_text_falls_back_to_english(monkeypatch):
    en, zh = raw("en"), raw("zh")
    del zh["ui"]["status_end"]
    monkeypatch.setattr(render, "catalog", lambda lang: {"en": en, "zh": zh}.get(lang, {}))
    assert ui_text("status_end", "zh") == en["ui"]["status_end"]
    assert ui_text("status_end", "fr") == en["ui"]["status_end"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_ui_catalog_rules(lang):
    """Interface strings are plain text with the same str.format fields in every language."""
    en = raw("en")["ui"]
    for key, text in raw(lang)["ui"].items():
        assert isinstance(text, str) and text.strip(), key
        assert "[" not in text and "]" not in text, key  # nothing markup-like
        fields = sorted(f for _, f, _, _ in string.Formatter().parse(text) if f is not None)
        assert fields == sorted(f for _, f, _, _ in string.Formatter().parse(en[key]) if f is not None), key
        text.format(**{f: 1 for f in fields})  # formats cleanly


def test_kind_title():
    assert kind_title("tls.client_hello") == "ClientHello"
    assert kind_title("ws.accept_check") == "Sec-WebSocket-Accept check"
    assert kind_title("http.upgrade_request", "zh") == "升级请求"
    assert kind_title("quic.initial") == "quic.initial"


# --- the language comes from the locale ----------------------------------------


@pytest.mark.parametrize("env,lang", [
    ({}, "en"), ({"LANG": "zh_CN.UTF-8"}, "zh"), ({"LANG": "zh_TW.UTF-8"}, "zh"),
    ({"LANG": "en_US.UTF-8"}, "en"), ({"LANG": "C.UTF-8"}, "en"), ({"LANG": "fr_FR.UTF-8"}, "en"),
    ({"LANG": "zh_CN.UTF-8", "LC_ALL": "en_GB.UTF-8"}, "en"),
    ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.GB18030"}, "zh"),
    ({"LC_ALL": "zh_SG@pinyin"}, "zh")])
def test_default_language_follows_the_locale(env, lang):
    assert ex.default_language(env) == lang


def test_lang_picks_chinese_from_lang_alone(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("LC_")}
    env["LANG"] = "zh_CN.UTF-8"
    out = subprocess.run([sys.executable, "-m", "wssviz", "run", "--plain"], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "教科书" in out.stdout.splitlines()[0] and "发生了什么" in out.stdout
    assert "What happened" not in out.stdout


# --- every step explains cleanly ---------------------------------------------


@pytest.mark.parametrize("scheme", ["ws", "wss"])
@pytest.mark.parametrize("lang", ["en", "zh", "fr"])
@pytest.mark.parametrize("kind", sorted(ALL_KINDS))
def test_explain_every_kind(kind, lang, scheme):
    for direction in (["client", "server"] if kind in LOCAL_KINDS else ["c2s", "s2c"]):
        e = explain(step(kind, direction), lang, scheme=scheme)
        assert isinstance(e, Explanation)
        for part in (e.title, e.what, e.why, e.eavesdropper, e.rfc):
            assert part.strip()
            assert not re.search(r"[{}\[\]]", part), part  # no leftover placeholders or markup
            assert "  " not in part


def test_unknown_language_is_english():
    s = step("tls.finished", "s2c")
    assert explain(s, "fr") == explain(s, "en")


# --- variants ----------------------------------------------------------------


def frame(op: int, direction: str = "c2s", **facts: Any) -> Step:
    return step("ws.frame", direction, fields=[F("ws.frame.opcode", op)], facts=dict({"fin": True}, **facts))


def test_text_frame_versus_close_frame():
    text = explain(frame(1))
    close = explain(step("ws.frame", "c2s", fields=[F("ws.frame.opcode", 8),
                                                     F("ws.frame.close_code", 1000, "1000 normal closure")]))
    assert text.title == "Text frame" and close.title == "Close frame"
    assert "UTF-8" in text.what and "1000" in close.what
    assert close.rfc.startswith("RFC 6455 §5.5.1")
    reserved = explain(step("ws.frame", "s2c", fields=[F("ws.frame.opcode", 3, "0x3 reserved")]))
    assert reserved.title == "WebSocket frame" and "0x3 reserved" in reserved.what


@pytest.mark.parametrize("op", [1, 2, 0, 8])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_masking_reads_right_in_each_direction(op, lang):
    c2s, s2c = explain(frame(op, "c2s"), lang), explain(frame(op, "s2c"), lang)
    assert c2s.title == s2c.title and c2s.what == s2c.what
    assert "§10.3" in c2s.why
    if lang == "en":
        assert "client" in c2s.why and "not masked" in s2c.why
    else:
        assert "掩码" in c2s.why and "不加掩码" in s2c.why


def test_alert_variants():
    notify = explain(step("tls.alert", "c2s", fields={"tls.alert.description": 0}))
    unknown_ca = explain(step("tls.alert", "c2s", fields={"tls.alert.description": 48}, status="error"))
    assert "truncation" in notify.why and "§6.1" in notify.rfc
    assert "trust" in unknown_ca.what and "RFC 5280" in unknown_ca.rfc
    assert notify.what != unknown_ca.what and notify.title == unknown_ca.title == "Alert"
    odd = explain(step("tls.alert", "s2c", fields=[F("tls.alert.description", 254, "254 brand_new_alert")]))
    assert odd.what.startswith("A TLS alert: 254 brand_new_alert.")


def test_error_status_variants():
    for kind in ("ws.accept_check", "tls.cert_check"):
        ok, bad = explain(step(kind)), explain(step(kind, status="error"))
        assert ok.what != bad.what and ok.why != bad.why and ok.title == bad.title
        assert "fail" in bad.what.lower()
    assert "7.1.7" in explain(step("ws.accept_check", status="error")).rfc


def test_upgrade_response_by_status_code():
    def resp(code, status="ok", **kw):
        return explain(step("http.upgrade_response", "s2c", fields=[F("http.status_code", code)],
                            status=status, **kw))

    assert "101" in resp(101).what and resp(101).rfc == "RFC 6455 §4.2.2"
    assert "Origin" in resp(403, "error").what and resp(403, "error").rfc.endswith("§10.2")
    assert resp(426, "error").rfc == "RFC 6455 §4.4"
    assert resp(400, "error").rfc == "RFC 6455 §4.2.1"
    e403 = resp(403, "error", wire=record(0x17, bytes(40)))
    assert "no frames follow" in e403.eavesdropper and "45 bytes" in e403.eavesdropper


def test_tls_version_variants():
    assert explain(step("tls.finished", "s2c", facts={"tls_version": TLS13})).rfc.startswith("RFC 8446 §4.4.4")
    assert explain(step("tls.finished", "s2c", facts={"tls_version": TLS12})).rfc == "RFC 5246 §7.4.9"
    cr12 = explain(step("tls.certificate_request", "s2c", facts={"tls_version": TLS12}))
    cr13 = explain(step("tls.certificate_request", "s2c", facts={"tls_version": TLS13}))
    assert cr12.rfc == "RFC 5246 §7.4.4" and cr13.rfc == "RFC 8446 §4.3.2" and cr12.what == cr13.what


def test_key_phases():
    def keys(phase, **facts):
        return explain(step("tls.keys", fields=[F("tls.keys.phase", phase, Msg(f"phase.{phase}"))], facts=facts))

    hs, app, ms = keys("handshake"), keys("application"), keys("master_secret")
    assert "handshake traffic" in hs.what and "§5.3" in hs.rfc  # the nonce construction
    assert "forward secrecy" in app.why
    assert "48-byte master secret" in ms.what and ms.rfc.startswith("RFC 5246")


def test_specific_variants_win_and_lists_count_half():
    """A variant naming one layer beats the family naming several (the family fills in)."""
    rec = explain(step("error", "client", fields=[F("error.layer", "tls_record")], status="error"))
    fam = explain(step("error", "client", fields=[F("error.layer", "tls_alert")], status="error"))
    assert rec.why != fam.why and "5-byte header" in rec.why
    assert "fatal alert" in fam.why


# --- what the eavesdropper sees ---------------------------------------------


def test_upgrade_request_differs_between_ws_and_wss():
    req = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\n\r\n"
    plain = step("http.upgrade_request", "c2s", wire=req, data=req)
    assert visibility(plain, "ws") == "clear"
    e_ws = explain(plain, scheme="ws")
    assert "cookies" in e_ws.eavesdropper and "plain text" in e_ws.eavesdropper
    sealed = step("http.upgrade_request", "c2s", wire=record(0x17, bytes(80)), data=req)
    assert visibility(sealed, "wss") == "encrypted"
    e_wss = explain(sealed, scheme="wss")
    assert e_wss.eavesdropper != e_ws.eavesdropper
    assert "85 bytes" in e_wss.eavesdropper and "SNI" in e_wss.eavesdropper
    assert "85 字节" in explain(sealed, "zh", scheme="wss").eavesdropper


def test_local_steps_send_nothing_in_either_scheme():
    for kind in sorted(LOCAL_KINDS):
        s = step(kind, "server" if kind == "ws.accept" else "client")
        assert visibility(s, "ws") == visibility(s, "wss") == "local"
        assert explain(s).eavesdropper.startswith("Nothing")
    assert visibility(step("error", "c2s"), "wss") == "local"


def test_visibility_by_protocol_when_bytes_are_absent():
    v12, v13 = [F("tls.version", TLS12)], [F("tls.version", TLS13)]
    assert visibility(step("tcp.connect", "c2s"), "wss") == "clear"
    for kind in ("tls.client_hello", "tls.server_hello", "tls.hello_retry_request", "tls.change_cipher_spec"):
        assert visibility(step(kind, fields=v13), "wss") == "clear"
    for kind in ("tls.encrypted_extensions", "tls.certificate", "tls.certificate_verify", "tls.finished",
                 "tls.new_session_ticket"):
        assert visibility(step(kind, "s2c", fields=v13), "wss") == "encrypted"
    for kind in ("tls.certificate", "tls.server_key_exchange", "tls.server_hello_done",
                 "tls.client_key_exchange", "tls.new_session_ticket"):
        assert visibility(step(kind, "s2c", fields=v12), "wss") == "clear"
    assert visibility(step("tls.finished", "s2c", fields=v12), "wss") == "encrypted"
    assert visibility(step("ws.frame", "s2c"), "wss") == "encrypted"
    assert visibility(step("ws.frame", "s2c"), "ws") == "clear"


def test_alert_visibility_from_record_bytes():
    clear = record(0x15, bytes([2, 48]))
    assert visibility(step("tls.alert", "c2s", wire=clear, data=clear[5:]), "wss") == "clear"
    assert visibility(step("tls.alert", "c2s", wire=record(0x17, bytes(19))), "wss") == "encrypted"
    tls12 = record(0x15, bytes(26))  # explicit nonce + alert + GCM tag
    s = step("tls.alert", "c2s", wire=tls12, fields=[F("tls.version", TLS12)], facts={"tls_version": TLS12})
    assert visibility(s, "wss") == "encrypted"
    e = explain(s).eavesdropper
    assert "31 bytes" in e and "alert (21)" in e  # TLS 1.2 does not hide that it is an alert


# --- real OpenSSL flights ----------------------------------------------------


def _self_signed(tmp: Path) -> tuple[Path, Path, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path, cert.public_bytes(serialization.Encoding.PEM)


def _flights(version: ssl.TLSVersion) -> list[tuple[str, bytes]]:
    """Run a real in-memory handshake; return (direction, record) in order."""
    with tempfile.TemporaryDirectory() as d:
        cert_path, key_path, pem = _self_signed(Path(d))
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.load_cert_chain(cert_path, key_path)
        server_ctx.maximum_version = version
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.load_verify_locations(cadata=pem.decode())
    pipes = [ssl.MemoryBIO() for _ in range(4)]
    client = client_ctx.wrap_bio(pipes[0], pipes[1], server_hostname="localhost")
    server = server_ctx.wrap_bio(pipes[2], pipes[3], server_side=True)
    out: list[tuple[str, bytes]] = []

    def move(src: ssl.MemoryBIO, dst: ssl.MemoryBIO, direction: str) -> None:
        data = src.read()
        dst.write(data)
        while data:
            n = 5 + int.from_bytes(data[3:5], "big")
            out.append((direction, data[:n]))
            data = data[n:]

    done = [False, False]
    for _ in range(10):
        for i, (obj, src, dst, d) in enumerate(((client, pipes[1], pipes[2], "c2s"),
                                               (server, pipes[3], pipes[0], "s2c"))):
            if not done[i]:
                try:
                    obj.do_handshake()
                    done[i] = True
                except ssl.SSLWantReadError:
                    pass
            move(src, dst, d)
        if all(done):
            break
    assert all(done)
    return out


def _handshake_messages(rec: bytes) -> list[bytes]:
    body, msgs = rec[5:], []
    while len(body) >= 4:
        n = 4 + int.from_bytes(body[1:4], "big")
        msgs.append(body[:n])
        body = body[n:]
    return msgs


def test_real_tls13_flight_visibility():
    flights = _flights(ssl.TLSVersion.TLSv1_3)
    ch = flights[0][1]
    hello = step("tls.client_hello", "c2s", wire=ch, data=_handshake_messages(ch)[0])
    assert visibility(hello, "wss") == "clear"
    server = [r for d, r in flights if d == "s2c"]
    assert visibility(step("tls.server_hello", "s2c", wire=server[0]), "wss") == "clear"
    ccs = next(r for r in server if r[0] == 0x14)
    assert ccs == bytes.fromhex("140303000101")
    assert visibility(step("tls.change_cipher_spec", "s2c", wire=ccs), "wss") == "clear"
    sealed = next(r for r in server if r[0] == 0x17)
    for kind in ("tls.encrypted_extensions", "tls.certificate", "tls.certificate_verify", "tls.finished"):
        s = step(kind, "s2c", wire=sealed, data=bytes([11, 0, 0, 0]))
        assert visibility(s, "wss") == "encrypted"
        assert f"{len(sealed)} bytes" in explain(s).eavesdropper


def test_real_tls12_flight_visibility():
    flights = _flights(ssl.TLSVersion.TLSv1_2)
    v12 = [F("tls.version", TLS12)]
    server = [r for d, r in flights if d == "s2c"]
    msgs = [(r, m) for r in server if r[0] == 0x16 for m in _handshake_messages(r)]
    cert_rec, cert_msg = next((r, m) for r, m in msgs if m[0] == 11)
    s = step("tls.certificate", "s2c", wire=cert_rec, data=cert_msg, fields=v12, facts={"tls_version": TLS12})
    assert visibility(s, "wss") == "clear"
    assert explain(s).eavesdropper.startswith("The whole chain, readable")
    ccs_at = max(i for i, r in enumerate(server) if r[0] == 0x14)
    fin = server[ccs_at + 1]
    fin_step = step("tls.finished", "s2c", wire=fin, data=bytes([20, 0, 0, 12]) + bytes(12), fields=v12,
                    facts={"tls_version": TLS12})
    assert visibility(fin_step, "wss") == "encrypted"
    assert "handshake (22)" in explain(fin_step).eavesdropper


# --- placeholders are plain text -------------------------------------------


@pytest.mark.parametrize("hostile", ["{0.__class__}", "[/bold]", "{cipher suite}", "{}",
                                     "[link=http://x]y[/link]", "%s %(x)s", "{wire bytes}"])
def test_hostile_values_stay_literal(hostile):
    s = step("tls.server_hello", "s2c", fields=[F("tls.server_hello.cipher_suite", 0x1301, hostile)],
             wire=record(0x16, bytes(4)))
    assert f"cipher suite {hostile} and sends" in explain(s).what
    assert f"密码套件 {hostile}，" in explain(s, "zh").what


def test_hostile_values_in_messages_stay_literal():
    for hostile in ("{0.__class__}", "[/bold]", "{n:plural:a|b}", "[[x]]"):
        shown = ex.text(Msg("summary.upgrade_request", method="GET", target=hostile, via=Msg("via.tls")))
        assert hostile in shown


def test_values_are_cleaned_and_cut():
    s = step("tls.alert", "s2c", fields=[F("tls.alert.description", 1, "1 bad\nline\x1b[31m" + "x" * 300)])
    what = explain(s).what
    assert "\n" not in what and "\x1b" not in what and "1 bad line [31m" in what
    shown = what.split(": ", 1)[1].split(". A fatal")[0]
    assert len(shown) == render.MAX_VALUE and shown.endswith("…")


def test_missing_values_leave_clean_text():
    assert explain(step("tls.server_hello", "s2c")).what.startswith(
        "The server picks the version and the cipher suite and sends")
    assert explain(step("tls.server_hello", "s2c"), "zh").what.startswith("服务器选定版本和密码套件，")


def test_nested_field_values_are_found():
    s = step("tls.server_hello", "s2c", fields=[F("tls.server_hello", 2, "x", [
        F("tls.server_hello.cipher_suite", 0x1301, "0x1301 TLS_AES_128_GCM_SHA256")])])
    assert "suite 0x1301 TLS_AES_128_GCM_SHA256 and" in explain(s).what


def test_unknown_kind_gives_generic_entry():
    s = step("tcp.connect", "c2s")
    s.kind = "quic.initial"  # a kind from a future recording
    e = explain(s)
    assert e.title == "Step" and "no explanation" in e.why
    assert explain(s, "zh").title == "步骤"


def test_zh_falls_back_to_en_per_missing_key(monkeypatch):
    en, zh = raw("en"), raw("zh")
    del zh["tcp.connect"]
    del zh["ws.frame.close.c2s"]["why"]
    del zh["ws.frame.ping"]
    monkeypatch.setattr(render, "catalog", lambda lang: {"en": en, "zh": zh}.get(lang, {}))
    ex._variants.cache_clear()
    try:
        tcp = step("tcp.connect", "c2s")
        assert explain(tcp, "zh") == explain(tcp, "en")
        close = explain(frame(8), "zh")
        assert close.title == "关闭帧" and close.why == en["ws.frame.close.c2s"]["why"]
        ping = explain(frame(9), "zh")
        assert ping.what == en["ws.frame.ping"]["what"]  # English specific, not Chinese generic
        assert CJK.search(ping.eavesdropper)
    finally:
        ex._variants.cache_clear()


# --- text true for the session it explains (live runs) ----------------------------


@pytest.mark.parametrize("scheme,version", [("wss", "1.3"), ("wss", "1.2"), ("ws", "1.3")])
def test_live_session_steps_explain_and_visibility(scheme, version):
    from wssviz.live.pair import LiveSession
    from wssviz.live.settings import Settings

    steps = LiveSession(Settings(scheme=scheme, tls_version=version)).run_all()
    seen = [(s.kind, visibility(s, scheme)) for s in steps]
    for s in steps:
        for lang in ("en", "zh"):
            e = explain(s, lang, scheme=scheme)
            assert all(p.strip() for p in (e.title, e.what, e.why, e.eavesdropper, e.rfc))
            assert not re.search(r"[{}\[\]]", e.eavesdropper + e.what)
    assert all(v == "local" for k, v in seen if k in LOCAL_KINDS)
    if scheme == "ws":
        assert {v for k, v in seen if k not in LOCAL_KINDS} == {"clear"}
        return
    assert all(v == "encrypted" for k, v in seen if k.startswith(("http.", "ws.frame")))
    assert ("tls.client_hello", "clear") in seen and ("tls.server_hello", "clear") in seen
    assert all(v == "encrypted" for k, v in seen if k == "tls.finished")
    assert dict(seen)["tls.certificate"] == ("encrypted" if version == "1.3" else "clear")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_tcp_close_follows_what_ended_the_connection(lang):
    def close(after, by="client"):
        return explain(step("tcp.close", "c2s" if by == "client" else "s2c", fields=[
            F("tcp.closed_by", by, Msg(f"side.{by}")), F("tcp.how", "fin", Msg("how.fin")),
            F("tcp.after", after, Msg(f"after.{after}"))]), lang)

    texts = {a: close(a) for a in ("websocket_close", "one_sided_close", "tls_alert", "http_refusal", "abort")}
    assert len({e.why for e in texts.values()}) == 5
    if lang == "en":
        assert "TIME_WAIT" in texts["websocket_close"].why and "TIME_WAIT" not in texts["tls_alert"].why
        assert "1006" in texts["abort"].why and "1006" in texts["one_sided_close"].why
        assert texts["websocket_close"].what.endswith("The client closed TCP first.")
    else:
        assert "由客户端先关闭 TCP。" in texts["websocket_close"].what
        assert "1006" in texts["one_sided_close"].why
    assert "server" not in close("websocket_close", "server").what if lang == "zh" else True


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_error_text_reads_from_its_fields(lang):
    s = step("error", "client", status="error", fields=[
        F("error.layer", "tls", Msg("layer.tls")),
        F("error.rule", "tls.openssl", Msg("rule.tls.openssl", reason=Msg("value.library_words", text="BOOM"))),
        F("error.rfc", "RFC 8446 §6", "RFC 8446 §6"), F("error.offset", None, Msg("value.none")),
        F("error.by", "client", Msg("side.client")), F("error.action", "fatal_alert", Msg("action.fatal_alert"))])
    e = explain(s, lang)
    assert "BOOM" in e.what and "RFC 8446 §6" in e.what
    assert ("sent a fatal alert" in e.what) if lang == "en" else ("发送致命告警" in e.what)
    assert "offset" not in e.what and "偏移" not in e.what  # offset: none says nothing


# --- the explanations a scenario is the lesson of (issue: steps as data, item 4) ---------


def _text(s: Step, lang: str) -> str:
    e = explain(s, lang, scheme=s.facts.get("scheme", "wss"))
    return " ".join((e.title, e.what, e.why, e.eavesdropper, e.rfc))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_mutual_tls_explains_the_clients_certificate_as_the_clients(lang):
    steps = _live("mutual-tls")
    certs = {s.direction: s for s in _of(steps, "tls.certificate")}
    cvs = {s.direction: s for s in _of(steps, "tls.certificate_verify")}
    assert set(certs) == set(cvs) == {"c2s", "s2c"}
    client_cert, client_cv = _text(certs["c2s"], lang), _text(cvs["c2s"], lang)
    assert client_cert != _text(certs["s2c"], lang) and client_cv != _text(cvs["s2c"], lang)
    if lang == "en":
        assert "The client sends its own certificate chain" in client_cert
        assert "server sends its certificate chain" not in client_cert
        assert "TLS 1.2" in client_cert and "encrypted" in client_cert  # hidden in 1.3, shown in 1.2
        assert "server checks the signature" in client_cv and "client CertificateVerify" in client_cv
    else:
        assert "客户端发送自己的证书链" in client_cert and "服务器用客户端证书里的公钥验证" in client_cv
    assert "§4.4.2" in client_cert and "§4.4.3" in client_cv


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_close_codes_one_sided_close_and_reset_is_the_abnormal_case(lang):
    steps = _live("close-codes")
    close = _of(steps, "tcp.close")[-1]
    assert close.raw("tcp.after") == "one_sided_close" and close.raw("tcp.how") == "reset"
    text = _text(close, lang)
    assert "1006" in text and "§7.1.5" in text
    assert ("Nothing is lost" not in text) and ("Both sides have sent" not in text)
    assert "只有一方" in text if lang == "zh" else "only" in text
    err = _of(steps, "error")[-1]
    assert err.raw("error.rule") == "ws.ended_without_close" and "1006" in _text(err, lang)
    # no learner-facing line of the step is cut inside a word
    for line in (ex.summary(close, lang), explain(close, lang).what):
        assert not line.endswith("…")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_finished_does_not_claim_to_stop_a_key_share_swap(lang):
    fin = _of(_live(), "tls.finished")[0]
    text = _text(fin, lang)
    assert "CertificateVerify" in text and "§4.4.3" in text
    if lang == "en":
        assert "does not stop a man in the middle who swaps key shares" in text
        assert "replaced a key share, the values would not match" not in text
        assert "0.5-RTT" in text
    else:
        assert "挡不住替换密钥共享的中间人" in text and "0.5-RTT" in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_tls12_session_is_explained_as_tls12(lang):
    steps = _live("tls12")
    ch = _of(steps, "tls.client_hello")[0]
    assert ch.facts["offers_tls13"] is False
    ch_text = _text(ch, lang)
    assert "key_share" not in ch_text.replace("key_share", "", 0) or lang == "zh"
    if lang == "en":
        assert "TLS 1.2 handshake" in ch_text and "0x0301" in ch_text and "extended_master_secret" in ch_text
        assert "puts the client's Diffie-Hellman public key in this very first message" not in ch_text
    else:
        assert "TLS 1.2 握手" in ch_text and "0x0301" in ch_text
    keys = _of(steps, "tls.keys")[0]
    assert keys.raw("tls.keys.phase") == "master_secret" and keys.facts.get("ems") is True
    master = keys.find("tls.keys.master_secret")
    assert master is not None and len(master.raw) == 48
    assert ex.label(master, lang) != "CLIENT_RANDOM"
    # how it was made: with extended master secret, from the session hash (the premaster
    # secret is not in the key log), which is a child of the master secret, not of the key block
    assert master.find("tls.keys.master_secret.how").raw == "extended master secret"
    assert len(master.find("tls.keys.master_secret.session_hash").raw) == 32
    assert keys.find("tls.keys.prf").find("tls.keys.master_secret.session_hash") is None
    keys_text = _text(keys, lang)
    assert "RFC 7627" in keys_text and ("session hash" in keys_text if lang == "en" else "会话哈希" in keys_text)
    notify = _of(steps, "tls.alert")[0]
    assert notify.raw("tls.alert.description") == 0
    assert explain(notify, lang).rfc == "RFC 5246 §7.2.1"
    tls13_notify = _of(_live(), "tls.alert")[0]
    assert explain(tls13_notify, lang).rfc == "RFC 8446 §6.1"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_tls12_encrypted_alert_shows_its_type(lang):
    s = step("tls.alert", "c2s", wire=record(0x15, bytes(26)), fields=[F("tls.version", TLS12)],
             facts={"tls_version": TLS12})
    text = explain(s, lang).eavesdropper
    assert "21" in text and (("alert was sent" in text) if lang == "en" else ("发了一个告警" in text))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_hostname_mismatch_alert_names_the_wrong_name(lang):
    alert = _of(_live("hostname-mismatch"), "tls.alert")[0]
    assert alert.raw("tls.alert.description") == 42 and alert.facts.get("cert_problem") == "host_name"
    text = _text(alert, lang)
    assert ("another name" in text and "corrupt" not in text) if lang == "en" else "另一个名字" in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_mitm_rejected_says_the_refusal_is_the_protection(lang):
    alert = _of(_live("mitm-rejected"), "tls.alert")[0]
    assert alert.raw("tls.alert.description") == 48 and alert.facts.get("mitm") == "rejected"
    text = _text(alert, lang)
    if lang == "en":
        assert "protection" in text and "mitm-trusted" in text and "in the client's trust store" not in text
    else:
        assert "保护" in text and "mitm-trusted" in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_mitm_trusted_frames_say_the_attacker_reads_everything(lang):
    steps = _live("mitm-trusted")
    hello = next(s for s in _of(steps, "ws.frame") if s.raw("ws.frame.opcode") == 1)
    assert hello.facts.get("mitm") == "trusted"
    text = explain(hello, lang).eavesdropper
    assert ("pinning" in text) if lang == "en" else ("证书固定" in text)
    # Certificate Transparency is named only to say it does not help against a CA
    # installed by hand (RFC 9162 logs what publicly trusted CAs issue)
    ct = "Certificate Transparency" in text or "证书透明度" in text
    assert not ct or ("by hand" in text if lang == "en" else "手工安装" in text)
    check = _of(steps, "tls.cert_check")[0]
    assert check.status == "ok" and ("the attacker's" in _text(check, lang) or "攻击者" in _text(check, lang))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_plaintext_ws_accept_check_authenticates_no_server(lang):
    check = _of(_live("plaintext-ws"), "ws.accept_check")[0]
    text = _text(check, lang)
    if lang == "en":
        assert "authenticates no one" in text and "comes from the TLS certificate" not in text
    else:
        assert "不认证任何人" in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_server_frames_are_unmasked_for_the_right_reason(lang):
    s2c = next(s for s in _of(_live(), "ws.frame") if s.direction == "s2c" and s.raw("ws.frame.opcode") == 1)
    text = _text(s2c, lang)
    assert "§10.3" in text
    if lang == "en":
        assert "upstream" in text and "only travel from client to server" not in text
    else:
        assert "上行" in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pong_timeout_is_not_a_broken_frame_rule(lang):
    errors = [s for s in _live("ping-pong-heartbeat") if s.kind == "error"]
    pong = next(s for s in errors if s.raw("error.rule") == "ws.pong_timeout")
    text = _text(pong, lang)
    if lang == "en":
        assert "No frame broke a rule" in text and "no Close frame is sent" in text
        assert "fails the WebSocket connection: it sends a Close frame" not in text
    else:
        assert "不发 Close 帧" in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_subprotocol_none_refusal_is_the_clients_policy(lang):
    err = next(s for s in _live("subprotocol-none") if s.kind == "error")
    assert err.raw("error.rule") == "ws.no_subprotocol_strict"
    text = _text(err, lang)
    assert "§4.2.2" in text and "step 6" not in text
    assert ("legal" in text and "policy" in text) if lang == "en" else ("合法" in text and "策略" in text)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_tls13_plaintext_alert_cites_appendix_a1(lang):
    alert = _of(_live("untrusted-ca"), "tls.alert")[0]
    assert alert.facts.get("clear_alert_under_keys") is True
    text = _text(alert, lang)
    assert "Appendix A.1" in text or "附录 A.1" in text
    keys = _of(_live(), "tls.keys")[0]
    # the nonce (§5.3) and the key and IV expanded from the traffic secret (§7.3)
    assert "§5.3" in explain(keys, lang).rfc and "§7.3" in explain(keys, lang).rfc


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cert_check_says_more_than_four_checks_and_names_revocation(lang):
    text = _text(_of(_live(), "tls.cert_check")[0], lang)
    assert "four checks" not in text and "OCSP" in text and "CRL" in text
    assert "keyCertSign" in text and "serverAuth" in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_text_frame_fin_and_fragments(lang):
    whole = next(s for s in _of(_live(), "ws.frame") if s.raw("ws.frame.opcode") == 1)
    assert whole.raw("ws.frame.fin") is True
    w = explain(whole, lang).what
    assert ("first fragment" not in w and "whole" in w) if lang == "en" else ("完整" in w)
    first = next(s for s in _of(_live("fragmented-message"), "ws.frame")
                 if s.raw("ws.frame.opcode") == 1 and s.raw("ws.frame.fin") is False)
    f = explain(first, lang).what
    assert ("first fragment" in f) if lang == "en" else ("第一个分片" in f)


def test_both_sides_derive_the_keys_and_the_ladder_says_so():
    from wssviz.ui.widgets.timeline import ladder_text

    keys = _of(_live(), "tls.keys")[0]
    assert keys.facts.get("both_sides") is True
    rung = ladder_text(keys, 40).plain
    assert rung.count("◆") == 2


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_missing_lessons_are_taught(lang):
    close = next(s for s in _of(_live(), "ws.frame") if s.raw("ws.frame.opcode") == 8)
    ctext = _text(close, lang)
    assert "1005" in ctext and "1015" in ctext
    hello = _text(_of(_live(), "tls.client_hello")[0], lang)
    assert "0x0301" in hello and "ALPN" in hello
    req = _of(_live("origin-rejected"), "http.upgrade_request")[0]
    assert req.facts.get("cookie") is True and any(h.name == "Cookie" for h in req.all("http.header"))
    rtext = _text(req, lang)
    assert ("cross-site WebSocket hijacking" in rtext) if lang == "en" else ("跨站 WebSocket 劫持" in rtext)


# --- Chinese is Chinese (the JSON a learner gets with --lang zh) -----------------------

#: Lowercase words that are protocol names or tokens, allowed in Chinese text.
PROTOCOL_WORDS = {"ping", "pong", "null", "websocket", "token", "nonce", "handshake", "alert", "fatal",
                  "warning", "uncompressed", "brotli", "zlib", "chat", "superchat", "upgrade", "close",
                  "application_data", "named_curve", "change_cipher_spec", "ocsp", "wss", "ws", "http",
                  "https", "padding", "finished", "certificate", "keep-alive"}


def english_words(text: str) -> list[str]:
    """Ordinary English words left in ``text`` once quoted data, values and protocol names
    are taken out."""
    text = re.sub(r"“[^”]*”|\"[^\"]*\"|'[^']*'", " ", text)
    text = re.sub(r"RFC \d+( §[\d.]+)?( Appendix [A-Z.\d]+)?", " ", text)
    out = []
    for w in re.findall(r"[A-Za-z][A-Za-z0-9_.\-/:+=@]*", text):
        if (any(c.isupper() for c in w) or any(c in w for c in "0123456789_.-/:+=@")
                or w.lower() in PROTOCOL_WORDS or re.fullmatch(r"[0-9a-f]+", w)):
            continue
        out.append(w)
    return out


def _json(name: str, lang: str) -> list[dict]:
    from wssviz.plain import step_dict

    return [step_dict(s, lang) for s in _live(name)]


def _fields(fs: list[dict]):
    for f in fs:
        yield f
        yield from _fields(f["children"])


#: Field ids whose value is data from a peer or a file, shown as it came.
DATA_IDS = {"ws.frame.close_reason", "http.header", "http.header.value", "http.request_line",
            "http.status_line", "x509.subject", "x509.issuer", "error.detail", "tls.certificate.entry",
            "tls.cert_check.issuer", "ws.frame.unmasked_payload", "ws.frame.application_data"}


@pytest.mark.parametrize("name", ALL_NAMES)
def test_chinese_json_is_chinese_with_the_same_ids_and_kinds(name):
    en, zh = _json(name, "en"), _json(name, "zh")
    assert [s["kind"] for s in en] == [s["kind"] for s in zh]
    for e, z in zip(en, zh):
        assert [f["id"] for f in _fields(e["fields"])] == [f["id"] for f in _fields(z["fields"])]
        assert [json.dumps(f["raw"]) for f in _fields(e["fields"])] == \
               [json.dumps(f["raw"]) for f in _fields(z["fields"])]
        assert english_words(z["title"]) == [], (z["kind"], z["title"])
        assert CJK.search(z["summary"]), (z["kind"], z["summary"])
        assert english_words(z["summary"]) == [], (z["kind"], z["summary"])
        for fe, fz in zip(_fields(e["fields"]), _fields(z["fields"])):
            assert fz["id"] and "." in fz["id"] and " " not in fz["id"]
            if fz["name"] != fe["name"]:
                assert CJK.search(fz["name"]) and english_words(fz["name"]) == [], fz
            else:  # a protocol name (an extension, a header, a message, a key log label)
                assert english_words(fz["name"]) == [] or fz["id"].startswith(("tls.ext.", "http.header")), fz
            if fz["id"] not in DATA_IDS and fz["value"] != fe["value"]:
                assert english_words(fz["value"]) == [], (fz["id"], fz["value"])


@pytest.mark.parametrize("name", ["seed-example", "untrusted-ca", "close-codes", "plaintext-ws"])
def test_chinese_walkthrough_has_few_lines_without_chinese(name):
    from wssviz.plain import format_step

    lines = [ln for s in _live(name) for ln in format_step(s, "zh").splitlines() if ln.strip()]
    prose = [ln for ln in lines if not re.match(r"\s+\S+[:：]", ln) or re.match(r"\s+(发生了什么|为什么|窃听者看到)：", ln)]
    without = [ln for ln in prose if not CJK.search(ln)]
    assert len(without) <= len(prose) // 10, without[:10]


# --- the glossary --------------------------------------------------------------------


def test_glossary_in_both_languages():
    en, zh = ex.glossary("en"), ex.glossary("zh")
    assert len(en) >= 30 and [t.key for t in en] == [t.key for t in zh]
    for e, z in zip(en, zh):
        assert e.text and z.text and CJK.search(z.text), e.key
        assert e.match and z.match
    keys = {t.key for t in en}
    assert {"hkdf", "aead", "sni", "alpn", "masking_key"} <= keys


def test_glossary_terms_are_used_and_linked_from_plain():
    import io

    from wssviz.plain import write_plain

    out = io.StringIO()
    seen: set[str] = set()
    for s in _live():
        write_plain(s, out, "en", "wss", seen)
    text = out.getvalue()
    assert "⟶ glossary: HKDF" in text or "glossary: HKDF" in text
    assert text.count("glossary: SNI") == 1  # the first time only
    assert len(seen) >= 8


def test_settled_chinese_terms():
    """One word per concept (docs/glossary.md): the forms we do not use never appear."""
    zh = (SRC_ROOT / "explain" / "zh.toml").read_text(encoding="utf-8")
    for wrong in ("掩码密钥", "客户端密钥", "关闭状态码", "延续帧", "上下文保留", "TCP 建立连接"):
        assert wrong not in zh, wrong


@pytest.mark.parametrize("name, kind, words", [
    ("close-codes", "error", {"en": "reported locally and never sent", "zh": "1006"}),
    ("untrusted-ca", "error", {"en": "no trusted CA issued it", "zh": "CA"}),
])
def test_our_own_words_are_never_cut_inside_an_explanation(name, kind, words):
    """A rule filled into "What happened" is the catalog's sentence, whole; only peer
    data is cut to fit one line."""
    step = next(s for s in _live(name) if s.kind == kind and s.status == "error")
    for lang, word in words.items():
        what = ex.explain(step, lang).what
        assert word in what and "…" not in what, what
