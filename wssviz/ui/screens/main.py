"""The stepping screen: the ladder, the step heading, the detail panes.

Theory of operation.  ``index`` is the step on show.  Moving to a step already
produced only changes what is shown.  Moving past the last step produced asks
the session for it: ``Session.ensure`` blocks, so it runs in a thread worker
(group "drive") while the ladder shows the frontier as "working…"; repeated
presses raise the target instead of queueing workers.  The worker hands back
through ``call_from_thread`` with the generation it started in, so an answer
from before a restart is dropped.  Any exception in a worker becomes a red
status line and a notification; the app keeps running with what it has.

Only the visible pane (and the wide-screen explanation aside) is rendered on
each move; the others render when they come forward.  Every pane draws into the
same widget (``DetailView``): a pane turns a step into bands of lines once and
keeps them, so a key press swaps what that one widget shows and repaints it.
No key press mounts, hides, shows or resizes a widget, so each one costs one
frame and no layout.

The first session may still be opening when the screen mounts (``ui.opening``):
the screen waits a moment for it, so a quick opener's first step is the first
paint, and otherwise shows "working…" until it arrives.  When the learner stops
to read (``IDLE_AFTER``), the screen uses the pause, a piece per tick: it gets
ready the pane each neighbouring step will bring forward, runs the cyclic
collector, then gets ready this step's other panes; the next key press finds
them rendered and seldom meets a collection.
"""

from __future__ import annotations

import gc
import threading
from typing import Callable

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual import events
from textual.containers import Grid
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Static
from textual.worker import get_current_worker

from wssviz import explain
from wssviz.ui.model import PANES, pane_for, scheme_of
from wssviz.ui.texts import t
from wssviz.ui.widgets.accept import AcceptPane
from wssviz.ui.widgets.base import Pane, View
from wssviz.ui.widgets.detail import Band
from wssviz.ui.widgets.sections import LabelSection, TextSection, forget_rendered
from wssviz.ui.widgets.explain import BriefExplainPane, ExplainPane
from wssviz.ui.widgets.frames import FramesPane
from wssviz.ui.widgets.hexpane import HexPane
from wssviz.ui.widgets.detail import DetailView
from wssviz.ui.widgets.keybar import KeyBar
from wssviz.ui.widgets.ladderhead import LadderHead
from wssviz.ui.widgets.panetabs import PaneTabs
from wssviz.ui.host import Host
from wssviz.ui.navigation import AtEnd, Drive, Move, Navigator, Show, StopPlaying
from wssviz.ui.widgets.textline import TextLine
from wssviz.ui.widgets.timeline import Timeline
from wssviz.ui.widgets.tls import TlsPane
from wssviz.ui.widgets.upgrade import UpgradePane


PANE_CLASSES: dict[str, type[Pane]] = {
    "tls": TlsPane, "upgrade": UpgradePane, "accept": AcceptPane,
    "frames": FramesPane, "hex": HexPane, "explain": ExplainPane,
}
READ_SLICE = 5000  # steps a replay reads ahead between two updates of the screen
IDLE_AFTER = 0.2  # seconds without a move before what may come next is got ready
IDLE_TICK = 0.04  # seconds between two pieces of that work (a key press waits for one at most)
GROWTH_CHECK = 0.5  # seconds between two looks at whether the session grew by itself
MEDIUM = 120  # columns from which the explanation also sits under the pane in front
WIDE = 150  # columns from which it sits beside the pane instead
#: Panes the explanation joins from MEDIUM columns on (the hex pane needs its height).
WITH_EXPLANATION = ("tls", "upgrade", "accept", "frames")


def make_bindings(lang: str) -> list[Binding]:
    def d(key: str) -> str:
        return t(key, lang)

    return [
        Binding("right,space,n", "next", d("key_next"), priority=True, key_display="→"),
        Binding("left,p", "previous", d("key_previous"), priority=True, key_display="←"),
        Binding("home", "first", d("key_first"), show=False, priority=True),
        Binding("end", "last", d("key_last"), show=False, priority=True),
        Binding("g", "goto", d("key_goto")),
        Binding("tab", "pane(1)", d("key_pane"), priority=True),
        Binding("shift+tab", "pane(-1)", d("key_pane"), show=False, priority=True),
        *[Binding(str(i + 1), f"show_pane('{p}')", t(f"pane_{p}", lang), show=False)
          for i, p in enumerate(PANES)],
        Binding("0", "auto_pane", d("key_pane_auto"), show=False),
        # In the pane in front, whatever has the focus (the ladder follows the step by itself).
        Binding("up", "in_pane('cursor', -1)", d("key_pane_move"), show=False, priority=True),
        Binding("down", "in_pane('cursor', 1)", d("key_pane_move"), show=False, priority=True),
        Binding("pageup", "in_pane('page', -1)", d("key_pane_page"), show=False, priority=True),
        Binding("pagedown", "in_pane('page', 1)", d("key_pane_page"), show=False, priority=True),
        Binding("enter", "in_pane('toggle')", d("key_pane_toggle"), show=False, priority=True),
        Binding("a", "autoplay", d("key_autoplay")),
        Binding("plus,equals_sign", "speed(-1)", d("key_faster"), show=False),
        Binding("minus", "speed(1)", d("key_slower"), show=False),
        Binding("r", "restart", d("key_restart")),
        Binding("f5", "present", d("key_present")),
        Binding("t", "theme", d("key_theme"), show=False),
        Binding("x", "challenge", d("key_challenge"), show=False),
        Binding("question_mark", "help", d("key_help"), key_display="?"),
        Binding("q", "quit", d("key_quit")),
    ]


class StepScreen(Screen):
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (MEDIUM, "-medium"), (WIDE, "-wide")]

    def __init__(self, lang: str = "en") -> None:
        super().__init__()
        self.lang = lang
        #: where the learner is and is going: every decision of moving is the model's
        self.nav = Navigator()
        self._lock = threading.Lock()  # one call into the session at a time
        self._auto: Timer | None = None  # auto-play's timer (the model says whether it plays)
        self._note: "Text | Callable[[], Text] | None" = None  # a notice on the status line, until the step changes
        self._note_at = -1  # the step it belongs to
        #: What the status line says once the next restart is done (None: the default words).
        self.restart_note: str | None = None
        self._active = "explain"  # the pane in front
        self._panes: dict[str, Pane] = {}  # made so far
        #: What / Why / Eavesdropper beside or under a pane (wide screens, presenter mode).
        self._aside = BriefExplainPane("aside")
        self._stacked: dict[tuple, list[Band]] = {}  # band lists made of two, kept (same identity)
        self._title_text: tuple | None = None  # the title bar on show (text, style, spans)
        self._resumed = False  # the first ScreenResume has been seen
        self._grown: tuple[int, bool] | None = None  # (steps, finished) as the ladder shows them
        self._fault_said = False  # a replayed file's fault, told once
        self._resized_to: object = None  # the last terminal size the layout followed

    @property
    def index(self) -> int:
        return self.nav.index

    @index.setter
    def index(self, value: int) -> None:
        self.nav.index = value

    @property
    def wapp(self) -> Host:
        """The app, as far as this screen needs it (``ui.host``: no import of the app)."""
        return self.app  # type: ignore[return-value]

    # -- layout --------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # The width classes Textual would only add on the first Resize, after a first
        # layout without them: set now, the first layout is the right one.
        width = self.app.size.width
        self.set_class(width < MEDIUM, "-narrow")
        self.set_class(MEDIUM <= width < WIDE, "-medium")
        self.set_class(width >= WIDE, "-wide")
        yield Static(id="titlebar")
        # One grid, two columns: the ladder (its head, then the rungs) and the step (its
        # heading over two rows, the pane tabs, the pane), in placement order.
        with Grid(id="body"):
            yield LadderHead(self.lang, id="ladder-head")
            yield TextLine(id="stephead")
            yield Timeline(id="timeline")
            yield PaneTabs({p: t(f"pane_{p}", self.lang) for p in PANES}, self._active,
                           short={p: t(f"pane_short_{p}", self.lang) for p in PANES},
                           id="pane-tabs")
            yield DetailView(id="pane")
        yield TextLine(id="status")
        yield KeyBar(self.lang, id="keybar")

    def on_mount(self) -> None:
        self._idle = self.set_interval(IDLE_TICK, self._on_idle_tick, pause=True)
        # A session may grow by itself (a replay reads the rest of its recording in the
        # background): the ladder and the status line follow within half a second.
        self.set_interval(GROWTH_CHECK, self._check_growth)
        self._idle_ticks = 0
        self._ready_queue: list[tuple[int, str]] | None = None
        #: challenge mode (x): None when off, else [right, asked] guesses of what comes next
        self._challenge: list[int] | None = None
        self._challenged = -1  # the step last asked about (not asked twice)
        self._horizon: tuple | None = None  # the ladder's steps in challenge mode (kept: same identity)
        self._ahead_pending = False
        # Textual hides the notification rack when the screen first resumes, which is a
        # second layout of the whole screen just after the first: hidden now, that is a no-op.
        for rack in self.query("#textual-toastrack"):
            rack.display = False
        self.show_title()
        timeline = self.query_one(Timeline)
        self._frontier_labels(timeline)
        timeline.lang = self.lang
        if self.wapp.config.present:
            self.action_present()
        opening = self.wapp.opening
        if opening is None:
            self.go(0)
            return
        # Nothing is on the terminal yet: a moment's wait lets a quick opener's first
        # step be the first screen, with no "working…" paint before it.
        opening.wait()
        if opening.done_or_notify(self._opened_elsewhere):
            self._opened()
        else:
            self.nav.busy = True
            self._refresh_ladder()
            self._status()

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Runs before Textual's own handler.  The first resume comes right after the
        # mount, which styled every widget: styling them all again (~9 ms at 160x48)
        # would only delay the first screen.  Later resumes (back from help, the
        # picker, a theme change) restyle as usual.
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False

    def on_resize(self, event: events.Resize) -> None:
        if event.size != self.app.size and not self.app.is_inline:
            # A stale size: Textual's screen posts itself a Resize after each
            # layout, and when the terminal's first size (80x25 from Rich, then
            # the driver's 80x24) arrives while a slow first compose is still
            # running, the two echoes alternate forever.  Only the terminal's
            # current size is a real resize.
            event.prevent_default()
            return
        if event.size == self._resized_to:
            return  # an echo of a size already handled (Textual posts one after layouts)
        self._resized_to = event.size
        self.call_after_refresh(self._render_active)

    # -- panes ---------------------------------------------------------------

    @property
    def active_pane(self) -> str:
        """The pane in front ("tls", "upgrade", ...)."""
        return self._active

    def _pane(self, pid: str) -> Pane:
        pane = self._panes.get(pid)
        if pane is None:
            pane = self._panes[pid] = PANE_CLASSES[pid]()
        return pane

    def _bring_forward(self, pid: str) -> None:
        self._active = pid
        self.query_one(PaneTabs).active = pid

    # -- moving --------------------------------------------------------------

    def go(self, index: int) -> None:
        """Show step ``index``, asking the session for it if it is not there yet."""
        if self.wapp.opening is not None:
            return  # the first session is still opening: its first step comes by itself
        session = self.wapp.session
        self._do(self.nav.go(index, len(session.steps), session.finished))

    def _do(self, move: Move) -> None:
        """Carry out what the navigation model decided."""
        if isinstance(move, Show):
            self._show(move.index)
        elif isinstance(move, AtEnd):
            self._set_note(Text(t("status_end", self.lang), "italic"))
            self.app.bell()
        elif isinstance(move, Drive):
            if move.start:
                self._drive(self.nav.gen)
            self._refresh_ladder()
            self._status()
        elif isinstance(move, StopPlaying):
            self._stop_auto()
            self._set_note(Text(t("status_autoplay_end", self.lang), "italic"))

    @work(thread=True, group="drive", exit_on_error=False)
    def _drive(self, gen: int) -> None:
        session = self.wapp.session
        reads = getattr(session, "progress", None) is not None  # a replay reading ahead
        worker = get_current_worker()
        try:
            with self._lock:
                while True:
                    want = self.nav.want
                    # a replay reads in slices, so the screen says how far it has got,
                    # a later key (Home, Left) takes over, and quitting does not wait
                    upto = min(want, len(session.steps) + READ_SLICE) if reads else want
                    n = session.ensure(upto)
                    if gen != self.nav.gen or worker.is_cancelled or session.finished:
                        break
                    if upto < want and self.nav.want >= want:
                        self.app.call_from_thread(self._reading, gen)
                        continue
                    if self.nav.want <= want or n <= want:
                        break
            self.app.call_from_thread(self._arrived, gen)
        except Exception as exc:  # noqa: BLE001 - shown on screen, never a crash
            self.app.call_from_thread(self._failed, gen, exc)

    def _reading(self, gen: int) -> None:
        """A replay reading ahead for the step asked for: the ladder and the status line
        follow how far it has got."""
        if gen == self.nav.gen and self.nav.busy:
            self._refresh_ladder()
            self._status()

    def _arrived(self, gen: int) -> None:
        if not self.nav.arrived(gen):
            return
        steps = self.wapp.session.steps
        if not steps:
            self._refresh_ladder()
            self._status()
            return
        self._show(min(self.nav.want, len(steps) - 1))

    def _failed(self, gen: int, exc: BaseException) -> None:
        if not self.nav.arrived(gen):
            return
        message = t("status_failed", self.lang).format(error=f"{type(exc).__name__}: {exc}")
        self._set_note(Text(message, "bold red"))
        self.notify(Text(message).plain, severity="error", markup=False, timeout=8)
        self._stop_auto()
        self._refresh_ladder()

    def _refresh_ladder(self) -> None:
        session = self.wapp.session
        self._grown = (len(session.steps), session.finished)  # what the ladder shows
        timeline = self.query_one(Timeline)
        scheme = scheme_of(session, session.steps)  # (which arrows carry a lock)
        if scheme != timeline.scheme:
            timeline.scheme = scheme
            timeline.clear_cache()
        steps = session.steps
        if self._challenge is not None:  # the ladder stops where the learner is: no answer shown
            from wssviz.ui.screens.challenge import Horizon

            n = max(self.index + 1, 1)
            if self._horizon is None or self._horizon[0] != (id(steps), n):
                self._horizon = ((id(steps), n), Horizon(steps, n))
            timeline.show(self._horizon[1], self.index, True, self.nav.busy)
            return
        timeline.show(steps, self.index, not session.finished, self.nav.busy)

    def _show(self, index: int) -> None:
        steps = self.wapp.session.steps
        if self._challenge is not None and index != self._challenged:
            from wssviz.ui.screens.challenge import ChallengeScreen, is_turn

            if is_turn(steps, self.index, index):
                # before the learner sees it: what will it be?
                self._challenged = index
                self.app.push_screen(ChallengeScreen(steps, index, self.lang),
                                     lambda right: self._guessed(index, right))
                return
        self.nav.shown(index)
        if index != self._note_at:
            self._note = None  # a notice belongs to the step it was given on
        step = steps[index]
        self._refresh_ladder()
        head = Text(no_wrap=True, overflow="ellipsis")  # two fixed lines: title, summary
        head.append(f"{step.index}  ", "bold")
        head.append(explain.title(step, self.lang), "bold")
        arrow = t(f"dir_{step.direction}", self.lang)
        head.append("   ")
        head.append(arrow, "dim")
        head.append("   ")
        head.append(f"{step.time:.6f} s", "dim")
        head.append("\n")
        head.append(explain.summary(step, self.lang), "red" if step.status == "error" else
                    "yellow" if step.status == "warning" else "")
        self.query_one("#stephead", TextLine).update(head)
        self._status()
        self._bring_forward(self.nav.chosen or pane_for(step))
        self._render_active()
        if not self._ahead_pending:  # last: every widget above has asked for its repaint
            self._ahead_pending = True
            self.call_after_refresh(self._prepare_ahead)

    def _view(self, index: int | None = None) -> View:
        session = self.wapp.session
        steps = session.steps
        return View(steps, self.index if index is None else index, self.lang,
                    scheme_of(session, steps), self.nav.gen, self.has_class("-present"))

    def _render_active(self) -> None:
        if self.index < 0:
            return
        bands, aside = self._layout(self._active, self._view())
        detail = self.query_one("#pane", DetailView)
        same_aside = aside is detail.aside or not (aside or detail.aside)
        if bands is not detail.bands or not same_aside:
            detail.show(bands, aside)
        self._restart_idle()

    def _layout(self, pid: str, view: View, quiet: bool = False) -> tuple[list[Band], list[Band]]:
        """The bands of pane ``pid`` for ``view``, and those of the aside beside them."""
        aside: list[Band] = []
        if self.has_class("-present"):
            bands = self._present_bands(pid, view, quiet)
        else:
            bands = self._bands(self._pane(pid), view, quiet)
            if pid in WITH_EXPLANATION and self.has_class("-wide"):
                aside = self._bands(self._aside, view, quiet)
            elif pid in WITH_EXPLANATION and self.has_class("-medium"):
                below = self._bands(self._aside, view, quiet)
                bands = self._stack(bands, [Band(LabelSection(f"── {t('pane_explain', self.lang)} ──", "explain-label"),
                                                 ("rows", 1)), Band(below[0].section, ("frac", 0.45))],
                                    ("under", id(below[0].section)))
        return bands, aside

    def _on_idle_tick(self) -> None:
        """While the learner reads, get ready what the next key is likely to show, one
        piece per tick so that a key press never waits behind much: the pane the
        steps either side bring forward (a 16 MiB frame takes tens of ms to lay out
        the first time), a run of the cyclic collector (so that it seldom runs inside
        a key press), then the other panes of this step."""
        self._idle_ticks += 1
        if self._idle_ticks * IDLE_TICK < IDLE_AFTER:
            return
        if self._ready_queue is None:
            steps = self.wapp.session.steps
            self._ready_queue = self.nav.ready_queue(len(steps), PANES, self._active,
                                                     lambda j: pane_for(steps[j]))
        if not self._ready_queue:
            self._idle.pause()
            return
        j, pid = self._ready_queue.pop(0)
        if pid == "collect":
            gc.collect()
        elif j < len(self.wapp.session.steps):
            bands, aside = self._layout(pid, self._view(j), quiet=True)
            self.query_one("#pane", DetailView).prepare(bands, aside)

    def _check_growth(self) -> None:
        session = self.wapp.session
        fault = getattr(session, "fault", None)
        if fault and session.finished and not self._fault_said:
            # a recording faulty further on: its steps end where reading stopped
            self._fault_said = True
            self.notify(t("status_file_fault", self.lang).format(error=fault), severity="error",
                        markup=False, timeout=12)
        if (len(session.steps), session.finished) == self._grown:
            return  # nothing new since the ladder was last drawn
        if self.index >= 0 and not self.nav.busy and self.wapp.opening is None:
            self._refresh_ladder()
            self._status()

    def _restart_idle(self) -> None:
        """Something moved: what was being got ready may no longer be what comes next."""
        self._idle_ticks = 0
        self._ready_queue = None
        self._idle.resume()

    def _prepare_ahead(self) -> None:
        """Once this step is on the terminal, get the next one in the direction of travel
        ready at once (a key held down leaves no pause to do it in): the work the next
        press would have done on arrival, done before it arrives."""
        self._ahead_pending = False
        steps = self.wapp.session.steps
        j = self.nav.ahead(len(steps))
        if j is not None:
            bands, aside = self._layout(self.nav.chosen or pane_for(steps[j]), self._view(j), quiet=True)
            self.query_one("#pane", DetailView).prepare(bands, aside)

    def _stack(self, first: list[Band], then: list[Band], key: tuple) -> list[Band]:
        """``first`` and ``then`` as one column; the same list object each time (no new arrange)."""
        k = (key, tuple(id(b) for b in first))
        bands = self._stacked.get(k)
        if bands is None:
            if len(self._stacked) > 256:
                self._stacked.clear()
            bands = self._stacked[k] = first + then
        return bands

    def _present_bands(self, pid: str, view: View, quiet: bool = False) -> list[Band]:
        """Presenter mode: the pane first (its key content on top: the XOR lane, the
        Accept chain), named on a line of its own, then the explanation under it."""
        brief = self._bands(self._aside, view, quiet)
        if pid == "explain":
            return brief
        n = PANES.index(pid) + 1
        label = f"{n} {t('pane_' + pid, self.lang)}  ·  Tab 1-6  ·  ↑ ↓ PgDn"
        under = f"── {t('pane_explain', self.lang)} ──"
        return self._stack([Band(LabelSection(label, "pane-label"), ("rows", 1)),
                            *self._bands(self._pane(pid), view, quiet)],
                           [Band(LabelSection(under, "explain-label"), ("rows", 1)),
                            Band(brief[0].section, ("frac", 0.25))],
                           ("present", id(brief[0].section), pid, self.lang))

    def _bands(self, pane: Pane, view: View, quiet: bool = False) -> list[Band]:
        try:
            return pane.bands(view)
        except Exception as exc:  # noqa: BLE001 - a bad step must not end the app
            message = Text(f"{pane.pane_id} pane: {type(exc).__name__}: {exc}", "bold red")
            if not quiet:  # getting a step ready ahead: it is reported when it is shown
                self._set_note(message)
            return [Band(TextSection(message))]

    @on(PaneTabs.Chosen)
    def _tab_chosen(self, event: PaneTabs.Chosen) -> None:
        self.action_show_pane(event.pane)

    @on(Timeline.Chosen)
    def _ladder_chosen(self, event: Timeline.Chosen) -> None:
        self.go(event.index)

    # -- status --------------------------------------------------------------

    def _set_note(self, note: "Text | Callable[[], Text] | None", at: int | None = None) -> None:
        """Show ``note`` on the status line until the learner moves off step ``at`` (this
        one); a callable is asked for the words each time (the language may change)."""
        self._note = note
        self._note_at = self.index if at is None else at
        self._status()

    def _frontier_labels(self, timeline: Timeline) -> None:
        """The ladder's last row: a live session's next action, or how far a replay's
        reading has got."""
        reading = getattr(self.wapp.session, "progress", None) is not None
        timeline.next_label = t("timeline_unread" if reading else "timeline_next", self.lang)
        timeline.busy_label = t("timeline_reading" if reading else "timeline_busy", self.lang)

    def _status(self) -> None:
        session = self.wapp.session
        last = len(session.steps) - 1  # steps are numbered from 0, as on the ladder
        text = Text()
        if self.index >= 0:
            key = "status_step" if session.finished else \
                "status_step_latest" if self.index >= last else "status_step_more"
            text.append(t(key, self.lang).format(n=self.index, last=last), "bold")
        progress = getattr(session, "progress", None)
        if self.nav.busy and progress is not None:  # a replay reading ahead (End, g N)
            done, total, unit = progress
            if unit == "bytes":  # a recording still being read from its file
                said = t("status_reading_file", self.lang).format(
                    done=f"{done / 1e6:,.1f}", total=f"{total / 1e6:,.1f}")
            else:
                said = t("status_reading", self.lang).format(done=f"{done:,}", total=f"{total:,}")
            text.append("   " + said, "yellow")
        elif self.nav.busy:
            text.append("   " + t("status_working", self.lang), "yellow")
        if self._challenge is not None:
            text.append("   " + t("status_challenge", self.lang).format(right=self._challenge[0],
                                                                        asked=self._challenge[1]), "magenta")
        if self.nav.playing:
            text.append("   ▶ " + t("status_autoplay", self.lang).format(seconds=self.nav.seconds),
                        "green")
        if self._note is not None:
            text.append("   ")
            text.append_text(self._note() if callable(self._note) else self._note)
        self.query_one("#status", TextLine).update(text)

    # -- actions -------------------------------------------------------------

    def action_next(self) -> None:
        self.go(self.nav.next_target())

    def action_previous(self) -> None:
        if self.index > 0:
            self.go(self.index - 1)

    def action_first(self) -> None:
        self.go(0)

    def action_last(self) -> None:
        session = self.wapp.session
        if session.finished:
            self.go(len(session.steps) - 1)
        else:
            self.go(1 << 30)  # a live session: drive it to its end, wherever we are

    def action_goto(self) -> None:
        def done(value: int | None) -> None:
            if value is not None:
                self.go(value)

        session = self.wapp.session
        last = len(session.steps) - 1
        from wssviz.ui.screens.goto import GotoScreen  # loaded on first use

        self.app.push_screen(GotoScreen(self.lang, max(last, 0), not session.finished,
                                        getattr(session, "progress", None) is not None), done)

    def action_pane(self, delta: int) -> None:
        self.action_show_pane(PANES[(PANES.index(self._active) + delta) % len(PANES)])

    def action_show_pane(self, pid: str) -> None:
        """The learner picks a pane: it stays in front on the following steps too (the
        status line says so, and how to undo it)."""
        self.nav.chosen = pid
        # (a note in words made when shown, so that it follows a change of language)
        self._set_note(lambda: Text(t("status_pane_pinned", self.lang).format(pane=t(f"pane_{pid}", self.lang)),
                                    "green"))  # first: one frame for all
        self._bring_forward(pid)
        self._render_active()

    def action_in_pane(self, what: str, delta: int = 0) -> None:
        """↑ ↓ PgUp PgDn Enter act on the pane in front: it scrolls, or its field tree's
        cursor moves and a node opens (its bytes light up in the Hex pane)."""
        detail = self.query_one("#pane", DetailView)
        if what == "toggle":
            detail.action_toggle()
        elif what == "page":
            detail.action_page(delta)
        else:
            detail.action_cursor(delta)

    def action_auto_pane(self) -> None:
        """Back to the automatic choice: each step brings forward the pane that matters."""
        self.nav.chosen = None
        self._set_note(lambda: Text(t("status_pane_auto", self.lang), "green"))  # first: one frame for all
        if 0 <= self.index < len(self.wapp.session.steps):
            self._bring_forward(pane_for(self.wapp.session.steps[self.index]))
            self._render_active()

    @property
    def chosen_pane(self) -> str | None:
        """The pane the learner pinned, or None while the step decides."""
        return self.nav.chosen

    def action_autoplay(self) -> None:
        session = self.wapp.session
        was = self.nav.playing
        move = self.nav.toggle_play(len(session.steps), session.finished)
        if isinstance(move, StopPlaying):
            self._set_note(Text(t("status_autoplay_end", self.lang), "italic"))
        elif was:
            self._stop_auto()
        else:
            self._auto = self.set_interval(self.nav.seconds, self._tick)
        self._status()

    def _stop_auto(self) -> None:
        self.nav.playing = False
        if self._auto is not None:
            self._auto.stop()
            self._auto = None
        self._status()

    def _tick(self) -> None:
        session = self.wapp.session
        self._do(self.nav.tick(len(session.steps), session.finished))

    def action_speed(self, delta: int) -> None:
        seconds = self.nav.faster(delta)
        if self._auto is not None:
            self._auto.stop()
            self._auto = self.set_interval(seconds, self._tick)
        self._status()

    def action_restart(self) -> None:
        if self.wapp.opening is not None:
            return  # still opening the first session
        self._stop_auto()
        gen = self.nav.restart()
        self._status()
        self._restart(gen)

    def _opened_elsewhere(self) -> None:
        """On the opening thread, once the first session is open (or failed)."""
        try:
            self.app.call_from_thread(self._opened)
        except RuntimeError:
            pass  # the app has already ended (the learner quit while it was opening)

    def _opened(self) -> None:
        """The first session is open: show its first step; or end, if it could not open."""
        opening = self.wapp.opening
        if opening is None:
            return
        self.wapp.opening = None
        if opening.session is None:
            # No session at all: end, and let the caller report why.
            self.wapp.open_error = opening.error
            self.app.exit(2)
            return
        self.wapp.session = opening.session
        self.show_title()
        self.nav.busy = False
        self.go(0)

    @work(thread=True, group="restart", exit_on_error=False)
    def _restart(self, gen: int) -> None:
        app = self.wapp
        try:
            with self._lock:
                if app.session_factory is not None:
                    session = app.session_factory()
                else:
                    session = app.session
                    session.restart()
            self.app.call_from_thread(self._restarted, gen, session)
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self._failed, gen, exc)

    def _restarted(self, gen: int, session) -> None:
        if not self.nav.arrived(gen):
            return
        self.wapp.session = session
        self.show_title()
        self.index = -1
        if self.restart_note is not None:
            note, self.restart_note = self.restart_note, None
        elif session.finished and session.steps:
            note = t("status_rewound", self.lang)  # a replay: nothing new to connect
        else:
            note = t("status_restarted", self.lang)
        self._set_note(Text(note, "green"), at=0)
        self.go(0)

    # -- hooks for the app: the session's title, a language switch ------------

    def show_title(self) -> None:
        """Show the session's title and goal (again after a restart or a new scenario)."""
        session = self.wapp.session
        title = Text(explain.text(session.title, self.lang) or "wssviz", "bold")
        if session.goal:
            title.append("  ·  " + explain.text(session.goal, self.lang), "not bold")
        key = (title.plain, str(title.style), tuple(title.spans))
        if key != self._title_text:
            self._title_text = key
            bar = self.query_one("#titlebar", Static)
            # Wide screens wrap it onto at most two lines (app.tcss): a layout only when
            # the number of lines changes, else a repaint.  Before the first layout
            # (no width yet) that layout will size it.
            width = bar.content_size.width
            lines = 2 if self.has_class("-wide") and cell_len(title.plain) > width else 1
            bar.update(title, layout=bool(width) and bar.size.height != lines)

    def set_lang(self, lang: str) -> None:
        """Show every label and explanation in ``lang`` from now on, on the same step."""
        self.lang = lang
        self.query_one(PaneTabs).set_labels({p: t(f"pane_{p}", lang) for p in PANES},
                                            {p: t(f"pane_short_{p}", lang) for p in PANES})
        timeline = self.query_one(Timeline)
        self._frontier_labels(timeline)
        timeline.lang = lang
        timeline.clear_cache()
        self.query_one(LadderHead).set_lang(lang)
        self.query_one(KeyBar).set_lang(lang)
        self.show_title()
        if 0 <= self.index < len(self.wapp.session.steps):
            active = self._active
            self._show(self.index)
            self._bring_forward(active)  # stay on the pane in front
            self._render_active()
        else:
            self._refresh_ladder()
            self._status()

    def action_challenge(self) -> None:
        """Challenge mode on or off: guess each answering message before it shows."""
        self._challenge = None if self._challenge is not None else [0, 0]
        key = "status_challenge_on" if self._challenge is not None else "status_challenge_off"
        self._refresh_ladder()
        self._set_note(lambda: Text(t(key, self.lang), "green"))

    def _guessed(self, index: int, right: bool | None) -> None:
        if self._challenge is not None:
            self._challenge[0] += bool(right)
            self._challenge[1] += 1
        self._show(index)

    def action_present(self) -> None:
        self.toggle_class("-present")
        self.wapp.config.present = self.has_class("-present")
        self.wapp.apply_theme(present=self.wapp.config.present)
        self.query_one(Timeline).clear_cache()
        forget_rendered()  # the old theme's lines
        self._render_active()

    def action_theme(self) -> None:
        self.wapp.config.dark = not self.wapp.config.dark
        self.wapp.apply_theme(present=self.wapp.config.present)
        self.query_one(Timeline).clear_cache()

    def action_help(self) -> None:
        from wssviz.ui.screens.help import HelpScreen  # loaded on first use

        self.app.push_screen(HelpScreen(self.lang))

    def action_quit(self) -> None:
        self.app.exit(0)
