"""A hex dump of one buffer (a step's ``wire`` or ``data``) with a highlighted span.

Only the rows on screen are drawn (Line API), so a 16 MiB frame costs the same
as a 16-byte one.  Clicking a byte posts ``HexView.ByteChosen`` so the field
tree can select the field that carried it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

OFFSET_WIDTH = 8


def bytes_per_row(width: int) -> int:
    """The widest power-of-two row (4..16 bytes) that fits in ``width`` cells."""
    for n in (16, 8, 4):
        if OFFSET_WIDTH + 2 + 3 * n + 1 + n <= width:
            return n
    return 4


def printable(b: int) -> str:
    return chr(b) if 0x20 <= b < 0x7F else "·"


class HexView(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {"hexview--offset", "hexview--span", "hexview--ascii", "hexview--empty"}

    DEFAULT_CSS = """
    HexView { height: 1fr; background: $surface; }
    HexView > .hexview--offset { color: $text-muted; }
    HexView > .hexview--span { background: $accent; color: $text; text-style: bold; }
    HexView > .hexview--ascii { color: $text-muted; }
    HexView > .hexview--empty { color: $text-muted; text-style: italic; }
    """

    @dataclass
    class ByteChosen(Message):
        view: "HexView"
        offset: int

    def __init__(self, name: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.buffer_name = name  # "wire" or "data"
        self._buf = b""
        self._span: tuple[int, int] = (0, 0)
        self._bpr = 16
        self.empty_text = "(no bytes)"

    # -- state ---------------------------------------------------------------

    def set_buffer(self, buf: bytes) -> None:
        self._buf = buf
        self._span = (0, 0)
        self._resize_virtual()
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    def set_span(self, start: int, end: int) -> None:
        """Highlight ``[start, end)`` and bring its first row into view."""
        self._span = (start, end)
        if end > start:
            row = start // self._bpr
            top, h = self.scroll_offset.y, self.scrollable_content_region.height or 1
            if not top <= row < top + h:
                self.scroll_to(y=max(row - 1, 0), animate=False)
        self.refresh()

    @property
    def span(self) -> tuple[int, int]:
        return self._span

    @property
    def rows(self) -> int:
        return (len(self._buf) + self._bpr - 1) // self._bpr

    def _row_width(self) -> int:
        return OFFSET_WIDTH + 2 + 3 * self._bpr + 1 + self._bpr

    def _resize_virtual(self) -> None:
        self.virtual_size = Size(self._row_width(), max(self.rows, 1))

    def on_resize(self, event: events.Resize) -> None:
        bpr = bytes_per_row(self.scrollable_content_region.width or event.size.width)
        if bpr != self._bpr:
            self._bpr = bpr
        self._resize_virtual()

    # -- drawing -------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width or self.size.width
        base = self.rich_style
        row = y + self.scroll_offset.y
        if not self._buf:
            if y == 0:
                st = base + self.get_component_rich_style("hexview--empty")
                return Strip([Segment(self.empty_text[:width], st)]).extend_cell_length(width, base)
            return Strip.blank(width, base)
        if row >= self.rows:
            return Strip.blank(width, base)
        bpr = self._bpr
        start = row * bpr
        chunk = self._buf[start:start + bpr]
        off_st = base + self.get_component_rich_style("hexview--offset")
        span_st = base + self.get_component_rich_style("hexview--span")
        asc_st = base + self.get_component_rich_style("hexview--ascii")
        s0, s1 = self._span
        segs = [Segment(f"{start:08x}  ", off_st)]
        for j, b in enumerate(chunk):
            inside = s0 <= start + j < s1
            sep = " " if j + 1 < bpr else ""
            if j + 1 == bpr // 2:
                sep = "  "
            if inside and start + j + 1 < s1 and sep:
                segs.append(Segment(f"{b:02x}{sep}", span_st))
            else:
                segs.append(Segment(f"{b:02x}", span_st if inside else base))
                if sep:
                    segs.append(Segment(sep, base))
        pad = OFFSET_WIDTH + 2 + 3 * bpr + 1 - sum(s.cell_length for s in segs)
        segs.append(Segment(" " * max(pad, 1), base))
        for j, b in enumerate(chunk):
            inside = s0 <= start + j < s1
            segs.append(Segment(printable(b), span_st if inside else asc_st))
        strip = Strip(segs).extend_cell_length(width + self.scroll_offset.x, base)
        return strip.crop(self.scroll_offset.x, self.scroll_offset.x + width)

    # -- hex → field ---------------------------------------------------------

    def offset_at(self, x: int, y: int) -> int | None:
        """The byte under cell (x, y) of the visible area, or None."""
        row = y + self.scroll_offset.y
        col = x + self.scroll_offset.x
        bpr = self._bpr
        hex0 = OFFSET_WIDTH + 2
        j = None
        if hex0 <= col < hex0 + 3 * bpr + 1:
            c = col - hex0
            if c >= 3 * (bpr // 2):
                c -= 1  # the wider gap in the middle
            j = min(c // 3, bpr - 1)
        elif hex0 + 3 * bpr + 1 <= col < hex0 + 4 * bpr + 1:
            j = col - (hex0 + 3 * bpr + 1)
        if j is None:
            return None
        offset = row * bpr + j
        return offset if 0 <= offset < len(self._buf) else None

    def on_click(self, event: events.Click) -> None:
        offset = self.offset_at(event.x, event.y)
        if offset is not None:
            self.post_message(self.ByteChosen(self, offset))
