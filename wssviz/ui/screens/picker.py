"""The ``s`` screen: the scenario library, filtered as you type; Enter runs one live.

The interface never reads scenario files: the composition root hands it the
list as ``ScenarioChoice`` rows.  Their text comes from files, so it is shown
as plain ``Text``, never as markup.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from wssviz.explain import text
from wssviz.ui.texts import t


class ScenarioChoice(NamedTuple):
    """One row of the picker: what the composition root knows about a scenario."""

    name: str
    title: object  # str, or a catalog message (wssviz.steps.Msg) in the learner's language
    goal: object
    description: object = ""


def matches(choice: ScenarioChoice, query: str) -> bool:
    """True if every word of ``query`` occurs in the name, title, goal or description."""
    hay = " ".join(choice).casefold()
    return all(word in hay for word in query.casefold().split())


def prompt(choice: ScenarioChoice, current: bool) -> Text:
    text = Text("● " if current else "  ", "green", no_wrap=True, overflow="ellipsis")
    text.append(choice.name, "bold")
    if choice.title:
        text.append("  " + choice.title)
    if choice.goal:
        text.append("\n    ")
        text.append(choice.goal, "dim")
    return text


class PickerScreen(ModalScreen[str | None]):
    """Dismisses with the chosen scenario's name, or None."""

    DEFAULT_CSS = """
    PickerScreen { align: center middle; }
    #picker-box { width: 90%; max-width: 120; height: 90%; background: $panel;
                  border: thick $primary; padding: 0 1; }
    #picker-title { height: 1; text-style: bold; }
    #picker-hint { height: 1; color: $text-muted; }
    #picker-list { height: 1fr; }
    #picker-detail { height: auto; max-height: 7; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", show=False),
        Binding("down", "move('cursor_down')", show=False, priority=True),
        Binding("up", "move('cursor_up')", show=False, priority=True),
        Binding("pagedown", "move('page_down')", show=False, priority=True),
        Binding("pageup", "move('page_up')", show=False, priority=True),
    ]
    AUTO_FOCUS = "#picker-filter"

    def __init__(self, choices: Sequence[ScenarioChoice], lang: str = "en", current: str = "") -> None:
        super().__init__()
        # the rows' words in the learner's language (a title may be a catalog message)
        self.choices = [ScenarioChoice(c[0], *(text(x, lang) for x in c[1:])) for c in choices]
        self.lang = lang
        self.current = current
        self.shown: list[ScenarioChoice] = []

    def compose(self) -> ComposeResult:
        self.shown = list(self.choices)
        options = OptionList(*self._options(), id="picker-list")
        options.highlighted = self._first("") if self.shown else None
        with Vertical(id="picker-box"):
            yield Static(Text(t("picker_title", self.lang)), id="picker-title")
            yield Static(Text(t("picker_hint", self.lang)), id="picker-hint")
            yield Input(id="picker-filter")
            yield options
            yield Static(self._detail(options.highlighted), id="picker-detail")

    def _options(self) -> list[Option]:
        return [Option(prompt(c, c.name == self.current), id=c.name) for c in self.shown]

    def _first(self, query: str) -> int:
        """Where the highlight starts: on the current scenario while nothing is typed;
        then on the first scenario whose name holds what was typed (a word found only in
        another's description does not take Enter away from it)."""
        if not query:
            return next((i for i, c in enumerate(self.shown) if c.name == self.current), 0)
        words = query.casefold().split()
        return next((i for i, c in enumerate(self.shown) if all(w in c.name.casefold() for w in words)), 0)

    def refilter(self, query: str) -> None:
        self.shown = [c for c in self.choices if matches(c, query)]
        options = self.query_one("#picker-list", OptionList)
        options.clear_options()
        options.add_options(self._options())
        if self.shown:
            options.highlighted = self._first(query)
        self.show_detail()

    def highlighted(self) -> ScenarioChoice | None:
        return self._at(self.query_one("#picker-list", OptionList).highlighted)

    def _at(self, index: int | None) -> ScenarioChoice | None:
        return self.shown[index] if index is not None and 0 <= index < len(self.shown) else None

    def _detail(self, index: int | None) -> Text:
        if not self.shown:
            return Text(t("picker_none", self.lang), "italic")
        detail = Text(t("picker_count", self.lang).format(shown=len(self.shown), total=len(self.choices)),
                      "italic")
        choice = self._at(index)
        if choice is not None and choice.description:
            detail.append("\n")
            detail.append(" ".join(choice.description.split()))
        return detail

    def show_detail(self) -> None:
        index = self.query_one("#picker-list", OptionList).highlighted
        self.query_one("#picker-detail", Static).update(self._detail(index))

    @on(Input.Changed, "#picker-filter")
    def _changed(self, event: Input.Changed) -> None:
        self.refilter(event.value)

    @on(OptionList.OptionHighlighted, "#picker-list")
    def _highlighted(self) -> None:
        self.show_detail()

    @on(Input.Submitted, "#picker-filter")
    def _submitted(self) -> None:
        choice = self.highlighted()
        if choice is not None:
            self.dismiss(choice.name)
        else:
            self.app.bell()

    @on(OptionList.OptionSelected, "#picker-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_move(self, how: str) -> None:
        getattr(self.query_one("#picker-list", OptionList), f"action_{how}")()

    def action_cancel(self) -> None:
        self.dismiss(None)
