"""WebSocket framing (RFC 6455 §5, §7), sans I/O.

``serialize`` writes any frame, including rule-breaking ones (fault injection needs
them); ``parse_frame`` is structural only and reports the byte layout of what it read;
``frame_problems`` judges one frame against the rules of §5 and §7; the
``MessageAssembler`` judges a sequence of frames (fragmentation, UTF-8, size).

Every rule broken is a :class:`ProtocolError` naming the rule, the RFC section, the
byte offset and the close code the receiver should send.
"""

from __future__ import annotations

import codecs
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Callable

from wssviz.core import limits as _limits
from wssviz.core.msg import Msg
from wssviz.core.msg import rule as rule_msg

#: A ``max_size`` (or ``max_fragments``) argument's default: the process's limit
#: (``wssviz.core.limits.LIMITS``), read when it is applied.  None means no limit.
LIMIT: Any = type("Limit", (), {"__repr__": lambda self: "LIMIT"})()


def _frame_limit(value: Any) -> int | None:
    return _limits.LIMITS.max_frame if value is LIMIT else value
#: The masking key of RFC 6455 §5.7's examples ("Hello" masks to 7f 9f 4d 51 58): the
#: default session uses it on purpose, so that its numbers match the RFC's.
RFC_EXAMPLE_MASK = bytes.fromhex("37fa213d")


class Opcode(IntEnum):
    CONT = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA

    @property
    def is_control(self) -> bool:
        return self >= 0x8


OPCODE_NAMES: dict[int, str] = {i: "reserved" for i in range(16)}
OPCODE_NAMES.update({0: "continuation", 1: "text", 2: "binary", 8: "close", 9: "ping",
                     10: "pong"})

DATA_OPCODES = frozenset({Opcode.CONT, Opcode.TEXT, Opcode.BINARY})
CONTROL_OPCODES = frozenset({Opcode.CLOSE, Opcode.PING, Opcode.PONG})


class CloseCode(IntEnum):
    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS_RCVD = 1005
    ABNORMAL_CLOSURE = 1006
    INVALID_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TLS_HANDSHAKE = 1015


CLOSE_CODE_NAMES: dict[int, str] = {
    1000: "normal closure",
    1001: "going away",
    1002: "protocol error",
    1003: "unsupported data",
    1004: "reserved",
    1005: "no status received",
    1006: "abnormal closure",
    1007: "invalid payload data",
    1008: "policy violation",
    1009: "message too big",
    1010: "mandatory extension",
    1011: "internal error",
    1012: "service restart",
    1013: "try again later",
    1014: "bad gateway",
    1015: "TLS handshake failure",
}

#: Codes that must never appear in a Close frame (RFC 6455 §7.4.1).
NEVER_SENT = frozenset({1004, 1005, 1006, 1015})


def close_code_class(code: int) -> str:
    """What a close code is (RFC 6455 §7.4.2): its own number if it has a name, else
    ``unassigned`` (1000-2999), ``registered`` (3000-3999), ``private`` (4000-4999)
    or ``invalid``."""
    if code in CLOSE_CODE_NAMES:
        return str(code)
    for low, high, what in ((1000, 2999, "unassigned"), (3000, 3999, "registered"),
                            (4000, 4999, "private")):
        if low <= code <= high:
            return what
    return "invalid"


_CLASS_WORDS = {"registered": "registered use", "private": "private use"}


def close_code_name(code: int) -> str:
    """``"1000 normal closure"``, ``"4000 private use"``, ``"999 invalid"`` …"""
    what = close_code_class(code)
    return f"{code} {CLOSE_CODE_NAMES[code] if what.isdigit() else _CLASS_WORDS.get(what, what)}"


def close_code_word(code: int) -> Msg:
    """"1000 normal closure" as the catalogs say it: the number and its name
    (``close.<code>``, or the range it falls in)."""
    return Msg("value.close_code", code=code, name=Msg(f"close.{close_code_class(code)}"))


def close_code_sendable(code: int) -> bool:
    """May ``code`` appear in a Close frame?  (RFC 6455 §7.4.1, §7.4.2)"""
    if 1000 <= code <= 2999:
        return code in CLOSE_CODE_NAMES and code not in NEVER_SENT
    return 3000 <= code <= 4999


class ProtocolError(Exception):
    """A broken framing rule, with the close code the receiver should send.

    ``rule`` is a one-line English statement for developers and logs; ``msg`` is
    the same rule as the catalogs know it (``rule.<code>`` with its values), which
    is what a learner reads, in their language."""

    def __init__(self, rule: str, rfc: str, offset: int = -1, close_code: int = 1002, *,
                 code: str, **params: object) -> None:
        super().__init__(f"websocket: {rule} ({rfc}, offset {offset}, "
                         f"close {close_code_name(close_code)})")
        self.rule = rule
        self.rfc = rfc
        self.offset = offset
        self.close_code = close_code
        self.code = code
        self.params = params

    @property
    def msg(self) -> Msg:
        return rule_msg(self.code, **self.params)

    def at(self, offset: int) -> "ProtocolError":
        """The same broken rule at another offset."""
        return ProtocolError(self.rule, self.rfc, offset, self.close_code, code=self.code,
                             **self.params)


# --- frames ------------------------------------------------------------------------


def _elide(payload: bytes, opcode: int, limit: int = 75) -> str:
    if opcode in (Opcode.TEXT, Opcode.CLOSE) or opcode == Opcode.CONT:
        try:
            text = (payload[2:] if opcode == Opcode.CLOSE else payload).decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None:
            r = repr(text)
            if opcode == Opcode.CLOSE and len(payload) >= 2:
                code = int.from_bytes(payload[:2], "big")
                r = f"{close_code_name(code)} {r}" if text else close_code_name(code)
            return r if len(r) <= limit else r[: limit - 6] + "..." + r[-3:]
    h = payload.hex(" ")
    return h if len(h) <= limit else h[: limit - 9] + "..." + h[-6:]


@dataclass
class Frame:
    """One frame.  ``payload`` is always the unmasked application bytes;
    ``mask_key`` is the key it travels under (None: unmasked)."""

    opcode: int
    payload: bytes
    fin: bool = True
    rsv1: bool = False
    rsv2: bool = False
    rsv3: bool = False
    mask_key: bytes | None = None

    @property
    def masked(self) -> bool:
        return self.mask_key is not None

    def __str__(self) -> str:
        name = OPCODE_NAMES.get(self.opcode, "invalid").upper()
        bits = ["fin" if self.fin else "not fin"]
        bits += [n for n in ("rsv1", "rsv2", "rsv3") if getattr(self, n)]
        if self.mask_key is not None:
            bits.append(f"mask {self.mask_key.hex()}")
        body = _elide(self.payload, self.opcode) if self.payload else "''"
        return f"{name} {body} [{', '.join(bits)}, {len(self.payload)} bytes]"


_MASK_CHUNK = 1 << 16


def apply_mask(data: bytes, key: bytes) -> bytes:
    """XOR ``data`` with the 4-byte ``key`` repeated (RFC 6455 §5.3).  Applying it
    twice gives the input back.

    No per-byte Python loop: each 64 KiB chunk becomes one big integer, XORed with
    the key repeated to the same length, and back to bytes (chunks stay in cache).
    """
    if len(key) != 4:
        raise ValueError("a mask key is 4 bytes")
    n = len(data)
    if n == 0:
        return b""
    key = bytes(key)
    if n <= _MASK_CHUNK:
        stream = key * (n // 4) + key[: n % 4]
        return (int.from_bytes(data, "little") ^ int.from_bytes(stream, "little")
                ).to_bytes(n, "little")
    full = int.from_bytes(key * (_MASK_CHUNK // 4), "little")
    view = memoryview(data)
    out = []
    for i in range(0, n, _MASK_CHUNK):
        chunk = view[i:i + _MASK_CHUNK]
        m = len(chunk)
        k = full if m == _MASK_CHUNK else int.from_bytes(key * (m // 4) + key[: m % 4],
                                                         "little")
        out.append((int.from_bytes(chunk, "little") ^ k).to_bytes(m, "little"))
    return b"".join(out)


def serialize(frame: Frame, *, length_form: int | None = None) -> bytes:
    """The frame's wire bytes.  The length uses the minimal form unless
    ``length_form`` (7, 16 or 64) forces another (fault injection).  Rule-breaking
    frames are written as asked; only impossible ones raise ValueError."""
    if not 0 <= frame.opcode <= 15:
        raise ValueError("an opcode is 4 bits")
    b0 = (frame.fin << 7) | (frame.rsv1 << 6) | (frame.rsv2 << 5) | (frame.rsv3 << 4) \
        | frame.opcode
    n = len(frame.payload)
    if length_form is None:
        length_form = 7 if n < 126 else 16 if n < 65536 else 64
    mbit = 0x80 if frame.mask_key is not None else 0
    if length_form == 7:
        if n > 125:
            raise ValueError("payload too long for the 7-bit length")
        head = bytes([b0, mbit | n])
    elif length_form == 16:
        if n > 0xFFFF:
            raise ValueError("payload too long for the 16-bit length")
        head = struct.pack("!BBH", b0, mbit | 126, n)
    elif length_form == 64:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    else:
        raise ValueError("length_form is 7, 16 or 64")
    if frame.mask_key is None:
        return head + frame.payload
    return head + frame.mask_key + apply_mask(frame.payload, frame.mask_key)


@dataclass
class FrameLayout:
    """Where each part of a parsed frame sits: absolute offsets into the buffer."""

    start: int
    header_end: int
    length_form: int
    length_span: tuple[int, int]
    mask_span: tuple[int, int]
    payload_span: tuple[int, int]
    end: int


def parse_header(buf: bytes | bytearray, offset: int = 0, *, max_size: int | None = LIMIT
                 ) -> tuple[Frame, FrameLayout] | None:
    """Read the header of the frame that starts at ``buf[offset]``: a Frame with an
    empty payload and the frame's layout (offsets into ``buf``; ``end`` is where the
    whole frame will end).  None until the header is complete.

    Raises :class:`ProtocolError` for a 64-bit length with the most significant bit
    set (§5.2) and for a payload above ``max_size`` (1009): a frame that is too big
    is refused from its length, before any of its payload is buffered."""
    max_size = _frame_limit(max_size)
    avail = len(buf) - offset
    if avail < 2:
        return None
    b0 = buf[offset]
    b1 = buf[offset + 1]
    n = b1 & 0x7F
    pos = offset + 2
    if n == 126:
        if avail < 4:
            return None
        n = int.from_bytes(buf[pos:pos + 2], "big")
        form, lspan = 16, (pos, pos + 2)
        pos += 2
    elif n == 127:
        if avail < 10:
            return None
        n = int.from_bytes(buf[pos:pos + 8], "big")
        if n >> 63:
            raise ProtocolError("the most significant bit of a 64-bit length must be 0",
                                "RFC 6455 §5.2", pos, 1002, code="ws.length_top_bit")
        form, lspan = 64, (pos, pos + 8)
        pos += 8
    else:
        form, lspan = 7, (offset + 1, offset + 1)
    if max_size is not None and n > max_size:
        raise ProtocolError(f"payload of {n} bytes is over the {max_size}-byte limit",
                            "RFC 6455 §10.4", lspan[0], 1009, code="ws.frame_too_big", size=n,
                            limit=max_size)
    mask_key = None
    mspan = (pos, pos)
    if b1 & 0x80:
        if len(buf) < pos + 4:
            return None
        mask_key = bytes(buf[pos:pos + 4])
        mspan = (pos, pos + 4)
        pos += 4
    frame = Frame(b0 & 0x0F, b"", bool(b0 & 0x80), bool(b0 & 0x40), bool(b0 & 0x20),
                  bool(b0 & 0x10), mask_key)
    return frame, FrameLayout(offset, pos, form, lspan, mspan, (pos, pos + n), pos + n)


def parse_frame(buf: bytes | bytearray, offset: int = 0, *, max_size: int | None = LIMIT
                ) -> tuple[Frame, FrameLayout] | None:
    """Read one frame starting at ``buf[offset]``; None if it is not complete yet.

    Structural only: raises :class:`ProtocolError` for a 64-bit length with the
    most significant bit set (§5.2) and for a payload above ``max_size`` (1009,
    raised as soon as the length is known).  Everything else is frame_problems'.
    """
    head = parse_header(buf, offset, max_size=max_size)
    if head is None or len(buf) < head[1].end:
        return None
    frame, layout = head
    pos, end = layout.payload_span
    if frame.mask_key is not None:
        frame.payload = apply_mask(memoryview(buf)[pos:end], frame.mask_key)  # one pass, one copy
    else:
        frame.payload = bytes(buf[pos:end])
    return frame, layout


def _shift(layout: FrameLayout, by: int) -> FrameLayout:
    def s(span: tuple[int, int]) -> tuple[int, int]:
        return (span[0] + by, span[1] + by)
    return FrameLayout(layout.start + by, layout.header_end + by, layout.length_form,
                       s(layout.length_span), s(layout.mask_span), s(layout.payload_span),
                       layout.end + by)


@dataclass
class FrameChunk:
    """A frame, or a piece of a large frame's payload, as a :class:`FrameReader` reads it.

    ``frame`` carries the header bits; its ``payload`` is this chunk's unmasked bytes.
    ``layout`` is the whole frame's, in stream offsets (the same for every chunk of
    the frame).  ``at`` is where in the payload this chunk begins; ``raw`` is the bytes
    this chunk covers as they crossed (the header too, for the first chunk).  A frame
    read whole is one chunk, ``first`` and ``last``."""

    frame: Frame
    layout: FrameLayout
    at: int
    raw: bytes
    last: bool
    first: bool = True  # the chunk that holds the frame's header


class FrameReader:
    """Frames out of a byte stream as its bytes arrive (RFC 6455 §5.2), sans I/O.

    ``feed(data)`` adds bytes; ``next()`` returns the next :class:`FrameChunk` or
    None until more bytes come.  A frame of at most ``whole`` bytes comes as one
    chunk once it is complete; a larger one comes as its bytes arrive (its header
    with what payload is there, then the rest), so it is never held whole here.
    Frames are read where they lie in the buffer (no copy of the buffer per frame);
    consumed bytes are dropped in amortised linear time.  A frame whose length is
    over ``max_size`` is refused from its header (ProtocolError, 1009).  Offsets,
    also those of errors, count from the start of the stream (``base``)."""

    def __init__(self, max_size: int | None = LIMIT, *, whole: int = 1 << 16,
                 base: int = 0) -> None:
        self.max_size = _frame_limit(max_size)
        self.whole = whole
        self._buf = bytearray()
        self._pos = 0
        self._base = base  # stream offset of _buf[0]
        self._open: tuple[Frame, FrameLayout] | None = None  # a large frame being read

    @property
    def offset(self) -> int:
        """The stream offset of the next byte not read yet."""
        return self._base + self._pos

    @property
    def buffered(self) -> int:
        """Bytes fed and not read yet."""
        return len(self._buf) - self._pos

    @property
    def in_frame(self) -> bool:
        """Whether a large frame has been started and not finished."""
        return self._open is not None

    def feed(self, data: bytes) -> None:
        self._buf += data

    def take_rest(self) -> bytes:
        """Every byte fed and not read (the reader is done with the stream)."""
        rest = bytes(self._buf[self._pos:])
        self._base += len(self._buf)
        self._buf.clear()
        self._pos = 0
        return rest

    def _compact(self) -> None:
        if self._pos and (self._pos == len(self._buf) or self._pos > len(self._buf) // 2):
            del self._buf[:self._pos]
            self._base += self._pos
            self._pos = 0

    def next(self) -> FrameChunk | None:
        if self._open is not None:
            return self._more()
        try:
            head = parse_header(self._buf, self._pos, max_size=self.max_size)
        except ProtocolError as exc:
            raise exc.at(exc.offset - self._pos + self.offset) from None
        if head is None:
            self._compact()
            return None
        frame, layout = head
        size = layout.end - layout.start
        if len(self._buf) >= layout.end:  # complete: one chunk
            pos, end = layout.payload_span
            raw = bytes(self._buf[self._pos:layout.end])
            body = raw[pos - self._pos:]
            frame.payload = apply_mask(body, frame.mask_key) if frame.mask_key is not None else body
            chunk = FrameChunk(frame, _shift(layout, self._base), 0, raw, True)
            self._pos = layout.end
            if self._pos > 1 << 20:
                self._compact()
            return chunk
        if size <= self.whole:
            self._compact()
            return None
        # large: the header and what payload is here now; the rest as it comes
        self._open = (frame, _shift(layout, self._base))
        return self._more()

    def _more(self) -> FrameChunk | None:
        frame, layout = self._open
        here = self.offset
        first = here == layout.start
        if not first and self.buffered == 0:
            self._compact()
            return None
        take = min(self.buffered, layout.end - here)
        raw = bytes(self._buf[self._pos:self._pos + take])
        start = max(here, layout.payload_span[0])
        body = raw[start - here:]
        at = start - layout.payload_span[0]
        if frame.mask_key is not None and body:
            k = frame.mask_key
            body = apply_mask(body, k[at % 4:] + k[:at % 4])
        self._pos += take
        last = here + take == layout.end
        if last:
            self._open = None
        self._compact()
        part = Frame(frame.opcode, body, frame.fin, frame.rsv1, frame.rsv2, frame.rsv3, frame.mask_key)
        return FrameChunk(part, layout, at, raw, last, first)


def frame_problems(frame: Frame, layout: FrameLayout | None = None, *, sender: str,
                   rsv1_allowed: bool = False) -> list[ProtocolError]:
    """Every rule of RFC 6455 §5/§7 that this one frame breaks, as seen by its
    receiver.  ``sender`` is "client" or "server".  ``rsv1_allowed``: an extension
    such as permessage-deflate gave RSV1 a meaning (then only on the first frame of
    a data message, RFC 7692 §6).  Offsets are absolute when ``layout`` is given,
    else -1."""
    if sender not in ("client", "server"):
        raise ValueError("sender is 'client' or 'server'")
    out: list[ProtocolError] = []
    # the payload's length from the header: ``frame.payload`` may be only its first part
    size = layout.payload_span[1] - layout.payload_span[0] if layout is not None else len(frame.payload)
    at = (lambda rel: layout.start + rel) if layout is not None else (lambda rel: -1)
    pay = (lambda rel: layout.payload_span[0] + rel) if layout is not None else (lambda rel: -1)

    if sender == "client" and not frame.masked:
        out.append(ProtocolError("a client must mask every frame it sends", "RFC 6455 §5.1",
                                 at(1), code="ws.client_unmasked"))
    if sender == "server" and frame.masked:
        out.append(ProtocolError("a server must not mask the frames it sends",
                                 "RFC 6455 §5.1", at(1), code="ws.server_masked"))
    is_control = frame.opcode >= 8
    if frame.rsv1:
        if not rsv1_allowed:
            out.append(ProtocolError("RSV1 is set but no extension gives it a meaning",
                                     "RFC 6455 §5.2", at(0), code="ws.rsv_unnegotiated", bit="RSV1"))
        elif frame.opcode not in (Opcode.TEXT, Opcode.BINARY):
            out.append(ProtocolError("RSV1 may only be set on the first frame of a data "
                                     "message", "RFC 7692 §6", at(0), code="ws.rsv1_not_first"))
    for bit in ("rsv2", "rsv3"):
        if getattr(frame, bit):
            out.append(ProtocolError(f"{bit.upper()} is set but no extension gives it a "
                                     "meaning", "RFC 6455 §5.2", at(0), code="ws.rsv_unnegotiated",
                                     bit=bit.upper()))
    if frame.opcode not in OPCODE_NAMES or OPCODE_NAMES[frame.opcode] == "reserved":
        out.append(ProtocolError(f"opcode 0x{frame.opcode:x} is reserved", "RFC 6455 §5.2",
                                 at(0), code="ws.reserved_opcode", opcode=f"0x{frame.opcode:x}"))
    if is_control:
        if size > 125:
            out.append(ProtocolError(f"a control frame carries at most 125 bytes, this one "
                                     f"{size}", "RFC 6455 §5.5", at(1),
                                     code="ws.control_too_big", size=size))
        if not frame.fin:
            out.append(ProtocolError("a control frame must not be fragmented (FIN=0)",
                                     "RFC 6455 §5.5", at(0), code="ws.control_fragmented"))
    if frame.opcode == Opcode.CLOSE and len(frame.payload) == size:
        try:
            parse_close(frame.payload)
        except ProtocolError as e:
            out.append(e.at(pay(e.offset)))
    if layout is not None:
        n = size
        if layout.length_form == 16 and n < 126 or layout.length_form == 64 and n < 65536:
            out.append(ProtocolError(f"a {n}-byte length must use the shortest encoding, "
                                     f"not {layout.length_form} bits", "RFC 6455 §5.2",
                                     layout.length_span[0], code="ws.length_not_minimal", size=n,
                                     form=layout.length_form))
    return out


# --- close frames ----------------------------------------------------------------------


def build_close(code: int | None, reason: str = "", *, check: bool = True) -> bytes:
    """A Close payload: 2-byte code + UTF-8 reason, or empty for no code.

    With ``check`` (default) an unsendable code or a payload over 125 bytes raises
    ValueError; ``check=False`` writes them anyway (fault injection)."""
    if code is None:
        if reason:
            raise ValueError("a reason needs a code (RFC 6455 §5.5.1)")
        return b""
    if not 0 <= code <= 0xFFFF:
        raise ValueError("a close code is 16 bits")
    data = code.to_bytes(2, "big") + reason.encode("utf-8")
    if check:
        if not close_code_sendable(code):
            raise ValueError(f"{close_code_name(code)} may not be sent (RFC 6455 §7.4)")
        if len(data) > 125:
            raise ValueError("a close payload is at most 125 bytes (RFC 6455 §5.5)")
    return data


def parse_close(payload: bytes) -> tuple[int | None, str]:
    """``(code, reason)`` from a Close payload; ``(None, "")`` if it is empty.
    Raises :class:`ProtocolError` with ``offset`` into the payload."""
    if len(payload) == 0:
        return None, ""
    if len(payload) == 1:
        raise ProtocolError("a close payload of 1 byte cannot hold a status code",
                            "RFC 6455 §5.5.1", 0, code="ws.close_one_byte")
    code = int.from_bytes(payload[:2], "big")
    if not close_code_sendable(code):
        raise ProtocolError(f"close code {close_code_name(code)} may not be sent",
                            "RFC 6455 §7.4", 0, code="ws.close_code_unsendable", value=code)
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError as e:
        raise ProtocolError("the close reason is not valid UTF-8", "RFC 6455 §5.5.1",
                            2 + e.start, 1007, code="ws.close_reason_utf8") from None
    return code, reason


# --- messages ----------------------------------------------------------------------------


@dataclass
class Message:
    """A whole message (or one control frame).  ``text`` is set for text messages.

    ``size`` is the message's length in bytes (inflated); ``data`` holds all of it,
    or its first ``keep`` bytes when the assembler keeps only so many."""

    opcode: int
    data: bytes
    frames: int
    text: str | None
    compressed: bool = False
    size: int = -1

    def __post_init__(self) -> None:
        if self.size < 0:
            self.size = len(self.data)

    @property
    def whole(self) -> bool:
        return len(self.data) == self.size


class MessageAssembler:
    """Reassembles fragmented messages (RFC 6455 §5.4) and checks them.

    ``feed(frame)`` takes whole frames; ``feed_chunk(chunk)`` takes a
    :class:`FrameReader`'s chunks, so a large frame is checked as it arrives.  Both
    return a Message when one is complete, None while a message is still open, and
    raise :class:`ProtocolError` at the first broken rule: a continuation with no
    open message, a new data frame while one is open, a fragmented control frame
    (1002); invalid UTF-8 in a text message, detected at the first bad byte even in a
    non-final fragment (1007, §8.1); a message over ``max_size`` (1009).  Control
    frames between fragments come back at once.  After an error the assembler starts
    afresh.

    ``inflater`` (a ``deflate.Decompressor``) turns on permessage-deflate: a message
    whose first frame has RSV1 is inflated fragment by fragment as it arrives
    (RFC 7692 §7.2.2), then checked like any other.  ``keep``: hold at most this many
    bytes of each message (None: all of it); the rest is checked and counted.
    ProtocolError offsets are byte offsets into the (inflated) message.
    """

    def __init__(self, max_size: int | None = LIMIT, *, inflater: object | None = None,
                 keep: int | None = None, on_data: Callable[[bytes], None] | None = None,
                 max_fragments: int | None = LIMIT) -> None:
        self.max_size = _limits.LIMITS.max_message if max_size is LIMIT else max_size
        self.max_fragments = _limits.LIMITS.max_fragments if max_fragments is LIMIT else max_fragments
        self.inflater = inflater
        self.keep = keep
        self.on_data = on_data  # sees each piece of a data message as the application gets it
        self._reset()
        self._control: Frame | None = None  # the control frame being read
        self._control_parts: list[bytes] = []

    @property
    def in_message(self) -> bool:
        return self._opcode is not None

    def feed(self, frame: Frame) -> Message | None:
        return self.feed_chunk(FrameChunk(frame, None, 0, b"", True))  # type: ignore[arg-type]

    def feed_chunk(self, chunk: FrameChunk) -> Message | None:
        frame = chunk.frame
        op = frame.opcode
        try:
            if op >= 8:
                return self._control_chunk(chunk)
            if chunk.first:
                self._start(frame)
            self._data(frame.payload, final=chunk.last and frame.fin)
        except ProtocolError:
            self._reset()
            raise
        if not chunk.last:
            return None
        self._frames += 1
        if not frame.fin:
            return None
        message = Message(self._opcode, b"".join(self._parts), self._frames,
                          "".join(self._text) if self._opcode == Opcode.TEXT else None,
                          self._compressed, self._size)
        self._reset()
        return message

    def _control_chunk(self, chunk: FrameChunk) -> Message | None:
        frame = chunk.frame
        if chunk.first:
            if frame.opcode not in CONTROL_OPCODES:
                raise ProtocolError(f"opcode 0x{frame.opcode:x} is reserved", "RFC 6455 §5.2",
                                    code="ws.reserved_opcode", opcode=f"0x{frame.opcode:x}")
            if not frame.fin:
                raise ProtocolError("a control frame must not be fragmented",
                                    "RFC 6455 §5.4", code="ws.control_fragmented")
            self._control_parts = []
        if sum(map(len, self._control_parts)) < 125:
            self._control_parts.append(frame.payload)
        if not chunk.last:
            return None
        data = b"".join(self._control_parts)
        self._control_parts = []
        return Message(frame.opcode, data, 1, None)

    def _start(self, frame: Frame) -> None:
        op = frame.opcode
        if op not in DATA_OPCODES:
            raise ProtocolError(f"opcode 0x{op:x} is reserved", "RFC 6455 §5.2",
                                code="ws.reserved_opcode", opcode=f"0x{op:x}")
        if op == Opcode.CONT:
            if self._opcode is None:
                raise ProtocolError("a continuation frame arrived with no message open",
                                    "RFC 6455 §5.4", code="ws.orphan_continuation")
            if self.max_fragments is not None and self._frames >= self.max_fragments:
                raise ProtocolError(f"a message has more than {self.max_fragments} fragments",
                                    "RFC 6455 §10.4", self._size, 1009, code="ws.too_many_fragments",
                                    limit=self.max_fragments)
            return
        if self._opcode is not None:
            raise ProtocolError(f"a new {OPCODE_NAMES[op]} frame arrived while a "
                                "fragmented message is open", "RFC 6455 §5.4",
                                code="ws.interleaved", opcode=OPCODE_NAMES[op])
        if frame.rsv1 and self.inflater is None:
            raise ProtocolError("RSV1 is set but no extension gives it a meaning",
                                "RFC 6455 §5.2", code="ws.rsv_unnegotiated", bit="RSV1")
        self._opcode = op
        self._compressed = frame.rsv1
        self._decoder = codecs.getincrementaldecoder("utf-8")() if op == Opcode.TEXT else None

    def _data(self, payload: bytes, *, final: bool) -> None:
        """One piece of the open message's payload, as it came (compressed or not)."""
        self._wire += len(payload)
        if self._compressed:
            data = self.inflater.feed(payload, final)  # bounded by its own max_size
        else:
            data = payload
            if self.max_size is not None and self._wire > self.max_size:
                raise ProtocolError(f"message is over the {self.max_size}-byte limit",
                                    "RFC 6455 §10.4", self.max_size, 1009, code="ws.message_too_big",
                                    limit=self.max_size)
        if self.on_data is not None:
            self.on_data(data)
        base = self._size
        self._size += len(data)
        if self._compressed and self.max_size is not None and self._size > self.max_size:
            raise ProtocolError(f"inflated message is over the {self.max_size}-byte "
                                "limit", "RFC 6455 §10.4", self.max_size, 1009,
                                code="ws.inflated_too_big", limit=self.max_size)
        if self._decoder is not None:
            text = self._check_text(data, final, base)
            if self.keep is None or self._kept < self.keep:
                self._text.append(text)
        if self.keep is None:
            self._parts.append(data)
        elif self._kept < self.keep:
            piece = data[:self.keep - self._kept]
            self._parts.append(piece)
            self._kept += len(piece)

    def _check_text(self, data: bytes, final: bool, base: int) -> str:
        assert self._decoder is not None
        pending = len(self._decoder.getstate()[0])
        try:
            return self._decoder.decode(data, final)
        except UnicodeDecodeError as e:
            raise ProtocolError("text message is not valid UTF-8", "RFC 6455 §8.1",
                                base - pending + e.start, 1007, code="ws.text_utf8") from None

    def _reset(self) -> None:
        self._opcode: int | None = None
        self._parts: list[bytes] = []
        self._size = 0  # bytes of the message (inflated)
        self._wire = 0  # bytes of its payloads as they came
        self._kept = 0
        self._frames = 0
        self._compressed = False
        self._decoder = None
        self._text: list[str] = []
