"""wssviz at scale: every figure of a large session as a ratio against an anchor run beside it.

    python benchmarks/run.py                         # 1,000 / 10,000 / 100,000 frames, 3 repeats
    python benchmarks/run.py --frames 10000 --repeat 5
    python benchmarks/run.py --only first,whole,memory,export,ui,run --json

A report, not a test: nothing here asserts a time.  The sessions are built here: a live
TLS 1.3 session of the default scenario's shape whose client sends N/2 - 1 text messages
and the server echoes each (N frames in all, plus the close), driven in one process
through wssviz's own live pair and saved as a recording (its settings without the
script of every message, as a long ``connect --record`` or ``listen`` session records
them: the recording holds the events and little else); ``wssviz export`` turns it into
a pcapng with its key log in a Decryption Secrets Block.

The figures (each wssviz run interleaved with its anchor, wssviz first in odd repeats and
the anchor first in even ones; median and range over the repeats):

first      ``wssviz replay FILE --json``, time from spawn to its first line (the recording
           and the pcapng), against ``tshark -r PCAP -c 40`` (spawn to exit).
whole      ``wssviz replay PCAP --json > /dev/null`` against ``tshark -r PCAP -Y websocket``
           (the DSB decrypts it), both spawn to exit.
memory     the peak RSS of ``wssviz replay REC --json > /dev/null`` (``wait4``'s
           ru_maxrss) against the recording's size; tshark's peak on the pcapng beside it.
export     ``wssviz export REC --pcapng OUT`` against a plain writer (this file, run as its
           own process: it reads the same recording and writes the same packets, headers
           and checksums with ``struct``, one pass, no per-packet objects).
ui         in a real terminal (tmux, 160x48, the pane polled every 10 ms): spawn to the
           first step on screen for ``wssviz replay REC``, then ``End`` to the last step on
           screen and ``Left`` to the one before it; anchor: spawn to first screen of a
           minimal Textual app (one Static) in the same terminal.
run        ``wssviz run --json > /dev/null`` (the default scenario, live) against the same
           exchange written with the ``websockets`` library over TLS on loopback in one
           process (a server and a client, 3 messages, a ping, a clean close).

The machine (CPU, cores, load, Python, tshark) is printed first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


# --- building the sessions ------------------------------------------------------------------


def build(frames: int, folder: Path) -> tuple[Path, Path]:
    """The recording and the pcapng of an N-frame session (made once, kept in ``folder``)."""
    rec, pcap = folder / f"session-{frames}.json", folder / f"session-{frames}.pcapng"
    if not rec.exists():
        code = (
            "import sys\n"
            "from wssviz.capture import Capture\n"
            "from wssviz.live.pair import _Script\n"
            "from wssviz.live.settings import Settings, Message\n"
            "from wssviz import recording\n"
            "n = int(sys.argv[1])\n"
            "s = Settings(name='bench', title=f'Benchmark: {n:,} frames',"
            " goal=f'A wss:// session whose client sends {n // 2 - 1:,} text messages, each echoed, then a clean close.',"
            " messages=[Message('text', f'message {i}') for i in range(max(n // 2 - 1, 1))]"
            " + [Message('close', 'bye', code=1000)], seed=1)\n"
            # recorded as a long real session is (connect --record, listen): the settings
            # without a script of every message, which would put megabytes before the events
            "cap = Capture(scheme=s.scheme, server_name=s.host,"
            " settings={k: v for k, v in s.to_dict().items() if k != 'messages'})\n"
            "sc = _Script(s, cap)\n"
            "for _ in sc.run(): pass\n"
            "sc.cleanup()\n"
            "recording.save(cap, sys.argv[2])\n")
        subprocess.run([PY, "-c", code, str(frames), str(rec)], check=True, cwd=folder)
    if not pcap.exists():
        subprocess.run([PY, "-m", "wssviz", "export", str(rec), "--pcapng", str(pcap)], check=True,
                       cwd=folder, stderr=subprocess.DEVNULL)
    return rec, pcap


# --- running and timing ----------------------------------------------------------------------


class Failed(Exception):
    pass


def timed(cmd: list[str], *, stdout=subprocess.DEVNULL, cwd: Path | None = None) -> tuple[float, int]:
    """Spawn to exit in seconds, and the peak RSS in bytes (``wait4``).  A command that
    fails is reported, not timed."""
    t = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen(cmd, stdout=stdout, stderr=err, cwd=cwd)
        _, status, usage = os.wait4(p.pid, 0)
        took = time.perf_counter() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            err.seek(0)
            raise Failed(f"{' '.join(cmd[-4:])} exited with {p.returncode}: "
                         f"{err.read().decode(errors='replace').strip()[-300:]}")
    return took, usage.ru_maxrss * 1024


def first_line(cmd: list[str], cwd: Path | None = None) -> float:
    """Spawn to the first line on stdout (then the process is stopped)."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd)
    assert p.stdout is not None
    p.stdout.readline()
    took = time.perf_counter() - t
    p.kill()
    p.wait()
    return took


def interleave(repeat: int, ours, anchor) -> tuple[list, list]:
    a, b = [], []
    for r in range(repeat):
        if r % 2 == 0:
            a.append(ours())
            b.append(anchor())
        else:
            b.append(anchor())
            a.append(ours())
    return a, b


def spread(xs: list[float], unit: str = " s", scale: float = 1.0, digits: int = 3) -> str:
    xs = [x * scale for x in xs]
    return f"{statistics.median(xs):.{digits}f}{unit} ({min(xs):.{digits}f}–{max(xs):.{digits}f})"


def ratio(a: list[float], b: list[float]) -> str:
    rs = [x / y for x, y in zip(a, b) if y]
    return f"{statistics.median(rs):.2f}× ({min(rs):.2f}–{max(rs):.2f})" if rs else "n/a"


# --- the plain writer (export's anchor) ------------------------------------------------------


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = int.from_bytes(data, "big") % 0xFFFF if data else 0
    return (~s) & 0xFFFF if s else 0xFFFF


def plain_writer(rec: str, out: str, mss: int = 1460) -> None:
    """Every chunk of the recording cut into MSS-sized IPv4/TCP segments with good
    checksums, one EPB each, after a DSB: the floor for what ``export`` does."""
    doc = json.loads(Path(rec).read_text())
    keylog = "".join(line + "\n" for line in doc.get("keylog", [])).encode()
    ip = {"c2s": (bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]), 50000, 443),
          "s2c": (bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]), 443, 50000)}
    seq = {"c2s": 1000, "s2c": 5000}
    started = int(doc.get("started", 0) * 1e9)
    with open(out, "wb") as f:
        def block(kind: int, body: bytes) -> None:
            body += b"\0" * (-len(body) % 4)
            f.write(struct.pack("<II", kind, 12 + len(body)) + body + struct.pack("<I", 12 + len(body)))

        block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
        block(1, struct.pack("<HHI", 1, 0, 262144) + struct.pack("<HHB3x", 9, 1, 9) + b"\0" * 4)
        block(10, struct.pack("<II", 0x544C534B, len(keylog)) + keylog)
        for e in doc["events"]:
            if "hex" not in e:
                continue
            d = e["dir"]
            other = "s2c" if d == "c2s" else "c2s"
            src, dst, sport, dport = ip[d]
            data = bytes.fromhex(e["hex"])
            ns = started + int(e["t"] * 1e9)
            for at in range(0, len(data), mss):
                piece = data[at:at + mss]
                tcp = struct.pack("!HHIIBBHHH", sport, dport, seq[d] & 0xFFFFFFFF, seq[other] & 0xFFFFFFFF,
                                  5 << 4, 0x18, 65535, 0, 0)
                pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp) + len(piece))
                tcp = tcp[:16] + struct.pack("!H", _csum(pseudo + tcp + piece)) + tcp[18:]
                iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(piece), 0, 0x4000, 64, 6, 0, src, dst)
                iph = iph[:10] + struct.pack("!H", _csum(iph)) + iph[12:]
                frame = b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + iph + tcp + piece
                block(6, struct.pack("<IIIII", 0, ns >> 32, ns & 0xFFFFFFFF, len(frame), len(frame)) + frame)
                seq[d] += len(piece)


# --- the websockets floor (run's anchor) -----------------------------------------------------

WEBSOCKETS_FLOOR = r'''
import asyncio, datetime, ssl, tempfile, os
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
import websockets

key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
        .sign(key, hashes.SHA256()))
folder = tempfile.mkdtemp()
cf, kf = os.path.join(folder, "c.pem"), os.path.join(folder, "k.pem")
open(cf, "wb").write(cert.public_bytes(serialization.Encoding.PEM))
open(kf, "wb").write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); sctx.load_cert_chain(cf, kf)
cctx = ssl.create_default_context(cafile=cf)

async def echo(ws):
    async for m in ws:
        await ws.send(m)

async def main():
    async with websockets.serve(echo, "127.0.0.1", 0, ssl=sctx, subprotocols=["chat"]) as srv:
        port = srv.sockets[0].getsockname()[1]
        async with websockets.connect(f"wss://localhost:{port}/chat", ssl=cctx, subprotocols=["chat"],
                                      compression=None) as ws:
            for text in ("Hello", "How are you?", "bye"):
                await ws.send(text)
                print(await ws.recv())
            await (await ws.ping(b"ping"))
        print("closed")

asyncio.run(main())
'''

MINIMAL_TEXTUAL = r'''
from textual.app import App
from textual.widgets import Static
class Minimal(App):
    def compose(self):
        yield Static("minimal app ready")
Minimal().run()
'''


# --- a real terminal ---------------------------------------------------------------------------


class Terminal:
    """A private tmux server running one command at 160x48; the screen is polled."""

    def __init__(self, cmd: list[str], cwd: Path, size: str = "160x48") -> None:
        self.sock = f"wssviz-bench-{os.getpid()}-{time.monotonic_ns()}"
        cols, rows = size.split("x")
        self.t0 = time.perf_counter()
        subprocess.run(["tmux", "-L", self.sock, "new-session", "-d", "-s", "b", "-x", cols, "-y", rows,
                        "-c", str(cwd), " ".join(map(_quote, cmd))], check=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "-L", self.sock, "capture-pane", "-p", "-t", "b"],
                              capture_output=True, text=True).stdout

    def wait(self, pattern: str, timeout: float = 120.0) -> float | None:
        """Seconds until ``pattern`` is on screen (from spawn, or from the last ``keys``)."""
        rx = re.compile(pattern)
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            if rx.search(self.screen()):
                return time.perf_counter() - self.t0
            time.sleep(0.01)
        return None

    def keys(self, *keys: str) -> None:
        self.t0 = time.perf_counter()
        subprocess.run(["tmux", "-L", self.sock, "send-keys", "-t", "b", *keys], check=True)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True)


def _quote(s: str) -> str:
    import shlex

    return shlex.quote(s)


# --- the figures -------------------------------------------------------------------------------


def machine() -> str:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor()
    tshark = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout.splitlines()[:1] \
        if shutil.which("tshark") else ["no tshark"]
    return (f"{cpu}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; Python {platform.python_version()}; "
            f"{tshark[0] if tshark else ''}")


def measure(frames: int, folder: Path, repeat: int, only: set[str], out: dict) -> None:
    rec, pcap = build(frames, folder)
    res: dict = out.setdefault(str(frames), {"frames": frames, "recording_bytes": rec.stat().st_size,
                                             "pcapng_bytes": pcap.stat().st_size})
    w = [PY, "-m", "wssviz", "replay"]
    have_tshark = shutil.which("tshark") is not None
    if "_said" not in res:
        res["_said"] = True
        print(f"\n== {frames:,} frames: recording {rec.stat().st_size / 1e6:.1f} MB, "
              f"pcapng {pcap.stat().st_size / 1e6:.1f} MB", flush=True)
    if "first" in only and have_tshark:
        tshark = lambda: timed(["tshark", "-r", str(pcap), "-c", "40"])[0]  # noqa: E731
        a, b = interleave(repeat, lambda: first_line(w + [str(rec), "--json"], folder), tshark)
        c, d = interleave(repeat, lambda: first_line(w + [str(pcap), "--json"], folder), tshark)
        res["first"] = {"recording": a, "pcapng": c, "tshark_c40": b + d}
        print(f"first step, recording: {spread(a)} vs tshark -c 40 {spread(b)}: {ratio(a, b)}")
        print(f"first step, pcapng:    {spread(c)} vs tshark -c 40 {spread(d)}: {ratio(c, d)}", flush=True)
    if "whole" in only and have_tshark:
        a, b = interleave(repeat, lambda: timed(w + [str(pcap), "--json"], cwd=folder)[0],
                          lambda: timed(["tshark", "-r", str(pcap), "-Y", "websocket"])[0])
        res["whole"] = {"wssviz": a, "tshark": b}
        print(f"whole file --json: {spread(a)} vs tshark -Y websocket {spread(b)}: {ratio(a, b)}  "
              f"({statistics.median(a) / frames * 1e6:.0f} µs a frame)", flush=True)
    if "memory" in only:
        peaks = [timed(w + [str(rec), "--json"], cwd=folder)[1] for _ in range(max(1, repeat // 2))]
        size = rec.stat().st_size
        res["memory"] = {"peak_rss": peaks, "file": size}
        line = (f"peak memory, replay REC --json: {spread(peaks, ' MB', 1e-6, 0)} = "
                f"{statistics.median(peaks) / size:.1f}× the recording")
        if have_tshark:
            tpeak = timed(["tshark", "-r", str(pcap), "-Y", "websocket"])[1]
            res["memory"]["tshark_peak"] = tpeak
            line += f"  (tshark on the pcapng: {tpeak / 1e6:.0f} MB = {tpeak / pcap.stat().st_size:.1f}× its file)"
        print(line, flush=True)
    if "export" in only:
        dst = folder / "export-out.pcapng"
        a, b = interleave(repeat, lambda: timed([PY, "-m", "wssviz", "export", str(rec), "--pcapng", str(dst)],
                                                cwd=folder)[0],
                          lambda: timed([PY, __file__, "_plain_writer", str(rec), str(folder / "plain.pcapng")])[0])
        res["export"] = {"wssviz": a, "plain": b}
        print(f"export: {spread(a)} vs plain struct writer {spread(b)}: {ratio(a, b)}  "
              f"({statistics.median(a) / frames * 1e6:.1f} µs a frame)", flush=True)
    if "ui" in only and shutil.which("tmux"):
        firsts, ends, lefts, minimal = [], [], [], []
        script = folder / "minimal_app.py"
        script.write_text(MINIMAL_TEXTUAL)
        for r in range(repeat):
            order = [0, 1] if r % 2 == 0 else [1, 0]
            for who in order:
                if who == 1:
                    t = Terminal([PY, str(script)], folder)
                    minimal.append(t.wait(r"minimal app ready") or float("nan"))
                    t.close()
                    continue
                t = Terminal(w + [str(rec)], folder)
                firsts.append(t.wait(r"TCP connection opened") or float("nan"))
                time.sleep(0.5)
                t.keys("End")
                ends.append(t.wait(r"(?:Step|step) (\d+) of 0–\1(?!\d)(?! so far)") or float("nan"))
                text = t.screen()
                m = re.search(r"(?:Step|step) (\d+) of 0–\1", text)
                time.sleep(0.3)
                if m:
                    t.keys("Left")
                    lefts.append(t.wait(rf"(?:Step|step) {int(m.group(1)) - 1} of") or float("nan"))
                t.close()
        res["ui"] = {"first": firsts, "end": ends, "left": lefts, "minimal": minimal}
        print(f"interface (tmux 160x48): first step {spread(firsts)} vs minimal Textual app {spread(minimal)}: "
              f"{ratio(firsts, minimal)}", flush=True)
        print(f"  End → last step on screen {spread(ends)}; then Left → previous step {spread(lefts)}", flush=True)


def measure_run(folder: Path, repeat: int, out: dict) -> None:
    floor = folder / "websockets_floor.py"
    floor.write_text(WEBSOCKETS_FLOOR)
    a, b = interleave(repeat, lambda: timed([PY, "-m", "wssviz", "run", "--json"], cwd=folder)[0],
                      lambda: timed([PY, str(floor)], cwd=folder)[0])
    out["run"] = {"wssviz": a, "websockets": b}
    print(f"\nwssviz run --json: {spread(a)} vs the websockets floor {spread(b)}: {ratio(a, b)}", flush=True)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "_plain_writer":
        plain_writer(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", default="1000,10000,100000", help="session sizes (comma-separated)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="first,whole,memory,export,ui,run")
    ap.add_argument("--keep", help="folder for the built sessions (kept between runs)")
    ap.add_argument("--json", action="store_true", help="also print every sample as JSON at the end")
    args = ap.parse_args()
    only = set(args.only.split(","))
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="wssviz-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    print("machine:", machine())
    out: dict = {"machine": machine()}
    for n in (int(x) for x in args.frames.split(",")):
        for figure in ("first", "whole", "memory", "export", "ui"):
            if figure in only:
                try:
                    measure(n, folder, args.repeat, {figure}, out)
                except Failed as exc:
                    print(f"{figure}: FAILED: {exc}", flush=True)
    if "run" in only:
        try:
            measure_run(folder, args.repeat, out)
        except Failed as exc:
            print(f"run: FAILED: {exc}", flush=True)
    if args.json:
        print(json.dumps(out))
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
