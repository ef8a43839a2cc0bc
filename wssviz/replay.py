"""A recording or capture replayed as a Session, rebuilt through Dissect as it is read.

``CaptureReplay`` dissects each event when its steps are asked for, in order: a
printout (``--plain``, ``--json``) takes each step and lets it go.  ``LazyReplay`` is
the interface's: an index read in the background, whole steps rebuilt from
checkpoints as they are shown (step 0, the TCP connection, needs no TLS code at all,
so the first screen does not wait for it).  Both keep the Capture, so a replay can be
exported again.
"""

from __future__ import annotations

import bisect
import gc
import threading

from wssviz.capture import Capture
from wssviz.session import ALL, STOPPING, GrowingSession, later


REST_AFTER = 0.25  # seconds between the first steps asked for and indexing the rest


class CaptureReplay(GrowingSession):
    """``events``: an iterator to read them from instead of the Capture's list (a
    recording read as it is printed, ``recording.open_recording``); a fault the file
    holds further on is raised from ``ensure`` (it is the command's to say), a fault
    of the dissector is a step."""

    def __init__(self, capture: Capture, title: str = "recording", goal: str = "", events=None) -> None:
        super().__init__()
        self.capture = capture
        self.title = title
        self.goal = goal
        self._next = 0  # the next event to dissect
        self._events = events
        self._dissector = None

    def restart(self) -> None:
        """A replay has nothing to redo: its steps stay as they are."""

    def _advance(self) -> None:
        if self._dissector is None:
            from wssviz.dissect import Dissector

            self._dissector = Dissector(self.capture)
        if self._events is not None:
            event = next(self._events, None)
        else:
            events = self.capture.events
            event = events[self._next] if self._next < len(events) else None
        try:
            if event is not None:
                self._steps.extend(self._dissector.feed(event))
                self._next += 1
                return
            self._steps.extend(self._dissector.finish())
        except Exception as exc:  # noqa: BLE001 - a bug, wherever it runs, is a step, not a lost thread
            self._steps.append(self._dissector.crash(exc))
        self._finished = True


# --- a long session: an index of outlines, full steps rebuilt from checkpoints ----------

#: Events between two checkpoints: a step is rebuilt from the checkpoint before it, so
#: this bounds the work of showing any step (~0.1 ms an event), and the checkpoints'
#: cost (a copy of the dissector's state each, ~3 ms) stays small against the index.
CHECKPOINT_EVERY = 400
#: Windows (the full steps between two checkpoints) kept at once.
WINDOWS_KEPT = 6


class _Checkpoint:
    __slots__ = ("event", "step", "dissector")

    def __init__(self, event: int, step: int, dissector) -> None:
        self.event, self.step, self.dissector = event, step, dissector


class LazySteps:
    """The steps of a ``LazyReplay`` as a sequence: ``len`` is what the index has
    found so far; ``[i]`` is the whole step, rebuilt (with its window) from the
    checkpoint before it when it is not among the windows kept; ``outline(i)`` is what
    the index knows of it (kind, direction, title, status), at no cost."""

    def __init__(self, replay: "LazyReplay") -> None:
        self._r = replay

    def __len__(self) -> int:
        return len(self._r._outlines)

    def outline(self, index: int):
        return self._r._outlines[index]

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(index)
        return self._r._full(index)


class LazyReplay:
    """A recording or capture for an interface, however long: opening it costs the
    first step only.  A background pass dissects it in outline (``Dissector(skim=True)``:
    WebSocket frames without their fields) to learn how many steps there are and what
    each is, and keeps a copy of the dissector's state every ``CHECKPOINT_EVERY``
    events.  A view asking for step ``i`` gets it whole: the events from the checkpoint
    before it are dissected again in full, and that window of steps is kept (the last
    ``WINDOWS_KEPT`` windows), so reaching step 100,000 costs what reaching step 1 does,
    and memory holds outlines and checkpoints, not every field of every step."""

    name = ""

    def __init__(self, capture: Capture, title: str = "recording", goal: str = "", events=None) -> None:
        from wssviz.dissect import Dissector

        self.capture = capture
        # a recording read as it is indexed (``recording.RecordingEvents``): its events
        # join the Capture as they are read; None once the file is read to its end
        self._source = events
        #: what a file found faulty further on said (the index ends there)
        self.fault: str | None = None
        self.title = title
        self.goal = goal
        self._lock = threading.Lock()  # the index pass
        self._build = threading.Lock()  # rebuilding windows
        self._skim = Dissector(capture, skim=True)
        self._next = 0  # the next event the index reads
        self._finished = False
        self._outlines: list = []
        self._checkpoints: list[_Checkpoint] = []
        self._windows: dict[int, list] = {}  # checkpoint number → its full steps
        self._rest: threading.Timer | None = None
        self._steps = LazySteps(self)

    @property
    def steps(self) -> LazySteps:
        return self._steps

    @property
    def finished(self) -> bool:
        return self._finished

    @property
    def progress(self) -> tuple[int, int, str]:
        """(done, all, unit): what a view says while the index reads ahead: events read of
        all (``"events"``), or, for a recording still being read from its file, bytes
        (``"bytes"``)."""
        source = self._source
        if source is not None:
            return min(source.position, source.size), source.size, "bytes"
        return self._next, len(self.capture.events), "events"

    @property
    def complete(self) -> bool:
        """Every event is read from the file (the Capture holds them all)."""
        return self._source is None

    def restart(self) -> None:
        """A replay has nothing to redo: its steps stay as they are."""

    def run_all(self) -> LazySteps:
        self.ensure(ALL)
        return self._steps

    def ensure(self, index: int) -> int:
        """Index until step ``index`` is known or the session ends (the lock is let go
        between events, so a view can rebuild a window meanwhile)."""
        while not STOPPING.is_set():
            with self._lock:
                if len(self._outlines) > index or self._finished:
                    break
                self._advance()
        if self._rest is None and not self._finished:
            self._rest = later(REST_AFTER, self.ensure, ALL)
        return len(self._outlines)

    def _advance(self) -> None:
        events = self.capture.events
        i = self._next
        if i == len(events) and self._source is not None:
            from wssviz.recording import RecordingError

            try:
                events.append(next(self._source))
            except StopIteration:
                self._source = None
            except RecordingError as exc:  # the file's fault: the index ends where it is
                self._source = None
                self.fault = str(exc)
        try:
            if i < len(events):
                if i % CHECKPOINT_EVERY == 0:
                    self._checkpoints.append(_Checkpoint(i, len(self._outlines), self._skim.checkpoint()))
                self._outlines.extend(self._skim.feed(events[i]))
                self._next += 1
                return
            self._outlines.extend(self._skim.finish())
        except Exception as exc:  # noqa: BLE001 - a bug is a step, not a lost thread
            self._outlines.append(self._skim.crash(exc))
        self._finished = True
        # what the index holds lives as long as the view: out of the collector's reach
        gc.freeze()

    def _full(self, index: int):
        """Step ``index`` whole, from the window that holds it (dissected from its
        checkpoint only as far as asked: the first step needs only the first event)."""
        with self._build:
            points = self._checkpoints
            lo = bisect.bisect_right(points, index, key=lambda p: p.step) - 1  # the last at or before it
            window = self._windows.pop(lo, None)  # (put back last: the most recently used)
            if window is None:
                window = _Window(points[lo], self)
            self._windows[lo] = window
            while len(self._windows) > WINDOWS_KEPT:
                self._windows.pop(next(iter(self._windows)))
            return window.step(index)


class _Window:
    """The whole steps between two checkpoints, dissected as far as they were asked for."""

    __slots__ = ("dissector", "replay", "events", "next", "end", "first", "steps", "finished")

    def __init__(self, point: _Checkpoint, replay: LazyReplay) -> None:
        self.dissector = point.dissector.checkpoint(skim=False)
        self.replay = replay
        self.events = replay.capture.events  # (still growing while a file is read)
        self.next = point.event
        self.end = point.event + CHECKPOINT_EVERY  # the next checkpoint
        self.first = point.step
        self.steps: list = []
        self.finished = False

    def step(self, index: int):
        d = self.dissector
        events = self.events
        try:
            while self.first + len(self.steps) <= index:
                if self.next < min(self.end, len(events)):
                    self.steps += d.feed(events[self.next])
                    self.next += 1
                elif self.next == len(events) and self.replay.complete and not self.finished:
                    self.finished = True  # the session's end: what the index found after the last event
                    self.steps += d.finish()
                else:
                    break
        except Exception as exc:  # noqa: BLE001 - the same crash step the index made
            self.steps.append(d.crash(exc))
            self.next = self.end
        return self.steps[index - self.first]
