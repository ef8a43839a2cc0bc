"""The Hex pane: the step's fields beside its ``wire`` and ``data`` bytes.

Choosing a field lights up its span in the right buffer; clicking a byte selects
the narrowest field that carried it.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from rich.text import Text
from textual.widgets import Label, Tree

from wssviz.steps import Field, Step
from wssviz.ui.model import field_at
from wssviz.ui.widgets.base import Pane, View
from wssviz.ui.widgets.fieldtree import FieldTree
from wssviz.ui.widgets.hexdump import HexView


class HexPane(Pane):
    pane_id = "hex"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._step: Step | None = None

    def compose(self) -> ComposeResult:
        yield FieldTree(id="hex-tree")
        with Vertical(id="hex-bytes"):
            yield Label(id="hex-wire-label", classes="hex-label")
            yield HexView("wire", id="hex-wire")
            yield Label(id="hex-data-label", classes="hex-label")
            yield HexView("data", id="hex-data")

    def show(self, view: View) -> None:
        step = view.step
        self._step = step
        self.query_one("#hex-tree", FieldTree).show_fields(step.fields, step.title)
        wire = self.query_one("#hex-wire", HexView)
        data = self.query_one("#hex-data", HexView)
        wire.empty_text = data.empty_text = view.t("hex_none")
        wire.set_buffer(step.wire)
        data.set_buffer(step.data)
        self.query_one("#hex-wire-label", Label).update(Text(f"{view.t('hex_wire')} · {len(step.wire):,} B"))
        self.query_one("#hex-data-label", Label).update(Text(f"{view.t('hex_data')} · {len(step.data):,} B"))
        for w in (wire, self.query_one("#hex-wire-label")):
            w.display = bool(step.wire)

    def light(self, f: Field | None) -> None:
        """Highlight ``f``'s span in its buffer (and clear the other)."""
        for view in self.query(HexView):
            if f is not None and f.of == view.buffer_name:
                view.set_span(f.start, f.end)
            else:
                view.set_span(0, 0)

    @on(Tree.NodeHighlighted, "#hex-tree")
    def _tree_moved(self, event: Tree.NodeHighlighted) -> None:
        event.stop()
        self.light(event.node.data)

    @on(HexView.ByteChosen)
    def _byte_chosen(self, event: HexView.ByteChosen) -> None:
        event.stop()
        if self._step is None:
            return
        f = field_at(self._step.fields, event.view.buffer_name, event.offset)
        self.light(f)
        if f is None:
            event.view.set_span(event.offset, event.offset + 1)
        else:
            self.query_one("#hex-tree", FieldTree).select_field(f)
