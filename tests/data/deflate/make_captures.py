"""Make the permessage-deflate captures in this folder: real peers, on loopback, sending
messages that are compressed (RFC 7692) AND fragmented, each way, then more messages.

Rerun (as root, or with the right to capture on ``lo``), from anywhere::

    NODE_PATH=/path/to/node_modules python tests/data/deflate/make_captures.py

It needs:

* ``tcpdump`` (it captures on ``lo``, ``-s 0``, filtered to the pair's server port);
* the Python ``websockets`` package (17.x) and ``cryptography`` (for a throwaway
  self-signed certificate: its key goes to a temporary folder and is never kept);
* for the Node captures, ``node`` and the npm package ``ws`` (8.x) found by ``NODE_PATH``
  (or ``--node-path``); ``nodews_pair.js`` beside this file runs that pair.
  ``--only websockets`` skips them.

For each pair it writes ``NAME.pcap``, ``NAME.keys`` (the TLS key log from
SSLKEYLOGFILE, for wss:// only) and ``NAME.expected.json``, the sidecar: per direction
(``c2s`` client→server, ``s2c`` server→client) the messages in order as the sender
handed them to its library (opcode, how many frames, the whole message as hex), the
close code each side sent, and the ``Sec-WebSocket-Extensions`` the server answered.

The sequence, for every pair: the client sends the text "hello"; a text message in 3
fragments; a binary message of a few hundred bytes; the text "after"; then closes with
1000.  The server echoes each message back as it came, the fragmented one fragmented
the same way (its library is told the fragments; it cannot see how they arrived).
Both sides negotiate permessage-deflate with context takeover (the libraries' defaults;
``ws`` with ``threshold: 0`` so that even "hello" is compressed).

After capturing, the script checks each file with tshark if it is installed (the
fragments carry FIN=0 then continuation, the first carries RSV1) and prints one line
per capture.  Timestamps, ports, masking keys and TLS secrets change at every run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVER_NAME = "localhost"

# --- the plan: what the client sends, in order; the server echoes each ------------

FRAGMENTS = ["first part, " * 6, "second part, " * 6, "third part. " * 6]
BINARY = bytes(range(64)) * 4 + b"wssviz " * 16  # 368 bytes, compressible


def plan() -> list[dict]:
    """Each message: ``opcode`` and its fragments as bytes (one fragment: one frame)."""
    return [
        {"opcode": "text", "fragments": [b"hello"]},
        {"opcode": "text", "fragments": [f.encode() for f in FRAGMENTS]},
        {"opcode": "binary", "fragments": [BINARY]},
        {"opcode": "text", "fragments": [b"after"]},
    ]


def sidecar_messages(items: list[dict], *, empty_last: bool = False) -> list[dict]:
    """The sidecar's messages.  ``frames`` counts the frames on the wire: websockets'
    ``send(iterable)`` sends each fragment with FIN=0, then an empty continuation with
    FIN=1 (``empty_last``), so its 3 fragments make 4 frames; ``ws`` sends 3."""
    return [{"opcode": m["opcode"],
             "frames": len(m["fragments"]) + (1 if empty_last and len(m["fragments"]) > 1 else 0),
             "fragments": len(m["fragments"]),
             "data_hex": b"".join(m["fragments"]).hex()} for m in items]


def as_sent(m: dict):
    """What to hand ``websockets``' send: str or bytes, or a list of them (fragments)."""
    parts = [f.decode() for f in m["fragments"]] if m["opcode"] == "text" else list(m["fragments"])
    return parts[0] if len(parts) == 1 else parts


def joined(m: dict):
    data = b"".join(m["fragments"])
    return data.decode() if m["opcode"] == "text" else data


# --- certificate --------------------------------------------------------------------


def make_cert(folder: Path) -> tuple[Path, Path]:
    """A throwaway self-signed EC certificate for SERVER_NAME (and 127.0.0.1)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(SERVER_NAME), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


# --- tcpdump -----------------------------------------------------------------------


def start_tcpdump(pcap: Path, port: int) -> subprocess.Popen:
    if shutil.which("tcpdump") is None:
        sys.exit("tcpdump is not installed")
    proc = subprocess.Popen(
        ["tcpdump", "-i", "lo", "-s", "0", "-U", "--immediate-mode", "-n", "-w", str(pcap),
         f"host 127.0.0.1 and tcp port {port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    line = proc.stderr.readline()
    if b"listening on" not in line:
        proc.terminate()
        proc.wait()
        sys.exit(f"tcpdump cannot capture on lo: {line.decode(errors='replace').strip()}")
    return proc


def stop_tcpdump(proc: subprocess.Popen) -> None:
    time.sleep(0.5)  # let the last segments (the FINs) reach the capture
    proc.terminate()
    proc.wait(10)
    stats = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    print("  tcpdump: " + " ".join(stats.split()))


def own(path: Path) -> None:
    """tcpdump drops to its own user: give the file to whoever owns this folder."""
    st = HERE.stat()
    try:
        os.chown(path, st.st_uid, st.st_gid)
    except OSError:
        pass


# --- the websockets pair -------------------------------------------------------------


async def websockets_pair(name: str, scheme: str, certs: tuple[Path, Path] | None) -> dict:
    from websockets.asyncio.client import connect
    from websockets.asyncio.server import serve

    pcap, keys = HERE / f"{name}.pcap", HERE / f"{name}.keys"
    items = plan()
    server_ctx = client_ctx = None
    if scheme == "wss":
        assert certs is not None
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        server_ctx.load_cert_chain(str(certs[0]), str(certs[1]))
        client_ctx = ssl.create_default_context(cafile=str(certs[0]))
        client_ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        keys.unlink(missing_ok=True)
        client_ctx.keylog_filename = str(keys)  # the client's only: each secret once
    server_seen: dict = {}

    async def echo(ws):
        for m in items:
            got = await ws.recv()
            assert got == joined(m), (got, m)
            await ws.send(as_sent(m))
        await ws.wait_closed()
        server_seen["close_rcvd"] = ws.protocol.close_rcvd.code if ws.protocol.close_rcvd else None
        server_seen["close_sent"] = ws.protocol.close_sent.code if ws.protocol.close_sent else None

    async with serve(echo, "127.0.0.1", 0, ssl=server_ctx, ping_interval=None) as server:
        port = server.sockets[0].getsockname()[1]
        dump = start_tcpdump(pcap, port)
        try:
            async with connect(f"{scheme}://127.0.0.1:{port}/deflate", ssl=client_ctx,
                               server_hostname=SERVER_NAME if scheme == "wss" else None,
                               ping_interval=None) as ws:
                extensions = ws.response.headers.get("Sec-WebSocket-Extensions")
                for m in items:
                    await ws.send(as_sent(m))
                    got = await ws.recv()
                    assert got == joined(m), (got, m)
                await ws.close(1000)
            client_rcvd = ws.protocol.close_rcvd.code
            client_sent = ws.protocol.close_sent.code
            for _ in range(50):
                if "close_rcvd" in server_seen:
                    break
                await asyncio.sleep(0.05)
        finally:
            await asyncio.to_thread(stop_tcpdump, dump)
            own(pcap)
    assert server_seen.get("close_rcvd") == client_sent == 1000, server_seen
    assert client_rcvd == server_seen.get("close_sent") == 1000, (client_rcvd, server_seen)
    return {
        "capture": pcap.name,
        "keylog": keys.name if scheme == "wss" else None,
        "scheme": scheme,
        "client": f"Python websockets (asyncio API) {_websockets_version()}",
        "server": f"Python websockets (asyncio API) {_websockets_version()}",
        "extensions": extensions,
        "c2s": sidecar_messages(items, empty_last=True),
        "s2c": sidecar_messages(items, empty_last=True),
        "close_code": {"c2s": client_sent, "s2c": server_seen["close_sent"]},
    }


def _websockets_version() -> str:
    import websockets

    return websockets.__version__


# --- the Node ws pair ----------------------------------------------------------------------


def nodews_pair(name: str, scheme: str, certs: tuple[Path, Path] | None, tmp: Path,
                node_path: str | None) -> dict:
    node = shutil.which("node")
    if node is None:
        sys.exit("node is not installed")
    pcap, keys = HERE / f"{name}.pcap", HERE / f"{name}.keys"
    items = plan()
    plan_file = tmp / "plan.json"
    plan_file.write_text(json.dumps([{"opcode": m["opcode"], "fragments_hex": [f.hex() for f in m["fragments"]]}
                                     for m in items]))
    env = dict(os.environ)
    if node_path:
        env["NODE_PATH"] = node_path
    raw_keys = tmp / f"{name}.keys.raw"
    raw_keys.unlink(missing_ok=True)
    cmd = [node]
    if scheme == "wss":
        cmd.append(f"--tls-keylog={raw_keys}")  # both peers write here: kept once each below
    cmd += [str(HERE / "nodews_pair.js"), scheme, str(plan_file)]
    if scheme == "wss":
        assert certs is not None
        cmd += [str(certs[0]), str(certs[1]), SERVER_NAME]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    try:
        line = proc.stdout.readline()
        if not line.startswith("PORT "):
            sys.exit(f"nodews_pair.js did not start: {line!r}")
        port = int(line.split()[1])
        dump = start_tcpdump(pcap, port)
        try:
            proc.stdin.write("go\n")
            proc.stdin.flush()
            result = json.loads(proc.stdout.readline())
            proc.wait(30)
        finally:
            stop_tcpdump(dump)
            own(pcap)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0 or not result.get("ok"):
        sys.exit(f"nodews_pair.js failed: {result}")
    if scheme == "wss":
        seen: list[str] = []
        for k in raw_keys.read_text().splitlines():
            if k.strip() and k not in seen:
                seen.append(k)
        keys.write_text("\n".join(seen) + "\n")
    assert result["server_close_rcvd"] == result["client_close_sent"] == 1000, result
    assert result["client_close_rcvd"] == result["server_close_sent"] == 1000, result
    return {
        "capture": pcap.name,
        "keylog": keys.name if scheme == "wss" else None,
        "scheme": scheme,
        "client": f"Node {result['node']} ws {result['ws']}",
        "server": f"Node {result['node']} ws {result['ws']}",
        "extensions": result["extensions"],
        "c2s": sidecar_messages(items),
        "s2c": sidecar_messages(items),
        "close_code": {"c2s": result["client_close_sent"], "s2c": result["server_close_sent"]},
    }


# --- checks ------------------------------------------------------------------------------


def expected_frames(sidecar: dict) -> dict[str, list[tuple[int, bool, bool]]]:
    """(opcode, FIN, RSV1) of every frame the sidecar implies, per direction."""
    out: dict[str, list[tuple[int, bool, bool]]] = {}
    for d in ("c2s", "s2c"):
        rows = []
        for m in sidecar[d]:
            op = 1 if m["opcode"] == "text" else 2
            for i in range(m["frames"]):
                rows.append((op if i == 0 else 0, i == m["frames"] - 1, i == 0))
        rows.append((8, True, False))
        out[d] = rows
    return out


def tshark_frames(sidecar: dict) -> dict[str, list[tuple[int, bool, bool]]] | None:
    """(opcode, FIN, RSV1) of every WebSocket frame tshark sees, per direction (None
    without tshark)."""
    if shutil.which("tshark") is None:
        return None
    cmd = ["tshark", "-r", str(HERE / sidecar["capture"])]
    if sidecar["keylog"]:
        cmd += ["-o", f"tls.keylog_file:{HERE / sidecar['keylog']}"]
    cmd += ["-Y", "websocket", "-T", "fields", "-E", "separator=/t", "-E", "aggregator=,",
            "-e", "tcp.srcport", "-e", "websocket.opcode", "-e", "websocket.fin", "-e", "websocket.rsv"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    per: dict[str, list[tuple[int, bool, bool]]] = {"c2s": [], "s2c": []}
    client_port = None
    for row in out.splitlines():
        if not row.strip():
            continue
        sport, ops, fins, rsvs = row.split("\t")
        client_port = client_port or sport  # the client speaks first
        d = "c2s" if sport == client_port else "s2c"
        # one segment may carry several frames: each field lists them all, comma-separated
        for op, fin, rsv in zip(ops.split(","), fins.split(","), rsvs.split(","), strict=True):
            per[d].append((int(op, 0), fin in ("1", "True", "true"), bool(int(rsv, 0) & 4)))
    return per


def describe(frames: dict[str, list[tuple[int, bool, bool]]]) -> str:
    return "; ".join(f"{d} " + " ".join(f"op{op}{'' if fin else '/FIN=0'}{'/RSV1' if rsv1 else ''}"
                                         for op, fin, rsv1 in v) for d, v in frames.items())


def checked(make) -> dict:
    """Run one pair; with tshark, check that the capture holds every frame it should
    (compressed and fragmented as planned) and run it again if not (three tries)."""
    for attempt in range(3):
        sidecar = make()
        seen = tshark_frames(sidecar)
        if seen is None:
            sidecar["_tshark"] = "tshark not installed, not checked"
            return sidecar
        if seen == expected_frames(sidecar):
            sidecar["_tshark"] = describe(seen)
            return sidecar
        print(f"  {sidecar['capture']}: tshark sees {describe(seen)}; not what was sent, again",
              file=sys.stderr)
    sys.exit(f"{sidecar['capture']}: three captures, none complete")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=["websockets", "nodews"], help="make only this library's captures")
    ap.add_argument("--node-path", default=os.environ.get("NODE_PATH"),
                    help="the node_modules folder that holds ws (default: $NODE_PATH)")
    ap.add_argument("--no-node-wss", action="store_true", help="skip nodews-wss")
    args = ap.parse_args()
    sidecars = []
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        certs = make_cert(tmp)
        if args.only in (None, "websockets"):
            sidecars.append(checked(lambda: asyncio.run(websockets_pair("websockets-wss", "wss", certs))))
            sidecars.append(checked(lambda: asyncio.run(websockets_pair("websockets-ws", "ws", None))))
        if args.only in (None, "nodews"):
            sidecars.append(checked(lambda: nodews_pair("nodews-ws", "ws", None, tmp, args.node_path)))
            if not args.no_node_wss:
                sidecars.append(checked(lambda: nodews_pair("nodews-wss", "wss", certs, tmp, args.node_path)))
    for s in sidecars:
        shown = s.pop("_tshark")
        name = s["capture"].removesuffix(".pcap")
        (HERE / f"{name}.expected.json").write_text(json.dumps(s, indent=2) + "\n")
        size = (HERE / s["capture"]).stat().st_size
        keys = f" + {s['keylog']} ({(HERE / s['keylog']).stat().st_size} bytes)" if s["keylog"] else ""
        print(f"{s['capture']} ({size} bytes){keys}, extensions: {s['extensions']}")
        print(f"  tshark: {shown}")


if __name__ == "__main__":
    main()
