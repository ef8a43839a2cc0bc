"""The Accept pane: Sec-WebSocket-Key (its base64 text) + GUID → SHA-1 → base64 → compared.

Each line holds this session's real value, from the ``ws.accept`` and
``ws.accept_check`` steps' fields.  The key's 16 decoded bytes stand beside the
chain, not in it: only their length is checked; what is hashed is the key's text.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from rich.console import Group

from wssviz.ui.model import clip, latest, status_mark
from wssviz.ui.widgets.base import TextPane, View
from wssviz.ui.widgets.wrapped import Wrapped

CHAIN = (("accept_key", "ws.accept.key"), ("accept_concat", "ws.accept.joined"),
         ("accept.sha1", "ws.accept.sha1"), ("accept.base64", "ws.accept.accept"))
CHECK = (("accept_expected", "ws.accept_check.expected"), ("accept_received", "ws.accept_check.received"),
         ("accept_verdict", "ws.accept_check.verdict"))


def accept_renderable(view: View):
    acc = latest(view.steps, view.index, kinds=("ws.accept",))
    if acc is None:
        return Text(view.t("accept_none"), "italic")
    chk = latest(view.steps, view.index, kinds=("ws.accept_check",))
    table = Table(show_header=False, box=None, expand=True, padding=(0, 1))
    # the values get two thirds: an Accept value (28 characters) stays on one line from
    # a pane of 44 columns on (80x24); longer values fold
    table.add_column(ratio=1, style="bold")
    table.add_column(ratio=2, overflow="fold")
    compact = view.compact  # presenter mode: the whole chain on an 80x24 screen
    for n, (key, id) in enumerate(CHAIN):
        if id == "ws.accept.joined":  # the constant joins here (the step has it as a field)
            table.add_row(Wrapped(view.t("accept_guid"), "dim"),
                          Text(view.value(acc.find("ws.accept.guid")), "cyan dim"))
        if n and not compact:
            table.add_row(Text("↓", "dim"), Text(""))
        label = ("↓ " if n and compact else "") + view.t(key)
        table.add_row(Wrapped(label), Text(clip(view.value(acc.find(id)), 400), "cyan"))
        if id == "ws.accept.key" and not compact:  # beside the chain: decoded only to check its length
            table.add_row(Wrapped(view.t("accept_decoded"), "dim"),
                          Text(clip(view.value(acc.find("ws.accept.decoded_key")), 400), "dim"))
    if not compact:
        table.add_row(Text(""), Text(""))
    if chk is None:
        table.add_row(Text(""), Text(view.t("accept_pending"), "italic dim"))
    else:
        for key, id in CHECK:
            f = chk.find(id)
            style = "cyan"
            if id == "ws.accept_check.verdict" and f is not None:
                style = {"ok": "bold green", "failed": "bold red"}.get(status_mark(f), "bold")
            table.add_row(Wrapped(view.t(key)), Text(clip(view.value(f), 400), style))
    head = Text()
    head.append(view.title(acc), "bold")
    steps = f"{acc.index}, {chk.index}" if chk else f"{acc.index}"
    head.append("  " + view.t("accept_steps", steps=steps) + ("" if compact else "\n"), "dim")
    return Group(head, table)


class AcceptPane(TextPane):
    pane_id = "accept"

    def content(self, view: View):
        return accept_renderable(view)
