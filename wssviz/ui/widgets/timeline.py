"""The timeline: every step as one rung of a client ↔ server ladder.

Messages are arrows in their direction between the two rails; local computations
sit against their own side's rail; errors are red; the current step is
highlighted; steps after it (and the live frontier, not yet taken) are dim.
Only the visible rows are drawn (Line API), so a long session costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from wssviz.explain import title as step_title
from wssviz.explain import visibility
from wssviz.steps import Step, phase_of

NUMBER_WIDTH = 4  # "123 "
#: The shaft of an arrow: a double line when its bytes crossed the wire inside
#: encrypted TLS records (the tunnel), a single line when anyone on the path reads them.
SHAFT = {True: "═", False: "─"}
LOCK = "🔒"  # beside the title of an encrypted arrow (two cells wide)
LOCK_FROM = 24  # rung width from which it fits (not the compact presenter ladder)
#: The phase band beside the numbers (a coloured bar a row, so a phase is one stripe).
BAND = "▌"
BAND_STYLE = {"tcp": "#8a8a8a", "tls": "#9b5de5", "http": "#2a9d4b", "ws": "#f28c28", "error": "#e63946"}


def _fit(text: str, room: int) -> str:
    """``text`` cut to ``room`` terminal cells, with an ellipsis when cut."""
    if cell_len(text) <= room:
        return text
    return set_cell_size(text, max(room - 1, 1)).rstrip() + "…"


def _pad(text: str, width: int, align: str) -> str:
    """``text`` padded with spaces to ``width`` cells (CJK characters take two)."""
    gap = max(width - cell_len(text), 0)
    if align == "left":
        return text + " " * gap
    if align == "right":
        return " " * gap + text
    return " " * (gap // 2) + text + " " * (gap - gap // 2)


def ladder_label(step: Step, lang: str = "en") -> str:
    """The rung's words: the step's title in the learner's language."""
    return step_title(step, lang).replace("\n", " ")


def number_width(count: int) -> int:
    """Cells of the step-number column: at least ``NUMBER_WIDTH``, more for a session
    of 10,000 steps or more, so that the rails stay in line."""
    return max(NUMBER_WIDTH, len(str(max(count - 1, 0))) + 1)


def ladder_text(step: Step, width: int, lang: str = "en", numbers: int = NUMBER_WIDTH,
                scheme: str = "wss") -> Text:
    """One rung for ``step`` in ``width`` cells: number, the phase band, rails, and an
    arrow (locked when its bytes were encrypted) or a mark."""
    inner = max(width - numbers - 2, 6)
    d = step.direction
    locked = d in ("c2s", "s2c") and visibility(step, scheme) == "encrypted"
    line = SHAFT[locked]
    lock = locked and inner >= LOCK_FROM  # the padlock too, where the rung has room for it
    title = _fit(ladder_label(step, lang), inner - 4 - (3 if lock else 0)) + (" " + LOCK if lock else "")
    if d == "c2s":
        body = f"{line} {title} "
        body = body + line * (inner - cell_len(body) - 1) + "▶"
    elif d == "s2c":
        body = f" {title} {line}"
        body = "◀" + line * (inner - cell_len(body) - 1) + body
    elif step.facts.get("both_sides"):
        # both sides compute this (shown once): a mark against each rail
        body = _pad(f"◆ {title}", inner - 1, "left") + "◆"
    elif d == "client":
        body = _pad(f"◆ {title}", inner, "left")
    else:
        body = _pad(f"{title} ◆", inner, "right")
    text = Text(no_wrap=True, overflow="crop")
    text.append(f"{step.index:>{numbers - 1}}", "dim")
    text.append(BAND, BAND_STYLE[phase_of(step.kind)])
    text.append("│")
    text.append(body)
    text.append("│")
    return text


def frontier_text(width: int, label: str, numbers: int = NUMBER_WIDTH) -> Text:
    inner = max(width - numbers - 2, 6)
    label = _fit(f"· · · {label} · · ·", inner)
    text = Text(no_wrap=True, overflow="crop")
    text.append(" " * numbers)
    text.append("│" + _pad(label, inner, "center") + "│")
    return text


class Timeline(ScrollView, can_focus=True):
    """The ladder of steps; click a rung to go to it."""

    COMPONENT_CLASSES = {
        "timeline--current",
        "timeline--future",
        "timeline--error",
        "timeline--warning",
        "timeline--local",
        "timeline--frontier",
    }

    DEFAULT_CSS = """
    Timeline { background: $surface; overflow-x: hidden; scrollbar-size-vertical: 1; }
    Timeline > .timeline--current { background: $accent; color: $text; text-style: bold; }
    Timeline > .timeline--future { color: $text-disabled; }
    Timeline > .timeline--error { color: $error; text-style: bold; }
    Timeline > .timeline--warning { color: $warning; }
    Timeline > .timeline--local { color: $text-accent; }
    Timeline > .timeline--frontier { color: $text-disabled; }
    """

    @dataclass
    class Chosen(Message):
        """The learner clicked a rung."""

        index: int

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._steps: Sequence[Step] = ()
        self._current = -1
        self._open = False  # more steps may come (live frontier)
        self._busy = False
        self._cache: dict[tuple[int, str, int], Strip] = {}
        self._count = 0
        self.next_label = ""  # set from the catalogs by the screen
        self.lang = "en"  # the language of the rungs' names (the screen sets it)
        self.scheme = "wss"  # what is encrypted depends on it (the screen sets it)
        self.busy_label = ""
        self._base: Style | None = None  # the widget's own style (asked of Textual once)

    # -- state ---------------------------------------------------------------

    def show(self, steps: Sequence[Step], current: int, open_: bool, busy: bool = False) -> None:
        """Draw ``steps`` with ``current`` highlighted; ``open_`` adds the frontier row."""
        same = (steps is self._steps and len(steps) == self._count and open_ == self._open
                and busy == self._busy)
        if steps is not self._steps:
            self._cache.clear()
        before = self._current
        self._steps, self._current, self._open, self._busy = steps, current, open_, busy
        self._count = len(steps)
        if self.virtual_size.height != self._rows:
            self.virtual_size = Size(0, self._rows)
            # the new height (and maybe a scroll bar) counts only after the next layout
            self.call_after_refresh(self.keep_current_visible)
        if same:
            # only the rungs whose state changed: the old and the new current step
            # (ScrollView.refresh_lines takes rows of the whole ladder, not of the screen)
            lo, hi = sorted((before, current))
            if hi - lo > 1:
                self.refresh_lines(lo + 1, hi - lo - 1)  # past ↔ future between them
            for row in (before, current):
                if row >= 0:
                    self.refresh_lines(row, 1)
        else:
            self.refresh()
        self.keep_current_visible()

    def keep_current_visible(self) -> None:
        """Scroll so the current step's rung is on screen (centred when it was not)."""
        current = self._current
        if 0 <= current < len(self._steps):
            top, height = self.scroll_offset.y, self.scrollable_content_region.height
            if height and not top <= current < top + height:
                self.scroll_to(y=max(current - height // 2, 0), animate=False, immediate=True)

    @property
    def _rows(self) -> int:
        return len(self._steps) + (1 if self._open else 0)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._base = None  # colours may have changed (theme, focus, presenter mode)

    @property
    def base_style(self) -> Style:
        """The widget's Rich style: Textual works it out from every ancestor on each
        call, which was half of drawing a rung."""
        if self._base is None:
            self._base = self.rich_style
        return self._base

    def clear_cache(self) -> None:
        """Forget drawn rows (after a theme change)."""
        self._cache.clear()
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._cache.clear()
        # Only the height is virtual (overflow-x is hidden, rows are cropped to the
        # width): a width of 0 means a resize changes nothing here that needs a layout.
        self.virtual_size = Size(0, self._rows)
        self.call_after_refresh(self.keep_current_visible)

    # -- drawing -------------------------------------------------------------

    def _state(self, step: Step) -> str:
        if step.index == self._current:
            return "current"
        if step.index > self._current:
            return "future"
        return step.status if step.status != "ok" else ("local" if step.local else "past")

    def render_line(self, y: int) -> Strip:
        row = y + self.scroll_offset.y
        width = self.scrollable_content_region.width or self.size.width
        base = self.base_style
        if row < len(self._steps):
            # a rung needs only the step's outline (a long session's steps are made
            # whole only when shown in a pane)
            outline = getattr(self._steps, "outline", None)
            step = outline(row) if outline is not None else self._steps[row]
            state = self._state(step)
            numbers = number_width(len(self._steps))
            key = (row, state + step.status, width, numbers)
            strip = self._cache.get(key)
            if strip is None:
                text = ladder_text(step, width, self.lang, numbers, self.scheme)
                style = base
                if state != "past":
                    cls = "timeline--" + state if state != "future" or step.status == "ok" else "timeline--future"
                    style = base + self.get_component_rich_style(cls)
                if step.status == "error" and state != "current":
                    style = style + self.get_component_rich_style("timeline--error")
                segments = list(text.render(self.app.console, end=""))
                # (the row's style under the rung's own: the phase band keeps its colour)
                strip = Strip(Segment.apply_style(segments, style=style), text.cell_len)
                strip = strip.extend_cell_length(width, style).crop(0, width)
                self._cache[key] = strip
            return strip
        if row == len(self._steps) and self._open:
            style = base + self.get_component_rich_style("timeline--frontier")
            text = frontier_text(width, self.busy_label if self._busy else self.next_label,
                                 number_width(len(self._steps)))
            segments = list(text.render(self.app.console, end=""))
            return Strip(Segment.apply_style(segments, post_style=style)).extend_cell_length(width, style).crop(0, width)
        return Strip.blank(width, base)

    def on_click(self, event: events.Click) -> None:
        row = event.y + self.scroll_offset.y
        if 0 <= row < len(self._steps):
            self.post_message(self.Chosen(row))
