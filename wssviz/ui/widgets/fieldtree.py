"""A step's fields as a tree: "name: value" per node, values as plain text.

Labels are always ``rich.text.Text`` (a peer's close reason such as
``[/bold][link=x]`` must show as those characters, never as markup).  Long
values are clipped to one line; very wide nodes (an XOR lane of a huge frame)
are already limited by the dissector.
"""

from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from wssviz.steps import Field
from wssviz.ui.model import clip

#: Nodes this deep or shallower start expanded.
OPEN_DEPTH = 2
#: Most children drawn under one node.
CHILD_LIMIT = 256


def field_label(f: Field) -> Text:
    text = Text(no_wrap=True)
    text.append(f.name, "bold")
    if f.value:
        text.append(": ")
        text.append(clip(f.value))
    if f.of != "none":
        text.append(f"  [{f.of} {f.start}:{f.end}]", "dim")
    return text


class FieldTree(Tree[Field]):
    DEFAULT_CSS = """
    FieldTree { height: 1fr; background: $surface; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Text("fields"), id=id)
        self.show_root = False
        self.guide_depth = 2
        self._field_nodes: dict[int, TreeNode[Field]] = {}
        #: The step whose fields are shown (set by the pane that fills the tree).
        self.shown: object = None

    def show_fields(self, fields: Sequence[Field], root_label: str = "fields") -> None:
        self.clear()
        self.root.set_label(Text(root_label))
        self._field_nodes = {}
        for f in fields:
            self._add(self.root, f, 1)
        self.root.expand()
        self.scroll_to(0, 0, animate=False, immediate=True)

    def _add(self, parent: TreeNode[Field], f: Field, depth: int) -> None:
        if f.children:
            node = parent.add(field_label(f), data=f, expand=depth <= OPEN_DEPTH)
            for c in f.children[:CHILD_LIMIT]:
                self._add(node, c, depth + 1)
            if len(f.children) > CHILD_LIMIT:
                node.add_leaf(Text(f"… {len(f.children) - CHILD_LIMIT} more", "dim"))
        else:
            node = parent.add_leaf(field_label(f), data=f)
        self._field_nodes[id(f)] = node

    def select_field(self, f: Field) -> None:
        """Move the cursor to ``f`` (opening its parents) without re-posting it."""
        node = self._field_nodes.get(id(f))
        if node is None:
            return
        p = node.parent
        while p is not None:
            p.expand()
            p = p.parent
        self.call_after_refresh(self._move_to, node)

    def _move_to(self, node: TreeNode[Field]) -> None:
        if node.line >= 0:
            self.cursor_line = node.line
            self.scroll_to_line(node.line)
