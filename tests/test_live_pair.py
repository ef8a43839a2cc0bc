"""Integration tests of the live pair: the default session as a timeline."""

from __future__ import annotations

import base64

import pytest

from wssviz import explain
from wssviz.core import frames as wf
from wssviz.core import tls_records as tr
from wssviz.live.pair import LiveSession
from wssviz.live.settings import Settings
from wssviz.steps import Step

TLS13_TIMELINE = [
    ("tcp.connect", "c2s"),
    ("tls.client_hello", "c2s"),
    ("tls.server_hello", "s2c"),
    ("tls.keys", "client"),
    ("tls.change_cipher_spec", "s2c"),
    ("tls.encrypted_extensions", "s2c"),
    ("tls.certificate", "s2c"),
    ("tls.certificate_verify", "s2c"),
    ("tls.finished", "s2c"),
    ("tls.cert_check", "client"),
    ("tls.keys", "client"),
    ("tls.change_cipher_spec", "c2s"),
    ("tls.finished", "c2s"),
    ("tls.new_session_ticket", "s2c"),
    ("tls.new_session_ticket", "s2c"),
    ("http.upgrade_request", "c2s"),
    ("ws.accept", "server"),
    ("http.upgrade_response", "s2c"),
    ("ws.accept_check", "client"),
    ("ws.frame", "c2s"),
    ("ws.frame", "s2c"),
    ("ws.frame", "c2s"),
    ("ws.frame", "s2c"),
    ("ws.frame", "c2s"),
    ("ws.frame", "s2c"),
    ("tls.alert", "s2c"),
    ("tls.alert", "c2s"),
    ("tcp.close", "s2c"),
]

TLS12_TIMELINE = [
    ("tcp.connect", "c2s"),
    ("tls.client_hello", "c2s"),
    ("tls.server_hello", "s2c"),
    ("tls.certificate", "s2c"),
    ("tls.server_key_exchange", "s2c"),
    ("tls.server_hello_done", "s2c"),
    ("tls.cert_check", "client"),
    ("tls.client_key_exchange", "c2s"),
    ("tls.keys", "client"),
    ("tls.change_cipher_spec", "c2s"),
    ("tls.finished", "c2s"),
    ("tls.new_session_ticket", "s2c"),
    ("tls.change_cipher_spec", "s2c"),
    ("tls.finished", "s2c"),
] + TLS13_TIMELINE[15:]


@pytest.fixture(scope="module")
def tls13() -> list[Step]:
    return LiveSession(Settings()).run_all()


@pytest.fixture(scope="module")
def tls12() -> list[Step]:
    return LiveSession(Settings(tls_version="1.2")).run_all()


def timeline(steps: list[Step]) -> list[tuple[str, str]]:
    return [(s.kind, s.direction) for s in steps]


def test_tls13_timeline(tls13):
    assert timeline(tls13) == TLS13_TIMELINE
    assert [s.index for s in tls13] == list(range(len(tls13)))
    assert all(s.status == "ok" for s in tls13), [(s.kind, explain.summary(s, "en")) for s in tls13
                                                  if s.status != "ok"]


def test_tls12_timeline(tls12):
    assert timeline(tls12) == TLS12_TIMELINE
    assert all(s.status == "ok" for s in tls12), [(s.kind, explain.summary(s, "en")) for s in tls12
                                                  if s.status != "ok"]


def test_times_never_go_backwards(tls13):
    times = [s.time for s in tls13]
    assert times == sorted(times)
    assert times[0] == 0.0


@pytest.mark.parametrize("fixture", ["tls13", "tls12"])
def test_tls_steps_carry_records_and_messages(fixture, request):
    steps = request.getfixturevalue(fixture)
    for s in steps:
        if s.layer != "tls" or s.local:
            continue
        records, tail = tr.split_records(s.wire)
        assert records and tail == len(s.wire), s.kind
        if s.kind.startswith("tls.") and s.kind not in ("tls.alert", "tls.change_cipher_spec"):
            # data is the handshake message: type, 3-byte length, body
            assert int.from_bytes(s.data[1:4], "big") == len(s.data) - 4
        for f in s.fields:
            for sub in f.walk():
                if sub.of == "wire":
                    assert sub.end <= len(s.wire)
                elif sub.of == "data":
                    assert sub.end <= len(s.data)


def test_encrypted_steps_differ_from_their_wire(tls13):
    by_kind = {s.kind: s for s in tls13}
    ch = by_kind["tls.client_hello"]
    assert ch.data in ch.wire  # sent in the clear
    ee = by_kind["tls.encrypted_extensions"]
    assert ee.data not in ee.wire and ee.wire[0] == 23  # application_data record outside
    san = by_kind["tls.certificate"].find("x509.san")
    assert san is not None and "server.example.com" in san.raw
    entries = [c for c in san.children if not c.id.startswith("x509.der.")]
    assert entries[0].id == "x509.san.dns" and entries[0].raw == "server.example.com"


def test_textbook_upgrade(tls13):
    by_kind = {s.kind: s for s in tls13}
    req = by_kind["http.upgrade_request"].data.decode()
    assert req.startswith("GET /chat HTTP/1.1\r\nHost: server.example.com\r\n")
    assert "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" in req
    assert "Origin: https://example.com\r\n" in req
    assert "Sec-WebSocket-Protocol: chat, superchat\r\n" in req
    resp = by_kind["http.upgrade_response"].data.decode()
    assert resp.startswith("HTTP/1.1 101 Switching Protocols\r\n")
    assert "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in resp
    assert "Sec-WebSocket-Protocol: chat\r\n" in resp
    accept = by_kind["ws.accept"]
    assert accept.raw("ws.accept.accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert accept.raw("ws.accept.decoded_key") == base64.b64decode("dGhlIHNhbXBsZSBub25jZQ==")
    assert by_kind["ws.accept_check"].raw("ws.accept_check.verdict") is True
    # the request's wire is the TLS record that carried it, not the text
    assert by_kind["http.upgrade_request"].wire[0] == 23


def test_masked_hello_frame(tls13):
    frames = [s for s in tls13 if s.kind == "ws.frame"]
    hello = frames[0]
    assert hello.data == bytes.fromhex("818537fa213d7f9f4d5158")  # RFC 6455 §5.7
    key = hello.raw("ws.frame.masking_key")
    assert key == bytes.fromhex("37fa213d")
    payload_field = hello.find("ws.frame.payload")
    masked = hello.span_bytes(payload_field)
    assert wf.apply_mask(masked, key) == b"Hello"
    # what the learner reads: the payload in the clear
    assert explain.value(hello.find("ws.frame.unmasked_payload"), "en") == '"Hello"'
    lane = hello.find("ws.frame.xor_lane")
    assert len(lane.children) == 5 and all(c.id == "ws.frame.xor_lane.byte" for c in lane.children)
    assert lane.children[0].raw == [0x37, 0x48, 0x7F]  # key byte ⊕ 'H' = masked byte
    assert explain.value(lane.children[0], "en").startswith("0x37 ⊕ 0x48 'H' = 0x7f")
    reply = frames[1]
    assert reply.data == bytes.fromhex("810548656c6c6f") and reply.raw("ws.frame.mask") is False
    opcodes = [s.raw("ws.frame.opcode") for s in frames]
    assert opcodes == [0x1, 0x1, 0x9, 0xA, 0x8, 0x8]
    assert frames[4].raw("ws.frame.close_code") == 1000


def test_close_notify_both_ways(tls13):
    alerts = [s for s in tls13 if s.kind == "tls.alert"]
    assert [a.direction for a in alerts] == ["s2c", "c2s"]
    assert all(a.raw("tls.alert.description") == 0 for a in alerts)  # close_notify
    assert all(a.data == b"\x01\x00" for a in alerts)


def test_cert_check_agrees_with_openssl(tls13):
    check = next(s for s in tls13 if s.kind == "tls.cert_check")
    assert check.raw("tls.cert_check.verdict") == "ok"
    assert check.raw("tls.cert_check.openssl") is True
    for name in ("chain", "host_name", "validity", "proof_of_key"):
        found = check.all(f"tls.cert_check.{name}")
        assert found and all(f.raw is True for f in found), name


def test_keys_steps_show_secrets_and_keys(tls13):
    hs_keys, app_keys = [s for s in tls13 if s.kind == "tls.keys"]
    assert hs_keys.raw("tls.keys.phase") == "handshake" and app_keys.raw("tls.keys.phase") == "application"
    # each secret is labelled with its key log label
    assert "SERVER_HANDSHAKE_TRAFFIC_SECRET" in [explain.label(f, "en") for f in hs_keys.all("tls.keys.secret")]
    assert "CLIENT_TRAFFIC_SECRET_0" in [explain.label(f, "en") for f in app_keys.all("tls.keys.secret")]
    assert all(isinstance(f.raw, bytes) and f.raw for f in hs_keys.all("tls.keys.secret"))
    assert hs_keys.find("tls.keys.server_handshake_key").of == "none"


def test_lazy_driving_sends_nothing_ahead():
    session = LiveSession(Settings())
    assert session.ensure(0) >= 1
    assert len(session.capture.chunks) == 0  # only TCP is up: no byte has crossed yet
    session.ensure(1)  # the ClientHello
    assert [c.direction for c in session.capture.chunks] == ["c2s"]
    n = session.ensure(2)
    assert n < 6 and len(session.capture.chunks) == 2  # the ServerHello record, not the whole flight
    session.run_all()
    assert session.finished
    session.restart()
    assert session.steps == [] and not session.finished
    assert session.ensure(0) == 1


def test_session_ends_with_tcp_close():
    steps = LiveSession(Settings()).run_all()
    assert steps[-1].kind == "tcp.close"


def test_step_times_leave_out_the_learners_reading_time():
    import time

    session = LiveSession(Settings())
    for i in range(4):
        session.ensure(i)
        time.sleep(0.3)  # the learner reads
    steps = session.run_all()
    assert steps[-1].time < 0.9  # 1.2 s of reading is not protocol time
