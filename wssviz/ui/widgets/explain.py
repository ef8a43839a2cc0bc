"""The Explanation pane: what just happened, why, what an eavesdropper sees, the RFC."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text

from wssviz.explain import explain
from wssviz.ui.widgets.base import TextPane, View
from wssviz.ui.widgets.wrapped import Wrapped


def explanation_text(view: View, brief: bool = False):
    """The explanation of the current step (catalog text is plain text, never markup).

    ``brief`` leaves out the title and summary (shown by the step heading above)."""
    step = view.step
    e = explain(step, view.lang, scheme=view.scheme)
    parts: list = []
    if not brief:
        head = Text()
        head.append(e.title or view.title(step), "bold")
        head.append("\n")
        head.append(view.summary(step), "italic")
        parts += [head, Text("")]
    for key, body in (("explain_what", e.what), ("explain_why", e.why),
                      ("explain_eavesdropper", e.eavesdropper), ("explain_rfc", e.rfc)):
        if body:
            parts += [Text(view.t(key), "bold underline"), Wrapped(body), Text("")]
    return Group(*parts[:-1]) if parts else Text("")


class ExplainPane(TextPane):
    pane_id = "explain"

    def content(self, view: View):
        return explanation_text(view)


class BriefExplainPane(ExplainPane):
    """What / Why / Eavesdropper / RFC only: shown beside or under another pane, or in
    presenter mode, where the step heading already gives the title and summary."""

    pane_id = "explain-brief"

    def content(self, view: View):
        return explanation_text(view, brief=True)
