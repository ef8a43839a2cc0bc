"""Capture files (pcap, pcapng) → one Capture per TCP connection.

Theory of operation
-------------------
1. *Container.*  Read here with ``struct`` from the file's bytes: pcap's file
   and record headers; pcapng's blocks (Section Header with its byte order,
   Interface Description with link type and time resolution, Enhanced, Simple
   and obsolete Packet Blocks, Decryption Secrets Blocks, the rest skipped).
   A block whose lengths do not hold together, or a packet cut short, is an
   error at the offset where its block or record began.
2. *Packets.*  Link, IP and TCP headers are decoded here with ``struct``
   rather than by scapy's dissectors: header arithmetic gives the exact TCP
   payload (no Ethernet padding), and scapy's global layer bindings would
   otherwise decide how a payload on port 443 is parsed.
3. *Connections.*  Keyed by the two endpoints; a new SYN after data or a
   close starts a new connection.  The client is the side that sent the SYN
   (or received the SYN-ACK).  Without a handshake in the file, the server
   is the side on a well-known web port (443, 80, 8443, 8080, 8000, 8888),
   else the side with the lower port, else the receiver of the first segment.
4. *Reassembly.*  Our own, per direction, in sequence space (RFC 9293 §3.4):
   a segment is delivered when it starts at or before the next expected
   byte; old bytes (retransmissions, overlaps) are trimmed, and overlaps that
   disagree with what was delivered are noted (the first copy wins);
   out-of-order segments wait until the hole before them is filled.  A hole
   that never fills is a gap: the stream stops there and a note says how many
   bytes were left out.  (scapy's session reassembly loses sync when a segment
   ends inside a TLS record header, so it is not used.)
5. *Chunks.*  Delivered bytes become Chunks in arrival order, times relative
   to the connection's first packet.  Consecutive deliveries in the same
   direction are one Chunk until a segment carries PSH (the sender's stack
   pushes at the end of a write), so our own pcapng export round-trips
   flight by flight.
"""

from __future__ import annotations

import ipaddress
import os
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

from wssviz.capture import LAST_MOMENT, Capture

WEB_PORTS = (443, 80, 8443, 8080, 8000, 8888)
PCAP_MAGICS = {b"\xa1\xb2\xc3\xd4", b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\x3c\x4d", b"\x4d\x3c\xb2\xa1"}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
SECRETS_TYPE_TLS = 0x544C534B
RULE_PCAP = "libpcap file format (draft-ietf-opsawg-pcap)"
RULE_PCAPNG = "pcapng block structure (draft-ietf-opsawg-pcapng §3)"
RULE_TCP = "TCP (RFC 9293)"
RULE_KEYLOG = "NSS key log format"
_KEYLOG_LINE = re.compile(r"^[A-Z0-9_]+ [0-9a-fA-F]+ [0-9a-fA-F]+$")

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


class CaptureImportError(ValueError):
    """A capture or key log file that cannot be read: names the rule and byte offset."""

    layer = "capture"

    def __init__(self, rule: str, offset: int, detail: str = "cannot read capture") -> None:
        self.rule = rule
        self.offset = offset
        self.detail = detail
        super().__init__(f"capture import: {detail} ({rule}, at byte offset {offset})")


@dataclass
class ImportedConnection:
    client: tuple[str, int]
    server: tuple[str, int]
    packets: int
    capture: Capture
    notes: list[str] = field(default_factory=list)


# --- 1. container -------------------------------------------------------------


_PCAPNG_SHB = RULE_PCAPNG + ", §4.1 Section Header Block"
_PCAPNG_DSB = RULE_PCAPNG + ", §4.7 Decryption Secrets Block"
_PCAPNG_EPB = RULE_PCAPNG + ", §4.3 Enhanced Packet Block"


def _records(data: bytes, secrets: list[str]) -> Iterator[tuple[int, int, int, bytes]]:
    """Yield (offset, linktype, timestamp in integer nanoseconds, frame) for every packet
    of a pcap or pcapng file held in ``data``; DSB secrets go to ``secrets``."""
    if data[:4] == PCAPNG_MAGIC:
        yield from _pcapng(data, secrets)
    else:
        yield from _pcap(data)


def _pcapng(data: bytes, secrets: list[str]) -> Iterator[tuple[int, int, int, bytes]]:
    """pcapng (draft-ietf-opsawg-pcapng): sections, their interfaces (link type, time
    resolution), and the packets of Enhanced, Simple and (obsolete) Packet Blocks."""
    size = len(data)
    unpack = struct.unpack_from
    pos = 0
    end = "<"
    links: list[tuple[int, int, int]] = []  # per interface: link type, units a second, snap length
    last = 0  # a Simple Packet Block has no time: it keeps the last one
    while pos < size:
        if size - pos < 12:
            raise CaptureImportError(RULE_PCAPNG, pos, "truncated or malformed pcapng block")
        kind = unpack(end + "I", data, pos)[0]
        if kind == 0x0A0D0D0A:  # a Section Header Block: its byte order is its own
            order = data[pos + 8:pos + 12]
            if order == b"\x4d\x3c\x2b\x1a":
                end = "<"
            elif order == b"\x1a\x2b\x3c\x4d":
                end = ">"
            else:
                raise CaptureImportError(_PCAPNG_SHB, pos, "malformed pcapng Section Header Block")
            length = unpack(end + "I", data, pos + 4)[0]
            if length < 28 or length % 4 or pos + length > size:
                raise CaptureImportError(_PCAPNG_SHB, pos, "malformed pcapng Section Header Block")
            links = []
        else:
            length = unpack(end + "I", data, pos + 4)[0]
            if pos == 0:
                raise CaptureImportError(_PCAPNG_SHB, 0, "malformed pcapng Section Header Block")
            if length < 12 or length % 4 or pos + length > size:
                raise CaptureImportError(RULE_PCAPNG, pos, "truncated or malformed pcapng block")
        if unpack(end + "I", data, pos + length - 4)[0] != length:
            raise CaptureImportError(RULE_PCAPNG, pos, "truncated or malformed pcapng block "
                                     "(its two lengths differ)")
        body = pos + 8
        body_end = pos + length - 4
        if kind == 1:  # Interface Description Block
            if body_end - body < 8:
                raise CaptureImportError(RULE_PCAPNG + ", §4.2 Interface Description Block", pos,
                                         "Interface Description Block too short")
            linktype, _, snap = unpack(end + "HHI", data, body)
            links.append((linktype, _tsresol(data, body + 8, body_end, end), snap))
        elif kind in (6, 2):  # Enhanced Packet Block (and the obsolete Packet Block)
            if body_end - body < 20:
                raise CaptureImportError(_PCAPNG_EPB, pos, "packet block too short")
            if kind == 6:
                iface, high, low, caplen = unpack(end + "IIII", data, body)
            else:
                iface, _, high, low, caplen = unpack(end + "HHIII", data, body)
            if iface >= len(links):
                raise CaptureImportError(_PCAPNG_EPB, pos, f"a packet of interface {iface}, "
                                         f"which no Interface Description Block describes")
            if caplen > body_end - body - 20:
                raise CaptureImportError(_PCAPNG_EPB, pos, "captured length beyond the block")
            linktype, units, _ = links[iface]
            ts = last = ((high << 32) | low) * 1_000_000_000 // units
            if ts > LAST_MOMENT * 1e9:
                raise CaptureImportError(_PCAPNG_EPB, pos, "a timestamp after the year 9999")
            yield pos, linktype, ts, data[body + 20:body + 20 + caplen]
        elif kind == 3:  # Simple Packet Block: interface 0, no time
            if not links:
                raise CaptureImportError(RULE_PCAPNG + ", §4.4 Simple Packet Block", pos,
                                         "a packet before any Interface Description Block")
            if body_end - body < 4:
                raise CaptureImportError(RULE_PCAPNG + ", §4.4 Simple Packet Block", pos,
                                         "Simple Packet Block too short")
            linktype, _, snap = links[0]
            caplen = min(unpack(end + "I", data, body)[0], body_end - body - 4, snap or 1 << 32)
            yield pos, linktype, last, data[body + 4:body + 4 + caplen]
        elif kind == 10:  # Decryption Secrets Block
            if body_end - body < 8:
                raise CaptureImportError(_PCAPNG_DSB, pos, "Decryption Secrets Block too short")
            stype, slen = unpack(end + "II", data, body)
            if slen > body_end - body - 8:
                raise CaptureImportError(_PCAPNG_DSB, pos, "secrets length beyond the block")
            if stype == SECRETS_TYPE_TLS:
                secrets.append(data[body + 8:body + 8 + slen].decode("utf-8", "replace"))
        pos += length


def _tsresol(data: bytes, pos: int, end: int, order: str) -> int:
    """Time units a second from an Interface Description Block's options (if_tsresol,
    code 9: 10^-n, or 2^-n when the top bit is set; 10^-6 when absent)."""
    while pos + 4 <= end:
        code, length = struct.unpack_from(order + "HH", data, pos)
        if code == 0:
            break
        if code == 9 and length >= 1 and pos + 5 <= end:
            v = data[pos + 4]
            units = 2 ** (v & 0x7F) if v & 0x80 else 10 ** min(v, 19)
            return units or 1
        pos += 4 + (length + 3) // 4 * 4
    return 1_000_000


def _pcap(data: bytes) -> Iterator[tuple[int, int, int, bytes]]:
    """libpcap (draft-ietf-opsawg-pcap): a file header, then a header and bytes a packet."""
    size = len(data)
    if size < 24:
        raise CaptureImportError(RULE_PCAP + ", file header", 0, "pcap file header shorter than 24 bytes")
    magic = data[:4]
    end = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nano = magic in (b"\xa1\xb2\x3c\x4d", b"\x4d\x3c\xb2\xa1")
    linktype = struct.unpack_from(end + "I", data, 20)[0] & 0x0FFFFFFF  # (the top bits: FCS)
    record = struct.Struct(end + "IIII")
    pos = 24
    while pos < size:
        if size - pos < 16:
            raise CaptureImportError(RULE_PCAP + ", packet record header", pos,
                                     "truncated pcap packet record header")
        sec, frac, caplen, _ = record.unpack_from(data, pos)
        if pos + 16 + caplen > size:
            raise CaptureImportError(RULE_PCAP + ", packet record", pos,
                                     f"truncated packet: {size - pos - 16} of {caplen} bytes")
        yield pos, linktype, sec * 1_000_000_000 + frac * (1 if nano else 1000), data[pos + 16:pos + 16 + caplen]
        pos += 16 + caplen


# --- 2. packets -------------------------------------------------------------


@dataclass
class _Segment:
    src: tuple[str, int]
    dst: tuple[str, int]
    seq: int
    ack: int
    flags: int
    payload: bytes


def _network(linktype: int, frame: bytes) -> tuple[int, bytes] | None:
    """(ethertype, network-layer bytes) for the link types captures commonly use."""
    if linktype == 1:  # Ethernet, with 802.1Q / 802.1ad tags
        if len(frame) < 14:
            return None
        etype, off = struct.unpack_from("!H", frame, 12)[0], 14
        while etype in (0x8100, 0x88A8) and len(frame) >= off + 4:
            etype, off = struct.unpack_from("!H", frame, off + 2)[0], off + 4
        return etype, frame[off:]
    if linktype in (0, 108):  # BSD loopback: 4-byte address family, either byte order
        if len(frame) < 4:
            return None
        fam = frame[0] if frame[0] else frame[3]
        return (0x0800 if fam == 2 else 0x86DD), frame[4:]
    if linktype in (12, 101, 14):  # raw IP
        return (0x0800 if frame[:1] and frame[0] >> 4 == 4 else 0x86DD), frame
    if linktype == 228:
        return 0x0800, frame
    if linktype == 229:
        return 0x86DD, frame
    if linktype == 113 and len(frame) >= 16:  # Linux cooked v1
        return struct.unpack_from("!H", frame, 14)[0], frame[16:]
    if linktype == 276 and len(frame) >= 20:  # Linux cooked v2
        return struct.unpack_from("!H", frame, 0)[0], frame[20:]
    return None


_ADDRESSES: dict[bytes, str] = {}  # a capture has few addresses and many packets


def _address(packed: bytes) -> str:
    """An IPv4 or IPv6 address as text (each one worked out once)."""
    text = _ADDRESSES.get(packed)
    if text is None:
        if len(_ADDRESSES) > 4096:
            _ADDRESSES.clear()
        text = _ADDRESSES[packed] = str(ipaddress.ip_address(packed))
    return text


def _segment(linktype: int, frame: bytes) -> _Segment | None:
    """The TCP segment in a frame, or None (not TCP, or headers cut short)."""
    net = _network(linktype, frame)
    if net is None:
        return None
    etype, ip = net
    if etype == 0x0800 and len(ip) >= 20 and ip[0] >> 4 == 4:
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack_from("!H", ip, 2)[0]
        frag = struct.unpack_from("!H", ip, 6)[0]
        if ip[9] != 6 or ihl < 20 or frag & 0x1FFF:
            return None
        src, dst = _address(ip[12:16]), _address(ip[16:20])
        tcp = ip[ihl:total] if total >= ihl else ip[ihl:]  # total 0: TSO on capture host
    elif etype == 0x86DD and len(ip) >= 40 and ip[0] >> 4 == 6:
        if ip[6] != 6:  # extension headers before TCP: not handled
            return None
        plen = struct.unpack_from("!H", ip, 4)[0]
        src, dst = _address(ip[8:24]), _address(ip[24:40])
        tcp = ip[40:40 + plen] if plen else ip[40:]
    else:
        return None
    if len(tcp) < 20:
        return None
    sport, dport, seq, ack, off_flags = struct.unpack_from("!HHIIH", tcp, 0)
    hlen = (off_flags >> 12) * 4
    if hlen < 20 or hlen > len(tcp):
        return None
    return _Segment((src, sport), (dst, dport), seq, ack, off_flags & 0x3F, tcp[hlen:])


# --- 3-5. connections and reassembly ---------------------------------------------


class _Half:
    """One direction of a connection: reassembles bytes in sequence space."""

    def __init__(self) -> None:
        self.base: int | None = None  # sequence number of stream byte 0
        self.next = 0  # next stream offset expected
        self.pending: dict[int, tuple[bytes, int]] = {}  # offset -> (bytes, flags)
        self.delivered = bytearray()
        self.retransmitted = 0
        self.conflicts = 0
        self.before_start = 0

    def offset(self, seq: int) -> int:
        rel = (seq - (self.base or 0)) & 0xFFFFFFFF
        return rel - (1 << 32) if rel >= 1 << 31 else rel

    def add(self, seq: int, data: bytes, flags: int) -> list[tuple[bytes, int]]:
        """Take a segment; return the (bytes, flags) now deliverable, in order."""
        if self.base is None:
            self.base = seq
        o = self.offset(seq)
        if o < 0:
            if o + len(data) <= 0:
                self.before_start += 1
                return []
            data, o = data[-o:], 0
        if o + len(data) <= self.next:
            self._check(o, data)
            self.retransmitted += 1
            return []
        if o > self.next:
            old = self.pending.get(o)
            if old is None or len(old[0]) < len(data):
                self.pending[o] = (data, flags)
            return []
        out = []
        self._take(o, data, flags, out)
        while self.pending:
            o = min(self.pending)
            if o > self.next:
                break
            data, flags = self.pending.pop(o)
            self._take(o, data, flags, out)
        return out

    def _check(self, o: int, data: bytes) -> None:
        if bytes(self.delivered[o:o + len(data)]) != data[: len(self.delivered) - o]:
            self.conflicts += 1

    def _take(self, o: int, data: bytes, flags: int, out: list[tuple[bytes, int]]) -> None:
        if o + len(data) <= self.next:
            self._check(o, data)
            return
        if o < self.next:
            self._check(o, data[: self.next - o])
            data = data[self.next - o:]
        self.delivered += data
        self.next += len(data)
        out.append((data, flags))


class _Conn:
    def __init__(self, a: tuple[str, int], b: tuple[str, int], t0: int) -> None:
        self.a, self.b = a, b
        self.t0 = t0
        self.client: tuple[str, int] | None = None
        self.halves = {a: _Half(), b: _Half()}
        self.packets = 0
        self.events: list[tuple[tuple[str, int], float, bytes, bool]] = []  # src, t, data, push
        self.first_sender: tuple[str, int] | None = None
        self.close: tuple[tuple[str, int], str, float] | None = None
        self.data_seen = False

    def other(self, ep: tuple[str, int]) -> tuple[str, int]:
        return self.b if ep == self.a else self.a

    def add(self, seg: _Segment, ns: int) -> None:
        ts = (ns - self.t0) / 1e9  # seconds since the connection's first packet
        self.packets += 1
        half = self.halves[seg.src]
        if seg.flags & SYN:
            if seg.flags & ACK:
                self.client = self.client or seg.dst
            else:
                self.client = self.client or seg.src
            if half.base is None:
                half.base = (seg.seq + 1) & 0xFFFFFFFF
            seq = (seg.seq + 1) & 0xFFFFFFFF
        else:
            seq = seg.seq
        if seg.payload:
            self.data_seen = True
            if self.first_sender is None:
                self.first_sender = seg.src
            for data, flags in half.add(seq, seg.payload, seg.flags):
                self.events.append((seg.src, ts, data, bool(flags & PSH)))
        if seg.flags & (FIN | RST) and self.close is None:
            self.close = (seg.src, "reset" if seg.flags & RST else "fin", ts)

    def decide_client(self) -> tuple[tuple[str, int], tuple[str, int]]:
        if self.client is None:
            a_web, b_web = self.a[1] in WEB_PORTS, self.b[1] in WEB_PORTS
            if a_web != b_web:
                self.client = self.b if a_web else self.a
            elif self.a[1] != self.b[1]:
                self.client = self.b if self.a[1] < self.b[1] else self.a
            else:
                self.client = self.first_sender or self.a
        return self.client, self.other(self.client)


def _server_name(c2s: bytes) -> str | None:
    """The SNI host name from a ClientHello at the start of the stream, if cheap to find."""
    try:
        if c2s[:1] != b"\x16" or c2s[5] != 1:
            return None
        p = 5 + 4 + 2 + 32  # record header, handshake header, version, random
        p += 1 + c2s[p]  # session id
        p += 2 + int.from_bytes(c2s[p:p + 2], "big")  # cipher suites
        p += 1 + c2s[p]  # compression methods
        end = p + 2 + int.from_bytes(c2s[p:p + 2], "big")
        p += 2
        while p + 4 <= end:
            etype, elen = struct.unpack_from("!HH", c2s, p)
            if etype == 0:  # server_name (RFC 6066 §3): list len, type 0, name len, name
                n = int.from_bytes(c2s[p + 7:p + 9], "big")
                return c2s[p + 9:p + 9 + n].decode("ascii") or None
            p += 4 + elen
    except (IndexError, struct.error, UnicodeDecodeError):
        return None
    return None


def _host_header(c2s: bytes) -> str | None:
    head = c2s[: c2s.find(b"\r\n\r\n")] if b"\r\n\r\n" in c2s[:8192] else b""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"host":
            host = value.strip().decode("ascii", "replace")
            return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return None


def _read_keylog(path: str) -> list[str]:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise CaptureImportError(RULE_KEYLOG, 0, f"cannot read key log file: {e.strerror}") from None
    lines, offset = [], 0
    for line in raw.splitlines(keepends=True):
        text = line.decode("ascii", "replace").strip()
        if text and not text.startswith("#"):
            if not _KEYLOG_LINE.match(text):
                raise CaptureImportError(RULE_KEYLOG, offset,
                                         "not a key log line (LABEL <client_random hex> <secret hex>)")
            lines.append(text)
        offset += len(line)
    return lines


def _keylog_for(lines: list[str], c2s: bytes) -> list[str]:
    """The key log lines for this connection's ClientHello random (all if unknown)."""
    if c2s[:1] != b"\x16" or len(c2s) < 43 or c2s[5] != 1:
        return list(lines)
    random = c2s[11:43].hex()
    return [ln for ln in lines if ln.split(" ")[1:2] == [random]]


def _build(conn: _Conn, keylog: list[str]) -> ImportedConnection:
    client, server = conn.decide_client()
    cap = Capture()
    cap.started = conn.t0 / 1e9
    cap.add_fact(0.0, "tcp.connect", client=list(client), server=list(server))
    last_push: dict[str, bool] = {"c2s": True, "s2c": True}
    for src, t, data, push in conn.events:
        d = "c2s" if src == client else "s2c"
        prev = cap.events[-1] if cap.events else None
        if (not last_push[d] and prev is not None and getattr(prev, "direction", None) == d):
            prev.data += data  # type: ignore[union-attr]
        else:
            cap.add_chunk(d, t, data)
        last_push[d] = push
    c2s = cap.stream("c2s")
    cap.scheme = "wss" if c2s[:2] == b"\x16\x03" else "ws"
    name = _server_name(c2s) if cap.scheme == "wss" else _host_header(c2s)
    cap.server_name = name or server[0]
    cap.add_keylog(_keylog_for(keylog, c2s))
    if conn.close is not None:
        by, how, t = conn.close
        cap.add_fact(t, "tcp.close", by="client" if by == client else "server", how=how)
    notes = []
    for ep, d in ((client, "c2s"), (server, "s2c")):
        h = conn.halves[ep]
        if h.retransmitted:
            notes.append(f"{d}: {h.retransmitted} retransmitted segment(s) ignored")
        if h.conflicts:
            notes.append(f"{d}: {h.conflicts} overlapping segment(s) disagreed with bytes "
                         "already received; the first copy was kept")
        if h.before_start:
            notes.append(f"{d}: {h.before_start} segment(s) from before the capture began dropped")
        if h.pending:
            first = min(h.pending)
            lost = sum(len(b) for b, _ in h.pending.values())
            notes.append(f"{d}: {first - h.next} byte(s) missing at stream offset {h.next} "
                         f"(segment not captured); {lost} byte(s) after the gap left out")
    if not conn.data_seen:
        notes.append("no data was exchanged on this connection")
    if cap.scheme == "wss" and not keylog:
        notes.append("no TLS key log (no Decryption Secrets Block, no key log file): "
                     "only the clear-text part of the handshake can be shown")
    elif cap.scheme == "wss" and not cap.keylog:
        notes.append("the key log has no secrets for this connection's ClientHello random")
    return ImportedConnection(client, server, conn.packets, cap, notes)


def read_capture_file(path: str, *, keylog_path: str | None = None) -> list[ImportedConnection]:
    """Read a pcap or pcapng file; one ImportedConnection per TCP connection, in order.

    TLS secrets come from the file's Decryption Secrets Blocks and from
    ``keylog_path`` (an NSS key log file).  Raises CaptureImportError for a file
    that is not a capture, is truncated, or holds no TCP connection.
    """
    from wssviz.core.limits import LIMITS

    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > LIMITS.max_capture:
                raise CaptureImportError(RULE_PCAP + " / " + RULE_PCAPNG, 0,
                                         f"the file is {size:,} bytes, over the max_capture limit of "
                                         f"{LIMITS.max_capture:,} (raise it with --limit max_capture=...)")
            return _read(f.read(), keylog_path)
    except OSError as e:
        raise CaptureImportError(RULE_PCAP, 0, f"cannot read capture file: {e.strerror}") from None


def _read(data: bytes, keylog_path: str | None) -> list[ImportedConnection]:
    """Read a capture file's bytes (see read_capture_file)."""
    size = len(data)
    magic = data[:4]
    if magic not in PCAP_MAGICS and magic != PCAPNG_MAGIC:
        raise CaptureImportError(RULE_PCAP + " / " + RULE_PCAPNG, 0,
                                 f"not a pcap or pcapng file (starts with {magic.hex() or 'nothing'})")
    secrets: list[str] = []
    conns: list[_Conn] = []
    live: dict[frozenset, _Conn] = {}
    for _offset, linktype, ts, frame in _records(data, secrets):
        seg = _segment(linktype, frame)
        if seg is None:
            continue
        key = frozenset((seg.src, seg.dst))
        conn = live.get(key)
        if conn is not None and seg.flags & SYN and not seg.flags & ACK and (
                conn.data_seen or conn.close is not None):
            conn = None  # the ports were reused for a new connection
        if conn is None:
            conn = live[key] = _Conn(seg.src, seg.dst, ts)
            conns.append(conn)
        conn.add(seg, ts)
    if not conns:
        raise CaptureImportError(RULE_TCP, 0, f"no TCP segment in the {size}-byte capture")
    keylog: list[str] = []
    for text in secrets:
        keylog += [ln.strip() for ln in text.splitlines() if _KEYLOG_LINE.match(ln.strip())]
    if keylog_path is not None:
        keylog += _read_keylog(keylog_path)
    return [_build(c, keylog) for c in conns]
