"""ui.opening: the first session opens on its own thread from the moment the app is made.

A quick opener's first step is the first screen; a slow one leaves the screen
saying it is working until the session arrives; a failing one ends the app and
``run_app`` raises what went wrong; quitting while it opens is clean.
"""

from __future__ import annotations

import gc
import threading
from typing import Callable

import pytest
from textual.app import App

from test_ui import STEPS, plain
from wssviz import cli
from wssviz.session import StepList
from wssviz.ui.app import WssvizApp, run_app
from wssviz.ui.opening import Opening
from wssviz.ui.texts import t


def replay() -> StepList:
    return StepList(list(STEPS), title="opened")


def gated() -> tuple[threading.Event, Callable[[], StepList]]:
    """An opener that waits for its gate (a remote server taking its time)."""
    gate = threading.Event()

    def slow() -> StepList:
        gate.wait(10)
        return replay()

    return gate, slow


async def test_a_quick_opener_shows_its_first_step_in_the_first_screen():
    app = WssvizApp(None, opener=replay)
    async with app.run_test(size=(120, 36)):  # no pause: the first screen as mounted
        screen = app.main_screen
        assert app.opening is None and screen.index == 0
        assert app.session.title == "opened"
        assert "Step 0 of" in plain(app, "#status")


async def test_a_slow_opener_leaves_the_screen_working_until_the_session_arrives():
    gate, slow = gated()
    app = WssvizApp(None, opener=slow)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.main_screen
        assert screen.index == -1 and app.opening is not None
        await pilot.press("right", "r")  # keys while opening: nothing happens, nothing breaks
        assert screen.index == -1 and t("status_working", "en") in plain(app, "#status")
        gate.set()
        for _ in range(100):
            await pilot.pause(0.02)
            if screen.index == 0:
                break
        assert screen.index == 0 and app.opening is None
        await pilot.press("right")
        await pilot.pause()
        assert screen.index == 1


async def test_a_failing_opener_ends_the_app_with_its_error():
    def broken() -> StepList:
        raise ValueError("no such recording")

    app = WssvizApp(None, opener=broken)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
    assert isinstance(app.open_error, ValueError) and app.return_value == 2


def test_run_app_raises_what_the_opener_raised(monkeypatch):
    run = App.run
    monkeypatch.setattr(WssvizApp, "run", lambda self: run(self, headless=True, size=(80, 24)))

    def broken() -> StepList:
        raise cli.UserError("bad.json: not a recording")

    with pytest.raises(cli.UserError, match="not a recording"):
        run_app(None, opener=broken)
    assert gc.isenabled()


def test_an_opening_tells_its_listener_once():
    gate, slow = gated()
    told = []
    opening = Opening(slow)
    assert not opening.wait(0.01)
    assert opening.done_or_notify(lambda: told.append(True)) is False
    gate.set()
    assert opening.wait(5)
    opening._thread.join(5)
    assert told == [True] and opening.session is not None and opening.error is None
    # once done, a later question is answered at once and nobody is notified twice
    assert opening.done_or_notify(lambda: told.append(False)) is True and told == [True]


async def test_the_answer_after_the_app_ended_is_dropped():
    gate, slow = gated()
    app = WssvizApp(None, opener=slow)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
    gate.set()
    opening = app.opening
    assert opening is not None
    opening._thread.join(5)
    assert not opening._thread.is_alive()  # call_from_thread after the end did not raise out


def test_main_holds_the_collector_off_only_while_it_runs():
    assert gc.isenabled()
    assert cli.main(["scenarios", "--json"]) == 0
    assert gc.isenabled()


def test_commands_that_print_let_the_collector_run(monkeypatch, capsys):
    seen = []
    monkeypatch.setattr(cli, "cmd_scenarios", lambda args: seen.append(gc.isenabled()) or 0)
    assert cli.main(["scenarios"]) == 0
    assert seen == [True]
    args = cli.build_parser().parse_args(["run", "--json"])
    assert not cli.opens_interface(args)
    assert cli.opens_interface(cli.build_parser().parse_args([]))
    assert cli.opens_interface(cli.build_parser().parse_args(["replay", "x.json"]))


def test_plain_wssviz_skips_the_parser_with_the_parsers_own_defaults():
    assert vars(cli.build_parser().parse_args([])) == cli.no_arguments()


class Counting(StepList):
    """A session that counts the steps asked for (a live pair builds them on ``ensure``)."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__(list(STEPS), title="counting")
        self.asked: list[int] = []
        self.fail = fail

    def ensure(self, index: int) -> int:
        self.asked.append(index)
        if self.fail:
            raise RuntimeError("the source broke")
        return super().ensure(index)


def test_the_opening_thread_also_makes_the_first_step():
    session = Counting()
    opening = Opening(lambda: session)
    assert opening.wait(5)
    assert session.asked == [0] and opening.session is session and opening.error is None


def test_a_first_step_that_fails_is_left_to_the_screen_to_ask_again():
    session = Counting(fail=True)
    opening = Opening(lambda: session)
    assert opening.wait(5)
    assert opening.session is session and opening.error is None  # the screen's worker reports it


async def test_a_live_sessions_first_step_is_the_first_paint():
    app = WssvizApp(None, opener=cli.live_session)
    painted: list[int] = []  # the step on screen at each screen update
    display = app._display

    def spy(screen, renderable):
        painted.append(app.main_screen.index)
        display(screen, renderable)

    app._display = spy  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)):  # no pause: the first screen as mounted
        assert app.main_screen.index == 0 and app.opening is None
        assert "TCP connection opened" in plain(app, "#stephead")
    assert painted and painted[0] == 0  # never a "working…" paint first


def test_quitting_while_the_session_opens_waits_a_moment_for_the_opener(monkeypatch):
    gate, slow = gated()
    run = App.run
    openings: list[Opening] = []
    make = Opening.__init__
    monkeypatch.setattr(Opening, "__init__", lambda self, opener: openings.append(self) or make(self, opener))

    def quit_at_once(self):
        threading.Timer(0.5, gate.set).start()  # the opener finishes just after the quit
        return run(self, headless=True, size=(80, 24), auto_pilot=lambda pilot: pilot.press("q"))

    monkeypatch.setattr(WssvizApp, "run", quit_at_once)
    run_app(None, opener=slow)
    # run_app returned only once the opener was done (not left running into the exit)
    assert len(openings) == 1 and not openings[0]._thread.is_alive()


async def test_a_replay_that_reads_the_rest_of_its_recording_shows_it_without_a_key():
    live = cli.live_session()
    live.run_all()
    app = WssvizApp(None, opener=lambda: cli.replay_of(live.capture, "r.json"))
    async with app.run_test(size=(100, 30)) as pilot:
        assert "more to come" in plain(app, "#status")  # the first step at once; the rest later
        for _ in range(60):
            await pilot.pause(0.05)
            if "more to come" not in plain(app, "#status"):
                break
        n = len(live.steps)
        assert app.session.finished and f"Step 0 of 0–{n - 1}" in plain(app, "#status")
        assert app.main_screen.index == 0  # nothing moved: only the ladder and the count grew


async def test_a_recording_faulty_further_on_opens_and_then_says_where_it_stops(tmp_path):
    """The interface reads a recording's events as it indexes them: a fault far into the
    file does not stop it opening; the steps read are shown, and the fault is told once,
    in the learner's language, the file's words kept as plain text."""
    from helpers_capture import faulty_recording

    path, _ = faulty_recording(tmp_path, 12, "t", "[b]soon[/b]")
    capture, events = cli.open_capture(str(path), stream=True)
    app = WssvizApp(None, opener=lambda: cli.replay_of(capture, str(path), events=events), lang="zh")
    told = []
    async with app.run_test(size=(120, 36)) as pilot:
        app.notify = lambda message, **kw: told.append((message, kw))
        app.main_screen.notify = app.notify
        await pilot.press("end")
        for _ in range(60):
            await pilot.pause(0.05)
            if told:
                break
        session = app.session
        assert session.finished and "events[12]" in session.fault
        assert len(told) == 1 and told[0][1].get("markup") is False and told[0][1]["severity"] == "error"
        message = told[0][0]
        assert message.startswith(t("status_file_fault", "zh").split("{")[0]) and "[b]soon[/b]" in message
        assert app.main_screen.index == len(session.steps) - 1 > 5
