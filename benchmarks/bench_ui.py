"""Interface benchmark: time to first screen, and key press to updated screen.

Run from the repository root:

    python benchmarks/bench_ui.py [--runs 15] [--presses 300] [--only first|keys]

1. Time to first screen.  Each run is a fresh Python process started through the
   real entry point (``python -m wssviz``, ``python -m wssviz replay FILE``,
   ``python -m wssviz.ui.app STEPS.jsonl``), with ``App.run`` forced headless at
   160x48 and every screen update rendered to terminal output and written (to
   ``/dev/null``), as a terminal driver would.  Times run from the moment the
   process was spawned (both sides read the system-wide monotonic clock) to:

   - the screen's content complete: the first update after which nothing on the
     screen changes until it goes quiet for 150 ms.  After the run each update is
     drawn on a grid of cells (character and style), so a "working…" frame, or a
     frame that a later update corrects, does not count; repaints of what is
     already there (Textual repaints the whole screen once or twice in the 20-35
     ms after its first layout) do not delay it.  This is the first screen.
   - the last update written before the screen goes quiet (the figure reported
     before the grid existed; it includes those repaints);
   - the first update that shows the session's first step.

   Runs alternate between: a minimal Textual app (one Static), the interface on a
   file of steps (``ui``), ``wssviz replay`` of a recording (dissection included),
   and ``wssviz`` on the live default session (the live pair makes the first
   step).  Goal: at most 1.25 × minimal.

2. Key press to updated screen.  In one process on the replayed default session
   plus a step whose frame carries 16 MiB (160x48): a key event is posted to the
   app, and the time runs until the last screen update caused by it has been
   rendered and written (no update for 40 ms after it).  Animations are off so
   that "updated" has an end (the tab underline would otherwise slide for
   ~0.3 s after the content is on screen); the first update is reported too.
   Right through the whole session, onto / on / away from the 16 MiB step,
   Tab through the panes, Left back.  Goal: p95 under 16 ms.  The collector is set
   up as ``run_app`` sets it up.  Three rhythms: "reading" pauses 0.6 s before each
   press (a person reads between steps, and the interface uses such pauses to get
   what may come next ready and to collect garbage), "skimming" 0.25 s (that work
   has only begun), "held" 10 ms (a key held down: nothing is prepared ahead).
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
sys.path[:0] = [str(ROOT), str(TESTS)]

QUIET = 0.15  # seconds without a screen update that mean "the screen is settled"

#: The child: patch App.run (headless, 160x48) and App._display (write the update
#: out) as soon as ``textual.app`` is imported, then run the real entry point with
#: runpy.  Textual is imported by the program itself, as it is when a person runs it
#: (wssviz holds the cyclic collector off during its start-up; importing Textual
#: here first would hide that).
CHILD = r"""
import importlib.machinery, os, runpy, sys, threading, time

kind, argv, quiet = sys.argv[1], sys.argv[2:], {quiet!r}
sink = open(os.devnull, "w")
state = {{"last": None, "step": None, "painted": None, "updates": []}}

def settled(app, updates):
    # When the screen first showed what it shows once it is quiet: each update is
    # drawn on a grid of cells (character and style), after the measurement is over.
    from rich.cells import cell_len
    from rich.segment import ControlType
    width, height = app.size
    grid = [[None] * width for _ in range(height)]
    console, shots = app.console, []
    for when, update in updates:
        x = y = 0
        for seg in update.__rich_console__(console, console.options):
            if seg.control:
                for code in seg.control:
                    if code[0] == ControlType.CURSOR_MOVE_TO:
                        x, y = code[1], code[2]
                continue
            for ch in seg.text:
                if ch == "\n" or not 0 <= y < height:
                    continue
                w = cell_len(ch)
                if 0 <= x < width:
                    grid[y][x] = (ch, seg.style)
                    if w == 2 and x + 1 < width:
                        grid[y][x + 1] = ("", seg.style)
                x += w
        shots.append((when, tuple(tuple(row) for row in grid)))
    final = shots[-1][1]
    return next(when for when, shot in shots if shot == final)

def ready(app):
    if kind == "minimal":
        return True
    screen = getattr(app, "main_screen", None)
    return screen is not None and screen.index >= 0

def watch(app):
    deadline = time.perf_counter() + 30
    while time.perf_counter() < deadline:
        time.sleep(0.005)
        last = state["last"]
        if state["painted"] is None and last is not None and time.perf_counter() - last > quiet:
            state["painted"] = last
        if state["painted"] is not None and state["step"] is not None:
            done = settled(app, [u for u in state["updates"] if u[0] <= state["painted"]])
            sys.stdout.write(f"painted {{state['painted']!r}} {{state['step']!r}} {{done!r}}\n")
            sys.stdout.flush()
            break
    app.call_from_thread(app.exit)

def patch(App):
    from textual._compositor import CompositorUpdate
    _display, _run = App._display, App.run

    def display(self, screen, renderable):
        _display(self, screen, renderable)
        if isinstance(renderable, CompositorUpdate) and not self._batch_count:
            sink.write(renderable.render_segments(self.console))
            sink.flush()
            now = time.perf_counter()
            if state["painted"] is None:
                state["last"] = now
                state["updates"].append((now, renderable))
            if state["step"] is None and ready(self):
                state["step"] = now

    def run(self, *args, **kw):
        kw.update(headless=True, size=(160, 48))
        threading.Thread(target=watch, args=(self,), daemon=True).start()
        return _run(self, *args, **kw)

    App._display, App.run = display, run

class Hook:  # patches textual.app's App the moment that module has run
    def find_spec(self, name, path, target=None):
        if name != "textual.app":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run_module = spec.loader.exec_module
        def exec_module(module):
            run_module(module)
            patch(module.App)
        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, Hook())
if kind == "minimal":
    from textual.app import App
    from textual.widgets import Static
    class Minimal(App):
        def compose(self):
            yield Static("hello")
    Minimal().run()
else:
    sys.argv = argv
    runpy.run_module(argv[0], run_name="__main__", alter_sys=True)
"""


def first_screen(kind: str, argv: list[str]) -> tuple[float, float, float]:
    """Seconds from spawning a fresh process to: the last update written before the
    screen first went quiet, the first update that showed the session's first step,
    and the first update after which the screen showed what it shows when quiet."""
    code = CHILD.format(quiet=QUIET)
    env = dict(os.environ, TEXTUAL_ANIMATIONS="none", PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, kind, *argv], stdout=subprocess.PIPE,
                            text=True, cwd=str(ROOT), env=env)
    line = proc.stdout.readline()
    proc.wait(timeout=30)
    if not line.startswith("painted "):
        raise RuntimeError(f"{kind}: the child did not report its first screen")
    _, painted, step, complete = line.split()
    return float(painted) - t0, float(step) - t0, float(complete) - t0


def pct(values: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank)."""
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


async def key_latencies(presses: int, gap: float) -> dict[str, list[tuple[float, float]]]:
    """(first update, settled update) seconds per key, by bucket."""
    from textual import events
    from textual._compositor import CompositorUpdate

    from ui_fixtures import big_frame_step, recorded_steps
    from wssviz.session import StepList
    from wssviz.ui.app import GC_THRESHOLD, WssvizApp

    from wssviz.ui.widgets.sections import forget_rendered

    forget_rendered()  # each rhythm starts with nothing rendered yet
    gc.freeze()  # as run_app does
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    steps = recorded_steps()
    steps.append(big_frame_step(len(steps)))
    app = WssvizApp(StepList(steps, title="bench"))
    app.animation_level = "none"
    sink = open(os.devnull, "w")
    shown: list[float] = []  # when each screen update had been written
    original = app._display

    def display(screen, renderable):
        original(screen, renderable)
        if isinstance(renderable, CompositorUpdate) and not app._batch_count:
            sink.write(renderable.render_segments(app.console))
            sink.flush()
            shown.append(time.perf_counter())

    app._display = display  # type: ignore[method-assign]
    out: dict[str, list[tuple[float, float]]] = {"all": []}
    keys = {"right": None, "left": None, "tab": "\t", "5": "5", "0": "0"}

    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(0.5)

        async def press(key: str, bucket: str) -> None:
            await asyncio.sleep(gap)
            shown.clear()
            t0 = time.perf_counter()
            app.post_message(events.Key(key, keys[key]))
            while True:
                await asyncio.sleep(0.001)
                now = time.perf_counter()
                if shown and now - shown[-1] > 0.04:
                    break
                if now - t0 > 3:
                    raise RuntimeError(f"{key}: the screen did not change")
            sample = (shown[0] - t0, shown[-1] - t0)
            out["all"].append(sample)
            out.setdefault(bucket, []).append(sample)

        n = 0
        big = len(steps) - 1  # the 16 MiB step's index
        while n < presses:
            for _ in range(big - 1):  # step 0 → the step before the 16 MiB one
                await press("right", "right")
            await press("right", "onto 16 MiB")
            await press("5", "on 16 MiB")  # its hex pane
            await press("tab", "on 16 MiB")
            await press("left", "away 16 MiB")
            for _ in range(5):
                await press("tab", "tab")
            await press("0", "tab")  # back to the pane each step brings (a choice sticks)
            for _ in range(big - 1):
                await press("left", "left")
            n += big - 1 + 4 + 6 + big - 1
    return out


def make_recording(folder: str) -> str:
    path = os.path.join(folder, "bench-recording.json")
    subprocess.run([sys.executable, "-m", "wssviz", "run", "--json", "--record", path],
                   cwd=str(ROOT), check=True, stdout=subprocess.DEVNULL)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--presses", type=int, default=250)
    ap.add_argument("--only", choices=("first", "keys"))
    args = ap.parse_args()
    result: dict[str, object] = {}

    if args.only != "keys":
        # An installed package has its bytecode compiled; a checkout gets it on its first
        # run unless PYTHONDONTWRITEBYTECODE is set (it is on some machines): compile it
        # once, so each run measures start-up and not the compiler.
        compileall.compile_dir(str(ROOT / "wssviz"), quiet=1)
        with tempfile.TemporaryDirectory() as tmp:
            kinds = {
                "minimal": [],
                "ui": ["wssviz.ui.app", str(TESTS / "ui_default.jsonl")],
                "replay": ["wssviz", "replay", make_recording(tmp)],
                "live": ["wssviz"],
            }
            first_screen("minimal", [])  # warm the file cache once
            quiet = {k: [] for k in kinds}  # the last update before the screen went quiet
            complete = {k: [] for k in kinds}  # the screen's content complete
            steps = {k: [] for k in kinds}
            for _ in range(args.runs):
                for kind, argv in kinds.items():
                    painted, step, done = first_screen(kind, argv)
                    quiet[kind].append(painted)
                    steps[kind].append(step)
                    complete[kind].append(done)
        print(f"time to first screen, median of {args.runs} runs (fresh process each, 160x48):")
        for label, times in (("content complete (the first update after which nothing on screen "
                              "changes until it goes quiet)", complete),
                             ("last update written before the screen goes quiet (Textual repaints "
                              "what is already there once or twice after its first layout)", quiet)):
            base = statistics.median(times["minimal"])
            # Each round runs every kind back to back, so a slow spell of a shared machine
            # slows the minimal app of that round too: the median of the per-round ratios
            # is the steadier figure.
            paired = {k: statistics.median(v / m for v, m in zip(vals, times["minimal"]))
                      for k, vals in times.items()}
            print(f" {label}:")
            for kind, vals in times.items():
                med = statistics.median(vals)
                print(f"  {kind:8s} {med * 1000:7.1f} ms  (min {min(vals) * 1000:6.1f}, "
                      f"max {max(vals) * 1000:6.1f})  {med / base:.2f} × minimal, "
                      f"{paired[kind]:.2f} × paired")
            key = "first_screen" if times is complete else "last_update"
            result[f"{key}_median_ms"] = {k: round(statistics.median(v) * 1000, 1)
                                          for k, v in times.items()}
            result[f"{key}_paired_ratio"] = {k: round(v, 2) for k, v in paired.items()}
        print("  first update showing the session's first step, median: " + ", ".join(
            f"{k} {statistics.median(v) * 1000:.1f} ms" for k, v in steps.items()))
        result["first_step_median_ms"] = {k: round(statistics.median(v) * 1000, 1)
                                          for k, v in steps.items()}

    if args.only != "first":
        for rhythm, gap, presses in (("reading", 0.6, args.presses), ("skimming", 0.25, args.presses),
                                     ("held", 0.01, args.presses)):
            lat = asyncio.run(key_latencies(presses, gap))
            print(f"key press → screen updated and written (160x48, settled; first update in brackets), "
                  f"{rhythm} ({gap * 1000:g} ms before each press):")
            for name, vals in lat.items():
                first = [a * 1000 for a, _ in vals]
                full = [b * 1000 for _, b in vals]
                print(f"  {name:12s} n={len(full):4d}  p50 {pct(full, 50):6.2f} ms  p95 {pct(full, 95):6.2f} ms"
                      f"  max {max(full):6.2f} ms   [p50 {pct(first, 50):5.2f}, p95 {pct(first, 95):5.2f}]")
            result[f"key_settled_ms_{rhythm}"] = {
                k: {"p50": round(pct([b * 1000 for _, b in v], 50), 2),
                    "p95": round(pct([b * 1000 for _, b in v], 95), 2)} for k, v in lat.items()}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
