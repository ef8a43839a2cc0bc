"""The instrumented client against any real server: ``wssviz connect URL``.

Theory of operation
-------------------
``ClientSession`` opens a real TCP connection to the host and port of a ``ws://``
or ``wss://`` URL.  TLS runs on ``ssl.MemoryBIO`` (a ``TLSEnd``), so every byte
written or read crosses ``RealEnd``, which records it as a ``Chunk`` of the
Capture.  The context writes its secrets to a memfd key log (``KeyLog``), so the
dissector decrypts our own connection exactly like the live pair's.

Received bytes are handed to OpenSSL *before* they are recorded: the secrets a
flight makes exist in the key log by the time the dissector reads that flight.

The protocol script (``_ClientScript.run``) is a generator that yields after
every event; ``ensure(n)`` advances it only until step ``n`` exists.  The
WebSocket side is the core's sans-I/O ``ClientHandshake`` and ``Connection``: the
upgrade request (offering permessage-deflate with ``--deflate``), the check of the
answer, each message as a masked text frame, pongs for pings, a Close answered;
the script only moves bytes and decides what to send next (the messages, a ping,
a close with 1000).  Every wait has a deadline counted in time spent waiting for
the server (not in time spent showing what it sent): a server that stalls, closes
early or breaks a rule ends as an ``error`` fact naming layer, rule, RFC section
and what our client did, never as a traceback or a hang.

Memory stays bounded: the Capture keeps ``keep_bytes`` (wssviz.core.limits) of what crossed and lets
the rest go once the dissector has read it; ``--record`` writes every byte to a
recording as the session runs instead.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import socket
import ssl
import time
import warnings
from dataclasses import dataclass
from typing import Callable, Iterator
from urllib.parse import urlsplit

from wssviz.capture import Capture
from wssviz.core import frames as wf
from wssviz.core.connection import Connection, Failed, MessageReceived, PongReceived
from wssviz.core import limits as _limits
from wssviz.core.deflate import DeflateParams
from wssviz.core.msg import Msg
from wssviz.core.opening import ClientHandshake
from wssviz.dissect.build import openssl_verify
from wssviz.live.certs import read_pem_file
from wssviz.live.driven import DrivenSession
from wssviz.live.transport import KeyLog, PeerGone, RealEnd, TLSEnd

PING_PAYLOAD = b"wssviz ping"
QUIET = 1.0  # seconds to wait for a reply to a message before moving on
TLS_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


# --- the URL -------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    scheme: str  # ws or wss
    host: str  # as used for TCP and SNI (no brackets)
    port: int
    path: str  # path and query, at least "/"
    host_header: str  # Host value: host, with :port when not the default

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host_header}{self.path}"


def parse_url(url: str) -> Target:
    """The parts of a ws:// or wss:// URL; ValueError names what is wrong."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"connect: bad URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("ws", "wss"):
        raise ValueError(f"connect: the URL must start with ws:// or wss:// (RFC 6455 §3), got {url!r}")
    if not parts.hostname:
        raise ValueError(f"connect: the URL has no host (RFC 6455 §3): {url!r}")
    if parts.username is not None or parts.fragment:
        raise ValueError(f"connect: a WebSocket URI has no user info or fragment (RFC 6455 §3): {url!r}")
    default = 443 if scheme == "wss" else 80
    port = port or default
    host = parts.hostname
    shown = f"[{host}]" if ":" in host else host
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, host, port, path, shown if port == default else f"{shown}:{port}")


def check_options(url: str, cafile: str | None) -> Target:
    """The target of ``url``, once the URL and the CA file (if any) are known to be good;
    ValueError names what is wrong.  Nothing touches the network."""
    target = parse_url(url)
    if cafile is not None:
        if os.path.isdir(cafile):
            raise ValueError(f"connect: --cafile {cafile} is a folder: give a PEM file")
        try:
            pems = read_pem_file(cafile)
        except OSError as exc:
            raise ValueError(f"connect: --cafile {cafile}: {exc.strerror or exc}") from None
        if not pems:
            raise ValueError(f"connect: {cafile} holds no PEM certificate")
    return target


# --- trust -------------------------------------------------------------------------


def system_anchors_for(chain_der: list[bytes]) -> list[str]:
    """The system store's certificates that could anchor ``chain_der``: those whose
    subject is the issuer (or subject) of a certificate in the chain.  Only these
    go into the Capture, so a recording stays small."""
    from cryptography import x509

    try:
        chain = [x509.load_der_x509_certificate(d) for d in chain_der]
    except ValueError:
        return []
    wanted = {c.issuer for c in chain} | {c.subject for c in chain}
    paths = ssl.get_default_verify_paths()
    bundles = [p for p in (os.environ.get("SSL_CERT_FILE"), paths.cafile, paths.openssl_cafile,
                           "/etc/ssl/certs/ca-certificates.crt") if p and os.path.isfile(p)]
    if bundles:
        files = bundles[:1]  # the bundle OpenSSL itself loads first
    elif paths.capath and os.path.isdir(paths.capath):
        files = sorted(glob.glob(os.path.join(paths.capath, "*.[0-9]")))  # hashed names
    else:
        files = []
    # A system store may hold a certificate modern cryptography frowns upon (a serial
    # number that is not positive): it only matters if it anchors this chain.
    warnings.filterwarnings("ignore", message="Parsed a serial number", module=__name__)
    out: list[str] = []
    for path in files:
        for pem in read_pem_file(path):
            try:
                cert = x509.load_pem_x509_certificate(pem.encode())
            except ValueError:
                continue
            if cert.subject in wanted and pem not in out:
                out.append(pem)
    return out


# --- one end of a real connection, recorded -----------------------------------------------


# --- the session -------------------------------------------------------------------


class ClientSession(DrivenSession):
    """The instrumented client against a real server, driven lazily.

    ``tls``: pin the TLS version ("1.2" or "1.3"; None: OpenSSL's choice, 1.2 or
    newer).  ``deflate``: offer permessage-deflate with these parameters.
    ``record``: write the session as a recording while it runs.  ``keylog``: also
    write the TLS secrets to this file; ``SSLKEYLOGFILE`` is appended to as well,
    as browsers do.  At most ``keep_bytes`` (a limit) of what crossed stay in memory."""

    def __init__(self, url: str, *, cafile: str | None = None, insecure: bool = False,
                 protocols: tuple[str, ...] | list[str] = (), origin: str | None = None,
                 send: tuple[str, ...] | list[str] = ("Hello",), timeout: float = 5.0,
                 tls: str | None = None, deflate: "DeflateParams | None" = None,
                 record: str | None = None, keylog: str | None = None) -> None:
        self.target = check_options(url, cafile)
        self.cafile = cafile
        self.insecure = insecure
        self.protocols = list(protocols)
        self.origin = origin
        self.send = list(send)
        self.timeout = float(timeout)
        self.tls = tls
        self.deflate = deflate
        self.record = record
        self.keylog_files = [p for p in (keylog, os.environ.get("SSLKEYLOGFILE")) if p]
        self.name = "connect"
        self.title = Msg("session.connect", url=self.target.url,
                         how=Msg("session.with_tls" if self.target.scheme == "wss" else "session.no_tls"))
        self.goal = Msg("session.connect_goal", url=self.target.url,
                        tls=Msg("session.decrypted_own_keylog") if self.target.scheme == "wss" else None)
        self.recorder = None
        super().__init__()

    def _settings(self) -> dict:
        return {"name": "connect", "url": self.target.url,
                "cafile": bool(self.cafile), "insecure": self.insecure, "protocols": self.protocols,
                "origin": self.origin, "send": self.send, "timeout": self.timeout, "tls": self.tls,
                "deflate": self.deflate.offer() if self.deflate else None,
                "trust_source": "cafile" if self.cafile else "system store"}

    driver_layer = "connect"
    driver_by = "client"
    pause_clock = False  # a real server's clock runs on while the learner reads

    def _new(self) -> tuple[Capture, "_ClientScript"]:
        capture = Capture(scheme=self.target.scheme, server_name=self.target.host,
                          settings=self._settings(), budget=_limits.LIMITS.keep_bytes)
        if self.record:
            from wssviz.recording import Recorder

            self.recorder = Recorder(self.record)
            capture.sink = self.recorder.add
        return capture, _ClientScript(self, capture, self._server_chain)

    def _finish(self) -> None:
        if self.recorder is not None:
            self.recorder.close(self.capture)
            self.recorder = None

    def _server_chain(self) -> list[bytes]:
        tls = getattr(self.dissector, "tls", None)
        return list(getattr(tls, "server_chain", []) or [])


class _Fail(Exception):
    """The client gives up: an error fact is already recorded."""


class _ClientScript:
    """Everything the client does, in order, one event at a time; the WebSocket side
    is the core's sans-I/O handshake and connection."""

    def __init__(self, session: ClientSession, capture: Capture,
                 server_chain: Callable[[], list[bytes]]) -> None:
        self.s = session
        self.capture = capture
        self.server_chain = server_chain
        self.t0 = time.perf_counter()
        self.end: RealEnd | None = None
        self.keylog: KeyLog | None = None
        self.conn: Connection | None = None
        self.got_pong = False
        self.messages_in = 0
        self.upgrading = False  # between sending the Upgrade request and reading its answer

    @property
    def sent_close(self) -> bool:
        return self.conn is not None and self.conn.close_sent is not None

    @property
    def got_close(self) -> bool:
        return self.conn is not None and self.conn.close_received is not None

    def now(self) -> float:
        return time.perf_counter() - self.t0

    def cleanup(self) -> None:
        if self.end is not None:
            try:
                self.end.close()
            except OSError:
                pass
        if self.keylog is not None:
            self.keylog.close()
            self.keylog = None

    def error(self, layer: str, rule: Msg, rfc: str, action: Msg, *, blame: str | None = "server",
              detail: str = "", offset: int | None = None) -> None:
        """Our client noticed a broken rule (by default the server's) and did ``action``."""
        self.capture.add_error(self.now(), layer, rule, rfc, action, by="client", blame=blame, detail=detail, offset=offset)

    # -- the script ---------------------------------------------------------------------

    def run(self) -> Iterator[None]:
        t = self.s.target
        if t.scheme == "wss":
            # Load the TLS name tables now, not between two reads: step times
            # then measure the network, not a first import.
            from wssviz.dissect import names

            names.preload()
        self.capture.started = round(dt.datetime.now(dt.timezone.utc).timestamp(), 6)
        self.t0 = time.perf_counter()
        try:
            sock = socket.create_connection((t.host, t.port), timeout=self.s.timeout)
        except OSError as exc:
            self.error("tcp", Msg("rule.tcp.cannot_connect", host=t.host, port=t.port,
                                  reason=exc.strerror or str(exc)),
                       "RFC 9293 §3.5", Msg("action.gave_up_before"), blame=None)
            yield
            return
        self.capture.add_fact(self.now(), "tcp.connect", client=list(sock.getsockname()[:2]),
                              server=list(sock.getpeername()[:2]))
        tls = self._make_tls() if t.scheme == "wss" else None
        self.end = RealEnd(sock, self.capture, "client", tls=tls, keylog=self.keylog, t0=self.t0)
        yield
        try:
            if tls is not None:
                yield from self._tls_handshake()
            self.upgrading = True
            upgraded = yield from self._upgrade()
            self.upgrading = False
            if upgraded:
                yield from self._exchange()
            yield from self._teardown()
        except _Fail:
            yield from self._teardown(failed=True)
        except PeerGone as gone:
            self._closed_by_server(gone.how)
            yield from self._teardown()

    def _make_tls(self) -> TLSEnd:
        self.keylog = KeyLog(also=self.s.keylog_files)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.s.tls:
            ctx.minimum_version = ctx.maximum_version = TLS_VERSIONS[self.s.tls]
        ctx.set_alpn_protocols(["http/1.1"])
        if self.s.cafile:
            ctx.load_verify_locations(cafile=self.s.cafile)
            self.capture.trust = read_pem_file(self.s.cafile)
        else:
            ctx.load_default_certs()
        if self.s.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        ctx.keylog_filename = self.keylog.path
        return TLSEnd(ctx, False, self.s.target.host)

    # -- TLS ---------------------------------------------------------------------------------

    def _tls_handshake(self) -> Iterator[None]:
        end = self.end
        end.start_handshake()
        end.flush(self.s.timeout)
        yield
        deadline = time.monotonic() + self.s.timeout
        while not end.handshaken:
            left = deadline - time.monotonic()
            if left <= 0:
                self.error("tls", Msg("rule.tls.handshake_timeout", s=f"{self.s.timeout:g}"),
                           "RFC 8446 §4", Msg("action.gave_up_closed_tcp"))
                raise _Fail
            try:
                got = end.receive(min(left, 0.5))
            except ssl.SSLError as exc:
                yield
                self._verdict_failed(exc)
                end.flush(self.s.timeout)  # our alert
                yield
                raise _Fail from None
            except PeerGone as gone:
                self.error("tls", Msg("rule.tls.closed_during_handshake", side=Msg("side.server")),
                           "RFC 8446 §6", Msg("action.gave_up"), detail=f"TCP {gone.how}")
                self._tcp_closed_by = ("server", gone.how)
                raise _Fail from None
            if got:
                yield
                if end.handshaken:
                    self._verdict_ok()
                end.flush(self.s.timeout)
                yield

    def _trust_for_check(self) -> None:
        if not self.s.cafile and not self.capture.trust:
            self.capture.trust = system_anchors_for(self.server_chain())

    def _verdict_ok(self) -> None:
        self._trust_for_check()
        obj = self.end.tls.obj
        if self.s.insecure:
            # OpenSSL went on without checking anything (CERT_NONE): the handshake
            # succeeded, so the verdict is "ok", marked insecure; wssviz's own
            # checks in the same step show what a verifying client would conclude.
            self.end.fact("tls.verdict", ok=True, code=0, insecure=True,
                          message="ok",
                          version=obj.version(), cipher=obj.cipher()[0])
        else:
            self.end.fact("tls.verdict", ok=True, code=0, message="ok", version=obj.version(),
                          cipher=obj.cipher()[0])

    def _verdict_failed(self, exc: ssl.SSLError) -> None:
        self._trust_for_check()
        code = getattr(exc, "verify_code", 0) or 0
        message = getattr(exc, "verify_message", None) or exc.reason or str(exc)
        if isinstance(exc, ssl.SSLCertVerificationError):
            self.end.fact("tls.verdict", ok=False, code=code, message=message)
            self.error("tls", Msg("rule.tls.cert_verify_failed", reason=openssl_verify(code, message)),
                       "RFC 8446 §4.4.2, RFC 5280 §6",
                       Msg("action.fatal_alert"), detail=str(exc))
        else:
            self.error("tls", Msg("rule.tls.openssl", reason=Msg("value.library_words", text=exc.reason or str(exc))),
                       "RFC 8446 §6", Msg("action.fatal_alert"), detail=str(exc))

    # -- HTTP Upgrade ----------------------------------------------------------------------

    def _upgrade(self) -> Iterator[None]:
        s, t = self.s, self.s.target
        opening = ClientHandshake(t.host_header, t.path, origin=s.origin, protocols=s.protocols,
                                  deflate=s.deflate)
        self.end.send_app(opening.request, s.timeout)
        yield
        deadline = time.monotonic() + s.timeout
        while not opening.receive_data(self.end.take_app()):
            left = deadline - time.monotonic()
            if left <= 0:
                n = opening.buffered
                self.error("http", Msg("rule.http.response_timeout", s=f"{s.timeout:g}", n=n or None),
                           "RFC 6455 §4.1", Msg("action.gave_up_closed"))
                raise _Fail
            yield from self._receive(left, during="upgrade")
        # a refused answer: the client fails the connection (RFC 6455 §4.1) and says
        # which rule broke first; the dissector's accept check shows every problem
        if opening.error is not None:
            exc = opening.error
            self.error("http", exc.msg, exc.rfc, Msg("action.fail_ws_closed"),
                       offset=exc.offset if exc.offset >= 0 else None)
            raise _Fail
        if opening.problems:
            p = opening.problems[0]
            self.error("http", p.msg, p.rfc, Msg("action.fail_ws_closed"),
                       offset=p.offset if p.offset >= 0 else None)
        self.conn = opening.connection
        return opening.ok

    def _receive(self, timeout: float, *, during: str) -> Iterator[None]:
        """One wait for bytes, recorded; TLS errors become an error fact and _Fail."""
        try:
            got = self.end.receive(min(timeout, 0.5))
        except ssl.SSLError as exc:
            yield
            self.error("tls", Msg("rule.tls.openssl", reason=Msg("value.library_words", text=exc.reason or str(exc))),
                       "RFC 8446 §5.2",
                       Msg("action.fatal_alert_during", during=Msg(f"during.{during}")), detail=str(exc))
            try:
                self.end.flush(self.s.timeout)
            except (PeerGone, TimeoutError):
                pass
            yield
            raise _Fail from None
        if got:
            yield

    # -- frames --------------------------------------------------------------------------

    def _send(self) -> Iterator[None]:
        """Write what the connection has queued, a frame at a time."""
        for o in self.conn.frames_to_send():
            self.end.send_app(o.data, self.s.timeout)
            yield

    def _read_frames(self) -> Iterator[None]:
        """Hand the connection what arrived; count messages, note pongs, answer what it
        answers (pings, a Close); a broken rule fails the connection."""
        data = self.end.take_app()
        closed_before = self.sent_close
        if data:
            self.conn.receive_data(data)
        failed = None
        for e in self.conn.events():
            if isinstance(e, MessageReceived):
                self.messages_in += 1
            elif isinstance(e, PongReceived) and e.data == PING_PAYLOAD:
                self.got_pong = True
            elif isinstance(e, Failed):
                failed = e.error
        if failed is not None:
            code = failed.close_code or 1002
            action = (Msg("action.fail_ws_closed") if closed_before
                      else Msg("action.close_code", code=wf.close_code_word(code)))
            self.error("ws", failed.msg, failed.rfc, action, offset=failed.offset)
            try:
                yield from self._send()
            except (PeerGone, TimeoutError):
                pass
            raise _Fail
        yield from self._send()

    def _wait(self, done: Callable[[], bool], timeout: float, *, during: str) -> Iterator[None]:
        """Read and handle frames until ``done()``, or until we have waited ``timeout``
        seconds for the server (time spent reading and showing what it sent does not
        count: a reply queued behind a burst is not late); True if done."""
        deadline = self.end.waited + timeout
        yield from self._read_frames()
        while not done():
            left = deadline - self.end.waited
            if left <= 0:
                return False
            yield from self._receive(left, during=during)
            yield from self._read_frames()
        return True

    def _exchange(self) -> Iterator[None]:
        s, conn = self.s, self.conn
        yield from self._read_frames()  # anything that came with the 101
        for text in s.send:
            if self.got_close:
                break
            before = self.messages_in
            conn.send_text(text)
            yield from self._send()
            # an echo server answers at once; others may say nothing: wait a little
            yield from self._wait(lambda before=before: self.messages_in > before or self.got_close,
                                  min(QUIET, s.timeout), during="exchange")
        if not self.got_close and not self.sent_close:
            conn.send_ping(PING_PAYLOAD)
            yield from self._send()
            ok = yield from self._wait(lambda: self.got_pong or self.got_close, s.timeout,
                                       during="ping")
            if not ok:
                self.error("ws", Msg("rule.ws.no_pong", s=f"{s.timeout:g}"),
                           "RFC 6455 §5.5.2", Msg("action.went_on_to_close"))
        if not self.sent_close:
            conn.send_close(1000)
            yield from self._send()
        ok = yield from self._wait(lambda: self.got_close, s.timeout, during="closing")
        if not ok:
            self.error("ws", Msg("rule.ws.close_timeout", s=f"{s.timeout:g}"),
                       "RFC 6455 §7.1.2", Msg("action.closed_tcp_itself"))

    # -- the end -------------------------------------------------------------------------

    def _closed_by_server(self, how: str) -> None:
        """The server's FIN or reset arrived while we still expected something."""
        if self.conn is not None:
            self.conn.receive_eof()
        if self.sent_close and self.got_close:
            return  # the normal order: the server closes TCP after the closing handshake
        if getattr(self, "upgrading", False):
            self.error("http", Msg("rule.http.closed_before_answer", try_wss=True if self.s.target.scheme == "ws"
                                   else None),
                       "RFC 6455 §4.1", Msg("action.fail_ws"), detail=f"TCP {how}")
            return
        left = self.conn.unread if self.conn is not None else 0
        if left:
            rule = Msg("rule.ws.closed_inside_frame", n=left)
        else:
            rule = Msg("rule.ws.closed_without_close")
        self.error("ws", rule, "RFC 6455 §7.1.5, §7.4.1", Msg("action.abnormal_1006"), detail=f"TCP {how}")

    def _teardown(self, failed: bool = False) -> Iterator[None]:
        """TLS close_notify and TCP close: wait briefly for the server to close first."""
        end = self.end
        if end is None:
            return
        first = getattr(self, "_tcp_closed_by", None)
        if first is None and not end.eof:
            deadline = time.monotonic() + (min(1.0, self.s.timeout) if failed else self.s.timeout)
            while not end.eof and not (end.tls is not None and end.tls.closed):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    got = end.receive(min(left, 0.5))
                except (PeerGone, ssl.SSLError):
                    break
                if got:
                    yield
        if end.tls is not None and end.handshaken and end.eof_how != "reset":
            end.close_tls(self.s.timeout)
            yield
            if first is None and not end.eof:
                # the server's close_notify came first; its FIN follows ours, or soon
                # after it: wait a moment, so the step says who really closed TCP first
                deadline = time.monotonic() + min(1.0, self.s.timeout)
                while not end.eof and time.monotonic() < deadline:
                    try:
                        if end.receive(min(0.2, max(0.0, deadline - time.monotonic()))):
                            yield
                    except (PeerGone, ssl.SSLError):
                        break
        by, how = first or (("server", end.eof_how or "fin") if end.eof else ("client", "fin"))
        end.close()
        end.fact("tcp.close", by=by, how=how)
        yield
