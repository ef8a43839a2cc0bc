"""How long a whole live session takes, in-process and as a command.

    python benchmarks/bench_session.py

Prints the median of N in-process sessions (TLS 1.3 and 1.2), the first session
of a fresh process (which pays for loading the name tables), and the wall time of
`wssviz run --json` as a command.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time


def main(n: int = 20) -> None:
    t0 = time.perf_counter()
    from wssviz.live.pair import LiveSession
    from wssviz.live.settings import Settings

    t1 = time.perf_counter()
    LiveSession(Settings()).run_all()
    t2 = time.perf_counter()
    print(f"import wssviz.live.pair: {1000 * (t1 - t0):.1f} ms; first session: {1000 * (t2 - t1):.1f} ms")
    for version in ("1.3", "1.2"):
        times = []
        for _ in range(n):
            a = time.perf_counter()
            steps = LiveSession(Settings(tls_version=version)).run_all()
            times.append(time.perf_counter() - a)
        print(f"TLS {version}: {len(steps)} steps, median {1000 * statistics.median(times):.1f} ms, "
              f"max {1000 * max(times):.1f} ms over {n} sessions")
    walls = []
    for _ in range(5):
        a = time.perf_counter()
        subprocess.run([sys.executable, "-m", "wssviz", "run", "--json"], check=True,
                       stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - a)
    print(f"`wssviz run --json` as a command: median {1000 * statistics.median(walls):.0f} ms (5 runs)")


if __name__ == "__main__":
    main()
