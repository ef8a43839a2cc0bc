"""Transport pieces of the live pair: loopback TCP, TLS on MemoryBIOs, the key log.

``TLSEnd`` is one side's TLS object over a pair of ``ssl.MemoryBIO``: what it
wants to send stays in ``out`` until a driver moves it, so every byte can be
recorded and held.  ``KeyLog`` is a memfd both contexts append NSS key log lines
to: nothing on disk, nothing that can block.
"""

from __future__ import annotations

import os
import select
import socket
import ssl
import time

HANDSHAKE_TIMEOUT = 10.0  # seconds a single transfer may take before the session gives up


class PairError(Exception):
    """Something in the pair itself failed (not a protocol outcome)."""


# --- transport ---------------------------------------------------------------


class Wire:
    """A real TCP connection over loopback; both ends are held here."""

    def __init__(self) -> None:
        listener = socket.create_server(("127.0.0.1", 0))
        self.client = socket.create_connection(listener.getsockname())
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
    """A memfd that both TLS contexts append their secrets to."""

    def __init__(self) -> None:
        self.fd = os.memfd_create("wssviz-keylog")
        self.path = f"/proc/self/fd/{self.fd}"

    def lines(self) -> list[str]:
        size = os.fstat(self.fd).st_size
        return os.pread(self.fd, size, 0).decode("ascii", "replace").splitlines()

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
            if not data:
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
