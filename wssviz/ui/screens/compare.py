"""The ``c`` screen: the session being stepped beside another scenario, run to its end.

The steps of both aligned by what they are (``wssviz.compare``), each with what an
eavesdropper sees, then the summary table (round trips, bytes, the encrypted share,
what an eavesdropper can read).  The same as ``wssviz compare A B``, in a scrolling
box; Escape closes.
"""

from __future__ import annotations

from typing import Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from wssviz import explain
from wssviz.steps import Step
from wssviz.ui.texts import t

FIRST_STEPS = 400  # (a long replay is compared on its opening, not made whole)
SEES_STYLE = {"clear": "bold red", "encrypted": "green", "local": "dim"}


def compare_renderable(a: Sequence[Step], scheme_a: str, name_a: str, b: Sequence[Step], scheme_b: str,
                       name_b: str, lang: str):
    from wssviz import compare

    a, b = list(a[:FIRST_STEPS]), list(b[:FIRST_STEPS])
    rows = compare.align(a, b)
    steps = Table(box=None, padding=(0, 1), expand=True)
    steps.add_column(f"A · {name_a}", ratio=1, overflow="ellipsis", no_wrap=True)
    steps.add_column("", width=10)
    steps.add_column(f"B · {name_b}", ratio=1, overflow="ellipsis", no_wrap=True)
    steps.add_column("", width=10)

    def cells(s: Step | None, scheme: str) -> tuple[Text, Text]:
        if s is None:
            return Text(""), Text("")
        sees = explain.visibility(s, scheme)
        return (Text(f"{s.index:>3} {compare.arrow(s)} {explain.title(s, lang)}"),
                Text(t(f"compare_sees_{sees}", lang), SEES_STYLE[sees]))

    for r in rows:
        steps.add_row(*cells(r.a, scheme_a), *cells(r.b, scheme_b))
    table = Table(title=t("compare_summary", lang), box=None, padding=(0, 2), title_justify="left")
    table.add_column("")
    table.add_column("A", justify="right")
    table.add_column("B", justify="right")
    for row in compare.summary_rows(compare.summary(a, scheme_a), compare.summary(b, scheme_b), lang, timing=False):
        table.add_row(*row)
    return Group(Text(t("compare_title", lang).format(a=name_a, b=name_b), "bold"), Text(""), steps, Text(""),
                 table)


class CompareScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q", "close", "Close")]

    def __init__(self, renderable, lang: str = "en") -> None:
        super().__init__()
        self.renderable = renderable
        self.lang = lang

    def compose(self) -> ComposeResult:
        box = VerticalScroll(id="compare-box")
        box.border_title = t("key_compare", self.lang)
        with box:
            yield Static(self.renderable)

    def action_close(self) -> None:
        self.dismiss(None)
