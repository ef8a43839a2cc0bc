"""``wssviz serve``: the interface in browsers through textual-serve, one independent
session (its own wssviz process) per browser; tested with headless Chromium that can
reach only this machine."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("textual_serve")
needs_chromium = pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path):
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.Popen([sys.executable, "-m", "wssviz", "serve", "--port", str(port)], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                assert r.status == 200
                break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, "serve did not answer"
            time.sleep(0.2)
    yield url, proc
    os.killpg(proc.pid, 15)
    proc.wait(10)


def _sessions(server: subprocess.Popen) -> int:
    """wssviz processes the server started (one per browser)."""
    out = subprocess.run(["pgrep", "-f", "-g", str(os.getpgid(server.pid)), "--", "wssviz --lang"],
                         capture_output=True, text=True).stdout.split()
    return len(out)


def _screen_text(data: bytes) -> str:
    """What a terminal stream says, its escape sequences taken out."""
    import re

    text = data.decode("utf-8", "replace")
    return re.sub(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]", "", text)


class Student:
    """What a browser does, spoken as textual-serve's page speaks it: one WebSocket to
    /ws that receives the terminal's bytes and sends ``["stdin", keys]``."""

    def __init__(self, url: str) -> None:
        import contextlib

        from websockets.sync.client import connect

        self._stack = contextlib.ExitStack()
        self.ws = self._stack.enter_context(connect(url.replace("http://", "ws://") + "ws?width=120&height=36",
                                                    max_size=None))
        self.seen = b""

    def read_until(self, words: str, timeout: float = 45) -> str:
        deadline = time.monotonic() + timeout
        while words not in _screen_text(self.seen) and time.monotonic() < deadline:
            try:
                got = self.ws.recv(timeout=1)
            except TimeoutError:
                continue
            if isinstance(got, bytes):
                self.seen += got
        return _screen_text(self.seen)

    def press(self, keys: str) -> None:
        import json

        self.ws.send(json.dumps(["stdin", keys]))

    def close(self) -> None:
        self._stack.close()


def test_two_students_get_the_first_screen_from_sessions_of_their_own(served):
    url, server = served
    a, b = Student(url), Student(url)
    try:
        for student in (a, b):
            assert "TCP connection opened" in student.read_until("TCP connection opened")
        assert _sessions(server) == 2  # one process, one live session, for each
        b.seen = b""
        a.press("\x1b[F")  # End, in one of them: its own session runs to its last step
        assert "TCP connection closed" in a.read_until("TCP connection closed")
        b.press("\x1b[C")  # Right, in the other: its step 1, whatever the first one did
        assert "ClientHello" in b.read_until("ClientHello")
        assert "TCP connection closed" not in _screen_text(b.seen)
    finally:
        a.close()
        b.close()


@needs_chromium
def test_headless_chromium_shows_the_interface(served, tmp_path):
    """The page loads in a browser that can reach only this machine, the interface's
    bytes reach it (the page marks its first byte), and its terminal is drawn."""
    import base64
    import json as _json

    from helpers_browser import Browser

    url, server = served
    extra = ("--proxy-server=127.0.0.1:9", "--proxy-bypass-list=127.0.0.1", "--window-size=1200,800")
    with Browser(url, str(tmp_path / "a"), extra=extra) as a, Browser(url, str(tmp_path / "b"), extra=extra) as b:
        for browser in (a, b):
            cls = browser.wait_for("document.body.className", lambda v: "-first-byte" in str(v), timeout=45)
            assert "-first-byte" in cls
            assert browser.evaluate("document.querySelectorAll('.xterm canvas, .xterm-screen').length") >= 1
        assert _sessions(server) == 2
        time.sleep(2)  # (the first screen drawn) a picture of it, for whoever reads the test's output
        a._n += 1
        a._cdp.send(_json.dumps({"id": a._n, "method": "Page.captureScreenshot", "params": {"format": "png"}}))
        while (reply := _json.loads(a._cdp.recv(timeout=10))).get("id") != a._n:
            pass
        png = base64.b64decode(reply["result"]["data"])
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000  # not a blank page
        (tmp_path / "serve.png").write_bytes(png)


def test_serve_without_textual_serve_says_how_to_get_it(tmp_path):
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    (tmp_path / "textual_serve").mkdir()
    (tmp_path / "textual_serve" / "__init__.py").write_text("raise ImportError('not here')\n")
    out = subprocess.run([sys.executable, "-m", "wssviz", "serve"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and "pip install" in out.stderr and "Traceback" not in out.stderr
