"""Pilot tests of the interface: step through a replayed default session as a person would."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import pytest
from rich.console import Console
from textual import events
from textual.widgets import Static

from ui_fixtures import SlowLive, big_frame_step, recorded_steps, replay, with_close_reason
from wssviz import explain
from wssviz.session import StepList
from wssviz.ui.app import WssvizApp
from wssviz.ui.model import pane_for
from wssviz.ui.widgets.detail import DetailView
from wssviz.ui.widgets.sections import HexSection
from wssviz.ui.widgets.timeline import Timeline

STEPS = recorded_steps()
KINDS = [s.kind for s in STEPS]


def frame_payload(step) -> bytes:
    """A frame step's payload in the clear (its span, unmasked with its key)."""
    f = step.find("ws.frame.payload")
    sent = step.span_bytes(f) if f is not None else b""
    key = step.raw("ws.frame.masking_key")
    return bytes(b ^ key[i % 4] for i, b in enumerate(sent)) if key else sent


def plain(app: WssvizApp, selector: str) -> str:
    """What a one-line widget (title, heading, status) shows, as plain text."""
    console = Console(width=200, record=True, file=open(os.devnull, "w"))
    console.print(app.screen.query_one(selector).content)
    return console.export_text()


def detail(app: WssvizApp) -> DetailView:
    return app.screen.query_one("#pane", DetailView)


def pane_text(app: WssvizApp, band: str = "body") -> str:
    """One band of the pane in front ("body", "head", "tree", ...), as plain text."""
    assert detail(app).band(band) is not None, f"no {band} band in the {active_pane(app)} pane"
    return detail(app).text(band)


def tree_text(app: WssvizApp) -> str:
    """Every node of the pane's field tree, open or not."""
    return pane_text(app, "tree")


def screen_rows(widget) -> list[str]:
    """The lines a widget draws now, as plain text."""
    return [widget.render_line(y).text for y in range(widget.size.height)]


def active_pane(app: WssvizApp) -> str:
    return app.main_screen.active_pane


async def go_to(pilot, app: WssvizApp, index: int) -> None:
    await pilot.press("g")
    await pilot.press(*str(index), "enter")
    await pilot.pause()
    assert app.main_screen.index == index


async def test_first_screen_shows_timeline_and_first_step():
    app = WssvizApp(replay())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.main_screen.index == 0
        assert "Step 0 of 0–27" in plain(app, "#status")
        assert "TCP connection opened" in plain(app, "#stephead")
        assert app.screen.query_one(Timeline).display


async def test_right_walks_the_default_session_pane_by_pane():
    app = WssvizApp(replay())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        seen = {}
        for i in range(1, len(STEPS)):
            await pilot.press("right")
            await pilot.pause()
            assert app.main_screen.index == i
            assert active_pane(app) == pane_for(STEPS[i])
            kind = STEPS[i].kind
            if kind == "tls.client_hello":
                seen[kind] = tree_text(app)
                assert "server_name" in seen[kind] and "server.example.com" in seen[kind]
                assert "in the clear" in pane_text(app, "head")
            elif kind == "tls.certificate":
                text = tree_text(app)
                assert "subject alt names" in text and "server.example.com" in text
                assert "decrypted it with the server handshake traffic key" in pane_text(app, "head")
            elif kind == "tls.cert_check":
                head = pane_text(app, "head")
                assert detail(app).band("tree") is None  # all in the heading
                assert "✓ chain: ok" in head and "✓ OpenSSL verdict: ok" in head
            elif kind == "http.upgrade_request":
                body = pane_text(app)
                assert "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" in body
                assert "(no response yet)" in body  # the future is not shown
            elif kind == "ws.accept_check":
                body = pane_text(app)
                assert "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" in body
                # the GUID is appended to the key's base64 text, not to its 16 decoded bytes
                assert "dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11" in body
                assert "b37a4f2cc0624f1690f64606cf385945b2bec4ea" in body
                assert body.count("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") >= 3
                assert "ok: they match" in body
            elif kind == "ws.frame" and frame_payload(STEPS[i]) == b"Hello" and STEPS[i].direction == "c2s":
                body = pane_text(app)
                assert 'unmasked payload: "Hello"' in body
                assert "7-bit form" in body and "masking key" in body
                key = STEPS[i].raw("ws.frame.masking_key")
                assert f"0x{key[0]:02x} ⊕ 0x48 'H'" in body
                seen["hello"] = True
            elif kind == "ws.frame" and STEPS[i].direction == "s2c" and frame_payload(STEPS[i]) == b"Hello":
                assert "Not masked" in pane_text(app)
        assert "hello" in seen and "tls.client_hello" in seen
        # the end of a finished session stays put
        await pilot.press("right")
        await pilot.pause()
        assert app.main_screen.index == len(STEPS) - 1
        assert "last step" in plain(app, "#status")


async def test_only_the_first_resume_skips_restyling_what_the_mount_just_styled(monkeypatch):
    from textual.screen import Screen

    callers = []  # who asked for a restyle of the whole screen
    update = Screen.update_node_styles
    monkeypatch.setattr(Screen, "update_node_styles",
                        lambda self, animate=True: callers.append(sys._getframe(1).f_code.co_name)
                        or update(self, animate))
    app = WssvizApp(replay())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.main_screen
        assert "_on_screen_resume" not in callers  # the mount styled it; the first resume left it so
        later = events.ScreenResume()
        screen.on_screen_resume(later)
        assert later.refresh_styles  # a later resume restyles as Textual does


async def test_left_home_end_and_goto():
    app = WssvizApp(replay())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("right", "right", "right")
        await pilot.pause()
        assert app.main_screen.index == 3
        await pilot.press("left", "p")
        await pilot.pause()
        assert app.main_screen.index == 1
        await pilot.press("end")
        await pilot.pause()
        assert app.main_screen.index == len(STEPS) - 1
        await pilot.press("home")
        await pilot.pause()
        assert app.main_screen.index == 0
        await go_to(pilot, app, KINDS.index("http.upgrade_request"))
        assert active_pane(app) == "upgrade"


async def test_goto_says_a_live_session_moves_on_to_a_step_not_taken_yet():
    app = WssvizApp(SlowLive(recorded_steps()))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("g")
        await pilot.pause()
        prompt = str(app.screen.query_one(Static).render())
        assert "(0–0)" in prompt and "moves the live session on" in prompt
        await pilot.press(*"15", "enter")
        for _ in range(100):
            await pilot.pause(0.02)
            if app.main_screen.index == 15:
                break
        assert app.main_screen.index == 15
    app = WssvizApp(replay())  # a recording has nothing more to come
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("g")
        await pilot.pause()
        prompt = str(app.screen.query_one(Static).render())
        assert f"(0–{len(STEPS) - 1})" in prompt and "live" not in prompt


async def test_tab_and_digits_reach_every_pane():
    app = WssvizApp(replay())
    async with app.run_test(size=(80, 24)) as pilot:
        await go_to(pilot, app, KINDS.index("ws.frame"))
        order = []
        for _ in range(6):
            order.append(active_pane(app))
            await pilot.press("tab")
            await pilot.pause()
        assert order == ["frames", "hex", "explain", "tls", "upgrade", "accept"]
        await pilot.press("5")
        await pilot.pause()
        assert active_pane(app) == "hex"
        await pilot.press("shift+tab")
        await pilot.pause()
        assert active_pane(app) == "frames"


async def test_explanation_pane_shows_all_four_parts():
    app = WssvizApp(replay())
    async with app.run_test(size=(80, 24)) as pilot:
        await go_to(pilot, app, KINDS.index("tls.client_hello"))
        await pilot.press("6")
        await pilot.pause()
        text = pane_text(app)
        for label in ("What happened", "Why", "Eavesdropper sees", "RFC"):
            assert label in text
        assert "RFC 8446" in text


async def test_hex_field_and_bytes_light_each_other():
    app = WssvizApp(replay())
    i = next(s.index for s in STEPS if s.kind == "ws.frame" and s.direction == "c2s")
    async with app.run_test(size=(160, 48)) as pilot:
        await go_to(pilot, app, i)
        step = app.session.steps[i]
        key = step.find("ws.frame.masking_key")
        await pilot.press("5")
        await pilot.pause()
        view = detail(app)
        tree = view.section("tree").tree
        data, wire = view.section("data"), view.section("wire")
        assert isinstance(data, HexSection) and isinstance(wire, HexSection)
        # tree → hex: the keyboard walks the cursor down onto "masking key"
        await pilot.click(view, offset=(view.gutter.left + 1, 0))  # focus the pane, cursor on line 0
        while tree.cursor_field is not key:
            assert tree.cursor < len(tree.visible) - 1, "masking key not reached"
            await pilot.press("down")
        await pilot.pause()
        assert data.span == (key.start, key.end)
        assert wire.span == (0, 0)
        row = view.band("tree").y + tree.cursor - view.section("tree").top
        assert explain.label(key, "en") == "masking key"
        assert "masking key" in screen_rows(view)[row]  # the cursor's row is on screen
        # hex → tree: a wire byte no frame field covers (TLS record header) lights itself only
        wire.on_byte(wire, 0)
        assert wire.span == (0, 1) and data.span == (0, 0)
        # and a click on the screen does the same: click the first byte of the data row
        left = view.gutter.left
        await pilot.click(view, offset=(left + 10, view.band("data").y))
        await pilot.pause()
        assert tree.cursor_field.of == "data" and tree.cursor_field.start == 0
        assert data.span[0] == 0 and data.span[1] > 0 and wire.span == (0, 0)
        # on a TLS step, a click on the first wire byte finds the record's content type
        await go_to(pilot, app, KINDS.index("tls.client_hello"))
        await pilot.press("5")
        await pilot.pause()
        tree, wire = view.section("tree").tree, view.section("wire")
        await pilot.click(view, offset=(left + 10, view.band("wire").y))
        await pilot.pause()
        assert tree.cursor_field.id == "tls.record.content_type"
        assert wire.span == (0, 1)
        # Enter closes the node under the cursor and opens it again
        view.focus()
        tree.set_cursor(0)
        shown = len(tree.visible)
        await pilot.press("enter")
        assert len(tree.visible) < shown
        await pilot.press("enter")
        assert len(tree.visible) == shown


async def test_malicious_close_reason_is_plain_text():
    reason = "[/bold][link=x]"
    steps = with_close_reason(STEPS, reason)
    i = next(s.index for s in steps if s.raw("ws.frame.close_reason") == reason)
    app = WssvizApp(StepList(steps, title="[b]title[/b]"))
    async with app.run_test(size=(120, 40)) as pilot:
        await go_to(pilot, app, i)
        body = pane_text(app)
        assert f"close reason: {reason}" in body
        console = Console(width=200, file=open(os.devnull, "w"))
        segments = list(console.render(detail(app).section("body").content))
        assert all(seg.style is None or not seg.style.link for seg in segments)
        assert any(reason in row for row in screen_rows(detail(app)))  # drawn as those characters
        assert "[b]title[/b]" in plain(app, "#titlebar")
        await pilot.press("5")
        await pilot.pause()
        assert f"close reason: {reason}" in tree_text(app)


async def test_a_16_mib_frame_is_shown_without_drawing_it_all():
    steps = list(STEPS) + [big_frame_step(len(STEPS))]
    app = WssvizApp(StepList(steps))
    async with app.run_test(size=(120, 40)) as pilot:
        await go_to(pilot, app, len(STEPS) - 1)
        t0 = time.perf_counter()
        await pilot.press("right")
        await pilot.pause()
        assert app.main_screen.index == len(STEPS)
        body = pane_text(app)
        assert "16777216 (64-bit form)" in body and "first 64 of 16,777,216" in body
        await pilot.press("5")
        await pilot.pause()
        elapsed = time.perf_counter() - t0
        view = detail(app)
        data = view.section("data")
        rows = data.rows(view.inner_width)
        assert rows == -(-len(steps[-1].data) // 16)
        data.scroll_end()
        band = view.band("data")
        last = view.render_line(band.y + band.height - 1).text
        assert last.startswith(f"{(rows - 1) * 16:08x}")
        assert elapsed < 2.0  # generous: the benchmark measures the real figure


async def test_live_stepping_runs_off_the_ui_thread():
    session = SlowLive(recorded_steps())
    app = WssvizApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        assert app.main_screen.index == 0 and len(session.steps) == 1
        session.gate.clear()  # the next action hangs until released
        await pilot.press("right")
        await pilot.pause(0.1)
        assert "driving the connection" in plain(app, "#status")
        await pilot.press("right")  # raises the target, no second worker
        t0 = time.perf_counter()
        await pilot.press("6")  # the interface still answers
        await pilot.pause()
        assert time.perf_counter() - t0 < 0.5
        assert active_pane(app) == "explain"
        session.gate.set()
        for _ in range(50):
            await pilot.pause(0.05)
            if app.main_screen.index == 2:
                break
        assert app.main_screen.index == 2
        assert len(session.steps) == 3  # nothing made before it was asked for
        assert "not yet taken" in "".join(
            app.screen.query_one(Timeline).render_line(y).text for y in range(5))


async def test_a_failing_source_becomes_a_message_not_a_crash():
    session = SlowLive(recorded_steps(), fail_at=3)
    app = WssvizApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        for _ in range(4):
            await pilot.press("right")
            await pilot.pause(0.1)
        assert app.is_running
        assert "ConnectionResetError: peer went away" in plain(app, "#status")
        assert app.main_screen.index == 2  # what was seen stays on screen
        await pilot.press("left")
        await pilot.pause()
        assert app.main_screen.index == 1


async def test_restart_uses_the_factory_and_starts_over():
    made = []

    def factory():
        made.append(SlowLive(recorded_steps()))
        return made[-1]

    app = WssvizApp(replay(), session_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("right", "right")
        await pilot.press("r")
        for _ in range(40):
            await pilot.pause(0.05)
            if made and app.session is made[0] and app.main_screen.index == 0:
                break
        assert app.session is made[0] and app.main_screen.index == 0
        assert "Started over" in plain(app, "#status")


async def test_autoplay_advances_and_stops():
    app = WssvizApp(replay())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("plus", "plus", "a")  # fastest speed, then play
        await pilot.pause(1.3)
        assert app.main_screen.index >= 2
        assert "auto-play" in plain(app, "#status")
        await pilot.press("a")
        at = app.main_screen.index
        await pilot.pause(0.7)
        assert app.main_screen.index == at
        await go_to(pilot, app, len(STEPS) - 2)
        await pilot.press("a")  # one step before the end: it plays that step, then says it stopped
        for _ in range(60):
            await pilot.pause(0.05)
            if "Auto-play stopped" in plain(app, "#status"):
                break
        assert app.main_screen.index == len(STEPS) - 1
        assert "Auto-play stopped: this is the last step." in plain(app, "#status")
        await pilot.press("a")  # at the end already: nothing to play, and it says so
        await pilot.pause()
        assert "auto-play every" not in plain(app, "#status")
        assert "Auto-play stopped" in plain(app, "#status")


async def test_presenter_mode_and_themes():
    app = WssvizApp(replay(), present=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.screen.has_class("-present")
        ladder = [app.screen.query_one(w) for w in ("#ladder-head", "#timeline")]
        assert all(w.display for w in ladder)  # the ladder stays: it shows the class where we are
        assert 18 <= app.screen.query_one("#pane").region.x <= 24  # compact at 80 columns
        assert app.theme == "wssviz-contrast-dark"
        await pilot.press("t")
        assert app.theme == "wssviz-contrast-light"
        await pilot.press("f5")
        await pilot.pause()
        assert not app.screen.has_class("-present")
        assert all(w.display for w in ladder)
        assert app.screen.query_one("#pane").region.x >= 33  # beside the ladder again
        assert app.theme == "textual-light"


async def test_a_theme_switch_recolours_the_ladder():
    app = WssvizApp(replay())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("right")
        await pilot.pause()
        timeline = app.screen.query_one(Timeline)

        def background(row: int) -> set:
            return {seg.style.bgcolor for seg in timeline.render_line(row) if seg.style is not None}

        dark = background(0), background(2)  # a step taken, and one ahead (the ladder's own colour)
        await pilot.press("t")
        await pilot.pause()
        assert app.theme == "textual-light"
        assert background(0).isdisjoint(dark[0]) and background(2).isdisjoint(dark[1])


async def test_help_screen_and_command_palette():
    app = WssvizApp(replay())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main_screen
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in ("Next", "Back", "Go to", "Auto", "Restart", "Present"):
            assert title in titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Next", "enter")
        await pilot.pause(0.3)
        assert app.main_screen.index == 1


async def test_q_quits_cleanly():
    app = WssvizApp(replay())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


def test_the_interface_imports_no_dissector_live_scapy_or_cryptography():
    code = (
        "import sys, asyncio\n"
        "from wssviz.session import StepList\n"
        "from wssviz.ui.app import WssvizApp\n"
        "async def main():\n"
        "    app = WssvizApp(StepList([]))\n"
        "    async with app.run_test() as pilot:\n"
        "        await pilot.pause()\n"
        "asyncio.run(main())\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('scapy', 'cryptography')\n"
        "             or m.startswith(('wssviz.dissect', 'wssviz.live', 'wssviz.recording', 'wssviz.core')))\n"
        "print(bad)\n"
    )
    # Steps carry their words as Msgs (wssviz.core.msg: a key and its values, no protocol
    # code), so the package and that one module come with wssviz.steps; no parser does.
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['wssviz.core', 'wssviz.core.msg']"


async def test_end_drives_a_live_session_to_its_end_from_anywhere():
    session = SlowLive(recorded_steps())
    app = WssvizApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        for _ in range(11):
            await pilot.press("right")
            for _ in range(40):
                if not app.main_screen.nav.busy:
                    break
                await pilot.pause(0.02)
        await go_to(pilot, app, 9)  # back, while steps 10 and 11 exist already
        assert len(session.steps) == 12
        await pilot.press("end")
        for _ in range(100):
            await pilot.pause(0.05)
            if app.main_screen.index == len(STEPS) - 1:
                break
        assert session.finished and app.main_screen.index == len(STEPS) - 1
        assert f"Step {len(STEPS) - 1} of 0–{len(STEPS) - 1}" in plain(app, "#status")


@pytest.mark.parametrize("live", [False, True], ids=["replay", "live"])
async def test_the_ladder_keeps_the_current_step_on_screen(live):
    app = WssvizApp(SlowLive(recorded_steps()) if live else replay())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        timeline = app.screen.query_one(Timeline)

        def visible() -> list[str]:
            return [row.split("│")[0].strip(" ▌") for row in screen_rows(timeline)]

        await pilot.press("end")
        for _ in range(100):
            await pilot.pause(0.05)
            if app.main_screen.index == len(STEPS) - 1:
                break
        await pilot.pause()
        assert str(len(STEPS) - 1) in visible()
        await pilot.press("home")
        await pilot.pause()
        assert "0" in visible()
        await go_to(pilot, app, 22)
        await pilot.pause()
        assert "22" in visible()


async def test_the_keyboard_alone_moves_in_the_pane_in_front():
    app = WssvizApp(replay())
    i = next(s.index for s in STEPS if s.kind == "ws.frame" and s.direction == "c2s")
    async with app.run_test(size=(120, 36)) as pilot:
        await go_to(pilot, app, i)
        await pilot.press("5")
        await pilot.pause()
        assert not detail(app).has_focus  # no click: the keys reach the pane anyway
        view = detail(app)
        tree, data = view.section("tree").tree, view.section("data")
        key = app.session.steps[i].find("ws.frame.masking_key")
        while tree.cursor_field is not key:
            assert tree.cursor < len(tree.visible) - 1, "masking key not reached"
            await pilot.press("down")
        await pilot.pause()
        assert data.span == (key.start, key.end) and app.main_screen.index == i
        await go_to(pilot, app, KINDS.index("tls.client_hello"))
        await pilot.press("1")
        await pilot.pause()
        tree = view.section("tree").tree
        while not tree.visible[tree.cursor].children:  # down to a node with children
            assert tree.cursor < len(tree.visible) - 1, "no node with children"
            await pilot.press("down")
        shown = len(tree.visible)
        await pilot.press("enter")  # Enter opens or closes it
        await pilot.pause()
        assert len(tree.visible) != shown
        await pilot.press("enter")
        await pilot.pause()
        assert len(tree.visible) == shown
        await go_to(pilot, app, KINDS.index("tls.certificate"))
        await pilot.press("1")  # the certificate chain's tree: longer than the pane
        await pilot.pause()
        band = view.band("tree")
        assert band.section.rows(view.inner_width) > band.height
        tree = band.section.tree
        before = tree.cursor
        await pilot.press("pagedown")
        await pilot.pause()
        assert band.section.top > 0 and tree.cursor > before  # the cursor went with the page
        await pilot.press("down")  # and the next key goes on from there, not back to the top
        await pilot.pause()
        assert band.section.top > 0


async def test_in_presenter_mode_the_keys_scroll_the_pane_not_the_explanation_above_it():
    app = WssvizApp(replay(), present=True)
    i = next(s.index for s in STEPS if s.kind == "ws.frame" and s.direction == "c2s")
    async with app.run_test(size=(80, 24)) as pilot:
        await go_to(pilot, app, i)
        assert active_pane(app) == "frames"
        view = detail(app)
        frames = next(b for b in view.bands if b.section.name not in ("aside", "pane-label"))
        above = next(b for b in view.bands if b.section.name == "aside")
        assert frames.section.rows(view.inner_width) > frames.height  # the XOR lane is below
        await pilot.press("pagedown")
        await pilot.pause()
        assert frames.section.top > 0 and above.section.top == 0


async def test_a_pane_the_learner_picks_stays_until_they_pick_again():
    app = WssvizApp(replay())
    async with app.run_test(size=(80, 24)) as pilot:
        await go_to(pilot, app, KINDS.index("tls.server_hello"))
        assert active_pane(app) == "tls"  # the automatic choice while nothing is picked
        await pilot.press("6")
        await pilot.pause()
        status = plain(app, "#status")  # the status line says the choice sticks, and the way back
        assert "Explanation stays in front on every step" in status and "0:" in status
        for _ in range(4):
            await pilot.press("right")
            await pilot.pause()
            assert active_pane(app) == "explain"
        await go_to(pilot, app, KINDS.index("http.upgrade_request"))
        assert active_pane(app) == "explain"
        await pilot.press("tab")  # Tab picks too
        await pilot.press("right")
        await pilot.pause()
        assert active_pane(app) == "tls"
        await pilot.press("0")  # back to the automatic choice
        await pilot.pause()
        assert app.main_screen.chosen_pane is None
        assert active_pane(app) == pane_for(STEPS[app.main_screen.index])
        await go_to(pilot, app, KINDS.index("ws.accept"))
        assert active_pane(app) == "accept"
        await pilot.press("question_mark")
        await pilot.pause()
        console = Console(width=200, record=True, file=open(os.devnull, "w"))
        console.print(app.screen.query_one("Static").content)
        assert "it stays on every step" in console.export_text()


@pytest.mark.parametrize("cols", [80, 120, 200])
async def test_title_and_heading_end_in_an_ellipsis_when_cut(cols):
    goal = "a wss:// connection, step by step, " * 5 + "THE END"
    app = WssvizApp(StepList(STEPS, title="seed-example (replay)", goal=goal))
    async with app.run_test(size=(cols, 40)) as pilot:
        await go_to(pilot, app, KINDS.index("tls.client_hello"))
        title = screen_rows(app.screen.query_one("#titlebar"))
        assert all(len(row) <= cols for row in title)
        if cols < 150:
            assert len(title) == 1 and title[0].rstrip().endswith("…")
        else:  # wide: the goal wraps onto a second line
            assert len(title) == 2 and "THE END" in title[1]
        head = screen_rows(app.screen.query_one("#stephead"))
        assert len(head) == 2 and head[0].strip().startswith(str(KINDS.index("tls.client_hello")))
        assert " s" in head[0] or head[0].rstrip().endswith("…")  # the time stays on the title line
        assert head[1].rstrip().endswith("…") or len(explain.summary(STEPS[1], "en")) < cols - 45


@pytest.mark.parametrize("cols", [80, 120, 200])
async def test_xor_lane_heading_is_laid_out_to_the_pane_width(cols):
    app = WssvizApp(replay())
    hello = next(s.index for s in STEPS if s.kind == "ws.frame" and s.direction == "c2s")
    async with app.run_test(size=(cols, 48)) as pilot:
        await go_to(pilot, app, hello)
        view = detail(app)
        rows = [row.rstrip(" │┃") for row in screen_rows(view)]
        at = next(i for i, row in enumerate(rows) if "XOR lane:" in row)
        from wssviz.ui.texts import t

        heading = t("frames_lane")
        if view.inner_width >= len(heading):
            assert heading in rows[at]
        else:  # wrapped where the width ends, not earlier
            assert len(rows[at].strip()) > view.inner_width - 10
        assert "byte 0" in rows[at + (1 if view.inner_width >= len(heading) else 2)]


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_help_fits_80x24_and_scrolls_when_it_cannot(lang):
    from textual.containers import VerticalScroll

    from wssviz.ui.texts import t

    app = WssvizApp(replay(), lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        box = app.screen.query_one("#help-box", VerticalScroll)
        assert box.max_scroll_y == 0  # every key on screen
        shot = app.export_screenshot()
        for key in ("key_lang_long", "key_help", "key_quit"):
            assert t(key, lang).split("：")[0].split(":")[0].replace(" ", "&#160;") in shot
    app = WssvizApp(replay(), lang=lang)
    async with app.run_test(size=(80, 16)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        box = app.screen.query_one("#help-box", VerticalScroll)
        assert box.max_scroll_y > 0 and box.has_focus
        await pilot.press("end")
        await pilot.pause()
        assert box.scroll_y == box.max_scroll_y  # the keyboard reaches the last line


async def test_r_in_a_replay_goes_back_and_notices_clear_on_the_next_move():
    app = WssvizApp(replay())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("right", "right", "r")
        for _ in range(40):
            await pilot.pause(0.05)
            if app.main_screen.index == 0 and not app.main_screen.nav.busy:
                break
        status = plain(app, "#status")
        assert "Back to the first step" in status and "new connection" not in status
        await pilot.press("right")
        await pilot.pause()
        assert "Back to the first step" not in plain(app, "#status")


async def test_a_live_restart_notice_stays_while_step_0_comes_and_clears_after():
    made = []

    def factory():
        made.append(SlowLive(recorded_steps()))
        return made[-1]

    app = WssvizApp(SlowLive(recorded_steps()), session_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        await pilot.press("right", "r")
        for _ in range(40):
            await pilot.pause(0.05)
            if made and app.session is made[0] and app.main_screen.index == 0:
                break
        assert "Started over" in plain(app, "#status")
        for i in (1, 2):  # steps made on demand (a worker each): the notice goes with the first
            await pilot.press("right")
            for _ in range(40):
                await pilot.pause(0.05)
                if app.main_screen.index == i:
                    break
            assert "Started over" not in plain(app, "#status")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_certificate_step_opens_the_first_certificate(size):
    app = WssvizApp(replay())
    async with app.run_test(size=size) as pilot:
        await go_to(pilot, app, KINDS.index("tls.certificate"))
        view = detail(app)
        tree = view.section("tree").tree
        shown = [n.label.plain for n in tree.visible]
        for name in ("subject:", "issuer:", "subject alt names: server.example.com",
                     "not before:", "not after:", "public key:"):
            assert any(line.startswith(name) for line in shown), name
        rows = "\n".join(screen_rows(view))
        assert "▼ certificate 1" in rows and "server.example.com" in rows


@pytest.mark.parametrize("cols", [80, 120, 200])
async def test_wide_screens_show_the_explanation_beside_or_under_the_pane(cols):
    app = WssvizApp(replay())
    async with app.run_test(size=(cols, 48)) as pilot:
        await go_to(pilot, app, KINDS.index("tls.certificate"))
        view = detail(app)
        assert view.band("tree") is not None
        has_explanation = "What happened" in view.text() and "Eavesdropper sees" in view.text()
        if cols < 120:
            assert not has_explanation and not view.aside
        elif cols < 150:  # under the tree
            assert has_explanation and not view.aside
            assert view.band("explain-label").y > view.band("tree").y
        else:  # beside it, with a fair share of the width
            assert has_explanation and view.aside
            assert view.aside_width >= 0.35 * view.size.width
        if cols >= 120:
            rows = "\n".join(screen_rows(view))
            assert "What happened" in rows and "Why" in rows


@pytest.mark.parametrize("size", [(80, 24), (120, 36), (200, 60)])
async def test_presenter_mode_keeps_the_ladder_and_puts_the_pane_first(size):
    """The class keeps the picture (the ladder) and sees the step's key content first:
    the pane, named on a line of its own, then the explanation under it."""
    app = WssvizApp(replay(), present=True)
    async with app.run_test(size=size) as pilot:
        await go_to(pilot, app, KINDS.index("tls.client_hello"))
        view = detail(app)
        names = [b.section.name for b in view.bands]
        assert names[0] == "pane-label" and "tree" in names and names[-2:] == ["explain-label", "aside"]
        rows = [row.strip(" │┃") for row in screen_rows(view)]
        assert any(row.startswith("1 TLS handshake") for row in rows)  # the minimal pane indicator
        assert any(row.startswith("▼ record: handshake") for row in rows)  # the pane's detail
        assert "What happened" in rows
        assert app.screen.query_one(Timeline).display
        head = screen_rows(app.screen.query_one("#stephead"))
        assert len(head) == 2 and all(r.strip() for r in head)  # title, summary
        await pilot.press("6")  # the explanation pane alone: the explanation alone
        await pilot.pause()
        assert [b.section.name for b in detail(app).bands] == ["aside"]


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_presenter_mode_at_80x24_shows_the_xor_lane_and_the_accept_chain(lang):
    """On a projector's 80x24: the masked Hello frame's XOR lane, and the whole Accept
    chain (key, GUID, SHA-1, base64) are on screen without scrolling."""
    from wssviz.ui.texts import t

    app = WssvizApp(replay(), present=True, lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        hello = next(i for i, s in enumerate(STEPS) if s.kind == "ws.frame" and s.direction == "c2s")
        await go_to(pilot, app, hello)
        shot = "\n".join(screen_rows(detail(app)))
        assert t("frames_lane", lang).split(":")[0].split("：")[0] in shot
        assert "0x37 ⊕ 0x48 'H' = 0x7f" in shot and "0x37 ⊕ 0x6f 'o' = 0x58" in shot  # the whole lane
        await go_to(pilot, app, KINDS.index("ws.accept"))
        shot = "\n".join(screen_rows(detail(app)))
        for value in ("dGhlIHNhbXBsZSBub25jZQ==", "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", "b37a4f2cc0624f1690f6",
                      "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="):
            assert value in shot.replace("\n", "").replace(" ", "").replace("│", "").replace("┃", "") or \
                value in shot, value


async def test_leaving_presenter_mode_realigns_the_ladder_head():
    app = WssvizApp(replay())
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        before = screen_rows(app.screen.query_one("#ladder-head"))
        await pilot.press("f5")
        await pilot.pause()
        await pilot.press("f5")
        await pilot.pause()
        await pilot.pause()
        assert screen_rows(app.screen.query_one("#ladder-head")) == before
        assert before[0].rstrip().endswith("server")


async def test_the_step_ahead_is_made_at_once_and_the_rest_while_the_learner_reads(monkeypatch):
    import gc

    from wssviz.ui.screens import main as main_screen

    collected = []
    monkeypatch.setattr(main_screen.gc, "collect", lambda *a: collected.append(a) or 0)
    steps = recorded_steps() + [big_frame_step(len(STEPS))]
    app = WssvizApp(replay(steps))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.main_screen
        await go_to(pilot, app, len(steps) - 2)  # forward, onto the step before the 16 MiB one
        collected.clear()  # (step 0 had its pause while the app started)
        frames = screen._pane("frames")
        big = screen._view(len(steps) - 1)
        behind = screen._view(len(steps) - 3)
        behind_pane = screen._pane(pane_for(steps[len(steps) - 3]))
        # the step ahead (the 16 MiB frame) is made once the screen is painted
        assert big.key("frames") in frames._kept
        assert behind.key(behind_pane.pane_id) not in behind_pane._kept and not collected
        await pilot.pause(main_screen.IDLE_AFTER + 12 * main_screen.IDLE_TICK)
        assert behind.key(behind_pane.pane_id) in behind_pane._kept  # and the one behind, while reading
        assert collected  # and the collector ran then
        assert screen.index == len(steps) - 2  # nothing moved on screen
        await pilot.press("right")
        await pilot.pause()
        assert screen.index == len(steps) - 1 and active_pane(app) == "frames"
        assert detail(app).bands is frames._kept[big.key("frames")]
    assert gc.isenabled()


async def test_a_key_press_starts_the_getting_ready_over():
    from wssviz.ui.screens import main as main_screen

    app = WssvizApp(replay())
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.main_screen
        await pilot.pause(main_screen.IDLE_AFTER + 2 * main_screen.IDLE_TICK)
        for _ in range(40):  # (a loaded machine: the ticks come late)
            if screen._ready_queue is not None:
                break
            await pilot.pause(main_screen.IDLE_TICK)
        assert screen._ready_queue is not None  # work for step 0 had begun
        await pilot.press("right")
        # counting again from the press: nothing is got ready until the learner pauses
        assert screen.index == 1 and screen._ready_queue is None
        assert screen._idle_ticks * main_screen.IDLE_TICK < main_screen.IDLE_AFTER


def test_the_xor_lane_is_one_aligned_text_that_never_reads_markup():
    from wssviz.ui.widgets.frames import lane_text

    text = lane_text([("byte 0", "0x37 ⊕ 0x48 'H' = 0x7f"), ("byte 10", "[/bold][link=x]")])
    assert text.plain.splitlines() == [" byte 0  0x37 ⊕ 0x48 'H' = 0x7f", "byte 10  [/bold][link=x]"]
    assert lane_text([]).plain == ""


async def test_tls_pane_of_a_frame_shows_the_record_that_carried_it_and_unfolds_long_values():
    app = WssvizApp(replay())
    frame = KINDS.index("ws.frame")
    async with app.run_test(size=(80, 24)) as pilot:
        await go_to(pilot, app, frame)
        await pilot.press("1")
        await pilot.pause()
        head = pane_text(app, "head")
        # this frame's own record, not the last handshake message
        assert f"carried step {frame}" in head and "latest TLS step" not in head
        assert "legacy_record_version" in head and "8 bits" in head
        tree = tree_text(app)
        assert "record: application_data" in tree and "decrypted with" in tree
        assert "additional data = the record header" in tree and "inner content type" in tree
        assert "opcode" not in tree and "masking key" not in tree  # the frame's own fields are elsewhere
        # the cursor's line unfolds: a value wider than the pane is readable in full
        view = detail(app)
        band = view.band("tree")
        section = band.section
        width = view.inner_width
        decrypted = next(n for n in section.tree.visible if n.data is not None and n.data.id == "tls.decrypted")
        section.tree.set_cursor(section.tree.visible.index(decrypted))
        view.refresh()
        await pilot.pause()
        full = explain.value(decrypted.data, "en")
        assert len(full) > width - 20  # too long for one row here
        rows = section.rows(width)
        assert rows > len(section.tree.visible)
        c = section.tree.cursor
        shown = "".join(section.line(c + i, width, view.palette, app.console).text.strip()
                        for i in range(rows - len(section.tree.visible) + 1))
        assert full.replace(" ", "") in shown.replace(" ", "")


async def test_the_ladder_repaints_the_current_rung_after_it_has_scrolled():
    """Moving one step on a scrolled ladder repaints the old and the new current rung
    where they are on screen (ScrollView.refresh_lines takes ladder rows; giving it
    screen rows left the highlight behind once the ladder had scrolled)."""
    from textual.geometry import Region

    app = WssvizApp(replay())
    async with app.run_test(size=(80, 24)) as pilot:
        await go_to(pilot, app, len(STEPS) - 2)
        timeline = app.query_one(Timeline)
        top = timeline.scroll_offset.y
        assert top > 0  # the ladder has scrolled
        painted: list[Region] = []
        real = timeline.refresh

        def spy(*regions, **kw):
            painted.extend(r for r in regions if isinstance(r, Region))
            return real(*regions, **kw)

        timeline.refresh = spy
        await pilot.press("right")
        await pilot.pause()
        current = app.main_screen.index
        assert current == len(STEPS) - 1
        rows = {r.y + top for r in painted if r.height == 1}
        assert {current - 1, current} <= rows, (sorted(rows), current, top)


def test_an_encrypted_arrow_has_a_padlock_and_double_shafts_where_there_is_room():
    from wssviz.ui.widgets.timeline import LOCK, ladder_text

    frame = next(s for s in STEPS if s.kind == "ws.frame")
    hello = next(s for s in STEPS if s.kind == "tls.client_hello")
    wide = ladder_text(frame, 40).plain
    assert LOCK in wide and "═" in wide and wide.endswith("▶│")
    assert LOCK not in ladder_text(frame, 18).plain and "═" in ladder_text(frame, 18).plain  # compact: shafts only
    clear = ladder_text(hello, 40).plain
    assert LOCK not in clear and "═" not in clear
    assert ladder_text(frame, 40, scheme="ws").plain.count("═") == 0  # ws://: nothing is encrypted
