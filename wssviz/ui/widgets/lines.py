"""A scrolling view of one Rich renderable, rendered once into lines and cached.

A ``Static`` measures and renders its renderable again on every layout and every
refresh (a Rich ``Table`` twice: once for its height, once to draw).  A pane's
content changes only when the step does, so ``LinesView`` renders it once per
(key, width, style) into ``Strip``s and then only hands out the rows on screen
(Line API).  The size is set by CSS, never by the content, so a new step never
changes the layout.  The vertical scrollbar's gutter is always reserved, so the
wrapping width does not flip when a scrollbar comes or goes.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Hashable

from rich.console import RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

#: Rendered contents kept per view (every step of a session, and then some).
CACHE_SIZE = 96


class LinesView(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    LinesView { height: 1fr; overflow-x: hidden; scrollbar-gutter: stable; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        #: What is shown (plain Rich renderable; tests and exports read it).
        self.content: RenderableType = Text("")
        self._key: Hashable = None
        self._lines: list[Strip] = []
        self._drawn_for: tuple | None = None
        self._cache: OrderedDict[tuple, list[Strip]] = OrderedDict()
        #: Make the view as tall as its content (max-height still applies).
        self.fit_height = False

    def update(self, content: RenderableType, key: Hashable = None) -> None:
        """Show ``content``; ``key`` names it for the cache (None: never cached)."""
        self.content = content
        self._key = key
        self._drawn_for = None
        self._draw()
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    @property
    def rows(self) -> int:
        """Lines of content at the current width."""
        return len(self._lines)

    def clear_cache(self) -> None:
        """Forget rendered lines (after a theme or style change)."""
        self._cache.clear()
        self._drawn_for = None
        self._draw()
        self.refresh()

    def _width(self) -> int:
        return self.scrollable_content_region.width

    def _draw(self) -> None:
        width = self._width()
        if width <= 0:
            return
        base = self.rich_style
        for_ = (self._key, width, base)
        if for_ == self._drawn_for:
            return
        lines = self._cache.get(for_) if self._key is not None else None
        if lines is None:
            lines = self._render(width, base)
            if self._key is not None:
                self._cache[for_] = lines
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(for_)
        self._lines = lines
        self._drawn_for = for_
        self.virtual_size = Size(width, len(lines))
        if self.fit_height:
            self.styles.height = max(len(lines), 1) + self.styles.gutter.height

    def _render(self, width: int, base: Style) -> list[Strip]:
        console = self.app.console
        options = console.options.update(width=width, height=None, highlight=False, markup=False)
        out = []
        for segments in console.render_lines(self.content, options, pad=False, new_lines=False):
            strip = Strip(Segment.apply_style(segments, style=base))
            out.append(strip.extend_cell_length(width, base).crop(0, width))
        return out

    def on_resize(self, event: events.Resize) -> None:
        self._draw()

    def render_line(self, y: int) -> Strip:
        row = y + self.scroll_offset.y
        if self._drawn_for is None or self._drawn_for[1] != self._width():
            self._draw()
        if 0 <= row < len(self._lines):
            return self._lines[row]
        return Strip.blank(self._width(), self.rich_style)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._drawn_for = None  # colours may have changed (theme, presenter mode)
