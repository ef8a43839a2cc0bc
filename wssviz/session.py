"""The face a Source shows to views: a growing list of Steps.

Views hold a ``Session`` and ask for steps by index.  A live session performs the
next protocol action only when a view asks for a step it has not yet produced
(``ensure``); a replayed session has all its steps at once.  Views never see
bytes being parsed: they get Steps.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any, Callable, Protocol, runtime_checkable

from wssviz.steps import Msg, Step


@runtime_checkable
class Session(Protocol):
    title: Msg | str  # what is being shown, e.g. "seed-example: ... (live, TLS 1.3)", in words
    goal: Msg | str  # one line: what this session sets out to show
    name: str  # the scenario's name ("seed-example"), "connect", "replay", ...

    @property
    def steps(self) -> list[Step]:
        """The steps produced so far (history; never rewritten)."""

    @property
    def finished(self) -> bool:
        """True once no further step can come."""

    def ensure(self, index: int) -> int:
        """Drive the source until step ``index`` exists or the session ends.

        Returns the number of steps now known.  Blocking: views call it from a
        worker thread.  Never raises for protocol trouble: that becomes an
        ``error`` step.
        """

    def restart(self) -> None:
        """Start over: a live session opens a new connection."""


class StepList:
    """A finished session: a list of steps already built (replay, import)."""

    def __init__(self, steps: list[Step], title: Msg | str = "recording", goal: Msg | str = "",
                 name: str = "recording") -> None:
        self._steps = list(steps)
        self.title = title
        self.goal = goal
        self.name = name

    @property
    def steps(self) -> list[Step]:
        return self._steps

    @property
    def finished(self) -> bool:
        return True

    def ensure(self, index: int) -> int:
        return len(self._steps)

    def restart(self) -> None:
        pass


ALL = 1 << 62  # "every step": an index no session reaches

_later: "weakref.WeakSet[threading.Timer]" = weakref.WeakSet()  # every piece of work ``later`` started
#: Set when the program is about to exit: work that reads ahead (a replay's index) stops
#: at its next event instead of making the exit wait for it.
STOPPING = threading.Event()


def later(delay: float, work: Callable[..., Any], *args: Any) -> threading.Timer:
    """Run ``work(*args)`` on a daemon thread ``delay`` seconds from now: work a session
    does by itself, ahead of what a view asks (loading code, reading a recording)."""
    timer = threading.Timer(delay, work, args=args)
    timer.daemon = True
    _later.add(timer)
    timer.start()
    return timer


def settle(timeout: float = 5.0) -> None:
    """Before the program exits: cancel the ``later`` work that has not begun and wait
    (up to ``timeout`` seconds in all) for the work under way.  A daemon thread still
    at work when the interpreter shuts down is stopped wherever it is; inside
    cryptography's Rust code (loading or parsing certificates) that aborts the
    process ("FATAL: exception not rethrown") instead of letting it exit."""
    STOPPING.set()
    deadline = time.monotonic() + timeout
    try:
        for timer in list(_later):
            timer.cancel()
            timer.join(max(deadline - time.monotonic(), 0))
    finally:
        STOPPING.clear()  # (a test, or a program that goes on, may open sessions again)


class GrowingSession:
    """A session whose steps appear as its source is read or driven, never ahead of
    what a view asks for.  Subclasses say how to ``_advance`` by one move; hooks run
    around each ``ensure`` (``_resume``/``_pause`` under the lock, ``_after_ensure``
    outside it)."""

    title: Msg | str = ""
    goal: Msg | str = ""
    name: str = ""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._steps: list[Step] = []
        self._finished = False

    @property
    def steps(self) -> list[Step]:
        return self._steps

    @property
    def finished(self) -> bool:
        return self._finished

    def ensure(self, index: int) -> int:
        with self._lock:
            self._resume()
            while len(self._steps) <= index and not self._finished:
                self._advance()
            self._pause()
        self._after_ensure()
        return len(self._steps)

    def forget(self, index: int) -> None:
        """Step ``index`` has been shown for good (a printed walkthrough): let it go."""
        with self._lock:
            self._steps[index] = None  # type: ignore[call-overload]

    def run_all(self) -> list[Step]:
        self.ensure(ALL)
        return self._steps

    def _advance(self) -> None:
        raise NotImplementedError

    def _resume(self) -> None:
        pass

    def _pause(self) -> None:
        pass

    def _after_ensure(self) -> None:
        pass
