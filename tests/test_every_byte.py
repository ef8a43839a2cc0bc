"""Every byte labelled: each byte of every step's ``wire`` and ``data`` lies inside a
leaf field, for every bundled scenario and for real peers' captures, measured on the
``--json`` objects exactly as anyone could measure them."""

from __future__ import annotations

import pytest

from wssviz import plain, scenarios
from wssviz.cli import load_capture
from wssviz.dissect import dissect
from wssviz.live.pair import LiveSession

DATA = __import__("pathlib").Path(__file__).parent / "data"


def _leaves(fields):
    for f in fields:
        if f["children"]:
            yield from _leaves(f["children"])
        else:
            yield f


def unlabelled(step: dict) -> dict[str, list[tuple[int, int]]]:
    """The byte ranges of ``wire`` and ``data`` that no leaf field spans."""
    out = {}
    for of in ("wire", "data"):
        n = len(step[of]) // 2
        mark = bytearray(n)
        for f in _leaves(step["fields"]):
            if f["of"] == of:
                mark[max(0, f["start"]):min(n, f["end"])] = b"\x01" * max(0, min(n, f["end"]) - max(0, f["start"]))
        gaps, i = [], 0
        while i < n:
            if not mark[i]:
                j = i
                while j < n and not mark[j]:
                    j += 1
                gaps.append((i, j))
                i = j
            else:
                i += 1
        if gaps:
            out[of] = gaps
    return out


def share(steps: list[dict]) -> float:
    total = labelled = 0
    for s in steps:
        gaps = unlabelled(s)
        for of in ("wire", "data"):
            n = len(s[of]) // 2
            total += n
            labelled += n - sum(b - a for a, b in gaps.get(of, []))
    return labelled / total if total else 1.0


@pytest.mark.parametrize("name", scenarios.names())
def test_every_byte_of_every_scenario_is_labelled(name):
    steps = [plain.step_dict(s, "en") for s in LiveSession(scenarios.load(name)).run_all()]
    bad = [(s["index"], s["kind"], unlabelled(s)) for s in steps if unlabelled(s)]
    assert share(steps) == 1.0 and not bad, bad[:5]


@pytest.mark.parametrize("capture, keys", [
    ("chromium-156-listen.pcap", "chromium-156-listen.keys"),
    ("deflate/websockets-wss.pcap", "deflate/websockets-wss.keys"),
    ("deflate/nodews-ws.pcap", None),
])
def test_every_byte_of_real_peers_is_labelled(capture, keys):
    cap = load_capture(str(DATA / capture), str(DATA / keys) if keys else None)
    steps = [plain.step_dict(s, "en") for s in dissect(cap)]
    assert share(steps) == 1.0, [(s["index"], s["kind"], unlabelled(s)) for s in steps if unlabelled(s)][:5]


def test_the_measure_sees_a_gap():
    step = {"wire": "00112233", "data": "", "fields": [
        {"id": "x", "start": 0, "end": 4, "of": "wire", "children": [
            {"id": "x.a", "start": 0, "end": 1, "of": "wire", "children": []},
            {"id": "x.b", "start": 3, "end": 4, "of": "wire", "children": []}]}]}
    assert unlabelled(step) == {"wire": [(1, 3)]} and share([step]) == 0.5
