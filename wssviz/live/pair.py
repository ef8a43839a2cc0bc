"""The live pair: an instrumented client and server in one process.

Theory of operation
-------------------
The two sides talk over a real TCP connection on 127.0.0.1 (ephemeral port).
TLS runs on ``ssl.MemoryBIO`` pairs (``SSLContext.wrap_bio``), so the driver here
holds every byte a side wants to send until it decides to move it: each move
writes the bytes to one socket, reads them from the other, records them as a
``Chunk`` of the Capture and hands them to the peer's TLS object.

The protocol script (``_script``) is a generator that yields after every move.
``LiveSession.ensure(n)`` advances the script only until the dissector has
produced step ``n``: while the learner looks at step N, step N+1's bytes have not
been sent.  Handshake flights are moved one TLS record at a time; an application
write (an HTTP head, a frame) is moved as the records that carry it.

Both contexts write their secrets to one key log that lives in a memfd, so
nothing touches the disk and nothing blocks.  OpenSSL's own verdict on the
server certificate is kept as a Fact: the dissector shows it beside its own
checks.

Some sessions hold more than one connection (session resumption, a reconnect
after a missed pong): each opens with its own ``tcp.connect`` fact (``connection``
2, 3 …) on a new loopback socket pair, and the dissector starts its TLS and
WebSocket layers afresh there.  Waiting (heartbeat intervals, timeouts, back-off)
is simulated: ``wait`` moves the session clock forward without sleeping, and the
``wait`` fact says so.

Misbehaviour comes only from the hooks named in ``settings.CONNECTION_FAULTS``
and ``settings.FRAME_FAULTS``; the server is a strict echo server that checks
every frame with the core's rules and fails the connection with the close code
they name.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from typing import Iterator

from wssviz import lazy
from wssviz.capture import Capture
from wssviz.core import frames as wsframes
from wssviz.core.connection import Failed, PongReceived
from wssviz.core.msg import Msg
from wssviz.live.driven import DrivenSession
from wssviz.live.link import PairLink
from wssviz.live.pair_tls import PairTLS
from wssviz.live.settings import Settings
from wssviz.live.transport import KeyLog

# The first step (the TCP connection) needs none of these: ctypes (for openssl_ext)
# costs ~2.5 ms of a first screen, the HTTP head code and permessage-deflate ~6 ms;
# ssl ~8 ms of a text run (the interface has it already, through asyncio).  The
# warm-up loads them while the first step is on screen (``warm_modules``).
ssl = lazy.module("ssl")
roles = lazy.module("wssviz.live.roles")  # the HTTP head and permessage-deflate code: not for step 0

# --- the session -------------------------------------------------------------


class LiveSession(DrivenSession):
    """A live session: the pair driven lazily, its steps built as it goes."""

    warm_modules = (*DrivenSession.warm_modules, "wssviz.live.certs", "wssviz.core.deflate")

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        s = self.settings
        self.name = s.name
        self.title = Msg("session.live", name=s.name,
                         title=Msg("scenario.part", name=s.name, part="title", default=s.title),
                         how=Msg("session.tls", v=s.tls_version) if s.scheme == "wss" else Msg("session.no_tls"))
        self.goal = Msg("scenario.part", name=s.name, part="goal", default=s.goal)
        super().__init__()

    def _new(self) -> tuple[Capture, "_Script"]:
        capture = Capture(scheme=self.settings.scheme, server_name=self.settings.host,
                          settings=self.settings.to_dict())
        return capture, _Script(self.settings, capture)


class _Script:
    """The protocol script: everything both sides do, in order, one move at a time.

    The bytes move through a ``PairLink``; the sides are ``roles.PairClient`` and
    ``roles.PairServer`` over the core's sans-I/O handshake and connection; the
    certificates and contexts come from ``PairTLS``.  What is left here is the
    order of things: connections, the upgrade, the messages, the heartbeat, the
    close, and what each outcome means."""

    def __init__(self, settings: Settings, capture: Capture) -> None:
        self.s = settings
        self.capture = capture
        self.t0 = time.perf_counter()
        self.skew = 0.0  # simulated waiting, in seconds
        self.rng = random.Random(settings.seed) if settings.seed is not None else None
        self.link: PairLink | None = None
        self.keylog: KeyLog | None = None
        self.tls: PairTLS | None = None
        self.connection = 0
        self.session: ssl.SSLSession | None = None
        self.client = None  # roles.PairClient, made at the upgrade
        self.server = None  # roles.PairServer

    # -- the recorder the link reports to ------------------------------------------------

    def now(self) -> float:
        return time.perf_counter() - self.t0 + self.skew

    def wait(self, seconds: float, by: str, why: str, **more: object) -> None:
        """Let ``seconds`` pass on the session clock, without sleeping (``why``: a code)."""
        self.fact("wait", by=by, seconds=seconds, why=why, simulated=True, **more)
        self.skew += seconds

    def rand(self, n: int) -> bytes:
        return self.rng.randbytes(n) if self.rng else os.urandom(n)

    def cleanup(self) -> None:
        if self.link is not None:
            self.link.close_sockets()
        if self.keylog is not None:
            self.keylog.close()
            self.keylog = None

    def sync_keylog(self) -> None:
        if self.keylog is not None:
            self.capture.add_keylog(self.keylog.lines())

    def fact(self, name: str, **value) -> None:
        """A local fact, after the secrets it may depend on are in the key log."""
        self.sync_keylog()
        self.capture.add_fact(self.now(), name, **value)

    def error(self, layer: str, rule: Msg, rfc: str, action: Msg, *, by: str, blame: str | None,
              detail: str = "", name: str = "error") -> None:
        """A side reported a broken rule that has no bytes of its own."""
        self.sync_keylog()
        self.capture.add_error(self.now(), layer, rule, rfc, action, by=by, blame=blame, detail=detail,
                               name=name)

    # -- the script -----------------------------------------------------------

    def run(self) -> Iterator[None]:
        s = self.s
        now_wall = dt.datetime.now(dt.timezone.utc)
        self.capture.started = round(now_wall.timestamp(), 6)
        self.now_wall = now_wall  # certificates are made at the first TLS move, after TCP is up
        self.t0 = time.perf_counter()
        outcome = yield from self._connection()
        if outcome == "closed" and s.resume and s.scheme == "wss":
            outcome = yield from self._connection(resume=True)
        attempt = 0
        while outcome == "dead" and attempt < len(s.reconnect_backoff):
            delay = s.reconnect_backoff[attempt]
            attempt += 1
            self.wait(delay, "client", "reconnect_backoff", attempt=attempt)
            outcome = yield from self._connection(after=delay)

    def _connection(self, *, resume: bool = False, after: float | None = None) -> Iterator[None]:
        """One TCP connection from connect to close; returns how it ended:
        ``closed``, ``refused``, ``failed``, ``dropped`` or ``dead``."""
        s = self.s
        if self.link is not None:
            self.link.close_sockets()
        self.connection += 1
        self.link = link = PairLink(s.scheme, self)
        addresses = link.addresses
        if self.connection == 1:
            self.t0 = time.perf_counter() - self.skew
            self.capture.add_fact(0.0, "tcp.connect", **addresses)
        else:
            extra: dict = {"connection": self.connection, "why": "resume" if resume else "reconnect"}
            if after is not None:
                extra["after"] = after
            self.fact("tcp.connect", **addresses, **extra)
        yield
        if s.scheme == "wss":
            if self.tls is None:
                # Made after the TCP step has shown (keys, certificates and the TLS
                # code cost tens of ms); not part of protocol time.
                paused = time.perf_counter()
                self.keylog = KeyLog()
                self.tls = PairTLS(s, self.now_wall, self.keylog.path)
                self.capture.trust = self.tls.trust
                self.t0 += time.perf_counter() - paused
            link.start_tls(self.tls.client, self.tls.server, s.host,
                           self.session if resume else None)
            ok = yield from link.tls_handshake()
            if not ok:
                yield from link.tcp_close(link.failed_by or "client")
                return "failed"
        outcome, first = yield from self._upgrade()
        if outcome == "upgraded":
            outcome, first = yield from self._exchange()
        if outcome in ("dropped", "dead"):
            return outcome
        if s.scheme == "wss":
            yield from link.tls_close(first)
            if link.ends["client"].obj.session is not None:
                self.session = link.ends["client"].obj.session
        yield from link.tcp_close(first)
        return outcome

    # -- the opening handshake ------------------------------------------------

    def _upgrade(self) -> Iterator[None]:
        """Returns (outcome, who closes first)."""
        s, link = self.s, self.link
        self.client = client = roles.PairClient(s, self.rand)
        self.server = server = roles.PairServer(s, self.connection == 1)
        yield from link.send_app("client", client.request())
        yield from link.send_app("server", server.answer(link.take("server")))
        client.handshake.receive_data(link.take("client"))
        if not server.handshake.ok:
            return "refused", "server"
        hc = client.handshake
        if not hc.ok:
            if hc.error is not None and hc.response is not None:  # an extension never offered
                self.error("ws", hc.error.msg, hc.error.rfc, Msg("action.fail_no_frames"), by="client",
                           blame="server")
            return "failed", "client"  # otherwise the Accept check shows why
        if s.require_protocol and s.protocols and hc.protocol is None:
            self.error("ws", Msg("rule.ws.no_subprotocol_strict"), "RFC 6455 §4.1, §4.2.2, §1.9",
                       Msg("action.fail_strict"), by="client", blame="server")
            return "failed", "client"
        return "upgraded", ""

    # -- frames ---------------------------------------------------------------

    def _send(self, side: str, frames: list) -> Iterator[None]:
        for o in frames:
            yield from self.link.send_app(side, o.data)

    def _server_turn(self) -> Iterator[None]:
        """The server reads what arrived and answers; returns ``ok``, ``closing`` or
        ``dropped``."""
        state, events, frames = self.server.turn(self.link.take("server"))
        for e in events:
            if isinstance(e, Failed):  # the server fails the connection (RFC 6455 §7.1.7)
                code = e.error.close_code
                self.error("ws", e.error.msg, e.error.rfc,
                           Msg("action.close_code", code=wsframes.close_code_word(code)),
                           by="server", blame="client")
        yield from self._send("server", frames)
        return state

    def _client_turn(self) -> Iterator[None]:
        """The client reads what the server sent (and answers a Close); returns the events."""
        events, frames = self.client.receive(self.link.take("client"))
        yield from self._send("client", frames)
        return events

    def _exchange(self) -> Iterator[None]:
        """Returns (outcome, who closes the TCP connection first)."""
        s = self.s
        heartbeat = s.ping_interval is not None
        body = [m for m in s.messages if not (heartbeat and m.kind == "close")]
        for m in body:
            outcome = yield from self._step(m)
            if outcome:
                return outcome
        if heartbeat:
            for i in range(s.pings):
                self.wait(s.ping_interval, "client", "heartbeat_interval")
                self.client.conn.send_ping(f"keepalive {i + 1}".encode())
                yield from self._send("client", self.client.conn.frames_to_send())
                yield from self._server_turn()
                events = yield from self._client_turn()
                if not any(isinstance(e, PongReceived) for e in events):
                    self.wait(s.pong_timeout, "client", "pong_timeout")
                    self.error("ws", Msg("rule.ws.pong_timeout", s=f"{s.pong_timeout:g}", n=i + 1),
                               "RFC 6455 §5.5.2, §7.1.1", Msg("action.drop_reconnect"), by="client",
                               blame=None, name="ws.abort")
                    self.link.abort("client")
                    yield
                    return "dead", "client"
            for m in s.messages:
                if m.kind == "close":
                    outcome = yield from self._step(m)
                    if outcome:
                        return outcome
        return "closed", "server"

    def _step(self, m) -> Iterator[None]:
        """The client sends one frame, the server answers, the client reads.
        Returns None to go on, or (outcome, first closer) when the connection ends."""
        yield from self._send("client", self.client.send(m))
        state = yield from self._server_turn()
        if state == "dropped":
            saw = self.link.drop("server")
            self.error("ws", Msg("rule.ws.ended_without_close", how=Msg("how.reset" if saw == "reset"
                                                                          else "how.eof")),
                       "RFC 6455 §7.1.5, §7.4.1", Msg("action.report_1006"), by="client", blame="server",
                       name="ws.abort")
            yield
            return "dropped", "server"
        yield from self._client_turn()
        if state == "closing" or self.client.conn.close_handshake_done:
            return "closed", "server"
        return None
