"""Property tests for everything that reads untrusted bytes.

- frames: serialize -> parse round trip over every header bit, the three length
  forms and masks; a truncated frame is never a frame;
- chopping: FrameReader and Connection give the same frames and events however the
  bytes are cut into pieces;
- UTF-8: a text message split into fragments at arbitrary points is accepted exactly
  when Python's strict decoder accepts its bytes, else refused with close code 1007
  at the decoder's offset;
- differential parsing against websockets (frames, its sans-I/O Protocol) and
  wsproto (FrameProtocol) on the same bytes; the differences that RFC 6455 allows
  are written down in ``_websockets_differences`` and asserted as such;
- permessage-deflate: compress -> inflate, fragment by fragment, for every
  parameter combination (context takeover on both sides, window bits 8..15);
- recordings: Capture -> document -> JSON -> Capture gives the same events, and the
  dissector the same Steps (compared as ``plain.to_json``) for both.

Each property runs 100-200 examples with no deadline; the file runs in well under a
minute.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from wssviz import plain, recording
from wssviz.capture import Capture, Chunk, Fact
from wssviz.core.connection import (CloseReceived, Connection, Failed, MessageReceived,
                                    PingReceived, PongReceived)
from wssviz.core.deflate import Compressor, DeflateParams, Decompressor
from wssviz.core.frames import (Frame, FrameReader, MessageAssembler, Opcode, ProtocolError,
                                frame_problems, parse_frame, serialize)
from wssviz.dissect import dissect

DATA = Path(__file__).parent / "data"
FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FEW = settings(max_examples=60, deadline=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

masks = st.none() | st.binary(min_size=4, max_size=4)


def _payload_and_form():
    """A payload and a length form that can carry it: every form for short payloads,
    16 and 64 bits for medium ones, 64 bits for a payload of 64 KiB and more."""
    short = st.tuples(st.binary(max_size=125), st.sampled_from([None, 7, 16, 64]))
    medium = st.tuples(st.binary(min_size=126, max_size=600), st.sampled_from([None, 16, 64]))
    large = st.tuples(st.integers(65536, 66000).map(lambda n: bytes(range(256)) * (n // 256)
                                                    + bytes(n % 256)),
                      st.sampled_from([None, 64]))
    return st.one_of(short, short, medium, large)


@st.composite
def frames(draw, *, opcodes=st.integers(0, 15)):
    payload, form = draw(_payload_and_form())
    return (Frame(draw(opcodes), payload, draw(st.booleans()), draw(st.booleans()),
                  draw(st.booleans()), draw(st.booleans()), draw(masks)), form)


def _form_of(n: int, form: int | None) -> int:
    return form if form is not None else 7 if n < 126 else 16 if n < 65536 else 64


def cuts(data: bytes, points: list[int]) -> list[bytes]:
    """``data`` cut at ``points`` (sorted, deduplicated, inside the data)."""
    at = sorted({p % (len(data) + 1) for p in points})
    out, last = [], 0
    for p in at:
        out.append(data[last:p])
        last = p
    out.append(data[last:])
    return out


# --- 1. serialize -> parse round trip ------------------------------------------------------


@FAST
@given(frames())
def test_serialize_parse_round_trip(fl):
    frame, form = fl
    wire = serialize(frame, length_form=form)
    got = parse_frame(wire, max_size=None)
    assert got is not None
    parsed, layout = got
    assert parsed == frame  # every header bit, the mask key and the unmasked payload
    assert layout.start == 0 and layout.end == len(wire)
    assert layout.length_form == _form_of(len(frame.payload), form)
    assert layout.payload_span[1] - layout.payload_span[0] == len(frame.payload)
    assert serialize(parsed, length_form=layout.length_form) == wire
    # a frame cut short is not a frame yet
    for n in {0, 1, len(wire) // 2, layout.header_end - 1, len(wire) - 1}:
        if 0 <= n < len(wire):
            assert parse_frame(wire[:n], max_size=None) is None
    # the minimal-length rule is the only one about the length
    length_rule = [p for p in frame_problems(parsed, layout, sender="client")
                   if p.code == "ws.length_not_minimal"]
    assert bool(length_rule) == (layout.length_form != _form_of(len(frame.payload), None))


@FAST
@given(st.lists(frames(), min_size=1, max_size=4), st.integers(0, 2**32))
def test_parse_at_offset_in_a_stream(fls, skip):
    """Frames back to back: each parses where the previous one ended."""
    wires = [serialize(f, length_form=form) for f, form in fls]
    stream = b"".join(wires)
    pos = 0
    for (frame, _), wire in zip(fls, wires):
        parsed, layout = parse_frame(stream, pos, max_size=None)
        assert parsed == frame and layout.start == pos and layout.end == pos + len(wire)
        pos = layout.end
    assert pos == len(stream)


# --- 2. chopping: the same result however the bytes arrive ---------------------------------


def _read_all(pieces: list[bytes], whole: int) -> tuple[list[tuple], ProtocolError | None]:
    """Frames out of a FrameReader fed ``pieces``: each frame's header bits and its
    payload joined from its chunks; the error that stopped it, if any."""
    reader = FrameReader(None, whole=whole)
    out: list[tuple] = []
    current: list[bytes] = []
    for piece in pieces:
        reader.feed(piece)
        while True:
            try:
                chunk = reader.next()
            except ProtocolError as e:
                return out, e
            if chunk is None:
                break
            current.append(chunk.frame.payload)
            if chunk.last:
                f = chunk.frame
                out.append((f.opcode, f.fin, f.rsv1, f.rsv2, f.rsv3, f.mask_key,
                            b"".join(current), chunk.layout.start, chunk.layout.end))
                current = []
    return out, None


@FAST
@given(st.lists(frames(), max_size=5), st.binary(max_size=20), st.lists(st.integers(0, 10**6), max_size=12),
       st.sampled_from([1, 7, 64, 1 << 16]))
def test_frame_reader_independent_of_chopping(fls, tail, points, whole):
    stream = b"".join(serialize(f, length_form=form) for f, form in fls) + tail
    one, err1 = _read_all([stream], whole)
    many, err2 = _read_all(cuts(stream, points), whole)
    assert many == one
    assert (err1 is None) == (err2 is None)
    if err1 is not None:
        assert (err1.code, err1.offset) == (err2.code, err2.offset)
    # what the frames say, whole
    complete = [(f.opcode, f.fin, f.rsv1, f.rsv2, f.rsv3, f.mask_key, f.payload) for f, _ in fls]
    assert [x[:7] for x in one][:len(complete)] == complete  # the tail may add frames
    assert err1 is None or len(one) >= len(complete)


def _events(conn: Connection) -> list:
    out = []
    for e in conn.events():
        if isinstance(e, Failed):
            out.append(("failed", e.error.code, e.error.close_code, e.error.offset))
        else:
            out.append(e)
    return out


def _client_frame(draw_frame: Frame, key: bytes | None) -> Frame:
    return Frame(draw_frame.opcode, draw_frame.payload, draw_frame.fin, draw_frame.rsv1,
                 draw_frame.rsv2, draw_frame.rsv3, key)


conversation_frames = st.one_of(
    st.builds(lambda p, fin: Frame(Opcode.TEXT, p.encode(), fin), st.text(max_size=40), st.booleans()),
    st.builds(lambda p, fin: Frame(Opcode.BINARY, p, fin), st.binary(max_size=300), st.booleans()),
    st.builds(lambda p, fin: Frame(Opcode.CONT, p, fin), st.binary(max_size=40), st.booleans()),
    st.builds(lambda p: Frame(Opcode.PING, p), st.binary(max_size=125)),
    st.builds(lambda p: Frame(Opcode.PONG, p), st.binary(max_size=125)),
    st.builds(lambda c, r: Frame(Opcode.CLOSE, struct.pack("!H", c) + r.encode()),
              st.sampled_from([1000, 1001, 1002, 1005, 1014, 2999, 3000, 4999, 5000]), st.text(max_size=20)),
    frames(opcodes=st.integers(0, 15)).map(lambda fl: fl[0]),
)


@FAST
@given(st.sampled_from(["client", "server"]), st.lists(conversation_frames, max_size=8),
       st.binary(max_size=8), st.lists(st.integers(0, 10**6), max_size=16), st.booleans())
def test_connection_events_independent_of_chopping(side, fls, tail, points, masked):
    key = b"\x0f\xa5\x5a\xf0"
    peer_masks = side == "server"
    stream = b"".join(serialize(_client_frame(f, key if (peer_masks == masked) else None))
                      for f in fls) + tail
    a = Connection(side, max_size=1 << 20, mask_key=lambda: b"\0\0\0\0")
    b = Connection(side, max_size=1 << 20, mask_key=lambda: b"\0\0\0\0")
    a.receive_data(stream)
    for piece in cuts(stream, points):
        b.receive_data(piece)
    assert _events(b) == _events(a)
    assert b.data_to_send() == a.data_to_send()
    a.receive_eof()
    b.receive_eof()
    assert _events(b) == _events(a)


@FEW
@given(st.lists(st.tuples(st.binary(max_size=400), st.integers(1, 4)), min_size=1, max_size=4),
       st.lists(st.integers(0, 10**6), max_size=12), st.booleans(), st.booleans(),
       st.sampled_from([None, 8, 9, 12, 15]))
def test_connection_deflate_independent_of_chopping(messages, points, cnct, snct, bits):
    """A client's compressed, fragmented messages reach a server the same way
    however they are cut, and come out as they were sent."""
    params = DeflateParams(client_no_context_takeover=cnct, server_no_context_takeover=snct,
                           client_max_window_bits=bits, server_max_window_bits=bits)
    client = Connection("client", deflate=params, mask_key=lambda: b"\x01\x02\x03\x04")
    for data, parts in messages:
        step = max(1, len(data) // parts)
        pieces = [data[i:i + step] for i in range(0, len(data), step)] or [b""]
        client.send_binary(pieces[0], fin=len(pieces) == 1)
        for i, p in enumerate(pieces[1:], 2):
            client.send_continuation(p, fin=i == len(pieces))
    stream = client.data_to_send()
    a = Connection("server", deflate=params)
    b = Connection("server", deflate=params)
    a.receive_data(stream)
    for piece in cuts(stream, points):
        b.receive_data(piece)
    ea, eb = _events(a), _events(b)
    assert eb == ea
    assert [e.message.data for e in ea] == [d for d, _ in messages]


# --- 3. UTF-8 validation against Python's strict decoder ----------------------------------

#: bytes near UTF-8: valid text, raw bytes, and the classic traps
near_utf8 = st.lists(st.one_of(
    st.text(max_size=8).map(lambda s: s.encode("utf-8")),
    st.binary(max_size=4),
    st.sampled_from([b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\xe0\x80\xaf",
                     b"\xf0\x9f\x98", b"\xce", b"\xef\xbb\xbf", b"\xf4\x8f\xbf\xbf", b"\xff",
                     b"\xed\x9f\xbf", b"\xee\x80\x80"]),
), max_size=10).map(b"".join)


def _decoded(data: bytes) -> tuple[str | None, int | None]:
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as e:
        return None, e.start


@FAST
@given(near_utf8, st.lists(st.integers(0, 10**6), max_size=8))
@example(b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited", [5, 11])  # Autobahn 6.4
@example(b"\xf4\x90\x80\x80", [1, 2, 3])
@example(b"\xe2\x82", [1])  # truncated at the very end
def test_utf8_fragments_agree_with_python(data, points):
    parts = cuts(data, points)
    asm = MessageAssembler(None)
    text, bad_at = _decoded(data)
    got, err = None, None
    try:
        for i, part in enumerate(parts):
            opcode = Opcode.TEXT if i == 0 else Opcode.CONT
            got = asm.feed(Frame(opcode, part, fin=i == len(parts) - 1))
    except ProtocolError as e:
        err = e
    if text is not None:
        assert err is None and got is not None
        assert got.text == text and got.data == data
    else:
        assert err is not None, f"accepted invalid UTF-8 {data!r}"
        assert err.close_code == 1007 and err.code == "ws.text_utf8"
        assert err.offset == bad_at


@FAST
@given(near_utf8, st.lists(st.integers(0, 10**6), max_size=6))
def test_utf8_through_a_connection(data, points):
    """A client's text message, fragmented: the server takes it or fails the
    connection with 1007 (and says so in its Close)."""
    parts = cuts(data, points)
    key = b"\x01\x02\x03\x04"
    stream = b"".join(serialize(Frame(Opcode.TEXT if i == 0 else Opcode.CONT, p,
                                      fin=i == len(parts) - 1, mask_key=key))
                      for i, p in enumerate(parts))
    server = Connection("server")
    server.receive_data(stream)
    events = server.events()
    text, _ = _decoded(data)
    if text is not None:
        assert [type(e) for e in events] == [MessageReceived]
        assert events[0].message.text == text
    else:
        assert [type(e) for e in events] == [Failed]
        assert events[0].error.close_code == 1007
        sent = server.data_to_send()
        assert sent[0] == 0x88 and struct.unpack("!H", sent[2:4])[0] == 1007


# --- 4. differential parsing: websockets and wsproto ----------------------------------------

ws_frames = pytest.importorskip("websockets.frames")
ws_protocol = pytest.importorskip("websockets.protocol")
wsproto_fp = pytest.importorskip("wsproto.frame_protocol")


_GOOD_CLOSE = st.sampled_from([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                               3000, 3999, 4000, 4999])
_BAD_CLOSE = st.one_of(st.sampled_from([0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535]),
                       st.integers(0, 65535))
valid_text = st.text(max_size=30).map(lambda t: t.encode("utf-8"))


@st.composite
def wire_frames(draw):
    """A frame's bytes, built here (independent of wssviz.serialize), and whether its
    length uses the minimal encoding.  Most frames are well formed; about one in
    three breaks one rule a receiver checks (RSV bits, masking, a reserved opcode, a
    control frame too long or fragmented, a non-minimal length, a bad close code or
    reason, invalid UTF-8), and a continuation or a fin=0 data frame can break the
    fragmentation rules."""
    defect = draw(st.sampled_from([None] * 14 + ["rsv", "unmasked", "reserved", "long-control",
                                                 "fragmented-control", "non-minimal", "close",
                                                 "utf8"]))
    kind = draw(st.sampled_from(["text", "text", "binary", "binary", "cont", "ping", "pong", "close"]))
    if defect == "reserved":
        kind = "reserved"
    elif defect in ("long-control", "fragmented-control") and kind not in ("ping", "pong", "close"):
        kind = draw(st.sampled_from(["ping", "pong", "close"]))
    elif defect in ("close",):
        kind = "close"
    elif defect == "utf8" and kind not in ("text", "cont", "close"):
        kind = "text"
    opcode = {"text": 1, "binary": 2, "cont": 0, "ping": 9, "pong": 10, "close": 8}.get(kind)
    if opcode is None:
        opcode = draw(st.sampled_from([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]))
    if kind == "close":
        if defect == "close":
            payload = draw(st.one_of(st.binary(min_size=1, max_size=1),
                                     st.builds(lambda c, r: struct.pack("!H", c) + r, _BAD_CLOSE,
                                               st.binary(max_size=20))))
        elif defect == "utf8":
            payload = struct.pack("!H", draw(_GOOD_CLOSE)) + draw(near_utf8.filter(lambda b: len(b) <= 123))
        else:
            payload = draw(st.one_of(st.just(b""), st.builds(
                lambda c, r: struct.pack("!H", c) + r[:123], _GOOD_CLOSE, valid_text)))
    elif kind in ("text", "cont"):
        payload = draw(near_utf8 if defect == "utf8" else valid_text)
    elif defect == "long-control":
        payload = draw(st.binary(min_size=126, max_size=140))
    elif opcode >= 8:
        payload = draw(st.binary(max_size=125))
    else:
        payload = draw(st.binary(max_size=200))
    if kind == "close" and defect == "long-control":
        payload = struct.pack("!H", 1000) + b"x" * 130
    fin = draw(st.booleans()) if kind in ("text", "binary", "cont") else defect != "fragmented-control"
    rsv = draw(st.sampled_from([1, 2, 4, 3, 7])) if defect == "rsv" else 0
    masked = defect != "unmasked"
    key = draw(st.binary(min_size=4, max_size=4))
    n = len(payload)
    form = draw(st.sampled_from(["16", "64"])) if defect == "non-minimal" else "min"
    if form == "16" and n < 65536:
        length = bytes([(0x80 if masked else 0) | 126]) + struct.pack("!H", n)
    elif form == "64":
        length = bytes([(0x80 if masked else 0) | 127]) + struct.pack("!Q", n)
    else:
        form = "min"
        length = (bytes([(0x80 if masked else 0) | n]) if n < 126 else
                  bytes([(0x80 if masked else 0) | 126]) + struct.pack("!H", n))
    body = bytes(b ^ key[i % 4] for i, b in enumerate(payload)) if masked else payload
    wire = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode]) + length + (key if masked else b"") + body
    minimal = form == "min" or (form == "16" and n >= 126) or (form == "64" and n >= 65536)
    return wire, minimal


def _norm_wssviz(stream: bytes, unread: list | None = None) -> list:
    """A server's view of a client's bytes: messages, control frames, and the close
    code it fails with.  ``unread`` gets the bytes left in an unfinished frame."""
    conn = Connection("server", max_size=None)
    conn.receive_data(stream)
    if unread is not None:
        unread.append(conn.unread if conn.failed is None and conn.close_received is None else 0)
    out: list = []
    for e in conn.events():
        if isinstance(e, MessageReceived):
            out.append(("message", e.message.opcode, e.message.data))
        elif isinstance(e, PingReceived):
            out.append(("ping", e.data))
        elif isinstance(e, PongReceived):
            out.append(("pong", e.data))
        elif isinstance(e, CloseReceived):
            out.append(("close", e.code, e.reason))
        elif isinstance(e, Failed):
            out.append(("fail", e.error.close_code))
    return out


def _norm_wsproto(stream: bytes) -> list:
    proto = wsproto_fp.FrameProtocol(client=False, extensions=[])
    proto.receive_bytes(stream)
    out: list = []
    parts: list[bytes] = []
    opcode = None
    try:
        for f in proto.received_frames():
            op = f.opcode
            if op == wsproto_fp.Opcode.CLOSE:
                code, reason = f.payload
                out.append(("close", None if code == 1005 else int(code), reason))
                break
            if op == wsproto_fp.Opcode.PING:
                out.append(("ping", bytes(f.payload)))
            elif op == wsproto_fp.Opcode.PONG:
                out.append(("pong", bytes(f.payload)))
            else:
                if opcode is None:
                    opcode = int(op)
                parts.append(f.payload.encode() if isinstance(f.payload, str) else bytes(f.payload))
                if f.message_finished:
                    out.append(("message", opcode, b"".join(parts)))
                    parts, opcode = [], None
    except wsproto_fp.ParseFailed as e:
        out.append(("fail", int(e.code)))
    return out


def _norm_websockets(stream: bytes) -> list:
    """websockets' sans-I/O Protocol as a server; text is checked as UTF-8 the way
    its connections do, when a message is complete (1007)."""
    proto = ws_protocol.Protocol(ws_protocol.Side.SERVER, state=ws_protocol.State.OPEN,
                                 max_size=None)
    proto.receive_data(stream)
    out: list = []
    parts: list[bytes] = []
    opcode = None
    for f in proto.events_received():
        op = f.opcode
        if op is ws_frames.Opcode.CLOSE:
            close = ws_frames.Close.parse(f.data) if f.data else None
            out.append(("close", None if close is None else close.code,
                        "" if close is None else close.reason))
            return out
        if op is ws_frames.Opcode.PING:
            out.append(("ping", bytes(f.data)))
        elif op is ws_frames.Opcode.PONG:
            out.append(("pong", bytes(f.data)))
        else:
            if opcode is None:
                opcode = int(op)
            parts.append(bytes(f.data))
            if f.fin:
                data = b"".join(parts)
                if opcode == 1:
                    try:
                        data.decode("utf-8")
                    except UnicodeDecodeError:
                        out.append(("fail", 1007))
                        return out
                out.append(("message", opcode, data))
                parts, opcode = [], None
    if proto.parser_exc is not None and not isinstance(proto.parser_exc, EOFError):
        code = proto.close_sent.code if proto.close_sent is not None else 1011
        out.append(("fail", int(code)))
    return out


def _wssviz_failure(events: list) -> tuple[int, int] | None:
    for i, e in enumerate(events):
        if e[0] == "fail":
            return i, e[1]
    return None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(wire_frames(), min_size=1, max_size=6), st.binary(max_size=3))
def test_differential_wsproto(items, tail):
    """Same messages, same control frames, same failures (and close codes) as wsproto.

    Justified differences:

    - wsproto rejects close code 1014 (Bad Gateway, in the IANA registry since 2013,
      not in its CloseReason enum); wssviz accepts it (and then judges the reason).
    - "header-early": wsproto judges a frame (masking, RSV, opcode, control rules)
      from its header; wssviz judges a frame of up to 64 KiB when all of it has
      arrived.  So when the stream ends inside a bad frame, wsproto has failed and
      wssviz still waits (it fails the same way once the rest arrives)."""
    stream = b"".join(w for w, _ in items) + tail
    unread: list = []
    ours, theirs = _norm_wssviz(stream, unread), _norm_wsproto(stream)
    if ours != theirs and unread[0] and theirs and theirs[-1][0] == "fail" and ours == theirs[:-1]:
        return  # header-early
    tf = _wssviz_failure(theirs)
    if ours != theirs and tf is not None and tf[1] == 1002 and _close_codes(stream)[:1] == [1014]:
        k = tf[0]  # wsproto refuses the Close with 1014; wssviz takes it (or reads on to its reason)
        assert ours[:k] == theirs[:k]
        assert ours[k][:2] == ("close", 1014) or ours[k] == ("fail", 1007)
        return
    assert ours == theirs


def _close_codes(stream: bytes) -> list[int]:
    """The codes of the Close frames in ``stream`` that carry one."""
    out, pos = [], 0
    while (got := parse_frame(stream, pos, max_size=None)) is not None:
        frame, layout = got
        if frame.opcode == Opcode.CLOSE and len(frame.payload) >= 2:
            out.append(struct.unpack("!H", frame.payload[:2])[0])
        pos = layout.end
    return out


def _close_breaks_two_rules(stream: bytes) -> bool:
    """Whether a Close frame in ``stream`` has an unsendable code and a non-UTF-8 reason."""
    pos = 0
    while (got := parse_frame(stream, pos, max_size=None)) is not None:
        frame, layout = got
        if frame.opcode == Opcode.CLOSE and len(frame.payload) >= 2:
            code = struct.unpack("!H", frame.payload[:2])[0]
            try:
                frame.payload[2:].decode("utf-8")
            except UnicodeDecodeError:
                if not (1000 <= code <= 1014 and code not in (1004, 1005, 1006) or 3000 <= code <= 4999):
                    return True
        pos = layout.end
    return False


def _websockets_differences(items: list[tuple[bytes, bool]], ours: list, theirs: list,
                            unread: list | None = None) -> str | None:
    """Which documented difference explains ``ours != theirs``, or None.

    - "length": RFC 6455 §5.2 says the length MUST use the minimal encoding; wssviz
      refuses a non-minimal one (1002), websockets accepts it.
    - "close-in-fragment": RFC 6455 §5.4 lets control frames, Close included, come
      between the fragments of a message; websockets fails such a Close ("incomplete
      fragmented message", 1002), wssviz takes it.
    - "utf8-early": wssviz refuses invalid UTF-8 at the first bad byte (§8.1, "MUST
      _Fail the WebSocket Connection_" as soon as it is seen), before the message
      ends; websockets checks text only when the message is complete (its Protocol
      does not look at UTF-8 at all), so whatever follows the bad fragment still
      reaches it.  Both agree up to the bad fragment.
    - "header-early" as for wsproto: websockets refuses a wrong mask bit or a
      reserved opcode from the header, wssviz once the frame is complete.
    - "close-two-rules": a Close whose code may not be sent *and* whose reason is not
      UTF-8 breaks two rules; wssviz (and wsproto) report the code (1002), websockets
      the reason (1007).  Both refuse it at the same place.
    """
    tf0 = _wssviz_failure(theirs)
    f0 = _wssviz_failure(ours)
    if f0 is not None and tf0 is not None and f0[0] == tf0[0] and {f0[1], tf0[1]} == {1002, 1007} \
            and ours[:f0[0]] == theirs[:f0[0]] and _close_breaks_two_rules(b"".join(w for w, _ in items)):
        return "close-two-rules"
    if unread and unread[0] and theirs and theirs[-1][0] == "fail" and ours == theirs[:-1]:
        return "header-early"
    fail = _wssviz_failure(ours)
    if fail is not None and fail[1] == 1002 and ours[:fail[0]] == theirs[:fail[0]]:
        if not all(m for _, m in items):
            return "length"
    tf = _wssviz_failure(theirs)
    if tf is not None and tf[1] == 1002 and ours[:tf[0]] == theirs[:tf[0]] and \
            len(ours) > tf[0] and ours[tf[0]][0] == "close":
        return "close-in-fragment"
    if fail is not None and fail[1] == 1007 and ours[:fail[0]] == theirs[:fail[0]]:
        return "utf8-early"
    return None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(wire_frames(), min_size=1, max_size=6), st.binary(max_size=3))
def test_differential_websockets(items, tail):
    """Same messages, control frames and failures as websockets' Protocol, apart from
    the differences RFC 6455 allows (``_websockets_differences``)."""
    stream = b"".join(w for w, _ in items) + tail
    unread: list = []
    ours, theirs = _norm_wssviz(stream, unread), _norm_websockets(stream)
    if ours != theirs:
        why = _websockets_differences(items, ours, theirs, unread)
        assert why is not None, f"unexplained difference:\nwssviz:     {ours}\nwebsockets: {theirs}"


@FAST
@given(wire_frames())
def test_differential_single_frame(item):
    """Frame by frame against websockets.frames.Frame.parse (+ Close.parse): a frame
    with a minimal length is accepted by one exactly when the other accepts it
    (message-level rules aside: a lone continuation, UTF-8 across fragments)."""
    wire, minimal = item
    got = parse_frame(wire, max_size=None)
    assert got is not None
    frame, layout = got
    ours = [p.code for p in frame_problems(frame, layout, sender="client")]

    def read_exact_factory(buf: bytes):
        pos = 0

        def read_exact(n):
            nonlocal pos
            if pos + n > len(buf):
                raise EOFError
            data = buf[pos:pos + n]
            pos += n
            return data
            yield  # a generator, as websockets wants

        return read_exact

    try:
        gen = ws_frames.Frame.parse(read_exact_factory(wire), mask=True, max_size=None, extensions=[])
        try:
            next(gen)
            raise AssertionError("websockets wants more bytes for a whole frame")
        except StopIteration as stop:
            theirs_frame = stop.value
        if theirs_frame.opcode is ws_frames.Opcode.CLOSE and theirs_frame.data:
            ws_frames.Close.parse(theirs_frame.data)
        theirs_ok = True
        assert bytes(theirs_frame.data) == frame.payload
    except (ws_frames.ProtocolError, UnicodeDecodeError):
        theirs_ok = False
    if not minimal:
        assert "ws.length_not_minimal" in ours  # the documented difference: websockets is lenient
        ours = [c for c in ours if c != "ws.length_not_minimal"]
    assert (not ours) == theirs_ok, (ours, theirs_ok, wire.hex())


def test_documented_difference_non_minimal_length():
    """RFC 6455 §5.2: "the minimal number of bytes MUST be used to encode the length".
    wssviz (and wsproto) refuse 'Hello' with a 16-bit length; websockets accepts it."""
    wire = bytes([0x81, 0x80 | 126]) + struct.pack("!H", 5) + b"\0\0\0\0" + b"Hello"
    assert _norm_wssviz(wire) == [("fail", 1002)]
    assert _norm_wsproto(wire) == [("fail", 1002)]
    assert _norm_websockets(wire) == [("message", 1, b"Hello")]


def test_documented_difference_close_inside_fragments():
    """RFC 6455 §5.4: control frames may be injected in the middle of a fragmented
    message.  wssviz takes a Close there; websockets fails the connection."""
    k = b"\0\0\0\0"
    wire = bytes([0x01, 0x82]) + k + b"ab" + bytes([0x88, 0x82]) + k + struct.pack("!H", 1000)
    assert _norm_wssviz(wire) == [("close", 1000, "")]
    assert _norm_wsproto(wire) == [("close", 1000, "")]
    assert _norm_websockets(wire) == [("fail", 1002)]


# --- 5. permessage-deflate round trip --------------------------------------------------------

deflate_params = st.builds(
    DeflateParams,
    client_no_context_takeover=st.booleans(), server_no_context_takeover=st.booleans(),
    client_max_window_bits=st.none() | st.integers(8, 15),
    server_max_window_bits=st.none() | st.integers(8, 15))

message_parts = st.lists(st.lists(st.one_of(st.binary(max_size=300),
                                            st.text(max_size=200).map(str.encode),
                                            st.builds(lambda b, n: b * n, st.binary(min_size=1, max_size=5),
                                                      st.integers(1, 2000))),
                                  min_size=1, max_size=4), min_size=1, max_size=5)


@FAST
@given(deflate_params, st.sampled_from(["client", "server"]), message_parts)
def test_deflate_round_trip_fragment_by_fragment(params, sender, messages):
    receiver = "server" if sender == "client" else "client"
    comp = Compressor(params, sender)
    decomp = Decompressor(params, receiver, max_size=None)
    for parts in messages:
        out = []
        for i, part in enumerate(parts):
            final = i == len(parts) - 1
            out.append(decomp.feed(comp.compress_part(part, final), final))
        assert b"".join(out) == b"".join(parts)


@FAST
@given(st.booleans(), st.booleans(), st.integers(8, 15), st.integers(8, 15),
       st.lists(st.binary(max_size=2000), min_size=1, max_size=4))
def test_deflate_every_window(cnct, snct, cbits, sbits, messages):
    """Every window size pair, both directions, whole messages, with and without
    context takeover (a message repeated: the second is smaller with takeover)."""
    params = DeflateParams(cnct, snct, cbits, sbits)
    for sender, receiver in (("client", "server"), ("server", "client")):
        comp, decomp = Compressor(params, sender), Decompressor(params, receiver, max_size=None)
        for m in messages + messages:
            assert decomp.decompress(comp.compress(m)) == m


# --- 6. recordings round trip and the dissector -----------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text(max_size=10) | \
    st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)

_times = st.floats(0, 1e6).map(lambda t: round(t, 6))

#: facts as wssviz writes them (name and value agree), and facts it does not know
facts = st.one_of(
    st.builds(Fact, _times, st.just("tcp.connect"), st.fixed_dictionaries(
        {"client": st.just(["127.0.0.1", 50000]), "server": st.just(["::1", 443])})),
    st.builds(Fact, _times, st.just("tcp.close"), st.fixed_dictionaries(
        {"by": st.sampled_from(["client", "server"]), "how": st.sampled_from(["fin", "reset", "abort"])})),
    st.builds(Fact, _times, st.just("tls.verdict"), st.fixed_dictionaries(
        {"ok": st.booleans(), "code": st.integers(0, 99), "message": st.text(max_size=20)})),
    st.builds(Fact, _times, st.sampled_from(["error", "ws.abort"]), st.fixed_dictionaries(
        {"layer": st.sampled_from(["ws", "http", "tls"]),
         "code": st.sampled_from(["ws.text_utf8", "http.bare_lf", "nonsense"]),
         "params": st.dictionaries(st.text(max_size=4), json_scalars, max_size=2),
         "rfc": st.text(max_size=10), "by": st.sampled_from(["client", "server"])})),
    st.builds(Fact, _times, st.sampled_from(["something.else", "x"]),
              st.dictionaries(st.text(max_size=8), json_values, max_size=3)),
)

events = st.lists(st.one_of(
    st.builds(Chunk, st.sampled_from(["c2s", "s2c"]), _times, st.binary(min_size=1, max_size=200)),
    facts), max_size=10)


@st.composite
def captures(draw):
    cap = Capture(scheme=draw(st.sampled_from(["ws", "wss"])),
                  server_name=draw(st.from_regex(r"[a-z0-9]([a-z0-9.-]{0,30}[a-z0-9])?", fullmatch=True)),
                  started=draw(st.floats(0, 4e9, allow_nan=False)),
                  keylog=draw(st.lists(st.text(max_size=30), max_size=3)),
                  trust=draw(st.lists(st.text(max_size=30), max_size=2)),
                  settings=draw(st.dictionaries(st.text(max_size=8).map("x_".__add__), json_values,
                                                max_size=3)))
    cap.events = draw(events)
    assume(cap.events)  # a recording holds at least one event
    return cap


def _same_events(a: Capture, b: Capture) -> None:
    assert b.events == a.events
    assert (b.scheme, b.server_name, b.started, b.keylog, b.trust, b.settings) == \
        (a.scheme, a.server_name, a.started, a.keylog, a.trust, a.settings)


@FEW
@given(captures())
def test_recording_round_trip(cap):
    text = json.dumps(recording.to_document(cap))
    back = recording.from_document(json.loads(text))
    _same_events(cap, back)
    steps_a = [plain.to_json(s, "en") for s in dissect(cap)]
    steps_b = [plain.to_json(s, "en") for s in dissect(back)]
    assert steps_b == steps_a


@pytest.mark.parametrize("name", sorted(p.name for p in (DATA / "recordings-v1").glob("*.json")
                                        if not p.name.endswith(".expected.json")))
def test_recording_round_trip_real_sessions(name, tmp_path):
    """Real wss:// sessions (TLS decrypted with their key logs): load -> save -> load
    gives the same events and the same steps."""
    cap = recording.load(DATA / "recordings-v1" / name)
    path = tmp_path / name
    recording.save(cap, path)
    back = recording.load(path)
    _same_events(cap, back)
    assert [plain.to_json(s, "en") for s in dissect(back)] == [plain.to_json(s, "en") for s in dissect(cap)]


@FEW
@given(st.data())
def test_recording_rechunked_real_session(data):
    """A real session whose flights are cut at other places gives a recording that
    round-trips, and the dissector the same steps for the original and the copy."""
    cap = recording.load(DATA / "recordings-v1" / "seed-example.json")
    out = Capture(cap.scheme, cap.server_name, cap.started, [], list(cap.keylog), list(cap.trust),
                  dict(cap.settings))
    for e in cap.events:
        if isinstance(e, Chunk) and len(e.data) > 1:
            points = data.draw(st.lists(st.integers(1, len(e.data) - 1), max_size=3))
            for piece in cuts(e.data, points):
                if piece:
                    out.events.append(Chunk(e.direction, e.time, piece))
        else:
            out.events.append(e)
    back = recording.from_document(json.loads(json.dumps(recording.to_document(out))))
    _same_events(out, back)
    assert [plain.to_json(s, "en") for s in dissect(back)] == [plain.to_json(s, "en") for s in dissect(out)]
