"""``Msg``: text a learner reads, as data (a catalog key and the values to fill in).

It lives here, at the bottom of the import graph, because rules are broken in
``core`` (a reserved opcode, a header without a colon): an exception carries the
rule as a Msg, and the catalogs (``wssviz/explain``) say it in each language.
Nothing here knows a language.
"""

from __future__ import annotations

from typing import Any


class Msg:
    """A catalog key (in the ``[text]`` table) and the values to fill in.

    Values are literals (``str``: protocol tokens, numbers, hex, peer data; ``int``;
    ``bool``; ``bytes``, shown as hex), lists of them, or other ``Msg`` (words that
    are themselves translated).  ``wssviz.explain.text(msg, lang)`` renders it.
    """

    __slots__ = ("key", "params")

    def __init__(self, key: str, /, **params: Any) -> None:
        self.key = key
        self.params = params

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Msg) and other.key == self.key and other.params == self.params

    def __hash__(self) -> int:
        # the values too: a long session holds thousands of Msgs with one key (a text
        # preview per frame); hashed by key alone they would all collide in a dict
        try:
            return hash((self.key, frozenset(self.params.items())))
        except TypeError:  # a list among the values
            return hash(self.key)

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"Msg({self.key!r}{args})"


def rule(code: str, **params: Any) -> Msg:
    """A broken rule, as the catalogs know it: ``rule.<code>``."""
    return Msg(f"rule.{code}", **params)
