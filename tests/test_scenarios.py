"""Every scenario runs live through the pair and ends as its file promises.

Each scenario runs once (cached); the generic check compares the steps with the
file's [expect] table, and a scenario-specific check looks at the fields that
make its point.  Every scenario also records and replays to the same --json.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

from wssviz import scenarios
from wssviz.core import frames as wf
from wssviz.dissect import dissect
from wssviz.live.pair import LiveSession
from wssviz.recording import from_document, to_document
from wssviz.steps import Step

REQUIRED = [
    "seed-example", "tls12", "plaintext-ws", "hello-retry-request", "session-resumption", "mutual-tls",
    "untrusted-ca", "hostname-mismatch", "expired-certificate", "mitm-rejected", "mitm-trusted",
    "bad-accept", "wrong-version", "missing-upgrade-header", "origin-rejected",
    "subprotocol-negotiation", "subprotocol-none", "permessage-deflate", "fragmented-message",
    "binary-message", "large-message", "ping-pong-heartbeat", "unmasked-client-frame", "invalid-utf8",
    "reserved-bits", "oversized-control-frame", "message-too-big", "close-codes",
]


@functools.cache
def run(name: str) -> tuple[list[Step], LiveSession]:
    session = LiveSession(scenarios.load(name))
    return session.run_all(), session


def kinds(steps: list[Step]) -> list[str]:
    return [s.kind for s in steps]


def of(steps: list[Step], kind: str, direction: str | None = None) -> list[Step]:
    return [s for s in steps if s.kind == kind and (direction is None or s.direction == direction)]


def frames(steps: list[Step], direction: str | None = None) -> list[Step]:
    return of(steps, "ws.frame", direction)


def opcode(step: Step) -> str:
    return step.value("opcode").split()[1]


def payload(step: Step) -> bytes:
    """Unmask the payload from the frame's own bytes and its own mask key field."""
    f = step.find("payload")
    raw = step.span_bytes(f)
    key = step.value("masking key")
    return wf.apply_mask(raw, bytes.fromhex(key)) if key else raw


def header(step: Step, name: str) -> str | None:
    h = step.find("headers")
    for c in h.children:
        if c.name.lower() == name.lower():
            return c.value
    return None


def any_field(step: Step, pred) -> bool:
    return any(pred(g) for f in step.fields for g in f.walk())


# --- the catalog ----------------------------------------------------------------------


def test_catalog_lists_every_required_scenario_with_title_description_and_outcome():
    items = {i.name: i for i in scenarios.catalog()}
    assert set(REQUIRED) <= set(items)
    assert scenarios.catalog()[0].name == "seed-example"
    for i in items.values():
        assert i.title and i.goal and i.description and i.outcome, i.name
        assert "\n" not in i.goal


def test_cli_scenarios_json(capsys):
    from wssviz.cli import main

    assert main(["scenarios", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["name"] for r in rows} >= set(REQUIRED)
    assert all(set(r) == {"name", "title", "goal", "description", "outcome", "source"} for r in rows)
    assert {r["source"] for r in rows} == {"bundled"}


def test_seed_example_file_matches_the_default_settings():
    from wssviz.live.settings import Settings

    loaded, default = scenarios.load("seed-example").to_dict(), Settings().to_dict()
    for key in ("description", "expect"):
        loaded.pop(key), default.pop(key)
    assert loaded == default


# --- every scenario, live -------------------------------------------------------------


def check_seed_example(st):
    assert of(st, "ws.accept")[0].value("Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert of(st, "ws.accept")[0].direction == "server"
    hello = frames(st, "c2s")[0]
    assert hello.value("masking key") == "37fa213d" and payload(hello) == b"Hello"
    assert hello.value("example key") == "RFC 6455 §5.7"


def check_tls12(st):
    assert of(st, "tls.server_hello")[0].value("tls version") == "TLS 1.2"
    assert "tls.encrypted_extensions" not in kinds(st)
    assert [s.direction for s in of(st, "tls.change_cipher_spec")] == ["c2s", "s2c"]


def check_plaintext_ws(st):
    assert not any(s.layer == "tls" for s in st)
    for s in st:
        if s.kind in ("http.upgrade_request", "http.upgrade_response", "ws.frame"):
            assert s.wire == s.data  # what crosses TCP is what was written
    first = frames(st, "c2s")[0]
    assert payload(first) == b"my password is hunter2"
    assert b"GET /chat HTTP/1.1" in of(st, "http.upgrade_request")[0].wire


def check_hello_retry_request(st):
    hellos = of(st, "tls.client_hello")
    assert len(hellos) == 2 and len(of(st, "tls.hello_retry_request")) == 1
    assert "x25519" in hellos[0].summary and "secp256r1" in hellos[1].summary
    assert "secp256r1" in of(st, "tls.server_hello")[0].summary
    assert of(st, "tls.cert_check")[0].status == "ok"


def check_session_resumption(st):
    second = st[[i for i, s in enumerate(st) if s.kind == "tcp.connect"][1]:]
    assert "tls.certificate" in kinds(st[:len(st) - len(second)])
    assert "tls.certificate" not in kinds(second) and "tls.cert_check" not in kinds(second)
    hello = of(second, "tls.server_hello")[0]
    assert any_field(hello, lambda f: f.name == "pre_shared_key" and "accepts" in f.value)
    assert payload(frames(second, "s2c")[0]) == b"Hello"  # decrypted with the resumed keys


def check_mutual_tls(st):
    assert of(st, "tls.certificate_request", "s2c")
    client_cert = of(st, "tls.certificate", "c2s")
    assert client_cert and "client.example.com" in client_cert[0].summary
    assert of(st, "tls.certificate_verify", "c2s")


def _refused(st, failed_check: str, alert: str | None):
    check = of(st, "tls.cert_check")[0]
    assert check.status == "error"
    assert check.value(failed_check).startswith("FAILED")
    assert "FAILED" in check.value("OpenSSL verdict")
    alerts = of(st, "tls.alert", "c2s")
    assert alerts and alerts[0].status == "error"
    if alert:
        assert alert in alerts[0].title
    assert "http.upgrade_request" not in kinds(st)


def check_untrusted_ca(st):
    _refused(st, "chain", "unknown_ca")


def check_hostname_mismatch(st):
    _refused(st, "host name", None)


def check_expired_certificate(st):
    _refused(st, "validity", "certificate_expired")


def check_mitm_rejected(st):
    _refused(st, "chain", "unknown_ca")
    assert "Interception CA" in of(st, "tls.certificate")[0].summary


def check_mitm_trusted(st):
    assert "Interception CA" in of(st, "tls.certificate")[0].summary
    assert of(st, "tls.cert_check")[0].status == "ok"
    assert payload(frames(st, "c2s")[0]) == b"my password is hunter2"


def check_bad_accept(st):
    check = of(st, "ws.accept_check")[0]
    assert check.status == "error"
    assert check.value("received") == "dGhlIHNhbXBsZSBub25jZQ=="
    assert check.value("expected") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    # the server never computed the right value: the derivation shown is the client's
    resp, acc = of(st, "http.upgrade_response")[0], of(st, "ws.accept")[0]
    assert resp.status == "error" and resp.value("expected Accept") == check.value("expected")
    assert resp.index < acc.index < check.index and acc.direction == "client"
    assert not frames(st)
    assert of(st, "tls.alert")[0].direction == "c2s"  # the client ends it


def check_wrong_version(st):
    req, resp = of(st, "http.upgrade_request")[0], of(st, "http.upgrade_response")[0]
    assert header(req, "Sec-WebSocket-Version") == "8" and req.status == "error"
    assert resp.value("status code").startswith("426") and resp.status == "error"
    assert header(resp, "Sec-WebSocket-Version") == "13"
    assert not frames(st)


def check_missing_upgrade_header(st):
    req, resp = of(st, "http.upgrade_request")[0], of(st, "http.upgrade_response")[0]
    assert header(req, "Upgrade") is None and req.status == "error"
    assert req.value("missing header") == "Upgrade" and req.value("problem").startswith("Upgrade header missing")
    assert resp.value("status code").startswith("400")


def check_origin_rejected(st):
    req, resp = of(st, "http.upgrade_request")[0], of(st, "http.upgrade_response")[0]
    assert header(req, "Origin") == "https://evil.example"
    assert resp.value("status code").startswith("403") and not frames(st)


def check_subprotocol_negotiation(st):
    resp = of(st, "http.upgrade_response")[0]
    assert header(resp, "Sec-WebSocket-Protocol") == "chat"
    assert of(st, "ws.accept_check")[0].value("subprotocol") == "chat"


def check_subprotocol_none(st):
    resp = of(st, "http.upgrade_response")[0]
    assert header(resp, "Sec-WebSocket-Protocol") is None
    assert of(st, "ws.accept_check")[0].value("subprotocol") == "none chosen"
    err = of(st, "error")[0]
    assert err.direction == "client" and "subprotocol" in err.value("rule")
    assert not frames(st)


def check_permessage_deflate(st):
    req = of(st, "http.upgrade_request")[0]
    assert header(req, "Sec-WebSocket-Extensions").startswith("permessage-deflate")
    assert header(of(st, "http.upgrade_response")[0], "Sec-WebSocket-Extensions").startswith(
        "permessage-deflate; server_no_context_takeover")
    text = "WebSocket compression: repeat after me, repeat after me, repeat after me."
    data = [f for f in frames(st) if opcode(f) == "text"]
    assert len(data) == 4
    for f in data:
        assert f.value("RSV1") == "1 (compressed)" and f.status == "ok"
        assert len(payload(f)) < len(text)
        assert f.value("unmasked payload" if f.direction == "c2s" else "application data") == f'"{text}"'
        assert f.value("inflated payload").endswith(f"→ {len(text)} bytes")
    c1, c2 = [len(payload(f)) for f in data if f.direction == "c2s"]
    s1, s2 = [len(payload(f)) for f in data if f.direction == "s2c"]
    assert c2 < c1  # the client keeps its window: the repeat costs a few bytes
    assert s1 == s2  # server_no_context_takeover: each message starts afresh


def check_fragmented_message(st):
    sent = frames(st, "c2s")
    assert [(opcode(f), f.value("FIN")[0]) for f in sent[:4]] == [
        ("text", "0"), ("ping", "1"), ("continuation", "0"), ("continuation", "1")]
    assert sent[3].value("message").startswith("3 frames reassembled")
    got = frames(st, "s2c")
    assert opcode(got[0]) == "pong" and payload(got[1]) == b"Hello, fragmented world"


def check_binary_message(st):
    sent, echo = frames(st, "c2s")[0], frames(st, "s2c")[0]
    assert opcode(sent) == "binary" and payload(sent).startswith(b"\x89PNG\r\n\x1a\n")
    assert payload(echo) == payload(sent) and len(payload(sent)) == 76


def check_large_message(st):
    big = frames(st, "c2s")[0]
    assert big.value("payload length") == "1048576 (64-bit form)"
    assert big.data[1] & 0x7F == 127
    assert payload(big) == (b"wssviz! " * 131072)
    assert len(big.wire) > 1048576 + 64 * 5  # many TLS records, each with its header and tag
    assert payload(frames(st, "s2c")[0]) == b"received 1048576 bytes"


def check_ping_pong_heartbeat(st):
    cut = [i for i, s in enumerate(st) if s.kind == "tcp.connect"][1]
    first, second = st[:cut], st[cut:]
    pings = [f for f in frames(first, "c2s") if opcode(f) == "ping"]
    pongs = [f for f in frames(first, "s2c") if opcode(f) == "pong"]
    assert len(pings) == 3 and len(pongs) == 2
    err = of(first, "error")[0]
    assert err.direction == "client" and "no pong" in err.value("rule")
    assert err.time - pings[-1].time >= 2.0  # the pong timeout, on the session clock
    assert pings[1].time - pings[0].time >= 1.0  # the interval
    assert of(first, "tcp.close")[0].value("how") == "abort"
    connect = second[0]
    assert connect.value("connection").startswith("2") and connect.value("after back-off") == "0.5 s"
    assert connect.time - of(first, "tcp.close")[0].time >= 0.5
    assert scenarios.close_codes(second) == [1000, 1000]


def _failed(st, code: int, frame_status: str = "error"):
    bad = frames(st, "c2s")[0]
    assert bad.status == frame_status
    i = st.index(bad)
    err = st[i + 1]
    assert err.kind == "error" and err.direction == "server"
    assert str(code) in err.value("action")
    close = st[i + 2]
    assert close.kind == "ws.frame" and close.direction == "s2c" and opcode(close) == "close"
    assert close.value("close code").startswith(str(code))
    return bad


def check_unmasked_client_frame(st):
    bad = _failed(st, 1002)
    assert bad.value("MASK") == "0 (not masked)" and bad.data[1] & 0x80 == 0
    assert any(p.value.startswith("a client must mask") for p in bad.fields if p.name == "problem")


def check_invalid_utf8(st):
    bad = _failed(st, 1007)
    assert payload(bad) == "café".encode("latin-1")
    assert "not valid UTF-8" in bad.value("unmasked payload")


def check_reserved_bits(st):
    bad = _failed(st, 1002)
    assert bad.value("RSV2") == "1" and bad.data[0] & 0x20


def check_oversized_control_frame(st):
    bad = _failed(st, 1002)
    assert opcode(bad) == "ping" and bad.value("payload length") == "200 (16-bit form)"


def check_message_too_big(st):
    big = _failed(st, 1009, frame_status="ok")  # a valid frame; the server's limit says no
    assert len(payload(big)) == 4096
    assert "1024" in st[st.index(big) + 1].value("rule")


def check_close_codes(st):
    close = frames(st, "c2s")[-1]
    assert close.value("close code") == "4000 private use"
    assert close.value("close reason") == "done for today"
    assert not [f for f in frames(st, "s2c") if opcode(f) == "close"]
    drop = of(st, "tcp.close")[0]
    assert drop.direction == "s2c" and drop.value("how") == "reset" and drop.status == "warning"
    assert "tls.alert" not in kinds(st)  # no close_notify: the connection just vanished
    assert st[-1].kind == "error" and "1006" in st[-1].value("rule")


CHECKS = {name: globals()["check_" + name.replace("-", "_")] for name in REQUIRED}


@pytest.mark.parametrize("name", REQUIRED)
def test_scenario_runs_live_and_ends_as_promised(name):
    steps, session = run(name)
    assert session.finished and steps
    assert [s.index for s in steps] == list(range(len(steps)))
    problems = scenarios.check_outcome(session.settings.expect, steps)
    assert problems == [], problems
    CHECKS[name](steps)


@pytest.mark.parametrize("name", scenarios.names())
def test_scenario_records_and_replays_to_the_same_json(name):
    steps, session = run(name)
    doc = json.loads(json.dumps(to_document(session.capture)))
    replayed = dissect(from_document(doc))
    assert [s.to_json() for s in replayed] == [s.to_json() for s in steps]


def test_cli_run_record_then_replay_prints_the_same(tmp_path, capsys):
    from wssviz.cli import main

    rec = tmp_path / "r.json"
    assert main(["run", "unmasked-client-frame", "--json", "--record", str(rec)]) == 0
    live = capsys.readouterr().out
    assert main(["replay", str(rec), "--json"]) == 0
    assert capsys.readouterr().out == live
    assert any(json.loads(line)["kind"] == "ws.frame" and json.loads(line)["status"] == "error"
               for line in live.splitlines())


# --- bad scenario files --------------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / f"{name}.toml"
    p.write_text(text, encoding="utf-8")
    return p


HEAD = 'name = "x"\ntitle = "t"\ngoal = "g"\n'
EXPECT = '\n[expect]\noutcome = "o"\n'


@pytest.mark.parametrize("body, where, line", [
    ('name = "x"\ntitle = "t\n', "not valid TOML", "line 2"),
    (HEAD + '[tls]\nversion = "1.4"\n' + EXPECT, "[tls] version: must be one of 1.2, 1.3", "line 5"),
    (HEAD + '[client]\nprotocol = ["chat"]\n' + EXPECT, "[client] protocol: unknown field", "line 5"),
    (HEAD + '[faults.server]\naccept = 3\n' + EXPECT, "[faults.server] accept: must be a str", "line 5"),
    (HEAD + '[faults.server]\nexplode = true\n' + EXPECT, "[faults.server] explode: unknown fault hook",
     "line 5"),
    (HEAD + '\n[[messages]]\nkind = "text"\n\n[[messages]]\nkind = "ping"\nsize = 300\n' + EXPECT,
     "messages[1]: the client would not send this frame", "line 8"),
    (HEAD + '\n[[messages]]\nkind = "text"\nfault = "garbled"\n' + EXPECT,
     "messages[0] fault: must be one of", "line 7"),
    (HEAD + '\n[[messages]]\nkind = "text"\nmask = "abc"\n' + EXPECT, "messages[0] mask", "line 7"),
    (HEAD + '[certificate]\nvalid_days = [1, -1]\n' + EXPECT, "[certificate] valid_days", "line 5"),
    (HEAD + 'url = "http://example.com/"\n' + EXPECT, "url: must look like", "line 4"),
    (HEAD + '[expect]\nlast = ["tls.hello"]\noutcome = "o"\n', "[expect] last: unknown step kind",
     "line 5"),
    (HEAD, "[expect] outcome: is required", None),
    ('name = "y"\ntitle = "t"\ngoal = "g"\n' + EXPECT, "name: must match the file name", "line 1"),
])
def test_bad_scenario_files_name_file_line_and_field(tmp_path, body, where, line):
    path = write(tmp_path, "x", body)
    with pytest.raises(scenarios.ScenarioError) as info:
        scenarios.load(str(path))
    msg = str(info.value)
    assert msg.startswith("scenario x.toml") and where in msg
    if line:
        assert line in msg, msg


def test_unknown_scenario_lists_the_known_ones(capsys):
    from wssviz.cli import main

    assert main(["run", "no-such-thing", "--json"]) == 2
    err = capsys.readouterr().err
    assert "unknown scenario 'no-such-thing'" in err and "seed-example" in err


def test_scenario_files_are_valid_and_named_after_their_file():
    for name in scenarios.names():
        settings, info = scenarios.read(scenarios.bundled() / f"{name}.toml")
        assert settings.name == name == info.name


def test_tls12_carries_the_same_exchange_as_seed_example():
    """Above TLS the two sessions are the same: the same upgrade head, then frames of the
    same opcodes and payloads each way (Hello, its echo, the ping and its pong, the
    closes), read from the frames' own bytes."""
    def exchange(name):
        steps, _ = run(name)
        heads = [bytes(s.data) for s in steps if s.kind == "http.upgrade_request"]
        out = []
        for s in frames(steps):
            data = bytes(s.data)
            out.append((s.direction, data[0] & 0x0F, payload(s)))
        return heads, out

    heads12, frames12 = exchange("tls12")
    heads13, frames13 = exchange("seed-example")
    assert heads12 == heads13
    assert frames12 == frames13
    assert [op for _, op, _ in frames12] == [0x1, 0x1, 0x9, 0xA, 0x8, 0x8]
