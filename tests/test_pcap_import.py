"""Capture import: round trips of our own exports, messy TCP built with scapy, bad files,
and a real tcpdump capture of a websockets client and server over TLS."""

from __future__ import annotations

import asyncio
import random
import shutil
import ssl
import struct
from pathlib import Path

import pytest
from helpers_capture import (
    MASKED_HELLO,
    SERVER_NAME,
    UPGRADE_REQUEST,
    UPGRADE_RESPONSE,
    make_certs,
    make_tls_capture,
    pcapng_blocks,
)

from wssviz.capture import Capture
from wssviz.export.pcapng import keylog_text, write_pcapng
from wssviz.pcap_import import CaptureImportError, ImportedConnection, read_capture_file

CLIENT = ("10.0.0.1", 51000)
SERVER = ("10.0.0.2", 443)
ISN_C, ISN_S = 0xFFFFFF00, 0x7FFFFFF0  # the client's sequence numbers wrap around 2**32


@pytest.fixture(scope="module", params=[True, False], ids=["tls13", "tls12"])
def session(request) -> Capture:
    return make_tls_capture(request.param)


def export(cap: Capture, path) -> str:
    write_pcapng(cap, str(path))
    return str(path)


def only(conns: list[ImportedConnection]) -> ImportedConnection:
    assert len(conns) == 1
    return conns[0]


# --- round trips of our own export --------------------------------------------------


def test_round_trip_of_our_export(session, tmp_path):
    imp = only(read_capture_file(export(session, tmp_path / "s.pcapng")))
    cap = imp.capture
    assert (imp.client, imp.server) == (("127.0.0.1", 50123), ("127.0.0.1", 8443))
    assert [(c.direction, c.time, c.data) for c in cap.chunks] == [
        (c.direction, c.time, c.data) for c in session.chunks]
    assert cap.keylog == session.keylog
    assert cap.scheme == "wss" and cap.server_name == SERVER_NAME
    assert cap.started == pytest.approx(session.started, abs=1e-6)
    assert cap.fact("tcp.connect").value == session.fact("tcp.connect").value
    close = cap.fact("tcp.close")
    assert close.value == {"by": "client", "how": "fin"}
    assert close.time == session.fact("tcp.close").time
    assert imp.notes == []
    assert imp.packets == 18


def test_key_log_from_a_file(session, tmp_path):
    bare = Capture(scheme=session.scheme, started=session.started, events=list(session.events))
    path = export(bare, tmp_path / "bare.pcapng")
    imp = only(read_capture_file(path))
    assert imp.capture.keylog == []
    assert any("no TLS key log" in n for n in imp.notes)
    keylog = tmp_path / "keys.log"
    keylog.write_text("# SSL/TLS secrets log file\n" + keylog_text(session))
    imp = only(read_capture_file(path, keylog_path=str(keylog)))
    assert imp.capture.keylog == session.keylog
    assert imp.notes == []


def test_keys_for_another_session_are_not_kept(session, tmp_path):
    other = make_tls_capture(True)
    keylog = tmp_path / "keys.log"
    keylog.write_text(keylog_text(other))
    bare = Capture(started=session.started, events=list(session.events))
    imp = only(read_capture_file(export(bare, tmp_path / "b.pcapng"), keylog_path=str(keylog)))
    assert imp.capture.keylog == []
    assert any("no secrets for this connection" in n for n in imp.notes)


def test_plain_ws_gets_scheme_and_host(tmp_path):
    cap = Capture(scheme="ws", server_name="?")
    cap.add_fact(0.0, "tcp.connect", client=["127.0.0.1", 50500], server=["127.0.0.1", 8080])
    cap.add_chunk("c2s", 0.001, UPGRADE_REQUEST)
    cap.add_chunk("s2c", 0.002, UPGRADE_RESPONSE)
    cap.add_chunk("c2s", 0.003, MASKED_HELLO)
    imp = only(read_capture_file(export(cap, tmp_path / "ws.pcapng")))
    assert imp.capture.scheme == "ws"
    assert imp.capture.server_name == "server.example.com"  # from the Host header
    assert imp.capture.stream("c2s") == UPGRADE_REQUEST + MASKED_HELLO


# --- messy TCP built with scapy -----------------------------------------------------


def frame(src, dst, seq, ack, flags, payload=b"", t=0.0):
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether

    p = (Ether(src="02:00:00:00:00:0a", dst="02:00:00:00:00:0b") / IP(src=src[0], dst=dst[0])
         / TCP(sport=src[1], dport=dst[1], seq=seq & 0xFFFFFFFF, ack=ack & 0xFFFFFFFF,
               flags=flags))
    if payload:
        p = p / payload
    p.time = t
    return p


def cut(data: bytes, rng: random.Random) -> list[tuple[int, bytes]]:
    """Random segments; the first ends inside the first TLS record header."""
    out, o = [(0, data[:3])], 3
    while o < len(data):
        n = rng.randint(1, 300)
        out.append((o, data[o:o + n]))
        o += n
    return out


def messy_packets(c2s: bytes, s2c: bytes, seed: int, *, handshake=True):
    """Both streams as segments, reordered, retransmitted and overlapping."""
    rng = random.Random(seed)
    segs = []
    for d, data, src, dst, isn, peer_isn, peer_len in (
            ("c2s", c2s, CLIENT, SERVER, ISN_C, ISN_S, len(s2c)),
            ("s2c", s2c, SERVER, CLIENT, ISN_S, ISN_C, len(c2s))):
        pieces = cut(data, rng)
        extra = []
        for _ in range(len(pieces) // 4):  # overlaps spanning several segments
            a = rng.randrange(len(data))
            extra.append((a, data[a:a + rng.randint(1, 600)]))
        extra += rng.sample(pieces, len(pieces) // 5)  # retransmissions
        pieces += extra
        # local disorder: each segment moves at most a few places
        keyed = sorted(enumerate(pieces), key=lambda kv: kv[0] + rng.uniform(0, 6))
        segs += [(d, src, dst, isn + 1 + o, peer_isn + 1 + peer_len, p) for _, (o, p) in keyed]
    rng.shuffle(segs)
    segs.sort(key=lambda s: s[0] == "s2c")  # client's bytes first, then the server's
    pkts = []
    if handshake:
        pkts += [frame(CLIENT, SERVER, ISN_C, 0, "S"), frame(SERVER, CLIENT, ISN_S, ISN_C + 1, "SA"),
                 frame(CLIENT, SERVER, ISN_C + 1, ISN_S + 1, "A")]
    pkts += [frame(src, dst, seq, ack, "PA", p) for _, src, dst, seq, ack, p in segs]
    pkts.append(frame(SERVER, CLIENT, ISN_S + 1 + len(s2c), ISN_C + 1 + len(c2s), "FA"))
    pkts.append(frame(CLIENT, SERVER, ISN_C + 1 + len(c2s), ISN_S + 2 + len(s2c), "FA"))
    for i, p in enumerate(pkts):
        p.time = 1_700_000_000 + i / 1000
    return pkts


def write_pcap(path, pkts) -> str:
    from scapy.utils import wrpcap

    wrpcap(str(path), pkts)
    return str(path)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_reassembly_of_reordered_retransmitted_overlapping_segments(session, tmp_path, seed):
    c2s, s2c = session.stream("c2s"), session.stream("s2c")
    path = write_pcap(tmp_path / "messy.pcap", messy_packets(c2s, s2c, seed))
    imp = only(read_capture_file(path))
    assert (imp.client, imp.server) == (CLIENT, SERVER)
    assert imp.capture.stream("c2s") == c2s
    assert imp.capture.stream("s2c") == s2c
    assert imp.capture.server_name == SERVER_NAME  # SNI from the reassembled ClientHello
    assert any("retransmitted" in n for n in imp.notes)
    assert not any("missing" in n or "disagreed" in n for n in imp.notes)
    assert imp.capture.fact("tcp.close").value == {"by": "server", "how": "fin"}
    times = [c.time for c in imp.capture.chunks]
    assert times == sorted(times) and times[0] > 0


def test_conflicting_overlap_keeps_the_first_copy(tmp_path):
    data = bytes(range(200))
    pkts = [frame(CLIENT, SERVER, 1000, 0, "S"),
            frame(CLIENT, SERVER, 1001, 0, "PA", data[:100]),
            frame(CLIENT, SERVER, 1001 + 50, 0, "PA", b"\xff" * 50 + data[100:])]
    imp = only(read_capture_file(write_pcap(tmp_path / "c.pcap", pkts)))
    assert imp.capture.stream("c2s") == data
    assert any("disagreed" in n for n in imp.notes)


def test_gap_stops_the_stream_and_says_where(session, tmp_path):
    s2c = session.stream("s2c")
    pkts = [frame(SERVER, CLIENT, 5000, 0, "SA"),
            frame(SERVER, CLIENT, 5001, 0, "PA", s2c[:100]),
            # s2c[100:150] was never captured
            frame(SERVER, CLIENT, 5151, 0, "PA", s2c[150:])]
    imp = only(read_capture_file(write_pcap(tmp_path / "g.pcap", pkts)))
    assert imp.client == CLIENT  # it received the SYN-ACK
    assert imp.capture.stream("s2c") == s2c[:100]
    assert any("50 byte(s) missing at stream offset 100" in n for n in imp.notes)


def test_mid_stream_capture_guesses_the_server_by_port(tmp_path):
    pkts = [frame(SERVER, CLIENT, 9000, 7000, "PA", b"\x17\x03\x03\x00\x01x"),
            frame(CLIENT, SERVER, 7000, 9006, "PA", b"\x17\x03\x03\x00\x01y")]
    imp = only(read_capture_file(write_pcap(tmp_path / "m.pcap", pkts)))
    assert (imp.client, imp.server) == (CLIENT, SERVER)
    assert imp.capture.chunks[0].direction == "s2c"
    assert imp.capture.scheme == "ws"  # the stream does not start with a handshake record
    assert imp.capture.fact("tcp.close") is None


def test_several_connections_and_port_reuse(tmp_path):
    from scapy.utils import rdpcap

    caps = [make_tls_capture(True), make_tls_capture(False), make_tls_capture(True)]
    ports = [50001, 50002, 50001]  # the third reuses the first one's ports
    pkts = []
    for i, (cap, port) in enumerate(zip(caps, ports)):
        cap.events[0].value["client"] = ["127.0.0.1", port]
        cap.started = 1_700_000_000 + (0 if i < 2 else 10)
        for p in rdpcap(export(cap, tmp_path / f"{i}.pcapng")):
            p.time = p.time + i * 1e-7  # the first two interleave
            pkts.append(p)
    pkts.sort(key=lambda p: p.time)
    keylog = tmp_path / "keys.log"
    keylog.write_text("".join(keylog_text(c) for c in caps))
    conns = read_capture_file(write_pcap(tmp_path / "many.pcap", pkts), keylog_path=str(keylog))
    assert [c.client[1] for c in conns] == ports
    for cap, imp in zip(caps, conns):
        assert imp.capture.stream("c2s") == cap.stream("c2s")
        assert imp.capture.stream("s2c") == cap.stream("s2c")
        assert imp.capture.keylog == cap.keylog  # only this connection's secrets
        assert imp.notes == []


# --- bad input -------------------------------------------------------------------------


def test_truncated_pcapng_names_the_block(session, tmp_path):
    data = Path(export(session, tmp_path / "s.pcapng")).read_bytes()
    epbs = [off for off, t, _ in pcapng_blocks(data) if t == 6]
    for off in (epbs[4], epbs[-1]):
        for cut_at in (off + 6, off + 40):  # inside the block header, inside the packet
            bad = tmp_path / "t.pcapng"
            bad.write_bytes(data[:cut_at])
            with pytest.raises(CaptureImportError) as err:
                read_capture_file(str(bad))
            assert err.value.offset == off
            assert "truncated" in str(err.value) and "pcapng" in err.value.rule


def test_truncated_pcap_names_the_record(session, tmp_path):
    c2s, s2c = session.stream("c2s"), session.stream("s2c")
    write_pcap(tmp_path / "p.pcap", messy_packets(c2s, s2c, 1))
    data = (tmp_path / "p.pcap").read_bytes()
    offsets, off = [], 24
    while off < len(data):
        offsets.append(off)
        off += 16 + struct.unpack_from("<I", data, off + 8)[0]
    for rec in offsets[5], offsets[-1]:
        for cut_at in (rec + 10, rec + 30):
            bad = tmp_path / "t.pcap"
            bad.write_bytes(data[:cut_at])
            with pytest.raises(CaptureImportError) as err:
                read_capture_file(str(bad))
            assert err.value.offset == rec and "truncated" in str(err.value)
    (tmp_path / "h.pcap").write_bytes(data[:20])
    with pytest.raises(CaptureImportError, match="header"):
        read_capture_file(str(tmp_path / "h.pcap"))


@pytest.mark.parametrize("content", [b"", b"GET / HTTP/1.1\r\n\r\n", b"\x89PNG\r\n\x1a\n" + bytes(64)])
def test_not_a_capture(tmp_path, content):
    path = tmp_path / "x.pcap"
    path.write_bytes(content)
    with pytest.raises(CaptureImportError) as err:
        read_capture_file(str(path))
    assert err.value.offset == 0 and "not a pcap or pcapng file" in str(err.value)


def test_missing_file_and_no_tcp(tmp_path):
    with pytest.raises(CaptureImportError, match="cannot read capture file"):
        read_capture_file(str(tmp_path / "absent.pcap"))
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether

    udp = Ether(src="02:00:00:00:00:0a", dst="02:00:00:00:00:0b") / IP() / UDP() / b"x"
    with pytest.raises(CaptureImportError) as err:
        read_capture_file(write_pcap(tmp_path / "udp.pcap", [udp]))
    assert "no TCP" in str(err.value) and "RFC 9293" in err.value.rule


def test_bad_key_log_file(session, tmp_path):
    path = export(session, tmp_path / "s.pcapng")
    keylog = tmp_path / "keys.log"
    first = session.keylog[0] + "\n"
    keylog.write_text(first + "this is not a key log\n")
    with pytest.raises(CaptureImportError) as err:
        read_capture_file(path, keylog_path=str(keylog))
    assert err.value.offset == len(first) and err.value.rule == "NSS key log format"
    with pytest.raises(CaptureImportError, match="cannot read key log"):
        read_capture_file(path, keylog_path=str(tmp_path / "absent.log"))


# --- a real capture: tcpdump on loopback, websockets over TLS -----------------------


async def _start_tcpdump(path: str, port: int):
    if shutil.which("tcpdump") is None:
        pytest.skip("tcpdump not installed")
    proc = await asyncio.create_subprocess_exec(
        "tcpdump", "-i", "lo", "-U", "--immediate-mode", "-n", "-w", path, f"tcp port {port}",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        line = await asyncio.wait_for(proc.stderr.readline(), 10)
    except TimeoutError:
        line = b""
    if b"listening on" not in line:
        if proc.returncode is None:
            proc.terminate()
        await proc.wait()
        pytest.skip(f"tcpdump cannot capture on lo: {line.decode(errors='replace').strip()}")
    return proc


async def test_tcpdump_capture_of_websockets_over_tls(tmp_path, monkeypatch):
    from websockets.asyncio.client import connect
    from websockets.asyncio.server import serve

    ca_pem, leaf_pem, key_pem = make_certs()
    chain = tmp_path / "server.pem"
    chain.write_bytes(key_pem + leaf_pem)
    chain.chmod(0o600)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(str(chain))
    chain.unlink()
    keylog = tmp_path / "sslkeys.log"
    monkeypatch.setenv("SSLKEYLOGFILE", str(keylog))
    client_ctx = ssl.create_default_context(cadata=ca_pem.decode())  # honours SSLKEYLOGFILE

    async def echo(ws):
        async for message in ws:
            await ws.send(message)

    pcap = str(tmp_path / "lo.pcap")
    async with serve(echo, "127.0.0.1", 0, ssl=server_ctx) as server:
        port = server.sockets[0].getsockname()[1]
        dump = await _start_tcpdump(pcap, port)
        try:
            async with connect(f"wss://127.0.0.1:{port}/chat", ssl=client_ctx,
                               server_hostname=SERVER_NAME) as ws:
                client_port = ws.local_address[1]
                await ws.send("Hello")
                assert await ws.recv() == "Hello"
            await asyncio.sleep(0.3)  # let the FINs reach the capture
        finally:
            dump.terminate()
            await dump.wait()
    imp = only(read_capture_file(pcap, keylog_path=str(keylog)))
    cap = imp.capture
    assert imp.client == ("127.0.0.1", client_port) and imp.server == ("127.0.0.1", port)
    assert cap.scheme == "wss" and cap.server_name == SERVER_NAME
    assert cap.keylog and all(line.split()[1] == cap.stream("c2s")[11:43].hex()
                              for line in cap.keylog)
    assert not any("missing" in n for n in imp.notes)
    assert cap.fact("tcp.close") is not None
    assert cap.stream("s2c")[:2] == b"\x16\x03"
    if shutil.which("tshark"):
        # back out through our export: tshark decrypts it with the embedded key log
        out = export(cap, tmp_path / "again.pcapng")
        shark = await asyncio.create_subprocess_exec(
            "tshark", "-r", out, "-Y", "websocket.opcode == 1", "-T", "fields",
            "-e", "websocket.mask", "-e", "websocket.payload.text",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        stdout, _ = await asyncio.wait_for(shark.communicate(), 60)
        assert stdout.decode().splitlines()[:2] == ["1\tHello", "0\tHello"]


# --- the container reader, against other writers ------------------------------------


def _pcapng_block(kind: int, body: bytes, order: str = "<") -> bytes:
    body += bytes(-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(order + "II", kind, n) + body + struct.pack(order + "I", n)


def _pcapng_file(frames: list[tuple[int, bytes]], *, order: str = "<", tsresol: int | None = None,
                 simple: bool = False) -> bytes:
    """A pcapng written here by the specification: one section, one Ethernet interface
    (its if_tsresol option when given), an Enhanced (or Simple) Packet Block a frame."""
    shb = _pcapng_block(0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1), order)
    options = b""
    if tsresol is not None:
        options = struct.pack(order + "HH", 9, 1) + bytes([tsresol, 0, 0, 0]) + struct.pack(order + "HH", 0, 0)
    out = shb + _pcapng_block(1, struct.pack(order + "HHI", 1, 0, 0) + options, order)
    for ts, data in frames:
        if simple:
            out += _pcapng_block(3, struct.pack(order + "I", len(data)) + data, order)
        else:
            out += _pcapng_block(6, struct.pack(order + "IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(data),
                                                len(data)) + data, order)
    return out


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("tsresol, units", [(None, 10**6), (9, 10**9), (0x80 | 20, 2**20)])
def test_pcapng_byte_order_and_time_resolution(session, tmp_path, order, tsresol, units):
    """Either byte order, and the interface's time resolution (10^-6 by default, 10^-9,
    2^-20): the same bytes and the same times as scapy's writer gives for the same packets."""
    pkts = messy_packets(session.stream("c2s"), session.stream("s2c"), 3)
    want = only(read_capture_file(write_pcap(tmp_path / "ref.pcap", pkts)))
    frames = [(round(float(p.time) * units), bytes(p)) for p in pkts]
    path = tmp_path / "t.pcapng"
    path.write_bytes(_pcapng_file(frames, order=order, tsresol=tsresol))
    got = only(read_capture_file(str(path)))
    assert [(getattr(e, "direction", None), getattr(e, "data", None)) for e in got.capture.events] == \
        [(getattr(e, "direction", None), getattr(e, "data", None)) for e in want.capture.events]
    assert got.capture.started == pytest.approx(want.capture.started, abs=1e-6)
    assert [e.time for e in got.capture.events] == pytest.approx([e.time for e in want.capture.events], abs=2e-6)  # 2^-20 s ≈ 1 µs


def test_pcapng_simple_packet_blocks_and_faults_at_their_offsets(session, tmp_path):
    pkts = messy_packets(session.stream("c2s"), session.stream("s2c"), 2)
    frames = [(0, bytes(p)) for p in pkts]
    path = tmp_path / "s.pcapng"
    path.write_bytes(_pcapng_file(frames, simple=True))
    got = only(read_capture_file(str(path)))
    assert got.capture.stream("c2s") == session.stream("c2s")
    good = _pcapng_file(frames[:3])
    blocks = pcapng_blocks(good)
    epb = [off for off, t, _ in blocks if t == 6][1]
    cases = {
        "two lengths differ": bytearray(good),
        "no Interface Description Block": bytearray(good),
        "captured length beyond the block": bytearray(good),
    }
    struct.pack_into("<I", cases["two lengths differ"], epb + struct.unpack_from("<I", good, epb + 4)[0] - 4, 8)
    struct.pack_into("<I", cases["no Interface Description Block"], epb + 8, 3)
    struct.pack_into("<I", cases["captured length beyond the block"], epb + 20, 5000)
    for words, data in cases.items():
        path.write_bytes(bytes(data))
        with pytest.raises(CaptureImportError) as err:
            read_capture_file(str(path))
        assert words in str(err.value) and err.value.offset == epb and "pcapng" in err.value.rule


def test_a_capture_over_the_max_capture_limit_is_refused_before_it_is_read(session, tmp_path, monkeypatch):
    import dataclasses

    from wssviz.core import limits

    path = export(session, tmp_path / "s.pcapng")
    monkeypatch.setattr(limits, "LIMITS", dataclasses.replace(limits.LIMITS, max_capture=1000))
    with pytest.raises(CaptureImportError, match="over the max_capture limit of 1,000") as err:
        read_capture_file(path)
    assert err.value.offset == 0
