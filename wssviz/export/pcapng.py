"""Capture → pcapng for Wireshark, with the TLS key log embedded.

A Capture holds the bytes each side wrote to TCP, not packets, so this module
synthesizes a plausible TCP connection around them: the three-way handshake,
data segments no larger than the MSS with consistent sequence and
acknowledgement numbers, ACKs from the receiving side, and the close (FIN both
ways, the closer first; or an RST for ``how: reset``; nothing while the
capture has no ``tcp.close``, e.g. a live session exported midway).  Frames are Ethernet
(link type 1) carrying IPv4 or IPv6, which every Wireshark/tshark decodes.

The NSS key log goes into a pcapng Decryption Secrets Block (secrets type
``TLSK``) ahead of the packets, so Wireshark decrypts the file without any
extra key file.  Everything is built here with ``struct``: the pcapng blocks and
the packets (Ethernet, IPv4/IPv6 and TCP headers, RFC 1071 checksums), each block
written as soon as it is made, so an export streams at the speed of a plain writer.

File format: pcapng (draft-ietf-opsawg-pcapng): SHB §4.1, IDB §4.2,
EPB §4.3, DSB §4.7.
"""

from __future__ import annotations

import ipaddress
import os
import struct
from typing import IO, Any

from wssviz.capture import Capture, Chunk, Fact

DEFAULT_CLIENT = ("127.0.0.1", 50000)
DEFAULT_SERVER = ("127.0.0.1", 443)

LINKTYPE_ETHERNET = 1
SECRETS_TYPE_TLS = 0x544C534B  # "TLSK": an NSS key log
CLIENT_ISN = 0x1A2B3C4D  # fixed initial sequence numbers: the same
SERVER_ISN = 0x5E6F7081  # capture always exports to the same file
WINDOW = 65535
CLIENT_MAC = "02:00:00:00:00:01"  # locally administered addresses
SERVER_MAC = "02:00:00:00:00:02"

# TCP flags
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def keylog_text(capture: Capture) -> str:
    """The capture's TLS secrets as an NSS key log file (empty if there are none)."""
    return "".join(line + "\n" for line in capture.keylog)


# --- pcapng blocks ----------------------------------------------------------


def _block(block_type: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    total = 12 + len(body)
    return struct.pack("<II", block_type, total) + body + struct.pack("<I", total)


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def _shb() -> bytes:
    body = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
    body += _option(4, b"wssviz (synthesized TCP around captured bytes)") + _option(0, b"")
    return _block(0x0A0D0D0A, body)


def _idb() -> bytes:
    body = struct.pack("<HHI", LINKTYPE_ETHERNET, 0, 262144)
    body += _option(9, bytes([9])) + _option(0, b"")  # if_tsresol: nanoseconds
    return _block(1, body)


def _dsb(secrets: bytes) -> bytes:
    return _block(10, struct.pack("<II", SECRETS_TYPE_TLS, len(secrets)) + secrets)


def _epb(frame: bytes, ns: int) -> bytes:
    ns = max(0, ns)
    body = struct.pack("<IIIII", 0, ns >> 32, ns & 0xFFFFFFFF, len(frame), len(frame)) + frame
    return _block(6, body)


# --- the synthesized TCP connection -----------------------------------------


def _endpoints(capture: Capture) -> tuple[tuple[str, int], tuple[str, int]]:
    fact = capture.fact("tcp.connect")
    client, server = DEFAULT_CLIENT, DEFAULT_SERVER
    if fact is not None:
        try:
            client = (str(fact.value["client"][0]), int(fact.value["client"][1]))
            server = (str(fact.value["server"][0]), int(fact.value["server"][1]))
        except (KeyError, IndexError, TypeError, ValueError):
            client, server = DEFAULT_CLIENT, DEFAULT_SERVER
    try:
        same_family = (ipaddress.ip_address(client[0]).version
                       == ipaddress.ip_address(server[0]).version)
    except ValueError:  # a host name, not an address: the packets need addresses
        same_family = False
    if not same_family:
        client, server = (DEFAULT_CLIENT[0], client[1]), (DEFAULT_SERVER[0], server[1])
    return client, server


def _checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071): the one's complement of the one's complement
    sum of 16-bit words.  That sum is the number the bytes spell, modulo 0xFFFF (as
    2^16 = 1 modulo 0xFFFF), which Python's integers compute in C."""
    if len(data) % 2:
        data += b"\0"
    total = int.from_bytes(data, "big") % 0xFFFF
    if total == 0 and any(data):
        total = 0xFFFF
    return ~total & 0xFFFF


def _mac(text: str) -> bytes:
    return bytes(int(x, 16) for x in text.split(":"))


#: TCP options of the SYN and SYN/ACK: MSS, NOP, NOP, SACK permitted (RFC 9293 §3.2, RFC 2018)
def _syn_options(mss: int) -> bytes:
    return struct.pack("!BBH", 2, 4, mss) + b"\x01\x01" + b"\x04\x02"


class _Connection:
    """Both halves of one TCP connection: next sequence numbers, and each packet built
    with ``struct`` (Ethernet, IPv4 or IPv6, TCP with its checksum) and written at once."""

    def __init__(self, client: tuple[str, int], server: tuple[str, int], started: float,
                 write) -> None:
        cip, sip = ipaddress.ip_address(client[0]), ipaddress.ip_address(server[0])
        self.v6 = cip.version == 6
        # Integer nanoseconds, so that chunk times (whole microseconds) survive exactly.
        self.started_ns = round(started * 1e9)
        self.addr = {"c2s": (client, server), "s2c": (server, client)}
        self.packed = {"c2s": (cip.packed, sip.packed), "s2c": (sip.packed, cip.packed)}
        ethertype = b"\x86\xdd" if self.v6 else b"\x08\x00"
        self.ether = {"c2s": _mac(SERVER_MAC) + _mac(CLIENT_MAC) + ethertype,
                      "s2c": _mac(CLIENT_MAC) + _mac(SERVER_MAC) + ethertype}
        self.seq = {"c2s": CLIENT_ISN, "s2c": SERVER_ISN}  # next byte each side sends
        self.acked = {"c2s": 0, "s2c": 0}  # how far each side has acknowledged the other
        self.write = write

    @staticmethod
    def other(direction: str) -> str:
        return "s2c" if direction == "c2s" else "c2s"

    def send(self, direction: str, time: float, flags: int, payload: bytes = b"",
             options: bytes = b"") -> None:
        (src, dst), (sa, da) = self.addr[direction], self.packed[direction]
        ack = self.seq[self.other(direction)] if flags & ACK else 0
        tcp_len = 20 + len(options) + len(payload)
        head = struct.pack("!HHIIBBHHH", src[1], dst[1], self.seq[direction] & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                           (5 + len(options) // 4) << 4, flags, WINDOW, 0, 0) + options
        if self.v6:
            pseudo = sa + da + struct.pack("!IxxxB", tcp_len, 6)
        else:
            pseudo = sa + da + struct.pack("!xBH", 6, tcp_len)
        csum = _checksum(pseudo + head + payload)
        tcp = head[:16] + struct.pack("!H", csum) + head[18:]
        if self.v6:
            ip = struct.pack("!IHBB", 6 << 28, tcp_len, 6, 64) + sa + da
        else:
            ip = struct.pack("!BBHHHBBH", 0x45, 0, 20 + tcp_len, 1, 0, 64, 6, 0) + sa + da
            ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
        self.write(_epb(self.ether[direction] + ip + tcp + payload, self.started_ns + round(time * 1e9)))
        self.seq[direction] += len(payload) + (1 if flags & (SYN | FIN) else 0)
        if flags & ACK:
            self.acked[direction] = self.seq[self.other(direction)]

    def ack_pending(self, receiver: str, time: float) -> None:
        """A pure ACK from ``receiver`` if it has data it has not acknowledged yet."""
        if self.acked[receiver] != self.seq[self.other(receiver)]:
            self.send(receiver, time, ACK)

    def unacked(self, receiver: str) -> int:
        return self.seq[self.other(receiver)] - self.acked[receiver]


def connections(capture: Capture) -> list[Capture]:
    """One Capture per TCP connection: a session that reconnects (a heartbeat's
    back-off, a resumption) opens each connection with its own ``tcp.connect``."""
    parts: list[Capture] = []
    for event in capture.events:
        if not parts or (isinstance(event, Fact) and event.name == "tcp.connect"
                         and any(isinstance(e, Chunk) or e.name == "tcp.connect"
                                 for e in parts[-1].events)):
            parts.append(Capture(scheme=capture.scheme, server_name=capture.server_name,
                                 started=capture.started, keylog=capture.keylog))
        parts[-1].events.append(event)
    return parts


def _packets(capture: Capture, mss: int, write) -> None:
    client, server = _endpoints(capture)
    conn = _Connection(client, server, capture.started, write)
    chunks = capture.chunks
    connect = capture.fact("tcp.connect")
    t = connect.time if connect is not None else (chunks[0].time if chunks else 0.0)
    if chunks:
        t = min(t, chunks[0].time)
    syn_opts = _syn_options(mss)
    conn.send("c2s", t, SYN, options=syn_opts)
    conn.send("s2c", t, SYN | ACK, options=syn_opts)
    conn.send("c2s", t, ACK)

    close = capture.fact("tcp.close")
    by = "s2c" if close is not None and close.value.get("by") == "server" else "c2s"
    for i, chunk in enumerate(chunks):
        d, receiver = chunk.direction, conn.other(chunk.direction)
        data = chunk.data
        for start in range(0, len(data), mss):
            piece = data[start:start + mss]
            last = start + mss >= len(data)
            conn.send(d, chunk.time, ACK | (PSH if last else 0), piece)
            # Keep what is in flight inside the receiver's (unscaled) window.
            if conn.unacked(receiver) + mss > WINDOW // 2:
                conn.send(receiver, chunk.time, ACK)
        nxt: Chunk | None = chunks[i + 1] if i + 1 < len(chunks) else None
        if (nxt is None and receiver != by) or (nxt is not None and nxt.direction == d):
            conn.ack_pending(receiver, chunk.time)  # else its next segment carries the ACK

    if close is None:  # still open (a live session exported midway): no FIN yet
        return
    how = str(close.value.get("how", "fin"))
    t_close = max(chunks[-1].time if chunks else t, close.time)
    if how == "reset":
        conn.send(by, t_close, RST | ACK)
    else:
        conn.send(by, t_close, FIN | ACK)
        conn.send(conn.other(by), t_close, FIN | ACK)
        conn.send(by, t_close, ACK)


def write_pcapng(capture: Capture, path_or_file: str | os.PathLike[str] | IO[bytes],
                 *, mss: int = 1460) -> None:
    """Write ``capture`` as a pcapng file Wireshark decrypts with no extra key file.

    ``path_or_file`` is a path or a binary file object opened for writing.
    ``mss`` bounds the payload of every synthesized TCP segment.
    """
    if not 1 <= mss <= 65495:
        raise ValueError(f"export: MSS {mss} out of range 1..65495 (RFC 9293 §3.7.1)")
    if hasattr(path_or_file, "write"):
        _write(capture, path_or_file.write, mss)  # type: ignore[union-attr]
    else:
        with open(path_or_file, "wb") as f:  # type: ignore[arg-type]
            _write(capture, f.write, mss)


def _write(capture: Capture, write, mss: int) -> None:
    """The blocks, each written as it is made (nothing of the file is held whole)."""
    write(_shb())
    write(_idb())
    if capture.keylog:
        write(_dsb(keylog_text(capture).encode("ascii", "replace")))
    for connection in connections(capture):
        _packets(connection, mss, write)
