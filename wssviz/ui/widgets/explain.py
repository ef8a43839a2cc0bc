"""The Explanation pane: what just happened, why, what an eavesdropper sees, the RFC."""

from __future__ import annotations

from rich.text import Text

from wssviz.explain import explain
from wssviz.ui.widgets.base import TextPane, View


def explanation_text(view: View) -> Text:
    """The explanation of the current step as plain Text (catalog text is not markup)."""
    step = view.step
    e = explain(step, view.lang, scheme=view.scheme)
    out = Text()
    out.append(e.title or step.title, "bold")
    out.append("\n")
    out.append(step.summary, "italic")
    out.append("\n")
    for key, body in (("explain_what", e.what), ("explain_why", e.why),
                      ("explain_eavesdropper", e.eavesdropper), ("explain_rfc", e.rfc)):
        if body:
            out.append("\n")
            out.append(view.t(key), "bold underline")
            out.append("\n")
            out.append(body)
            out.append("\n")
    return out


class ExplainPane(TextPane):
    pane_id = "explain"

    def content(self, view: View):
        return explanation_text(view)
