"""What the detail view draws: bands of lines that each scroll on their own.

A pane is a short list of sections stacked in one widget (``DetailView``):
text rendered once into lines (``TextSection``), a field tree (``TreeSection``),
a hex dump (``HexSection``), a one-line label (``LabelSection``).  A section
hands out one ``Strip`` per row; everything that costs (Rich rendering and
styling) is done once per step, width and style and kept, so a key press only
copies strips the screen already had.  Nothing here is a widget: swapping what
the view shows never mounts, unmounts or lays anything out.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Hashable

from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from wssviz.ui.widgets.fieldtree import FieldTree, field_label

#: Rendered texts kept (every pane of every step of a session, and then some).
CACHE_SIZE = 256
OFFSET_WIDTH = 8  # hex dump: "0000abcd"


@dataclass(frozen=True)
class Palette:
    """The styles sections draw with (from the view's component classes)."""

    base: Style
    muted: Style
    cursor: Style
    span: Style
    label: Style
    empty: Style


class Section:
    """A band of rows; ``top`` is the first row on screen."""

    name = ""
    top = 0

    def prepare(self, width: int, palette: Palette, console: Console) -> None:
        """Get ready to draw at ``width`` (render what needs rendering)."""

    def rows(self, width: int) -> int:
        raise NotImplementedError

    def line(self, row: int, width: int, palette: Palette, console: Console) -> Strip:
        raise NotImplementedError

    def text(self) -> str:
        """The section's content as plain text (tests read it)."""
        return ""

    def click(self, row: int, x: int, width: int) -> None:
        """The learner clicked ``row`` (content row, not screen row) at cell ``x``."""

    def cursor_row(self) -> int | None:
        """A row that must stay on screen (a tree's cursor), if any."""
        return None


_rendered: OrderedDict[tuple, list[Strip]] = OrderedDict()

#: The colours panes name, made dark enough to read on a light background (a light
#: theme, the projector's high-contrast light one): what they mean stays, the contrast
#: is there.
ON_LIGHT = {"cyan": "#005f73", "bright_cyan": "#005f73", "green": "#1b6e20", "bright_green": "#1b6e20",
            "yellow": "#7a5a00", "bright_yellow": "#7a5a00", "magenta": "#7b1fa2", "bright_magenta": "#7b1fa2",
            "blue": "#0d47a1", "bright_blue": "#0d47a1", "red": "#b00020", "bright_red": "#b00020"}
_DARKER: dict[Style, Style] = {}


def _is_light(base: Style) -> bool:
    bg = base.bgcolor
    if bg is None:
        return False
    r, g, b = bg.get_truecolor()
    return 0.2126 * r + 0.7152 * g + 0.0722 * b > 150


def _darker(style: Style) -> Style:
    found = _DARKER.get(style)
    if found is None:
        name = style.color.name if style.color is not None else ""
        found = style + Style(color=ON_LIGHT[name]) if name in ON_LIGHT else style
        if len(_DARKER) < 1024:
            _DARKER[style] = found
    return found


def render_lines(content: RenderableType, key: Hashable, width: int, base: Style,
                 console: Console) -> list[Strip]:
    """``content`` as lines ``width`` cells wide on ``base``; cached when ``key`` is not None."""
    k = (key, width, base)
    if key is not None and k in _rendered:
        _rendered.move_to_end(k)
        return _rendered[k]
    options = console.options.update(width=width, height=None, highlight=False, markup=False)
    out = []
    light = _is_light(base)
    for segments in console.render_lines(content, options, pad=False, new_lines=False):
        if light:  # values drawn in cyan, green, yellow wash out on a light background (a projector)
            segments = [Segment(t, _darker(st), c) if st is not None and st.color is not None else Segment(t, st, c)
                        for t, st, c in segments]
        strip = Strip(Segment.apply_style(segments, style=base))
        out.append(strip.extend_cell_length(width, base).crop(0, width))
    if key is not None:
        _rendered[k] = out
        while len(_rendered) > CACHE_SIZE:
            _rendered.popitem(last=False)
    return out


def forget_rendered() -> None:
    """Drop every cached rendering (a theme or language change)."""
    _rendered.clear()


class TextSection(Section):
    """A Rich renderable (plain ``Text`` for anything a peer sent), drawn once per width."""

    def __init__(self, content: RenderableType, key: Hashable = None, name: str = "body") -> None:
        self.content = content
        self.key = key
        self.name = name
        self._console: Console | None = None
        self._lines: tuple[tuple, list[Strip]] | None = None

    def _get(self, width: int, base: Style, console: Console) -> list[Strip]:
        k = (width, base)
        if self._lines is None or self._lines[0] != k:
            self._lines = (k, render_lines(self.content, self.key, width, base, console))
        return self._lines[1]

    def prepare(self, width: int, palette: Palette, console: Console) -> None:
        self._get(width, palette.base, console)

    def rows(self, width: int) -> int:
        return len(self._lines[1]) if self._lines is not None else 0

    def line(self, row: int, width: int, palette: Palette, console: Console) -> Strip:
        lines = self._get(width, palette.base, console)
        return lines[row] if 0 <= row < len(lines) else Strip.blank(width, palette.base)

    def text(self) -> str:
        console = Console(width=200, record=True, file=_NullFile())
        console.print(self.content)
        return console.export_text()


class _NullFile:
    def write(self, _s: str) -> int:
        return 0

    def flush(self) -> None:
        pass


class LabelSection(Section):
    """One line of muted bold text (a buffer's name and size)."""

    def __init__(self, label: str, name: str = "label") -> None:
        self.label = label
        self.name = name

    def rows(self, width: int) -> int:
        return 1

    def line(self, row: int, width: int, palette: Palette, console: Console) -> Strip:
        return Strip([Segment(self.label, palette.label)]).extend_cell_length(width, palette.base).crop(0, width)

    def text(self) -> str:
        return self.label


class TreeSection(Section):
    """A ``FieldTree``: one line per visible node, the cursor's line lit.  The cursor's
    line unfolds: a value too long for one line (a derivation's formula, a verdict, a
    long hex string) wraps over as many rows as it needs, so every value can be read."""

    #: Characters of a value the unfolded cursor line shows.
    UNFOLD_LIMIT = 2000

    def __init__(self, tree: FieldTree, name: str = "tree") -> None:
        self.tree = tree
        self.name = name
        self._strips: dict[tuple, Strip] = {}
        self._unfold: tuple[tuple, list[Strip]] | None = None
        self._drawn_with: tuple[Palette, Console] | None = None

    def prepare(self, width: int, palette: Palette, console: Console) -> None:
        self._drawn_with = (palette, console)

    def _unfolded(self, width: int) -> list[Strip]:
        """The cursor's line as one or more rows (several only when it does not fit)."""
        vis = self.tree.visible
        c = self.tree.cursor
        if self._drawn_with is None or not 0 <= c < len(vis):
            return []
        palette, console = self._drawn_with
        node = vis[c]
        key = (id(node), node.expanded, width, palette)
        if self._unfold is not None and self._unfold[0] == key:
            return self._unfold[1]
        style = palette.base + palette.cursor
        label = node.label if node.data is None else field_label(node.data, self.tree.lang, self.UNFOLD_LIMIT)
        indent = cell_len(node.guides + node.toggle)
        if label.cell_len <= width - indent or width - indent < 12:
            strips = [self._row(node.guides, node.toggle, label, width, style, console)]
        else:
            wrapped = label.wrap(console, width - indent, overflow="fold", no_wrap=False)
            strips = [self._row(node.guides, node.toggle, part, width, style, console) if n == 0
                      else self._row(" " * indent, "", part, width, style, console)
                      for n, part in enumerate(wrapped)]
        self._unfold = (key, strips)
        return strips

    @staticmethod
    def _row(guides: str, toggle: str, label: Text, width: int, style: Style, console: Console) -> Strip:
        """One row of the tree: its guides, the open/closed mark, the label, in ``style``."""
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(guides, "dim")
        text.append(toggle)
        text.append_text(label)
        text.truncate(width, overflow="ellipsis")
        segments = list(text.render(console, end=""))
        strip = Strip(Segment.apply_style(segments, style=style))
        return strip.extend_cell_length(width, style).crop(0, width)

    def cursor_extra(self, width: int) -> int:
        """Rows the cursor's line takes beyond one (its value unfolded)."""
        return max(len(self._unfolded(width)) - 1, 0)

    def _node_row(self, row: int, width: int) -> tuple[int, int | None]:
        """(visible node index, row within the unfolded cursor line or None) of a row."""
        c, extra = self.tree.cursor, self.cursor_extra(width)
        if row < c:
            return row, None
        if row <= c + extra:
            return c, row - c
        return row - extra, None

    def rows(self, width: int) -> int:
        return len(self.tree.visible) + self.cursor_extra(width)

    def line(self, row: int, width: int, palette: Palette, console: Console) -> Strip:
        self._drawn_with = (palette, console)
        vis = self.tree.visible
        at, part = self._node_row(row, width)
        if not 0 <= at < len(vis):
            return Strip.blank(width, palette.base)
        if part is not None:
            return self._unfolded(width)[part]
        node = vis[at]
        key = (id(node), node.expanded, width, palette)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._row(node.guides, node.toggle, node.label, width, palette.base, console)
            if len(self._strips) > 4096:
                self._strips.clear()
            self._strips[key] = strip
        return strip

    def text(self) -> str:
        return self.tree.all_text()

    def click(self, row: int, x: int, width: int) -> None:
        vis = self.tree.visible
        row, _ = self._node_row(row, width)
        if not 0 <= row < len(vis):
            return
        node = vis[row]
        g = len(node.guides)
        if node.children and g <= x < g + 2:
            self.tree.set_cursor(row)
            self.tree.toggle(row)
        else:
            self.tree.set_cursor(row)

    def cursor_row(self) -> int | None:
        return self.tree.cursor


def printable(b: int) -> str:
    return chr(b) if 0x20 <= b < 0x7F else "·"


def bytes_per_row(width: int) -> int:
    """The widest power-of-two row (4..16 bytes) that fits in ``width`` cells."""
    for n in (16, 8, 4):
        if OFFSET_WIDTH + 2 + 3 * n + 1 + n <= width:
            return n
    return 4


class HexSection(Section):
    """A hex dump of one buffer (a step's ``wire`` or ``data``) with a highlighted span.

    Only the rows on screen are drawn, so a 16 MiB frame costs what a 16-byte one does.
    ``on_byte(self, offset)`` is called when the learner clicks a byte.
    """

    def __init__(self, buffer_name: str, buf: bytes, empty_text: str = "(no bytes)") -> None:
        self.name = self.buffer_name = buffer_name
        self.buf = buf
        self.empty_text = empty_text
        self.span: tuple[int, int] = (0, 0)
        self.bpr = 16
        self.height = 1  # rows on screen (set by the view)
        self.on_byte: Callable[["HexSection", int], None] | None = None

    def rows(self, width: int) -> int:
        self.bpr = bytes_per_row(width)
        return max((len(self.buf) + self.bpr - 1) // self.bpr, 1)

    def set_span(self, start: int, end: int) -> None:
        """Highlight ``[start, end)`` and bring its first row into view."""
        self.span = (start, end)
        if end > start:
            row = start // self.bpr
            if not self.top <= row < self.top + max(self.height, 1):
                self.top = max(row - 1, 0)

    def scroll_end(self) -> None:
        self.top = max(-(-len(self.buf) // self.bpr) - self.height, 0)

    def line(self, row: int, width: int, palette: Palette, console: Console) -> Strip:
        base = palette.base
        if not self.buf:
            if row == 0:
                return Strip([Segment(self.empty_text[:width], palette.empty)]).extend_cell_length(width, base)
            return Strip.blank(width, base)
        bpr = bytes_per_row(width)
        start = row * bpr
        chunk = self.buf[start:start + bpr]
        if not chunk:
            return Strip.blank(width, base)
        s0, s1 = self.span
        span_st, asc_st = palette.span, palette.muted
        segs = [Segment(f"{start:08x}  ", palette.muted)]
        half = bpr // 2
        if not (s0 < start + bpr and start < s1):  # no byte of the span on this row: two segments
            hexes = chunk.hex(" ")
            if len(chunk) > half:
                hexes = hexes[:3 * half - 1] + "  " + hexes[3 * half:]
            segs.append(Segment(hexes, base))
        else:
            for j, b in enumerate(chunk):
                inside = s0 <= start + j < s1
                sep = "  " if j + 1 == half else (" " if j + 1 < bpr else "")
                if inside and start + j + 1 < s1 and sep:
                    segs.append(Segment(f"{b:02x}{sep}", span_st))
                else:
                    segs.append(Segment(f"{b:02x}", span_st if inside else base))
                    if sep:
                        segs.append(Segment(sep, base))
        pad = OFFSET_WIDTH + 2 + 3 * bpr + 1 - sum(s.cell_length for s in segs)
        segs.append(Segment(" " * max(pad, 1), base))
        if not (s0 < start + bpr and start < s1):
            segs.append(Segment("".join(printable(b) for b in chunk), asc_st))
        else:
            for j, b in enumerate(chunk):
                inside = s0 <= start + j < s1
                segs.append(Segment(printable(b), span_st if inside else asc_st))
        return Strip(segs).extend_cell_length(width, base).crop(0, width)

    def offset_at(self, row: int, x: int) -> int | None:
        """The byte at content row ``row``, cell ``x``, or None."""
        bpr = self.bpr
        hex0 = OFFSET_WIDTH + 2
        j = None
        if hex0 <= x < hex0 + 3 * bpr + 1:
            c = x - hex0
            if c >= 3 * (bpr // 2):
                c -= 1  # the wider gap in the middle
            j = min(c // 3, bpr - 1)
        elif hex0 + 3 * bpr + 1 <= x < hex0 + 4 * bpr + 1:
            j = x - (hex0 + 3 * bpr + 1)
        if j is None:
            return None
        offset = row * bpr + j
        return offset if 0 <= offset < len(self.buf) else None

    def click(self, row: int, x: int, width: int) -> None:
        offset = self.offset_at(row, x)
        if offset is not None and self.on_byte is not None:
            self.on_byte(self, offset)

    def text(self) -> str:
        return f"{self.buffer_name}: {len(self.buf)} bytes"
