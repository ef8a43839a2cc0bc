"""The fault hooks of the live pair, one at a time, from Settings (no scenario files).

Each hook changes one thing a side does; the dissector, which knows nothing of
hooks, must report what that put on the wire.
"""

from __future__ import annotations

import pytest

from wssviz import explain
from wssviz.core import frames as wf
from wssviz.live.pair import LiveSession
from wssviz.live.settings import CONNECTION_FAULTS, FRAME_FAULTS, Message, Settings
from wssviz.live.transport import Wire, peer_saw_reset, reset


def run(**kw):
    return LiveSession(Settings(**kw)).run_all()


def ws_frames(steps, direction=None):
    return [s for s in steps if s.kind == "ws.frame" and (direction is None or s.direction == direction)]


def hello_then_close(fault=None, **kw):
    return [Message("text", "Hello", fault=fault, **kw), Message("close", "", code=1000)]


def test_every_hook_is_documented_in_the_scenarios_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "scenarios" / "README.md").read_text(encoding="utf-8")
    for name in list(CONNECTION_FAULTS) + list(FRAME_FAULTS):
        assert f"`{name.split('.')[-1]}`" in readme, name


def test_unknown_connection_hook_is_refused():
    with pytest.raises(KeyError):
        Settings().fault("server.explode")


def test_client_only_sends_rule_breaking_frames_through_a_hook():
    assert Message("text", "Hello").problems() == []
    assert Message("text", "Hello", fault="unmasked").problems()[0].startswith("a client must mask")
    assert "125 bytes" in Message("ping", "x", size=126).problems()[0]
    assert Message("text", "café", fault="latin1").payload() == b"caf\xe9"
    assert Message("binary", hex="0102", size=5).payload() == b"\x01\x02\x01\x02\x01"


def test_server_accept_hook_changes_only_the_accept():
    steps = run(faults={"server.accept": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="}, messages=hello_then_close())
    check = next(s for s in steps if s.kind == "ws.accept_check")
    assert check.status == "error" and check.raw("ws.accept_check.received") == "AAAAAAAAAAAAAAAAAAAAAAAAAAA="
    assert check.raw("ws.accept_check.verdict") is False
    assert check.raw("ws.accept_check.expected") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert next(s for s in steps if s.kind == "ws.accept").raw("ws.accept.accept") == \
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert not ws_frames(steps)


@pytest.mark.parametrize("faults, status", [
    ({"client.ws_version": "7"}, 426),
    ({"client.omit_header": "Connection"}, 400),
    ({"client.omit_header": "Sec-WebSocket-Key"}, 400),
])
def test_client_request_hooks_get_refused(faults, status):
    steps = run(scheme="ws", faults=faults, messages=hello_then_close())
    resp = next(s for s in steps if s.kind == "http.upgrade_response")
    assert resp.raw("http.status_code") == status and not ws_frames(steps)
    assert steps[-1].kind == "tcp.close" and steps[-1].direction == "s2c"


@pytest.mark.parametrize("fault, code, field, value, rule", [
    ("unmasked", 1002, "ws.frame.mask", False, "ws.client_unmasked"),
    ("rsv1", 1002, "ws.frame.rsv1", True, "ws.rsv_unnegotiated"),
    ("rsv3", 1002, "ws.frame.rsv3", True, "ws.rsv_unnegotiated"),
    ("latin1", 1007, "ws.frame.opcode", 0x1, "ws.text_utf8"),
])
def test_frame_hooks_over_plain_ws(fault, code, field, value, rule):
    data = "naïve" if fault == "latin1" else "Hello"
    steps = run(scheme="ws", messages=[Message("text", data, fault=fault), Message("close", code=1000)])
    sent = ws_frames(steps, "c2s")[0]
    assert sent.status == "error" and sent.raw(field) == value
    assert [f.raw for f in sent.all("ws.frame.problem")] == [rule]
    assert not sent.has("ws.frame.inflated")  # RSV1 without permessage-deflate means nothing
    close = ws_frames(steps, "s2c")[0]
    code_seen, _ = wf.parse_close(close.data[2:])
    assert code_seen == code
    # the client answers the server's close, echoing its code
    assert wf.parse_close(wf.apply_mask(ws_frames(steps, "c2s")[1].data[6:],
                                        ws_frames(steps, "c2s")[1].data[2:6]))[0] == code


def test_server_limit_and_inflate_limit_share_max_message():
    steps = run(scheme="ws", max_message=100, extensions="permessage-deflate", deflate={},
                messages=[Message("text", "a", size=5000), Message("close", code=1000)])
    sent = ws_frames(steps, "c2s")[0]
    assert sent.raw("ws.frame.rsv1") is True and sent.facts["compressed"] is True
    assert sent.raw("ws.frame.inflated") == 5000 and len(sent.data) < 100  # tiny on the wire
    err = next(s for s in steps if s.kind == "error")
    assert err.direction == "server" and err.raw("error.rule") == "ws.inflated_too_big"
    assert err.find("error.rule").value.params["limit"] == 100
    assert ws_frames(steps, "s2c")[0].raw("ws.frame.close_code") == 1009


def test_ignore_pings_only_on_the_first_connection_then_reconnect():
    steps = run(scheme="ws", ping_interval=0.25, pong_timeout=0.5, pings=2, reconnect_backoff=[0.1],
                faults={"server.ignore_pings": 0}, messages=hello_then_close())
    connects = [s for s in steps if s.kind == "tcp.connect"]
    assert len(connects) == 2
    cut = steps.index(connects[1])
    first, second = steps[:cut], steps[cut:]
    assert [s.raw("ws.frame.opcode") for s in ws_frames(first)][-1] == 0x9  # a ping, never answered
    assert sum(1 for s in ws_frames(second, "s2c") if s.raw("ws.frame.opcode") == 0xA) == 2  # pongs
    assert second[-1].kind == "tcp.close" and second[-1].raw("tcp.how") == "fin"


def test_drop_on_close_resets_tcp_and_client_reports_1006():
    steps = run(faults={"server.drop_on_close": True}, messages=hello_then_close())
    assert [s.kind for s in steps[-3:]] == ["ws.frame", "tcp.close", "error"]
    assert steps[-2].raw("tcp.how") == "reset"
    err = steps[-1]
    assert err.raw("error.rule") == "ws.ended_without_close" and err.raw("error.action") == "report_1006"
    assert err.raw("error.by") == "client"
    # what the learner reads names both the reset and the code
    text = explain.summary(err, "en")
    assert "TCP reset" in text and "1006" in text


def test_reset_is_seen_as_reset_by_the_peer():
    wire = Wire()
    reset(wire, "server")
    try:
        assert peer_saw_reset(wire, "client") == "reset"
    finally:
        wire.client.close()


def test_tls13_suite_and_groups_reach_the_wire():
    steps = run(tls13_suites="TLS_CHACHA20_POLY1305_SHA256", client_groups="P-384",
                server_groups="P-384", messages=hello_then_close())
    sh = next(s for s in steps if s.kind == "tls.server_hello")
    assert sh.raw("tls.server_hello.cipher_suite") == 0x1303  # TLS_CHACHA20_POLY1305_SHA256
    assert sh.raw("tls.ext.key_share.group") == 0x0018  # secp384r1
    echo = ws_frames(steps, "s2c")[0]
    assert echo.span_bytes(echo.find("ws.frame.payload")) == b"Hello"  # decrypted with ChaCha20


def test_tls12_resumption_also_skips_the_certificate():
    steps = run(tls_version="1.2", resume=True, messages=hello_then_close())
    cut = [i for i, s in enumerate(steps) if s.kind == "tcp.connect"][1]
    first, second = [s.kind for s in steps[:cut]], [s.kind for s in steps[cut:]]
    assert "tls.certificate" in first and "tls.certificate" not in second
    assert "tls.server_key_exchange" not in second and "ws.frame" in second
    assert "tls.keys" in second and not any(s.status == "error" for s in steps)
