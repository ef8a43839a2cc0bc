"""What every detail pane gets (a ``View``) and gives (``Band``s for the detail view)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Sequence

from wssviz import explain
from wssviz.steps import Field, Step
from wssviz.ui.texts import t
from wssviz.ui.widgets.detail import Band
from wssviz.ui.widgets.sections import TextSection

#: Steps whose bands a pane keeps (with their scroll positions and open tree nodes).
KEEP = 128


@dataclass(frozen=True)
class View:
    """The state a pane renders: never a step beyond ``index``."""

    steps: Sequence[Step]
    index: int
    lang: str = "en"
    scheme: str = "wss"
    gen: int = 0  # the session's generation (bumped by a restart)
    compact: bool = False  # presenter mode: each pane's key content first

    @property
    def step(self) -> Step:
        return self.steps[self.index]

    def key(self, pane: str) -> tuple:
        """What a pane's content for this view depends on (its cache key)."""
        return (pane, self.gen, id(self.steps), self.index, self.lang, self.scheme, self.compact)

    def t(self, key: str, **kw: object) -> str:
        text = t(key, self.lang)
        return text.format(**kw) if kw else text

    # what a step and its fields say, in the view's language (the catalogs' words)

    def title(self, step: Step) -> str:
        return explain.title(step, self.lang)

    def summary(self, step: Step) -> str:
        return explain.summary(step, self.lang)

    def label(self, f: Field) -> str:
        return explain.label(f, self.lang)

    def value(self, f: Field | None) -> str:
        return explain.value(f, self.lang) if f is not None else ""

    def text(self, msg: object) -> str:
        return explain.text(msg, self.lang)


class Pane:
    """A detail pane: turns a ``View`` into bands, once per step (then from its cache)."""

    pane_id = ""

    def __init__(self, name: str = "body") -> None:
        self.name = name  # the name of its main band (tests and the aside read it)
        self._kept: OrderedDict[tuple, list[Band]] = OrderedDict()

    def bands(self, view: View) -> list[Band]:
        key = view.key(self.pane_id)
        bands = self._kept.get(key)
        if bands is None:
            bands = self._kept[key] = self.build(view)
            while len(self._kept) > KEEP:
                self._kept.popitem(last=False)
        else:
            self._kept.move_to_end(key)
        return bands

    def forget(self) -> None:
        self._kept.clear()

    def build(self, view: View) -> list[Band]:  # pragma: no cover - overridden
        raise NotImplementedError


class TextPane(Pane):
    """A pane that is one renderable, made by ``content(view)``."""

    def build(self, view: View) -> list[Band]:
        return [Band(TextSection(self.content(view), view.key(self.pane_id), name=self.name))]

    def content(self, view: View):  # pragma: no cover - overridden
        raise NotImplementedError
