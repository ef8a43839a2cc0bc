"""One line of pane names, the active one lit; click a name to bring its pane forward.

One widget instead of Textual's ``TabbedContent`` (a Tabs bar, a tab per pane,
an underline, a content switcher): switching panes changes one line and which
pane is displayed, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget


class PaneTabs(Widget):
    COMPONENT_CLASSES = {"panetabs--active"}

    DEFAULT_CSS = """
    PaneTabs { height: 1; color: $text-muted; background: $panel; }
    PaneTabs > .panetabs--active { color: $text; background: $accent; text-style: bold; }
    """

    @dataclass
    class Chosen(Message):
        """The learner clicked a pane's name."""

        pane: str

    def __init__(self, labels: dict[str, str], active: str, *, short: dict[str, str] | None = None,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self._labels = dict(labels)
        self._short = dict(short or labels)  # the names when the full ones do not fit
        self._active = active
        self._spans: list[tuple[int, int, str]] = []

    @property
    def active(self) -> str:
        return self._active

    @active.setter
    def active(self, pane: str) -> None:
        if pane != self._active:
            self._active = pane
            self.refresh()

    def set_labels(self, labels: dict[str, str], short: dict[str, str] | None = None) -> None:
        self._labels.update(labels)
        self._short.update(short or labels)
        self.refresh()

    def render(self) -> Text:
        lit = self.get_component_rich_style("panetabs--active", partial=True)
        # the full names; the short ones (80 columns); only the active pane's name
        for fit in ("full", "short", "numbers"):
            text = Text(no_wrap=True, overflow="crop")
            self._spans = []
            for n, pid in enumerate(self._labels):
                start = text.cell_len
                active = pid == self._active
                label = self._labels[pid] if fit == "full" or (active and fit == "numbers") else self._short[pid]
                pad = " " if fit != "short" else ""  # (80 columns: no room for the padding)
                text.append(f"{pad}{n + 1} {label}{pad}" if fit != "numbers" or active else f" {n + 1} ",
                            lit if active else "")
                self._spans.append((start, text.cell_len, pid))
                text.append("│", "dim")
            if text.cell_len <= self.size.width:
                break
        return text

    def on_click(self, event: events.Click) -> None:
        for start, end, pid in self._spans:
            if start <= event.x < end:
                self.post_message(self.Chosen(pid))
                return
