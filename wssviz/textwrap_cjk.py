"""Wrap text that mixes Latin and CJK to terminal cells (standard library only).

One rule for every view that wraps teaching text (``--plain`` and the interface):

- widths are counted in terminal cells: a wide (CJK) character takes two;
- Latin text breaks at spaces (``textwrap``); CJK text may break between any two
  characters, and a Latin word inside CJK text stays whole;
- no line starts with closing punctuation (``NO_LINE_START``: ，。）… ) and no line
  ends with opening punctuation (``NO_LINE_END``: （「… ): the character before the
  break moves down with it, unless that would make the next line run past the
  width: a line never does.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from functools import cache

__all__ = ["NO_LINE_END", "NO_LINE_START", "cells", "wrap"]

#: Punctuation that never starts a line.
NO_LINE_START = frozenset("，。：；、！？）」』》〉】〕”’…")
#: Punctuation that never ends a line.
NO_LINE_END = frozenset("（「『《〈【〔“‘")

_WIDE = "\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6"


@cache
def _tokens() -> re.Pattern[str]:
    """Latin runs (with the spaces after them), single wide characters (with theirs), and
    leading spaces.  Compiled on first use: its two wide character classes cost ~4 ms,
    which text without wide characters never needs."""
    return re.compile(rf"[^\s{_WIDE}]+\s*|[{_WIDE}]\s*|\s+")


def cells(text: str) -> int:
    """Terminal cells ``text`` takes: two for each wide (East Asian W/F) character."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, ending in "…" if it was cut."""
    if cells(text) <= width:
        return text
    out, used = [], 1
    for ch in text:
        used += cells(ch)
        if used > width:
            break
        out.append(ch)
    return "".join(out) + "…"


def _split_long(token: str, width: int) -> list[str]:
    """A word longer than a line, cut into pieces of at most ``width`` cells."""
    out, piece = [], ""
    for ch in token:
        if piece and cells(piece + ch) > width:
            out.append(piece)
            piece = ""
        piece += ch
    return out + [piece] if piece else out


def wrap(text: str, width: int, first: str = "", rest: str = "") -> list[str]:
    """``text`` as lines of at most ``width`` cells, ``first``/``rest`` before each line.

    Text without wide characters is wrapped by ``textwrap`` (at spaces); text with
    them by cells, under the punctuation rules above.  Whitespace at a break goes.
    """
    if cells(text) == len(text):
        return textwrap.wrap(text, width, initial_indent=first, subsequent_indent=rest)
    lines: list[str] = []
    line: list[str] = []  # tokens of the line being filled
    prefix = first

    def emit() -> None:
        nonlocal prefix
        body = "".join(line).rstrip()
        if body:
            lines.append(prefix + body)
        prefix = rest

    room = max(width - max(cells(first), cells(rest)), 1)
    tokens = [p for tok in _tokens().findall(text) for p in
              (_split_long(tok, room) if cells(tok.rstrip()) > room else [tok])]
    for tok in tokens:
        if not line and not tok.strip():
            continue  # no line starts with a space
        if line and cells(prefix) + cells("".join(line) + tok.rstrip()) > width:
            # the break goes between line[-1] and the next token; move it back while
            # that would start a line with closing or end one with opening punctuation
            carry: list[str] = []
            while len(line) > 1:
                after = carry[0] if carry else tok
                if after[:1] in NO_LINE_START or line[-1].rstrip()[-1:] in NO_LINE_END:
                    carry.insert(0, line.pop())
                else:
                    break
            if carry and cells(rest) + cells("".join(carry) + tok.rstrip()) > width:
                line += carry  # moving that much down would overflow the next line: don't
                carry = []
            emit()
            line = carry
            while line and not line[0].strip():
                line.pop(0)
            if not line and not tok.strip():
                continue
        line.append(tok)
    emit()
    return lines
