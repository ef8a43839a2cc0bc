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
    gen: int = 0  # the session's generation (bumped by a restart)

    @property
    def step(self) -> Step:
        return self.steps[self.index]

    def key(self, pane: str) -> tuple:
        """What a pane's content for this view depends on (its cache key)."""
        return (pane, self.gen, id(self.steps), self.index, self.lang, self.scheme)

    def t(self, key: str, **kw: object) -> str:
        text = t(key, self.lang)
        return text.format(**kw) if kw else text


class Pane(Vertical):
    """A detail pane; ``show`` is called only while the pane is visible.

    Panes are mounted lazily: ``request`` shows a view now if the pane is
    mounted, else as soon as it is.
    """

    pane_id = ""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._pending: View | None = None

    def request(self, view: View) -> None:
        if self.is_mounted:
            self.show(view)
        else:
            self._pending = view

    def on_mount(self) -> None:
        if self._pending is not None:
            view, self._pending = self._pending, None
            self.show(view)

    def show(self, view: View) -> None:  # pragma: no cover - overridden
        raise NotImplementedError
