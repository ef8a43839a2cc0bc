"""One widget for whichever pane is in front: bands of sections, drawn line by line.

On a wide screen the explanation sits beside the pane in a second column of the
same widget (``show(bands, aside=...)``), so bringing the explanation pane
forward (no aside) or another pane (with the aside) changes no layout either.

Moving between steps or panes hands the view a new list of ``Band``s and asks
for a repaint.  The view's own size is set by CSS, so nothing is ever mounted,
unmounted, shown, hidden or laid out again: Textual repaints this widget only,
in one frame.  Each band scrolls on its own (mouse wheel over it, or the keys
below) and draws its own one-cell scroll bar in a column that is always
reserved, so a bar appearing never changes a width.

Keys (the stepping screen binds them, whatever has the focus): Up/Down move a
tree's cursor (or scroll), Page Up/Down move it a page (or scroll), Enter opens or
closes the tree node under the cursor.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from textual import events
from textual.strip import Strip
from textual.widget import Widget

from wssviz.ui.widgets.sections import Palette, Section, TreeSection

BAR = 1  # the scroll bar column
RULE = 2  # the rule and the space between the columns


@dataclass(eq=False)
class Band:
    """A section and how tall it is: ``("rest", weight)``, ``("rows", n)``,
    ``("frac", f)`` (of the view) or ``("fit", f)`` (its own rows, at most f of the view)."""

    section: Section
    size: tuple = ("rest", 1)
    y: int = 0
    height: int = 0


class DetailView(Widget, can_focus=True):
    COMPONENT_CLASSES = {"detail--muted", "detail--cursor", "detail--span", "detail--label",
                         "detail--empty", "detail--bar", "detail--thumb", "detail--rule"}

    DEFAULT_CSS = """
    DetailView { height: 1fr; background: $surface; }
    DetailView > .detail--muted { color: $text-muted; }
    DetailView > .detail--cursor { background: $accent 40%; text-style: bold; }
    DetailView:focus > .detail--cursor { background: $accent; }
    DetailView > .detail--span { background: $accent; color: $text; text-style: bold; }
    DetailView > .detail--label { color: $text-muted; text-style: bold; }
    DetailView > .detail--empty { color: $text-muted; text-style: italic; }
    DetailView > .detail--bar { color: $panel-lighten-1; }
    DetailView > .detail--thumb { color: $primary; }
    DetailView > .detail--rule { color: $primary; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.bands: list[Band] = []
        #: The second column (the explanation on wide screens), or empty.
        self.aside: list[Band] = []
        self.aside_share = 0.4  # a fair share of the width for the explanation beside a pane
        self._arranged_for: tuple | None = None
        self._palette: Palette | None = None

    # -- what is shown -----------------------------------------------------------

    def show(self, bands: list[Band], aside: list[Band] | None = None) -> None:
        """Show ``bands`` (and ``aside`` beside them) from now on: one repaint, no layout."""
        self.bands = bands
        self.aside = aside or []
        self._arranged_for = None
        self.refresh()

    def band(self, name: str) -> Band | None:
        return next((b for b in self.bands + self.aside if b.section.name == name), None)

    def section(self, name: str) -> Section | None:
        b = self.band(name)
        return b.section if b is not None else None

    def text(self, name: str | None = None) -> str:
        """The plain text of one band (or of all): what tests read."""
        return "\n".join(b.section.text() for b in self.bands + self.aside
                         if name is None or b.section.name == name)

    @property
    def palette(self) -> Palette:
        if self._palette is None:
            base = self.rich_style

            def st(name: str) -> object:
                return base + self.get_component_rich_style(name)

            self._palette = Palette(base, st("detail--muted"), self.get_component_rich_style("detail--cursor"),
                                    st("detail--span"), st("detail--label"), st("detail--empty"))
        return self._palette

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._palette = None  # colours may have changed (theme, presenter mode, focus)
        self._arranged_for = None

    # -- geometry ----------------------------------------------------------------

    def _columns(self, with_aside: bool) -> tuple[int, int]:
        """Cells for the main column's text and the aside's (0 without one), without
        their scroll bars: the aside takes its share of the width, then the rule."""
        width = self.size.width
        if not with_aside:
            return max(width - BAR, 1), 0
        side = max(int(width * self.aside_share), 12)
        return max(width - side - RULE - BAR, 1), max(side - BAR, 1)

    @property
    def inner_width(self) -> int:
        """Cells for the main column's text (without its scroll bar)."""
        return self._columns(bool(self.aside))[0]

    @property
    def aside_width(self) -> int:
        """Cells for the aside's text (0 when there is none)."""
        return self._columns(bool(self.aside))[1]

    def prepare(self, bands: list[Band], aside: list[Band] | None = None) -> None:
        """Render ``bands`` (and ``aside``) at the widths they would have here, without
        showing them: the sections keep what they render, so showing them later is quick."""
        if not self.size.width:
            return
        main, side = self._columns(bool(aside))
        for b in aside or []:
            b.section.prepare(side, self.palette, self.app.console)
        for b in bands:
            b.section.prepare(main, self.palette, self.app.console)

    def arrange(self) -> None:
        """Give each band its rows (once per content, size and style)."""
        width, height = self.inner_width, self.size.height
        palette = self.palette
        key = (width, height, palette, id(self.bands), id(self.aside))
        if key == self._arranged_for:
            return
        self._stack(self.bands, width, height)
        self._stack(self.aside, self.aside_width, height)
        self._arranged_for = key

    def _stack(self, bands: list[Band], width: int, height: int) -> None:
        palette = self.palette
        console = self.app.console
        for b in bands:
            b.section.prepare(width, palette, console)
        fixed, weights = 0, 0
        for b in bands:
            kind, value = b.size
            if kind == "rows":
                b.height = value
            elif kind == "frac":
                b.height = max(int(height * value), 1)
            elif kind == "fit":
                b.height = max(min(b.section.rows(width), int(height * value)), 1)
            else:
                b.height = 0
                weights += value
                continue
            fixed += b.height
        left = max(height - fixed, 0)
        rest = [b for b in bands if b.size[0] == "rest"]
        for n, b in enumerate(rest):
            share = left * b.size[1] // weights if weights else 0
            b.height = share if n < len(rest) - 1 else left - sum(r.height for r in rest[:-1])
        y = 0
        for b in bands:
            b.y = y
            y += b.height
            b.section.height = b.height  # type: ignore[attr-defined]
            self._clamp(b)

    def _width_of(self, b: Band) -> int:
        return self.aside_width if b in self.aside else self.inner_width

    def _clamp(self, b: Band) -> None:
        s = b.section
        s.top = min(max(s.top, 0), max(s.rows(self._width_of(b)) - b.height, 0))

    def band_at(self, y: int, x: int = 0) -> Band | None:
        """The band at content cell (x, y): the main column's, or the aside's right of the rule."""
        self.arrange()
        column = self.aside if self.aside and x >= self.inner_width + BAR else self.bands
        for b in column:
            if b.y <= y < b.y + b.height:
                return b
        return None

    def on_resize(self, event: events.Resize) -> None:
        self._arranged_for = None

    # -- drawing -----------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        self.arrange()
        palette = self.palette
        parts = self._column(self.bands, y, self.inner_width)
        if self.aside:
            rule = palette.base + self.get_component_rich_style("detail--rule")
            parts += [Strip([Segment("│", rule), Segment(" ", palette.base)], RULE),
                      *self._column(self.aside, y, self.aside_width)]
        return Strip.join(parts)

    def _column(self, bands: list[Band], y: int, width: int) -> list[Strip]:
        palette = self.palette
        for b in bands:
            if b.y <= y < b.y + b.height:
                s = b.section
                row = y - b.y
                return [s.line(s.top + row, width, palette, self.app.console), self._bar(b, row)]
        return [Strip.blank(width + BAR, palette.base)]

    def _bar(self, b: Band, row: int) -> Strip:
        total = b.section.rows(self._width_of(b))
        h = b.height
        if total <= h or h < 2:
            return Strip([Segment(" ", self.palette.base)], 1)
        size = max(h * h // total, 1)
        start = min(b.section.top * h // total, h - size)
        on = start <= row < start + size
        style = self.palette.base + self.get_component_rich_style("detail--thumb" if on else "detail--bar")
        return Strip([Segment("┃" if on else "│", style)], 1)

    # -- scrolling, keys and clicks ------------------------------------------------

    def scroll_band(self, b: Band, delta: int) -> None:
        b.section.top += delta
        self._clamp(b)
        self.refresh()

    def _focus_band(self) -> Band | None:
        """The band keys act on: the tree if there is one, else the first of the pane's
        own bands that scrolls, else the explanation stacked with it (presenter mode,
        or under the pane on a medium screen) if that scrolls."""
        self.arrange()
        for b in self.bands:
            if isinstance(b.section, TreeSection):
                return b
        scrolling = [b for b in self.bands if b.section.rows(self.inner_width) > b.height]
        for b in scrolling:
            if b.section.name != "aside":
                return b
        if scrolling:
            return scrolling[0]
        return self.bands[0] if self.bands else None

    def action_cursor(self, delta: int) -> None:
        b = self._focus_band()
        if b is None:
            return
        if isinstance(b.section, TreeSection):
            b.section.tree.set_cursor(b.section.tree.cursor + delta)
            self._keep_cursor(b)
            self.refresh()
        else:
            self.scroll_band(b, delta)

    def action_page(self, delta: int) -> None:
        b = self._focus_band()
        if b is None:
            return
        page = delta * max(b.height - 1, 1)
        if isinstance(b.section, TreeSection):  # the cursor moves a page, and the view with it
            b.section.tree.set_cursor(b.section.tree.cursor + page)
            self._keep_cursor(b)
            self.refresh()
        else:
            self.scroll_band(b, page)

    def action_toggle(self) -> None:
        b = self._focus_band()
        if b is not None and isinstance(b.section, TreeSection):
            b.section.tree.toggle()
            self._keep_cursor(b)
            self.refresh()

    def _keep_cursor(self, b: Band) -> None:
        row = b.section.cursor_row()
        if row is None:
            return
        s = b.section
        last = row + (s.cursor_extra(self._width_of(b)) if hasattr(s, "cursor_extra") else 0)
        if last >= s.top + b.height:  # the whole unfolded line, if it fits
            s.top = last - b.height + 1
        if row < s.top:
            s.top = row
        self._clamp(b)

    def keep_cursors(self) -> None:
        """Scroll each tree so its cursor is on screen (after a field was chosen elsewhere)."""
        self.arrange()
        for b in self.bands:
            self._keep_cursor(b)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        b = self.band_at(event.y - self.gutter.top, event.x - self.gutter.left)
        if b is not None:
            event.stop()
            self.scroll_band(b, 3)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        b = self.band_at(event.y - self.gutter.top, event.x - self.gutter.left)
        if b is not None:
            event.stop()
            self.scroll_band(b, -3)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        b = self.band_at(offset.y, offset.x)
        if b is None or b in self.aside or offset.x >= self.inner_width:
            return
        b.section.click(b.section.top + offset.y - b.y, offset.x, self.inner_width)
        self.keep_cursors()
        self.refresh()
