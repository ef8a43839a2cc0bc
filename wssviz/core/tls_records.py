"""TLS structure without crypto: records, handshake reassembly, message layouts.

Theory of operation
-------------------
``split_records`` cuts a TCP byte stream into TLS records (RFC 8446 §5.1).
Handshake records are then decrypted (elsewhere) and their plaintext fed to a
``HandshakeBuffer``, which rebuilds whole handshake messages: a message can
span several records and several messages can share one record, so each
message comes back with the tags of every record that carried a byte of it.

The ``parse_*`` functions read one whole handshake message (type, 3-byte
length, body) and return plain dataclasses whose ``Item``s carry the value and
its byte span ``[start, end)`` *relative to the start of the message*.  They are
total: any malformed input raises ``TLSFormatError`` naming the rule, the RFC
section and the offending offset, never ``IndexError`` or ``struct.error``.

Standard library only (wssviz/core rule).
"""

from __future__ import annotations

import contextvars
import enum
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, NamedTuple

from wssviz.core.msg import Msg
from wssviz.core.msg import rule as rule_msg

__all__ = [
    "ContentType", "HandshakeType", "ExtensionType", "HRR_RANDOM", "MAX_CIPHERTEXT", "MAX_CIPHERTEXT_TLS12",
    "MAX_HANDSHAKE_MESSAGE", "TLSFormatError", "Record", "split_records",
    "HandshakeBuffer", "Item", "Extension", "is_grease",
    "ClientHello", "ServerHello", "KeyShareEntry", "PskIdentity", "ServerName",
    "ExtensionBody", "Certificate", "CertificateEntry", "CertificateVerify", "Finished",
    "NewSessionTicket", "EncryptedExtensions", "CertificateRequest",
    "ServerKeyExchange", "ClientKeyExchange", "Alert", "handshake_header",
    "parse_client_hello", "parse_server_hello", "parse_extension_body",
    "parse_certificate", "parse_certificate_verify", "parse_finished",
    "parse_new_session_ticket", "parse_encrypted_extensions",
    "parse_certificate_request", "parse_server_key_exchange",
    "parse_client_key_exchange", "parse_alert", "parse_ccs", "selected_version",
]


# --- numbers ---------------------------------------------------------------------


class ContentType(enum.IntEnum):
    """TLSPlaintext.type (RFC 8446 §5.1; heartbeat RFC 6520)."""

    change_cipher_spec = 20
    alert = 21
    handshake = 22
    application_data = 23
    heartbeat = 24


class HandshakeType(enum.IntEnum):
    """HandshakeType (RFC 8446 §4, RFC 5246 §7.4)."""

    client_hello = 1
    server_hello = 2
    new_session_ticket = 4
    end_of_early_data = 5
    encrypted_extensions = 8
    certificate = 11
    server_key_exchange = 12
    certificate_request = 13
    server_hello_done = 14
    certificate_verify = 15
    client_key_exchange = 16
    finished = 20
    key_update = 24
    message_hash = 254


class ExtensionType(enum.IntEnum):
    """Extension numbers this module parses (IANA TLS ExtensionType registry)."""

    server_name = 0
    status_request = 5
    supported_groups = 10
    ec_point_formats = 11
    signature_algorithms = 13
    application_layer_protocol_negotiation = 16
    padding = 21
    encrypt_then_mac = 22
    extended_master_secret = 23
    compress_certificate = 27
    record_size_limit = 28
    session_ticket = 35
    pre_shared_key = 41
    early_data = 42
    supported_versions = 43
    cookie = 44
    psk_key_exchange_modes = 45
    certificate_authorities = 47
    post_handshake_auth = 49
    signature_algorithms_cert = 50
    key_share = 51
    renegotiation_info = 0xFF01


#: ServerHello.random of a HelloRetryRequest: SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3).
HRR_RANDOM = bytes.fromhex(
    "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")

#: Largest TLSCiphertext.length (RFC 8446 §5.2: 2^14 + 256).
MAX_CIPHERTEXT = 2**14 + 256
#: Largest TLSCiphertext.length in TLS 1.2 (RFC 5246 §6.2.3: 2^14 + 2048).
MAX_CIPHERTEXT_TLS12 = 2**14 + 2048
#: Largest handshake message this module reassembles (a local limit, 256 KiB).
MAX_HANDSHAKE_MESSAGE = 2**16 * 4


def is_grease(code: int) -> bool:
    """True for a GREASE value 0x?A?A with both bytes equal (RFC 8701 §2)."""
    return 0 <= code <= 0xFFFF and (code & 0x0F0F) == 0x0A0A and (code >> 8) == (code & 0xFF)


# --- errors ----------------------------------------------------------------------


class TLSFormatError(ValueError):
    """Bytes that break a TLS layout rule.

    ``offset`` is the position of the offending byte in the buffer the caller
    gave (absolute in the stream for ``split_records``, relative to the message
    start for the ``parse_*`` functions).
    """

    def __init__(self, rule: str, rfc: str, offset: int, layer: str = "tls record", *,
                 code: str, **params: object) -> None:
        self.rule = rule
        self.rfc = rfc
        self.offset = offset
        self.layer = layer
        self.code = code
        self.params = params
        super().__init__(f"{layer}: {rule} ({rfc}) at byte {offset}")

    @property
    def msg(self) -> Msg:
        """The broken rule as the catalogs know it (what a learner reads)."""
        return rule_msg(self.code, **self.params)

    def shifted(self, delta: int) -> "TLSFormatError":
        """The same error with ``offset`` moved by ``delta`` (to stream coordinates)."""
        return TLSFormatError(self.rule, self.rfc, self.offset + delta, self.layer, code=self.code,
                              **self.params)


# --- records ---------------------------------------------------------------------


@dataclass
class Record:
    """One TLS record; ``start``/``end`` span the whole record incl. its 5-byte header."""

    content_type: int
    version: int
    fragment: bytes
    start: int
    end: int

    @property
    def header(self) -> bytes:
        return (bytes([self.content_type]) + self.version.to_bytes(2, "big")
                + len(self.fragment).to_bytes(2, "big"))

    @property
    def raw(self) -> bytes:
        return self.header + self.fragment


def split_records(buf: bytes, offset: int = 0, limit: int = MAX_CIPHERTEXT) -> tuple[list[Record], int]:
    """Cut ``buf`` into complete records, each at most ``limit`` bytes long
    (``MAX_CIPHERTEXT_TLS12`` once TLS 1.2 is agreed).

    ``offset`` is where ``buf`` sits in the stream: record spans and error
    offsets are absolute.  Returns the records and the absolute offset where an
    incomplete tail starts (``offset + len(buf)`` when there is none).
    """
    records: list[Record] = []
    pos = 0
    n = len(buf)
    while n - pos >= 5:
        ct = buf[pos]
        if ct not in ContentType._value2member_map_:
            raise TLSFormatError(f"unknown content type {ct} (0x{ct:02x})",
                                 "RFC 8446 §5.1", offset + pos, code="tls.unknown_content_type",
                                 type=ct)
        length = int.from_bytes(buf[pos + 3:pos + 5], "big")
        if length > limit:
            rfc = "RFC 5246 §6.2.3" if limit == MAX_CIPHERTEXT_TLS12 else "RFC 8446 §5.2"
            raise TLSFormatError(f"record length {length} exceeds the limit of {limit} bytes",
                                 rfc, offset + pos + 3, code="tls.record_too_long",
                                 length=length, limit=limit)
        if n - pos - 5 < length:
            break
        version = int.from_bytes(buf[pos + 1:pos + 3], "big")
        records.append(Record(ct, version, bytes(buf[pos + 5:pos + 5 + length]),
                              offset + pos, offset + pos + 5 + length))
        pos += 5 + length
    return records, offset + pos


class HandshakeBuffer:
    """Reassembles handshake messages from the plaintext of handshake records.

    ``feed`` returns each message completed by the new bytes with the tags of
    every record that carried a byte of it, in order; a tag fed twice in a row
    (the same object) is listed once.  Tags are compared by identity, so two
    equal-looking records stay two records.  Messages must not span a key
    change (RFC 8446 §5.1): a caller can check ``pending`` is empty there.

    >>> hb = HandshakeBuffer()
    >>> hb.feed(b"\\x14\\x00\\x00\\x02ab\\x14", "r1")
    [(b'\\x14\\x00\\x00\\x02ab', ['r1'])]
    >>> hb.feed(b"\\x00\\x00\\x01z", "r2")
    [(b'\\x14\\x00\\x00\\x01z', ['r1', 'r2'])]
    """

    def __init__(self, limit: int = MAX_HANDSHAKE_MESSAGE) -> None:
        self._buf = bytearray()
        self._segments: list[list[Any]] = []  # [tag, bytes of it still pending]
        self._consumed = 0  # stream offset of _buf[0]
        self._limit = limit

    @property
    def pending(self) -> bytes:
        return bytes(self._buf)

    def feed(self, data: bytes, tag: object) -> list[tuple[bytes, list[object]]]:
        if data:
            self._buf += data
            self._segments.append([tag, len(data)])
        out: list[tuple[bytes, list[object]]] = []
        while len(self._buf) >= 4:
            length = int.from_bytes(self._buf[1:4], "big")
            if length > self._limit:
                raise TLSFormatError(
                    f"handshake message length {length} exceeds the limit of {self._limit} bytes",
                    "RFC 8446 §4", self._consumed + 1, "tls handshake",
                    code="tls.handshake_too_long", length=length, limit=self._limit)
            total = 4 + length
            if len(self._buf) < total:
                break
            msg = bytes(self._buf[:total])
            del self._buf[:total]
            self._consumed += total
            out.append((msg, self._take_tags(total)))
        return out

    def _take_tags(self, count: int) -> list[object]:
        tags: list[object] = []
        while count > 0:
            seg = self._segments[0]
            used = min(count, seg[1])
            if not any(t is seg[0] for t in tags):
                tags.append(seg[0])
            seg[1] -= used
            count -= used
            if seg[1] == 0:
                self._segments.pop(0)
        return tags


# --- reading helpers ---------------------------------------------------------------


@dataclass
class Item:
    """A value with the span ``[start, end)`` of the bytes that carried it."""

    value: Any
    start: int
    end: int


class Extension(NamedTuple):
    """One extension: ``start``/``end`` span type+length+body; the body starts at start+4."""

    type: int
    start: int
    end: int
    body: bytes

    @property
    def body_start(self) -> int:
        return self.start + 4


_HS = "tls handshake"


@dataclass(frozen=True)
class LayoutSpan:
    """Bytes a parser read that carry no value of their own: a length prefix (``kind``
    "length", ``what`` the vector it measures, ``value`` the length) or an extension's
    type (``kind`` "extension_type", ``value`` the type)."""

    kind: str
    what: str
    start: int
    end: int
    value: int


_LAYOUT: contextvars.ContextVar[list[LayoutSpan] | None] = contextvars.ContextVar("tls_layout", default=None)


@contextmanager
def layout() -> Iterator[list[LayoutSpan]]:
    """Collect the ``LayoutSpan``s of everything parsed inside the ``with`` (offsets are
    those of the buffer each parser reads: the handshake message)."""
    spans: list[LayoutSpan] = []
    token = _LAYOUT.set(spans)
    try:
        yield spans
    finally:
        _LAYOUT.reset(token)


def _note(kind: str, what: str, start: int, end: int, value: int) -> None:
    spans = _LAYOUT.get()
    if spans is not None:
        spans.append(LayoutSpan(kind, what, start, end, value))


class _Reader:
    """Bounded big-endian reader over ``buf[pos:end]``; offsets are buffer positions."""

    def __init__(self, buf: bytes, pos: int, end: int, where: str, rfc: str) -> None:
        self.buf, self.pos, self.end, self.where, self.rfc = buf, pos, end, where, rfc

    def fail(self, rule: str, offset: int | None = None, *, code: str,
             **params: object) -> TLSFormatError:
        """A broken layout rule inside ``where`` (a message or a structure: its name,
        and the names of its parts, are the RFC's and are shown as they are)."""
        return TLSFormatError(f"{self.where}: {rule}", self.rfc,
                              self.pos if offset is None else offset, _HS, code=code,
                              where=self.where, **params)

    def need(self, n: int, what: str) -> None:
        if self.end - self.pos < n:
            raise self.fail(f"{what} needs {n} bytes, only {self.end - self.pos} left",
                            code="tls.need_bytes", what=what, n=n, left=self.end - self.pos)

    def uint(self, n: int, what: str) -> Item:
        self.need(n, what)
        start = self.pos
        self.pos += n
        return Item(int.from_bytes(self.buf[start:self.pos], "big"), start, self.pos)

    def raw(self, n: int, what: str) -> Item:
        self.need(n, what)
        start = self.pos
        self.pos += n
        return Item(bytes(self.buf[start:self.pos]), start, self.pos)

    def vec(self, len_bytes: int, what: str, lo: int = 0, hi: int | None = None) -> Item:
        """A length-prefixed opaque vector: the Item spans the content only."""
        at = self.pos
        n = self.uint(len_bytes, f"{what} length").value
        _note("length", what, at, at + len_bytes, n)
        if n < lo or (hi is not None and n > hi):
            bound = f"{lo}..{hi}" if hi is not None else f">= {lo}"
            raise self.fail(f"{what} length {n} outside {bound}", at, code="tls.length_bounds",
                            what=what, n=n, bound=bound)
        if self.end - self.pos < n:
            raise self.fail(f"{what} length {n} runs past the end ({self.end - self.pos} bytes left)", at,
                            code="tls.length_overrun", what=what, n=n, left=self.end - self.pos)
        return self.raw(n, what)

    def sub(self, item: Item, where: str | None = None) -> "_Reader":
        return _Reader(self.buf, item.start, item.end, where or self.where, self.rfc)

    def list_of(self, item: Item, width: int, what: str) -> list[Item]:
        if (item.end - item.start) % width:
            raise self.fail(f"{what} length {item.end - item.start} is not a multiple of {width}",
                            item.start, code="tls.length_multiple", what=what,
                            n=item.end - item.start, width=width)
        r = self.sub(item)
        return [r.uint(width, what) for _ in range((item.end - item.start) // width)]

    @property
    def left(self) -> int:
        return self.end - self.pos

    def done(self, what: str) -> None:
        if self.pos != self.end:
            raise self.fail(f"{self.end - self.pos} unexpected trailing bytes after {what}",
                            code="tls.trailing_bytes", n=self.end - self.pos, what=what)


def handshake_header(msg: bytes, expect: int | None = None, where: str = "handshake") -> _Reader:
    """Check the 4-byte header of a whole handshake message; a reader over its body."""
    r = _Reader(msg, 0, len(msg), where, "RFC 8446 §4")
    msg_type = r.uint(1, "msg_type").value
    if expect is not None and msg_type != expect:
        raise TLSFormatError(f"{where}: expected handshake type {expect}, got {msg_type}",
                             "RFC 8446 §4", 0, _HS, code="tls.wrong_type", where=where,
                             expect=expect, got=msg_type)
    length = r.uint(3, "length").value
    if length != len(msg) - 4:
        raise TLSFormatError(f"{where}: length field says {length} bytes, message body has "
                             f"{len(msg) - 4}", "RFC 8446 §4", 1, _HS, code="tls.length_mismatch",
                             where=where, length=length, body=len(msg) - 4)
    return r


def _extensions(r: _Reader, what: str, required: bool = True,
                lo: int = 0) -> tuple[list[Extension], Item | None]:
    if not required and r.left == 0:
        return [], None
    block = r.vec(2, f"{what} extensions", lo=lo)
    er = r.sub(block, f"{what} extensions")
    exts: list[Extension] = []
    seen: set[int] = set()
    while er.left:
        start = er.pos
        et = er.uint(2, "extension type").value
        _note("extension_type", "extension", start, start + 2, et)
        body = er.vec(2, f"extension {et} data")
        if et in seen:
            raise er.fail(f"extension {et} appears twice (RFC 8446 §4.2)", start,
                          code="tls.extension_twice", extension=et)
        seen.add(et)
        exts.append(Extension(et, start, body.end, body.value))
    return exts, block


# --- extension bodies ------------------------------------------------------------------


@dataclass
class KeyShareEntry:
    group: Item
    key: Item
    start: int
    end: int


@dataclass
class PskIdentity:
    identity: Item
    obfuscated_ticket_age: Item


@dataclass
class ServerName:
    name_type: Item
    name: Item  # value is the host name as str (ASCII, errors replaced); span = its bytes


@dataclass
class ExtensionBody:
    """The parsed body of one extension.

    ``kind`` says which attributes are set:
    ``ints`` (``items``: supported_groups, ec_point_formats, signature_algorithms(_cert),
    supported_versions in a ClientHello, psk_key_exchange_modes, compress_certificate),
    ``names`` (``items`` of bytes: ALPN), ``server_name`` (``names``),
    ``key_share_client`` (``entries``), ``key_share_server`` (``entries`` with one),
    ``key_share_hrr`` / ``int`` (``value``: selected group, selected version,
    record_size_limit, selected PSK identity, max_early_data_size),
    ``psk_offer`` (``identities``, ``binders``), ``status_request``
    (``value`` status_type, ``opaque`` responder ids, ``opaque2`` request extensions),
    ``opaque`` (``opaque``: session_ticket, renegotiation_info, cookie, padding,
    unknown or GREASE), ``empty``.
    """

    type: int
    kind: str
    items: list[Item] = field(default_factory=list)
    names: list[ServerName] = field(default_factory=list)
    entries: list[KeyShareEntry] = field(default_factory=list)
    identities: list[PskIdentity] = field(default_factory=list)
    binders: list[Item] = field(default_factory=list)
    value: Item | None = None
    opaque: Item | None = None
    opaque2: Item | None = None


_INT_LISTS = {  # type: (length-prefix bytes, item width, minimum list length)
    ExtensionType.supported_groups: (2, 2, 2),
    ExtensionType.ec_point_formats: (1, 1, 1),
    ExtensionType.signature_algorithms: (2, 2, 2),
    ExtensionType.signature_algorithms_cert: (2, 2, 2),
    ExtensionType.psk_key_exchange_modes: (1, 1, 1),
    ExtensionType.compress_certificate: (1, 2, 2),
}
#: Each of those lists by its name in the RFC's structure.
_INT_LIST_NAMES = {ExtensionType.supported_groups: "named_group_list",
                   ExtensionType.ec_point_formats: "ec_point_format_list",
                   ExtensionType.signature_algorithms: "supported_signature_algorithms",
                   ExtensionType.signature_algorithms_cert: "supported_signature_algorithms",
                   ExtensionType.psk_key_exchange_modes: "ke_modes",
                   ExtensionType.compress_certificate: "algorithms"}
_EMPTY = {ExtensionType.encrypt_then_mac, ExtensionType.extended_master_secret,
          ExtensionType.post_handshake_auth}


def parse_extension_body(ext: Extension, msg: bytes, context: str) -> ExtensionBody:
    """Parse one extension of ``msg`` (the whole handshake message it sits in).

    ``context`` is the message the extension came in: ``client_hello``,
    ``server_hello``, ``hello_retry_request``, ``encrypted_extensions``,
    ``certificate``, ``certificate_request`` or ``new_session_ticket``; a few
    extensions have a different shape in each.  Spans are relative to ``msg``.
    """
    t = ext.type
    r = _Reader(msg, ext.body_start, ext.end, f"extension {t}", "RFC 8446 §4.2")
    whole = Item(ext.body, ext.body_start, ext.end)
    if t in _INT_LISTS:
        lb, width, lo = _INT_LISTS[t]
        v = r.vec(lb, _INT_LIST_NAMES[t], lo=lo)
        items = r.list_of(v, width, "entry")
        r.done("the list")
        return ExtensionBody(t, "ints", items=items)
    if t == ExtensionType.supported_versions:
        if context == "client_hello":
            v = r.vec(1, "versions", lo=2, hi=254)
            items = r.list_of(v, 2, "version")
            r.done("the versions")
            return ExtensionBody(t, "ints", items=items)
        value = r.uint(2, "selected_version")
        r.done("selected_version")
        return ExtensionBody(t, "int", value=value)
    if t == ExtensionType.server_name:
        if r.left == 0:  # a server acknowledging SNI sends an empty body (RFC 6066 §3)
            return ExtensionBody(t, "empty")
        v = r.vec(2, "server_name_list", lo=1)
        lr = r.sub(v)
        names = []
        while lr.left:
            nt = lr.uint(1, "name_type")
            nm = lr.vec(2, "host_name", lo=1)
            nm.value = nm.value.decode("ascii", "replace")
            names.append(ServerName(nt, nm))
        r.done("server_name_list")
        return ExtensionBody(t, "server_name", names=names)
    if t == ExtensionType.application_layer_protocol_negotiation:
        v = r.vec(2, "protocol_name_list", lo=2)
        lr = r.sub(v)
        items = []
        while lr.left:
            items.append(lr.vec(1, "protocol name", lo=1))
        r.done("protocol_name_list")
        return ExtensionBody(t, "names", items=items)
    if t == ExtensionType.key_share:
        if context == "hello_retry_request":
            value = r.uint(2, "selected_group")
            r.done("selected_group")
            return ExtensionBody(t, "key_share_hrr", value=value)
        if context == "client_hello":
            v = r.vec(2, "client_shares")
            lr = r.sub(v)
            entries = []
            while lr.left:
                s = lr.pos
                g = lr.uint(2, "group")
                k = lr.vec(2, "key_exchange", lo=1)
                entries.append(KeyShareEntry(g, k, s, k.end))
            r.done("client_shares")
            return ExtensionBody(t, "key_share_client", entries=entries)
        s = r.pos
        g = r.uint(2, "group")
        k = r.vec(2, "key_exchange", lo=1)
        r.done("server_share")
        return ExtensionBody(t, "key_share_server", entries=[KeyShareEntry(g, k, s, k.end)])
    if t == ExtensionType.pre_shared_key:
        if context == "client_hello":
            ids = r.vec(2, "identities", lo=7)
            ir = r.sub(ids)
            identities = []
            while ir.left:
                ident = ir.vec(2, "identity", lo=1)
                age = ir.uint(4, "obfuscated_ticket_age")
                identities.append(PskIdentity(ident, age))
            bs = r.vec(2, "binders", lo=33)
            br = r.sub(bs)
            binders = []
            while br.left:
                binders.append(br.vec(1, "binder", lo=32))
            r.done("binders")
            return ExtensionBody(t, "psk_offer", identities=identities, binders=binders)
        value = r.uint(2, "selected_identity")
        r.done("selected_identity")
        return ExtensionBody(t, "int", value=value)
    if t == ExtensionType.record_size_limit:
        value = r.uint(2, "record_size_limit")
        r.done("record_size_limit")
        return ExtensionBody(t, "int", value=value)
    if t == ExtensionType.early_data:
        if context == "new_session_ticket":
            value = r.uint(4, "max_early_data_size")
            r.done("max_early_data_size")
            return ExtensionBody(t, "int", value=value)
        r.done("early_data (must be empty here)")
        return ExtensionBody(t, "empty")
    if t in _EMPTY:
        r.done("an extension that must be empty")
        return ExtensionBody(t, "empty")
    if t == ExtensionType.status_request and context == "client_hello":
        st = r.uint(1, "status_type")
        ids = r.vec(2, "responder_id_list")
        req = r.vec(2, "request_extensions")
        r.done("OCSPStatusRequest")
        return ExtensionBody(t, "status_request", value=st, opaque=ids, opaque2=req)
    if t == ExtensionType.status_request and context == "server_hello" and r.left == 0:
        return ExtensionBody(t, "empty")
    if t == ExtensionType.renegotiation_info:
        v = r.vec(1, "renegotiated_connection")
        r.done("renegotiated_connection")
        return ExtensionBody(t, "opaque", opaque=v)
    if t == ExtensionType.cookie:
        v = r.vec(2, "cookie", lo=1)
        r.done("cookie")
        return ExtensionBody(t, "opaque", opaque=v)
    # session_ticket, padding, GREASE and anything unknown: the body as it is.
    return ExtensionBody(t, "opaque", opaque=whole)


# --- hellos ----------------------------------------------------------------------


@dataclass
class ClientHello:
    legacy_version: Item
    random: Item
    session_id: Item
    cipher_suites: list[Item]
    cipher_suites_span: tuple[int, int]  # incl. the 2-byte length
    compression_methods: list[Item]
    compression_span: tuple[int, int]  # incl. the 1-byte length
    extensions: list[Extension]
    extensions_span: tuple[int, int] | None  # incl. the 2-byte length; None if absent

    def extension(self, ext_type: int) -> Extension | None:
        return next((e for e in self.extensions if e.type == ext_type), None)


@dataclass
class ServerHello:
    legacy_version: Item
    random: Item
    session_id: Item
    cipher_suite: Item
    compression_method: Item
    extensions: list[Extension]
    extensions_span: tuple[int, int] | None
    is_hrr: bool

    def extension(self, ext_type: int) -> Extension | None:
        return next((e for e in self.extensions if e.type == ext_type), None)


def parse_client_hello(msg: bytes) -> ClientHello:
    """ClientHello (RFC 8446 §4.1.2; extensions optional before TLS 1.3)."""
    r = handshake_header(msg, HandshakeType.client_hello, "ClientHello")
    r.rfc = "RFC 8446 §4.1.2"
    version = r.uint(2, "legacy_version")
    random = r.raw(32, "random")
    sid = r.vec(1, "legacy_session_id", hi=32)
    cs_at = r.pos
    cs = r.vec(2, "cipher_suites", lo=2)
    suites = r.list_of(cs, 2, "cipher suite")
    cm_at = r.pos
    cm = r.vec(1, "legacy_compression_methods", lo=1)
    methods = r.list_of(cm, 1, "compression method")
    ext_at = r.pos
    exts, block = _extensions(r, "ClientHello", required=False)
    r.done("extensions")
    return ClientHello(version, random, sid, suites, (cs_at, cs.end), methods, (cm_at, cm.end),
                       exts, (ext_at, block.end) if block else None)


def parse_server_hello(msg: bytes) -> ServerHello:
    """ServerHello or HelloRetryRequest (RFC 8446 §4.1.3, §4.1.4)."""
    r = handshake_header(msg, HandshakeType.server_hello, "ServerHello")
    r.rfc = "RFC 8446 §4.1.3"
    version = r.uint(2, "legacy_version")
    random = r.raw(32, "random")
    sid = r.vec(1, "legacy_session_id_echo", hi=32)
    suite = r.uint(2, "cipher_suite")
    method = r.uint(1, "legacy_compression_method")
    ext_at = r.pos
    exts, block = _extensions(r, "ServerHello", required=False)
    r.done("extensions")
    return ServerHello(version, random, sid, suite, method, exts,
                       (ext_at, block.end) if block else None, random.value == HRR_RANDOM)


def selected_version(sh: ServerHello) -> int:
    """The version a ServerHello settles: supported_versions if present, else legacy."""
    ext = sh.extension(ExtensionType.supported_versions)
    if ext is None:
        return sh.legacy_version.value
    if len(ext.body) != 2:
        raise TLSFormatError(f"supported_versions in ServerHello must be 2 bytes, got "
                             f"{len(ext.body)}", "RFC 8446 §4.2.1", ext.body_start, _HS,
                             code="tls.selected_version_size", n=len(ext.body))
    return int.from_bytes(ext.body, "big")


# --- server flight -------------------------------------------------------------------


@dataclass
class CertificateEntry:
    cert: Item  # DER bytes, span = the certificate's bytes
    extensions: list[Extension]
    start: int
    end: int


@dataclass
class Certificate:
    request_context: Item | None  # None for TLS 1.2
    entries: list[CertificateEntry]
    list_span: tuple[int, int]  # the certificate_list content (after its 3-byte length)


def parse_certificate(msg: bytes, tls13: bool) -> Certificate:
    """Certificate (TLS 1.3: RFC 8446 §4.4.2; TLS 1.2: RFC 5246 §7.4.2)."""
    r = handshake_header(msg, HandshakeType.certificate, "Certificate")
    r.rfc = "RFC 8446 §4.4.2" if tls13 else "RFC 5246 §7.4.2"
    ctx = r.vec(1, "certificate_request_context") if tls13 else None
    lst = r.vec(3, "certificate_list")
    lr = r.sub(lst)
    entries = []
    while lr.left:
        s = lr.pos
        cert = lr.vec(3, "cert_data", lo=1)
        exts: list[Extension] = []
        if tls13:
            exts, _ = _extensions(lr, "CertificateEntry")
        entries.append(CertificateEntry(cert, exts, s, lr.pos))
    r.done("certificate_list")
    return Certificate(ctx, entries, (lst.start, lst.end))


@dataclass
class CertificateVerify:
    scheme: Item
    signature: Item


def parse_certificate_verify(msg: bytes) -> CertificateVerify:
    """CertificateVerify (RFC 8446 §4.4.3)."""
    r = handshake_header(msg, HandshakeType.certificate_verify, "CertificateVerify")
    r.rfc = "RFC 8446 §4.4.3"
    scheme = r.uint(2, "algorithm")
    sig = r.vec(2, "signature", lo=1)
    r.done("signature")
    return CertificateVerify(scheme, sig)


@dataclass
class Finished:
    verify_data: Item


def parse_finished(msg: bytes) -> Finished:
    """Finished (RFC 8446 §4.4.4): verify_data is the whole body (12 bytes in TLS 1.2)."""
    r = handshake_header(msg, HandshakeType.finished, "Finished")
    r.rfc = "RFC 8446 §4.4.4"
    if r.left == 0:
        raise r.fail("empty verify_data", code="tls.empty_verify_data")
    return Finished(r.raw(r.left, "verify_data"))


@dataclass
class NewSessionTicket:
    lifetime: Item
    age_add: Item | None  # TLS 1.3 only
    nonce: Item | None  # TLS 1.3 only
    ticket: Item
    extensions: list[Extension]


def parse_new_session_ticket(msg: bytes, tls13: bool) -> NewSessionTicket:
    """NewSessionTicket (TLS 1.3: RFC 8446 §4.6.1; TLS 1.2: RFC 5077 §3.3)."""
    r = handshake_header(msg, HandshakeType.new_session_ticket, "NewSessionTicket")
    if tls13:
        r.rfc = "RFC 8446 §4.6.1"
        life = r.uint(4, "ticket_lifetime")
        age = r.uint(4, "ticket_age_add")
        nonce = r.vec(1, "ticket_nonce")
        ticket = r.vec(2, "ticket", lo=1)
        exts, _ = _extensions(r, "NewSessionTicket")
        r.done("extensions")
        return NewSessionTicket(life, age, nonce, ticket, exts)
    r.rfc = "RFC 5077 §3.3"
    life = r.uint(4, "ticket_lifetime_hint")
    ticket = r.vec(2, "ticket")
    r.done("ticket")
    return NewSessionTicket(life, None, None, ticket, [])


@dataclass
class EncryptedExtensions:
    extensions: list[Extension]
    extensions_span: tuple[int, int]


def parse_encrypted_extensions(msg: bytes) -> EncryptedExtensions:
    """EncryptedExtensions (RFC 8446 §4.3.1)."""
    r = handshake_header(msg, HandshakeType.encrypted_extensions, "EncryptedExtensions")
    r.rfc = "RFC 8446 §4.3.1"
    at = r.pos
    exts, block = _extensions(r, "EncryptedExtensions")
    r.done("extensions")
    return EncryptedExtensions(exts, (at, block.end))


@dataclass
class CertificateRequest:
    request_context: Item | None  # TLS 1.3
    extensions: list[Extension]  # TLS 1.3
    certificate_types: list[Item]  # TLS 1.2
    signature_algorithms: list[Item]  # TLS 1.2
    authorities: list[Item]  # TLS 1.2: DER DistinguishedNames


def parse_certificate_request(msg: bytes, tls13: bool) -> CertificateRequest:
    """CertificateRequest (TLS 1.3: RFC 8446 §4.3.2; TLS 1.2: RFC 5246 §7.4.4)."""
    r = handshake_header(msg, HandshakeType.certificate_request, "CertificateRequest")
    if tls13:
        r.rfc = "RFC 8446 §4.3.2"
        ctx = r.vec(1, "certificate_request_context")
        exts, _ = _extensions(r, "CertificateRequest", lo=2)
        r.done("extensions")
        return CertificateRequest(ctx, exts, [], [], [])
    r.rfc = "RFC 5246 §7.4.4"
    ct = r.vec(1, "certificate_types", lo=1)
    types = r.list_of(ct, 1, "certificate type")
    sa = r.vec(2, "supported_signature_algorithms", lo=2)
    algs = r.list_of(sa, 2, "signature algorithm")
    ca = r.vec(2, "certificate_authorities")
    cr = r.sub(ca)
    names = []
    while cr.left:
        names.append(cr.vec(2, "DistinguishedName", lo=1))
    r.done("certificate_authorities")
    return CertificateRequest(None, [], types, algs, names)


@dataclass
class ServerKeyExchange:
    curve_type: Item
    named_curve: Item
    public: Item
    scheme: Item
    signature: Item
    params: Item  # ServerECDHParams as signed: curve_type .. public point


def parse_server_key_exchange(msg: bytes) -> ServerKeyExchange:
    """ECDHE ServerKeyExchange with a TLS 1.2 signature (RFC 8422 §5.4, RFC 5246 §7.4.3)."""
    r = handshake_header(msg, HandshakeType.server_key_exchange, "ServerKeyExchange")
    r.rfc = "RFC 8422 §5.4"
    ps = r.pos
    ctype = r.uint(1, "curve_type")
    if ctype.value != 3:
        raise r.fail(f"curve_type {ctype.value} is not named_curve (3)", ctype.start,
                     code="tls.curve_type", curve_type=ctype.value)
    curve = r.uint(2, "namedcurve")
    point = r.vec(1, "public", lo=1)
    params = Item(bytes(msg[ps:point.end]), ps, point.end)
    scheme = r.uint(2, "signature algorithm")
    sig = r.vec(2, "signature", lo=1)
    r.done("signature")
    return ServerKeyExchange(ctype, curve, point, scheme, sig, params)


@dataclass
class ClientKeyExchange:
    public: Item


def parse_client_key_exchange(msg: bytes) -> ClientKeyExchange:
    """ECDHE ClientKeyExchange: the client's ephemeral public point (RFC 8422 §5.7)."""
    r = handshake_header(msg, HandshakeType.client_key_exchange, "ClientKeyExchange")
    r.rfc = "RFC 8422 §5.7"
    point = r.vec(1, "ecdh_Yc", lo=1)
    r.done("ecdh_Yc")
    return ClientKeyExchange(point)


# --- non-handshake records -------------------------------------------------------------


@dataclass
class Alert:
    level: Item
    description: Item


def parse_alert(payload: bytes) -> Alert:
    """Alert: level and description, exactly two bytes (RFC 8446 §6)."""
    if len(payload) != 2:
        raise TLSFormatError(f"alert must be 2 bytes, got {len(payload)}", "RFC 8446 §6",
                             min(len(payload), 2), "tls alert", code="tls.alert_size", n=len(payload))
    return Alert(Item(payload[0], 0, 1), Item(payload[1], 1, 2))


def parse_ccs(payload: bytes) -> Item:
    """ChangeCipherSpec: the single byte 0x01 (RFC 5246 §7.1, RFC 8446 §5)."""
    if payload != b"\x01":
        raise TLSFormatError("change_cipher_spec must be the single byte 0x01",
                             "RFC 8446 §5", 0, "tls change_cipher_spec", code="tls.ccs_byte")
    return Item(1, 0, 1)
