"""Headless Chromium driven through the DevTools protocol (itself a WebSocket): open a
page, evaluate JavaScript in it until an answer is what a test waits for."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import time
import urllib.request
from typing import Callable

from websockets.sync.client import connect


class Browser:
    """``with Browser(url, profile) as b: b.wait_for(expression, ok)`` (the page stays
    open for the ``with`` block: two of them are two browsers at once)."""

    def __init__(self, url: str, profile: str, *, timeout: float = 30.0, extra: tuple[str, ...] = ()) -> None:
        self.url, self.profile, self.timeout, self.extra = url, profile, timeout, extra
        self.proc: subprocess.Popen | None = None
        self._cdp = None
        self._n = 0
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> "Browser":
        cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage", f"--user-data-dir={self.profile}", *self.extra,
               "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", self.url]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + self.timeout
        devtools = None
        while devtools is None:
            line = self.proc.stderr.readline()
            assert line and time.monotonic() < deadline, "Chromium did not start its DevTools endpoint"
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            devtools = m and m[1]
        port = int(re.search(r":(\d+)/", devtools)[1])
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
                pages = [t for t in json.load(r) if t["type"] == "page" and t["url"].startswith(self.url)]
            if pages:
                self._cdp = self._stack.enter_context(
                    connect(pages[0]["webSocketDebuggerUrl"], open_timeout=5, max_size=None))
                return self
            time.sleep(0.1)
        raise AssertionError(f"Chromium opened no page for {self.url}")

    def evaluate(self, expression: str):
        self._n += 1
        self._cdp.send(json.dumps({"id": self._n, "method": "Runtime.evaluate",
                                   "params": {"expression": expression}}))
        while (reply := json.loads(self._cdp.recv(timeout=10))).get("id") != self._n:
            pass
        return reply["result"]["result"].get("value")

    def wait_for(self, expression: str, ok: Callable[[object], bool], timeout: float | None = None):
        """Evaluate until ``ok(value)``; returns the last value (whether or not it was ok)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        value = None
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if ok(value):
                return value
            time.sleep(0.1)
        return value

    def __exit__(self, *exc) -> None:
        self._stack.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
