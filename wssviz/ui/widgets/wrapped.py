"""A paragraph of catalog text, wrapped to the width it is drawn at.

Latin text is left to Rich (it breaks at spaces).  Text with CJK characters is
wrapped by ``wssviz.textwrap_cjk`` (the rule ``--plain`` uses too): by display
cells, Latin words kept whole, no closing punctuation at a line start and no
opening punctuation at a line end.  Rich alone breaks such text only at the
Latin spaces in it, and may start a line with ``。`` or split ``（`` from its word.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.style import StyleType
from rich.text import Text

from wssviz.textwrap_cjk import cells, wrap


class Wrapped:
    """``text`` (plain, never markup) in ``style``, one paragraph per line of the source.
    ``lead``: the first ``lead`` characters are drawn in ``lead_style`` (a term before
    its meaning, say); they are wrapped with the rest."""

    def __init__(self, text: str, style: StyleType = "", lead: int = 0, lead_style: StyleType = "") -> None:
        self.text = text
        self.style = style
        self.lead = lead
        self.lead_style = lead_style

    def _line(self, line: str, first: bool) -> Text:
        out = Text(line, self.style, no_wrap=True, overflow="crop")
        if first and self.lead:
            out.stylize(self.lead_style, 0, self.lead)
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if cells(self.text) == len(self.text):
            out = Text(self.text, self.style)
            if self.lead:
                out.stylize(self.lead_style, 0, self.lead)
            yield out
            return
        width = options.max_width
        first = True
        for paragraph in self.text.split("\n"):
            for line in wrap(paragraph, width) or [""]:
                yield self._line(line, first)
                first = False

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        longest = max((cells(p) for p in self.text.split("\n")), default=0)
        return Measurement(min(2, longest), min(longest, options.max_width))
