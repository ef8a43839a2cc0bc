"""The key bar: one line of the keys that work now, drawn by one widget.

Textual's ``Footer`` mounts a widget per key (and every widget is styled and
laid out on start-up and on each bindings change).  This draws the same line
itself from the screen's active bindings, whose descriptions already come from
the catalogs, and repaints only when the line really changes.  Clicking a key
presses it.  When the line is too narrow for every key, ← → ? q l come first and
the others follow as room allows; the command palette hint only fits in last.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widget import Widget

from wssviz.ui.texts import t

#: Actions shown first, whatever the width: a newcomer can always move, get help, quit
#: and find the other language.
FIRST = ("previous", "next", "help", "quit", "language")


class KeyBar(Widget):
    COMPONENT_CLASSES = {"keybar--key"}

    DEFAULT_CSS = """
    KeyBar { height: 1; background: $footer-background; color: $footer-foreground; }
    KeyBar > .keybar--key { color: $footer-key-foreground; background: $footer-key-background;
                            text-style: bold; }
    """

    def __init__(self, lang: str = "en", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lang = lang
        self._items: tuple[tuple[str, str, str], ...] = ()
        self._spans: list[tuple[int, int, str]] = []
        self._actions: dict[str, str] = {}  # key → action of each item

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._items = self._collect()

    def set_lang(self, lang: str) -> None:
        self.lang = lang
        self._bindings_changed(None)
        self.refresh()

    def _collect(self) -> tuple[tuple[str, str, str], ...]:
        """(key, shown key, description) of each binding shown, in binding order, once per action."""
        items: list[tuple[str, str, str]] = []
        seen: set[str] = set()
        self._actions = {}
        for key, active in self.screen.active_bindings.items():
            b = active.binding
            if not b.show or not b.description or b.action in seen or not active.enabled:
                continue
            seen.add(b.action)
            self._actions[key] = b.action
            items.append((key, b.key_display or self.app.get_key_display(b), b.description))
        return tuple(items)

    def _bindings_changed(self, _screen: object) -> None:
        items = self._collect()
        if items != self._items:  # the same line again needs no repaint (and no frame)
            self._items = items
            self.refresh()

    def _ordered(self) -> list[tuple[str, str, str]]:
        """The items, the ones a newcomer needs first (← → ? q), then the rest in binding order."""
        def rank(item: tuple[str, str, str]) -> int:
            action = self._actions.get(item[0], "")
            return FIRST.index(action) if action in FIRST else len(FIRST)

        return sorted(self._items, key=rank)

    def render(self) -> Text:
        key_style = self.get_component_rich_style("keybar--key", partial=True)
        text = Text(no_wrap=True, overflow="crop", end="")
        self._spans = []
        width = self.size.width
        for key, shown, description in self._ordered():
            item = cell_len(f" {shown} ") + cell_len(description + " ")
            if text.cell_len + item > width:
                continue  # no room: a shorter one further on may still fit
            start = text.cell_len
            text.append(f" {shown} ", key_style)
            text.append(description + " ")
            self._spans.append((start, text.cell_len, key))
        palette = f"▏^p {t('key_palette', self.lang).lower()} "
        if self.app.ENABLE_COMMAND_PALETTE and text.cell_len + cell_len(palette) + 2 <= width:
            text.append(" " * (self.size.width - text.cell_len - cell_len(palette)))
            text.append(palette, "dim")
        return text

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                self.app.simulate_key(key)
                return
