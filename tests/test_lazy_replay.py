"""The long-session replay (``LazyReplay``): an index of outlines from a skimming
dissector, whole steps rebuilt from checkpoints.  What a view gets must be exactly
what a plain dissection makes, step for step, in every bundled scenario."""

from __future__ import annotations

import pytest

from wssviz import plain, replay, scenarios
from wssviz.dissect import Dissector, dissect
from wssviz.live.pair import LiveSession


def _capture(name: str):
    live = LiveSession(scenarios.load(name))
    live.run_all()
    return live.capture


def _same(a, b) -> bool:
    return plain.to_json(a, "en") == plain.to_json(b, "en") and plain.to_json(a, "zh") == plain.to_json(b, "zh")


@pytest.mark.parametrize("name", scenarios.names())
def test_outline_and_checkpoints_agree_with_a_plain_dissection(name, monkeypatch):
    cap = _capture(name)
    full = dissect(cap)
    # the skimming dissector finds the same steps: index, kind, direction, title, status
    skim = Dissector(cap, skim=True)
    outline = []
    for ev in cap.events:
        outline += skim.feed(ev)
    outline += skim.finish()
    assert [(s.index, s.kind, s.direction, s.title, s.status) for s in outline] == \
        [(s.index, s.kind, s.direction, s.title, s.status) for s in full]
    # a checkpoint taken anywhere goes on to make exactly the steps a plain run makes
    for at in sorted({0, 1, len(cap.events) // 3, len(cap.events) // 2, len(cap.events) - 1}):
        d = Dissector(cap, skim=True)
        made = []
        for ev in cap.events[:at]:
            made += d.feed(ev)
        copy = d.checkpoint(skim=False)
        rest = []
        for ev in cap.events[at:]:
            rest += copy.feed(ev)
        rest += copy.finish()
        tail = full[len(made):]
        assert len(rest) == len(tail) and all(_same(a, b) for a, b in zip(rest, tail)), (name, at)
    # the session: small windows, every step whole and equal, in any order
    monkeypatch.setattr(replay, "CHECKPOINT_EVERY", 3)
    monkeypatch.setattr(replay, "WINDOWS_KEPT", 2)
    lazy = replay.LazyReplay(cap)
    lazy.run_all()
    assert lazy.finished and len(lazy.steps) == len(full)
    order = list(range(len(full)))[::-1] + list(range(0, len(full), 2))
    for i in order:
        assert _same(lazy.steps[i], full[i]), (name, i)
        assert lazy.steps.outline(i).kind == full[i].kind


def test_a_long_session_keeps_only_a_few_windows(monkeypatch):
    monkeypatch.setattr(replay, "CHECKPOINT_EVERY", 4)
    monkeypatch.setattr(replay, "WINDOWS_KEPT", 3)
    cap = _capture("seed-example")
    lazy = replay.LazyReplay(cap)
    lazy.run_all()
    for i in range(len(lazy.steps)):
        lazy.steps[i]
    assert len(lazy._windows) <= 3
    assert lazy.steps[-1].kind == "tcp.close" and lazy.steps[0].kind == "tcp.connect"
    assert [s.index for s in lazy.steps[2:5]] == [2, 3, 4]
