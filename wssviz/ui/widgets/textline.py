"""A fixed-height line (or few) of Rich text that repaints without a new layout.

``Static.update`` always asks for a new layout of the whole screen, because its
height may follow its content.  The step heading and the status line have a
height set in CSS, so changing their text only needs that widget repainted.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget


class TextLine(Widget):
    DEFAULT_CSS = """
    TextLine { height: 1; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        #: What is shown (tests read it).
        self.content: RenderableType = Text("")

    def update(self, content: RenderableType) -> None:
        self.content = content
        self.refresh()

    def render(self) -> RenderableType:
        return self.content
