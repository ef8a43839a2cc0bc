"""Where the learner is and where they are going, as a pure model (no Textual).

The stepping screen asks this model what a key means and does what it says: show a
step that exists, drive the session for one that does not yet, say that the session
has ended; auto-play's tick; the playing speed; and, while the learner reads, what to
get ready next (the steps either side, in the direction of travel first).  Every
decision is made here from numbers (the steps there are, whether the session can
bring more, whether a worker is busy), so it is tested without a terminal
(``tests/test_ui_navigation.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

SPEEDS = (0.5, 1.0, 2.0, 3.0, 5.0)  # seconds per step in auto-play


@dataclass(frozen=True)
class Show:
    """Show step ``index`` now (it exists)."""

    index: int


@dataclass(frozen=True)
class Drive:
    """Ask the session for steps up to ``index`` (start a worker unless one runs)."""

    index: int
    start: bool


@dataclass(frozen=True)
class AtEnd:
    """The session has no step further on: say so (a bell, a notice)."""


@dataclass(frozen=True)
class Wait:
    """Nothing to do now (the first session is still opening, a worker is busy)."""


@dataclass(frozen=True)
class StopPlaying:
    """Auto-play reached the last step of a session that brings no other."""


Move = Show | Drive | AtEnd | Wait | StopPlaying


@dataclass
class Navigator:
    index: int = -1  # the step on screen (-1: none yet)
    want: int = 0  # the step asked for
    busy: bool = False  # a worker is driving the session
    gen: int = 0  # bumped by a restart: answers from before it are stale
    speed: int = 2  # auto-play's place in SPEEDS
    playing: bool = False
    heading: int = 1  # the direction of the last move: +1 forward, -1 back
    chosen: str | None = None  # the pane the learner picked, in front on every step

    # -- moving ------------------------------------------------------------------

    def go(self, index: int, have: int, finished: bool) -> Move:
        """What asking for step ``index`` does, with ``have`` steps and the session
        ``finished`` or not."""
        index = max(index, 0)
        if index < have:
            if self.busy:
                self.want = index  # a step asked for later wins over one still being read
            return Show(index)
        if finished:
            if have and self.index != have - 1:
                return Show(have - 1)
            return AtEnd()
        self.want = index
        start = not self.busy
        self.busy = True
        return Drive(index, start)

    def next_target(self) -> int:
        """The step → asks for: one past the one asked for while a worker reads, else
        one past the one on screen."""
        return (self.want if self.busy else self.index) + 1

    def shown(self, index: int) -> None:
        if index != self.index:
            self.heading = 1 if index > self.index else -1
        self.index = index

    def arrived(self, gen: int) -> bool:
        """A worker's answer: True when it is for this generation (then the worker is done)."""
        if gen != self.gen:
            return False
        self.busy = False
        return True

    def restart(self) -> int:
        """A restart: a new generation, auto-play stopped, a worker busy with it."""
        self.gen += 1
        self.playing = False
        self.busy = True
        return self.gen

    # -- auto-play -----------------------------------------------------------------

    def at_end(self, have: int, finished: bool) -> bool:
        return finished and self.index >= have - 1

    def toggle_play(self, have: int, finished: bool) -> Move:
        if self.playing:
            self.playing = False
            return Wait()
        if self.at_end(have, finished):
            return StopPlaying()
        self.playing = True
        return Wait()

    def tick(self, have: int, finished: bool) -> Move:
        """Auto-play's beat: the next step, or stop at the end (a busy worker: wait)."""
        if not self.playing or self.busy:
            return Wait()
        if self.at_end(have, finished):
            self.playing = False
            return StopPlaying()
        return self.go(self.next_target(), have, finished)

    def faster(self, delta: int) -> float:
        """Change the speed by ``delta`` places (negative: faster); the seconds a step."""
        self.speed = min(max(self.speed + delta, 0), len(SPEEDS) - 1)
        return SPEEDS[self.speed]

    @property
    def seconds(self) -> float:
        return SPEEDS[self.speed]

    # -- getting ready -------------------------------------------------------------

    def ahead(self, have: int) -> int | None:
        """The step the next key most likely shows: one further in the direction of travel."""
        j = self.index + self.heading
        return j if self.index >= 0 and 0 <= j < have else None

    def ready_queue(self, have: int, panes: tuple[str, ...], active: str, pane_for) -> list[tuple[int, str]]:
        """What to get ready while the learner reads, in order: the pane each step
        either side brings forward, a run of the collector (``(-1, "collect")``), then
        this step's other panes.  ``pane_for(j)``: the pane step ``j`` brings."""
        i = self.index
        out = [(j, self.chosen or pane_for(j)) for j in (i + 1, i - 1) if 0 <= i and 0 <= j < have]
        out.append((-1, "collect"))
        out += [(i, p) for p in panes if p != active and i >= 0]
        return out
