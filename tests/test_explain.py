"""The teaching catalogs: coverage, variant lookup, wire visibility, safe placeholders."""

from __future__ import annotations

import datetime
import functools
import re
import ssl
import tempfile
import tomllib
from importlib import resources
from pathlib import Path

import pytest

import wssviz.explain as ex
from wssviz.explain import (
    Explanation,
    explain,
    kind_title,
    languages,
    ui_text,
    visibility,
)
from wssviz.steps import ALL_KINDS, LOCAL_KINDS, Field, Step

UI_ROOT = Path(__file__).resolve().parents[1] / "wssviz" / "ui"
CJK = re.compile(r"[\u4e00-\u9fff]")
RFC_REF = re.compile(r"RFC \d{4}( (§\d+(\.\d+)*|Appendix [A-Z](\.\d+)*))?")


def raw(lang: str) -> dict:
    text = resources.files("wssviz.explain").joinpath(f"{lang}.toml").read_text("utf-8")
    return tomllib.loads(text)


def step(kind: str, direction: str | None = None, *, fields: dict[str, str] | None = None,
         status: str = "ok", wire: bytes = b"", data: bytes = b"") -> Step:
    if direction is None:
        direction = "client" if kind in LOCAL_KINDS else "c2s"
    return Step(0, kind, direction, kind, "a step", wire=wire, data=data,
                fields=[Field(k, v) for k, v in (fields or {}).items()], status=status)


def record(content_type: int, payload: bytes) -> bytes:
    return bytes([content_type, 3, 3]) + len(payload).to_bytes(2, "big") + payload


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


def test_required_variants_exist():
    en = raw("en")
    required = [f"ws.frame.{op}" for op in ("text", "binary", "continuation", "close", "ping", "pong")]
    required += [f"tls.alert.{a}" for a in ("close_notify", "bad_certificate", "unknown_ca",
                                            "certificate_expired", "handshake_failure",
                                            "internal_error")]
    required += ["tls.keys.handshake", "tls.keys.application", "tls.keys.tls12",
                 "tls.finished.tls12", "tls.certificate.tls12", "tls.change_cipher_spec.tls12",
                 "tls.cert_check.error", "ws.accept_check.error", "http.upgrade_response.error",
                 "http.upgrade_response.400", "http.upgrade_response.403",
                 "http.upgrade_response.426"]
    assert [k for k in required if k not in en] == []


def test_zh_translates_every_entry_and_part():
    en, zh = raw("en"), raw("zh")
    assert set(en) == set(zh)
    for key in en:
        assert set(en[key]) == set(zh[key]), key
        for part in ("what", "why", "eavesdropper", "eavesdropper_encrypted", "eavesdropper_local"):
            if part in zh[key]:
                assert CJK.search(zh[key][part]), (key, part)
                assert zh[key][part] != en[key][part]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_catalog_rules(lang):
    cat = raw(lang)
    for key, entry in cat.items():
        if key == "ui":
            continue  # interface strings: str.format fields, checked in test_ui_catalog_rules
        for part, text in entry.items():
            outside = re.sub(r"\[\[.*?\]\]", "", text, flags=re.DOTALL)
            assert "{" not in outside and "}" not in outside, (key, part)  # placeholders only in [[ ]]
            assert "[" not in outside and "]" not in outside, (key, part)  # nothing markup-like
        if key != "ui":
            assert RFC_REF.match(entry.get("rfc", "RFC 0000")), key


def ui_keys_in_source() -> set[str]:
    """Every literal key the interface asks ``t``/``view.t`` for, plus its key families."""
    keys: set[str] = set()
    for path in UI_ROOT.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        keys |= set(re.findall(r"\bt\(\s*[\"']([a-z][a-z0-9_.\-]*)[\"']", text))
        # keys reached through tables of (key, ...) pairs, e.g. ("accept_key", "Sec-WebSocket-Key")
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
    assert same == {"accept.base64", "rfc"}  # a formula, a name
    for key, text in zh.items():
        if key not in same and key not in ("key_lang", "ladder_side"):  # ladder_side: names only
            assert CJK.search(text), key
    assert ui_text("pane_explain", "zh") == "讲解" and ui_text("key_lang", "zh") == "English"


def test_ui_text_falls_back_to_english(monkeypatch):
    en, zh = raw("en"), raw("zh")
    del zh["ui"]["status_end"]
    monkeypatch.setattr(ex, "_catalog", lambda lang: {"en": en, "zh": zh}.get(lang, {}))
    assert ui_text("status_end", "zh") == en["ui"]["status_end"]
    assert ui_text("status_end", "fr") == en["ui"]["status_end"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_ui_catalog_rules(lang):
    """Interface strings are plain text with the same str.format fields in every language."""
    import string

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
    assert kind_title("ui") == "ui"


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


def test_text_frame_versus_close_frame():
    text = explain(step("ws.frame", "c2s", fields={"opcode": "0x1 text"}))
    close = explain(step("ws.frame", "c2s", fields={"opcode": "0x8 close", "close code": "1000"}))
    assert text.title == "Text frame" and close.title == "Close frame"
    assert "UTF-8" in text.what and "1000" in close.what
    assert close.rfc.startswith("RFC 6455 §5.5.1")
    reserved = explain(step("ws.frame", "s2c", fields={"opcode": "0x3 reserved"}))
    assert reserved.title == "WebSocket frame" and "0x3 reserved" in reserved.what


@pytest.mark.parametrize("op", ["0x1 text", "0x2 binary", "0x0 continuation", "0x8 close"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_masking_reads_right_in_each_direction(op, lang):
    c2s = explain(step("ws.frame", "c2s", fields={"opcode": op}), lang)
    s2c = explain(step("ws.frame", "s2c", fields={"opcode": op}), lang)
    assert c2s.title == s2c.title and c2s.what == s2c.what
    assert "§10.3" in c2s.why and "§10.3" not in s2c.why
    if lang == "en":
        assert "client" in c2s.why and "not masked" in s2c.why
    else:
        assert "掩码" in c2s.why and "不加掩码" in s2c.why


def test_alert_variants():
    notify = explain(step("tls.alert", "c2s", fields={"description": "0 close_notify"}))
    unknown_ca = explain(step("tls.alert", "c2s", fields={"description": "48 unknown_ca"},
                              status="error"))
    assert "truncation" in notify.why and "§6.1" in notify.rfc
    assert "trust" in unknown_ca.what and "RFC 5280" in unknown_ca.rfc
    assert notify.what != unknown_ca.what
    assert notify.title == unknown_ca.title == "Alert"
    odd = explain(step("tls.alert", "s2c", fields={"description": "254 brand_new_alert"}))
    assert odd.what.startswith("A TLS alert: 254 brand_new_alert.")


def test_error_status_variants():
    for kind in ("ws.accept_check", "tls.cert_check"):
        ok = explain(step(kind))
        bad = explain(step(kind, status="error"))
        assert ok.what != bad.what and ok.why != bad.why and ok.title == bad.title
        assert "fail" in bad.what.lower()
    assert "7.1.7" in explain(step("ws.accept_check", status="error")).rfc


def test_upgrade_response_by_status_code():
    def resp(code, status="ok"):
        return explain(step("http.upgrade_response", "s2c", fields={"status code": code},
                            status=status))

    ok = resp("101 Switching Protocols")
    assert "101" in ok.what and ok.rfc == "RFC 6455 §4.2.2"
    assert "Origin" in resp("403 Forbidden", "error").what
    assert resp("403 Forbidden", "error").rfc.endswith("§10.2")
    assert resp("426 Upgrade Required", "error").rfc == "RFC 6455 §4.4"
    assert resp("400 Bad Request", "error").rfc == "RFC 6455 §4.2.1"
    other = resp("200 OK")  # not 101: the generic failure, even if nobody flagged it
    assert other.what.startswith("The server's answer (200 OK) does not complete the WebSocket handshake")
    assert "Sec-WebSocket-Accept is not" not in other.what
    # a code-specific entry borrows its eavesdropper text from the failure entry
    hidden = record(0x17, bytes(40))
    e403 = explain(step("http.upgrade_response", "s2c", fields={"status code": "403 Forbidden"},
                        wire=hidden))
    assert "no frames follow" in e403.eavesdropper and "45 bytes" in e403.eavesdropper


def test_tls_version_variants():
    v13 = {"tls version": "TLS 1.3"}
    v12 = {"tls version": "TLS 1.2"}
    assert explain(step("tls.finished", "s2c", fields=v13)).rfc == "RFC 8446 §4.4.4"
    assert explain(step("tls.finished", "s2c", fields=v12)).rfc == "RFC 5246 §7.4.9"
    # a variant that only overrides the RFC borrows the rest from its kind
    cr12 = explain(step("tls.certificate_request", "s2c", fields=v12))
    cr13 = explain(step("tls.certificate_request", "s2c", fields=v13))
    assert cr12.rfc == "RFC 5246 §7.4.4" and cr13.rfc == "RFC 8446 §4.3.2"
    assert cr12.what == cr13.what
    assert "encrypted" in explain(step("tls.certificate", "s2c", fields=v13)).why


def test_key_phases():
    def keys(phase):
        return explain(step("tls.keys", fields={"phase": phase}))

    hs, app, ms = keys("handshake"), keys("application"), keys("master secret")
    assert "handshake traffic" in hs.what and "§7.3" in hs.rfc
    assert "forward secrecy" in app.why
    assert "48-byte master secret" in ms.what and ms.rfc.startswith("RFC 5246")
    assert explain(step("tls.keys", fields={"tls version": "TLS 1.2"})).what == ms.what


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
    zh_ws = explain(plain, "zh", scheme="ws").eavesdropper
    zh_wss = explain(sealed, "zh", scheme="wss").eavesdropper
    assert zh_ws != zh_wss and "85 字节" in zh_wss


def test_local_steps_send_nothing_in_either_scheme():
    for kind in sorted(LOCAL_KINDS):
        s = step(kind, "server" if kind == "ws.accept" else "client")
        assert visibility(s, "ws") == visibility(s, "wss") == "local"
        assert explain(s, scheme="ws").eavesdropper == explain(s, scheme="wss").eavesdropper
        assert explain(s).eavesdropper.startswith("Nothing")
    assert visibility(step("error", "c2s"), "wss") == "local"


def test_visibility_by_protocol_when_bytes_are_absent():
    v12 = {"tls version": "TLS 1.2"}
    v13 = {"tls version": "TLS 1.3"}
    assert visibility(step("tcp.connect", "c2s"), "wss") == "clear"
    for kind in ("tls.client_hello", "tls.server_hello", "tls.hello_retry_request",
                 "tls.change_cipher_spec"):
        assert visibility(step(kind, fields=v13), "wss") == "clear"
    for kind in ("tls.encrypted_extensions", "tls.certificate", "tls.certificate_verify",
                 "tls.finished", "tls.new_session_ticket"):
        assert visibility(step(kind, "s2c", fields=v13), "wss") == "encrypted"
    for kind in ("tls.certificate", "tls.server_key_exchange", "tls.server_hello_done",
                 "tls.client_key_exchange", "tls.new_session_ticket"):
        assert visibility(step(kind, "s2c", fields=v12), "wss") == "clear"
    assert visibility(step("tls.finished", "s2c", fields=v12), "wss") == "encrypted"
    assert visibility(step("ws.frame", "s2c"), "wss") == "encrypted"
    assert visibility(step("ws.frame", "s2c"), "ws") == "clear"


def test_certificate_eavesdropper_text_follows_version():
    e13 = explain(step("tls.certificate", "s2c", fields={"tls version": "TLS 1.3"}))
    e12 = explain(step("tls.certificate", "s2c", fields={"tls version": "TLS 1.2"}))
    assert e13.eavesdropper.startswith("An encrypted record")
    assert "readable" in e12.eavesdropper


def test_alert_visibility_from_record_bytes():
    clear = record(0x15, bytes([2, 48]))
    assert visibility(step("tls.alert", "c2s", wire=clear, data=clear[5:]), "wss") == "clear"
    tls13 = record(0x17, bytes(19))
    assert visibility(step("tls.alert", "c2s", wire=tls13), "wss") == "encrypted"
    tls12 = record(0x15, bytes(26))  # explicit nonce + alert + GCM tag
    s = step("tls.alert", "c2s", wire=tls12, fields={"tls version": "TLS 1.2"})
    assert visibility(s, "wss") == "encrypted"
    assert "26 bytes" not in explain(s).eavesdropper and "31 bytes" in explain(s).eavesdropper


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
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
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
    assert ch[0] == 0x16
    hello = step("tls.client_hello", "c2s", wire=ch, data=_handshake_messages(ch)[0],
                 fields={"tls version": "TLS 1.3"})
    assert visibility(hello, "wss") == "clear"
    server = [r for d, r in flights if d == "s2c"]
    sh = server[0]
    assert sh[0] == 0x16 and sh[5] == 2  # ServerHello in a plaintext handshake record
    assert visibility(step("tls.server_hello", "s2c", wire=sh), "wss") == "clear"
    ccs = next(r for r in server if r[0] == 0x14)
    assert ccs == bytes.fromhex("140303000101")
    assert visibility(step("tls.change_cipher_spec", "s2c", wire=ccs,
                           fields={"tls version": "TLS 1.3"}), "wss") == "clear"
    sealed = next(r for r in server if r[0] == 0x17)  # EncryptedExtensions, Certificate...
    for kind in ("tls.encrypted_extensions", "tls.certificate", "tls.certificate_verify",
                 "tls.finished"):
        s = step(kind, "s2c", wire=sealed, data=bytes([11, 0, 0, 0]))
        assert visibility(s, "wss") == "encrypted"
        assert f"{len(sealed)} bytes" in explain(s).eavesdropper


def test_real_tls12_flight_visibility():
    flights = _flights(ssl.TLSVersion.TLSv1_2)
    v12 = {"tls version": "TLS 1.2"}
    server = [r for d, r in flights if d == "s2c"]
    msgs = [(r, m) for r in server if r[0] == 0x16 for m in _handshake_messages(r)]
    cert_rec, cert_msg = next((r, m) for r, m in msgs if m[0] == 11)
    s = step("tls.certificate", "s2c", wire=cert_rec, data=cert_msg, fields=v12)
    assert visibility(s, "wss") == "clear"
    assert explain(s).eavesdropper.startswith("The whole chain, readable")
    # after ChangeCipherSpec the Finished record still says "handshake" but is encrypted
    ccs_at = max(i for i, r in enumerate(server) if r[0] == 0x14)
    fin = server[ccs_at + 1]
    assert fin[0] == 0x16
    fin_step = step("tls.finished", "s2c", wire=fin, data=bytes([20, 0, 0, 12]) + bytes(12),
                    fields=v12)
    assert visibility(fin_step, "wss") == "encrypted"
    assert "handshake (22)" in explain(fin_step).eavesdropper


# --- placeholders are plain text -------------------------------------------


@pytest.mark.parametrize("hostile", ["{0.__class__}", "[/bold]", "{cipher suite}", "{}",
                                     "[link=http://x]y[/link]", "%s %(x)s", "{wire bytes}"])
def test_hostile_values_stay_literal(hostile):
    s = step("tls.server_hello", "s2c", fields={"cipher suite": hostile},
             wire=record(0x16, bytes(4)))
    e = explain(s)
    assert f"cipher suite {hostile} and sends" in e.what
    zh = explain(s, "zh")
    assert f"密码套件 {hostile}，" in zh.what


def test_values_are_cleaned_and_cut():
    s = step("tls.alert", "s2c", fields={"description": "1 bad\nline\x1b[31m" + "x" * 300})
    what = explain(s).what
    assert "\n" not in what and "\x1b" not in what
    assert "1 bad line [31m" in what
    shown = what.split(": ", 1)[1].split(". A fatal")[0]
    assert len(shown) == ex.MAX_VALUE and shown.endswith("…")


def test_missing_values_leave_clean_text():
    e = explain(step("tls.server_hello", "s2c"))
    assert e.what.startswith("The server picks the version and the cipher suite and sends")
    z = explain(step("tls.server_hello", "s2c"), "zh")
    assert z.what.startswith("服务器选定版本和密码套件，")
    # an empty value counts as missing
    assert explain(step("tls.alert", "s2c", fields={"description": ""})).what.startswith(
        "A TLS alert. A fatal")


def test_nested_field_values_are_found():
    s = step("tls.server_hello", "s2c")
    s.fields = [Field("server hello", "", children=[Field("cipher suite",
                                                          "0x1301 TLS_AES_128_GCM_SHA256")])]
    assert "suite 0x1301 TLS_AES_128_GCM_SHA256 and" in explain(s).what


# --- unknown kinds and fallback --------------------------------------------


def test_unknown_kind_gives_generic_entry():
    s = step("tcp.connect", "c2s")
    s.kind = "quic.initial"  # a kind from a future recording; Step would refuse it at creation
    e = explain(s)
    assert e.title == "Step" and "no explanation" in e.why
    assert explain(s, "zh").title == "步骤"
    s.direction = "server"
    assert explain(s).eavesdropper.startswith("Nothing")


def test_zh_falls_back_to_en_per_missing_key(monkeypatch):
    en, zh = raw("en"), raw("zh")
    del zh["tcp.connect"]
    del zh["ws.frame.close.c2s"]["why"]
    del zh["ws.frame.ping"]
    monkeypatch.setattr(ex, "_catalog", lambda lang: {"en": en, "zh": zh}.get(lang, {}))

    tcp = step("tcp.connect", "c2s")
    assert explain(tcp, "zh") == explain(tcp, "en")
    close = explain(step("ws.frame", "c2s", fields={"opcode": "0x8 close"}), "zh")
    assert close.title == "关闭帧" and close.why == en["ws.frame.close.c2s"]["why"]
    assert CJK.search(close.what)
    ping = explain(step("ws.frame", "c2s", fields={"opcode": "0x9 ping"}), "zh")
    assert ping.what == en["ws.frame.ping"]["what"]  # English specific, not Chinese generic
    assert CJK.search(ping.eavesdropper)  # parts the variant lacks come from zh ws.frame
    assert kind_title("tcp.connect", "zh") == "TCP connect"


def test_missing_variant_falls_back_to_kind():
    e = explain(step("tls.cert_check", "client", status="warning"))
    assert e == explain(step("tls.cert_check", "client"))
    frame = explain(step("ws.frame", "c2s"))  # no opcode field at all
    assert frame.title == "WebSocket frame"
    assert frame.what.startswith("One WebSocket frame: a header of 2 to 14 bytes")


def test_bare_placeholders_are_literal_too(monkeypatch):
    en = raw("en")
    en["tls.alert"] = dict(en["tls.alert"], what="Alert {description}, size {wire bytes}.")
    monkeypatch.setattr(ex, "_catalog", lambda lang: en if lang == "en" else {})
    s = step("tls.alert", "s2c", fields={"description": "{0.__class__} [/bold]"})
    assert explain(s).what == "Alert {0.__class__} [/bold], size ."


def test_client_hello_names_the_sni_host():
    s = step("tls.client_hello", "c2s", fields={"host name": "server.example.com"})
    assert explain(s).what.endswith(", and the server name server.example.com.")
    assert "服务器名 server.example.com。" in explain(s, "zh").what
    assert explain(step("tls.client_hello", "c2s")).what.endswith("key exchange.")


@pytest.mark.parametrize("scheme,version", [("wss", "1.3"), ("wss", "1.2"), ("ws", "1.3")])
def test_live_session_steps_explain_and_visibility(scheme, version):
    """A real live pair: every step explains cleanly, and visibility follows the protocol."""
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
    assert all(v == "clear" for k, v in seen if k == "tls.change_cipher_spec")
    assert all(v == "encrypted" for k, v in seen if k == "tls.finished")
    cert = dict(seen)["tls.certificate"]
    assert cert == ("encrypted" if version == "1.3" else "clear")
    if version == "1.2":
        assert dict(seen)["tls.server_key_exchange"] == "clear"


# --- variants chosen from fields the dissector adds ---------------------------


def _tcp_close(after: str | None, by: str = "client") -> Step:
    fields = {"closed first by": by, "how": "fin"}
    if after is not None:
        fields["after"] = after
    return step("tcp.close", "c2s" if by == "client" else "s2c", fields=fields)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_tcp_close_follows_what_ended_the_connection(lang):
    plain = explain(_tcp_close(None), lang)
    texts = {after: explain(_tcp_close(after), lang)
             for after in ("websocket close", "tls alert", "http refusal", "abort")}
    whys = {e.why for e in texts.values()} | {plain.why}
    assert len(whys) == 5  # each case its own reason
    if lang == "en":
        # only after a WebSocket closing handshake is the server-first rule the point
        assert "TIME_WAIT" in texts["websocket close"].why
        assert "TIME_WAIT" not in texts["tls alert"].why
        assert "fatal alert" in texts["tls alert"].why and "never reached" in texts["tls alert"].what
        assert "1006" in texts["abort"].why and "RFC 8446 §6.2" in texts["tls alert"].rfc
        assert "refused certificate" in plain.why  # the generic text covers both cases
        assert texts["websocket close"].what.endswith("The client closed TCP first.")
    else:
        assert "TIME_WAIT" in texts["websocket close"].why and "致命告警" in texts["tls alert"].why
        assert "由客户端先关闭 TCP。" in texts["websocket close"].what  # the side in Chinese too
    unknown = explain(_tcp_close("something new {x}"), lang)
    assert unknown == plain  # an unknown value falls back to the kind


def _error(**fields: str) -> Step:
    return step("error", "client", fields=fields, status="error")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_error_text_is_true_when_fields_are_empty(lang):
    refused = _error(layer="tls", rule="CERTIFICATE_VERIFY_FAILED", rfc="", offset="none",
                     by="client", action="sent an alert and gave up")
    e = explain(refused, lang)
    assert "CERTIFICATE_VERIFY_FAILED" in e.what and "sent an alert and gave up" in e.what
    assert "offset" not in e.what and "偏移" not in e.what  # offset: none says nothing
    assert "RFC" not in e.what  # an empty rfc field cites nothing
    assert "7.1.7" not in e.rfc and e.rfc.startswith("RFC 8446 §6.2")
    full = explain(_error(layer="ws", rule="a masked server frame", rfc="RFC 6455 §5.1",
                          offset="1234", by="client", action="failed the connection"), lang)
    assert "RFC 6455 §5.1" in full.what and "1234" in full.what
    bare = explain(step("error", "client"), lang)
    assert bare.what in ("Something failed here.", "这里出现了失败。")


def test_error_variants_by_layer():
    def e(layer, **kw):
        return explain(_error(layer=layer, rule="r", **kw))

    tcp = e("tcp", rfc="RFC 9293 §3.5")
    assert "connection refused" in tcp.why and tcp.rfc.startswith("RFC 9293")
    assert "7.1.7" not in e("tls").rfc and "fatal alert" in e("tls").why
    assert "7.1.7" in e("ws").rfc and "1002" in e("ws").why
    assert "400" in e("http").why and e("http").rfc.startswith("RFC 6455 §4.1")
    # a sub-layer has its own text, or borrows its first word's
    assert e("tls record").why != e("tls").why and "5-byte header" in e("tls record").why
    assert e("tls alert").why == e("tls").why
    # wssviz's own drivers
    for layer in ("live pair", "connect", "listen"):
        tool = e(layer, detail="RuntimeError: boom")
        assert tool.title == "Session stopped" and "not a rule broken by a peer" in tool.why
        assert "(RuntimeError: boom)" in tool.what
    assert e("quic").why == explain(_error(rule="r")).why  # unknown layer: the generic text
    assert e("[/bold] {0.__class__}").what.startswith("Something failed here at the [/bold] {0.__class__} layer")


def test_refused_connection_reads_right():
    s = _error(layer="tcp", rule="cannot connect to 127.0.0.1:9: Connection refused", rfc="RFC 9293 §3.5",
               offset="none", by="client", action="gave up")
    e = explain(s)
    assert e.what == ("The TCP connection failed: cannot connect to 127.0.0.1:9: Connection refused. "
                      "The rule comes from RFC 9293 §3.5. What the client did: gave up.")
    assert "SYN" in e.eavesdropper and visibility(s) == "local"


def _hello(kind: str, direction: str, *extensions: Field, **top: str) -> Step:
    s = step(kind, direction, fields=top)
    msg = Field("ClientHello" if kind == "tls.client_hello" else "ServerHello", "a hello",
                children=[Field("extensions", f"{len(extensions)} extensions", children=list(extensions))])
    s.fields.append(msg)
    return s


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_resumed_hellos_say_why_no_certificate_follows(lang):
    psk_c = Field("pre_shared_key", "offers 1 ticket for resumption",
                  children=[Field("identity 1", "208-byte ticket")])
    modes = Field("psk_key_exchange_modes", "psk_dhe_ke")
    ch = _hello("tls.client_hello", "c2s", modes, psk_c, **{"tls version": "not negotiated yet"})
    sh = _hello("tls.server_hello", "s2c", Field("pre_shared_key", "accepts ticket #0"),
                **{"tls version": "TLS 1.3", "cipher suite": "0x1302 TLS_AES_256_GCM_SHA384"})
    full_ch = explain(_hello("tls.client_hello", "c2s", modes), lang)
    full_sh = explain(_hello("tls.server_hello", "s2c"), lang)
    e_ch, e_sh = explain(ch, lang), explain(sh, lang)
    assert e_ch.what != full_ch.what and e_sh.what != full_sh.what
    assert "offers 1 ticket for resumption" in e_ch.what and "psk_dhe_ke" in e_ch.why
    assert "accepts ticket #0" in e_sh.what
    if lang == "en":
        assert "no Certificate, no CertificateVerify and no certificate check" in e_sh.what
        assert "earlier connection" in e_sh.why and "§4.2.11" in e_sh.rfc and "§2.2" in e_ch.rfc
        assert "only once" in e_ch.eavesdropper and "linked" in e_ch.eavesdropper
        assert e_ch.title == "ClientHello, resuming"
    else:
        assert "不会有 Certificate、CertificateVerify" in e_sh.what and "前向保密" in e_ch.why
    # the name is matched exactly: a similar extension does not select the variant
    other = _hello("tls.server_hello", "s2c", Field("pre_shared_key_x", "?"))
    assert explain(other, lang).what == full_sh.what


def test_second_client_hello_after_retry():
    share = Field("key_share", "secp256r1 (65-byte key)")
    second = _hello("tls.client_hello", "c2s", share, attempt="2 (after HelloRetryRequest)")
    first = _hello("tls.client_hello", "c2s", share)
    e2, e1 = explain(second), explain(first)
    assert e2.title == "ClientHello, second attempt" and e1.title == "ClientHello"
    assert "secp256r1 (65-byte key)" in e2.what and "round trip" in e2.why
    assert e2.rfc.startswith("RFC 8446 §4.1.2") and "§4.1.4" in e2.rfc
    assert "服务器指定的组（secp256r1 (65-byte key)）" in explain(second, "zh").what
    assert explain(_hello("tls.client_hello", "c2s", share, attempt="1")).what == e1.what
    assert explain(_hello("tls.client_hello", "c2s", share, attempt="{x}")).what == e1.what
    # a retried ClientHello that also offers a ticket: the retry explains it, resumption fills in
    both = _hello("tls.client_hello", "c2s", share, Field("pre_shared_key", "offers 1 ticket"),
                  attempt="2 (after HelloRetryRequest)")
    assert explain(both).what == explain(second).what


def test_hello_retry_request_names_the_group():
    hrr = step("tls.hello_retry_request", "s2c",
               fields={"tls version": "TLS 1.3", "selected group": "0x0017 secp256r1"})
    e = explain(hrr)
    assert "names the group it wants (0x0017 secp256r1)" in e.what and "round trip" in e.why
    assert "(0x0017 secp256r1)" in e.eavesdropper
    assert "（0x0017 secp256r1）" in explain(hrr, "zh").what
    # the ChangeCipherSpec records around a retry are TLS 1.3's dummies, not TLS 1.2's switch
    for version in ("TLS 1.3", "not negotiated yet"):
        ccs = explain(step("tls.change_cipher_spec", "s2c", fields={"tls version": version}))
        assert "middlebox" in ccs.what and ccs.rfc == "RFC 8446 Appendix D.4"


def test_session_ticket_points_to_resumption():
    e = explain(step("tls.new_session_ticket", "s2c", fields={"tls version": "TLS 1.3"}))
    assert "session-resumption" in e.why
    assert "session-resumption" in explain(step("tls.new_session_ticket", "s2c"), "zh").why


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_plaintext_alert_after_tls13_was_agreed(lang):
    clear = record(0x15, bytes([2, 45]))
    v13 = {"tls version": "TLS 1.3", "description": "45 certificate_expired"}
    late = step("tls.alert", "c2s", wire=clear, data=clear[5:], fields=v13, status="error")
    early = step("tls.alert", "s2c", wire=clear, data=clear[5:], status="error",
                 fields={"tls version": "not negotiated yet", "description": "40 handshake_failure"})
    tls12 = step("tls.alert", "c2s", wire=clear, data=clear[5:], status="error",
                 fields={"tls version": "TLS 1.2", "description": "48 unknown_ca"})
    e_late, e_early, e_12 = (explain(s, lang) for s in (late, early, tls12))
    assert visibility(late) == visibility(early) == "clear"
    assert e_late.eavesdropper != e_early.eavesdropper == e_12.eavesdropper
    if lang == "en":
        assert "no keys existed" not in e_late.eavesdropper + e_early.eavesdropper
        assert "OpenSSL 3.0" in e_late.eavesdropper and "outer type 21" in e_late.eavesdropper
        assert "level and description are readable" in e_early.eavesdropper
        assert "validity" in e_late.why.lower() or "Validity" in e_late.why  # the alert's own reason stays
    else:
        assert "OpenSSL 3.0" in e_late.eavesdropper and "外层类型 21" in e_late.eavesdropper
    # with the name of the key the sender left unused, the text says so
    named = step("tls.alert", "c2s", wire=clear, data=clear[5:], status="error",
                 fields=dict(v13, **{"unused key": "client handshake traffic key (TLS_AES_256_GCM_SHA384)"}))
    assert "client handshake traffic key (TLS_AES_256_GCM_SHA384)" in explain(named, lang).eavesdropper
    # an unknown alert borrows the variant's why; an encrypted TLS 1.3 alert never selects it
    odd = explain(step("tls.alert", "c2s", wire=clear, fields={"tls version": "TLS 1.3"}), lang)
    assert "OpenSSL 3.0" in odd.why and odd.rfc == "RFC 8446 §6; RFC 8446 Appendix D.4"
    sealed = step("tls.alert", "c2s", wire=record(0x17, bytes(19)), fields=v13)
    assert "OpenSSL" not in explain(sealed, lang).eavesdropper


def test_cert_check_names_the_proof_of_key_by_version():
    checks = {"proof of key": "ok: ServerKeyExchange: signature by server.example.com: signature valid"}
    v12 = step("tls.cert_check", fields=dict(checks, **{"tls version": "TLS 1.2"}))
    v13 = step("tls.cert_check", fields={"tls version": "TLS 1.3"})
    e12, e13 = explain(v12), explain(v13)
    assert "CertificateVerify" not in e12.what and "ServerKeyExchange" in e12.what
    assert "no CertificateVerify" in e12.why and e12.rfc == "RFC 5280 §6.1; RFC 9525 §6; RFC 5246 §7.4.3"
    assert "CertificateVerify signature" in e13.what and "8446" in e13.rfc
    assert "ServerKeyExchange" in explain(v12, "zh").what
    # failed: the TLS 1.2 failure form, then the generic failure's why
    f12 = explain(step("tls.cert_check", fields={"tls version": "TLS 1.2"}, status="error"))
    f13 = explain(step("tls.cert_check", fields={"tls version": "TLS 1.3"}, status="error"))
    assert f12.rfc.startswith("RFC 5246 §7.2.2") and f13.rfc.startswith("RFC 8446 §6.2")
    assert "before the client has sent its own key share" in f12.what and f12.why == f13.why
    assert "明文" in explain(step("tls.cert_check", fields={"tls version": "TLS 1.2"}, status="error"),
                          "zh").what


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_passed_cert_check_says_what_a_pass_means(lang):
    mitm = step("tls.cert_check", fields={"tls version": "TLS 1.3",
                                           "issuer": "Interception CA (the attacker's)"})
    e = explain(mitm, lang)
    assert "Interception CA (the attacker's)" in e.what
    assert ("corporate TLS proxy" in e.why) if lang == "en" else ("企业的 TLS 代理" in e.why)
    assert "issued by" not in explain(step("tls.cert_check"), "en").what  # no issuer, no claim
    hostile = explain(step("tls.cert_check", fields={"issuer": "[b]{issuer}[/b]"}), lang)
    assert "[b]{issuer}[/b]" in hostile.what


def _frame(op: str, direction: str, rsv1: str, **extra: str) -> Step:
    return step("ws.frame", direction, fields=dict({"RSV1": rsv1, "opcode": op}, **extra),
                wire=record(0x17, bytes(30)))


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("op", ["0x1 text", "0x2 binary"])
def test_compressed_frames(op, lang):
    first = _frame(op, "c2s", "1 (compressed)", **{"inflated payload": "44 → 73 bytes"})
    again = _frame(op, "c2s", "1 (compressed)", **{"inflated payload": "6 → 73 bytes"})
    plain = _frame(op, "c2s", "0")
    e1, e2, e0 = explain(first, lang), explain(again, lang), explain(plain, lang)
    assert "44 → 73 bytes" in e1.what and "6 → 73 bytes" in e2.what
    assert e1.title != e0.title and e1.why != e0.why
    assert "00 00 ff ff" in e1.why and "no_context_takeover" in e1.why
    assert "CRIME" in e1.eavesdropper and "BREACH" in e1.eavesdropper
    assert e1.rfc.startswith("RFC 7692 §6") and "§7.2.3" in e1.rfc and "§8" in e1.rfc
    ws = explain(first, lang, scheme="ws").eavesdropper
    assert "CRIME" not in ws and ("inflate" in ws or "解压" in ws)
    # a set RSV1 that no extension explains (a protocol error) is not called compressed
    bare = explain(_frame(op, "c2s", "1"), lang)
    assert bare.title == e0.title
    # the direction-specific masking text is still there for uncompressed frames
    assert "§10.3" in e0.why


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_upgrade_mentions_the_extension_negotiation(lang):
    offer = "permessage-deflate; server_no_context_takeover; client_max_window_bits"
    req = step("http.upgrade_request", "c2s")
    req.fields = [Field("headers", "8 header lines",
                        children=[Field("Sec-WebSocket-Extensions", offer)])]
    e = explain(req, lang)
    assert offer in e.what and "server_no_context_takeover" in e.why and "RFC 7692" in e.rfc
    resp = step("http.upgrade_response", "s2c")
    resp.fields = [Field("status code", "101 Switching Protocols"),
                   Field("headers", "5", children=[Field("Sec-WebSocket-Extensions",
                                                         "permessage-deflate; server_no_context_takeover")])]
    r = explain(resp, lang)
    assert "permessage-deflate; server_no_context_takeover" in r.what and "RFC 7692" in r.rfc
    assert r.what != explain(step("http.upgrade_response", "s2c",
                                  fields={"status code": "101 Switching Protocols"}), lang).what
    # a header name in another case still selects the variant (its value is then not quoted)
    lower = step("http.upgrade_request", "c2s", fields={"sec-websocket-extensions": offer})
    assert explain(lower, lang).why == e.why
    # a refusal is explained as a refusal even if it carries the header
    refused = step("http.upgrade_response", "s2c", status="error")
    refused.fields = list(resp.fields)
    refused.fields[0] = Field("status code", "403 Forbidden")
    assert "Origin" in explain(refused).what


# --- text true for the session it explains (live runs) ----------------------------


@functools.cache
def _live(name: str | None = None) -> list[Step]:
    """Steps of a live session: the default settings, or a scenario file."""
    from wssviz import scenarios
    from wssviz.live.pair import LiveSession
    from wssviz.live.settings import Settings

    return LiveSession(scenarios.load(name) if name else Settings()).run_all()


def _of(steps: list[Step], kind: str) -> list[Step]:
    return [s for s in steps if s.kind == kind]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_bad_accept_reads_as_a_failure_not_a_switch(lang):
    steps = _live("bad-accept")
    resp = _of(steps, "http.upgrade_response")[0]
    acc = _of(steps, "ws.accept")[0]
    assert resp.value("Sec-WebSocket-Accept") == "dGhlIHNhbXBsZSBub25jZQ=="  # the echoed key
    assert resp.status == "error" and "now speaks WebSocket" not in resp.summary
    assert "does not match the client's key" in resp.summary
    r = explain(resp, lang)
    assert "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in r.what  # the value it should have carried
    assert r.what != explain(_of(_live(), "http.upgrade_response")[0], lang).what
    # the derivation is the client's expectation, right before its check
    assert acc.direction == "client" and steps[acc.index - 1] is resp
    assert steps[acc.index + 1].kind == "ws.accept_check"
    assert acc.value("Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    a = explain(acc, lang)
    if lang == "en":
        assert "expects" in acc.summary and not a.what.startswith("The server computes")
        assert "the client computes it too" in a.what
        assert "must fail" in r.what and "derived from the client's key" in r.what
    else:
        assert "客户端也算一遍" in a.what and not a.what.startswith("服务器计算")


def test_default_session_accept_is_the_servers():
    steps = _live()
    acc, resp = _of(steps, "ws.accept")[0], _of(steps, "http.upgrade_response")[0]
    assert acc.direction == "server" and acc.index + 1 == resp.index
    assert resp.status == "ok" and resp.summary.endswith("the connection now speaks WebSocket")
    assert explain(resp).what.startswith("The server agrees to switch: 101")
    assert "expected Accept" not in [f.name for f in resp.fields]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_request_without_upgrade_says_what_is_missing(lang):
    steps = _live("missing-upgrade-header")
    req = _of(steps, "http.upgrade_request")[0]
    values = [f.value for top in req.fields for f in top.walk()]
    assert "Upgrade header missing (RFC 6455 §4.2.1)" in values
    assert not any("None" in v for v in values) and "None" not in req.summary
    assert req.summary.endswith("but without the Upgrade header")
    e = explain(req, lang)
    assert "Upgrade: websocket, Connection: Upgrade" not in e.what
    assert ("lacks the required Upgrade header" if lang == "en" else "缺少必需的 Upgrade 请求头") in e.what
    ok = explain(_of(_live(), "http.upgrade_request")[0], lang)
    assert "Upgrade" in ok.what and ok.what != e.what


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_encrypted_extensions_text_fits_one_message_records(lang):
    steps = _live()
    ee = _of(steps, "tls.encrypted_extensions")[0]
    # here each handshake message rides in a record of its own: a 5-byte header, the
    # message, its inner content type and a 16-byte tag
    assert ee.wire[0] == 0x17 and len(ee.wire) == 5 + len(ee.data) + 1 + 16
    text = explain(ee, lang).eavesdropper
    assert "OpenSSL" not in text and f"{len(ee.wire)}" in text
    assert ("may carry several messages" if lang == "en" else "可能装着好几条消息") in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_close_frames_read_right_in_each_direction(lang):
    closes = [s for s in _of(_live(), "ws.frame") if s.value("opcode") == "0x8 close"]
    by = {s.direction: explain(s, lang).why for s in closes}
    assert set(by) == {"c2s", "s2c"}
    assert ("not masked" if lang == "en" else "不加掩码") in by["s2c"]
    if lang == "en":
        assert "comes from the server" in by["s2c"] and "client's Close" not in by["s2c"]
    assert "§10.3" in by["c2s"] and "§10.3" not in by["s2c"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_zh_ladder_names_tell_the_key_phases_apart(lang):
    keys = _of(_live(), "tls.keys")
    titles = [explain(s, lang).title for s in keys]
    assert len(keys) == 2 and len(set(titles)) == 2
    if lang == "zh":
        assert titles == ["握手密钥", "应用数据密钥"]
    else:
        assert titles == [s.title for s in keys]  # the same words as the step's own title


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_masking_key_text_says_when_the_rfc_example_key_is_used(lang):
    frames = [s for s in _of(_live(), "ws.frame") if s.direction == "c2s"]
    hello, rest = frames[0], frames[1:]
    assert hello.value("masking key") == "37fa213d" and hello.value("example key") == "RFC 6455 §5.7"
    e = explain(hello, lang).why
    assert "37fa213d" in e and "RFC 6455 §5.7" in e
    assert ("fresh and at random" if lang == "en" else "随机选一个新的掩码键") in e
    for s in rest:  # the ping and the close get random keys
        assert s.value("example key", None) is None and "§5.7" not in explain(s, lang).why
    binary = step("ws.frame", "c2s", fields={"opcode": "0x2 binary", "masking key": "0badf00d"})
    assert "§5.7" not in explain(binary, lang).why and "0badf00d" not in explain(binary, lang).why


def test_a_side_named_in_a_chinese_sentence_is_in_chinese():
    closed = _tcp_close("websocket close", by="server")
    zh, en = explain(closed, "zh").what, explain(closed, "en").what
    assert "由服务器先关闭 TCP" in zh and "server" not in zh
    assert "server" in en
    failed = step("error", "client", fields={"by": "client", "action": "closed the connection"},
                  status="error")
    assert "客户端的处理" in explain(failed, "zh").what
