"""The Hex pane: the step's fields above its ``wire`` and ``data`` bytes.

Choosing a field in the tree lights up its span in the right buffer; clicking a
byte selects the narrowest field that carried it (or lights that byte alone).
"""

from __future__ import annotations

from wssviz.steps import Field, Step
from wssviz.ui.model import field_at
from wssviz.ui.widgets.base import Pane, View
from wssviz.ui.widgets.detail import Band
from wssviz.ui.widgets.fieldtree import FieldTree
from wssviz.ui.widgets.sections import HexSection, LabelSection, TreeSection


class HexLink:
    """Ties one step's field tree to its two hex dumps, both ways."""

    def __init__(self, step: Step, tree: FieldTree, wire: HexSection, data: HexSection) -> None:
        self.step, self.tree, self.wire, self.data = step, tree, wire, data
        tree.on_cursor = self.light
        wire.on_byte = data.on_byte = self.byte_chosen
        self.light(tree.cursor_field)  # the field under the cursor is lit from the start

    def light(self, f: Field | None) -> None:
        """Highlight ``f``'s span in its buffer (and clear the other)."""
        for view in (self.wire, self.data):
            if f is not None and f.of == view.buffer_name:
                view.set_span(f.start, f.end)
            else:
                view.set_span(0, 0)

    def byte_chosen(self, view: HexSection, offset: int) -> None:
        f = field_at(self.step.fields, view.buffer_name, offset)
        self.light(f)
        if f is None:
            view.set_span(offset, offset + 1)
        else:
            self.tree.select_field(f)


class HexPane(Pane):
    pane_id = "hex"

    def build(self, view: View) -> list[Band]:
        step = view.step
        tree = FieldTree(step.fields, view.title(step), view.lang)
        none = view.t("hex_none")
        wire, data = HexSection("wire", step.wire, none), HexSection("data", step.data, none)
        HexLink(step, tree, wire, data)  # kept alive by the callbacks it sets
        bands = [Band(TreeSection(tree), ("frac", 0.4))]
        if step.wire:
            bands += [Band(LabelSection(f"{view.t('hex_wire')} · {view.t('bytes_n', n=f'{len(step.wire):,}')}",
                                        "wire-label"), ("rows", 1)),
                      Band(wire)]
        bands += [Band(LabelSection(f"{view.t('hex_data')} · {view.t('bytes_n', n=f'{len(step.data):,}')}",
                                    "data-label"), ("rows", 1)),
                  Band(data)]
        return bands
