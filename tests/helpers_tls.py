"""A real OpenSSL client and server, back to back in memory, for tests.

``run_tls_pair`` drives a client and a server ``SSLObject`` over ``ssl.MemoryBIO``
pairs in one thread: each time a side produces bytes they are recorded as one
flight (direction, bytes) and handed to the peer.  The TLS secrets are captured
with ``keylog_filename`` pointed at a memfd, so nothing touches the disk.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field
from typing import Callable, Sequence, Union

__all__ = ["TlsPairResult", "run_tls_pair"]

#: What one side does after the handshake: write bytes, or act on its SSLObject.
Action = Union[bytes, Callable[[ssl.SSLObject], None]]


@dataclass
class TlsPairResult:
    flights: list[tuple[str, bytes]]  # ("c2s" | "s2c", bytes), in the order written
    keylog: list[str]  # NSS key log lines, deduplicated, in order
    received: dict[str, bytes] = field(default_factory=dict)  # "client"/"server" → app data read
    client_cipher: tuple | None = None  # SSLObject.cipher() on the client
    server_cipher: tuple | None = None
    version: str | None = None  # SSLObject.version() on the client

    def stream(self, direction: str) -> bytes:
        return b"".join(data for d, data in self.flights if d == direction)


def _drain(bio: ssl.MemoryBIO) -> bytes:
    return bio.read() if bio.pending else b""


def run_tls_pair(client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext, *,
                 server_hostname: str | None = "server.example.com",
                 exchanges: Sequence[tuple[str, Action]] = (),
                 close: bool = True, max_rounds: int = 50) -> TlsPairResult:
    """Run one TLS connection between two contexts entirely in memory.

    ``exchanges`` are ``("client" | "server", action)`` steps made after the
    handshake, in order: bytes are written with ``SSLObject.write``, a callable
    is called with that side's ``SSLObject``; after each, the peer reads
    everything that arrived.
    With ``close``, the client sends close_notify, the server reads it and
    answers with its own.  Both contexts' ``keylog_filename`` are pointed at a
    memfd for the run and restored afterwards.
    """
    fd = os.memfd_create("keylog")
    saved = (client_ctx.keylog_filename, server_ctx.keylog_filename)
    try:
        client_ctx.keylog_filename = server_ctx.keylog_filename = f"/proc/self/fd/{fd}"
        c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
        client = client_ctx.wrap_bio(c_in, c_out, server_side=False, server_hostname=server_hostname)
        server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
        flights: list[tuple[str, bytes]] = []
        received = {"client": b"", "server": b""}

        def pump() -> bool:
            moved = False
            data = _drain(c_out)
            if data:
                flights.append(("c2s", data))
                s_in.write(data)
                moved = True
            data = _drain(s_out)
            if data:
                flights.append(("s2c", data))
                c_in.write(data)
                moved = True
            return moved

        def read_all(side: str, obj: ssl.SSLObject) -> None:
            while True:
                try:
                    chunk = obj.read(65536)
                except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                    return
                if not chunk:
                    return
                received[side] += chunk

        done = {"client": False, "server": False}
        for _ in range(max_rounds):
            for side, obj in (("client", client), ("server", server)):
                if not done[side]:
                    try:
                        obj.do_handshake()
                        done[side] = True
                    except ssl.SSLWantReadError:
                        pass
                pump()
            if all(done.values()) and not pump():
                break
        else:
            raise AssertionError("TLS handshake did not finish in memory")
        # The server's post-handshake messages (TLS 1.3 NewSessionTicket) reach
        # the client when it next reads.
        read_all("client", client)
        pump()

        for side, data in exchanges:
            writer, (peer_name, peer) = ((client, ("server", server)) if side == "client"
                                         else (server, ("client", client)))
            if callable(data):
                data(writer)
            else:
                writer.write(data)
            pump()
            read_all(peer_name, peer)
            pump()

        if close:
            try:
                client.unwrap()
            except ssl.SSLWantReadError:
                pass
            pump()
            try:
                server.read(1)
            except ssl.SSLZeroReturnError:
                pass
            try:
                server.unwrap()
            except ssl.SSLWantReadError:
                pass
            pump()
            try:
                client.unwrap()
            except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                pass
            pump()

        size = os.fstat(fd).st_size
        text = os.pread(fd, size, 0).decode("ascii") if size else ""
        seen: set[str] = set()
        keylog = []
        for line in text.splitlines():
            if line and not line.startswith("#") and line not in seen:
                seen.add(line)
                keylog.append(line)
        return TlsPairResult(flights, keylog, received, client.cipher(), server.cipher(), client.version())
    finally:
        client_ctx.keylog_filename, server_ctx.keylog_filename = saved
        os.close(fd)
