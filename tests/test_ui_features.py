"""Pilot tests of the scenario picker (s), export (e) and the language switch (l).

The app is wired exactly as ``wssviz`` wires it (``cli.ui_wiring()``): the real
scenario library, real live sessions, the real pcapng exporter; exports are read
back by tshark (when installed) and scapy.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Input, OptionList, Static

from ui_fixtures import recorded_steps, replay
from wssviz import cli, explain, scenarios
from wssviz.recording import save
from wssviz.session import StepList
from wssviz.ui.app import WssvizApp
from wssviz.ui.screens.export import ExportScreen, default_name
from wssviz.ui.screens.picker import PickerScreen, ScenarioChoice, matches
from wssviz.ui.texts import t
from wssviz.ui.widgets.timeline import ladder_label

CJK = re.compile(r"[\u4e00-\u9fff]")


def shown(widget_or_app, selector: str | None = None) -> str:
    """What a Static shows, as plain text."""
    node = widget_or_app.screen.query_one(selector) if selector else widget_or_app
    console = Console(width=200, record=True, file=open(os.devnull, "w"))
    console.print(node.content)
    return console.export_text()


def screen_text(app: WssvizApp) -> str:
    """Everything on screen as plain text (from the SVG screenshot)."""
    svg = app.export_screenshot()
    runs = re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.DOTALL)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", "", r) for r in runs)).replace("\xa0", " ")


def record_notices(app: WssvizApp) -> list[tuple[str, str]]:
    """Keep (message, severity) of every notification the app raises."""
    notes: list[tuple[str, str]] = []
    original = app.notify

    def notify(message, *args, **kw):
        notes.append((str(message), kw.get("severity", "information")))
        return original(message, *args, **kw)

    app.notify = notify  # type: ignore[method-assign]
    return notes


async def until(pilot, cond, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


def wired(session, **kw) -> WssvizApp:
    return WssvizApp(session, **cli.ui_wiring(), **kw)


# --- the scenario picker ------------------------------------------------------


async def test_picker_lists_the_library_and_filters_as_you_type():
    app = wired(replay())
    names = [i.name for i in scenarios.catalog()]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        options = picker.query_one(OptionList)
        assert [options.get_option_at_index(i).id for i in range(options.option_count)] == names
        first = options.get_option_at_index(0).prompt.plain
        assert "seed-example" in first and scenarios.info("seed-example").title in first
        await pilot.press(*"origin")
        await pilot.pause()
        assert [c.name for c in picker.shown] == [n for n in names if matches(
            ScenarioChoice(*next((i.name, i.title, i.goal, i.description)
                                 for i in scenarios.catalog() if i.name == n)), "origin")]
        assert "origin-rejected" in [c.name for c in picker.shown] and len(picker.shown) < len(names)
        await pilot.press(*" zzzz")
        await pilot.pause()
        assert picker.shown == [] and t("picker_none") in shown(picker.query_one("#picker-detail", Static))
        await pilot.press("enter")  # nothing to start: the picker stays
        assert app.screen is picker
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main_screen and app.session.name == "seed-example"


async def test_choosing_a_scenario_runs_it_live_with_its_title_and_goal():
    info = scenarios.info("tls12")
    app = wired(replay())
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("s", *"tls12", "enter")
        await until(pilot, lambda: app.session.name == "tls12" and app.main_screen.index == 0)
        title = shown(app, "#titlebar")
        assert f"tls12: {info.title} (live, TLS 1.2)" in title and info.goal[:40] in title
        assert not app.session.finished  # live: only the first step exists
        kinds = []
        for _ in range(8):
            await pilot.press("right")
            await until(pilot, lambda: not app.main_screen.nav.busy)
            kinds.append(app.session.steps[app.main_screen.index].kind)
        assert "tls.server_key_exchange" in kinds  # TLS 1.2 only
        # r restarts the chosen scenario, not the session the app started with
        first = app.session
        await pilot.press("r")
        await until(pilot, lambda: app.session is not first and app.main_screen.index == 0)
        assert app.session.name == "tls12" and explain.text(app.session.title, "en").startswith("tls12: ")
        assert "tls12" in shown(app, "#titlebar")


async def test_down_down_enter_starts_the_third_scenario():
    third = scenarios.catalog()[2]
    app = wired(cli.live_session())
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("s", "down", "down", "enter")
        await until(pilot, lambda: app.session.name == third.name)
        await until(pilot, lambda: app.main_screen.index == 0)
        assert third.title in shown(app, "#titlebar")
        await pilot.press("right", "right")
        await until(pilot, lambda: app.main_screen.index == 2 and not app.main_screen.nav.busy)
        assert app.session.steps[1].kind == "tls.client_hello"


async def test_picker_without_a_library_or_with_a_broken_one_says_so():
    app = WssvizApp(replay())
    notes = record_notices(app)
    async with app.run_test() as pilot:
        await pilot.press("s")
        await pilot.pause()
        assert app.screen is app.main_screen
        assert notes[-1] == (t("picker_unavailable"), "warning")

    def broken():
        raise scenarios.ScenarioError("scenarios/bad.toml line 3, field tls.version: must be 1.2 or 1.3")

    app = WssvizApp(replay(), scenarios=broken, open_scenario=cli.live_session)
    notes = record_notices(app)
    async with app.run_test() as pilot:
        await pilot.press("s")
        await pilot.pause()
        assert app.screen is app.main_screen
        message, severity = notes[-1]
        assert severity == "error" and "bad.toml line 3" in message


# --- export -------------------------------------------------------------------


def tshark_fields(path: Path, *fields: str, display: str = "websocket") -> list[list[str]]:
    args = ["tshark", "-r", str(path), "-Y", display, "-T", "fields"]
    for f in fields:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return [line.split("\t") for line in out.stdout.splitlines() if line.strip()]


async def export_to(pilot, app: WssvizApp, path: Path | str) -> None:
    await pilot.press("e")
    await pilot.pause()
    assert isinstance(app.screen, ExportScreen)
    box = app.screen.query_one("#export-input", Input)
    assert re.fullmatch(r"wssviz-[A-Za-z0-9_.-]+-\d{8}-\d{6}\.pcapng", box.value)
    box.value = str(path)
    await pilot.press("enter")
    await pilot.pause()
    assert app.screen is app.main_screen


async def test_export_a_replayed_recording_decrypts_in_tshark(tmp_path):
    live = cli.live_session("seed-example")
    live.run_all()
    save(live.capture, tmp_path / "r.json")
    session = cli.replay_session(str(tmp_path / "r.json"))
    assert session.name == "seed-example" and explain.text(session.title, "en").startswith("seed-example: ")
    app = wired(session)
    notes = record_notices(app)
    out = tmp_path / "out.pcapng"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await export_to(pilot, app, out)
        await until(pilot, lambda: any(m.startswith("Wrote") for m, _ in notes))
    message = next(m for m, _ in notes if m.startswith("Wrote"))
    keylog = tmp_path / "out.keylog"
    assert str(out) in message and str(keylog) in message and "so far" not in message
    # the key log beside it: the session's own secrets, for its own ClientHello
    lines = keylog.read_text(encoding="ascii").split("\n")
    assert [x for x in lines if x] == live.capture.keylog
    hello = next(s for s in session.steps if s.kind == "tls.client_hello")
    assert {x.split()[1] for x in lines if x} == {hello.raw("tls.client_hello.random").hex()}
    import scapy.layers.inet  # noqa: F401 - the Ethernet/IP/TCP dissectors (export no longer loads them)
    from scapy.utils import rdpcap

    packets = rdpcap(str(out))
    assert len(packets) > 10 and packets[0]["TCP"].flags == "S"
    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed: the decryption check needs it")
    frames = tshark_fields(out, "websocket.opcode", "websocket.mask", "websocket.payload.text")
    ours = [(s.raw("ws.frame.opcode"), s.direction) for s in session.steps if s.kind == "ws.frame"]
    assert [int(f[0]) for f in frames] == [op for op, _ in ours]
    assert [f[1] for f in frames] == ["1" if d == "c2s" else "0" for _, d in ours]
    assert ["1", "1", "Hello"] in frames  # the masked Hello, decrypted with the embedded key log only


async def test_export_a_live_session_midway_writes_what_exists_so_far(tmp_path):
    app = wired(cli.live_session("seed-example"))
    notes = record_notices(app)
    out = tmp_path / "midway.pcapng"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for _ in range(3):
            await pilot.press("right")
            await until(pilot, lambda: not app.main_screen.nav.busy)
        steps = len(app.session.steps)
        await export_to(pilot, app, out)
        await until(pilot, lambda: any(m.startswith("Wrote") for m, _ in notes))
        message = next(m for m, _ in notes if m.startswith("Wrote"))
        assert f"so far ({steps} steps)" in message
        await pilot.press("right")  # the session goes on after the export
        await until(pilot, lambda: app.main_screen.index == 4 and not app.main_screen.nav.busy)
    if shutil.which("tshark"):
        hellos = tshark_fields(out, "tls.handshake.type", display="tls.handshake")
        assert hellos and hellos[0][0] == "1"  # the ClientHello went out
        assert tshark_fields(out, "websocket.opcode") == []  # no frame had been sent yet


async def test_export_errors_are_notices_not_crashes(tmp_path):
    app = wired(replay())
    notes = record_notices(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await export_to(pilot, app, tmp_path / "x.pcapng")  # a StepList keeps no capture
        await until(pilot, lambda: any(sev == "error" for _, sev in notes))
        assert "no capture" in notes[-1][0]
    live = cli.live_session()
    app = wired(live)
    notes = record_notices(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await export_to(pilot, app, tmp_path / "missing" / "folder" / "x.pcapng")
        await until(pilot, lambda: any(sev == "error" for _, sev in notes))
        message = notes[-1][0]
        assert message.startswith("Export failed") and "No such file or directory" in message
        assert str(tmp_path / "missing") in message
        await pilot.press("right")
        await until(pilot, lambda: app.main_screen.index == 1)  # still running
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#export-input", Input).value = "   "
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)  # an empty name is refused in place
        assert t("export_empty") in shown(app.screen.query_one("#export-problem", Static))
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main_screen
    assert not (tmp_path / "missing").exists()


def test_default_export_name():
    when = time.mktime((2026, 3, 4, 5, 6, 7, 0, 0, -1))

    def named(name: str) -> StepList:  # the name a session carries (its scenario, connect, a file)
        return StepList(recorded_steps(), title="whatever the title says", name=name)

    assert default_name(named("seed-example"), when) == "wssviz-seed-example-20260304-050607.pcapng"
    assert default_name(named("tls12"), when).startswith("wssviz-tls12-")
    assert default_name(named("/tmp/a b/r.json"), when).startswith("wssviz-r.json-")
    assert default_name(named("wss://127.0.0.1:8443/"), when).startswith("wssviz-127.0.0.1-8443-")
    assert default_name(named("connect"), when).startswith("wssviz-connect-")
    assert default_name(named(""), when).startswith("wssviz-session-")
    # a live scenario and a replayed recording of it are named after the scenario
    assert default_name(cli.live_session("tls12"), when).startswith("wssviz-tls12-")


# --- language -----------------------------------------------------------------


async def test_l_switches_every_label_and_the_explanation_live():
    app = wired(replay())
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("right", "right", "6")  # ServerHello, explanation pane
        await pilot.pause()
        screen = screen_text(app)
        assert "What happened" in screen and not CJK.search(screen.replace("中文", ""))  # but the l key
        await pilot.press("l")
        await pilot.pause()
        assert app.lang == app.main_screen.lang == "zh"
        assert app.main_screen.index == 2
        screen = screen_text(app)
        assert "发生了什么" in screen and "服务器选定版本和密码套件" in screen  # the explanation
        assert "第 2 步（步骤 0–27）" in screen  # the status line
        assert "服务器 → 客户端" in screen  # the step heading
        first = app.session.steps[0]  # TCP connection opened: the catalog has a Chinese name
        await pilot.press("home")
        await pilot.pause()
        heading = app.main_screen.query_one("#stephead").content.plain
        # the step's title in Chinese, and not the English one beside it
        english = explain.title(first, "en")
        assert ladder_label(first, "zh") == explain.title(first, "zh")
        assert ladder_label(first, "zh") != english and CJK.search(ladder_label(first, "zh"))
        assert heading.startswith(f"0  {ladder_label(first, 'zh')} ") and english not in heading
        await pilot.press("right", "right")
        await pilot.pause()
        assert "讲解" in screen and "握手" in screen and "协议升级" in screen  # the pane tabs
        labels = {b.binding.key: b.binding.description for b in app.screen.active_bindings.values()}
        assert labels["q"] == "退出" and labels["s"] == "场景" and labels["l"] == "English"
        await pilot.press("3")  # another pane renders in Chinese too
        await pilot.pause()
        assert t("accept_none", "zh") in screen_text(app)  # no Accept yet at step 2
        await pilot.press("l")
        await pilot.pause()
        assert app.lang == "en"
        assert t("accept_none", "en") in screen_text(app)
        await pilot.press("6")
        await pilot.pause()
        screen = screen_text(app)
        assert "What happened" in screen and not CJK.search(screen.replace("中文", ""))  # but the l key
        labels = {b.binding.key: b.binding.description for b in app.screen.active_bindings.values()}
        assert labels["q"] == "Quit" and labels["l"] == "中文"


async def test_help_and_palette_offer_the_new_keys():
    app = wired(replay(), lang="zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for key in ("key_scenarios", "key_export", "key_lang_long"):
            assert t(key, "zh") in titles
        await pilot.press("question_mark")
        await pilot.pause()
        text = shown(app.screen.query_one(Static))
        for key in ("key_scenarios_long", "key_export_long", "key_lang_long"):
            assert t(key, "zh") in text


@pytest.mark.parametrize("cols", [80, 120, 200])
async def test_key_bar_shows_move_help_and_quit_first_at_any_width(cols):
    from wssviz.ui.widgets.keybar import KeyBar

    app = wired(replay())
    async with app.run_test(size=(cols, 30)) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(KeyBar)
        line = bar.render_line(0).text
        assert line.startswith(" ← Back  → Next  ? Help  q Quit ")
        assert len(line.rstrip()) <= cols
        assert not line.rstrip().endswith("▏")  # nothing cut in the middle of an item
        if cols >= 120:
            assert " l 中文 " in line and " s Scenarios " in line and " e Export " in line
        assert ("^p command palette" in line) == (cols >= 200)


async def test_palette_finds_the_language_and_lists_one_theme_command():
    app = wired(replay())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert titles.count(t("key_theme")) == 1
        assert len(titles) == len(set(titles))
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"lang")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: app.lang == "zh", 5)


def test_the_chinese_ladder_keeps_sides_and_key_phases_apart():
    steps = recorded_steps()
    finished = {s.direction: ladder_label(s, "zh") for s in steps if s.kind == "tls.finished"}
    keys = {s.raw("tls.keys.phase"): ladder_label(s, "zh") for s in steps if s.kind == "tls.keys"}
    assert finished["s2c"] != finished["c2s"]
    assert "服务器" in finished["s2c"] and "客户端" in finished["c2s"]
    assert keys["handshake"] != keys["application"]
    assert all(CJK.search(label) for label in keys.values())
    for s in steps:  # in every language: the step's own title there
        assert ladder_label(s, "en") == explain.title(s, "en")
        assert ladder_label(s, "zh") == explain.title(s, "zh")
    assert ladder_label(steps[0], "en") == "TCP connection opened"


async def test_a_local_computation_names_its_side_in_the_learners_language():
    app = WssvizApp(replay(), lang="zh")
    keys = next(s.index for s in recorded_steps()
                if s.kind == "tls.keys" and s.raw("tls.keys.phase") == "handshake")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(*["right"] * keys)
        await pilot.pause()
        text = screen_text(app)
        assert "在客户端本地的计算" in text and "（client）" not in text


async def test_the_pinned_pane_note_follows_a_change_of_language():
    app = WssvizApp(replay())
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("right", "4")
        await pilot.pause()
        assert "stays in front" in _status_text(app)
        await pilot.press("l")
        await pilot.pause()
        status = _status_text(app)
        assert "stays in front" not in status and "每一步都停在" in status, status


def _status_text(app) -> str:
    from wssviz.ui.widgets.textline import TextLine

    return app.main_screen.query_one("#status", TextLine).content.plain


async def test_go_to_on_a_replay_still_reading_says_so():
    from wssviz.ui.screens.goto import GotoScreen

    app = WssvizApp(replay())
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(GotoScreen("en", 10, more=True, reading=True))
        await pilot.pause()
        text = " ".join(str(w.render()) for w in app.screen.query(Static))
        assert "still being read" in text and "live session" not in text
        await pilot.press("escape")
        app.push_screen(GotoScreen("zh", 10, more=True, reading=False))
        await pilot.pause()
        text = " ".join(str(w.render()) for w in app.screen.query(Static))
        assert "文件还在读取中" not in text


async def test_a_screenshot_is_saved_where_asked_and_the_notice_says_where(tmp_path, monkeypatch):
    """The palette's screenshot: an SVG in the screenshot folder (the current one by
    default), a PNG beside it where rsvg-convert exists, a notice naming both; a folder
    that cannot be written is a notice too, not a crash."""
    import shutil

    from wssviz.ui.app import WssvizApp

    monkeypatch.chdir(tmp_path)
    app = WssvizApp(replay(), lang="zh")
    told = []
    async with app.run_test(size=(100, 30)) as pilot:
        app.notify = lambda message, **kw: told.append((message, kw))
        await pilot.press("right")
        await pilot.pause()
        app.deliver_screenshot()
        for _ in range(100):
            await pilot.pause(0.05)
            if told:
                break
        svgs = list(tmp_path.glob("wssviz-step-1-*.svg"))
        assert len(svgs) == 1 and "<svg" in svgs[0].read_text(encoding="utf-8")
        message, kw = told[0]
        assert message.startswith("截图已保存：") and str(svgs[0]) in message and kw["markup"] is False
        if shutil.which("rsvg-convert"):
            assert svgs[0].with_suffix(".png").read_bytes()[:4] == b"\x89PNG" and ".png" in message
        app.screenshots = tmp_path / "missing"
        told.clear()
        app.deliver_screenshot()
        await pilot.pause()
        assert told and told[0][1]["severity"] == "error" and "missing" in told[0][0]


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_drill_asks_judges_and_goes_to_the_step_that_shows_the_answer(lang):
    from wssviz.ui.app import WssvizApp
    from wssviz.ui.screens.quiz import QuizScreen

    app = WssvizApp(replay(), lang=lang)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        quiz = app.screen
        assert isinstance(quiz, QuizScreen) and len(quiz.items) >= 24
        # to the Accept question: skip the four interview questions
        for _ in range(4):
            await pilot.press("enter")  # (empty: skipped, the answer shown)
            await pilot.pause()
            await pilot.press("enter")  # the next question
            await pilot.pause()
        assert quiz.items[quiz.n].id == "bytes.accept"
        for ch in "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=":
            await pilot.press(ch if ch not in "+=" else {"+": "plus", "=": "equals_sign"}[ch])
        await pilot.press("enter")
        await pilot.pause()
        assert quiz.score == 1 and quiz.asked == 1
        shown = str(quiz.query_one("#quiz-verdict").render())
        assert "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in shown
        await pilot.press("g")  # to the step that shows it: the Upgrade request
        await pilot.pause()
        assert app.screen is app.main_screen
        for _ in range(40):
            await pilot.pause(0.05)
            if app.main_screen.index == quiz.items[quiz.n].steps[0]:
                break
        assert app.session.steps[app.main_screen.index].kind == "http.upgrade_request"


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_compare_runs_a_scenario_beside_this_session(lang):
    """c: pick a scenario; it runs to its end; its steps stand beside this session's,
    aligned, with what an eavesdropper sees, then the summary."""
    from wssviz import cli
    from wssviz.ui.app import WssvizApp
    from wssviz.ui.screens.compare import CompareScreen
    from wssviz.ui.screens.picker import PickerScreen
    from wssviz.ui.texts import t

    app = WssvizApp(replay(), lang=lang, scenarios=cli.scenario_choices, open_scenario=cli.live_session)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        app.screen.dismiss("plaintext-ws")
        for _ in range(100):
            await pilot.pause(0.05)
            if isinstance(app.screen, CompareScreen):
                break
        assert isinstance(app.screen, CompareScreen)
        from rich.console import Console

        console = Console(width=116, record=True, color_system=None)
        console.print(app.screen.renderable)
        shown = console.export_text()
        assert t("compare_summary", lang) in shown and t("compare_row_rtt", lang) in shown
        assert t("compare_sees_encrypted", lang) in shown and t("compare_sees_clear", lang) in shown
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main_screen


async def test_challenge_mode_asks_before_an_answering_message_and_hides_it_until_then():
    from wssviz.ui.app import WssvizApp
    from wssviz.ui.screens.challenge import ChallengeScreen, choices, is_turn
    from wssviz.ui.widgets.timeline import Timeline

    steps = list(replay().steps)
    hello = next(i for i, s in enumerate(steps) if s.kind == "tls.server_hello")
    assert is_turn(steps, hello - 1, hello) and not is_turn(steps, 0, 1)  # ClientHello follows TCP: same side
    options, right = choices(steps, hello)
    assert options[right] is steps[hello] and len(options) == 4
    from wssviz.ui.screens.challenge import choice_text

    assert len({choice_text(o, "en") for o in options}) == 4  # four different things

    app = WssvizApp(replay())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("x")
        for _ in range(hello):
            await pilot.press("right")
            await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChallengeScreen) and screen.coming == hello
        assert len(app.main_screen.query_one(Timeline)._steps) == hello  # the answer is not on the ladder
        await pilot.press(str(screen.right + 1))
        await pilot.pause()
        await pilot.press("space")  # on to the step
        await pilot.pause()
        assert app.screen is app.main_screen and app.main_screen.index == hello
        assert app.main_screen._challenge == [1, 1]
        assert "challenge 1/1" in shown(app, "#status")
        await pilot.press("x")  # off: the whole ladder again
        await pilot.pause()
        assert len(app.main_screen.query_one(Timeline)._steps) == len(steps)


async def test_the_configuration_is_one_object_that_every_switch_changes(tmp_path):
    from wssviz.ui.app import WssvizApp
    from wssviz.ui.config import UiConfig

    config = UiConfig(lang="en", present=False, dark=True, screenshots=tmp_path)
    app = WssvizApp(replay(), config=config)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.config is config and app.lang == "en" and app.screenshots == tmp_path
        await pilot.press("l")
        await pilot.press("f5")
        await pilot.press("t")
        await pilot.pause()
        assert (config.lang, config.present, config.dark) == ("zh", True, False)
        assert app.main_screen.lang == "zh" and app.theme == "wssviz-contrast-light"


async def test_the_article_says_view_asks_only_the_simplifications():
    from wssviz.ui.app import WssvizApp
    from wssviz.ui.screens.quiz import QuizScreen

    app = WssvizApp(replay(), lang="zh")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.action_quiz(("myth",))
        await pilot.pause()
        assert isinstance(app.screen, QuizScreen)
        assert [q.kind for q in app.screen.items] == ["myth"] * 4
        await pilot.press("错")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.score == 1  # (the first: "verify the certificate, then negotiate a key" in TLS 1.3)


def test_values_are_darkened_on_a_light_background_and_kept_on_a_dark_one():
    """Cyan, green, yellow values wash out on a light theme (a projector): on a light
    background the panes draw them dark; on a dark one as they are."""
    from rich.console import Console
    from rich.style import Style
    from rich.text import Text

    from wssviz.ui.widgets.sections import ON_LIGHT, render_lines

    text = Text.assemble(("37fa213d", "cyan"), " ", ("ok", "bold green"), " ", ("plain", ""))
    for base, light in ((Style(color="#000000", bgcolor="#ffffff"), True),
                        (Style(color="#000000", bgcolor="#e0e0e0"), True),
                        (Style(color="#ffffff", bgcolor="#000000"), False)):
        segs = {seg.text: seg.style for seg in render_lines(text, None, 30, base, Console(width=30))[0]}
        colour = segs["37fa213d"].color
        assert (colour.name == ON_LIGHT["cyan"]) is light, (base, colour)
        assert segs["ok"].bold  # the rest of the style stays


async def test_the_picker_highlights_a_scenario_whose_name_holds_what_was_typed():
    """'plain' also occurs in seed-example's description (listed first): the highlight,
    and so Enter, goes to plaintext-ws, whose name holds it."""
    app = wired(replay())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        picker = app.screen
        await pilot.press(*"plain")
        await pilot.pause()
        names = [c.name for c in picker.shown]
        assert "plaintext-ws" in names
        assert picker.highlighted().name == "plaintext-ws"
