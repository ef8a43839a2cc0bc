"""Framing core: RFC 6455 §5.7 vectors, layouts, every frame_problems rule, the
message assembler, close payloads, hypothesis round trips, and interop with
websockets.frames."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wssviz.core.frames import (OPCODE_NAMES, CloseCode, Frame, Message,
                                MessageAssembler, Opcode, ProtocolError, apply_mask,
                                build_close, close_code_name, close_code_sendable,
                                frame_problems, parse_close, parse_frame, serialize)

KEY = bytes.fromhex("37fa213d")


def h(s: str) -> bytes:
    return bytes.fromhex(s)


# --- RFC 6455 §5.7 -------------------------------------------------------------------------


@pytest.mark.parametrize("wire,frame", [
    ("810548656c6c6f", Frame(Opcode.TEXT, b"Hello")),
    ("818537fa213d7f9f4d5158", Frame(Opcode.TEXT, b"Hello", mask_key=KEY)),
    ("010348656c", Frame(Opcode.TEXT, b"Hel", fin=False)),
    ("80026c6f", Frame(Opcode.CONT, b"lo")),
    ("890548656c6c6f", Frame(Opcode.PING, b"Hello")),
    ("8a8537fa213d7f9f4d5158", Frame(Opcode.PONG, b"Hello", mask_key=KEY)),
])
def test_rfc_5_7_vectors(wire, frame):
    raw = h(wire)
    assert serialize(frame) == raw
    got, layout = parse_frame(raw)
    assert got == frame
    assert layout.end == len(raw) and layout.length_form == 7
    assert layout.length_span == (1, 1)
    assert layout.mask_span == ((2, 6) if frame.masked else (2, 2))
    assert layout.payload_span == (layout.header_end, len(raw))
    assert frame_problems(got, layout, sender="client" if frame.masked else "server") == []


def test_rfc_5_7_length_forms():
    data256 = bytes(range(256))
    raw = serialize(Frame(Opcode.BINARY, data256))
    assert raw[:4] == h("827e0100") and raw[4:] == data256
    f, lay = parse_frame(raw)
    assert f.payload == data256 and lay.length_form == 16 and lay.length_span == (2, 4)
    data64k = os.urandom(65536)
    raw = serialize(Frame(Opcode.BINARY, data64k))
    assert raw[:10] == h("827f0000000000010000") and raw[10:] == data64k
    f, lay = parse_frame(raw)
    assert f.payload == data64k and lay.length_form == 64 and lay.length_span == (2, 10)
    assert lay.payload_span == (10, 10 + 65536)


@pytest.mark.parametrize("n,form", [(0, 7), (125, 7), (126, 16), (65535, 16), (65536, 64)])
def test_minimal_length_boundaries(n, form):
    raw = serialize(Frame(Opcode.BINARY, bytes(n), mask_key=KEY))
    f, lay = parse_frame(raw)
    assert lay.length_form == form and f.payload == bytes(n)
    assert lay.mask_span[1] - lay.mask_span[0] == 4


def test_parse_at_an_offset_gives_absolute_spans():
    buf = b"junk" + h("818537fa213d7f9f4d5158") + h("810548656c6c6f")
    f1, l1 = parse_frame(buf, 4)
    assert (l1.start, l1.mask_span, l1.payload_span, l1.end) == (4, (6, 10), (10, 15), 15)
    f2, l2 = parse_frame(buf, l1.end)
    assert f2.payload == b"Hello" and l2.end == len(buf)
    assert parse_frame(buf, l2.end) is None


def test_every_prefix_is_incomplete():
    raw = serialize(Frame(Opcode.BINARY, bytes(300), mask_key=KEY))
    for i in range(len(raw)):
        assert parse_frame(raw[:i]) is None
    assert parse_frame(bytearray(raw))[0].payload == bytes(300)


def test_structural_errors():
    with pytest.raises(ProtocolError) as e:
        parse_frame(h("827f8000000000000000"))
    assert e.value.rfc == "RFC 6455 §5.2" and e.value.offset == 2 and e.value.close_code == 1002
    # the size limit is enforced as soon as the length is known, before the payload
    with pytest.raises(ProtocolError) as e:
        parse_frame(b"xx" + h("827f0000000100000000"), 2, max_size=2**20)
    assert e.value.close_code == 1009 and e.value.offset == 4
    with pytest.raises(ProtocolError) as e:
        parse_frame(h("8205"), max_size=4)
    assert e.value.close_code == 1009 and e.value.offset == 1
    assert parse_frame(h("8204"), max_size=4) is None


def test_serialize_writes_rule_breakers_on_request():
    ping = Frame(Opcode.PING, bytes(200), fin=False, rsv2=True)
    raw = serialize(ping)
    assert raw[0] == 0x29 and raw[1] == 126
    assert parse_frame(raw)[0] == ping
    padded = serialize(Frame(Opcode.TEXT, b"Hi"), length_form=64)
    assert padded == h("817f0000000000000002") + b"Hi"
    assert parse_frame(padded)[1].length_form == 64
    with pytest.raises(ValueError):
        serialize(Frame(16, b""))
    with pytest.raises(ValueError):
        serialize(Frame(Opcode.TEXT, bytes(126)), length_form=7)
    with pytest.raises(ValueError):
        serialize(Frame(Opcode.TEXT, b"", mask_key=b"abc"))


# --- masking -------------------------------------------------------------------------------------


def test_apply_mask_against_the_definition():
    for n in (0, 1, 3, 4, 5, 1000, 65535, 65536, 65537, 200003):
        data = os.urandom(n)
        key = os.urandom(4)
        assert apply_mask(data, key) == bytes(b ^ key[i % 4] for i, b in enumerate(data))
    with pytest.raises(ValueError):
        apply_mask(b"x", b"abcde")


@given(st.binary(max_size=3000), st.binary(min_size=4, max_size=4))
def test_mask_twice_is_identity(data, key):
    assert apply_mask(apply_mask(data, key), key) == data


def test_16_mib_frame_masks_and_parses_exactly():
    # Speed is measured by benchmarks/bench_core.py, not asserted here.
    data = os.urandom(16 * 2**20)
    masked = apply_mask(data, KEY)
    assert masked[:4] == bytes(a ^ b for a, b in zip(data[:4], KEY))
    assert masked[-3:] == bytes(a ^ KEY[(len(data) - 3 + i) % 4] for i, a in enumerate(data[-3:]))
    raw = serialize(Frame(Opcode.BINARY, data, mask_key=KEY))
    frame, layout = parse_frame(raw)
    assert frame.payload == data and layout.length_form == 64 and layout.end == len(raw)



# --- round trips ------------------------------------------------------------------------------------

frames = st.builds(
    Frame,
    opcode=st.integers(0, 15),
    payload=st.one_of(st.binary(max_size=200), st.integers(0, 70000).map(bytes)),
    fin=st.booleans(), rsv1=st.booleans(), rsv2=st.booleans(), rsv3=st.booleans(),
    mask_key=st.none() | st.binary(min_size=4, max_size=4),
)


@settings(max_examples=200)
@given(frames)
def test_serialize_parse_round_trip(frame):
    raw = serialize(frame)
    got, lay = parse_frame(raw)
    assert got == frame and lay.end == len(raw)
    assert raw[lay.payload_span[0]:lay.payload_span[1]] == (
        apply_mask(frame.payload, frame.mask_key) if frame.masked else frame.payload)


@settings(max_examples=100)
@given(st.lists(frames, min_size=1, max_size=6), st.data())
def test_random_splits_of_a_stream(frame_list, data):
    stream = b"".join(serialize(f) for f in frame_list)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    buf = bytearray()
    out = []
    for a, b in zip([0] + cuts, cuts + [len(stream)]):
        buf += stream[a:b]
        while (got := parse_frame(buf)) is not None:
            f, lay = got
            out.append(f)
            del buf[:lay.end]
    assert out == frame_list and not buf


@settings(max_examples=300)
@given(frames)
def test_websockets_parses_what_we_write_and_judges_it_like_us(frame):
    from websockets.exceptions import ProtocolError as WProtocolError
    from websockets.frames import Frame as WFrame
    from websockets.streams import StreamReader
    reader = StreamReader()
    reader.feed_data(serialize(frame))
    parser = WFrame.parse(reader.read_exact, mask=frame.masked)
    ours = [p for p in frame_problems(frame, sender="client" if frame.masked else "server")
            if p.rfc not in ("RFC 6455 §5.5.1", "RFC 6455 §7.4")]  # close payloads: later
    try:
        next(parser)
    except StopIteration as stop:
        got = stop.value
    except WProtocolError:
        assert ours, "websockets refused a frame we find fine"
        return
    else:
        pytest.fail("websockets wanted more bytes")
    assert not ours, f"websockets accepted a frame we refuse: {ours}"
    assert (int(got.opcode), bytes(got.data), got.fin, got.rsv1, got.rsv2, got.rsv3) == \
        (frame.opcode, frame.payload, frame.fin, frame.rsv1, frame.rsv2, frame.rsv3)


@settings(max_examples=100)
@given(st.sampled_from([0, 1, 2, 8, 9, 10]), st.binary(max_size=125), st.booleans(),
       st.booleans())
def test_we_parse_what_websockets_writes(opcode, payload, fin, mask):
    from websockets.frames import Frame as WFrame, Opcode as WOpcode
    if opcode >= 8:
        fin = True
    raw = WFrame(WOpcode(opcode), payload, fin).serialize(mask=mask)
    got, lay = parse_frame(raw)
    assert (got.opcode, got.payload, got.fin, got.masked) == (opcode, payload, fin, mask)
    if opcode != Opcode.CLOSE:
        assert frame_problems(got, lay, sender="client" if mask else "server") == []


# --- frame_problems: every rule -------------------------------------------------------------------


def problems(frame: Frame, sender: str = "client", length_form=None, **kw):
    raw = b"ab" + serialize(frame, length_form=length_form)
    got, lay = parse_frame(raw, 2)
    return [(p.rfc, p.offset, p.close_code) for p in frame_problems(got, lay, sender=sender,
                                                                    **kw)], lay


@pytest.mark.parametrize("frame,sender,kw,expected", [
    (Frame(Opcode.TEXT, b"hi"), "client", {}, [("RFC 6455 §5.1", 3, 1002)]),
    (Frame(Opcode.TEXT, b"hi", mask_key=KEY), "server", {}, [("RFC 6455 §5.1", 3, 1002)]),
    (Frame(Opcode.TEXT, b"hi", rsv1=True, mask_key=KEY), "client", {},
     [("RFC 6455 §5.2", 2, 1002)]),
    (Frame(Opcode.TEXT, b"hi", rsv1=True, mask_key=KEY), "client", {"rsv1_allowed": True}, []),
    (Frame(Opcode.CONT, b"hi", rsv1=True, mask_key=KEY), "client", {"rsv1_allowed": True},
     [("RFC 7692 §6", 2, 1002)]),
    (Frame(Opcode.PING, b"hi", rsv1=True, mask_key=KEY), "client", {"rsv1_allowed": True},
     [("RFC 7692 §6", 2, 1002)]),
    (Frame(Opcode.TEXT, b"hi", rsv2=True, rsv3=True), "server", {},
     [("RFC 6455 §5.2", 2, 1002), ("RFC 6455 §5.2", 2, 1002)]),
    (Frame(3, b"", mask_key=KEY), "client", {}, [("RFC 6455 §5.2", 2, 1002)]),
    (Frame(0xB, b""), "server", {}, [("RFC 6455 §5.2", 2, 1002)]),
    (Frame(Opcode.PING, bytes(126)), "server", {}, [("RFC 6455 §5.5", 3, 1002)]),
    (Frame(Opcode.PONG, b"x", fin=False), "server", {}, [("RFC 6455 §5.5", 2, 1002)]),
    (Frame(Opcode.CLOSE, b"\x03"), "server", {}, [("RFC 6455 §5.5.1", 4, 1002)]),
    (Frame(Opcode.CLOSE, build_close(1005, check=False)), "server", {},
     [("RFC 6455 §7.4", 4, 1002)]),
    (Frame(Opcode.CLOSE, build_close(1000) + b"ok\xff"), "server", {},
     [("RFC 6455 §5.5.1", 8, 1007)]),
    (Frame(Opcode.CLOSE, build_close(4000, "fine")), "server", {}, []),
    (Frame(Opcode.CLOSE, b""), "server", {}, []),
])
def test_each_frame_rule(frame, sender, kw, expected):
    got, _ = problems(frame, sender, **kw)
    assert got == expected


def test_non_minimal_lengths():
    got, lay = problems(Frame(Opcode.BINARY, b"x" * 5), "server", length_form=16)
    assert got == [("RFC 6455 §5.2", 4, 1002)]
    got, _ = problems(Frame(Opcode.BINARY, bytes(65535)), "server", length_form=64)
    assert got == [("RFC 6455 §5.2", 4, 1002)]
    got, _ = problems(Frame(Opcode.BINARY, bytes(126)), "server", length_form=64)
    assert got == [("RFC 6455 §5.2", 4, 1002)]
    got, _ = problems(Frame(Opcode.BINARY, bytes(65536)), "server", length_form=64)
    assert got == []


def test_problems_without_a_layout_have_no_offsets():
    ps = frame_problems(Frame(Opcode.PING, bytes(200), fin=False), sender="client")
    assert [(p.rfc, p.offset) for p in ps] == [("RFC 6455 §5.1", -1), ("RFC 6455 §5.5", -1),
                                               ("RFC 6455 §5.5", -1)]
    assert all("RFC 6455" in str(p) for p in ps)
    with pytest.raises(ValueError):
        frame_problems(Frame(1, b""), sender="proxy")


# --- close codes and payloads -----------------------------------------------------------------------


def test_close_code_names_and_sendability():
    assert close_code_name(1000) == "1000 normal closure"
    assert close_code_name(CloseCode.INVALID_DATA) == "1007 invalid payload data"
    assert close_code_name(4000) == "4000 private use"
    assert close_code_name(3001) == "3001 registered use"
    assert close_code_name(999) == "999 invalid"
    assert close_code_name(5000) == "5000 invalid"
    assert close_code_name(2000) == "2000 unassigned"
    sendable = [c for c in range(0, 6000) if close_code_sendable(c)]
    assert sendable == [1000, 1001, 1002, 1003] + list(range(1007, 1015)) + \
        list(range(3000, 5000))
    assert [int(c) for c in CloseCode] == [1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008,
                                           1009, 1010, 1011, 1012, 1013, 1014, 1015]


def test_opcodes():
    assert [o.is_control for o in Opcode] == [False, False, False, True, True, True]
    assert OPCODE_NAMES[0] == "continuation" and OPCODE_NAMES[1] == "text"
    assert [OPCODE_NAMES[i] for i in (3, 4, 5, 6, 7, 11, 12, 13, 14, 15)] == ["reserved"] * 10


def test_close_payloads():
    assert build_close(1000, "bye") == h("03e8") + b"bye"
    assert build_close(None) == b""
    assert parse_close(b"") == (None, "")
    assert parse_close(build_close(1001, "ünïcode")) == (1001, "ünïcode")
    for bad in ((1005, ""), (999, ""), (1000, "x" * 124), (None, "why")):
        with pytest.raises(ValueError):
            build_close(*bad)
    assert len(build_close(1000, "x" * 124, check=False)) == 126
    with pytest.raises(ProtocolError) as e:
        parse_close(b"\x03")
    assert (e.value.offset, e.value.close_code) == (0, 1002)
    with pytest.raises(ProtocolError) as e:
        parse_close(h("03e8") + "é".encode()[:1] + b"x")
    assert (e.value.offset, e.value.close_code, e.value.rfc) == (2, 1007, "RFC 6455 §5.5.1")


def test_close_payload_interop_with_websockets():
    from websockets.frames import Close
    assert Close.parse(build_close(4001, "later")) == Close(4001, "later")
    assert parse_close(Close(1011, "oops").serialize()) == (1011, "oops")


def test_str_is_human_and_elided():
    assert str(Frame(Opcode.TEXT, b"Hello")) == "TEXT 'Hello' [fin, 5 bytes]"
    s = str(Frame(Opcode.BINARY, bytes(1000), fin=False, rsv1=True, mask_key=KEY))
    assert s.startswith("BINARY 00 00") and "..." in s and len(s) < 140
    assert "not fin" in s and "rsv1" in s and "mask 37fa213d" in s and "1000 bytes" in s
    assert str(Frame(Opcode.CLOSE, build_close(1000, "bye"))).startswith(
        "CLOSE 1000 normal closure 'bye'")
    assert "[/bold]" in str(Frame(Opcode.TEXT, b"[/bold]"))  # plain text, no markup


# --- the message assembler ---------------------------------------------------------------------------


def test_rfc_fragmented_hello():
    asm = MessageAssembler()
    buf = h("010348656c") + h("80026c6f")
    f1, l1 = parse_frame(buf)
    f2, _ = parse_frame(buf, l1.end)
    assert asm.feed(f1) is None and asm.in_message
    assert asm.feed(f2) == Message(Opcode.TEXT, b"Hello", 2, "Hello")
    assert not asm.in_message


def test_control_frames_between_fragments():
    asm = MessageAssembler()
    assert asm.feed(Frame(Opcode.BINARY, b"ab", fin=False)) is None
    assert asm.feed(Frame(Opcode.PING, b"p")) == Message(Opcode.PING, b"p", 1, None)
    assert asm.feed(Frame(Opcode.CONT, b"cd", fin=False)) is None
    assert asm.feed(Frame(Opcode.CONT, b"ef")) == Message(Opcode.BINARY, b"abcdef", 3, None)


@pytest.mark.parametrize("seq,rfc,code", [
    ([Frame(Opcode.CONT, b"x")], "RFC 6455 §5.4", 1002),
    ([Frame(Opcode.TEXT, b"x", fin=False), Frame(Opcode.BINARY, b"y")], "RFC 6455 §5.4", 1002),
    ([Frame(Opcode.TEXT, b"x", fin=False), Frame(Opcode.TEXT, b"y")], "RFC 6455 §5.4", 1002),
    ([Frame(Opcode.PING, b"x", fin=False)], "RFC 6455 §5.4", 1002),
    ([Frame(5, b"x")], "RFC 6455 §5.2", 1002),
    ([Frame(0xC, b"x")], "RFC 6455 §5.2", 1002),
    ([Frame(Opcode.TEXT, b"x", rsv1=True)], "RFC 6455 §5.2", 1002),
])
def test_continuation_rules(seq, rfc, code):
    asm = MessageAssembler()
    with pytest.raises(ProtocolError) as e:
        for f in seq:
            asm.feed(f)
    assert (e.value.rfc, e.value.close_code) == (rfc, code)


def test_utf8_split_across_fragments_is_fine():
    data = "€ and 𝄞".encode()
    for cut in range(len(data) + 1):
        asm = MessageAssembler()
        assert asm.feed(Frame(Opcode.TEXT, data[:cut], fin=False)) is None
        assert asm.feed(Frame(Opcode.CONT, data[cut:])).text == "€ and 𝄞"


def test_bad_utf8_fails_fast_with_its_offset():
    asm = MessageAssembler()
    assert asm.feed(Frame(Opcode.TEXT, b"abc\xe2\x82", fin=False)) is None  # incomplete, ok
    with pytest.raises(ProtocolError) as e:
        asm.feed(Frame(Opcode.CONT, b"X rest", fin=False))  # not fin, still caught
    assert (e.value.close_code, e.value.offset, e.value.rfc) == (1007, 3, "RFC 6455 §8.1")
    for bad, at in ((b"ok\xff", 2), (b"\xed\xa0\x80", 0), (b"\xc0\xaf", 0), (b"x\xe2\x82", 1)):
        asm = MessageAssembler()
        with pytest.raises(ProtocolError) as e:
            asm.feed(Frame(Opcode.TEXT, bad))
        assert (e.value.close_code, e.value.offset) == (1007, at)
    # binary messages are not UTF-8 checked
    assert MessageAssembler().feed(Frame(Opcode.BINARY, b"\xff")).data == b"\xff"


def test_message_size_limit():
    asm = MessageAssembler(max_size=10)
    assert asm.feed(Frame(Opcode.BINARY, bytes(6), fin=False)) is None
    with pytest.raises(ProtocolError) as e:
        asm.feed(Frame(Opcode.CONT, bytes(5)))
    assert e.value.close_code == 1009
    assert MessageAssembler(max_size=10).feed(Frame(Opcode.BINARY, bytes(10))).data == bytes(10)


@settings(max_examples=100)
@given(st.text(max_size=300), st.lists(st.integers(0, 1200), max_size=6))
def test_any_fragmentation_reassembles(text, cuts):
    data = text.encode()
    cuts = sorted({min(c, len(data)) for c in cuts})
    pieces = [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]
    asm = MessageAssembler()
    msg = None
    for i, piece in enumerate(pieces):
        msg = asm.feed(Frame(Opcode.TEXT if i == 0 else Opcode.CONT, piece,
                             fin=i == len(pieces) - 1))
    assert msg == Message(Opcode.TEXT, data, len(pieces), text)
