"""What every detail pane gets: the steps so far, the current index, the language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from textual.containers import Vertical

from wssviz.steps import Step
from wssviz.ui.texts import t


@dataclass(frozen=True)
class View:
    """The state a pane renders: never a step beyond ``index``."""

    steps: Sequence[Step]
    index: int
    lang: str = "en"
    scheme: str = "wss"

    @property
    def step(self) -> Step:
        return self.steps[self.index]

    def t(self, key: str, **kw: object) -> str:
        text = t(key, self.lang)
        return text.format(**kw) if kw else text


class Pane(Vertical):
    """A detail pane; ``show`` is called only while the pane is visible."""

    pane_id = ""

    def show(self, view: View) -> None:  # pragma: no cover - overridden
        raise NotImplementedError
