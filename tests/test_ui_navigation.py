"""ui.navigation: the stepping screen's decisions as a pure model, played without a
terminal: keys in (with how many steps there are and whether more can come), moves out."""

from __future__ import annotations

from wssviz.ui.navigation import SPEEDS, AtEnd, Drive, Navigator, Show, StopPlaying, Wait


def test_a_step_that_exists_is_shown_one_that_does_not_is_driven_once():
    nav = Navigator()
    assert nav.go(0, have=3, finished=False) == Show(0)
    nav.shown(0)
    assert nav.go(5, have=3, finished=False) == Drive(5, start=True) and nav.busy and nav.want == 5
    assert nav.go(7, have=3, finished=False) == Drive(7, start=False)  # the worker running goes on, further
    assert nav.next_target() == 8  # → while it reads: one past the step asked for
    assert nav.go(2, have=3, finished=False) == Show(2) and nav.want == 2  # a later key wins (Left, Home)
    assert not nav.arrived(gen=nav.gen + 1) and nav.busy  # a stale answer changes nothing
    assert nav.arrived(gen=nav.gen) and not nav.busy


def test_past_the_end_of_a_finished_session():
    nav = Navigator()
    nav.shown(3)
    assert nav.go(99, have=10, finished=True) == Show(9)  # End of a replay: its last step
    nav.shown(9)
    assert nav.go(10, have=10, finished=True) == AtEnd()  # → on the last step: it says so
    assert nav.go(-4, have=10, finished=True) == Show(0)


def test_the_direction_of_travel_decides_what_is_got_ready_first():
    nav = Navigator()
    nav.shown(4)
    nav.shown(5)
    assert nav.heading == 1 and nav.ahead(have=10) == 6
    nav.shown(3)
    assert nav.heading == -1 and nav.ahead(have=10) == 2
    nav.shown(0)
    assert nav.ahead(have=10) is None  # nothing before step 0
    nav.chosen = None
    queue = nav.ready_queue(10, ("tls", "hex", "explain"), "explain", lambda j: f"pane{j}")
    assert queue == [(1, "pane1"), (-1, "collect"), (0, "tls"), (0, "hex")]
    nav.chosen = "hex"  # a pane the learner picked stays in front: it is what the next step shows
    assert nav.ready_queue(10, ("tls", "hex"), "hex", lambda j: "x")[:1] == [(1, "hex")]


def test_auto_play_steps_waits_for_a_worker_and_stops_at_the_end():
    nav = Navigator()
    nav.shown(7)
    assert nav.toggle_play(have=9, finished=True) == Wait() and nav.playing
    assert nav.tick(have=9, finished=True) == Show(8)
    nav.shown(8)
    assert nav.tick(have=9, finished=True) == StopPlaying() and not nav.playing
    assert nav.toggle_play(have=9, finished=True) == StopPlaying() and not nav.playing  # nothing to play
    live = Navigator()
    live.shown(2)
    live.toggle_play(have=3, finished=False)
    assert live.tick(have=3, finished=False) == Drive(3, start=True)  # a live session is driven on
    assert live.tick(have=3, finished=False) == Wait()  # one beat at a time: the worker is busy


def test_speed_stays_within_its_steps_and_a_restart_is_a_new_generation():
    nav = Navigator()
    assert nav.faster(-10) == SPEEDS[0] and nav.faster(+10) == SPEEDS[-1]
    nav.playing = True
    gen = nav.restart()
    assert gen == 1 and nav.busy and not nav.playing
    assert not nav.arrived(0) and nav.arrived(1)
