"""A class on ``wssviz serve``: N students open the page at the same moment.

    python benchmarks/serve_class.py 1 5 10 20 40

For each N: a fresh ``wssviz serve`` on a free loopback port, N clients that speak
the page's protocol (a WebSocket to /ws receiving the terminal's bytes, as the
browser page does) connecting at once; printed: the time until every student sees the
first screen (median and range of the students' own times), the number of sessions
(one wssviz process each) and the resident memory of each, and the server's.  A
report, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

from websockets.sync.client import connect


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: str | int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return int(f.read().split("VmRSS:")[1].split()[0]) / 1024


def first_screen(url: str, stack: contextlib.ExitStack, timeout: float = 180) -> float:
    t = time.perf_counter()
    ws = stack.enter_context(connect(url.replace("http://", "ws://") + "ws?width=120&height=36", max_size=None))
    seen = b""
    while time.perf_counter() - t < timeout:
        try:
            got = ws.recv(timeout=1)
        except TimeoutError:
            continue
        if isinstance(got, bytes):
            seen += got
            if "TCP connection opened" in re.sub(r"\x1b\[[0-?]*[ -/]*[@-~]", "", seen.decode("utf-8", "replace")):
                return time.perf_counter() - t
    raise TimeoutError("no first screen")


def one_class(n: int) -> str:
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "wssviz", "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        times: list[float] = []
        with contextlib.ExitStack() as stack:
            lock = threading.Lock()

            def student() -> None:
                took = first_screen(url, stack)
                with lock:
                    times.append(took)

            threads = [threading.Thread(target=student) for _ in range(n)]
            t0 = time.perf_counter()
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            everyone = time.perf_counter() - t0
            time.sleep(1)
            pids = subprocess.run(["pgrep", "-g", str(os.getpgid(server.pid)), "-f", "--", "wssviz --lang"],
                                  capture_output=True, text=True).stdout.split()
            rss = [_rss_mb(p) for p in pids]
            return (f"{n} students: every first screen within {everyone:.1f} s (each {statistics.median(times):.2f} s, "
                    f"{min(times):.2f}–{max(times):.2f}); {len(pids)} sessions of {statistics.median(rss):.0f} MB "
                    f"each ({min(rss):.0f}–{max(rss):.0f}); the server {_rss_mb(server.pid):.0f} MB")
    finally:
        os.killpg(server.pid, 15)
        server.wait()


if __name__ == "__main__":
    cores = os.cpu_count()
    print(f"machine: {cores} cores, {os.getloadavg()[0]:.2f} load; Python {sys.version.split()[0]}")
    for arg in sys.argv[1:] or ["1", "5", "10", "20"]:
        print(one_class(int(arg)), flush=True)
