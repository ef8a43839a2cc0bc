"""The ``G`` screen: the glossary, the terms of the current step first.

Every term and its meaning comes from the catalogs (``[glossary]``), in the
learner's language; the terms the current step's explanation uses are listed
first, under their own heading.
"""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from wssviz.explain import Term, glossary, mentions
from wssviz.ui.texts import t
from wssviz.ui.widgets.wrapped import Wrapped


def glossary_text(lang: str, context: str = "") -> Group:
    """Every term: those ``context`` (an explanation) mentions first."""
    terms = glossary(lang)
    here = [term for term in terms if context and any(mentions(context, w) for w in term.match)]
    rest = [term for term in terms if term not in here]
    parts: list = [Text(t("glossary_title", lang), "bold")]

    def block(title: str, items: list[Term]) -> None:
        if not items:
            return
        parts.append(Text("\n" + title, "bold underline"))
        for term in items:
            parts.append(Wrapped(f"{term.name}  {term.text}", lead=len(term.name), lead_style="bold cyan"))

    block(t("glossary_here", lang), here)
    block(t("glossary_all", lang), rest)
    return Group(*parts)


class GlossaryScreen(ModalScreen[None]):
    """The glossary in a scrolling box (↑ ↓ PgUp PgDn); Esc, q or G closes it."""

    BINDINGS = [Binding("escape,q,G", "dismiss", "Close", show=False)]
    AUTO_FOCUS = "#glossary-box"
    DEFAULT_CSS = """
    GlossaryScreen { align: center middle; }
    #glossary-box { width: 90%; max-width: 110; height: 90%; background: $panel;
                    border: thick $primary; padding: 0 1; }
    """

    def __init__(self, lang: str = "en", context: str = "") -> None:
        super().__init__()
        self.lang = lang
        self.context = context

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="glossary-box"):
            yield Static(glossary_text(self.lang, self.context))

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
