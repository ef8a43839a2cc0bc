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

from wssviz import explain, plain, scenarios
from wssviz.core import frames as wf
from wssviz.core.msg import Msg
from wssviz.dissect import dissect
from wssviz.dissect import app
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
    """The frame's opcode as its protocol name (``text``, ``ping``, ...), from the raw value."""
    return wf.OPCODE_NAMES[step.raw("ws.frame.opcode")]


def payload(step: Step) -> bytes:
    """Unmask the payload from the frame's own bytes and its own mask key field."""
    f = step.find("ws.frame.payload")
    raw = step.span_bytes(f)
    key = step.raw("ws.frame.masking_key")
    return wf.apply_mask(raw, key) if key else raw


def header(step: Step, name: str) -> str | None:
    """The value of an HTTP header (each ``http.header`` is labelled with its name)."""
    h = step.find("http.headers")
    for c in h.children:
        if c.id == "http.header" and explain.label(c, "en").lower() == name.lower():
            return c.raw
    return None


def rules(step: Step, id: str) -> list[str]:
    """The rule ids of the problem fields ``id`` (``ws.frame.problem``, ``http.problem``)."""
    return [f.raw for f in step.all(id)]


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
    assert of(st, "ws.accept")[0].raw("ws.accept.accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert of(st, "ws.accept")[0].direction == "server"
    hello = frames(st, "c2s")[0]
    assert hello.raw("ws.frame.masking_key") == wf.RFC_EXAMPLE_MASK == bytes.fromhex("37fa213d")
    assert payload(hello) == b"Hello"
    assert hello.raw("ws.frame.example_key") is True  # RFC 6455 §5.7's key


def check_tls12(st):
    assert of(st, "tls.server_hello")[0].raw("tls.version") == 0x0303  # TLS 1.2
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
    x25519, secp256r1 = 0x001D, 0x0017
    assert [f.raw for f in hellos[0].all("tls.ext.key_share.group")] == [x25519]
    assert of(st, "tls.hello_retry_request")[0].raw("tls.ext.key_share.selected_group") == secp256r1
    assert [f.raw for f in hellos[1].all("tls.ext.key_share.group")] == [secp256r1]
    assert hellos[1].raw("tls.client_hello.attempt") == 2
    assert of(st, "tls.server_hello")[0].raw("tls.ext.key_share.group") == secp256r1
    assert of(st, "tls.cert_check")[0].status == "ok"


def check_session_resumption(st):
    second = st[[i for i, s in enumerate(st) if s.kind == "tcp.connect"][1]:]
    assert "tls.certificate" in kinds(st[:len(st) - len(second)])
    assert "tls.certificate" not in kinds(second) and "tls.cert_check" not in kinds(second)
    hello = of(second, "tls.server_hello")[0]
    assert hello.has("tls.ext.pre_shared_key")
    assert hello.raw("tls.ext.pre_shared_key.selected_identity") == 0  # the server accepts the ticket
    assert payload(frames(second, "s2c")[0]) == b"Hello"  # decrypted with the resumed keys


def check_mutual_tls(st):
    assert of(st, "tls.certificate_request", "s2c")
    client_cert = of(st, "tls.certificate", "c2s")
    assert client_cert and client_cert[0].facts["sender"] == "client"
    leaf = client_cert[0].find("tls.certificate.entry")
    assert leaf.find("x509.san.dns").raw == "client.example.com"
    assert of(st, "tls.certificate_verify", "c2s")


UNKNOWN_CA, CERTIFICATE_EXPIRED = 48, 45  # TLS alert descriptions


def _refused(st, failed_check: str, alert: int | None):
    check = of(st, "tls.cert_check")[0]
    assert check.status == "error" and check.raw("tls.cert_check.verdict") == "refused"
    assert False in [f.raw for f in check.all(f"tls.cert_check.{failed_check}")]
    assert check.raw("tls.cert_check.openssl") is False
    alerts = of(st, "tls.alert", "c2s")
    assert alerts and alerts[0].status == "error"
    assert alerts[0].raw("tls.alert.level") == 2  # fatal
    if alert:
        assert alerts[0].raw("tls.alert.description") == alert
    assert "http.upgrade_request" not in kinds(st)


def check_untrusted_ca(st):
    _refused(st, "chain", UNKNOWN_CA)


def check_hostname_mismatch(st):
    _refused(st, "host_name", None)


def check_expired_certificate(st):
    _refused(st, "validity", CERTIFICATE_EXPIRED)


def check_mitm_rejected(st):
    _refused(st, "chain", UNKNOWN_CA)
    assert "Interception CA" in of(st, "tls.certificate")[0].raw("x509.issuer")


def check_mitm_trusted(st):
    assert "Interception CA" in of(st, "tls.certificate")[0].raw("x509.issuer")
    assert of(st, "tls.cert_check")[0].status == "ok"
    assert payload(frames(st, "c2s")[0]) == b"my password is hunter2"


def check_bad_accept(st):
    check = of(st, "ws.accept_check")[0]
    assert check.status == "error"
    assert check.raw("ws.accept_check.received") == "dGhlIHNhbXBsZSBub25jZQ=="
    assert check.raw("ws.accept_check.expected") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert check.raw("ws.accept_check.verdict") is False
    # the server never computed the right value: the derivation shown is the client's
    resp, acc = of(st, "http.upgrade_response")[0], of(st, "ws.accept")[0]
    assert resp.status == "error" and resp.raw("http.expected_accept") == check.raw("ws.accept_check.expected")
    assert acc.raw("ws.accept.accept") == check.raw("ws.accept_check.expected")
    assert resp.index < acc.index < check.index and acc.direction == "client"
    assert not frames(st)
    assert of(st, "tls.alert")[0].direction == "c2s"  # the client ends it


def check_wrong_version(st):
    req, resp = of(st, "http.upgrade_request")[0], of(st, "http.upgrade_response")[0]
    assert header(req, "Sec-WebSocket-Version") == "8" and req.status == "error"
    assert rules(req, "http.problem") == ["ws.version_13"]
    assert resp.raw("http.status_code") == 426 and resp.status == "error"
    assert header(resp, "Sec-WebSocket-Version") == "13"
    assert not frames(st)


def check_missing_upgrade_header(st):
    req, resp = of(st, "http.upgrade_request")[0], of(st, "http.upgrade_response")[0]
    assert header(req, "Upgrade") is None and req.status == "error"
    assert req.raw("http.missing_header") == ["Upgrade"] and rules(req, "http.problem") == ["ws.header_required"]
    assert "without the Upgrade header" in explain.summary(req, "en")  # what the learner is told
    assert resp.raw("http.status_code") == 400


def check_origin_rejected(st):
    req, resp = of(st, "http.upgrade_request")[0], of(st, "http.upgrade_response")[0]
    assert header(req, "Origin") == "https://evil.example"
    assert resp.raw("http.status_code") == 403 and not frames(st)


def check_subprotocol_negotiation(st):
    resp = of(st, "http.upgrade_response")[0]
    assert header(resp, "Sec-WebSocket-Protocol") == "chat"
    assert of(st, "ws.accept_check")[0].raw("ws.accept_check.subprotocol") == "chat"


def check_subprotocol_none(st):
    resp = of(st, "http.upgrade_response")[0]
    assert header(resp, "Sec-WebSocket-Protocol") is None
    check = of(st, "ws.accept_check")[0]
    assert check.has("ws.accept_check.subprotocol") and check.raw("ws.accept_check.subprotocol") is None
    err = of(st, "error")[0]
    assert err.direction == "client" and err.raw("error.rule") == "ws.no_subprotocol_strict"
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
        assert f.raw("ws.frame.rsv1") is True and f.facts["compressed"] is True and f.status == "ok"
        assert len(payload(f)) < len(text)
        assert f.raw("ws.frame.inflated") == len(text)
        # the learner reads the inflated text, not the compressed bytes
        shown = f.find("ws.frame.unmasked_payload" if f.direction == "c2s" else "ws.frame.application_data")
        assert explain.value(shown, "en") == f'"{text}"'
    c1, c2 = [len(payload(f)) for f in data if f.direction == "c2s"]
    s1, s2 = [len(payload(f)) for f in data if f.direction == "s2c"]
    assert c2 < c1  # the client keeps its window: the repeat costs a few bytes
    assert s1 == s2  # server_no_context_takeover: each message starts afresh


def check_fragmented_message(st):
    sent = frames(st, "c2s")
    assert [(opcode(f), f.raw("ws.frame.fin")) for f in sent[:4]] == [
        ("text", False), ("ping", True), ("continuation", False), ("continuation", True)]
    assert sent[3].raw("ws.frame.message") == 3  # 3 frames reassembled
    got = frames(st, "s2c")
    assert opcode(got[0]) == "pong" and payload(got[1]) == b"Hello, fragmented world"


def check_binary_message(st):
    sent, echo = frames(st, "c2s")[0], frames(st, "s2c")[0]
    assert opcode(sent) == "binary" and payload(sent).startswith(b"\x89PNG\r\n\x1a\n")
    assert payload(echo) == payload(sent) and len(payload(sent)) == 76


def check_large_message(st):
    big = frames(st, "c2s")[0]
    assert big.raw("ws.frame.payload_length") == big.raw("ws.frame.extended_payload_length") == 1048576
    assert big.data[1] & 0x7F == 127  # the 64-bit form
    # a step keeps the frame's first 64 KiB (what it shows), says how much more there
    # was, and how many TLS records carried the whole frame
    kept = len(big.data)
    assert kept == app.FRAME_KEEP and payload(big) == (b"wssviz! " * 131072)[:kept - 14]
    assert big.raw("ws.frame.not_shown") == 1048576 + 14 - kept
    assert big.raw("ws.frame.records") >= 64  # a TLS record holds at most 16 KiB
    assert app.FRAME_KEEP < len(big.wire) < 2 * app.FRAME_KEEP  # only the records of what is kept
    assert payload(frames(st, "s2c")[0]) == b"received 1048576 bytes"


def check_ping_pong_heartbeat(st):
    cut = [i for i, s in enumerate(st) if s.kind == "tcp.connect"][1]
    first, second = st[:cut], st[cut:]
    pings = [f for f in frames(first, "c2s") if opcode(f) == "ping"]
    pongs = [f for f in frames(first, "s2c") if opcode(f) == "pong"]
    assert len(pings) == 3 and len(pongs) == 2
    err = of(first, "error")[0]
    assert err.direction == "client" and err.raw("error.rule") == "ws.pong_timeout"
    assert err.raw("error.action") == "drop_reconnect"
    assert err.time - pings[-1].time >= 2.0  # the pong timeout, on the session clock
    assert pings[1].time - pings[0].time >= 1.0  # the interval
    assert of(first, "tcp.close")[0].raw("tcp.how") == "abort"
    connect = second[0]
    assert connect.kind == "tcp.connect"
    assert connect.raw("tcp.connection") == 2 and connect.raw("tcp.backoff") == 0.5
    assert connect.time - of(first, "tcp.close")[0].time >= 0.5
    assert scenarios.close_codes(second) == [1000, 1000]


def _failed(st, code: int, frame_status: str = "error"):
    bad = frames(st, "c2s")[0]
    assert bad.status == frame_status
    i = st.index(bad)
    err = st[i + 1]
    assert err.kind == "error" and err.direction == "server"
    assert err.raw("error.by") == "server" and err.raw("error.broken_by") == "client"
    assert err.raw("error.action") == "close_code"
    assert str(code) in explain.value(err.find("error.action"), "en")  # the learner is told the code
    if frame_status == "error":  # the rule the server acts on is the one the frame breaks
        assert [err.raw("error.rule")] == rules(bad, "ws.frame.problem")
    close = st[i + 2]
    assert close.kind == "ws.frame" and close.direction == "s2c" and opcode(close) == "close"
    assert close.raw("ws.frame.close_code") == code
    return bad


def check_unmasked_client_frame(st):
    bad = _failed(st, 1002)
    assert bad.raw("ws.frame.mask") is False and bad.data[1] & 0x80 == 0
    assert rules(bad, "ws.frame.problem") == ["ws.client_unmasked"]


def check_invalid_utf8(st):
    bad = _failed(st, 1007)
    assert payload(bad) == "café".encode("latin-1")
    assert rules(bad, "ws.frame.problem") == ["ws.text_utf8"]
    assert bad.find("ws.frame.unmasked_payload").value.key == "value.not_utf8"  # shown as hex, not text


def check_reserved_bits(st):
    bad = _failed(st, 1002)
    assert bad.raw("ws.frame.rsv2") is True and bad.data[0] & 0x20
    assert rules(bad, "ws.frame.problem") == ["ws.rsv_unnegotiated"]


def check_oversized_control_frame(st):
    bad = _failed(st, 1002)
    assert opcode(bad) == "ping" and bad.raw("ws.frame.payload_length") == 200
    assert bad.data[1] & 0x7F == 126  # the 16-bit form
    assert rules(bad, "ws.frame.problem") == ["ws.control_too_big"]


def check_message_too_big(st):
    big = _failed(st, 1009, frame_status="ok")  # a valid frame; the server's limit says no
    assert len(payload(big)) == 4096
    err = st[st.index(big) + 1]
    assert err.raw("error.rule") == "ws.frame_too_big"
    assert err.find("error.rule").value == Msg("rule.ws.frame_too_big", size=4096, limit=1024)


def check_close_codes(st):
    close = frames(st, "c2s")[-1]
    assert close.raw("ws.frame.close_code") == 4000  # private use
    assert close.raw("ws.frame.close_reason") == "done for today"
    assert not [f for f in frames(st, "s2c") if opcode(f) == "close"]
    drop = of(st, "tcp.close")[0]
    assert drop.direction == "s2c" and drop.raw("tcp.how") == "reset" and drop.status == "warning"
    assert "tls.alert" not in kinds(st)  # no close_notify: the connection just vanished
    assert st[-1].kind == "error" and st[-1].raw("error.rule") == "ws.ended_without_close"
    assert st[-1].raw("error.action") == "report_1006"


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
    assert [plain.to_json(s, "en") for s in replayed] == [plain.to_json(s, "en") for s in steps]
    assert [s.facts for s in replayed] == [s.facts for s in steps]


def test_cli_run_record_then_replay_prints_the_same(tmp_path, capsys):
    from wssviz.cli import main

    rec = tmp_path / "r.json"
    # a session with error steps exits 1, live and replayed alike; a clean one 0
    assert main(["run", "unmasked-client-frame", "--json", "--record", str(rec)]) == 1
    live = capsys.readouterr().out
    assert main(["replay", str(rec), "--json"]) == 1
    assert capsys.readouterr().out == live
    assert any(json.loads(line)["kind"] == "ws.frame" and json.loads(line)["status"] == "error"
               for line in live.splitlines())
    assert main(["run", "seed-example", "--json"]) == 0


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
    # what only OpenSSL or cryptography would refuse is refused here, with its line
    (HEAD + '[tls]\nsuites = "TLS_NO_SUCH_SUITE"\n' + EXPECT, "[tls] suites: OpenSSL refuses", "line 5"),
    (HEAD + '[tls]\nciphers = "NO-SUCH-CIPHER"\n' + EXPECT, "[tls] ciphers: OpenSSL refuses", "line 5"),
    (HEAD + '[tls]\nclient_groups = "x25519:nosuchgroup"\n' + EXPECT, "[tls] client_groups: OpenSSL refuses",
     "line 5"),
    (HEAD + '[certificate]\nvalid_days = [-100000000, 100000000]\n' + EXPECT,
     "[certificate] valid_days: must be within 100 years", "line 5"),
    (HEAD + '[certificate]\nhosts = [""]\n' + EXPECT, "[certificate] hosts: must be a host name", "line 5"),
    (HEAD + '[certificate]\nhosts = ["' + "a" * 64 + '.example"]\n' + EXPECT, "is not a host name", "line 5"),
    (HEAD + 'url = "wss://' + "a." * 130 + 'b/"\n' + EXPECT, "url: ", "line 4"),
    (HEAD + '[server.deflate]\nserver_max_window_bits = 99\n' + EXPECT,
     "[server] deflate: server_max_window_bits must be 8 to 15", "line 4"),  # the [server.deflate] table
    (HEAD + '[client]\ncookie = "a=1\\r\\nX-Evil: 1"\n' + EXPECT, "[client] cookie: must not contain control",
     "line 5"),
    (HEAD + '[client]\norigin = "https://a\\nb"\n' + EXPECT, "[client] origin: must not contain control",
     "line 5"),
    (HEAD + '[client]\nprotocols = ["chat room"]\n' + EXPECT, "[client] protocols: 'chat room' is not a token",
     "line 5"),
    (HEAD + '[faults.server]\naccept = "x\\r\\ny"\n' + EXPECT, "[faults.server] accept: must not contain",
     "line 5"),
    (HEAD + '\n[[messages]]\nkind = "text"\ndata = "日本"\nfault = "latin1"\n' + EXPECT,
     "messages[0] data: character 0 cannot be written in ISO-8859-1", "line 7"),
    (HEAD + '\n[[messages]]\nkind = "close"\ncode = 1005\n' + EXPECT, "messages[0] code: 1005 may not be sent",
     "line 7"),
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
