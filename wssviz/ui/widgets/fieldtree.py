"""A step's fields as a tree of lines: "name: value" per node, values as plain text.

This is a model, not a widget: ``TreeSection`` (sections.py) draws its visible
lines inside the detail view, each line rendered once into a ``Strip`` and kept.
Labels are always ``rich.text.Text`` (a peer's close reason such as
``[/bold][link=x]`` must show as those characters, never as markup).  Long
values are clipped to one line, except on the cursor's line, which unfolds over as
many rows as its whole value needs (``TreeSection``); very wide nodes (an XOR lane of a huge frame)
are already limited by the dissector.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from rich.text import Text

from wssviz.explain import label as field_name
from wssviz.explain import value as field_value
from wssviz.explain import ui_text
from wssviz.steps import Field
from wssviz.ui.model import clip

#: Nodes this deep or shallower start expanded.
OPEN_DEPTH = 2
#: Most children drawn under one node.
CHILD_LIMIT = 256


def field_label(f: Field, lang: str = "en", limit: int | None = None) -> Text:
    """``name: value  [span]``, the value clipped to one line (or to ``limit`` characters)."""
    text = Text(no_wrap=True)
    text.append(field_name(f, lang), "bold")
    value = field_value(f, lang)
    if value:
        text.append(ui_text("field_sep", lang))
        text.append(clip(value) if limit is None else clip(value, limit))
    if f.of != "none":
        text.append("  " + span_text(f, lang), "dim")
    return text


def span_text(f: Field, lang: str) -> str:
    """Where a field's bytes are: ``[data 6:11]`` (``[数据 6:11]``)."""
    return ui_text("span", lang).format(of=ui_text(f"span_{f.of}", lang), start=f.start, end=f.end)


@dataclass(eq=False)
class Node:
    """One line of the tree: a field (or a "… more" note when ``data`` is None)."""

    label: Text
    data: Field | None
    depth: int
    parent: "Node | None"
    last: bool = True  # the last child of its parent (draws └ instead of ├)
    expanded: bool = False
    children: list["Node"] = field(default_factory=list)

    @property
    def guides(self) -> str:
        """The tree guides before the label: rails of the ancestors, then this node's branch."""
        if self.depth <= 1:
            return ""
        rails = []
        p = self.parent
        while p is not None and p.depth > 1:
            rails.append("  " if p.last else "│ ")
            p = p.parent
        return "".join(reversed(rails)) + ("└ " if self.last else "├ ")

    @property
    def toggle(self) -> str:
        if not self.children:
            return ""
        return "▼ " if self.expanded else "▶ "


class FieldTree:
    """The fields of one step as nodes, which are open, and where the cursor is.

    ``on_cursor(field)`` is called whenever the cursor moves to another node by
    the learner's hand (keys, clicks, ``move_to``), not when the hex view asks
    ``select_field`` to show a field it already lit.
    """

    def __init__(self, fields: Sequence[Field], title: str = "fields", lang: str = "en") -> None:
        self.title = title
        self.lang = lang
        self.roots: list[Node] = []
        self._by_field: dict[int, Node] = {}
        for n, f in enumerate(fields):
            self.roots.append(self._add(None, f, 1, n == len(fields) - 1))
        self.cursor = 0
        self.on_cursor: Callable[[Field | None], None] | None = None
        self._visible: list[Node] | None = None
        #: Bumped on every change of the visible lines (the drawing cache's key).
        self.version = 0

    def _add(self, parent: Node | None, f: Field, depth: int, last: bool) -> Node:
        node = Node(field_label(f, self.lang), f, depth, parent, last, expanded=depth <= OPEN_DEPTH)
        self._by_field[id(f)] = node
        kids = f.children[:CHILD_LIMIT]
        more = len(f.children) - len(kids)
        for i, c in enumerate(kids):
            node.children.append(self._add(node, c, depth + 1, i == len(kids) - 1 and not more))
        if more > 0:
            node.children.append(Node(Text(f"… +{more}", "dim"), None, depth + 1, node, True))
        return node

    # -- the visible lines -----------------------------------------------------

    @property
    def visible(self) -> list[Node]:
        if self._visible is None:
            out: list[Node] = []

            def walk(nodes: list[Node]) -> None:
                for n in nodes:
                    out.append(n)
                    if n.expanded and n.children:
                        walk(n.children)

            walk(self.roots)
            self._visible = out
        return self._visible

    def _changed(self) -> None:
        self._visible = None
        self.version += 1

    def node_for(self, f: Field) -> Node | None:
        return self._by_field.get(id(f))

    @property
    def cursor_node(self) -> Node | None:
        vis = self.visible
        return vis[self.cursor] if 0 <= self.cursor < len(vis) else None

    @property
    def cursor_field(self) -> Field | None:
        node = self.cursor_node
        return node.data if node is not None else None

    def all_text(self) -> str:
        """Every node's label, open or not, one per line (for tests and exports)."""
        out = [self.title]

        def walk(nodes: list[Node]) -> None:
            for n in nodes:
                out.append(n.label.plain)
                walk(n.children)

        walk(self.roots)
        return "\n".join(out)

    # -- moving ----------------------------------------------------------------

    def set_cursor(self, line: int, notify: bool = True) -> None:
        vis = self.visible
        if not vis:
            return
        line = min(max(line, 0), len(vis) - 1)
        moved = line != self.cursor
        self.cursor = line
        if notify and moved and self.on_cursor is not None:
            self.on_cursor(vis[line].data)

    def toggle(self, line: int | None = None) -> None:
        """Open or close the node on ``line`` (the cursor's by default)."""
        vis = self.visible
        line = self.cursor if line is None else line
        if 0 <= line < len(vis) and vis[line].children:
            node = vis[line]
            node.expanded = not node.expanded
            self._changed()
            self.cursor = self.visible.index(vis[self.cursor]) if vis[self.cursor] in self.visible \
                else self.visible.index(node)

    def move_to(self, f: Field, notify: bool = True) -> bool:
        """Put the cursor on ``f``, opening its parents; False if ``f`` is not in the tree."""
        node = self._by_field.get(id(f))
        if node is None:
            return False
        p, opened = node.parent, False
        while p is not None:
            if not p.expanded:
                p.expanded = opened = True
            p = p.parent
        if opened:
            self._changed()
        line = self.visible.index(node)
        if notify:
            self.set_cursor(line)
        else:
            self.cursor = line
        return True

    def expand(self, f: Field) -> bool:
        """Open ``f``'s node and its parents (the cursor stays where it is); False if absent."""
        node = self._by_field.get(id(f))
        if node is None:
            return False
        at = self.cursor_node
        while node is not None:
            node.expanded = True
            node = node.parent
        self._changed()
        if at is not None:
            self.cursor = self.visible.index(at)
        return True

    def select_field(self, f: Field) -> None:
        """Move the cursor to ``f`` without telling ``on_cursor`` (the hex view chose it)."""
        self.move_to(f, notify=False)
