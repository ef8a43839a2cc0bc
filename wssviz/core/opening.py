"""The opening handshake of both sides (RFC 6455 §4, RFC 7692 §5), sans I/O.

A ``ClientHandshake`` writes the Upgrade request, reads the response head as its
bytes arrive, judges it (§4.1) and, once it is a good 101, hands over a
:class:`~wssviz.core.connection.Connection` with the negotiated permessage-deflate
parameters (bytes that came right after the head go to it).  A ``ServerHandshake``
reads the request head, judges it (§4.2.1), negotiates the subprotocol and
permessage-deflate, and holds the response to send: a 101 with a Connection, or a
refusal.  Every endpoint of wssviz opens through these two; the dissector judges
what it sees with the same ``handshake.check_request``/``check_response``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from wssviz.core import deflate as zd
from wssviz.core import handshake as hs
from wssviz.core.connection import Connection
from wssviz.core.frames import LIMIT
from wssviz.core.key import new_key


class _Head:
    """Bytes until an HTTP head is complete; what follows it is ``leftover``."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.head: bytes | None = None
        self.leftover = b""
        self.error: hs.HandshakeError | None = None

    @property
    def done(self) -> bool:
        return self.head is not None or self.error is not None

    @property
    def buffered(self) -> int:
        """Bytes of a head that is not complete yet."""
        return len(self._buf)

    def _take(self, data: bytes) -> bool:
        if self.done:
            self.leftover += data
            return False
        self._buf += data
        try:
            n = hs.head_length(bytes(self._buf))
        except hs.HandshakeError as exc:
            self.error = exc
            return True
        if n is None:
            return False
        self.head, self.leftover = bytes(self._buf[:n]), bytes(self._buf[n:])
        self._buf.clear()
        return True


class ClientHandshake(_Head):
    """The client's side.  ``deflate``: offer permessage-deflate with these
    parameters (``extensions`` overrides the whole header value instead)."""

    def __init__(self, host: str, path: str, *, key: str | None = None, origin: str | None = None,
                 protocols: Sequence[str] = (), deflate: zd.DeflateParams | None = None,
                 extensions: str | None = None, version: str = "13",
                 extra: Sequence[tuple[str, str]] = (), max_size: int | None = LIMIT,
                 mask_key: Callable[[], bytes] | None = None, keep: int | None = None) -> None:
        super().__init__()
        self.key = key or new_key()
        self.protocols = list(protocols)
        self.offer = extensions if extensions is not None else (deflate.offer() if deflate else None)
        self.request = hs.build_request(host, path, self.key, origin=origin, protocols=protocols,
                                        extensions=self.offer, version=version, extra=extra)
        self.response: hs.Response | None = None
        self.problems: list[hs.Problem] = []
        self.connection: Connection | None = None
        self._conn_args = {"max_size": max_size, "mask_key": mask_key, "keep": keep}

    def receive_data(self, data: bytes) -> bool:
        """Bytes from the server; True when the response has been judged."""
        if not self._take(data):
            return False
        if self.error is not None:
            return True
        try:
            self.response = hs.parse_response(self.head)
        except hs.HandshakeError as exc:
            self.error = exc
            return True
        self.problems = hs.check_response(self.response, key=self.key, offered_protocols=self.protocols,
                                          offered_extensions=self.offer)
        if self.problems:
            return True
        params = None
        ext = self.response.get("Sec-WebSocket-Extensions")
        if ext:
            try:
                params = zd.accept_response(zd.parse_offer(self.offer or "") or zd.DeflateParams(), ext)
            except hs.HandshakeError as exc:  # an answer the client never offered
                # its offset counts in the header's value: count it in the head
                h = self.response.header("Sec-WebSocket-Extensions")
                exc.offset = h.value_start + max(exc.offset, 0) if h is not None else -1
                self.error = exc
                return True
        self.connection = Connection("client", deflate=params, base=len(self.head), **self._conn_args)
        if self.leftover:
            self.connection.receive_data(self.leftover)
        return True

    @property
    def ok(self) -> bool:
        return self.connection is not None

    @property
    def protocol(self) -> str | None:
        return self.response.get("Sec-WebSocket-Protocol") if self.response is not None else None


class ServerHandshake(_Head):
    """The server's side.  ``allowed_origins`` as in ``handshake.check_request``;
    ``deflate``: accept permessage-deflate with these preferences (None: refuse it)."""

    def __init__(self, *, allowed_origins: Collection[str | None] | None = None,
                 supported_protocols: Sequence[str] = (), deflate: zd.DeflateParams | None = None,
                 max_size: int | None = LIMIT, keep: int | None = None) -> None:
        super().__init__()
        self.allowed_origins = allowed_origins
        self.supported_protocols = list(supported_protocols)
        self.deflate_prefs = deflate
        self.request: hs.Request | None = None
        self.check: hs.RequestCheck | None = None
        self.negotiated: zd.DeflateParams | None = None
        self.response = b""
        self.connection: Connection | None = None
        self._conn_args = {"max_size": max_size, "keep": keep}

    def receive_data(self, data: bytes) -> bool:
        """Bytes from the client; True when the request has been judged and
        ``response`` holds the answer (or ``upgrade`` is False: not a handshake)."""
        if not self._take(data):
            return False
        if self.error is not None:
            self.response = hs.build_error_response(self.error.status, self.error.rule)
            return True
        try:
            self.request = hs.parse_request(self.head)
        except hs.HandshakeError as exc:
            self.error = exc
            self.response = hs.build_error_response(exc.status, exc.rule)
            return True
        if not self.upgrade:
            return True  # a plain HTTP request (a page): the driver answers it

        def extensions(value: str) -> str | None:
            got = zd.negotiate(value, server_prefs=self.deflate_prefs)
            if got is None:
                return None
            self.negotiated = got[0]
            return got[1]

        self.check = hs.check_request(self.request, allowed_origins=self.allowed_origins,
                                      supported_protocols=self.supported_protocols,
                                      supported_extensions=extensions if self.deflate_prefs is not None else None)
        if not self.check.ok:
            first = self.check.problems[0] if self.check.problems else None
            self.response = hs.build_error_response(self.check.status, first.detail if first else "")
            return True
        self.response = hs.build_response(self.check)
        self.connection = Connection("server", deflate=self.negotiated, base=len(self.head),
                                     **self._conn_args)
        if self.leftover:
            self.connection.receive_data(self.leftover)
        return True

    @property
    def upgrade(self) -> bool:
        """Whether the request asks for WebSocket at all (an Upgrade header or a key)."""
        r = self.request
        return r is not None and (r.header("Upgrade") is not None or r.header("Sec-WebSocket-Key") is not None)

    @property
    def ok(self) -> bool:
        return self.connection is not None
