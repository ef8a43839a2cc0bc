"""The instrumented server for real clients: ``wssviz listen``.

Theory of operation
-------------------
``ListenServer`` makes a throwaway CA and a leaf for localhost, 127.0.0.1 and the
host it binds, writes the CA certificate to a file a browser or client can be
told to trust, and accepts TCP connections (127.0.0.1 unless told otherwise).

Each connection runs in its own thread as a ``ServerConnection``: TLS on
MemoryBIOs through ``RealEnd`` (every byte recorded into its own Capture, with
its own memfd key log), then one HTTP request.  A WebSocket upgrade whose
Origin is allowed (the page's own origin, the allow list, or none at all for
non-browser clients) gets a 101 and an echo of every message; a foreign Origin
gets 403.  ``GET /`` serves the page whose script opens a WebSocket back here.
Every event goes through the Dissector at once and each new Step is handed to
``on_step(session_number, step)``.

One bad client never stops the server: every connection has deadlines and its
own exception guard, and becomes an ``error`` step rather than a traceback.
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
from wssviz.core.msg import Msg
from wssviz.dissect import Dissector
from wssviz.live.certs import CA, Identity
from wssviz.live.page import page
from wssviz.live.transport import KeyLog, PeerGone, RealEnd, TLSEnd
from wssviz.steps import Step

HANDSHAKE_TIMEOUT = 10.0  # seconds for the TLS handshake and the request head
IDLE_TIMEOUT = 120.0  # seconds an upgraded connection may stay silent
MAX_CONNECTIONS = 32  # at once; more are closed at accept
WS_PATH = "/ws"

OnStep = Callable[[int, Step], None]


def default_ca_dir() -> str:
    """Where the CA certificate is written: the user's cache folder for wssviz."""
    return str(memo.cache_dir(writable=True))


class ListenServer:
    """Serves the page and echoes WebSocket messages; every connection is a session."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8443, *,
                 allow_origins: list[str] | tuple[str, ...] = (), ca_dir: str | None = None,
                 on_step: OnStep | None = None, handshake_timeout: float = HANDSHAKE_TIMEOUT,
                 idle_timeout: float = IDLE_TIMEOUT) -> None:
        from wssviz.dissect import names

        names.preload()  # before any client: step times measure the network
        self.host = host
        self.on_step = on_step or (lambda n, s: None)
        self.handshake_timeout = handshake_timeout
        self.idle_timeout = idle_timeout
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
        self.sessions: list[ServerConnection] = []

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

    def banner(self) -> str:
        """What to tell the user: the URL and how to trust the CA."""
        return "\n".join([
            f"wssviz listen: serving {self.url} (WebSocket echo at {self.ws_url})",
            f"  bound to {self.host}:{self.port}",
            f"  CA certificate: {self.ca_path}",
            f"  CA SHA-256 fingerprint: {self.fingerprint}",
            "  (the same CA every run, its key beside it, 0600: delete both files to make a new one)",
            "  to trust it: a WebSocket client: give it that file (wssviz connect --cafile FILE,",
            "    Python ssl.create_default_context(cafile=FILE), curl --cacert FILE);",
            "    a browser: import it as a certificate authority (Chromium: Settings > Privacy and",
            "    security > Security > Manage certificates; Firefox: Settings > Certificates >",
            "    Authorities > Import) and check the fingerprint; remove it when you are done, or",
            f"    use a throwaway profile: chromium --user-data-dir=<new folder> --ignore-certificate-errors {self.url}",
            f"  allowed origins: {', '.join(sorted(self.origins))} (and clients sending none)",
            "  Ctrl-C stops the server.",
        ])

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
                if len(self._threads) >= MAX_CONNECTIONS:
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
                self.sessions.append(conn)
                t = threading.Thread(target=conn.run, name=f"wssviz-listen-{number}", daemon=True)
                self._threads.append(t)
                t.start()
        finally:
            self.listener.close()

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


def fingerprint(cert_pem: str) -> str:
    """SHA-256 of the certificate's DER, as colon-separated hex (what browsers show)."""
    der = ssl.PEM_cert_to_DER_cert(cert_pem)
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


class _Done(Exception):
    """This connection is over; facts are already recorded."""


class ServerConnection:
    """One TCP connection to the listen server: its Capture, its Steps."""

    def __init__(self, server: ListenServer, number: int, sock: socket.socket) -> None:
        self.server = server
        self.number = number
        self.sock = sock
        peer, local = sock.getpeername()[:2], sock.getsockname()[:2]
        self.capture = Capture(scheme="wss", server_name=server.host if server.host not in
                               ("0.0.0.0", "::") else "localhost",
                               settings={"name": "listen", "title": f"listen, connection {number}",
                                         "goal": "A real client talks to the instrumented server."})
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
        self.assembler = wf.MessageAssembler()
        self.got_close = False
        self.sent_close = False
        self.upgraded = False  # this server answered the upgrade with 101

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
        self.done.set()

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
        buf = self.end.app
        deadline = time.monotonic() + self.server.handshake_timeout
        while True:
            try:
                n = hs.head_length(bytes(buf))
            except hs.HandshakeError as exc:
                self._send(hs.build_error_response(exc.status, exc.rule))
                self.error("http", exc.msg, exc.rfc, Msg("action.answered_status", status=exc.status),
                           offset=exc.offset)
                raise _Done from None
            if n is not None:
                break
            self._receive(deadline, Msg("during.request_head"))
        head = bytes(buf[:n])
        del buf[:n]
        try:
            req = hs.parse_request(head)
        except hs.HandshakeError as exc:
            self._send(hs.build_error_response(exc.status, exc.rule))
            self.error("http", exc.msg, exc.rfc, Msg("action.answered_status", status=exc.status),
                       offset=exc.offset)
            raise _Done from None
        if req.header("Upgrade") is None and req.header("Sec-WebSocket-Key") is None:
            self._serve_page(req)
            return
        check = hs.check_request(req, allowed_origins=sorted(self.server.origins) + [None])
        if not check.ok:
            first = check.problems[0]
            self._send(hs.build_error_response(check.status, first.detail))
            self.error("http", first.msg, first.rfc, Msg("action.answered_status", status=check.status),
                       offset=first.offset, detail=first.detail)
            raise _Done
        self._send(hs.build_response(check))
        self.upgraded = True
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

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        self._send(wf.serialize(wf.Frame(opcode, payload)))

    def _fail(self, exc: wf.ProtocolError) -> None:
        code = exc.close_code or 1002
        self.error("ws", exc.msg, exc.rfc, Msg("action.close_code", code=wf.close_code_word(code)),
                   offset=exc.offset)
        if not self.sent_close:
            self.sent_close = True
            self._send_frame(wf.Opcode.CLOSE, wf.build_close(code))
        raise _Done

    def _echo(self) -> None:
        buf = self.end.app
        deadline = time.monotonic() + self.server.idle_timeout
        while not self.got_close:
            try:
                parsed = wf.parse_frame(bytes(buf))
            except wf.ProtocolError as exc:
                self._fail(exc)
            if parsed is None:
                try:
                    self._receive(deadline, Msg("during.seconds", s=f"{self.server.idle_timeout:g}"))
                except _Done:
                    if not self.sent_close:
                        self.sent_close = True
                        self._send_frame(wf.Opcode.CLOSE, wf.build_close(1001, "idle"))
                    raise
                continue
            frame, layout = parsed
            del buf[:layout.end]
            deadline = time.monotonic() + self.server.idle_timeout
            problems = wf.frame_problems(frame, layout, sender="client")
            if problems:
                self._fail(problems[0])
            self._on_frame(frame)

    def _on_frame(self, frame: wf.Frame) -> None:
        op = frame.opcode
        if op == wf.Opcode.PING:
            self._send_frame(wf.Opcode.PONG, frame.payload)
        elif op == wf.Opcode.PONG:
            pass
        elif op == wf.Opcode.CLOSE:
            self.got_close = True
            try:
                code, _reason = wf.parse_close(frame.payload)
            except wf.ProtocolError as exc:
                self._fail(exc)
            if not self.sent_close:
                self.sent_close = True
                self._send_frame(wf.Opcode.CLOSE, wf.build_close(code))
        else:
            try:
                msg = self.assembler.feed(frame)
            except wf.ProtocolError as exc:
                self._fail(exc)
            if msg is not None:
                self._send_frame(msg.opcode, msg.data)

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
            if closed_by and closed_by[0] == "client" and not self.got_close and end.handshaken \
                    and self.sent_close is False and self._upgraded():
                self.error("ws", Msg("rule.ws.client_closed_without_close"), "RFC 6455 §7.1.5",
                           Msg("action.abnormal_1006"))
            if end.handshaken and closed_by and closed_by[1] != "reset":
                end.close_tls(1.0)
            by, how = closed_by or ("client", end.eof_how or "fin")
        end.close()
        end.fact("tcp.close", by=by, how=how)

    def _upgraded(self) -> bool:
        """Whether this server answered the upgrade with 101 (it knows: it sent it)."""
        return self.upgraded

