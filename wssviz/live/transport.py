"""Transport pieces of the live pair: loopback TCP, TLS on MemoryBIOs, the key log.

``RealEnd`` is our end of a real TCP connection (``connect``, ``listen``):
every byte it sends or receives is recorded.  ``TLSEnd`` is one side's TLS object over a pair of ``ssl.MemoryBIO``: what it
wants to send stays in ``out`` until a driver moves it, so every byte can be
recorded and held.  ``KeyLog`` is a memfd both contexts append NSS key log lines
to: nothing on disk, nothing that can block.
"""

from __future__ import annotations

import os
import select
import socket
import time

from wssviz import lazy
from wssviz.capture import Capture

ssl = lazy.module("ssl")  # a plain TCP connection needs none of it (--json never loads it for ws://)

RECV_SIZE = 1 << 16  # bytes read from a socket at a time
HANDSHAKE_TIMEOUT = 10.0  # seconds a single transfer may take before the session gives up


class PairError(Exception):
    """Something in the pair itself failed (not a protocol outcome)."""


# --- transport ---------------------------------------------------------------


class Wire:
    """A real TCP connection over loopback; both ends are held here."""

    def __init__(self) -> None:
        listener = socket.create_server(("127.0.0.1", 0))
        # a numeric address: connect() takes it as it is (create_connection would resolve
        # it through getaddrinfo and load the IDNA codec for nothing)
        self.client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self.client.connect(listener.getsockname())
        except OSError:
            self.client.close()
            listener.close()
            raise
        self.server, _ = listener.accept()
        listener.close()
        for s in (self.client, self.server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.setblocking(False)
        self.client_addr = self.client.getsockname()[:2]
        self.server_addr = self.server.getsockname()[:2]

    def move(self, direction: str, data: bytes) -> bytes:
        """Write ``data`` on one end and read exactly as much from the other."""
        src, dst = (self.client, self.server) if direction == "c2s" else (self.server, self.client)
        view = memoryview(data)
        sent = 0
        got = bytearray()
        deadline = time.monotonic() + HANDSHAKE_TIMEOUT
        while len(got) < len(data):
            if time.monotonic() > deadline:
                raise PairError(f"loopback transfer stalled after {len(got)} of {len(data)} bytes")
            readable, writable, _ = select.select([dst], [src] if sent < len(data) else [], [], 1.0)
            if writable:
                try:
                    sent += src.send(view[sent:sent + 1 << 20])
                except BlockingIOError:
                    pass
            if readable:
                try:
                    piece = dst.recv(1 << 20)
                except BlockingIOError:
                    continue
                if not piece:
                    raise PairError("peer closed the TCP connection during a transfer")
                got += piece
        return bytes(got)

    def close(self, first: str) -> None:
        order = (self.server, self.client) if first == "server" else (self.client, self.server)
        for s in order:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


class KeyLog:
    """A memfd that both TLS contexts append their secrets to.  ``also``: files the
    new lines are appended to each time they are read (``--keylog``, ``SSLKEYLOGFILE``,
    which browsers append to the same way)."""

    def __init__(self, also: list[str] | tuple[str, ...] = ()) -> None:
        self.fd = os.memfd_create("wssviz-keylog")
        self.path = f"/proc/self/fd/{self.fd}"
        self.also = list(also)
        self._copied = 0  # bytes of the memfd already appended to ``also``

    def lines(self) -> list[str]:
        size = os.fstat(self.fd).st_size
        data = os.pread(self.fd, size, 0)
        if self.also and size > self._copied:
            new = data[self._copied:data.rfind(b"\n") + 1]
            lines = b"".join(ln for ln in new.splitlines(keepends=True) if not ln.startswith(b"#"))
            for path in self.also:
                with open(path, "ab") as f:
                    f.write(lines)
            self._copied += len(new)
        return data.decode("ascii", "replace").splitlines()

    def close(self) -> None:
        os.close(self.fd)


def split_records(buf: bytes) -> list[bytes]:
    """Cut the bytes OpenSSL wrote into whole TLS records."""
    out, i = [], 0
    while i + 5 <= len(buf):
        n = int.from_bytes(buf[i + 3:i + 5], "big")
        out.append(buf[i:i + 5 + n])
        i += 5 + n
    if i != len(buf):
        raise PairError(f"OpenSSL wrote a partial record at offset {i}")
    return out


class TLSEnd:
    def __init__(self, ctx: ssl.SSLContext, server_side: bool, hostname: str | None = None):
        self.inc = ssl.MemoryBIO()
        self.out = ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out, server_side=server_side,
                                server_hostname=None if server_side else hostname)
        self.plain = bytearray()  # application bytes read so far, not yet consumed
        self.closed = False  # peer's close_notify seen

    def pump(self) -> None:
        """Read whatever application data the peer's records hold."""
        while not self.closed:
            try:
                data = self.obj.read(1 << 20)
            except ssl.SSLWantReadError:
                return
            except ssl.SSLZeroReturnError:
                self.closed = True
                return
            if not data:  # SSLObject.read gives b"" once the peer's close_notify is in
                self.closed = True
                return
            self.plain += data


def reset(wire: Wire, side: str) -> None:
    """Drop the connection abruptly from ``side``: SO_LINGER 0 makes close() send a
    TCP RST instead of a FIN, so the peer's next read fails with "connection reset"."""
    import struct

    sock = wire.client if side == "client" else wire.server
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def peer_saw_reset(wire: Wire, side: str) -> str:
    """What ``side`` reads after its peer dropped the connection: "reset" or "eof"."""
    sock = wire.client if side == "client" else wire.server
    deadline = time.monotonic() + HANDSHAKE_TIMEOUT
    while time.monotonic() < deadline:
        select.select([sock], [], [], 1.0)
        try:
            data = sock.recv(1 << 16)
        except BlockingIOError:
            continue
        except ConnectionResetError:
            return "reset"
        if not data:
            return "eof"
    raise PairError("the peer's drop never reached this side")


# --- one end of a real connection (connect, listen) -----------------------------------


class PeerGone(Exception):
    """The peer closed (``how`` = fin) or reset the TCP connection."""

    def __init__(self, how: str) -> None:
        super().__init__(how)
        self.how = how


class RealEnd:
    """Our end of a real TCP connection: every byte sent or received is recorded.

    ``side`` is ``client`` or ``server`` (which end we are).  With ``tls`` the
    bytes go through a TLSEnd; ``app`` holds the application bytes read and not
    yet consumed.  ``receive`` hands bytes to OpenSSL first, then records them
    (after reading the key log), so the secrets they create are already there.
    """

    def __init__(self, sock: socket.socket, capture: Capture, side: str, *,
                 tls: TLSEnd | None = None, keylog: KeyLog | None = None,
                 t0: float | None = None) -> None:
        self.sock = sock
        self.capture = capture
        self.side = side
        self.out_dir, self.in_dir = ("c2s", "s2c") if side == "client" else ("s2c", "c2s")
        self.tls = tls
        self.keylog = keylog
        self.t0 = time.perf_counter() if t0 is None else t0
        self.handshaken = tls is None
        self.eof = False  # the peer's FIN (or reset) has been seen
        self.eof_how = ""
        self.waited = 0.0  # seconds spent waiting for the peer (not reading or dissecting)
        self._plain = bytearray()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)

    def now(self) -> float:
        return time.perf_counter() - self.t0

    @property
    def app(self) -> bytearray:
        return self.tls.plain if self.tls is not None else self._plain

    def take_app(self) -> bytes:
        """The application bytes read since the last call."""
        buf = self.app
        data = bytes(buf)
        buf.clear()
        return data

    def sync_keylog(self) -> None:
        if self.keylog is not None:
            self.capture.add_keylog(self.keylog.lines())

    def fact(self, name: str, **value) -> None:
        self.sync_keylog()
        self.capture.add_fact(self.now(), name, **value)

    # -- sending ---------------------------------------------------------------------

    def send_raw(self, data: bytes, timeout: float) -> None:
        """Write ``data`` to TCP (recorded as one chunk); PeerGone if it cannot be."""
        self.sync_keylog()
        view, sent = memoryview(data), 0
        deadline = time.monotonic() + timeout
        while sent < len(data):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"the peer stopped reading after {sent} of {len(data)} bytes")
            _, writable, _ = select.select([], [self.sock], [], left)
            if writable:
                try:
                    sent += self.sock.send(view[sent:])
                except BlockingIOError:
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    self.eof, self.eof_how = True, "reset"
                    if sent:
                        self.capture.add_chunk(self.out_dir, self.now(), data[:sent])
                    raise PeerGone("reset") from None
        self.capture.add_chunk(self.out_dir, self.now(), data)

    def flush(self, timeout: float) -> bool:
        """Send whatever OpenSSL has written; True if there was anything."""
        if self.tls is None:
            return False
        data = self.tls.out.read()
        if data:
            self.send_raw(data, timeout)
        return bool(data)

    def send_app(self, data: bytes, timeout: float) -> None:
        """An application write (HTTP head, frame): in TLS records, or as it is."""
        if self.tls is None:
            self.send_raw(data, timeout)
            return
        self.tls.obj.write(data)
        self.flush(timeout)

    # -- receiving ---------------------------------------------------------------------

    def receive(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for bytes; True if some arrived.

        Raises PeerGone at the peer's FIN or reset, and ssl.SSLError (after
        recording the bytes) when OpenSSL rejects what arrived.
        """
        if self.eof:
            raise PeerGone(self.eof_how)
        began = time.monotonic()
        readable, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        self.waited += time.monotonic() - began
        if not readable:
            return False
        try:
            data = self.sock.recv(RECV_SIZE)
        except BlockingIOError:
            return False
        except ConnectionResetError:
            self.eof, self.eof_how = True, "reset"
            raise PeerGone("reset") from None
        if not data:
            self.eof, self.eof_how = True, "fin"
            raise PeerGone("fin")
        error: ssl.SSLError | None = None
        if self.tls is not None:
            self.tls.inc.write(data)
            try:
                self._progress()
            except ssl.SSLError as exc:
                error = exc
        else:
            self._plain += data
        self.sync_keylog()
        self.capture.add_chunk(self.in_dir, self.now(), data)
        if error is not None:
            raise error
        return True

    def _progress(self) -> None:
        if not self.handshaken:
            try:
                self.tls.obj.do_handshake()
            except ssl.SSLWantReadError:
                return
            self.handshaken = True
        self._pump()

    def _pump(self) -> None:
        self.tls.pump()

    def start_handshake(self) -> None:
        """Let OpenSSL write its first flight (the client's ClientHello)."""
        try:
            self.tls.obj.do_handshake()
            self.handshaken = True
        except ssl.SSLWantReadError:
            pass

    def close_tls(self, timeout: float) -> None:
        """Send our close_notify (best effort: the peer may be gone)."""
        if self.tls is None:
            return
        try:
            self.tls.obj.unwrap()
        except (ssl.SSLWantReadError, ssl.SSLError, ValueError):
            pass
        try:
            self.flush(timeout)
        except (PeerGone, TimeoutError, OSError):
            pass

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
