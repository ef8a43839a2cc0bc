"""The instrumented server for real clients: ``wssviz listen``.

Theory of operation
-------------------
``ListenServer`` makes a throwaway CA and a leaf for localhost, 127.0.0.1 and the
host it binds, writes the CA certificate to a file a browser or client can be
told to trust, and accepts TCP connections (127.0.0.1 unless told otherwise).

Each connection runs in its own thread as a ``ServerConnection``: TLS on
MemoryBIOs through ``RealEnd`` (every byte recorded into its own Capture, with
its own memfd key log), then one HTTP request, read and judged by the core's
``ServerHandshake``.  A WebSocket upgrade whose Origin is allowed (the page's own
origin, the allow list, or none at all for non-browser clients) gets a 101 (with
permessage-deflate when the client offers it, unless ``deflate`` is off) and an
echo of every message, through the core's ``Connection``; a foreign Origin gets
403.  ``GET /`` serves the page whose script opens a WebSocket back here.  Every
event goes through the Dissector at once and each new Step is handed to
``on_step(session_number, step)``.

One bad client never stops the server: every connection has deadlines and its
own exception guard, and becomes an ``error`` step rather than a traceback.
Memory stays bounded: each connection keeps at most ``keep_bytes`` of what
crossed (the dissector has read the rest), a finished connection keeps only its
steps and capture, and only the last ``KEEP_FINISHED`` finished ones are kept.
Idle clients never lock others out: a silent upgraded connection is closed (1001)
after ``idle_timeout``, and when a new client would pass ``max_connections`` or
``max_per_address`` the longest-silent one is closed to make room.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
import ssl
import threading
import time
from typing import Callable

from wssviz import memo
from wssviz.capture import Capture
from wssviz.core import frames as wf
from wssviz.core import handshake as hs
from wssviz.core import limits as _limits
from wssviz.core.connection import Connection, Failed, MessageReceived, State
from wssviz.core.deflate import DeflateParams
from wssviz.core.msg import Msg
from wssviz.core.opening import ServerHandshake
from wssviz.dissect import Dissector
from wssviz.live.certs import CA, Identity
from wssviz.live.page import page
from wssviz.live.transport import KeyLog, PeerGone, RealEnd, TLSEnd
from wssviz.steps import Step

# Timeouts, connection limits and the bytes kept per connection are the process's
# limits (wssviz.core.limits: handshake_timeout, idle_timeout, max_connections,
# max_per_address, keep_bytes).  When a new client would pass max_connections or
# max_per_address, the upgraded connection silent longest (from that address, or from
# any) is closed with 1001 to make room; only when none is idle is the client turned away.
KEEP_FINISHED = 8  # finished connections whose steps and capture stay in memory
WS_PATH = "/ws"

OnStep = Callable[[int, Step], None]


def default_ca_dir() -> str:
    """Where the CA certificate is written: the user's cache folder for wssviz."""
    return str(memo.cache_dir(writable=True))


class ListenServer:
    """Serves the page and echoes WebSocket messages; every connection is a session."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8443, *,
                 allow_origins: list[str] | tuple[str, ...] = (), ca_dir: str | None = None,
                 on_step: OnStep | None = None, handshake_timeout: float | None = None,
                 idle_timeout: float | None = None, deflate: bool = True) -> None:
        from wssviz.dissect import names

        names.preload()  # before any client: step times measure the network
        self.host = host
        self.on_step = on_step or (lambda n, s: None)
        self.handshake_timeout = handshake_timeout or _limits.LIMITS.handshake_timeout
        self.idle_timeout = idle_timeout or _limits.LIMITS.idle_timeout
        self.deflate = deflate  # accept permessage-deflate when a client offers it
        now = dt.datetime.now(dt.timezone.utc)
        ca_folder = ca_dir or default_ca_dir()
        self.ca = CA.load_or_create(ca_folder, "listen-ca", "wssviz listen CA")
        names = list(dict.fromkeys(["localhost", "127.0.0.1", host]))
        names = [n for n in names if n not in ("0.0.0.0", "::", "")]
        self.identity: Identity = self.ca.issue(names, now=now)
        self.listener = socket.create_server((host, port))
        self.port = self.listener.getsockname()[1]
        self.ca_path = os.path.join(ca_folder, "listen-ca.pem")
        self.fingerprint = fingerprint(self.ca.cert_pem)
        self.origins = {self._origin(h) for h in names}
        self.origins |= {o.rstrip("/") for o in allow_origins}
        self._stop = threading.Event()
        self._count = 0
        self._count_lock = threading.Lock()
        self._emit_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.sessions: list[ServerConnection] = []  # open ones, and the last KEEP_FINISHED finished
        self._sessions_lock = threading.Lock()

    # -- addresses ------------------------------------------------------------------

    def _origin(self, host: str) -> str:
        shown = f"[{host}]" if ":" in host else host
        return f"https://{shown}" + ("" if self.port == 443 else f":{self.port}")

    @property
    def url(self) -> str:
        host = "localhost" if self.host in ("127.0.0.1", "0.0.0.0", "::") else self.host
        return self._origin(host) + "/"

    @property
    def ws_url(self) -> str:
        return self.url.replace("https://", "wss://", 1).rstrip("/") + WS_PATH

    def banner(self, lang: str = "en") -> str:
        """What to tell the user, in ``lang``: the URL and how to trust the CA."""
        from wssviz.explain import ui_text

        lines = [ui_text("listen_serving", lang).format(url=self.url, ws_url=self.ws_url),
                 ui_text("listen_bound", lang).format(host=self.host, port=self.port),
                 ui_text("listen_ca", lang).format(path=self.ca_path),
                 ui_text("listen_fingerprint", lang).format(fingerprint=self.fingerprint),
                 ui_text("listen_same_ca", lang),
                 ui_text("listen_trust", lang).format(url=self.url),
                 ui_text("listen_origins", lang).format(origins=", ".join(sorted(self.origins)))]
        if self.ca.replaced:
            lines.append(ui_text("listen_ca_replaced", lang).format(key=self.ca.replaced))
        lines.append(ui_text("listen_stop", lang))
        return "\n".join([lines[0]] + ["  " + line.replace("\n", "\n    ") for line in lines[1:]])

    # -- serving ----------------------------------------------------------------------

    def serve_forever(self) -> None:
        """Accept connections until ``stop()`` (or Ctrl-C in the caller)."""
        self.listener.settimeout(0.2)
        try:
            while not self._stop.is_set():
                try:
                    sock, _addr = self.listener.accept()
                except socket.timeout:
                    continue
                except OSError:
                    if self._stop.is_set():
                        break
                    raise
                self._threads = [t for t in self._threads if t.is_alive()]
                if not self._make_room(_addr[0]):
                    sock.close()
                    continue
                with self._count_lock:
                    number = self._count
                    self._count += 1
                try:
                    conn = ServerConnection(self, number, sock)
                except Exception:  # noqa: BLE001 - a connection that cannot even start is dropped
                    sock.close()
                    continue
                with self._sessions_lock:
                    self.sessions.append(conn)
                t = threading.Thread(target=conn.run, name=f"wssviz-listen-{number}", daemon=True)
                self._threads.append(t)
                t.start()
        finally:
            self.listener.close()

    def _make_room(self, address: str) -> bool:
        """Whether a new client from ``address`` can be served now: under both limits, or
        once the longest-silent upgraded connection has been asked to go (1001)."""
        with self._sessions_lock:
            live = [c for c in self.sessions if not c.done.is_set() and not c.leaving]
        mine = [c for c in live if c.address == address]
        for pool, limit in ((mine, _limits.LIMITS.max_per_address), (live, _limits.LIMITS.max_connections)):
            if len(pool) >= limit:
                idle = [c for c in pool if c.idle_since is not None]
                if not idle:
                    return False
                min(idle, key=lambda c: c.idle_since).leave()
        return True

    def finished(self, conn: "ServerConnection") -> None:
        """``conn`` is over: keep only the last KEEP_FINISHED finished ones in memory,
        and give what the others held back to the system."""
        with self._sessions_lock:
            done = [c for c in self.sessions if c.done.is_set() or c is conn]
            for old in done[:-KEEP_FINISHED] if len(done) > KEEP_FINISHED else []:
                self.sessions.remove(old)
        release_memory()

    def start(self) -> threading.Thread:
        """Serve in a background thread (tests, embedding)."""
        t = threading.Thread(target=self.serve_forever, name="wssviz-listen", daemon=True)
        t.start()
        return t

    def stop(self, wait: float = 2.0) -> None:
        self._stop.set()
        for conn in list(self.sessions):
            conn.abort()
        deadline = time.monotonic() + wait
        for t in list(self._threads):
            t.join(max(0.0, deadline - time.monotonic()))

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def emit(self, number: int, steps: list[Step]) -> None:
        with self._emit_lock:
            for step in steps:
                self.on_step(number, step)

    def context(self, keylog: KeyLog, capture: Capture) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_alpn_protocols(["http/1.1"])
        ctx.keylog_filename = keylog.path
        self.identity.load_into(ctx)

        def sni(obj: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
            if name:
                capture.server_name = name
        ctx.sni_callback = sni
        return ctx


def release_memory() -> None:
    """Hand freed memory back to the system.  Each connection runs on its own thread,
    and glibc gives threads their own malloc arenas, which keep what a finished
    connection freed; ``malloc_trim`` returns it (elsewhere this does nothing)."""
    global _trim
    if _trim is None:
        try:
            import ctypes

            _trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _trim = False
    if _trim:
        _trim(0)


_trim = None


def fingerprint(cert_pem: str) -> str:
    """SHA-256 of the certificate's DER, as colon-separated hex (what browsers show)."""
    der = ssl.PEM_cert_to_DER_cert(cert_pem)
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


class _Done(Exception):
    """This connection is over; facts are already recorded."""


class ServerConnection:
    """One TCP connection to the listen server: its Capture, its Steps; the WebSocket
    side is the core's sans-I/O handshake and connection."""

    def __init__(self, server: ListenServer, number: int, sock: socket.socket) -> None:
        self.server = server
        self.number = number
        self.sock = sock
        peer, local = sock.getpeername()[:2], sock.getsockname()[:2]
        self.address = peer[0]
        self.capture = Capture(scheme="wss", server_name=server.host if server.host not in
                               ("0.0.0.0", "::") else "localhost",
                               settings={"name": "listen", "connection": number},
                               budget=_limits.LIMITS.keep_bytes)
        self.capture.trust = [server.ca.cert_pem]
        self.capture.started = round(dt.datetime.now(dt.timezone.utc).timestamp(), 6)
        self.dissector = Dissector(self.capture)
        self.steps: list[Step] = []
        self.done = threading.Event()
        self._seen = 0
        self._answered = False
        self.keylog = KeyLog()
        self.end = RealEnd(sock, self.capture, "server",
                           tls=TLSEnd(server.context(self.keylog, self.capture), True),
                           keylog=self.keylog)
        self.capture.add_fact(0.0, "tcp.connect", client=list(peer), server=list(local))
        self.conn: Connection | None = None
        self.upgraded = False  # this server answered the upgrade with 101
        self.idle_since: float | None = None  # upgraded and silent since (monotonic clock)
        self.leaving = False  # asked to close, to make room for a new client

    def leave(self) -> None:
        """Close this idle connection (1001) at its next chance (another thread asks)."""
        self.leaving = True

    # -- steps ---------------------------------------------------------------------------

    def publish(self, force: bool = False) -> None:
        """Dissect the events recorded since last time and hand out the new steps.

        Until the server has answered (so the whole ClientHello, with its SNI, is
        in) nothing is published unless ``force``: the SNI names the host the
        very first step shows, exactly as a replay of the Capture would."""
        if not force and not self._answered:
            self._answered = any(getattr(e, "direction", "") == "s2c" for e in self.capture.events)
            if not self._answered:
                return
        new = self.capture.events[self._seen:]
        self._seen = len(self.capture.events)
        steps: list[Step] = []
        for ev in new:
            steps += self.dissector.feed(ev)
        self.capture.release()
        if steps:
            self.steps += steps
            self.server.emit(self.number, steps)

    def error(self, layer: str, rule: Msg, rfc: str, action: Msg, *, blame: str | None = "client",
              detail: str = "", offset: int | None = None) -> None:
        """Our server noticed a broken rule (by default the client's) and did ``action``."""
        self.end.sync_keylog()
        self.capture.add_error(self.end.now(), layer, rule, rfc, action, by="server", blame=blame, detail=detail, offset=offset)

    def abort(self) -> None:
        """Unblock a waiting connection (server shutdown)."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- the connection ----------------------------------------------------------------------

    def run(self) -> None:
        closed_by = None
        try:
            # Nothing is published before the ClientHello is in: its SNI names the
            # host, which the tcp.connect step already shows (as a replay would).
            self._handshake()
            self._request()
        except _Done:
            pass
        except PeerGone as gone:
            closed_by = ("client", gone.how)
        except TimeoutError as exc:
            self.error("tcp", Msg("rule.tcp.client_stopped_reading"), "RFC 9293 §3.8",
                       Msg("action.closed_connection"), detail=str(exc))
        except Exception as exc:  # one bad client never stops the server
            self.end.sync_keylog()
            self.capture.add_error(self.end.now(), "listen", Msg("rule.tool.driver_failure"), "",
                                   Msg("action.closed_connection"), by="server",
                                   detail=f"{type(exc).__name__}: {exc}")
        self.idle_since = None
        try:
            self._close(closed_by)
        except Exception as exc:
            self.capture.add_error(self.end.now(), "listen", Msg("rule.tool.driver_failure"), "",
                                   Msg("action.dropped_connection"), by="server",
                                   detail=f"{type(exc).__name__}: {exc}")
        self.publish(force=True)
        steps = self.dissector.finish()
        if steps:
            self.steps += steps
            self.server.emit(self.number, steps)
        self.keylog.close()
        # what stays of a finished connection: its steps and its capture (the
        # connection's and the dissector's state, compression windows included, go)
        self.conn = self.dissector = self.end = None
        self.done.set()
        self.server.finished(self)

    def _receive(self, deadline: float, what: Msg) -> None:
        left = deadline - time.monotonic()
        if left <= 0 or self.server.stopping:
            if self.server.stopping:
                self.error("listen", Msg("rule.tool.server_stopping"), "RFC 6455 §7.4.1",
                           Msg("action.closed_connection"), blame=None)
            else:
                self.error("tcp", Msg("rule.tcp.client_silent", what=what), "RFC 6455 §4.2.1",
                           Msg("action.gave_up_closed"))
            raise _Done
        try:
            self.end.receive(min(left, 0.25))
        except ssl.SSLError as exc:
            self.publish()
            self.error("tls", Msg("rule.tls.openssl", reason=Msg("value.library_words", text=exc.reason or str(exc))),
                       "RFC 8446 §6",
                       Msg("action.alert_if_possible"), detail=str(exc))
            try:
                self.end.flush(1.0)
            except (PeerGone, TimeoutError, OSError):
                pass
            raise _Done from None
        self.publish()

    def _handshake(self) -> None:
        end = self.end
        deadline = time.monotonic() + self.server.handshake_timeout
        while not end.handshaken:
            self._receive(deadline, Msg("during.tls_seconds", s=f"{self.server.handshake_timeout:g}"))
            end.flush(self.server.handshake_timeout)
            self.publish()
        end.flush(self.server.handshake_timeout)  # TLS 1.3 session tickets
        self.publish()

    def _send(self, data: bytes) -> None:
        self.end.send_app(data, self.server.handshake_timeout)
        self.publish()

    def _request(self) -> None:
        opening = ServerHandshake(allowed_origins=sorted(self.server.origins) + [None],
                                  deflate=DeflateParams() if self.server.deflate else None)
        deadline = time.monotonic() + self.server.handshake_timeout
        while not opening.receive_data(self.end.take_app()):
            self._receive(deadline, Msg("during.request_head"))
        if opening.error is not None:  # a head or request no parser can read
            exc = opening.error
            self._send(opening.response)
            self.error("http", exc.msg, exc.rfc, Msg("action.answered_status", status=exc.status),
                       offset=exc.offset)
            raise _Done
        if not opening.upgrade:
            self._serve_page(opening.request)
            return
        if not opening.ok:
            first = opening.check.problems[0]
            self._send(opening.response)
            self.error("http", first.msg, first.rfc, Msg("action.answered_status", status=opening.check.status),
                       offset=first.offset, detail=first.detail)
            raise _Done
        self._send(opening.response)
        self.upgraded = True
        self.conn = opening.connection
        self._echo()

    def _serve_page(self, req: hs.Request) -> None:
        path = req.target.split("?", 1)[0]
        if req.method not in ("GET", "HEAD"):
            status, body, ctype = 405, b"405 Method Not Allowed\n", "text/plain; charset=utf-8"
        elif path in ("/", "/index.html"):
            status, body, ctype = 200, page(), "text/html; charset=utf-8"
        else:
            status, body, ctype = 404, b"404 Not Found\n", "text/plain; charset=utf-8"
        reason = hs.REASONS.get(status, "OK" if status == 200 else "Error")
        head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\n"
                + ("Allow: GET, HEAD\r\n" if status == 405 else "")
                + "Connection: close\r\n\r\n").encode("ascii")
        self._send(head + (body if req.method != "HEAD" else b""))

    # -- WebSocket echo --------------------------------------------------------------------

    def _flush_frames(self) -> None:
        for o in self.conn.frames_to_send():
            self._send(o.data)

    def _echo(self) -> None:
        """Echo every message until the closing handshake; idle too long (or asked to
        make room), the server closes with 1001 itself."""
        conn = self.conn
        self.idle_since = time.monotonic()
        deadline = self.idle_since + self.server.idle_timeout
        closing_by_us: float | None = None
        while True:
            data = self.end.take_app()
            if data:
                self.idle_since = time.monotonic()
                deadline = self.idle_since + self.server.idle_timeout
                conn.receive_data(data)
            # one event at a time, so each message is echoed before what follows it (a
            # bad frame, a Close) ends the exchange; also what came with the request
            while (e := conn.next_event()) is not None:
                if isinstance(e, MessageReceived):
                    if conn.state != State.OPEN:
                        continue  # a Close (ours or the client's) already ended the exchange
                    m = e.message
                    (conn.send_text if m.opcode == wf.Opcode.TEXT else conn.send_binary)(m.data)
                elif isinstance(e, Failed):
                    code = e.error.close_code or 1002
                    self.error("ws", e.error.msg, e.error.rfc,
                               Msg("action.close_code", code=wf.close_code_word(code)),
                               offset=e.error.offset)
            self._flush_frames()
            if conn.failed is not None:
                raise _Done
            if conn.close_received is not None:
                return
            if self.leaving and conn.close_sent is None:
                conn.send_close(1001, "making room for a new client")
                self._flush_frames()
                closing_by_us = time.monotonic()
            if closing_by_us is not None and time.monotonic() - closing_by_us > _limits.LIMITS.close_timeout:
                return  # the client never answered our Close
            try:
                self._receive(deadline, Msg("during.seconds", s=f"{self.server.idle_timeout:g}"))
            except _Done:
                if conn.state == State.OPEN:
                    conn.send_close(1001, "idle")
                    self._flush_frames()
                raise

    # -- closing ---------------------------------------------------------------------------

    def _close(self, closed_by: tuple[str, str] | None) -> None:
        """The server closes first (RFC 6455 §7.1.1): close_notify, then TCP."""
        end = self.end
        if closed_by is None and not end.eof:
            if end.handshaken:
                end.close_tls(1.0)
                self.publish()
                # give the client a moment to answer with its own close_notify
                deadline = time.monotonic() + 1.0
                while not end.eof and not end.tls.closed and time.monotonic() < deadline:
                    try:
                        end.receive(deadline - time.monotonic())
                    except (PeerGone, ssl.SSLError, OSError):
                        break
                    self.publish()
            by, how = "server", "fin"
        else:
            conn = self.conn
            if closed_by and closed_by[0] == "client" and not end.handshaken \
                    and any(c.direction == end.in_dir for c in self.capture.chunks):
                # it began a TLS handshake and left it half done (a port probe that
                # sends nothing is only a TCP connection)
                self.error("tls", Msg("rule.tls.closed_during_handshake", side=Msg("side.client")),
                           "RFC 8446 §6", Msg("action.closed_connection"), detail=f"TCP {closed_by[1]}")
            if closed_by and closed_by[0] == "client" and end.handshaken and conn is not None \
                    and conn.close_received is None and conn.close_sent is None:
                self.error("ws", Msg("rule.ws.client_closed_without_close"), "RFC 6455 §7.1.5",
                           Msg("action.abnormal_1006"))
            if end.handshaken and closed_by and closed_by[1] != "reset":
                end.close_tls(1.0)
            by, how = closed_by or ("client", end.eof_how or "fin")
        end.close()
        end.fact("tcp.close", by=by, how=how)

