"""The lazy gate shared by every live source (the pair, ``connect``).

A driven session owns a protocol script — a generator that yields after each
move of bytes and records what crossed in a Capture — and a Dissector.
``ensure(n)`` advances the script only until step ``n`` exists, so nothing is
sent before the learner gets there; every event the script records is fed to
the dissector at once, and a script that breaks becomes an ``error`` step that
keeps everything already shown.

While the learner reads the first step (the TCP connection), the code the next
steps need (TLS dissection, certificates: about 70 ms of imports) loads on a
background thread, so the first step taken after it costs only its own
protocol work.  Nothing is sent or recorded ahead of the learner.  (The warm-up
runs through ``session.later``, so ``session.settle()`` finishes it before exit.)
"""

from __future__ import annotations

import importlib
import threading
import time
from typing import Iterator, Protocol

from wssviz.capture import Capture
from wssviz.core.msg import Msg
from wssviz.dissect import Dissector
from wssviz.session import GrowingSession, later


WARM_AFTER = 0.25  # seconds between the first step asked for and loading the next steps' code


class Script(Protocol):
    def run(self) -> Iterator[None]: ...
    def now(self) -> float: ...
    def cleanup(self) -> None: ...


class DrivenSession(GrowingSession):
    """Subclasses set ``title``, ``goal`` and implement ``_new(capture) -> (Capture, Script)``."""

    driver_layer = "live pair"  # who to blame when the driver itself breaks
    driver_by = "wssviz"
    #: Step times leave out the time the learner spent reading between two steps
    #: (the script's clock, ``t0``, moves forward by each pause).  Off for a real
    #: peer, whose own clock runs on while we wait.
    pause_clock = True
    #: Modules the steps after the first will load (imported ahead, in the background).
    warm_modules: tuple[str, ...] = ("wssviz.dissect.tls", "wssviz.dissect.x509", "wssviz.dissect.app")

    def __init__(self) -> None:
        super().__init__()
        self._warm: threading.Timer | None = None
        self._start()

    def _after_ensure(self) -> None:
        if self._warm is None and not self._finished and self.capture.scheme == "wss":
            # A moment later, so that a view paints the step it asked for first.
            self._warm = later(WARM_AFTER, self._warm_up)

    def _warm_up(self) -> None:
        for name in self.warm_modules:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - the step that needs it will say what is wrong
                pass

    def _new(self) -> tuple[Capture, Script]:
        raise NotImplementedError

    def _start(self) -> None:
        self.capture, self._script = self._new()
        self.dissector = Dissector(self.capture)
        self._steps = []
        self._finished = False
        self._seen = 0
        self._paused_at: float | None = None
        self._gen = self._script.run()

    def _resume(self) -> None:
        if self.pause_clock and self._paused_at is not None and hasattr(self._script, "t0"):
            self._script.t0 += time.perf_counter() - self._paused_at
        self._paused_at = None

    def _pause(self) -> None:
        self._paused_at = time.perf_counter()

    def restart(self) -> None:
        with self._lock:
            self._script.cleanup()
            self._start()

    def _advance(self) -> None:
        try:
            next(self._gen)
        except StopIteration:
            self._finished = True
        except Exception as exc:  # the driver broke: keep what was shown, say what happened
            self.capture.add_error(self._script.now(), self.driver_layer, Msg("rule.tool.driver_failure"), "",
                                   Msg("action.session_stopped"), by=self.driver_by,
                                   detail=f"{type(exc).__name__}: {exc}")
            self._finished = True
        new = self.capture.events[self._seen:]
        self._seen = len(self.capture.events)
        try:
            for ev in new:
                self._steps.extend(self.dissector.feed(ev))
            self.capture.release()  # over its budget, the bytes just read need not stay
            if self._finished:
                self._steps.extend(self.dissector.finish())
        except Exception as exc:  # noqa: BLE001 - the dissector broke (a bug): say so, keep what was shown
            self._steps.append(self.dissector.crash(exc))
            self._finished = True
        if self._finished:
            self._script.cleanup()
            self._finish()

    def _finish(self) -> None:
        """The session is over (a subclass closes what it wrote as it went)."""
