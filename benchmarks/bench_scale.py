"""How wssviz's live endpoints behave at scale, as ratios against an anchor run beside them.

    python benchmarks/bench_scale.py                       # all four measurements
    python benchmarks/bench_scale.py fragments memory      # some of them, by name
    python benchmarks/bench_scale.py --repeat 5 --timeout 300 --json
    python benchmarks/bench_scale.py fragments --fragments 1000,10000 --max-output-mb 500
    python benchmarks/bench_scale.py memory --size-mib 16

This is a report, not a test: it never asserts a timing and exits 0 unless the script
itself crashed.  A run that takes longer than ``--timeout`` seconds (default 120) is
killed and reported as "timed out after X s"; that is a valid result (wssviz is slow at
some of these today).  A wssviz run whose stdout grows past ``--max-output-mb`` (default
2000) is killed too and reported as "stopped: output over N MB".

The measurements
----------------
fragments
    A minimal ws:// server written here (plain sockets, the HTTP upgrade and the
    Sec-WebSocket-Accept done by hand) answers the upgrade and then, in ONE ``sendall``,
    sends N unmasked one-byte fragments of one text message (opcode 0x1 FIN=0, N-2
    continuations FIN=0, a final continuation FIN=1).  It then answers the client's frames:
    a pong for a ping, a close for a close (text it ignores).  We run
    ``wssviz connect ws://127.0.0.1:PORT/ --json`` with stdout to a file and report its wall
    time and the bytes it wrote, plus bytes/N and time/N, for each N in ``--fragments``:
    if wssviz were linear, bytes/N and time/N would stay flat as N grows.
    Anchor: the ``websockets`` sync client (``websockets.sync.client.connect``) receiving the
    same burst from the same server, in its own process.  Its wall time (process start to
    exit, like wssviz's) is the anchor time; the time it took from connect to the whole
    message is shown beside it.
    (The anchor reads with ``recv_streaming()``: its ``recv()`` refuses a message of more
    than 4096 fragments.)
memory
    The same kind of server sends ONE binary message of ``--size-mib`` MiB (default 60) in
    one frame.  We report wssviz connect's peak RSS, that minus a baseline (wssviz connect
    against the same server sending a 1-byte message) and that difference divided by the
    message size ("bytes of memory per byte of message").  Anchor: the websockets client
    (``max_size=None``) receiving the same message, with its own 1-byte baseline.
    (wssviz connect refuses messages over its own limit, 64 MiB today; 60 MiB is under it.)
listen
    ``wssviz listen --port 0 --json`` (stdout to a file) is started; its banner on stderr
    gives the port and the CA file.  We record its RSS once it is up (1 s after the banner),
    then a client process opens 120 connections one after another, each sending one 200 KB
    text message, reading the echo and closing cleanly (websockets sync client, an SSL
    context trusting that CA, wss://localhost:PORT/ws with the TCP connection made to
    127.0.0.1), waits 3 s and records the RSS again: start, after, after/start (and the
    server's own peak, VmHWM).  Anchor: a minimal ``websockets`` asyncio echo server with
    TLS and a throwaway self-signed certificate, under the same load.
    (In listen and idle a connection that fails is tried once more, for both sides, and the
    retries are reported: the anchor now and then stalls an upgrade; see worker_listen.)
idle
    Against ``wssviz listen``: a client process opens 40 upgraded connections and keeps them
    open and idle, then times a 41st client's connect + echo of one message (10 s limit):
    served yes/no and its time; then it closes all.  Anchor: the same against the minimal
    websockets echo server.

What "ratio" means
------------------
wssviz's number divided by the anchor's number for the same quantity (times: wall time;
memory: the size above baseline, or after/start).  Runs are interleaved (wssviz, anchor,
then anchor, wssviz in the next repeat, ...) so machine noise hits both; each ratio is
taken within one repeat (paired) and the report gives the median and range of those.
When the wssviz run did not finish (timed out, or stopped at the output limit), its ratio
is a lower bound ("≥").

How it measures
---------------
Every wssviz and anchor endpoint is a separate process (wssviz as
``<this python> -m wssviz``; the anchor clients and server as this script in a hidden
``_worker`` mode), started in its own session so a timeout can kill exactly it.
Peak memory of a client run is ``ru_maxrss`` from ``os.wait4`` on that one child (the
kernel's high-water mark of its RSS, per child; not RUSAGE_CHILDREN, which is a maximum
over all children ever waited for), taken by a tiny launcher process that starts it (see
LAUNCHER: a child's ru_maxrss also counts the RSS of whoever forked it, and this script
holds the big bursts).  The launcher also times the child (wall time, spawn to exit).
A run killed at its limit has no wait4 figure: its peak is the last VmHWM polled from
/proc every 50 ms.  The servers' current RSS is read from ``/proc/PID/status`` (VmRSS;
VmHWM for their peak), so this runs on Linux.
Every server binds to 127.0.0.1 only.  A throwaway ``XDG_CACHE_HOME`` (a temporary folder)
is used for all wssviz processes, and a warm-up (one wssviz connect, one anchor client,
one wssviz listen start; not counted) fills wssviz's memos (explanation catalog, scapy's
TLS names) before the measurements, so no measured run pays for them.  wssviz connect's
output files are deleted once counted (they can be gigabytes), even with ``--keep``.

Output: a plain-text report on stdout; with ``--json``, one JSON object per line on
stdout instead (first {"measurement": "machine", ...}, then one per measurement, with
every run's raw figures) and the plain-text report on stderr.

Which wssviz is measured: whatever ``<this python> -m wssviz`` imports (the header names
its folder and commit).  To measure another checkout, put it first on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import re
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ALL = ("fragments", "memory", "listen", "idle")
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
POLL = 0.05  # seconds between looks at a running child
LISTEN_CONNECTIONS = 120
LISTEN_MESSAGE = 200_000  # bytes of text per connection
IDLE_CONNECTIONS = 40
IDLE_PROBE_TIMEOUT = 10.0  # the 41st client's connect + echo
SETTLE_AFTER_START = 1.0  # seconds between a server's banner and its "start" RSS
SETTLE_AFTER_LOAD = 3.0  # seconds between the end of the load and its "after" RSS


# ---------------------------------------------------------------------------------------
# A minimal ws:// server that sends one prepared burst to every client
# ---------------------------------------------------------------------------------------

def fragments_burst(n: int) -> bytes:
    """One text message "aaa...a" as ``n`` unmasked one-byte frames (n >= 2)."""
    if n < 2:
        raise ValueError("fragments: N must be at least 2")
    return b"\x01\x01a" + b"\x00\x01a" * (n - 2) + b"\x80\x01a"


def binary_frame(size: int) -> bytes:
    """One unmasked binary frame, FIN=1, carrying ``size`` bytes."""
    if size < 126:
        head = bytes([0x82, size])
    elif size < 2**16:
        head = bytes([0x82, 126]) + struct.pack("!H", size)
    else:
        head = bytes([0x82, 127]) + struct.pack("!Q", size)
    return head + b"\xab" * size


def recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("peer closed")
        buf += chunk
    return bytes(buf)


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    """One (masked) client frame: opcode and unmasked payload."""
    b0, b1 = recv_exact(sock, 2)
    length = b1 & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", recv_exact(sock, 2))
    elif length == 127:
        (length,) = struct.unpack("!Q", recv_exact(sock, 8))
    key = recv_exact(sock, 4) if b1 & 0x80 else b""
    data = recv_exact(sock, length)
    if key:
        data = bytes(c ^ key[i % 4] for i, c in enumerate(data)) if length < 4096 else _unmask(data, key)
    return b0 & 0x0F, data


def _unmask(data: bytes, key: bytes) -> bytes:
    n = len(data)
    k = int.from_bytes((key * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(data, "big") ^ k).to_bytes(n, "big")


def server_frame(opcode: int, payload: bytes) -> bytes:
    assert len(payload) < 126  # control frames only
    return bytes([0x80 | opcode, len(payload)]) + payload


class BurstServer:
    """ws:// on 127.0.0.1: upgrade by hand, ``sendall(burst)``, then pong pings and close
    closes.  Runs in threads of this process (its memory is not what is measured)."""

    def __init__(self, burst: bytes, io_timeout: float) -> None:
        self.burst = burst
        self.io_timeout = io_timeout
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="burst-server", daemon=True)

    def __enter__(self) -> "BurstServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(2)
        self.listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self.listener.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._handle, args=(sock,), daemon=True).start()

    def _handle(self, sock: socket.socket) -> None:
        sock.settimeout(self.io_timeout)
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                head += chunk
            match = re.search(rb"(?im)^sec-websocket-key:\s*(\S+)\s*$", head)
            if not match:
                sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                return
            accept = base64.b64encode(hashlib.sha1(match.group(1) + GUID).digest())
            sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
            sock.sendall(self.burst)  # the one burst
            while True:
                opcode, payload = read_frame(sock)
                if opcode == 0x9:  # ping
                    sock.sendall(server_frame(0xA, payload))
                elif opcode == 0x8:  # close: answer with the same code, then end TCP
                    sock.sendall(server_frame(0x8, payload[:2]))
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_WR)
                    return
        except (OSError, ConnectionError, ValueError):
            return  # a client killed at its timeout, or gone: nothing to do
        finally:
            sock.close()


# ---------------------------------------------------------------------------------------
# Children: run one, bounded in time and output, and measure it
# ---------------------------------------------------------------------------------------

def wssviz_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "wssviz", *args]


def worker_cmd(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "_worker", *args]


def kill_group(proc: subprocess.Popen) -> None:
    """Kill the child we started and whatever it started (its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


# The launcher: a small Python (no site, only os/sys/time imported before the spawn) that
# starts the measured command, waits for it with os.wait4 and writes its wall time and
# ru_maxrss to a side file.  Why not wait4 from this script directly: on Linux a child's
# ru_maxrss is at least the RSS of the process that forked it (exec keeps the old memory
# map's high-water mark), and this script holds the bursts (60 MiB and more); the
# launcher's own ~10 MiB is below any measured Python process's peak, so the max is the
# child's own.
LAUNCHER = """
import os, sys, time
side, cmd = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
pid = os.posix_spawn(cmd[0], cmd, os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - t0
code = os.waitstatus_to_exitcode(status)
with open(side, "w") as f:
    f.write("%r %d %d" % (wall, usage.ru_maxrss, code))
sys.exit(code if 0 <= code < 256 else 1)
"""


def child_pid(launcher: int) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(Path(f"/proc/{launcher}/task/{launcher}/children").read_text().split()[0])
    return None


def run_child(cmd: list[str], *, timeout: float, out_path: str, max_output: int | None,
              env: dict, cwd: str) -> dict:
    """Run ``cmd`` (through the launcher) with stdout to ``out_path``, bounded in time and
    output.  Returns status ("ok", "exit N", "timed out", "output limit"), wall seconds,
    peak RSS in KiB (exact from wait4 for a run that ended; for a killed run the last
    VmHWM polled from /proc, marked ``peak_rss_polled``), and the bytes it wrote."""
    side = out_path + ".rusage"
    launcher = [sys.executable, "-S", "-c", LAUNCHER, side, *cmd]
    polled_hwm = 0
    with open(out_path, "wb") as out, open(out_path + ".err", "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(launcher, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env,
                                cwd=cwd, start_new_session=True)
        status = None
        pid = None
        try:
            while proc.poll() is None:
                pid = pid or child_pid(proc.pid)
                if pid:
                    polled_hwm = max(polled_hwm, proc_status(pid).get("VmHWM", 0))
                if time.perf_counter() - t0 > timeout:
                    status = "timed out"
                elif max_output is not None and os.fstat(out.fileno()).st_size > max_output:
                    status = "output limit"
                if status:
                    kill_group(proc)
                    proc.wait()
                    break
                time.sleep(POLL)
        except BaseException:  # Ctrl-C: leave no child behind
            kill_group(proc)
            raise
        wall = time.perf_counter() - t0
        kill_group(proc)  # anything it left behind in its session
    result = {"status": status, "wall_s": round(wall, 4), "peak_rss_kib": polled_hwm,
              "output_bytes": os.path.getsize(out_path)}
    try:
        child_wall, maxrss, code = Path(side).read_text().split()
        result.update(wall_s=round(float(child_wall), 4), peak_rss_kib=int(maxrss))
        code = int(code)
    except (OSError, ValueError):
        code = proc.returncode
        if not status:
            result["peak_rss_polled"] = True
    if status:
        result["peak_rss_polled"] = True
    else:
        result["status"] = "ok" if code == 0 else f"exit {code}"
        if code != 0:
            result["stderr_tail"] = Path(out_path + ".err").read_bytes()[-3000:].decode("utf-8", "replace")
    return result


def worker_lines(out_path: str) -> list[dict]:
    """The JSON lines a worker printed (it prints as it goes, so a killed one leaves some)."""
    lines = []
    with contextlib.suppress(OSError):
        for line in Path(out_path).read_text(encoding="utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                lines.append(json.loads(line))
    return lines


def scan_steps(path: str, keep: int = 3) -> dict:
    """Lines (steps) in a wssviz --json output file, and the first error steps' summaries."""
    steps, errors = 0, []
    with contextlib.suppress(OSError), open(path, "rb") as f:
        for line in f:
            steps += 1
            if b'"status": "error"' in line and len(errors) < keep:
                with contextlib.suppress(ValueError):
                    step = json.loads(line)
                    if step.get("status") == "error":
                        errors.append(f"step {step.get('index')} {step.get('kind')}: {step.get('summary')}")
    return {"steps": steps, "error_steps": errors}


def done(run: dict) -> bool:
    """A run that ran to its end (wssviz connect exits 1 when a step is an error: still done)."""
    return run.get("status") in ("ok", "finished with error steps")


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a live process, in KiB (empty once it is gone)."""
    out = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


class ServerProcess:
    """A long-running server child (wssviz listen or the anchor echo server) that prints
    "bound to 127.0.0.1:PORT" (and, for wssviz, "CA certificate: PATH") on stderr."""

    def __init__(self, cmd: list[str], *, env: dict, cwd: str, log_dir: str, name: str,
                 startup_timeout: float, max_output: int | None) -> None:
        self.name = name
        self.out_path = os.path.join(log_dir, f"{name}.out")
        self.err_path = os.path.join(log_dir, f"{name}.err")
        self.max_output = max_output
        self._out = open(self.out_path, "wb")
        self._err = open(self.err_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._out, stderr=self._err, stdin=subprocess.DEVNULL,
                                     env=env, cwd=cwd, start_new_session=True)
        self.port: int | None = None
        self.ca_path: str | None = None
        deadline = time.monotonic() + startup_timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            text = Path(self.err_path).read_text(encoding="utf-8", errors="replace")
            port = re.search(r"bound to 127\.0\.0\.1:(\d+)", text)
            ca = re.search(r"CA certificate: (.+)", text)
            if port and (ca or "wssviz" not in name):
                self.port = int(port.group(1))
                self.ca_path = ca.group(1).strip() if ca else None
                return
            time.sleep(POLL)
        self.stop()
        tail = Path(self.err_path).read_text(encoding="utf-8", errors="replace")[-600:]
        raise RuntimeError(f"{name} did not print its banner within {startup_timeout:g} s "
                           f"(exit {self.proc.returncode}): {tail}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def memory(self) -> dict[str, int]:
        return proc_status(self.proc.pid)

    def output_bytes(self) -> int:
        return os.path.getsize(self.out_path)

    def stop(self) -> None:
        """SIGTERM (wssviz listen treats it as Ctrl-C), then SIGKILL after 10 s."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        kill_group(self.proc)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)
        self._out.close()
        self._err.close()


def run_with_server(server: ServerProcess, cmd: list[str], *, timeout: float, out_path: str,
                    env: dict, cwd: str) -> dict:
    """Run a client ``cmd`` against a server child, watching the server's output size (the
    limit kills the client run; the caller stops the server) and its peak memory."""
    holder: dict = {}
    done = threading.Event()

    def watch() -> None:
        while not done.wait(POLL * 4):
            if server.max_output is not None and server.output_bytes() > server.max_output:
                holder["server_output_limit"] = True
                server.stop()
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        result = run_child(cmd, timeout=timeout, out_path=out_path, max_output=None, env=env, cwd=cwd)
    finally:
        done.set()
        watcher.join()
    if holder.get("server_output_limit"):
        result["status"] = "server output limit"
    return result


# ---------------------------------------------------------------------------------------
# Summaries
# ---------------------------------------------------------------------------------------

def spread(values: list[float]) -> dict | None:
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def num(x: float, digits: int = 3) -> str:
    """3 significant digits, but whole numbers from 1000 up (no exponents)."""
    return f"{x:,.0f}" if abs(x) >= 10 ** digits else f"{x:.{digits}g}"


def fmt_spread(s: dict | None, unit: str = "", digits: int = 3, scale: float = 1.0) -> str:
    if s is None:
        return "n/a"
    med, lo, hi = s["median"] * scale, s["min"] * scale, s["max"] * scale
    if s["n"] == 1:
        return f"{num(med, digits)}{unit}"
    return f"{num(med, digits)}{unit} (range {num(lo, digits)}–{num(hi, digits)}, {s['n']} runs)"


def fmt_status(runs: list[dict], timeout: float, max_output_mb: float) -> str:
    """What went wrong in runs that did not finish, in words."""
    words = []
    for r in runs:
        st = r["status"]
        if st == "timed out":
            words.append(f"timed out after {timeout:g} s")
        elif st in ("output limit", "server output limit"):
            who = "server " if st.startswith("server") else ""
            words.append(f"stopped: {who}output over {max_output_mb:g} MB")
        elif st == "finished with error steps":
            words.append("finished, with error steps: " + "; ".join(r.get("error_steps", [])[:1]))
        elif st != "ok":
            words.append(st)
    if not words:
        return ""
    counted = {w: words.count(w) for w in dict.fromkeys(words)}
    return "; ".join(f"{w} ({k} of {len(runs)})" for w, k in counted.items())


def paired_ratios(w_runs: list[dict], a_runs: list[dict], key: str) -> dict:
    """wssviz/anchor within each repeat; a timed-out wssviz run gives a lower bound."""
    exact, bounds = [], []
    for w, a in zip(w_runs, a_runs):
        wv, av = w.get(key), a.get(key)
        if not done(a) or not av or wv is None:
            continue
        if done(w):
            exact.append(wv / av)
        elif w["status"] in ("timed out", "output limit"):
            bounds.append(wv / av)
    return {"exact": spread(exact), "lower_bound": spread(bounds)}


def fmt_ratio(r: dict) -> str:
    parts = []
    if r["exact"]:
        parts.append(fmt_spread(r["exact"]))
    if r["lower_bound"]:
        parts.append("≥ " + fmt_spread(r["lower_bound"]) + " (wssviz did not finish)")
    return "; ".join(parts) or "n/a"


# ---------------------------------------------------------------------------------------
# The measurements
# ---------------------------------------------------------------------------------------

class Bench:
    def __init__(self, args: argparse.Namespace, report) -> None:
        self.args = args
        self.report = report
        self.tmp = tempfile.mkdtemp(prefix="wssviz-bench-scale-")
        self.env = dict(os.environ, XDG_CACHE_HOME=os.path.join(self.tmp, "cache"), PYTHONUNBUFFERED="1",
                        PYTHONFAULTHANDLER="1")  # a crash shows its traceback in the report
        self.max_output = int(args.max_output_mb * 1_000_000)
        self.results: list[dict] = []
        self._runs = 0

    def path(self, name: str) -> str:
        self._runs += 1
        return os.path.join(self.tmp, f"{self._runs:04d}-{name}")

    def order(self, repeat: int) -> tuple[str, str]:
        """Interleaving: wssviz first in even repeats, the anchor first in odd ones."""
        return ("wssviz", "anchor") if repeat % 2 == 0 else ("anchor", "wssviz")

    def emit(self, record: dict, lines: list[str]) -> None:
        self.results.append(record)
        for line in lines:
            self.report(line)
        if self.args.json:
            print(json.dumps(record, ensure_ascii=False), flush=True)

    # -- clients against the burst server ------------------------------------------------

    def connect_run(self, who: str, port: int, name: str, expect: int) -> dict:
        url = f"ws://127.0.0.1:{port}/"
        if who == "wssviz":
            out = self.path(name)
            result = run_child(wssviz_cmd("connect", url, "--json"), timeout=self.args.timeout,
                               out_path=out, max_output=self.max_output, env=self.env, cwd=self.tmp)
            result.update(scan_steps(out))
            if result["status"] == "exit 1" and result["error_steps"]:
                result["status"] = "finished with error steps"
            with contextlib.suppress(OSError):
                os.remove(out)  # it may be gigabytes
            return result
        out = self.path(name + "-anchor")
        result = run_child(worker_cmd("recv", url, str(expect), str(self.args.timeout)),
                           timeout=self.args.timeout, out_path=out, max_output=None,
                           env=self.env, cwd=self.tmp)
        info = worker_lines(out)
        if info:
            result.update(info[-1])
            if result["status"] == "ok" and info[-1].get("error"):
                result["status"] = "error: " + info[-1]["error"]
        return result

    def warm_up(self) -> None:
        """One wssviz connect, one anchor client and one wssviz listen start, not counted:
        wssviz's memos get written (a first listen start without them is ~30 MiB bigger)."""
        with BurstServer(fragments_burst(2), self.args.timeout) as srv:
            for who in ("wssviz", "anchor"):
                self.connect_run(who, srv.port, "warm-up", 2)
        with contextlib.suppress(RuntimeError):
            self.start_server("wssviz", "warm-up").stop()

    def fragments(self) -> None:
        a = self.args
        self.report("")
        self.report("== fragments: one text message as N one-byte fragments, in one burst ==")
        for n in a.fragments:
            burst = fragments_burst(n)
            runs: dict[str, list[dict]] = {"wssviz": [], "anchor": []}
            with BurstServer(burst, a.timeout) as srv:
                for r in range(a.repeat):
                    for who in self.order(r):
                        runs[who].append(self.connect_run(who, srv.port, f"fragments-{n}", n))
            w, an = runs["wssviz"], runs["anchor"]
            w_ok = [x for x in w if done(x)]
            a_ok = [x for x in an if done(x)]
            wall = spread([x["wall_s"] for x in w_ok])
            out_b = spread([x["output_bytes"] for x in w_ok])
            rec = {
                "measurement": "fragments", "n": n, "burst_bytes": len(burst),
                "wssviz": {"runs": w, "wall_s": wall, "output_bytes": out_b,
                           "output_bytes_per_fragment": spread([x["output_bytes"] / n for x in w_ok]),
                           "us_per_fragment": spread([1e6 * x["wall_s"] / n for x in w_ok])},
                "anchor": {"runs": an, "wall_s": spread([x["wall_s"] for x in a_ok]),
                           "receive_s": spread([x["receive_s"] for x in a_ok if "receive_s" in x])},
                "ratio_wall": paired_ratios(w, an, "wall_s"),
            }
            lines = [f"N = {n:,} fragments ({len(burst):,} bytes on the wire)"]
            bad = fmt_status(w, a.timeout, a.max_output_mb)
            if w_ok:
                lines.append(f"  wssviz connect: wall {fmt_spread(wall, ' s')}, output {fmt_spread(out_b, ' MB', scale=1e-6)}; "
                             f"per fragment: {fmt_spread(rec['wssviz']['output_bytes_per_fragment'], ' B')}, "
                             f"{fmt_spread(rec['wssviz']['us_per_fragment'], ' µs')}")
            if bad:
                partial = ", ".join(f"{x['output_bytes'] / 1e6:.1f} MB, {x['steps']:,} steps written "
                                    f"in {x['wall_s']:.1f} s" for x in w if not done(x))
                lines.append(f"  wssviz connect: {bad}" + (f" ({partial})" if partial else ""))
                tails = [x["stderr_tail"].strip().splitlines()[-1] for x in w if x.get("stderr_tail", "").strip()]
                if tails:
                    lines.append(f"    last stderr line: {tails[-1]}")
            lines.append(f"  anchor (websockets sync client): wall {fmt_spread(rec['anchor']['wall_s'], ' s')}, "
                         f"connect→whole message {fmt_spread(rec['anchor']['receive_s'], ' s')}"
                         + (f"; {fmt_status(an, a.timeout, a.max_output_mb)}" if len(a_ok) < len(an) else ""))
            lines.append(f"  ratio wssviz wall / anchor wall: {fmt_ratio(rec['ratio_wall'])}")
            self.emit(rec, lines)
            del burst

    def memory(self) -> None:
        a = self.args
        size = int(a.size_mib * 2**20)
        self.report("")
        self.report(f"== memory: one {a.size_mib:g} MiB binary message in one frame ==")
        runs = {(who, kind): [] for who in ("wssviz", "anchor") for kind in ("base", "big")}
        with BurstServer(binary_frame(1), a.timeout) as base_srv, \
                BurstServer(binary_frame(size), a.timeout) as big_srv:
            for r in range(a.repeat):
                for kind, srv, n in (("base", base_srv, 1), ("big", big_srv, size)):
                    for who in self.order(r):
                        runs[(who, kind)].append(self.connect_run(who, srv.port, f"memory-{kind}", n))
        rec = {"measurement": "memory", "message_bytes": size}
        lines = []
        per_repeat_extra: dict[str, list] = {}
        for who, label in (("wssviz", "wssviz connect"), ("anchor", "anchor (websockets, max_size=None)")):
            base, big = runs[(who, "base")], runs[(who, "big")]
            extra = [(b["peak_rss_kib"] - o["peak_rss_kib"]) * 1024 if done(b) and done(o)
                     else None for b, o in zip(big, base)]
            per_repeat_extra[who] = extra
            ok_extra = [x for x in extra if x is not None]
            big_ok = [b for b in big if done(b)]
            rec[who] = {
                "baseline_runs": base, "runs": big,
                "peak_rss_mib": spread([b["peak_rss_kib"] / 1024 for b in big_ok]),
                "baseline_peak_rss_mib": spread([o["peak_rss_kib"] / 1024 for o in base if done(o)]),
                "above_baseline_mib": spread([x / 2**20 for x in ok_extra]),
                "above_baseline_per_message_byte": spread([x / size for x in ok_extra]),
                "wall_s": spread([b["wall_s"] for b in big_ok]),
            }
            if who == "wssviz":
                rec[who]["output_bytes"] = spread([b["output_bytes"] for b in big_ok])
            d = rec[who]
            line = (f"  {label}: peak RSS {fmt_spread(d['peak_rss_mib'], ' MiB')} "
                    f"(baseline {fmt_spread(d['baseline_peak_rss_mib'], ' MiB')}), above baseline "
                    f"{fmt_spread(d['above_baseline_mib'], ' MiB')} = {fmt_spread(d['above_baseline_per_message_byte'])} × "
                    f"the message; wall {fmt_spread(d['wall_s'], ' s')}")
            if who == "wssviz" and big_ok:
                line += f"; output {fmt_spread(d['output_bytes'], ' MB', scale=1e-6)}"
            lines.append(line)
            for kind, rs in (("baseline", base), (f"{a.size_mib:g} MiB", big)):
                bad = fmt_status(rs, a.timeout, a.max_output_mb)
                if bad:
                    killed = [f"{x['peak_rss_kib'] / 1024:.0f} MiB" for x in rs if not done(x)]
                    lines.append(f"    {kind} run: {bad}" + (f" (peak RSS by then: {', '.join(killed)})" if killed else ""))
        ratios = [w / an for w, an in zip(per_repeat_extra["wssviz"], per_repeat_extra["anchor"])
                  if w is not None and an]
        rec["ratio_above_baseline"] = spread(ratios)
        lines.append(f"  ratio wssviz / anchor (memory above baseline): {fmt_spread(rec['ratio_above_baseline'])}")
        self.emit(rec, lines)

    # -- servers -----------------------------------------------------------------------

    def start_server(self, who: str, tag: str) -> ServerProcess:
        a = self.args
        if who == "wssviz":
            cmd = wssviz_cmd("listen", "--port", "0", "--json")
        else:
            cmd = worker_cmd("echo-server", self.cert, self.key)
        return ServerProcess(cmd, env=self.env, cwd=self.tmp, log_dir=self.tmp, name=f"{self._next()}-{who}-{tag}",
                             startup_timeout=min(a.timeout, 60), max_output=self.max_output)

    def _next(self) -> str:
        self._runs += 1
        return f"{self._runs:04d}"

    def make_cert(self) -> None:
        """A throwaway self-signed certificate for localhost / 127.0.0.1 (the anchor server's)."""
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        now = dt.datetime.now(dt.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                            x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                               critical=False)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        self.cert = os.path.join(self.tmp, "anchor-cert.pem")
        self.key = os.path.join(self.tmp, "anchor-key.pem")
        Path(self.cert).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        Path(self.key).write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))

    def server_round(self, who: str, tag: str, client_args: list[str]) -> dict:
        """Start a server, run one client worker against it, measure, stop it."""
        a = self.args
        try:
            srv = self.start_server(who, tag)
        except RuntimeError as exc:
            return {"status": f"server did not start: {exc}"}
        try:
            time.sleep(SETTLE_AFTER_START)
            start = srv.memory()
            cafile = srv.ca_path or self.cert
            out = self.path(f"{tag}-{who}-client")
            result = run_with_server(srv, worker_cmd(tag, str(srv.port), cafile, *client_args),
                                     timeout=a.timeout, out_path=out, env=self.env, cwd=self.tmp)
            info = worker_lines(out)
            result["client"] = info[-1] if info else {}
            result["server_alive_after_load"] = srv.alive()
            if tag == "listen" and srv.alive():
                time.sleep(SETTLE_AFTER_LOAD)
            after = srv.memory()
            result.update(rss_start_kib=start.get("VmRSS"), rss_after_kib=after.get("VmRSS"),
                          hwm_kib=after.get("VmHWM"), server_output_bytes=srv.output_bytes())
            if not srv.alive() and result["status"] == "ok":
                result["status"] = f"server exited ({srv.proc.returncode})"
            return result
        finally:
            srv.stop()

    def listen(self) -> None:
        a = self.args
        self.report("")
        self.report(f"== listen: {LISTEN_CONNECTIONS} connections one after another, "
                    f"each a {LISTEN_MESSAGE // 1000} KB text message echoed ==")
        runs: dict[str, list[dict]] = {"wssviz": [], "anchor": []}
        for r in range(a.repeat):
            for who in self.order(r):
                runs[who].append(self.server_round(who, "listen", [str(LISTEN_CONNECTIONS), str(LISTEN_MESSAGE)]))
        rec = {"measurement": "listen", "connections": LISTEN_CONNECTIONS, "message_bytes": LISTEN_MESSAGE}
        lines = []
        growth: dict[str, list] = {}
        for who, label in (("wssviz", "wssviz listen"), ("anchor", "anchor (websockets echo server)")):
            rs = runs[who]
            # only loads that ran to their end count (a timed-out one shows as such, with how
            # many connections it echoed)
            measured = [x for x in rs if x.get("status") == "ok" and x.get("rss_start_kib") and x.get("rss_after_kib")]
            growth[who] = [x["rss_after_kib"] / x["rss_start_kib"] if x in measured else None for x in rs]
            echoed = [x["client"].get("echoed", 0) for x in rs if "client" in x]
            rec[who] = {
                "runs": rs,
                "rss_start_mib": spread([x["rss_start_kib"] / 1024 for x in measured]),
                "rss_after_mib": spread([x["rss_after_kib"] / 1024 for x in measured]),
                "after_over_start": spread([g for g in growth[who] if g is not None]),
                "peak_rss_mib": spread([x["hwm_kib"] / 1024 for x in rs if x.get("hwm_kib")]),
                "load_wall_s": spread([x["wall_s"] for x in rs if x.get("status") == "ok"]),
                "echoed": echoed,
            }
            d = rec[who]
            lines.append(f"  {label}: RSS start {fmt_spread(d['rss_start_mib'], ' MiB')}, after "
                         f"{fmt_spread(d['rss_after_mib'], ' MiB')}, after/start {fmt_spread(d['after_over_start'])}; "
                         f"peak {fmt_spread(d['peak_rss_mib'], ' MiB')}; load took {fmt_spread(d['load_wall_s'], ' s')}; "
                         f"echoed {'/'.join(str(e) for e in echoed)} of {LISTEN_CONNECTIONS}")
            if who == "wssviz":
                sizes = "/".join(f"{x.get('server_output_bytes', 0) / 1e6:.1f}" for x in rs)
                lines[-1] += f"; its stdout {sizes} MB"
            self._problems(rs, lines)
        ratios = [w / an for w, an in zip(growth["wssviz"], growth["anchor"]) if w is not None and an]
        rec["ratio_after_over_start"] = spread(ratios)
        lines.append(f"  ratio wssviz / anchor (after/start): {fmt_spread(rec['ratio_after_over_start'])}")
        self.emit(rec, lines)

    def _problems(self, rs: list[dict], lines: list[str]) -> None:
        """What went wrong in these runs, each different line once, with how many runs."""
        bad = fmt_status(rs, self.args.timeout, self.args.max_output_mb)
        if bad:
            lines.append(f"    {bad}")
        said: dict[str, int] = {}
        for x in rs:
            c = x.get("client", {})
            found = []
            if c.get("errors"):
                found.append(f"client connections failed: {c.get('error_count', len(c['errors']))}, "
                             f"first: {c['errors'][0]}")
            if c.get("retries"):
                found.append(f"connections that needed a retry: {c['retries']}, first: "
                             f"{re.sub(r'^#[0-9]+: ', '', c['retried'][0])}")
            if c.get("probe_error"):
                found.append(f"41st client: {c['probe_error']}")
            if x.get("server_alive_after_load") is False:
                found.append("the server was gone after the load")
            if x.get("stderr_tail", "").strip():
                found.append("client's stderr ends: " + " | ".join(x["stderr_tail"].strip().splitlines()[-4:]))
            for f in found:
                f = re.sub(r"first: #[0-9]+: ", "first: ", f)
                said[f] = said.get(f, 0) + 1
        for f, k in said.items():
            lines.append(f"    {f}" + (f" (in {k} of {len(rs)} runs)" if len(rs) > 1 else ""))

    def idle(self) -> None:
        a = self.args
        self.report("")
        self.report(f"== idle: {IDLE_CONNECTIONS} upgraded idle connections held open, then one more "
                    f"client's connect + echo ({IDLE_PROBE_TIMEOUT:g} s limit) ==")
        runs: dict[str, list[dict]] = {"wssviz": [], "anchor": []}
        for r in range(a.repeat):
            for who in self.order(r):
                runs[who].append(self.server_round(who, "idle", [str(IDLE_CONNECTIONS), str(IDLE_PROBE_TIMEOUT)]))
        rec = {"measurement": "idle", "idle_connections": IDLE_CONNECTIONS}
        lines = []
        times: dict[str, list] = {}
        for who, label in (("wssviz", "wssviz listen"), ("anchor", "anchor (websockets echo server)")):
            rs = runs[who]
            clients = [x.get("client", {}) for x in rs]
            served = [c.get("served") for c in clients]
            times[who] = [c.get("probe_s") if c.get("served") else None for c in clients]
            rec[who] = {"runs": rs, "served": served,
                        "upgraded_idle": [c.get("upgraded") for c in clients],
                        "probe_s": spread([t for t in times[who] if t is not None])}
            words = ["yes" if s else ("no" if s is False else "n/a") for s in served]
            lines.append(f"  {label}: idle connections upgraded {'/'.join(str(c.get('upgraded', '?')) for c in clients)} "
                         f"of {IDLE_CONNECTIONS}; 41st served: {'/'.join(words)}"
                         + (f", in {fmt_spread(rec[who]['probe_s'], ' s')}" if rec[who]["probe_s"] else ""))
            self._problems(rs, lines)
        ratios = [w / an for w, an in zip(times["wssviz"], times["anchor"]) if w is not None and an]
        rec["ratio_probe_time"] = spread(ratios)
        why = "" if ratios else " (no repeat where both served the 41st client)"
        lines.append(f"  ratio wssviz / anchor (41st client's time): {fmt_spread(rec['ratio_probe_time'])}{why}")
        self.emit(rec, lines)


# ---------------------------------------------------------------------------------------
# Workers: the anchor endpoints and the load clients, each run as its own process
# ---------------------------------------------------------------------------------------

def say(**kw) -> None:
    print(json.dumps(kw), flush=True)


def client_context(cafile: str):
    import ssl

    return ssl.create_default_context(cafile=cafile)


def wss_connect(port: int, ctx, timeout: float, **kw):
    """wss://localhost:PORT/ws, the TCP connection made to 127.0.0.1 (the servers bind only
    there, and localhost may resolve to ::1 first)."""
    from websockets.sync.client import connect

    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return connect(f"wss://localhost:{port}/ws", sock=sock, ssl=ctx, server_hostname="localhost",
                   open_timeout=timeout, close_timeout=timeout, **kw)


def worker_recv(url: str, expect: str, timeout: str) -> None:
    """Anchor client: receive the one message, then close."""
    from websockets.sync.client import connect

    t0 = time.perf_counter()
    with connect(url, max_size=None, open_timeout=float(timeout), close_timeout=10) as ws:
        # recv_streaming, not recv: recv() refuses a message of more than 4096 fragments
        # (websockets' MAX_FRAGMENTS); streaming has no such limit and still gets it all.
        first = ws.recv_streaming()
        msg = b"".join(x.encode() if isinstance(x, str) else x for x in first)
        t1 = time.perf_counter()
        size = len(msg)
    if size != int(expect):
        say(receive_s=t1 - t0, bytes=size, error=f"got {size} bytes, expected {expect}")
        return
    say(receive_s=round(t1 - t0, 4), bytes=size)


# One retry: the anchor (websockets' asyncio server over TLS 1.3, Python 3.11) now and then
# never answers an upgrade request (about 1 connection in 100-200 here, opened back to back),
# and its 10 s open_timeout then closes it; the same client against websockets' threaded
# server or over TLS 1.2 does not see this.  So a failed connection is tried once more,
# for both sides alike, and the retries are counted and reported.

def worker_listen(port: str, cafile: str, count: str, size: str) -> None:
    """Load client: ``count`` connections one after another, each one message echoed."""
    ctx = client_context(cafile)
    text = "x" * int(size)
    echoed, errors, error_count, retried = 0, [], 0, []
    t0 = time.perf_counter()

    def once() -> None:
        with wss_connect(int(port), ctx, 10.0, max_size=None, ping_interval=None) as ws:
            ws.send(text)
            if ws.recv(timeout=10.0) != text:
                raise ValueError("echo differs")

    for i in range(int(count)):
        for attempt in (1, 2):
            try:
                once()
                echoed += 1
                break
            except Exception as exc:  # noqa: BLE001 - counted and reported
                what = f"#{i}: {type(exc).__name__}: {exc}"
                if attempt == 1:
                    retried.append(what)
                    continue
                error_count += 1
                if len(errors) < 3:
                    errors.append(what)
        say(done=i + 1, echoed=echoed, errors=errors, error_count=error_count, retries=len(retried),
            retried=retried[:3], elapsed_s=round(time.perf_counter() - t0, 3))


def worker_idle(port: str, cafile: str, count: str, probe_timeout: str) -> None:
    """Hold ``count`` upgraded connections idle, then time one more client's echo."""
    ctx = client_context(cafile)
    errors: list[str] = []
    retried: list[str] = []
    report: dict = {"upgraded": 0, "errors": errors, "served": None}
    with contextlib.ExitStack() as held:
        for i in range(int(count)):
            for attempt in (1, 2):
                try:
                    ws = held.enter_context(wss_connect(int(port), ctx, 10.0, ping_interval=None))
                    ws.close_timeout = 2  # at the end, closing 40 must not take long
                    report["upgraded"] += 1
                    break
                except Exception as exc:  # noqa: BLE001
                    what = f"#{i}: {type(exc).__name__}: {exc}"
                    if attempt == 1:
                        retried.append(what)
                    elif len(errors) < 3:
                        errors.append(what)
            report.update(error_count=i + 1 - report["upgraded"], retries=len(retried), retried=retried[:3])
            say(**report)
        limit = float(probe_timeout)  # the 41st: no retry, it is what is measured
        t0 = time.perf_counter()
        try:
            with wss_connect(int(port), ctx, limit, ping_interval=None) as ws:
                ws.send("probe")
                left = limit - (time.perf_counter() - t0)
                ok = left > 0 and ws.recv(timeout=left) == "probe"
                t1 = time.perf_counter()
            report.update(served=ok, probe_s=round(t1 - t0, 4))
        except Exception as exc:  # noqa: BLE001
            report.update(served=False, probe_s=round(time.perf_counter() - t0, 4),
                          probe_error=f"{type(exc).__name__}: {exc}")
        say(**report)
    say(**report, closed=True)


def worker_echo_server(cert: str, key: str) -> None:
    """Anchor server: a minimal websockets asyncio echo server over TLS on 127.0.0.1."""
    import asyncio
    import ssl

    from websockets.asyncio.server import serve

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)

    async def echo(ws) -> None:
        async for message in ws:
            await ws.send(message)

    async def main() -> None:
        stop = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
        async with serve(echo, "127.0.0.1", 0, ssl=ctx) as server:
            port = server.sockets[0].getsockname()[1]
            print(f"anchor echo server: bound to 127.0.0.1:{port}", file=sys.stderr, flush=True)
            await stop

    asyncio.run(main())


WORKERS = {"recv": worker_recv, "listen": worker_listen, "idle": worker_idle,
           "echo-server": worker_echo_server}


# ---------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------

def machine_info(argv: list[str], env: dict, cwd: str) -> dict:
    """The machine, the Python, and which wssviz the children import (its folder and git
    commit: PYTHONPATH may point the children at another checkout than this script's)."""
    def run(*cmd: str, where: str | None = None) -> str | None:
        try:
            return subprocess.run(list(cmd), capture_output=True, text=True, timeout=30, check=True,
                                  env=env, cwd=where or cwd).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    wssviz_file = run(sys.executable, "-c", "import wssviz; print(wssviz.__file__)")
    source = str(Path(wssviz_file).resolve().parent.parent) if wssviz_file else None
    commit = dirty = None
    if source:
        commit = run("git", "-C", source, "rev-parse", "--short", "HEAD")
        dirty = bool(run("git", "-C", source, "status", "--porcelain", "--untracked-files=no"))
    try:
        import websockets

        ws_version = websockets.__version__
    except ImportError:
        ws_version = "not installed"
    return {
        "measurement": "machine", "platform": platform.platform(), "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "websockets": ws_version, "wssviz_source": source, "wssviz_commit": commit,
        "wssviz_uncommitted_changes": dirty,
        "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "rerun": " ".join(["python benchmarks/bench_scale.py", *argv]),
    }


def machine_lines(m: dict) -> list[str]:
    return [
        "wssviz scale benchmark (ratios against anchors measured in the same run)",
        f"machine: {m['platform']}, {m['cores']} cores ({m['usable_cores']} usable), "
        f"Python {m['python']}, websockets {m['websockets']}",
        f"wssviz: commit {m['wssviz_commit'] or 'unknown'}"
        + (" with uncommitted changes" if m["wssviz_uncommitted_changes"] else "")
        + f", imported from {m['wssviz_source'] or '(wssviz does not import!)'}",
        f"started: {m['started']}",
        f"rerun: {m['rerun']}",
    ]


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("measurements", nargs="*", metavar="NAME",
                   help=f"which to run, any of: {', '.join(ALL)} (default: all)")
    p.add_argument("--repeat", type=int, default=3, help="runs of each side (default 3)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds a run may take (default 120)")
    p.add_argument("--fragments", default="50000,100000,200000",
                   help="fragment counts N, comma-separated (default 50000,100000,200000)")
    p.add_argument("--size-mib", type=float, default=60.0, help="the memory message's size (default 60)")
    p.add_argument("--max-output-mb", type=float, default=2000.0,
                   help="stop a wssviz run whose stdout passes this many MB (default 2000)")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per measurement on stdout (the text report goes to stderr)")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (outputs, logs)")
    args = p.parse_args(argv)
    unknown = [m for m in args.measurements if m not in ALL]
    if unknown:
        p.error(f"unknown measurement(s): {', '.join(unknown)} (choose from {', '.join(ALL)})")
    args.measurements = [m for m in ALL if m in args.measurements] if args.measurements else list(ALL)
    try:
        args.fragments = [int(x.replace("_", "")) for x in args.fragments.split(",") if x.strip()]
    except ValueError:
        p.error("--fragments takes comma-separated integers")
    if any(n < 2 for n in args.fragments) or args.repeat < 1 or args.timeout <= 0:
        p.error("need N >= 2, --repeat >= 1 and --timeout > 0")
    return args


def main(argv: list[str]) -> int:
    if argv[:1] == ["_worker"]:
        WORKERS[argv[1]](*argv[2:])
        return 0
    args = parse_args(argv)
    stream = sys.stderr if args.json else sys.stdout

    def report(line: str) -> None:
        print(line, file=stream, flush=True)

    bench = Bench(args, report)
    machine = machine_info(argv, bench.env, bench.tmp)
    if args.json:
        print(json.dumps(machine), flush=True)
    for line in machine_lines(machine):
        report(line)
    report(f"repeats: {args.repeat} (interleaved wssviz/anchor), timeout per run: {args.timeout:g} s, "
           f"output limit: {args.max_output_mb:g} MB; peak RSS of a client: ru_maxrss from os.wait4 "
           f"on that child, via a small launcher; servers: VmRSS/VmHWM from /proc")
    report(f"work folder: {bench.tmp}" + (" (kept)" if args.keep else " (removed at the end)"))
    t0 = time.perf_counter()
    try:
        bench.make_cert()
        bench.warm_up()
        for name in args.measurements:
            getattr(bench, name)()
    finally:
        if not args.keep:
            import shutil

            shutil.rmtree(bench.tmp, ignore_errors=True)
    report("")
    report(f"done in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
