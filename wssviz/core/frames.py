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
from typing import Callable

from wssviz.core.msg import Msg
from wssviz.core.msg import rule as rule_msg

DEFAULT_MAX_SIZE = 64 * 2**20
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


def parse_frame(buf: bytes, offset: int = 0, *, max_size: int = DEFAULT_MAX_SIZE
                ) -> tuple[Frame, FrameLayout] | None:
    """Read one frame starting at ``buf[offset]``; None if it is not complete yet.

    Structural only: raises :class:`ProtocolError` for a 64-bit length with the
    most significant bit set (§5.2) and for a payload above ``max_size`` (1009,
    raised as soon as the length is known).  Everything else is frame_problems'.
    """
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
    header_end = pos
    end = pos + n
    if len(buf) < end:
        return None
    if mask_key is not None:
        payload = apply_mask(memoryview(buf)[pos:end], mask_key)  # one pass, one copy
    else:
        payload = bytes(buf[pos:end])
    frame = Frame(b0 & 0x0F, payload, bool(b0 & 0x80), bool(b0 & 0x40), bool(b0 & 0x20),
                  bool(b0 & 0x10), mask_key)
    return frame, FrameLayout(offset, header_end, form, lspan, mspan, (pos, end), end)


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
        if len(frame.payload) > 125:
            out.append(ProtocolError(f"a control frame carries at most 125 bytes, this one "
                                     f"{len(frame.payload)}", "RFC 6455 §5.5", at(1),
                                     code="ws.control_too_big", size=len(frame.payload)))
        if not frame.fin:
            out.append(ProtocolError("a control frame must not be fragmented (FIN=0)",
                                     "RFC 6455 §5.5", at(0), code="ws.control_fragmented"))
    if frame.opcode == Opcode.CLOSE:
        try:
            parse_close(frame.payload)
        except ProtocolError as e:
            out.append(e.at(pay(e.offset)))
    if layout is not None:
        n = len(frame.payload)
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
    """A whole message (or one control frame).  ``text`` is set for text messages."""

    opcode: int
    data: bytes
    frames: int
    text: str | None
    compressed: bool = False


class MessageAssembler:
    """Reassembles fragmented messages (RFC 6455 §5.4) and checks them.

    ``feed`` returns a Message when one is complete, None while a message is still
    open, and raises :class:`ProtocolError` at the first broken rule: a
    continuation with no open message, a new data frame while one is open, a
    fragmented control frame (1002); invalid UTF-8 in a text message, detected at the
    first bad byte even in a non-final fragment (1007, §8.1); a message over
    ``max_size`` (1009).  Control frames between fragments come back at once.

    ``inflate`` (e.g. ``Decompressor.decompress``) turns on permessage-deflate: a
    message whose first frame has RSV1 is inflated when complete, then checked.
    ProtocolError offsets are byte offsets into the message.
    """

    def __init__(self, max_size: int = DEFAULT_MAX_SIZE, *,
                 inflate: Callable[[bytes], bytes] | None = None) -> None:
        self.max_size = max_size
        self.inflate = inflate
        self._opcode: int | None = None
        self._parts: list[bytes] = []
        self._size = 0
        self._frames = 0
        self._compressed = False
        self._decoder = None
        self._text: list[str] = []

    @property
    def in_message(self) -> bool:
        return self._opcode is not None

    def _check_text(self, data: bytes, final: bool, base: int) -> str:
        assert self._decoder is not None
        pending = len(self._decoder.getstate()[0])
        try:
            return self._decoder.decode(data, final)
        except UnicodeDecodeError as e:
            raise ProtocolError("text message is not valid UTF-8", "RFC 6455 §8.1",
                                base - pending + e.start, 1007, code="ws.text_utf8") from None

    def feed(self, frame: Frame) -> Message | None:
        op = frame.opcode
        if op >= 8:
            if op not in CONTROL_OPCODES:
                raise ProtocolError(f"opcode 0x{op:x} is reserved", "RFC 6455 §5.2",
                                    code="ws.reserved_opcode", opcode=f"0x{op:x}")
            if not frame.fin:
                raise ProtocolError("a control frame must not be fragmented",
                                    "RFC 6455 §5.4", code="ws.control_fragmented")
            return Message(op, frame.payload, 1, None)
        if op not in DATA_OPCODES:
            raise ProtocolError(f"opcode 0x{op:x} is reserved", "RFC 6455 §5.2",
                                code="ws.reserved_opcode", opcode=f"0x{op:x}")
        if op == Opcode.CONT:
            if self._opcode is None:
                raise ProtocolError("a continuation frame arrived with no message open",
                                    "RFC 6455 §5.4", code="ws.orphan_continuation")
        else:
            if self._opcode is not None:
                raise ProtocolError(f"a new {OPCODE_NAMES[op]} frame arrived while a "
                                    "fragmented message is open", "RFC 6455 §5.4",
                                    code="ws.interleaved", opcode=OPCODE_NAMES[op])
            self._opcode = op
            self._compressed = frame.rsv1
            if frame.rsv1 and self.inflate is None:
                raise ProtocolError("RSV1 is set but no extension gives it a meaning",
                                    "RFC 6455 §5.2", code="ws.rsv_unnegotiated", bit="RSV1")
            self._decoder = (codecs.getincrementaldecoder("utf-8")()
                             if op == Opcode.TEXT else None)
        base = self._size
        if self.max_size is not None and base + len(frame.payload) > self.max_size:
            self._reset()
            raise ProtocolError(f"message is over the {self.max_size}-byte limit",
                                "RFC 6455 §10.4", self.max_size, 1009, code="ws.message_too_big",
                                limit=self.max_size)
        self._size += len(frame.payload)
        self._frames += 1
        self._parts.append(frame.payload)
        if self._decoder is not None and not self._compressed:
            self._text.append(self._check_text(frame.payload, frame.fin, base))
        if not frame.fin:
            return None
        data = b"".join(self._parts)
        opcode, frames, compressed = self._opcode, self._frames, self._compressed
        pieces = self._text
        self._reset()
        text = None
        if compressed:
            assert self.inflate is not None
            data = self.inflate(data)
            if self.max_size is not None and len(data) > self.max_size:
                raise ProtocolError(f"inflated message is over the {self.max_size}-byte "
                                    "limit", "RFC 6455 §10.4", self.max_size, 1009,
                                    code="ws.inflated_too_big", limit=self.max_size)
            if opcode == Opcode.TEXT:
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise ProtocolError("text message is not valid UTF-8", "RFC 6455 §8.1",
                                        e.start, 1007, code="ws.text_utf8") from None
        elif opcode == Opcode.TEXT:
            text = "".join(pieces)  # validated and decoded incrementally
        return Message(opcode, data, frames, text, compressed)

    def _reset(self) -> None:
        self._opcode = None
        self._parts = []
        self._size = 0
        self._frames = 0
        self._compressed = False
        self._decoder = None
        self._text = []
