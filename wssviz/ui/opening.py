"""The first session, opened on a thread of its own from the moment the app is made.

Opening a session costs imports and work (a live pair loads its code and makes
its first step, the TCP connection over loopback; a replay reads its file).  Started when the app object
is made, that work overlaps Textual's own start-up, and the stepping screen waits
a moment for it before its first layout: a quick opener (the live pair, a
replay) makes the first screen show the first step at once, in one paint, and a
slow one (a remote server in ``connect``) leaves the screen to say "working…"
until it is done.  Either way the answer reaches the screen exactly once.
"""

from __future__ import annotations

import threading
from typing import Callable

from wssviz.session import Session

#: How long the screen waits for the session before painting "working…" instead.
WAIT = 0.2
#: How long quitting waits for an opener still at work (a slow remote server is left).
SETTLE = 1.0


class Opening:
    def __init__(self, opener: Callable[[], Session]) -> None:
        self.session: Session | None = None
        #: Why no session could be opened (then ``session`` stays None).
        self.error: BaseException | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._notify: Callable[[], None] | None = None
        self._thread = threading.Thread(target=self._open, args=(opener,), name="wssviz-open",
                                        daemon=True)
        self._thread.start()

    def _open(self, opener: Callable[[], Session]) -> None:
        try:
            self.session = opener()
        except BaseException as exc:  # noqa: BLE001 - handed to the screen, which reports it
            self.error = exc
        else:
            # Its first step too (a live pair's TCP connection, a remote server's):
            # asked for later, from the screen's worker, it would come one paint late.
            try:
                self.session.ensure(0)
            except Exception:  # noqa: BLE001 - the screen asks again, and shows what fails
                pass
        with self._lock:
            self._done.set()
            notify, self._notify = self._notify, None
        if notify is not None:
            notify()

    def settle(self, timeout: float = SETTLE) -> None:
        """At exit: give an opener still at work a moment to finish.  A daemon thread
        stopped by the interpreter's shutdown inside cryptography's Rust code (a
        replay dissecting certificates) aborts the process instead of exiting."""
        self._thread.join(timeout)

    def wait(self, timeout: float = WAIT) -> bool:
        """Block up to ``timeout`` seconds for the opener; whether it is done."""
        return self._done.wait(timeout)

    def done_or_notify(self, notify: Callable[[], None]) -> bool:
        """True if the opener is done (read ``session`` and ``error`` now); otherwise
        ``notify`` will be called, once, from the opening thread when it is."""
        with self._lock:
            if self._done.is_set():
                return True
            self._notify = notify
            return False
