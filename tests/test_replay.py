"""Replays are Sessions rebuilt through Dissect as they are read."""

from __future__ import annotations

from wssviz.dissect import dissect
from wssviz.live.pair import LiveSession
from wssviz.live.settings import Settings
from wssviz.plain import to_json
from wssviz.replay import CaptureReplay


def test_a_replay_gives_the_same_steps_as_dissect_and_its_first_at_once():
    live = LiveSession(Settings())
    live.run_all()
    replay = CaptureReplay(live.capture, title="r")
    assert replay.ensure(0) >= 1 and replay.steps[0].kind == "tcp.connect"
    steps = replay.run_all()
    assert replay.finished
    assert [to_json(s, "en") for s in steps] == [to_json(s, "en") for s in dissect(live.capture)]
    assert [to_json(s, "en") for s in steps] == [to_json(s, "en") for s in live.steps]
    replay.restart()  # nothing to redo: the steps stay
    assert replay.steps == steps and replay.ensure(3) == len(steps)
