"""The line over the ladder: "client" over the left rail, "server" over the right.

It is laid out when it is rendered, from its own width, so the first layout
already shows it right and a resize or a return from presenter mode needs no
second pass (a line computed from the ladder's width after a layout costs a
frame of its own).
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.widget import Widget

from wssviz.ui.texts import t

#: Columns before the client label: the ladder's rail sits under its first letter.
INDENT = 4


def head_line(width: int, lang: str) -> Text:
    """The head for a ladder ``width`` cells wide (CJK labels are two cells a character)."""
    left, right = t("timeline_client", lang), t("timeline_server", lang)
    text = Text(" " * INDENT + left, "bold", no_wrap=True, overflow="crop")
    gap = max(width - INDENT - cell_len(left) - cell_len(right) - 1, 1)
    text.append(" " * gap + right)
    return text


class LadderHead(Widget):
    DEFAULT_CSS = """
    LadderHead { height: 1; }
    """

    def __init__(self, lang: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lang = lang

    def set_lang(self, lang: str) -> None:
        if lang != self.lang:
            self.lang = lang
            self.refresh()

    def render(self) -> Text:
        return head_line(max(self.content_size.width, 20), self.lang)
