"""permessage-deflate (RFC 7692), sans I/O.

Negotiation on both sides (§5, §7.1) and the per-message codec (§7.2): raw DEFLATE
whose trailing empty stored block ``00 00 ff ff`` is stripped by the sender and put
back by the receiver.  Inflation is bounded with zlib's ``max_length``, so a zip
bomb never inflates past the limit.

The extension header grammar itself (RFC 6455 §9.1) lives in handshake.py.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from .frames import ProtocolError
from .handshake import (HandshakeError, format_extension, parse_extensions,
                        parse_extensions_raw)

__all__ = ["EXTENSION", "parse_extensions", "format_extension", "DeflateParams",
           "negotiate", "accept_response", "Compressor", "Decompressor"]

EXTENSION = "permessage-deflate"
TAIL = b"\x00\x00\xff\xff"
_BITS_RE = re.compile(r"[1-9][0-9]?\Z")  # RFC 7692 §7.1.2: 1*DIGIT, no leading zero


@dataclass
class DeflateParams:
    """The four parameters of RFC 7692 §7.1.  A window of None means 15 bits.

    In a client offer, ``client_max_window_bits`` None is sent as the bare
    parameter ("I can use whatever window you pick"), an int as ``=N``."""

    client_no_context_takeover: bool = False
    server_no_context_takeover: bool = False
    client_max_window_bits: int | None = None
    server_max_window_bits: int | None = None

    def __post_init__(self) -> None:
        for bits in (self.client_max_window_bits, self.server_max_window_bits):
            if bits is not None and not 8 <= bits <= 15:
                raise ValueError("window bits are 8..15 (RFC 7692 §7.1.2)")

    def offer(self) -> str:
        """The client's Sec-WebSocket-Extensions offer."""
        params: list[tuple[str, str | None]] = []
        if self.client_no_context_takeover:
            params.append(("client_no_context_takeover", None))
        if self.server_no_context_takeover:
            params.append(("server_no_context_takeover", None))
        if self.server_max_window_bits is not None:
            params.append(("server_max_window_bits", str(self.server_max_window_bits)))
        params.append(("client_max_window_bits", None if self.client_max_window_bits is None
                       else str(self.client_max_window_bits)))
        return format_extension(EXTENSION, params)

    def response(self) -> str:
        """The server's Sec-WebSocket-Extensions answer accepting these parameters."""
        params: list[tuple[str, str | None]] = []
        if self.server_no_context_takeover:
            params.append(("server_no_context_takeover", None))
        if self.client_no_context_takeover:
            params.append(("client_no_context_takeover", None))
        if self.server_max_window_bits is not None:
            params.append(("server_max_window_bits", str(self.server_max_window_bits)))
        if self.client_max_window_bits is not None:
            params.append(("client_max_window_bits", str(self.client_max_window_bits)))
        return format_extension(EXTENSION, params)


_SERVER_OFFER = ("client_no_context_takeover", "server_no_context_takeover",
                 "client_max_window_bits", "server_max_window_bits")


def _read_params(params: list[tuple[str, str | None]], *, response: bool
                 ) -> tuple[dict[str, str | None], str | None]:
    """Validate the parameters of one element; returns (params, None) or
    (partial, reason it is invalid) per RFC 7692 §7.1."""
    seen: dict[str, str | None] = {}
    for name, value in params:
        if name not in _SERVER_OFFER:
            return seen, f"unknown parameter {name!r}"
        if name in seen:
            return seen, f"parameter {name!r} appears twice"
        if name.endswith("no_context_takeover"):
            if value is not None:
                return seen, f"{name} takes no value"
        elif name == "server_max_window_bits" or response:
            if value is None or not _BITS_RE.match(value) or not 8 <= int(value) <= 15:
                return seen, f"{name} must be 8..15, got {value!r}"
        else:  # client_max_window_bits in an offer: bare, or 8..15
            if value is not None and (not _BITS_RE.match(value) or not 8 <= int(value) <= 15):
                return seen, f"{name} must be 8..15 or have no value, got {value!r}"
        seen[name] = value
    return seen, None


def negotiate(offer_value: str, *, server_prefs: DeflateParams | None = None
              ) -> tuple[DeflateParams, str] | None:
    """Server side: accept the first acceptable permessage-deflate offer in the
    client's Sec-WebSocket-Extensions value; None if none is acceptable.

    ``server_prefs`` asks for no-context-takeover on either side and for smaller
    windows (the server's own window is announced even if not asked for, §7.1.2.1).
    An offer with an invalid parameter is declined (§7.1); so is one lacking
    client_max_window_bits when the server wants to limit the client's window (it
    cannot then, §7.1.2.2).  Raises HandshakeError on a header that does
    not follow the grammar of RFC 6455 §9.1.
    """
    prefs = server_prefs or DeflateParams()
    for name, raw in parse_extensions_raw(offer_value):
        if name.lower() != EXTENSION:
            continue
        p, why = _read_params(raw, response=False)
        if why is not None:
            continue
        out = DeflateParams()
        out.server_no_context_takeover = ("server_no_context_takeover" in p
                                          or prefs.server_no_context_takeover)
        out.client_no_context_takeover = ("client_no_context_takeover" in p
                                          or prefs.client_no_context_takeover)
        if "server_max_window_bits" in p:
            bits = int(p["server_max_window_bits"])  # type: ignore[arg-type]
            if prefs.server_max_window_bits is not None:
                bits = min(bits, prefs.server_max_window_bits)
            out.server_max_window_bits = bits
        else:  # §7.1.2.1: the server may announce a smaller window unasked
            out.server_max_window_bits = prefs.server_max_window_bits
        if "client_max_window_bits" in p:
            offered = p["client_max_window_bits"]
            choices = [int(offered)] if offered is not None else []
            if prefs.client_max_window_bits is not None:
                choices.append(prefs.client_max_window_bits)
            out.client_max_window_bits = min(choices) if choices else None
        elif prefs.client_max_window_bits is not None:
            continue
        return out, out.response()
    return None


def parse_offer(value: str) -> DeflateParams | None:
    """The client's first valid permessage-deflate offer in a Sec-WebSocket-Extensions
    value, as parameters (RFC 7692 §7.1); None if there is none or the header does
    not follow the grammar."""
    try:
        elements = parse_extensions_raw(value) if value else []
    except HandshakeError:
        return None
    for name, raw in elements:
        if name.lower() != EXTENSION:
            continue
        p, why = _read_params(raw, response=False)
        if why is not None:
            continue

        def bits(key: str) -> int | None:
            v = p.get(key)
            return int(v) if v is not None else None

        return DeflateParams(client_no_context_takeover="client_no_context_takeover" in p,
                             server_no_context_takeover="server_no_context_takeover" in p,
                             client_max_window_bits=bits("client_max_window_bits"),
                             server_max_window_bits=bits("server_max_window_bits"))
    return None


def accept_response(offer: DeflateParams, response_value: str) -> DeflateParams:
    """Client side: check the server's answer to ``offer.offer()`` and return the
    parameters in force.  Raises HandshakeError (RFC 7692 §7.1; the client must
    fail the connection, offsets into ``response_value``)."""
    rfc = "RFC 7692 §7.1"
    elements = parse_extensions_raw(response_value)
    ours = [(n, raw) for n, raw in elements if n.lower() == EXTENSION]
    if not ours:
        raise HandshakeError("the response does not accept permessage-deflate", rfc, 0,
                             code="pmd.not_accepted")
    if len(ours) > 1:
        raise HandshakeError("permessage-deflate accepted more than once", "RFC 7692 §5",
                             response_value.lower().rfind(EXTENSION), code="pmd.twice")
    p, why = _read_params(ours[0][1], response=True)
    if why is not None:
        raise HandshakeError(f"invalid response: {why}", rfc, 0, code="pmd.bad_params", detail=why)
    if offer.server_no_context_takeover and "server_no_context_takeover" not in p:
        raise HandshakeError("server_no_context_takeover was asked for but not granted",
                             "RFC 7692 §7.1.1.1", 0, code="pmd.not_granted",
                             param="server_no_context_takeover")
    result = DeflateParams(
        client_no_context_takeover=(offer.client_no_context_takeover
                                    or "client_no_context_takeover" in p),
        server_no_context_takeover="server_no_context_takeover" in p)
    if "server_max_window_bits" in p:
        bits = int(p["server_max_window_bits"])  # type: ignore[arg-type]
        if offer.server_max_window_bits is not None and bits > offer.server_max_window_bits:
            raise HandshakeError(f"server_max_window_bits={bits} is above the "
                                 f"{offer.server_max_window_bits} offered",
                                 "RFC 7692 §7.1.2.1", 0, code="pmd.bits_above",
                                 param="server_max_window_bits", bits=bits,
                                 offered=offer.server_max_window_bits)
        result.server_max_window_bits = bits
    elif offer.server_max_window_bits is not None:
        raise HandshakeError("server_max_window_bits was asked for but not granted",
                             "RFC 7692 §7.1.2.1", 0, code="pmd.not_granted",
                             param="server_max_window_bits")
    if "client_max_window_bits" in p:
        bits = int(p["client_max_window_bits"])  # type: ignore[arg-type]
        if offer.client_max_window_bits is not None and bits > offer.client_max_window_bits:
            raise HandshakeError(f"client_max_window_bits={bits} is above the "
                                 f"{offer.client_max_window_bits} offered",
                                 "RFC 7692 §7.1.2.2", 0, code="pmd.bits_above",
                                 param="client_max_window_bits", bits=bits,
                                 offered=offer.client_max_window_bits)
        result.client_max_window_bits = bits
    else:
        result.client_max_window_bits = offer.client_max_window_bits
    return result


def _side(params: DeflateParams, sender: str) -> tuple[bool, int]:
    """(no_context_takeover, window bits) of what ``sender`` compresses."""
    if sender == "client":
        return params.client_no_context_takeover, params.client_max_window_bits or 15
    if sender == "server":
        return params.server_no_context_takeover, params.server_max_window_bits or 15
    raise ValueError("role is 'client' or 'server'")


class Compressor:
    """Compresses the messages that ``role`` sends (RFC 7692 §7.2.1).

    ``compress(message)`` does a whole message; ``compress_part(data, final)`` does
    one fragment of a message at a time: each part is flushed (Z_SYNC_FLUSH) so it
    can go out at once, and only the last part loses the ``00 00 ff ff`` tail
    (§7.2.1: the sender removes it from the end of the whole message)."""

    def __init__(self, params: DeflateParams, role: str) -> None:
        self.no_context_takeover, self.window_bits = _side(params, role)
        self._c = None if self.no_context_takeover else self._new()
        self._part = None  # the compressor of the message being sent in parts

    def _new(self):
        if self.window_bits == 8:
            # zlib cannot deflate with a 256-byte window; Huffman-only output uses no
            # back-references at all, so it fits any window the peer allows.
            return zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -9, 8,
                                    zlib.Z_HUFFMAN_ONLY)
        return zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED,
                                -self.window_bits)

    def compress(self, message: bytes) -> bytes:
        return self.compress_part(message, True)

    def compress_part(self, data: bytes, final: bool) -> bytes:
        if self._part is None:
            self._part = self._c if self._c is not None else self._new()
        c = self._part
        out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
        assert out.endswith(TAIL)
        if not final:
            return out
        self._part = None
        return out[:-4]


class Decompressor:
    """Inflates the messages that the peer of ``role`` sends (RFC 7692 §7.2.2).

    ``decompress(data)`` inflates a whole message; ``feed(part, final)`` inflates a
    message as its fragments arrive (the tail ``00 00 ff ff`` is put back after the
    final one), so a message never has to be held compressed and inflated at once.
    At most ``max_size`` bytes are ever inflated for one message (None: no limit);
    more raises ProtocolError with close code 1009.  Corrupt data raises
    ProtocolError with 1002.
    """

    def __init__(self, params: DeflateParams, role: str,
                 max_size: int | None = 16 * 2**20) -> None:
        peer = {"client": "server", "server": "client"}.get(role)
        if peer is None:
            raise ValueError("role is 'client' or 'server'")
        self.no_context_takeover, self.window_bits = _side(params, peer)
        self.max_size = max_size
        self._d = zlib.decompressobj(-self.window_bits)
        self._history = b""  # the last window of output, to survive a BFINAL block
        self._size: int | None = None  # bytes inflated so far of the open message

    def __deepcopy__(self, memo: dict) -> "Decompressor":
        """A checkpoint's copy: the inflater's window copied with ``zlib``'s own copy."""
        other = object.__new__(Decompressor)
        other.__dict__.update(self.__dict__)
        other._d = self._d.copy()
        memo[id(self)] = other
        return other

    def decompress(self, data: bytes) -> bytes:
        return self.feed(data, True)

    def feed(self, part: bytes, final: bool) -> bytes:
        """Inflate one fragment's payload of a message; ``final`` for the last."""
        if self._size is None:  # a new message
            self._size = 0
            if self.no_context_takeover:
                self._d = zlib.decompressobj(-self.window_bits)
        data = bytes(part) + TAIL if final else bytes(part)
        limit = 0 if self.max_size is None else self.max_size - self._size + 1
        try:
            out = self._d.decompress(data, limit)
        except zlib.error as e:
            self._size = None
            raise ProtocolError(f"the compressed message is not valid DEFLATE ({e})",
                                "RFC 7692 §6.2", -1, 1002, code="ws.bad_deflate",
                                detail=str(e)) from None
        self._size += len(out)
        if self.max_size is not None and (self._size > self.max_size or self._d.unconsumed_tail):
            self._size = None
            raise ProtocolError(f"the message inflates to more than {self.max_size} bytes",
                                "RFC 6455 §10.4", self.max_size, 1009, code="ws.inflated_too_big",
                                limit=self.max_size)
        if not self.no_context_takeover:
            window = 1 << self.window_bits
            self._history = (out[-window:] if len(out) >= window
                             else (self._history + out)[-window:])
            if self._d.eof:
                # The sender ended the stream with BFINAL (§7.2.3.4); keep the window.
                self._d = zlib.decompressobj(-self.window_bits, zdict=self._history)
        if final:
            self._size = None
        return out
