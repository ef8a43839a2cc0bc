"""The sans-I/O WebSocket connection: bytes and calls in, events and bytes out.

Playbook style (events in, actions out), with the frames of RFC 6455 §5.7 and
RFC 7692 §7.2.3, and against the `websockets` library's own sans-I/O protocol for
fragmented, compressed messages with and without context takeover.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wssviz.core.connection import (Closed, CloseReceived, Connection, Failed, InvalidState,
                                    MessageReceived, PingReceived, PongReceived, State)
from wssviz.core.deflate import DeflateParams
from wssviz.core.frames import Frame, FrameReader, Opcode, parse_frame, serialize

MASK = bytes.fromhex("37fa213d")
h = bytes.fromhex


def fixed_mask() -> bytes:
    return MASK


def play(conn: Connection, *pieces: bytes) -> tuple[list, bytes]:
    for p in pieces:
        conn.receive_data(p)
    return conn.events(), conn.data_to_send()


# --- RFC 6455 §5.7 -----------------------------------------------------------------------------


def test_rfc_single_unmasked_text_to_a_client():
    events, out = play(Connection("client"), h("810548656c6c6f"))
    assert [type(e) for e in events] == [MessageReceived] and out == b""
    m = events[0].message
    assert (m.opcode, m.text, m.frames) == (Opcode.TEXT, "Hello", 1)


def test_rfc_masked_text_to_a_server():
    events, _ = play(Connection("server"), h("818537fa213d7f9f4d5158"))
    assert events[0].message.text == "Hello"


def test_rfc_fragmented_text_byte_by_byte():
    data = h("010348656c") + h("80026c6f")
    conn = Connection("client")
    events = []
    for b in data:
        conn.receive_data(bytes([b]))
        events += conn.events()
    assert [e.message.text for e in events] == ["Hello"] and events[0].message.frames == 2


def test_rfc_ping_is_answered_with_its_payload():
    events, out = play(Connection("server"), h("898537fa213d7f9f4d5158"))  # masked ping "Hello"
    assert events == [PingReceived(b"Hello")]
    assert out == h("8a0548656c6c6f")  # the unmasked pong of §5.7
    client = Connection("client", mask_key=fixed_mask)
    assert play(client, h("890548656c6c6f")) == ([PingReceived(b"Hello")], h("8a8537fa213d7f9f4d5158"))


def test_a_pong_is_reported_and_not_answered():
    assert play(Connection("client"), h("8a0548656c6c6f")) == ([PongReceived(b"Hello")], b"")


def test_client_frames_are_masked_server_frames_are_not():
    client = Connection("client", mask_key=fixed_mask)
    client.send_text("Hello")
    assert client.data_to_send() == h("818537fa213d7f9f4d5158")
    server = Connection("server")
    server.send_text("Hello")
    assert server.data_to_send() == h("810548656c6c6f")


# --- the closing handshake ----------------------------------------------------------------------


def test_server_answers_a_close_echoing_its_code_and_expects_to_close_tcp():
    server = Connection("server")
    close = serialize(Frame(Opcode.CLOSE, (1000).to_bytes(2, "big") + b"bye", mask_key=MASK))
    events, out = play(server, close)
    assert events == [CloseReceived(1000, "bye")] and server.state == State.CLOSING
    assert out == h("880203e8")  # 1000, no reason
    assert server.close_handshake_done and server.tcp_close_expected
    server.receive_eof()
    assert server.events() == [Closed(1000, "bye", True)] and server.state == State.CLOSED


def test_client_starts_the_close_and_waits_for_the_server_to_close_tcp():
    client = Connection("client", mask_key=fixed_mask)
    client.send_close(1001, "going")
    assert client.state == State.CLOSING and not client.tcp_close_expected
    with pytest.raises(InvalidState):
        client.send_text("late")
    with pytest.raises(InvalidState):
        client.send_close()
    events, _ = play(client, h("880203e9"))
    assert events == [CloseReceived(1001, "")] and client.data_to_send() == b""  # no second Close
    assert client.close_handshake_done


def test_a_close_without_a_code_and_eof_without_close():
    c = Connection("client", mask_key=fixed_mask)
    assert play(c, h("8800")) == ([CloseReceived(None, "")], h("8880") + MASK)  # answered, no code
    c.receive_eof()
    assert c.events() == [Closed(1005, "", True)]
    d = Connection("client")
    d.receive_eof()
    assert d.events() == [Closed(1006, "", False)] and d.state == State.CLOSED


def test_bytes_after_a_close_are_counted_and_dropped():
    c = Connection("client")
    events, _ = play(c, h("880203e8") + h("810548656c6c6f"))
    assert events == [CloseReceived(1000, "")] and c.bytes_received == 11


# --- failing the connection (§7.1.7) ---------------------------------------------------------------


@pytest.mark.parametrize("side, data, rule, code", [
    ("server", h("810548656c6c6f"), "ws.client_unmasked", 1002),
    ("client", h("818537fa213d7f9f4d5158"), "ws.server_masked", 1002),
    ("client", h("c10548656c6c6f"), "ws.rsv_unnegotiated", 1002),
    ("client", h("830548656c6c6f"), "ws.reserved_opcode", 1002),
    ("client", h("097e" + "007e") + bytes(126), "ws.control_too_big", 1002),
    ("client", h("0905") + b"Hello", "ws.control_fragmented", 1002),
    ("client", h("800548656c6c6f"), "ws.orphan_continuation", 1002),
    ("client", h("0103486565") + h("8103486565"), "ws.interleaved", 1002),
    ("client", h("8102c328"), "ws.text_utf8", 1007),
    ("client", h("8801") + b"\x03", "ws.close_one_byte", 1002),
    ("client", h("880203ee"), "ws.close_code_unsendable", 1002),
])
def test_a_broken_rule_fails_the_connection_with_its_close_code(side, data, rule, code):
    conn = Connection(side, mask_key=fixed_mask)
    events, out = play(conn, data, h("810548656c6c6f"))  # and what follows is not read
    assert [type(e) for e in events] == [Failed] and events[0].error.code == rule
    sent = parse_frame(out)[0]
    assert sent.opcode == Opcode.CLOSE and int.from_bytes(sent.payload[:2], "big") == code
    assert conn.state == State.CLOSING and conn.failed is not None


def test_a_frame_over_the_limit_is_refused_from_its_header():
    conn = Connection("client", max_size=1000)
    events, out = play(conn, h("827f") + (10**9).to_bytes(8, "big"))  # no payload sent at all
    assert events[0].error.code == "ws.frame_too_big" and events[0].error.close_code == 1009
    assert events[0].error.offset == 2  # where the length is
    assert parse_frame(out)[0].payload[:2] == (1009).to_bytes(2, "big")


def test_a_fragmented_message_over_the_limit():
    conn = Connection("client", max_size=10)
    events, _ = play(conn, h("0206") + bytes(6), h("8006") + bytes(6))
    assert events[0].error.code == "ws.message_too_big"


def test_utf8_split_across_fragments_is_fine_and_checked_at_the_first_bad_byte():
    euro = "€".encode()  # e2 82 ac
    conn = Connection("client")
    events, _ = play(conn, bytes([0x01, 1]) + euro[:1], bytes([0x80, 2]) + euro[1:])
    assert events[0].message.text == "€"
    conn = Connection("client")
    events, _ = play(conn, bytes([0x01, 2]) + b"ok", bytes([0x80, 2]) + b"\xe2\x28")
    assert events[0].error.code == "ws.text_utf8" and events[0].error.offset == 2


def test_control_frames_between_fragments_come_at_once():
    conn = Connection("client")
    events, out = play(conn, h("010348656c"), h("8900"), h("80026c6f"))
    assert [type(e) for e in events] == [PingReceived, MessageReceived]
    assert out[:2] == h("8a80") and len(out) == 6  # the masked, empty pong


def test_sending_fragments_in_order_and_states():
    conn = Connection("client", mask_key=fixed_mask)
    conn.send_text("Hel", fin=False)
    with pytest.raises(InvalidState):
        conn.send_text("x")
    conn.send_continuation(b"lo", True)
    with pytest.raises(InvalidState):
        conn.send_continuation(b"!", True)
    server = Connection("server")
    events, _ = play(server, conn.data_to_send())
    assert events[0].message.text == "Hello" and events[0].message.frames == 2


def test_a_large_frame_is_read_as_it_arrives_and_kept_only_in_part():
    payload = random.Random(1).randbytes(1 << 20)
    data = serialize(Frame(Opcode.BINARY, payload, mask_key=MASK))
    conn = Connection("server", keep=100)
    for i in range(0, len(data), 1000):
        conn.receive_data(data[i:i + 1000])
    (event,) = conn.events()
    assert event.message.size == 1 << 20 and event.message.data == payload[:100]
    whole = Connection("server")
    whole.receive_data(data)
    assert whole.events()[0].message.data == payload


def test_many_one_byte_fragments_in_one_burst():
    n = 20_000
    data = bytearray(h("0101") + b"a")
    data += (h("0001") + b"a") * (n - 2)
    data += h("8001") + b"a"
    conn = Connection("client")
    conn.receive_data(bytes(data))
    (event,) = conn.events()
    assert event.message.frames == n and event.message.text == "a" * n


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["text", "binary", "ping"]), st.binary(max_size=300),
                          st.integers(1, 4)), min_size=1, max_size=6),
       st.lists(st.integers(1, 50), min_size=1, max_size=20))
def test_any_split_of_the_bytes_gives_the_same_events(messages, cuts):
    sender = Connection("client", mask_key=fixed_mask)
    for kind, data, parts in messages:
        if kind == "ping":
            sender.send_ping(data[:125])
            continue
        if kind == "text":
            data = data.decode("latin-1").encode("utf-8")
        step = max(1, len(data) // parts)
        pieces = [data[i:i + step] for i in range(0, len(data), step)] or [b""]
        send = sender.send_text if kind == "text" else sender.send_binary
        send(pieces[0], fin=len(pieces) == 1)
        for j, p in enumerate(pieces[1:], 1):
            sender.send_continuation(p, j == len(pieces) - 1)
    wire = sender.data_to_send()
    whole = Connection("server")
    whole.receive_data(wire)
    split = Connection("server")
    i, k = 0, 0
    while i < len(wire):
        n = cuts[k % len(cuts)]
        split.receive_data(wire[i:i + n])
        i, k = i + n, k + 1
    assert whole.events() == split.events()
    assert whole.data_to_send() == split.data_to_send()


def test_the_frame_reader_reports_stream_offsets():
    r = FrameReader(whole=8)
    r.feed(h("810548656c6c6f") + h("827e0100"))
    first = r.next()
    assert first.layout.start == 0 and first.last and first.frame.payload == b"Hello"
    start = r.next()  # a 260-byte frame, more than ``whole``: read as it comes
    assert start.layout.start == 7 and start.layout.payload_span == (11, 267) and not start.last
    r.feed(bytes(256))
    rest = r.next()
    assert rest.at == 0 and rest.last and len(rest.frame.payload) == 256 and r.offset == 267


# --- permessage-deflate, against the websockets library ------------------------------------------

websockets = pytest.importorskip("websockets")
from websockets.extensions.permessage_deflate import PerMessageDeflate  # noqa: E402
from websockets.frames import Opcode as WOpcode  # noqa: E402
from websockets.protocol import Protocol, Side  # noqa: E402


def their(side: str, params: DeflateParams) -> Protocol:
    """The websockets library's endpoint with the same negotiated parameters."""
    p = Protocol(Side.CLIENT if side == "client" else Side.SERVER, max_size=None)
    local, remote = ("client", "server") if side == "client" else ("server", "client")
    p.extensions = [PerMessageDeflate(
        getattr(params, f"{remote}_no_context_takeover"), getattr(params, f"{local}_no_context_takeover"),
        getattr(params, f"{remote}_max_window_bits") or 15, getattr(params, f"{local}_max_window_bits") or 15)]
    return p


PARAMS = [DeflateParams(), DeflateParams(client_no_context_takeover=True, server_no_context_takeover=True),
          DeflateParams(server_max_window_bits=10, client_max_window_bits=12)]
TEXT = ["first part, " * 20, "second part, " * 20, "third part"]


@pytest.mark.parametrize("params", PARAMS, ids=["takeover", "no-takeover", "small-windows"])
def test_our_fragmented_compressed_messages_read_by_websockets(params):
    ours = Connection("client", deflate=params)
    for _ in range(2):  # the second message refers back into the first (context takeover)
        ours.send_text(TEXT[0], fin=False)
        ours.send_continuation(TEXT[1].encode(), False)
        ours.send_continuation(TEXT[2].encode(), True)
        ours.send_binary(b"\x00\x01" * 200)
    frames = [parse_frame(o.data)[0] for o in ours.frames_to_send()]
    assert [f.rsv1 for f in frames[:4]] == [True, False, False, True]  # RSV1 on the first fragment only
    them = their("server", params)
    for f in frames:
        them.receive_data(serialize(f))
    got = [f for f in them.events_received()]
    texts = [f.data for f in got if f.opcode in (WOpcode.TEXT, WOpcode.CONT)]
    assert b"".join(texts) == "".join(TEXT).encode() * 2
    assert [bytes(f.data) for f in got if f.opcode == WOpcode.BINARY] == [b"\x00\x01" * 200] * 2


@pytest.mark.parametrize("params", PARAMS, ids=["takeover", "no-takeover", "small-windows"])
def test_websockets_fragmented_compressed_messages_read_by_us(params):
    them = their("server", params)
    for _ in range(3):
        them.send_text(TEXT[0].encode(), fin=False)
        them.send_continuation(TEXT[1].encode(), fin=False)
        them.send_continuation(TEXT[2].encode(), fin=True)
        them.send_text("after".encode())
    wire = b"".join(them.data_to_send())
    ours = Connection("client", deflate=params)
    for i in range(0, len(wire), 7):  # in small pieces, so fragments inflate as they come
        ours.receive_data(wire[i:i + 7])
    events = ours.events()
    assert [e.message.text for e in events] == ["".join(TEXT), "after"] * 3
    assert all(e.message.compressed for e in events) and events[0].message.frames == 3


def test_events_one_at_a_time_let_a_driver_answer_before_what_follows():
    """An echo server answers a message before the bad frame right behind it in the
    same read ends the exchange (its Close goes out after the echo)."""
    server = Connection("server")
    server.receive_data(serialize(Frame(Opcode.TEXT, b"first", mask_key=MASK))
                        + serialize(Frame(Opcode.TEXT, b"unmasked")))
    event = server.next_event()
    assert isinstance(event, MessageReceived) and server.state == State.OPEN
    server.send_text(event.message.data)
    assert isinstance(server.next_event(), Failed) and server.next_event() is None
    sent = [parse_frame(o.data)[0] for o in server.frames_to_send()]
    assert [(f.opcode, f.payload[:2]) for f in sent] == [(Opcode.TEXT, b"fi"), (Opcode.CLOSE, h("03ea"))]


def test_a_frame_that_has_not_fully_arrived_is_checked_as_far_as_it_has():
    """RFC 6455 §8.1: invalid UTF-8 fails the connection as soon as it arrives, not
    when its frame is complete (Autobahn 6.4.3)."""
    conn = Connection("client")
    conn.receive_data(h("817e") + (1000).to_bytes(2, "big") + b"ok \xff")  # 1000 announced, 4 here
    (event,) = conn.events()
    assert isinstance(event, Failed) and event.error.code == "ws.text_utf8" and event.error.close_code == 1007
