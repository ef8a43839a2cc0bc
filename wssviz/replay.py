"""A recording or capture replayed as a Session, rebuilt through Dissect as it is read.

The first steps are ready as soon as their events are dissected (step 0, the TCP
connection, needs no TLS code at all), so a view shows them at once; the rest is
dissected in a background thread straight after, so stepping on never waits for
the first use of the TLS and certificate code.  The Capture is kept, so a replay
can be exported again.
"""

from __future__ import annotations

import threading

from wssviz.capture import Capture
from wssviz.session import ALL, GrowingSession, later


REST_AFTER = 0.25  # seconds between the first steps asked for and dissecting the rest


class CaptureReplay(GrowingSession):
    def __init__(self, capture: Capture, title: str = "recording", goal: str = "") -> None:
        super().__init__()
        self.capture = capture
        self.title = title
        self.goal = goal
        self._next = 0  # the next event to dissect
        self._dissector = None
        self._rest: threading.Timer | None = None

    def _after_ensure(self) -> None:
        if self._rest is None and not self._finished:
            # A moment later, so that a view paints what it asked for before the TLS
            # and certificate code loads (which holds the interpreter for ~0.1 s).
            self._rest = later(REST_AFTER, self.ensure, ALL)

    def restart(self) -> None:
        """A replay has nothing to redo: its steps stay as they are."""

    def _advance(self) -> None:
        if self._dissector is None:
            from wssviz.dissect import Dissector

            self._dissector = Dissector(self.capture)
        events = self.capture.events
        try:
            if self._next < len(events):
                self._steps.extend(self._dissector.feed(events[self._next]))
                self._next += 1
                return
            self._steps.extend(self._dissector.finish())
        except Exception as exc:  # noqa: BLE001 - a bug, wherever it runs, is a step, not a lost thread
            self._steps.append(self._dissector.crash(exc))
        self._finished = True
