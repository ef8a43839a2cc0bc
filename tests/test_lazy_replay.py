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


@pytest.mark.parametrize("name", ["seed-example", "permessage-deflate", "fragmented-message", "tls12", "session-resumption"])
def test_a_recording_read_as_it_is_indexed_gives_the_same_steps(name, tmp_path, monkeypatch):
    """The interface's replay of a recording reads its events from the file as the index
    needs them (small pieces of the file here): windows asked for while the file is still
    being read, and after, are the steps a plain dissection makes; the finish steps come
    once the file is read to its end."""
    from wssviz import recording

    cap = _capture(name)
    full = dissect(cap)
    path = tmp_path / "r.json"
    recording.save(cap, path)
    from wssviz.core.jsonstream import JsonStream

    monkeypatch.setattr(JsonStream, "PIECE", 64)
    monkeypatch.setattr(replay, "CHECKPOINT_EVERY", 3)
    head, events = recording.open_recording(path)
    lazy = replay.LazyReplay(head, events=events)
    assert not lazy.complete and lazy.progress[2] == "bytes"
    lazy.ensure(len(full) // 2)
    middle = len(lazy.steps) - 1
    assert not lazy.finished and len(head.events) < len(cap.events)
    assert _same(lazy.steps[middle], full[middle])  # a window built while the file is read
    lazy.run_all()
    assert lazy.complete and lazy.finished and lazy.fault is None and len(lazy.steps) == len(full)
    assert lazy.progress == (len(cap.events), len(cap.events), "events")
    for i in range(len(full) - 1, -1, -1):
        assert _same(lazy.steps[i], full[i]), (name, i)


def test_a_recording_faulty_further_on_ends_the_index_with_its_fault(tmp_path):
    from helpers_capture import faulty_recording

    from wssviz import recording

    path, cap = faulty_recording(tmp_path, 9, "hex", "zz")
    head, events = recording.open_recording(path)  # the head is good
    lazy = replay.LazyReplay(head, events=events)
    lazy.run_all()
    assert lazy.finished and "events[9]" in lazy.fault and len(head.events) == 9
    full = dissect(cap)
    n = len(lazy.steps)
    # what was read is shown as a plain dissection of it shows it (then the session's end)
    assert all(_same(lazy.steps[i], full[i]) for i in range(n - 3)) and 0 < n < len(full)
