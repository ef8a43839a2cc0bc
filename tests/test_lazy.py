"""lazy: modules imported on first use, and what the live pair's first step leaves unloaded."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from wssviz import lazy


def fresh_python(code: str) -> list[str]:
    """The lines ``code`` prints in a new interpreter (nothing imported yet)."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


def test_a_lazy_module_is_imported_when_first_read():
    code = ("import sys; from wssviz import lazy; m = lazy.module('colorsys'); "
            "print('colorsys' in sys.modules, repr(m)[:17]); print(m.rgb_to_hsv(1, 0, 0), 'colorsys' in sys.modules)")
    assert fresh_python(code) == ["False <module 'colorsys", "(0.0, 1.0, 1) True"]


def test_a_lazy_module_that_does_not_exist_fails_when_read():
    ghost = lazy.module("wssviz.no_such_module")
    try:
        ghost.anything
    except ModuleNotFoundError as exc:
        assert "no_such_module" in str(exc)
    else:
        raise AssertionError("reading a missing module must fail")


def test_the_live_pairs_first_step_loads_no_tls_http_or_websocket_code():
    code = ("import sys; from wssviz.cli import live_session; s = live_session(); s.ensure(0); "
            "print(s.steps[0].kind, sorted(m for m in ('ctypes', 'wssviz.live.openssl_ext', "
            "'encodings.idna', 'hashlib', 'ssl', 'wssviz.live.certs', 'wssviz.core.handshake', "
            "'wssviz.core.deflate', 'wssviz.dissect.app', 'wssviz.dissect.tls') if m in sys.modules)); "
            "s.ensure(1); print(s.steps[1].kind, 'ssl' in sys.modules)")
    assert fresh_python(code) == ["tcp.connect []", "tls.client_hello True"]


def test_while_the_first_step_is_read_the_next_steps_code_loads_and_nothing_is_sent():
    code = ("import sys; from wssviz.cli import live_session; s = live_session(); s.ensure(0); "
            "names = ('wssviz.dissect.tls', 'wssviz.dissect.x509', 'wssviz.live.certs', "
            "'wssviz.dissect.app', 'wssviz.core.handshake', 'wssviz.core.deflate'); "
            "print([n in sys.modules for n in names]); s._warm.join(10); "
            "print([n in sys.modules for n in names], len(s.steps), len(s.capture.events))")
    assert fresh_python(code) == [str([False] * 6), str([True] * 6) + " 1 1"]


def test_a_whole_run_loads_nothing_ahead():
    code = ("from wssviz.cli import live_session; s = live_session(); s.run_all(); print(s._warm)")
    assert fresh_python(code) == ["None"]


def test_plain_wssviz_never_loads_argparse():
    code = ("import sys; from wssviz import cli; "
            "cli.tui = lambda args, opener, factory: print('argparse' in sys.modules, vars(args)) or 0; "
            "sys.argv = ['wssviz']; cli.main(); sys.argv = ['wssviz', '--lang', 'zh']; cli.main()")
    assert fresh_python(code) == ["False " + repr(cli_defaults()),
                                  "True " + repr({**cli_defaults(), "lang": "zh"})]


def cli_defaults() -> dict:
    from wssviz import cli

    return cli.no_arguments()


def test_settling_cancels_a_warm_up_not_begun_and_waits_for_one_under_way(monkeypatch):
    from wssviz import session
    from wssviz.cli import live_session
    from wssviz.live import driven

    waiting = live_session()
    waiting.ensure(0)  # armed: it would load the next steps' code WARM_AFTER from now
    monkeypatch.setattr(driven, "WARM_AFTER", 0.0)
    started = threading.Event()
    monkeypatch.setattr(driven.DrivenSession, "_warm_up", lambda self: started.set() or time.sleep(0.3))
    running = live_session()
    running.ensure(0)
    assert started.wait(5)
    session.settle()
    assert waiting._warm.finished.is_set() and not waiting._warm.is_alive()  # cancelled
    assert not running._warm.is_alive()  # waited for, not left to the interpreter's shutdown


def test_the_interface_settles_background_work_before_the_program_ends(monkeypatch):
    from wssviz import cli
    import wssviz.ui.app as ui_app

    calls = []
    monkeypatch.setattr(ui_app, "run_app", lambda *a, **k: calls.append("run") or 0)
    monkeypatch.setattr(cli, "settle", lambda: calls.append("settle"))
    assert cli.main([]) == 0 and calls == ["run", "settle"]


def test_settling_also_waits_for_a_replay_reading_ahead(tmp_path):
    from wssviz import session
    from wssviz.cli import live_session, load_capture, replay_of
    from wssviz.recording import save

    live = live_session()
    live.run_all()
    save(live.capture, tmp_path / "r.json")
    replay = replay_of(load_capture(str(tmp_path / "r.json")), "r.json")
    replay.ensure(0)  # the rest is read later, on a thread of its own
    assert replay._rest is not None and not replay.finished
    session.settle()
    assert not replay._rest.is_alive()
