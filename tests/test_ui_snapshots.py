"""Snapshot tests of the interface on the replayed default session (never a live run).

Update after a deliberate change with ``pytest tests/test_ui_snapshots.py --snapshot-update``
and look at the report before committing.
"""

from __future__ import annotations

import pytest

from ui_fixtures import recorded_steps, replay, with_close_reason
from wssviz.session import StepList
from wssviz.ui.app import WssvizApp

KINDS = [s.kind for s in recorded_steps()]
HELLO = next(i for i, s in enumerate(recorded_steps()) if s.kind == "ws.frame")


def goto(index: int) -> list[str]:
    return ["g", *str(index), "enter"]


CASES = {
    "first": [],
    "client_hello": goto(KINDS.index("tls.client_hello")),
    "certificate": goto(KINDS.index("tls.certificate")),
    "cert_check": goto(KINDS.index("tls.cert_check")),
    "upgrade_request": goto(KINDS.index("http.upgrade_request")),
    "accept_check": goto(KINDS.index("ws.accept_check")),
    "hello_frame": goto(HELLO),
    "hello_hex": goto(HELLO) + ["5"],
    "help": ["question_mark"],
}


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
@pytest.mark.parametrize("case", list(CASES))
def test_snapshot(snap_compare, case, size):
    assert snap_compare(WssvizApp(replay()), press=CASES[case], terminal_size=size)


ZH_CASES = {k: CASES[k] for k in ("first", "certificate", "accept_check", "hello_frame", "help")}


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
@pytest.mark.parametrize("case", list(ZH_CASES))
def test_snapshot_in_chinese(snap_compare, case, size):
    """The same screens in Chinese: titles, fields, explanations, keys and panes."""
    assert snap_compare(WssvizApp(replay(), lang="zh"), press=ZH_CASES[case], terminal_size=size)


def test_snapshot_glossary(snap_compare):
    assert snap_compare(WssvizApp(replay()), press=goto(HELLO) + ["G"], terminal_size=(100, 30))


def test_snapshot_presenter_mode(snap_compare):
    app = WssvizApp(replay(), present=True)
    assert snap_compare(app, press=goto(HELLO), terminal_size=(120, 36))


def test_snapshot_light_theme(snap_compare):
    assert snap_compare(WssvizApp(replay()), press=goto(HELLO) + ["t"], terminal_size=(160, 48))


def test_snapshot_malicious_close_reason(snap_compare):
    steps = with_close_reason(recorded_steps(), "[/bold][link=x]")
    i = next(s.index for s in steps if s.raw("ws.frame.close_reason") == "[/bold][link=x]")
    assert snap_compare(WssvizApp(StepList(steps, title="[b]not bold[/b]")), press=goto(i),
                        terminal_size=(80, 24))
