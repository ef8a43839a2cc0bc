"""core.jsonstream: a JSON document walked a piece at a time gives the values
json.loads gives, and at a fault says what json.loads says (message, line, column,
offset), whatever the size of the pieces."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wssviz.core.jsonstream import JsonStream, JsonStreamError

leaves = st.none() | st.booleans() | st.integers(-10**12, 10**12) | \
    st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4) |
                      st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=12)


def walk(text: bytes, piece: int):
    """The document as this module reads a recording: an object whose 'items' key, if
    it holds a list, is read item by item."""
    r = JsonStream(io.BytesIO(text))
    r.PIECE = r.want = piece
    out: dict = {}
    r.expect("{")
    first = True
    while (k := r.key(first)) is not None:
        first = False
        if k == "items" and r.peek() == "[":
            r.expect("[")
            items, more = [], r.array_item(True)
            while more:
                items.append(r.value())
                more = r.array_item(False)
            out[k] = items
        else:
            out[k] = r.value()
    r.end()
    return out


@settings(max_examples=150, deadline=None)
@given(head=st.dictionaries(st.text(max_size=6).filter(lambda k: k != "items"), values, max_size=4),
       items=st.lists(values, max_size=8), indent=st.sampled_from([None, 0, 1, 3]),
       piece=st.integers(1, 64))
def test_pieces_give_what_the_whole_gives(head, items, indent, piece):
    doc = {**head, "items": items}
    text = json.dumps(doc, indent=indent).encode()
    assert walk(text, piece) == json.loads(text)


@settings(max_examples=150, deadline=None)
@given(items=st.lists(values, min_size=1, max_size=6), cut=st.integers(1, 10**6),
       piece=st.integers(1, 32), indent=st.sampled_from([None, 1]))
def test_a_cut_document_fails_where_json_loads_fails(items, cut, piece, indent):
    text = json.dumps({"a": 1, "items": items, "z": [1.5e3]}, indent=indent)
    text = text[: cut % len(text)]
    with pytest.raises(json.JSONDecodeError) as whole:
        json.loads(text)
    with pytest.raises(JsonStreamError) as ours:
        walk(text.encode(), piece)
    e, w = ours.value, whole.value
    assert e.kind == "syntax"
    # the same place; the message too, except where json.loads names an inner value
    # and this reader names the structure around it (both point at the same offset)
    assert (e.line, e.column, e.offset) == (w.lineno, w.colno, w.pos), (e.msg, w.msg)


@pytest.mark.parametrize("text, kind, offset", [
    (b'{"a": [1, 2,, 3]}', "syntax", 12),
    (b'{"a": 1} x', "syntax", 9),
    (b'{"a": 1 "b": 2}', "syntax", 8),
    (b'{"a": "\xff"}', "utf8", 7),
    (b'{"a": ' + b"[" * 100000 + b"]" * 100000 + b"}", "deep", 6),
    (b'{"a": ' + b"9" * 5000 + b"}", "value", 6),
])
def test_faults_name_their_kind_and_offset(text, kind, offset):
    for piece in (1, 5, 1 << 18):
        with pytest.raises(JsonStreamError) as err:
            walk(text, piece)
        assert (err.value.kind, err.value.offset) == (kind, offset), (piece, err.value.msg)


def test_a_long_value_grows_the_piece_and_a_short_one_shrinks_it_back():
    big = "x" * 100_000
    text = json.dumps({"items": [big, 1, 2]}).encode()
    r = JsonStream(io.BytesIO(text))
    r.PIECE = r.want = 1000
    r.expect("{")
    assert r.key(True) == "items"
    r.expect("[")
    assert r.array_item(True) and r.value() == big and r.want == 1000
    assert r.array_item(False) and r.value() == 1
    assert len(r.buf) < 2000 + 1000  # what was read and let go is not kept
