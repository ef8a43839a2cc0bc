"""A realistic Capture from a real in-process TLS session, for tests.

Client and server are ``ssl.SSLObject``s over ``ssl.MemoryBIO`` pairs; this
driver moves each flight from one side to the other and records it as a Chunk,
so the bytes are exactly what OpenSSL wrote.  The session carries the RFC 6455
§1.3 opening handshake, the §5.7 masked "Hello" frame, a server reply, close
frames both ways and close_notify both ways.  The key log comes from
``SSLContext.keylog_filename`` pointed at a memfd (nothing on disk).
"""

from __future__ import annotations

import datetime as _dt
import os
import ssl
import tempfile
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from wssviz.capture import Capture

SERVER_NAME = "server.example.com"
CLIENT_ADDR = ("127.0.0.1", 50123)
SERVER_ADDR = ("127.0.0.1", 8443)

UPGRADE_REQUEST = (
    b"GET /chat HTTP/1.1\r\n"
    b"Host: server.example.com\r\n"
    b"Upgrade: websocket\r\n"
    b"Connection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Origin: http://example.com\r\n"
    b"Sec-WebSocket-Protocol: chat, superchat\r\n"
    b"Sec-WebSocket-Version: 13\r\n"
    b"\r\n"
)
UPGRADE_RESPONSE = (
    b"HTTP/1.1 101 Switching Protocols\r\n"
    b"Upgrade: websocket\r\n"
    b"Connection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
    b"Sec-WebSocket-Protocol: chat\r\n"
    b"\r\n"
)
#: RFC 6455 §5.7: a single-frame masked text message "Hello".
MASKED_HELLO = bytes.fromhex("818537fa213d7f9f4d5158")
CLOSE_MASK = bytes.fromhex("a1b2c3d4")


def mask(payload: bytes, key: bytes) -> bytes:
    return bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def server_frame(opcode: int, payload: bytes) -> bytes:
    """An unmasked frame as a server writes it (RFC 6455 §5.2)."""
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([n])
    elif n < 1 << 16:
        head += bytes([126]) + n.to_bytes(2, "big")
    else:
        head += bytes([127]) + n.to_bytes(8, "big")
    return head + payload


CLIENT_CLOSE = bytes([0x88, 0x82]) + CLOSE_MASK + mask(b"\x03\xe8", CLOSE_MASK)
SERVER_CLOSE = server_frame(0x8, b"\x03\xe8")


def make_certs() -> tuple[bytes, bytes, bytes]:
    """A throwaway EC CA and a leaf for SERVER_NAME: (ca_pem, leaf_pem, leaf_key_pem)."""
    now = _dt.datetime.now(_dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wssviz test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(minutes=5))
        .not_valid_after(now + _dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                       critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(minutes=5))
        .not_valid_after(now + _dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return ca.public_bytes(pem), leaf.public_bytes(pem), key_pem


class _Pair:
    """Client and server SSLObjects wired back to back through MemoryBIOs."""

    def __init__(self, tls13: bool, keylog_path: str) -> None:
        ca_pem, leaf_pem, key_pem = make_certs()
        self.ca_pem = ca_pem.decode()
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as tmp:  # created 0700
            path = os.path.join(tmp, "server.pem")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(key_pem + leaf_pem)
            server_ctx.load_cert_chain(path)
            os.unlink(path)
        client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client_ctx.load_verify_locations(cadata=self.ca_pem)
        if not tls13:
            client_ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        client_ctx.keylog_filename = keylog_path
        self.c_in, self.c_out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.s_in, self.s_out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.client = client_ctx.wrap_bio(self.c_in, self.c_out, server_hostname=SERVER_NAME)
        self.server = server_ctx.wrap_bio(self.s_in, self.s_out, server_side=True)


def _step(fn) -> bool:
    """Run one non-blocking SSLObject call; True if it finished."""
    try:
        fn()
        return True
    except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
        return False


def make_tls_capture(tls13: bool = True, *, server_message: bytes = b"Hello") -> Capture:
    """Run a real TLS session in-process and return it as a Capture.

    ``server_message`` is the text payload of the server's reply frame (make it
    large to get a chunk that spans many TLS records and TCP segments).
    """
    fd = os.memfd_create("keylog")
    try:
        pair = _Pair(tls13, f"/proc/self/fd/{fd}")
        cap = Capture(scheme="wss", server_name=SERVER_NAME, started=time.time())
        cap.trust.append(pair.ca_pem)
        t0 = time.monotonic()

        def now() -> float:
            return time.monotonic() - t0

        def flight(direction: str) -> int:
            src, dst = ((pair.c_out, pair.s_in) if direction == "c2s"
                        else (pair.s_out, pair.c_in))
            data = src.read()
            if data:
                cap.add_chunk(direction, now(), data)
                dst.write(data)
            return len(data)

        cap.add_fact(0.0, "tcp.connect", client=list(CLIENT_ADDR), server=list(SERVER_ADDR))
        c_done = s_done = False
        for _ in range(10):
            c_done = c_done or _step(pair.client.do_handshake)
            flight("c2s")
            s_done = s_done or _step(pair.server.do_handshake)
            flight("s2c")
            if c_done and s_done:
                break
        else:
            raise RuntimeError("TLS handshake did not finish")

        def send(direction: str, data: bytes) -> bytes:
            writer, reader = ((pair.client, pair.server) if direction == "c2s"
                              else (pair.server, pair.client))
            writer.write(data)
            flight(direction)
            got = b""
            while len(got) < len(data):
                got += reader.read(len(data) - len(got))
            return got

        assert send("c2s", UPGRADE_REQUEST) == UPGRADE_REQUEST
        assert send("s2c", UPGRADE_RESPONSE) == UPGRADE_RESPONSE
        assert send("c2s", MASKED_HELLO) == MASKED_HELLO
        reply = server_frame(0x1, server_message)
        assert send("s2c", reply) == reply
        assert send("c2s", CLIENT_CLOSE) == CLIENT_CLOSE
        assert send("s2c", SERVER_CLOSE) == SERVER_CLOSE
        # close_notify both ways
        _step(pair.client.unwrap)
        flight("c2s")
        _step(pair.server.unwrap)
        flight("s2c")
        cap.add_fact(now(), "tcp.close", by="client", how="fin")

        size = os.fstat(fd).st_size
        cap.add_keylog(os.pread(fd, size, 0).decode("ascii").splitlines())
        return cap
    finally:
        os.close(fd)


def pcapng_blocks(data: bytes) -> list[tuple[int, int, bytes]]:
    """(offset, block type, body) for each block of a little-endian pcapng file."""
    import struct

    out, off = [], 0
    while off < len(data):
        btype, total = struct.unpack_from("<II", data, off)
        out.append((off, btype, data[off + 8:off + total - 4]))
        off += total
    return out


def faulty_recording(folder, index: int, key: str, value):
    """The live seed-example session saved as a recording whose ``events[index][key]`` is
    ``value`` (a fault further on in the file); returns (path, the session's Capture)."""
    import json

    from wssviz import recording, scenarios
    from wssviz.live.pair import LiveSession

    live = LiveSession(scenarios.load("seed-example"))
    live.run_all()
    doc = recording.to_document(live.capture)
    doc["events"][index][key] = value
    path = folder / "r.json"
    path.write_text(json.dumps(doc, indent=1))
    return path, live.capture
