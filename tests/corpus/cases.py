"""The malformed-input corpus, as data.

Every case names its class (``frames``, ``handshake``, ``tls``, ``files``), the kind of
fault it belongs to (one of the fault kinds the corpus promises: 28 for frames, 25 for
handshake, 9 for tls, 19 for files; a kind may have several cases, e.g. the same fault
against ``listen`` and against ``connect``), a name, the program it is aimed at
(``target``), what to send or write (``send``), and what must come out (``expect``).
Its id is ``class/name``.

The bytes are built here with a tiny encoder of our own (not wssviz's), so the corpus
does not trust the code it tests.

``expect`` keys (all optional; test_corpus.py checks each one given):

- ``rules``: acceptable ``error.rule`` ids; some ``error`` step must carry one of them
- ``layer``: that step's ``error.layer`` starts with this
- ``offset``: where the fault is, counted from the first byte of the case's own bytes
  (for frames: the first byte after the "before" frame; for a head: the head's first
  byte); the offset is also accepted counted from the start of the stream.  For frames
  also ``"payload"``, ``"payload+N"`` (the first frame's payload) or ``"frame2"`` (where
  the second frame starts)
- ``offset_at``: the offset as ``(needle, nth=0, plus=0)``: where the ``nth`` ``needle``
  is in the bytes as sent (a head with its placeholders filled in), plus ``plus``
- ``msg_offset``: another acceptable offset, into the (inflated) message
- ``close``: the close code the side that noticed sent back (a close frame step)
- ``status``: the HTTP status of the refusal (listen's answer)
- ``ok``: the case is not a fault: no step has status error, the message is echoed
- ``echo``: the message the peer must get back (frames ``ok`` cases)
- ``seconds``: the whole case (detection included) ends within this many seconds
- ``rc``, ``stderr``: a command line's exit status and first word of its one-line message
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

CLASSES = ("frames", "handshake", "tls", "files")
#: How many fault kinds each class promises (at least).
PROMISED_KINDS = {"frames": 28, "handshake": 25, "tls": 9, "files": 19}


@dataclass(frozen=True)
class Case:
    cls: str  # frames | handshake | tls | files
    kind: str  # the fault kind
    name: str  # unique in its class
    target: str  # listen | connect | cli | ui
    send: dict[str, Any] = field(default_factory=dict)
    expect: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.cls}/{self.name}"


# --- an encoder of our own ---------------------------------------------------------------

MASK = bytes.fromhex("0badf00d")  # the raw client's masking key


def xor(data: bytes, key: bytes) -> bytes:
    return bytes(b ^ key[i % 4] for i, b in enumerate(data))


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv1: bool = False, rsv2: bool = False,
          rsv3: bool = False, mask: bytes | None = MASK, form: int | None = None,
          length: int | None = None) -> bytes:
    """One WebSocket frame as RFC 6455 §5.2 lays it out.  ``form`` forces the length
    encoding (7, 16, 64); ``length`` announces a length other than the payload's
    (a header with no payload behind it)."""
    n = len(payload) if length is None else length
    b0 = fin << 7 | rsv1 << 6 | rsv2 << 5 | rsv3 << 4 | opcode
    m = 0x80 if mask is not None else 0
    form = form or (7 if n < 126 else 16 if n < 65536 else 64)
    if form == 7:
        head = bytes([b0, m | n])
    elif form == 16:
        head = bytes([b0, m | 126]) + struct.pack("!H", n)
    else:
        head = bytes([b0, m | 127]) + struct.pack("!Q", n)
    if mask is None:
        return head + payload
    return head + mask + xor(payload, mask)


def head_size(opcode_frame: bytes) -> int:
    """Bytes before the payload of a frame built by ``frame``."""
    b1 = opcode_frame[1]
    n = b1 & 0x7F
    size = 2 + (2 if n == 126 else 8 if n == 127 else 0)
    return size + (4 if b1 & 0x80 else 0)


def deflated(data: bytes) -> bytes:
    """Raw DEFLATE of ``data`` without its 00 00 ff ff tail (RFC 7692 §7.2.1)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def request(*, drop: tuple[str, ...] = (), extra: bytes = b"", method: bytes = b"GET",
            target: bytes = b"/ws", version: bytes = b"HTTP/1.1", host: bytes = b"localhost:{port}",
            key: bytes = b"dGhlIHNhbXBsZSBub25jZQ==", eol: bytes = b"\r\n") -> bytes:
    """An Upgrade request head; ``{port}`` is filled in with listen's port."""
    headers = [(b"Host", host), (b"Upgrade", b"websocket"), (b"Connection", b"Upgrade"),
               (b"Sec-WebSocket-Key", key), (b"Sec-WebSocket-Version", b"13")]
    lines = [method + b" " + target + b" " + version]
    lines += [k + b": " + v for k, v in headers if k.decode() not in drop]
    return eol.join(lines) + eol + extra.replace(b"\r\n", eol) + eol


#: The response a good server sends (the Accept is filled in for the client's key).
RESPONSE_101 = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: {accept}\r\n")


def response(extra: bytes = b"", *, drop: tuple[bytes, ...] = (), version: bytes = b"HTTP/1.1",
             accept: bytes = b"{accept}") -> bytes:
    lines = [version + b" 101 Switching Protocols", b"Upgrade: websocket", b"Connection: Upgrade",
             b"Sec-WebSocket-Accept: " + accept]
    lines = [ln for ln in lines if not any(ln.startswith(d + b":") for d in drop)]
    return b"\r\n".join(lines) + b"\r\n" + extra + b"\r\n"


def at(data: bytes, needle: bytes, nth: int = 0) -> int:
    """The offset of the ``nth`` occurrence of ``needle`` in ``data``."""
    pos = -1
    for _ in range(nth + 1):
        pos = data.index(needle, pos + 1)
    return pos


# --- frames ----------------------------------------------------------------------------------

#: What each frames case starts with, from the side that misbehaves: a good text frame
#: ("Hello"), echoed before the fault (listen: the raw client's; connect: the server's
#: echo of the client's "Hello").
BEFORE = b"Hello"


def _frames() -> list[Case]:
    out: list[Case] = []

    def add(kind: str, name: str, payload_c: bytes | None, payload_s: bytes | None, **expect: Any) -> None:
        """A frames case against listen (the raw client sends ``payload_c``, masked)
        and against connect (the raw server sends ``payload_s``, unmasked)."""
        send = expect.pop("send", {})
        if payload_c is not None:
            out.append(Case("frames", kind, f"{name}@listen", "listen", {"frames": payload_c, **send},
                            dict(expect)))
        if payload_s is not None:
            out.append(Case("frames", kind, f"{name}@connect", "connect", {"frames": payload_s, **send},
                            dict(expect)))

    def both(kind: str, name: str, build, **expect: Any) -> None:
        add(kind, name, build(MASK), build(None), **expect)

    f = frame
    # RSV bits with no extension (RFC 6455 §5.2)
    for bit in ("rsv2", "rsv3"):
        both("rsv_bits_without_extension", bit, lambda m, bit=bit: f(1, b"x", mask=m, **{bit: True}),
             rules=("ws.rsv_unnegotiated",), layer="ws", offset=0, close=1002)
    add("rsv_bits_without_extension", "rsv1_rsv2_rsv3",
        f(1, b"x", rsv1=True, rsv2=True, rsv3=True), None,
        rules=("ws.rsv_unnegotiated",), layer="ws", offset=0, close=1002)
    for op in (0x3, 0x7):
        both("reserved_data_opcode", f"opcode_{op:x}", lambda m, op=op: f(op, b"x", mask=m),
             rules=("ws.reserved_opcode",), layer="ws", offset=0, close=1002)
    for op in (0xB, 0xF):
        both("reserved_control_opcode", f"opcode_{op:x}", lambda m, op=op: f(op, b"x", mask=m),
             rules=("ws.reserved_opcode",), layer="ws", offset=0, close=1002)
    add("unmasked_client_frame", "unmasked_text", f(1, b"not masked", mask=None), None,
        rules=("ws.client_unmasked",), layer="ws", offset=1, close=1002)
    add("masked_server_frame", "masked_text", None, f(1, b"masked", mask=MASK),
        rules=("ws.server_masked",), layer="ws", offset=1, close=1002)
    both("fragmented_control_frame", "ping_fin0", lambda m: f(9, b"p", fin=False, mask=m),
         rules=("ws.control_fragmented",), layer="ws", offset=0, close=1002)
    both("control_frame_over_125", "pong_200", lambda m: f(10, b"p" * 200, mask=m),
         rules=("ws.control_too_big",), layer="ws", offset=1, close=1002)
    both("control_frame_over_125", "close_126", lambda m: f(8, b"\x03\xe8" + b"r" * 124, mask=m),
         rules=("ws.control_too_big",), layer="ws", offset=1, close=1002)
    both("orphan_continuation", "cont_first", lambda m: f(0, b"lost", mask=m),
         rules=("ws.orphan_continuation",), layer="ws", offset=0, close=1002)
    both("interleaved_data_messages", "text_then_binary",
         lambda m: f(1, b"part", fin=False, mask=m) + f(2, b"other", mask=m),
         rules=("ws.interleaved",), layer="ws", offset="frame2", close=1002)
    both("interleaved_data_messages", "binary_then_text",
         lambda m: f(2, b"part", fin=False, mask=m) + f(1, b"other", mask=m),
         rules=("ws.interleaved",), layer="ws", offset="frame2", close=1002)
    both("non_minimal_16bit_length", "len3_as_16", lambda m: f(1, b"abc", mask=m, form=16),
         rules=("ws.length_not_minimal",), layer="ws", offset=2, close=1002)
    both("non_minimal_64bit_length", "len3_as_64", lambda m: f(1, b"abc", mask=m, form=64),
         rules=("ws.length_not_minimal",), layer="ws", offset=2, close=1002)
    both("non_minimal_64bit_length", "len200_as_64", lambda m: f(2, b"b" * 200, mask=m, form=64),
         rules=("ws.length_not_minimal",), layer="ws", offset=2, close=1002)
    both("length_top_bit", "top_bit", lambda m: f(2, b"", mask=m, form=64, length=1 << 63) + b"x" * 8,
         rules=("ws.length_top_bit",), layer="ws", offset=2, close=1002)
    both("length_1gib", "one_gib", lambda m: f(2, b"", mask=m, length=1 << 30) + b"x" * 64,
         rules=("ws.frame_too_big",), layer="ws", offset=2, close=1009, seconds=8)
    both("length_2p63_minus_1", "max_length", lambda m: f(2, b"", mask=m, length=(1 << 63) - 1) + b"x" * 64,
         rules=("ws.frame_too_big",), layer="ws", offset=2, close=1009, seconds=8)
    both("utf8_invalid_one_frame", "ff_byte", lambda m: f(1, b"ab\xffcd", mask=m),
         rules=("ws.text_utf8",), layer="ws", msg_offset=2, close=1007)
    both("utf8_invalid_one_frame", "lone_surrogate", lambda m: f(1, b"a\xed\xa0\x80z", mask=m),
         rules=("ws.text_utf8",), layer="ws", msg_offset=1, close=1007)
    both("utf8_invalid_split_fragments", "e282_then_paren",
         lambda m: f(1, b"ab\xe2\x82", fin=False, mask=m) + f(0, b"(x", mask=m),
         rules=("ws.text_utf8",), layer="ws", msg_offset=2, close=1007)
    both("utf8_invalid_split_fragments", "valid_euro_split",  # not a fault: € split e2 | 82 ac
         lambda m: f(1, b"price \xe2", fin=False, mask=m) + f(0, b"\x82\xac", mask=m),
         ok=True, echo="price €")
    both("utf8_truncated_at_end", "e282_end", lambda m: f(1, b"ab\xe2\x82", mask=m),
         rules=("ws.text_utf8",), layer="ws", msg_offset=2, close=1007)
    both("utf8_truncated_at_end", "truncated_in_last_fragment",
         lambda m: f(1, b"ok ", fin=False, mask=m) + f(0, b"\xf0\x9f\x98", mask=m),
         rules=("ws.text_utf8",), layer="ws", msg_offset=3, close=1007)
    both("close_one_byte_payload", "one_byte", lambda m: f(8, b"\x03", mask=m),
         rules=("ws.close_one_byte",), layer="ws", offset="payload", close=1002)
    for code in (1005, 1006, 1015, 999, 5000, 1004, 2999):
        build = (lambda m, code=code: f(8, struct.pack("!H", code) + b"why", mask=m))
        if code in (1005, 5000):
            both("close_unsendable_code", f"code_{code}", build,
                 rules=("ws.close_code_unsendable",), layer="ws", offset="payload", close=1002)
        else:
            add("close_unsendable_code", f"code_{code}", build(MASK), None,
                rules=("ws.close_code_unsendable",), layer="ws", offset="payload", close=1002)
    both("close_reason_not_utf8", "reason_ff", lambda m: f(8, b"\x03\xe8ok\xff", mask=m),
         rules=("ws.close_reason_utf8",), layer="ws", offset="payload+4", close=1007)
    first = deflated(b"hello, ")
    both("rsv1_on_continuation", "deflate_cont_rsv1",
         lambda m: f(1, first, fin=False, rsv1=True, mask=m) + f(0, deflated(b"world"), rsv1=True, mask=m),
         rules=("ws.rsv1_not_first",), layer="ws", offset="frame2", close=1002,
         send={"deflate": True})
    both("rsv1_without_deflate", "rsv1_text", lambda m: f(1, b"plain", rsv1=True, mask=m),
         rules=("ws.rsv_unnegotiated",), layer="ws", offset=0, close=1002)
    both("rsv1_without_deflate", "rsv1_ping", lambda m: f(9, b"p", rsv1=True, mask=m),
         rules=("ws.rsv_unnegotiated",), layer="ws", offset=0, close=1002)
    bomb = deflated(b"\0" * (1 << 20))  # 1 MiB of zeros in about a kilobyte
    both("decompression_bomb", "bomb_1mib_over_64kib_limit", lambda m: f(2, bomb, rsv1=True, mask=m),
         rules=("ws.inflated_too_big", "ws.message_too_big"), layer="ws", close=1009,
         send={"deflate": True, "limits": {"max_message": 64 * 1024}})
    big_bomb = deflated(b"\0" * (65 << 20))  # 65 MiB in about 65 KiB: over the default limit
    add("decompression_bomb", "bomb_65mib_default_limit", f(2, big_bomb, rsv1=True), None,
        rules=("ws.inflated_too_big", "ws.message_too_big"), layer="ws", close=1009, seconds=20,
        send={"deflate": True})
    n = 200_000
    many = f(1, b"a", fin=False) + f(0, b"a", fin=False) * (n - 2) + f(0, b"a")
    add("fragments_200k", "one_byte_fragments", many, f(1, b"a", fin=False, mask=None)
        + f(0, b"a", fin=False, mask=None) * (n - 2) + f(0, b"a", mask=None), ok=True, echo="a" * n, seconds=120)
    both("split_one_byte_per_write", "text_byte_by_byte", lambda m: f(1, b"slowly, byte by byte", mask=m),
         ok=True, echo="slowly, byte by byte", send={"per_byte": True})
    both("data_after_close", "text_after_close",
         lambda m: f(8, b"\x03\xe8", mask=m) + f(1, b"too late", mask=m),
         rules=("ws.bytes_after_close",), layer="ws", close=1000, warning_only=True)
    both("ping_126_bytes", "ping_126", lambda m: f(9, b"p" * 126, mask=m),
         rules=("ws.control_too_big",), layer="ws", offset=1, close=1002)
    both("overlong_utf8", "c0af_slash", lambda m: f(1, b"a\xc0\xafb", mask=m),
         rules=("ws.text_utf8",), layer="ws", msg_offset=1, close=1007)
    both("overlong_utf8", "e080af_slash", lambda m: f(1, b"ab\xe0\x80\xaf", mask=m),
         rules=("ws.text_utf8",), layer="ws", msg_offset=2, close=1007)
    # a client's message and its Close in one TLS record: the echo and the answer, no crash
    add("message_then_close_one_write", "text_and_close", f(1, b"one write") + f(8, b"\x03\xe8"), None,
        ok=True, close=1000)
    add("message_then_close_one_write", "text_and_bad_frame", f(1, b"one write") + f(3, b"x"), None,
        rules=("ws.reserved_opcode",), layer="ws", offset="frame2", close=1002)
    # frames in the same write as the opening handshake: the server's first frame may
    # come with its 101 (legal, common); a client that does not wait for the 101 breaks
    # RFC 6455 §4.1, yet what it sent must still be read and shown
    both("frame_with_the_handshake", "good_text", lambda m: f(1, b"right away", mask=m),
         ok=True, echo="right away", send={"with_handshake": True})
    both("frame_with_the_handshake", "reserved_opcode", lambda m: f(3, b"x", mask=m),
         rules=("ws.reserved_opcode",), layer="ws", offset=0, close=1002, send={"with_handshake": True})
    return out


# --- handshake -------------------------------------------------------------------------------


def _handshake() -> list[Case]:
    out: list[Case] = []

    def listen(kind: str, name: str, req: bytes, **expect: Any) -> None:
        send = expect.pop("send", {})
        out.append(Case("handshake", kind, f"{name}@listen", "listen", {"request": req, **send}, expect))

    def connect(kind: str, name: str, resp: bytes, **expect: Any) -> None:
        send = expect.pop("send", {})
        out.append(Case("handshake", kind, f"{name}@connect", "connect", {"response": resp, **send}, expect))

    r = request
    listen("missing_upgrade", "no_upgrade", r(drop=("Upgrade",)),
           rules=("ws.header_required", "ws.upgrade_token"), layer="http", status=400)
    connect("missing_upgrade", "no_upgrade", response(drop=(b"Upgrade",)),
            rules=("ws.header_required", "ws.upgrade_token"), layer="http")
    listen("missing_connection", "no_connection", r(drop=("Connection",)),
           rules=("ws.header_required", "ws.connection_token"), layer="http", status=400)
    connect("missing_connection", "no_connection", response(drop=(b"Connection",)),
            rules=("ws.header_required", "ws.connection_token"), layer="http")
    listen("missing_key", "no_key", r(drop=("Sec-WebSocket-Key",)),
           rules=("ws.header_required",), layer="http", status=400)
    connect("missing_key", "no_accept", response(drop=(b"Sec-WebSocket-Accept",)),
            rules=("ws.header_required",), layer="http")
    for name, key in (("key_4_bytes", b"AAAAAA=="), ("key_not_base64", b"not base64 at all!!!!!!="),
                      ("key_17_bytes", b"AAAAAAAAAAAAAAAAAAAAAAA=")):
        req = r(key=key)
        listen("key_not_16_bytes", name, req, rules=("ws.key_shape",), layer="http", status=400,
               offset_at=(key,))
    req = r(drop=("Sec-WebSocket-Version",), extra=b"Sec-WebSocket-Version: 8\r\n")
    listen("wrong_version", "version_8", req, rules=("ws.version_13",), layer="http", status=426,
           offset_at=(b"Version: 8", 0, 9))
    listen("missing_host", "no_host", r(drop=("Host",)), rules=("ws.header_required",), layer="http",
           status=400)
    req = r(extra=b"Host: localhost\r\n")
    listen("repeated_host", "two_hosts", req, rules=("ws.header_repeated",), layer="http", status=400,
           offset_at=(b"Host:", 1))
    req = r(extra=b"Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\n")
    listen("repeated_key", "two_keys", req, rules=("ws.header_repeated",), layer="http", status=400,
           offset_at=(b"Sec-WebSocket-Key:", 1))
    listen("method_post", "post", r(method=b"POST"), rules=("ws.method_get",), layer="http", status=400,
           offset=0)
    req = r(version=b"HTTP/1.0")
    listen("http_1_0", "request_http10", req, rules=("ws.http_version",), layer="http", status=400,
           offset_at=(b"HTTP/1.0",))
    connect("http_1_0", "response_http10", response(version=b"HTTP/1.0"),
            rules=("ws.response_version",), layer="http", offset=0)
    line = b"X-Big: " + b"a" * (1 << 20) + b"\r\n"
    listen("header_line_1mib", "big_line", r(extra=line), rules=("http.head_too_long", "http.line_too_long"),
           layer="http", status=431)
    listen("header_line_1mib", "big_line_head_limit_raised", r(extra=line), rules=("http.line_too_long",),
           layer="http", status=431, offset_at=(b"X-Big:",), send={"limits": {"max_head": 4 << 20}})
    connect("header_line_1mib", "big_line", response(line), rules=("http.head_too_long", "http.line_too_long"),
            layer="http")
    many = b"X-H: v\r\n" * 10_000
    listen("headers_10000", "ten_thousand", r(extra=many),
           rules=("http.head_too_long", "http.too_many_headers"), layer="http", status=431)
    listen("headers_10000", "ten_thousand_head_limit_raised", r(extra=many), rules=("http.too_many_headers",),
           layer="http", status=431, send={"limits": {"max_head": 4 << 20}})
    connect("headers_10000", "ten_thousand", response(many),
            rules=("http.head_too_long", "http.too_many_headers"), layer="http")
    req = r(eol=b"\n")
    listen("bare_lf", "lf_lines", req, rules=("http.bare_lf",), layer="http", status=400, offset_at=(b"\n",))
    resp = response().replace(b"\r\n", b"\n")
    connect("bare_lf", "lf_lines", resp, rules=("http.bare_lf",), layer="http", offset_at=(b"\n",))
    req = r(extra=b"X-A: b\r\n c\r\n")
    listen("obs_fold", "folded", req, rules=("http.line_folding",), layer="http", status=400,
           offset_at=(b" c\r\n",))
    resp = response(b"X-A: b\r\n c\r\n")
    connect("obs_fold", "folded", resp, rules=("http.line_folding",), layer="http", offset_at=(b" c\r\n",))
    req = r(extra=b"Garbage\r\n")
    listen("header_without_colon", "no_colon", req, rules=("http.no_colon",), layer="http", status=400,
           offset_at=(b"Garbage",))
    resp = response(b"Garbage\r\n")
    connect("header_without_colon", "no_colon", resp, rules=("http.no_colon",), layer="http",
            offset_at=(b"Garbage",))
    # RFC 7692 §5, §7.1: a server declines an offer with an invalid parameter (101 without
    # the extension) or refuses the request; a client fails the connection on such an answer
    listen("bad_extension_params", "window_bits_99",
           r(extra=b"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=99\r\n"),
           declined="permessage-deflate")
    connect("bad_extension_params", "window_bits_99",
            response(b"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=99\r\n"),
            rules=("pmd.bad_params", "pmd.bits_above", "pmd.not_granted"), layer="http",
            send={"deflate": True})
    listen("unknown_extension", "x_foo", r(extra=b"Sec-WebSocket-Extensions: x-foo; bar=1\r\n"),
           declined="x-foo")
    connect("unknown_extension", "x_foo", response(b"Sec-WebSocket-Extensions: x-foo\r\n"),
            rules=("ws.extension_not_offered",), layer="http")
    connect("bad_accept", "rfc_example_accept", response(accept=b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            rules=("ws.accept_mismatch",), layer="http")
    connect("status_200", "ok_200", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
            rules=("ws.status_101",), layer="http", offset=9)
    connect("upgrade_101_without_upgrade", "no_upgrade_header", response(drop=(b"Upgrade",)),
            rules=("ws.header_required", "ws.upgrade_token"), layer="http")
    connect("subprotocol_not_offered", "chat_unasked", response(b"Sec-WebSocket-Protocol: chat\r\n"),
            rules=("ws.protocol_not_offered",), layer="http")
    req = r(extra=b"Origin: https://evil.example\r\n")
    listen("foreign_origin", "evil_origin", req, rules=("ws.origin_refused",), layer="http", status=403,
           offset_at=(b"https://evil",))
    listen("host_other_name", "example_org", r(host=b"example.org"), accepted_or_refused=True)
    req = r(target=b"/w\rs")
    listen("target_cr_nul", "cr_in_target", req, rules=("http.bare_cr", "http.bad_line_byte"), layer="http",
           status=400, offset_at=(b"/w\r", 0, 2))
    req = r(target=b"/w\0s")
    listen("target_cr_nul", "nul_in_target", req, rules=("http.bad_line_byte",), layer="http", status=400,
           offset_at=(b"\0",))
    listen("slowloris", "one_byte_every_0.3s", r(), rules=("tcp.client_silent",), layer="tcp",
           seconds=6, send={"per_byte": 0.3})
    connect("slowloris", "response_byte_every_0.3s", response(), rules=("http.response_timeout",),
            layer="http", seconds=5, send={"per_byte": 0.3})
    return out


# --- tls -------------------------------------------------------------------------------------


def _tls() -> list[Case]:
    out: list[Case] = []

    def case(kind: str, name: str, target: str, send: dict, **expect: Any) -> None:
        out.append(Case("tls", kind, f"{name}@{target}", target, send, expect))

    http = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
    case("plain_http_to_tls", "http_answer", "connect", {"server": "raw", "reply": http},
         rules=("tls.unknown_content_type", "tls.openssl"), layer="tls", offset=0)
    case("plain_http_to_tls", "http_request", "listen",
         {"client": "raw", "bytes": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
         rules=("tls.unknown_content_type", "tls.openssl"), layer="tls", offset=0)
    junk = bytes(range(7, 250, 3)) * 2
    case("garbage_after_connect", "junk", "connect", {"server": "raw", "first": junk},
         rules=("tls.unknown_content_type", "tls.openssl"), layer="tls", offset=0)
    case("garbage_after_connect", "junk", "listen", {"client": "raw", "bytes": junk},
         rules=("tls.unknown_content_type", "tls.openssl"), layer="tls", offset=0)
    case("expired_certificate", "expired_yesterday", "connect", {"server": "tls", "cert": "expired"},
         rules=("tls.cert_verify_failed",), layer="tls", cert_check="error")
    case("certificate_for_other_host", "other_example", "connect", {"server": "tls", "cert": "other_host"},
         rules=("tls.cert_verify_failed",), layer="tls", cert_check="error")
    case("untrusted_self_signed", "self_signed", "connect", {"server": "tls", "cert": "self_signed"},
         rules=("tls.cert_verify_failed",), layer="tls", cert_check="error")
    alert = bytes.fromhex("15030300020228")  # fatal handshake_failure
    case("alert_mid_handshake", "handshake_failure", "connect", {"server": "raw", "reply": alert},
         rules=("tls.openssl",), layer="tls", alert=True)
    case("alert_mid_handshake", "handshake_failure", "listen", {"client": "hello_then", "bytes": alert},
         rules=("tls.openssl",), layer="tls", alert=True)
    case("truncated_record_then_close", "promises_100_sends_10", "connect",
         {"server": "raw", "reply": bytes.fromhex("1603030064") + b"\x02" + bytes(9), "close": True},
         rules=("tls.ended_in_record", "tls.closed_during_handshake"), layer="tls")
    case("truncated_record_then_close", "half_client_hello", "listen",
         {"client": "hello_cut", "cut": 50, "close": True},
         rules=("tls.ended_in_record", "tls.closed_during_handshake"), layer="tls", offset=0)
    big = bytes.fromhex("1603034200") + b"\x02" + bytes(0x4200 - 1)  # 16896 > 2^14 + 256
    case("oversized_record", "record_16896", "connect", {"server": "raw", "reply": big},
         rules=("tls.record_too_long", "tls.record_overflow", "tls.openssl"), layer="tls", offset=3)
    case("oversized_record", "record_16896", "listen",
         {"client": "raw", "bytes": bytes.fromhex("1603014200") + b"\x01" + bytes(0x4200 - 1)},
         rules=("tls.record_too_long", "tls.record_overflow", "tls.openssl"), layer="tls", offset=3)
    case("client_hello_then_vanish", "hello_then_fin", "listen", {"client": "hello_then", "close": True},
         rules=("tls.closed_during_handshake", "tcp.client_silent", "tls.ended_in_message"), layer="t")
    case("client_hello_then_vanish", "hello_then_silence", "listen", {"client": "hello_then"},
         rules=("tcp.client_silent", "tls.handshake_timeout"), layer="t", seconds=6)
    case("client_hello_then_vanish", "server_reads_hello_then_fin", "connect", {"server": "raw", "close": True},
         rules=("tls.closed_during_handshake",), layer="tls")
    return out


# --- files -------------------------------------------------------------------------------------

#: Scenario edits: (table, key = value) written into a copy of seed-example.
SCENARIO_EDITS: dict[str, list[tuple[str, str]]] = {
    "tls13_suites_refused": [("tls", 'suites = "TLS_NOPE_SHA999"')],
    "tls12_ciphers_refused": [("tls", 'version = "1.2"'), ("tls", 'ciphers = "NOPE-CIPHER:ALSO-NOPE"')],
    "client_group_refused": [("tls", 'client_groups = "nosuchgroup"')],
    "server_group_refused": [("tls", 'server_groups = "P-999"')],
    "valid_days_plus_1e8": [("certificate", "valid_days = [-1, 100000000]")],
    "valid_days_minus_1e8": [("certificate", "valid_days = [-100000000, 1]")],
    "url_host_empty": [("", 'url = "wss:///chat"')],
    "url_host_300_chars": [("", 'url = "wss://' + "a" * 296 + '.com/chat"')],
    "url_label_64_chars": [("", 'url = "wss://' + "a" * 64 + '.example/chat"')],
    "cert_host_empty": [("certificate", 'hosts = [""]')],
    "cert_host_300_chars": [("certificate", 'hosts = ["' + "b" * 300 + '"]')],
    "window_bits_99": [("server", "deflate = { server_max_window_bits = 99 }")],
    "cookie_crlf": [("client", 'cookie = "a=b\\r\\nX-Evil: 1"')],
    "origin_crlf": [("client", 'origin = "https://example.com\\r\\nX-Evil: 1"')],
    "origin_lf": [("client", 'origin = "https://example.com\\nX-Evil: 1"')],
    "latin1_euro": [("message0", 'data = "Hello €"\nfault = "latin1"')],
    "latin1_cjk": [("message0", 'data = "你好"\nfault = "latin1"')],
    "latin1_cafe": [("message0", 'data = "café"\nfault = "latin1"')],  # can be written: it runs
}


def _files() -> list[Case]:
    out: list[Case] = []

    def cli(kind: str, name: str, send: dict, **expect: Any) -> None:
        expect.setdefault("rc", 2)
        out.append(Case("files", kind, name, "cli", send, expect))

    def rec(kind: str, name: str, edit: str, **expect: Any) -> None:
        """A recording: the good one with ``edit`` applied (test_corpus.RECORDING_EDITS)."""
        cli(kind, name, {"recording": edit, "args": ["replay", "{file}", "--json"]}, **expect)

    rec("recording_deep_nesting", "deep_100000_arrays", "deep_text")
    rec("recording_deep_nesting", "fact_value_nested_50", "deep_fact")
    rec("recording_huge_integer", "version_5000_digits", "bigint_version")
    rec("recording_huge_integer", "extra_key_5000_digits", "bigint_extra")
    for v in ("NaN", "Infinity", "-Infinity"):
        rec("recording_nonfinite_start", f"started_{v}", f"started={v}")
    rec("recording_bad_event_time", "t_negative", "t=-1")
    rec("recording_bad_event_time", "t_1e300", "t=1e300")
    rec("recording_bad_event_time", "t_string", "t='0.5'")
    rec("recording_fact_value_list", "tcp_connect_value_list", "value_list")
    rec("recording_tcp_connect_client", "client_string", "client='127.0.0.1:5'")
    rec("recording_tcp_connect_client", "client_port_string", "client=['h', '80']")
    rec("recording_tcp_connect_client", "client_port_70000", "client=['h', 70000]")
    rec("recording_tls_verdict_ok", "ok_yes", "verdict_ok='yes'")
    rec("recording_tls_verdict_ok", "ok_1", "verdict_ok=1")
    rec("recording_error_params", "params_list", "error_params=[1]")
    rec("recording_error_params", "params_string", "error_params='x'")
    rec("recording_empty_events", "no_events", "events=[]")
    rec("recording_format_version", "format_other", "format='other'")
    rec("recording_format_version", "version_99", "version=99")
    rec("recording_format_version", "version_string", "version='1'")
    rec("recording_format_version", "top_level_list", "list")
    rec("recording_hex", "hex_zz", "hex='zz'")
    rec("recording_hex", "hex_odd", "hex='abc'")
    rec("recording_hex", "hex_number", "hex=42")
    rec("recording_truncated_json", "cut_at_500", "cut=500")
    rec("recording_truncated_json", "cut_at_end", "cut=-3")
    cli("pcap_truncated", "cut_mid_first_packet", {"capture": "pcap_cut_first", "args": ["replay", "{file}", "--json"]})
    cli("pcap_truncated", "cut_mid_last_packet", {"capture": "pcap_cut_last", "args": ["replay", "{file}", "--json"]})
    cli("pcapng_bad_block_length", "second_block_huge", {"capture": "pcapng_len_huge",
                                                          "args": ["replay", "{file}", "--json"]})
    cli("pcapng_bad_block_length", "second_block_7", {"capture": "pcapng_len_7",
                                                       "args": ["replay", "{file}", "--json"]})
    cli("pcapng_bad_block_length", "section_header_12", {"capture": "pcapng_shb_12",
                                                          "args": ["replay", "{file}", "--json"]})
    cli("keylog_is_folder", "replay_keylog_dir", {"capture": "pcapng_good",
                                                   "args": ["replay", "{file}", "--keylog", "{dir}", "--json"]})
    cli("cafile_folder_or_empty", "connect_cafile_dir", {"args": ["connect", "wss://127.0.0.1:9/", "--cafile",
                                                                  "{dir}", "--json"]})
    cli("cafile_folder_or_empty", "connect_cafile_empty", {"args": ["connect", "wss://127.0.0.1:9/", "--cafile",
                                                                    "{empty}", "--json"]})
    cli("cafile_folder_or_empty", "replay_cafile_empty", {"capture": "pcapng_good",
                                                          "args": ["replay", "{file}", "--cafile", "{empty}",
                                                                   "--json"]})
    for v in ("nan", "-5", "inf", "1e999", "0"):
        cli("timeout_value", f"timeout_{v}", {"args": ["connect", "ws://127.0.0.1:9/", "--timeout", v, "--json"]})
    for v in ("handshake_timeout=nan", "max_frame=-5", "close_timeout=inf", "max_head=1e999"):
        cli("timeout_value", f"limit_{v.replace('=', '_')}", {"args": ["connect", "ws://127.0.0.1:9/",
                                                                       "--limit", v, "--json"]})
    cli("send_invalid_utf8", "send_ff_fe", {"argv": [b"connect", b"ws://127.0.0.1:9/", b"--send", b"ab\xff\xfe",
                                                     b"--json"]})
    cli("send_invalid_utf8", "origin_ff", {"argv": [b"connect", b"ws://127.0.0.1:9/", b"--origin",
                                                    b"https://\xff.example", b"--json"]})
    for name in SCENARIO_EDITS:
        if name != "latin1_cafe":
            cli("scenario_file", name, {"scenario": name})
    # a fault the file may name, on text ISO-8859-1 can write: the session runs and ends
    # with the server's 1007 (an error step): exit status 1, as a session that ended in error
    cli("scenario_file", "latin1_cafe_runs", {"scenario": "latin1_cafe"}, rc=1, rules=("ws.text_utf8",))
    # the interface: a bad recording ends it with the one-line message; a recording that
    # holds a broken frame keeps it running to its last step
    out.append(Case("files", "recording_truncated_json", "ui_truncated_recording", "ui",
                    {"recording": "cut=500"}, {"open_error": True}))
    out.append(Case("files", "recording_error_params", "ui_unknown_rule_and_layer", "ui",
                    {"recording": "error_unknown_rule"}, {"runs": True}))
    out.append(Case("files", "recording_hex", "ui_recording_with_broken_frame", "ui",
                    {"recording": "listen_rsv1"}, {"runs": True, "rules": ("ws.rsv_unnegotiated",)}))
    return out


def all_cases() -> list[Case]:
    cases = _frames() + _handshake() + _tls() + _files()
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), "case ids are unique"
    return cases


CASES = all_cases()


def by_class(cls: str) -> list[Case]:
    return [c for c in CASES if c.cls == cls]


def kinds(cls: str) -> set[str]:
    return {c.kind for c in by_class(cls)}
