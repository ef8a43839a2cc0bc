"""The Upgrade pane: the HTTP request and response as text, headers that matter lit.

The lines are the step's fields (its request or status line, one field per header,
as the peer sent them: plain Text, never markup); the headers RFC 6455 §4 cares
about are highlighted and explained.
"""

from __future__ import annotations

from rich.text import Text

from wssviz.steps import Step
from wssviz.ui.model import clip, latest
from wssviz.ui.widgets.base import TextPane, View

#: Headers highlighted and explained, in the order they are explained.
MATTERS = ("host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version",
           "sec-websocket-protocol", "sec-websocket-extensions", "origin",
           "sec-websocket-accept")
LINE_LIMIT = 200


def head_text(step: Step) -> tuple[Text, list[str]]:
    """The HTTP head with important header lines highlighted, and which ones were seen."""
    out = Text()
    seen: list[str] = []
    first = step.find("http.request_line") or step.find("http.status_line")
    if first is not None:
        out.append(clip(str(first.raw), 400) + "\n", "bold")
    headers = step.all("http.header")
    for h in headers[:LINE_LIMIT]:
        name = h.name or ""
        key = name.strip().lower()
        if key in MATTERS:
            seen.append(key)
            out.append(name + ":", "bold magenta")
            out.append(" " + clip(str(h.raw), 400) + "\n", "bold")
        else:
            out.append(clip(f"{name}: {h.raw}", 400) + "\n", "dim")
    if len(headers) > LINE_LIMIT:
        out.append(f"… +{len(headers) - LINE_LIMIT}\n", "dim")
    return out, seen


def upgrade_text(view: View) -> Text:
    req = latest(view.steps, view.index, kinds=("http.upgrade_request",))
    out = Text()
    if req is None:
        out.append(view.t("upgrade_none"), "italic")
        return out
    resp = latest(view.steps, view.index, kinds=("http.upgrade_response",))
    seen: list[str] = []
    for label, step in ((view.t("upgrade_request"), req), (view.t("upgrade_response"), resp)):
        out.append(label + "\n", "bold underline")
        if step is None:
            out.append(view.t("upgrade_waiting") + "\n\n", "italic dim")
            continue
        if step.index == view.index:
            out.append("▶ " + view.t("upgrade_step", n=step.index) + "\n", "bold reverse")
        else:
            out.append(view.t("upgrade_step", n=step.index) + "\n", "dim")
        text, names = head_text(step)
        out.append_text(text)
        out.append("\n")
        seen += [n for n in names if n not in seen]
    if seen:
        out.append(view.t("upgrade_matters") + "\n", "bold underline")
        for key in MATTERS:
            if key in seen:
                out.append(key.title().replace("Websocket", "WebSocket"), "bold magenta")
                out.append(view.t("field_sep") + view.t("header_" + key) + "\n")
    return out


class UpgradePane(TextPane):
    pane_id = "upgrade"

    def content(self, view: View):
        return upgrade_text(view)
