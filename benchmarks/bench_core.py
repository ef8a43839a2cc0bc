"""Masking and frame parsing on a 16 MiB payload.

    python benchmarks/bench_core.py
"""

from __future__ import annotations

import os
import statistics
import time

from wssviz.core.frames import Frame, Opcode, apply_mask, parse_frame, serialize


def timed(fn, *args, n: int = 7) -> tuple[float, float]:
    walls = []
    for _ in range(n):
        t = time.perf_counter()
        fn(*args)
        walls.append(time.perf_counter() - t)
    return min(walls), statistics.median(walls)


def main() -> None:
    data = os.urandom(16 * 2**20)
    key = bytes.fromhex("37fa213d")
    best, med = timed(apply_mask, data, key)
    print(f"apply_mask 16 MiB: best {best * 1000:.1f} ms, median {med * 1000:.1f} ms")
    raw = serialize(Frame(Opcode.BINARY, data, mask_key=key))
    best, med = timed(parse_frame, raw)
    print(f"parse_frame 16 MiB masked: best {best * 1000:.1f} ms, median {med * 1000:.1f} ms")


if __name__ == "__main__":
    main()
