"""The ``g`` screen: type a step number, Enter goes there."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from wssviz.ui.texts import t


class GotoScreen(ModalScreen[int | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, lang: str = "en", last: int = 0, more: bool = False, reading: bool = False) -> None:
        super().__init__()
        self.lang = lang
        self.last = last
        self.more = more  # steps after ``last`` can still come (a live session, a file being read)
        self.reading = reading  # ... because a replay is still reading its file

    def compose(self) -> ComposeResult:
        with Vertical(id="goto-box"):
            prompt = Text(f"{t('goto_prompt', self.lang)} (0–{self.last})")
            if self.more:
                prompt.append(f"\n{t('goto_reading' if self.reading else 'goto_more', self.lang)}", "dim")
            yield Static(prompt)
            yield Input(type="integer", id="goto-input")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        try:
            self.dismiss(int(event.value))
        except ValueError:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
