"""Sessions for the interface tests.

``recorded_steps()`` is the default session as ``wssviz run --record`` saved it
once (``ui_default.json`` beside this file), rebuilt through the dissector as a
replay is: snapshot and Pilot tests never drive a live pair.

``ws_frame`` makes a frame step from real bytes through the dissector's own
WebSocket layer, for what the default session does not carry: a 16 MiB frame
(``big_frame_step``) and a peer-chosen close reason (``with_close_reason``).
``SlowLive`` makes steps only on demand, like the live pair, with a delay, a
gate and an injected failure.
"""

from __future__ import annotations

import struct
import threading
from pathlib import Path

from wssviz import scenarios
from wssviz.core import frames as wf
from wssviz.core.msg import Msg
from wssviz.dissect import dissect
from wssviz.dissect.app import AppLayer
from wssviz.dissect.build import StepMaker
from wssviz.recording import load
from wssviz.session import StepList
from wssviz.steps import Step

MASK = bytes.fromhex("37fa213d")


def ws_frame(index: int, direction: str, opcode: int, payload: bytes, masked: bool,
             *, time: float | None = None) -> Step:
    """The dissector's step for one frame (after an upgrade), made from its real bytes."""
    frame = wf.serialize(wf.Frame(opcode, payload, mask_key=MASK if masked else None))
    maker = StepMaker()
    maker.count = index
    app = AppLayer("ws", maker)
    app.upgraded()
    steps = app.feed(direction, frame, frame, index * 0.001 if time is None else time)
    assert len(steps) == 1 and steps[0].kind == "ws.frame", steps
    return steps[0]


def big_frame_step(index: int, size: int = 16 << 20) -> Step:
    """A masked binary frame carrying ``size`` bytes (64-bit length form)."""
    payload = bytes((i * 7) & 0xFF for i in range(256)) * (size // 256)
    return ws_frame(index, "c2s", 0x2, payload, True)


RECORDING = Path(__file__).with_name("ui_default.json")


def recorded_steps() -> list[Step]:
    """The default session (``wssviz run``, TLS 1.3), as recorded once."""
    return dissect(load(str(RECORDING)))


def with_close_reason(steps: list[Step], reason: str) -> list[Step]:
    """``steps`` with the client's close frame replaced by one carrying ``reason``."""
    out = list(steps)
    for i, s in enumerate(out):
        if s.kind == "ws.frame" and s.direction == "c2s" and s.raw("ws.frame.opcode") == 8:
            out[i] = ws_frame(i, "c2s", 0x8, struct.pack("!H", 1000) + reason.encode(), True, time=s.time)
    return out


SEED = "seed-example"


def replay(steps: list[Step] | None = None, title: str | Msg | None = None) -> StepList:
    """The recorded default session, titled as ``wssviz replay`` titles it."""
    seed = scenarios.load(SEED)
    if title is None:
        title = Msg("session.replay", path=RECORDING.name, name=SEED,
                    title=Msg("scenario.part", name=SEED, part="title", default=seed.title))
    return StepList(steps if steps is not None else recorded_steps(), title=title,
                    goal=Msg("scenario.part", name=SEED, part="goal", default=seed.goal), name=SEED)


class SlowLive:
    """A live-like session over known steps: ``ensure`` blocks until released.

    It stands in for the live pair's timing (steps exist only once asked for),
    so tests can check the interface stays responsive while a step is made.
    """

    def __init__(self, steps: list[Step], delay: float = 0.0, fail_at: int | None = None) -> None:
        self._all = steps
        self._steps: list[Step] = []
        self.title = "slow live"
        self.goal = "steps made on demand"
        self.delay = delay
        self.fail_at = fail_at
        self.gate = threading.Event()
        self.gate.set()
        self.calls: list[int] = []
        self.restarts = 0

    @property
    def steps(self) -> list[Step]:
        return self._steps

    @property
    def finished(self) -> bool:
        return len(self._steps) >= len(self._all)

    def ensure(self, index: int) -> int:
        self.calls.append(index)
        self.gate.wait(10)
        while len(self._steps) <= index and not self.finished:
            if self.fail_at is not None and len(self._steps) == self.fail_at:
                raise ConnectionResetError("peer went away")
            if self.delay:
                threading.Event().wait(self.delay)
            self._steps.append(self._all[len(self._steps)])
        return len(self._steps)

    def restart(self) -> None:
        self.restarts += 1
        self._steps = []
