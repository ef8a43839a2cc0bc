"""The Accept pane: Sec-WebSocket-Key → bytes → key + GUID → SHA-1 → base64 → compared.

Each line holds this session's real value, from the ``ws.accept`` and
``ws.accept_check`` steps' fields.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from rich.console import Group

from wssviz.ui.model import clip, latest, status_mark
from wssviz.ui.widgets.base import TextPane, View

CHAIN = (("accept_key", "Sec-WebSocket-Key"), ("accept_decoded", "decoded key"),
         ("accept_concat", "key + GUID"), ("accept.sha1", "SHA-1"),
         ("accept.base64", "Sec-WebSocket-Accept"))
CHECK = (("accept_expected", "expected"), ("accept_received", "received"),
         ("accept_verdict", "verdict"))


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
    for n, (key, name) in enumerate(CHAIN):
        if name == "key + GUID":  # the constant joins here (the step has it as a field)
            table.add_row(Text(view.t("accept_guid"), "dim"), Text(acc.value("GUID", ""), "cyan dim"))
        if n:
            table.add_row(Text("↓", "dim"), Text(""))
        value = acc.value(name, "")
        table.add_row(Text(view.t(key)), Text(clip(value, 400), "cyan"))
    table.add_row(Text(""), Text(""))
    if chk is None:
        table.add_row(Text(""), Text(view.t("accept_pending"), "italic dim"))
    else:
        for key, name in CHECK:
            value = chk.value(name, "")
            style = "cyan"
            if name == "verdict":
                style = {"ok": "bold green", "failed": "bold red"}.get(status_mark(value), "bold")
            table.add_row(Text(view.t(key)), Text(clip(value, 400), style))
    head = Text()
    head.append(f"{acc.title}", "bold")
    head.append(f"  (step {acc.index}" + (f", {chk.index}" if chk else "") + ")\n", "dim")
    return Group(head, table)


class AcceptPane(TextPane):
    pane_id = "accept"

    def content(self, view: View):
        return accept_renderable(view)
