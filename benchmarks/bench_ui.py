"""Interface benchmark: time to first screen, and key press to updated screen.

Run from the repository root:

    python benchmarks/bench_ui.py [--runs 10] [--presses 200]

1. Time to first screen.  A fresh Python process is started for each run and
   reports when its first screen has been painted (headless driver; the painted
   update is also turned into terminal output, as a real terminal would need).
   Measured in the same run, alternating: a minimal Textual app (one Static),
   ``WssvizApp`` on the replayed default session, and ``WssvizApp`` on the live
   default session (its first step, ``tcp.connect``, made by the live pair).
   Goal: wssviz at most 1.25 × the minimal app.

2. Key press to updated screen.  In one process, keys are posted to the app and
   the time to the first screen update after them is taken (that update rendered
   to terminal output included; later updates are the tab underline sliding).  Right through the whole replayed default
   session plus a step whose frame carries 16 MiB, Left back, Tab through the
   panes, and the Hex pane on the 16 MiB step.  Goal: p95 under 16 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

CHILD = r"""
import sys, time
sys.path[:0] = [{root!r}, {tests!r}]
which = {which!r}
from textual.app import App
from textual.widgets import Static

def report(app):
    sys.stdout.write("painted\n"); sys.stdout.flush()
    app.exit()

if which == "minimal":
    class Minimal(App):
        def compose(self):
            yield Static("hello")
        def on_mount(self):
            self.call_after_refresh(report, self)
    Minimal().run(headless=True, size=(160, 48))
else:
    from wssviz.ui.app import WssvizApp
    if which == "replay":
        from ui_fixtures import replay
        session = replay()
    else:
        from wssviz.cli import live_session
        session = live_session()
    class Bench(WssvizApp):
        def on_ready(self):
            self._timer = self.set_interval(0.001, self._poll)
        def _poll(self):
            if self.main_screen.index >= 0:  # the first step is on screen
                self._timer.stop()
                self.call_after_refresh(report, self)
    Bench(session).run(headless=True, size=(160, 48))
"""


def first_screen(which: str) -> float:
    code = CHILD.format(root=str(ROOT), tests=str(ROOT / "tests"), which=which)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    t1 = time.perf_counter()
    proc.wait(timeout=30)
    if line.strip() != "painted":
        raise RuntimeError(f"{which}: child did not report its first screen")
    return t1 - t0


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


async def key_latencies(presses: int) -> dict[str, list[float]]:
    from textual import events
    from textual._compositor import CompositorUpdate

    from ui_fixtures import big_frame_step, recorded_steps
    from wssviz.session import StepList
    from wssviz.ui.app import WssvizApp

    steps = recorded_steps()
    steps.append(big_frame_step(len(steps)))
    app = WssvizApp(StepList(steps, title="bench"))
    shown: list[float] = []  # when each screen update was ready for the terminal
    original = app._display

    def display(screen, renderable):
        original(screen, renderable)
        if isinstance(renderable, CompositorUpdate):
            renderable.render_segments(app.console)
            shown.append(time.perf_counter())

    app._display = display  # type: ignore[method-assign]
    out: dict[str, list[float]] = {"all": [], "16 MiB step": []}
    keys = {"right": "", "left": "", "tab": "\t", "5": "5", "home": "", "end": ""}

    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(0.3)

        async def press(key: str, bucket: str | None = None) -> None:
            shown.clear()
            t0 = time.perf_counter()
            app.post_message(events.Key(key, keys[key] or None))
            await asyncio.sleep(0.08)  # let every consequence of the key land
            if not shown:
                raise RuntimeError(f"{key}: the screen did not change")
            # the first update after the key is the new step or pane on screen; later
            # ones are the tab underline's animation
            dt = shown[0] - t0
            out["all"].append(dt)
            if bucket:
                out.setdefault(bucket, []).append(dt)

        n = 0
        big = len(steps) - 1
        while n < presses:
            for _ in range(big):
                await press("right", "right")
                n += 1
            await press("right", "16 MiB step")  # onto the 16 MiB frame
            await press("5", "16 MiB step")  # its hex pane
            await press("tab", "16 MiB step")
            await press("left", "16 MiB step")  # away from it
            for _ in range(5):
                await press("tab", "tab")
            for _ in range(big - 1):
                await press("left", "left")
            n += big + 4 + 5 + big - 1
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--presses", type=int, default=200)
    args = ap.parse_args()

    first_screen("minimal")  # warm the file cache once
    times: dict[str, list[float]] = {"minimal": [], "replay": [], "live": []}
    for _ in range(args.runs):
        for which in times:
            times[which].append(first_screen(which))
    base = statistics.median(times["minimal"])
    print(f"time to first screen, median of {args.runs} (fresh process each):")
    for which, vals in times.items():
        med = statistics.median(vals)
        print(f"  {which:8s} {med * 1000:7.1f} ms  (min {min(vals) * 1000:.1f}, max {max(vals) * 1000:.1f})"
              f"  {med / base:.2f} × minimal")

    lat = asyncio.run(key_latencies(args.presses))
    print("key press → updated screen (160x48, render to terminal output included):")
    for name, vals in lat.items():
        ms = [v * 1000 for v in vals]
        print(f"  {name:12s} n={len(ms):4d}  p50 {pct(ms, 50):6.2f} ms  p95 {pct(ms, 95):6.2f} ms"
              f"  max {max(ms):6.2f} ms")
    print(json.dumps({"first_screen_median_s": {k: statistics.median(v) for k, v in times.items()},
                      "key_p95_ms": {k: pct([x * 1000 for x in v], 95) for k, v in lat.items()}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
