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
from typing import TYPE_CHECKING, Iterator

from wssviz import lazy
from wssviz.capture import Capture
from wssviz.core import frames as wsframes
from wssviz.core.msg import Msg
from wssviz.dissect.build import openssl_verify
from wssviz.live.driven import DrivenSession
from wssviz.live.settings import Settings
from wssviz.live.transport import KeyLog, TLSEnd, Wire, peer_saw_reset, reset, split_records

# The first step (the TCP connection) needs none of these: ctypes (for openssl_ext)
# costs ~2.5 ms of a first screen, the HTTP head code and permessage-deflate ~6 ms;
# ssl ~8 ms of a text run (the interface has it already, through asyncio).  The
# warm-up loads them while the first step is on screen (``warm_modules``).
ssl = lazy.module("ssl")
openssl_ext = lazy.module("wssviz.live.openssl_ext")
hs = lazy.module("wssviz.core.handshake")
wsdeflate = lazy.module("wssviz.core.deflate")

if TYPE_CHECKING:
    from wssviz.live.certs import CA

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


CA_NAMES = {
    "demo-ca": "wssviz Demo CA",
    "unknown-ca": "Unknown CA (in no trust store)",
    "attacker-ca": "Interception CA (the attacker's)",
}
OPCODES = {"continuation": wsframes.Opcode.CONT, "text": wsframes.Opcode.TEXT,
           "binary": wsframes.Opcode.BINARY, "ping": wsframes.Opcode.PING,
           "pong": wsframes.Opcode.PONG, "close": wsframes.Opcode.CLOSE}


def _reason(text: str) -> str:
    """A close reason that fits a control frame (123 bytes of UTF-8)."""
    raw = text.encode("utf-8")[:123]
    return raw.decode("utf-8", "ignore")


class _Peer:
    """One side's WebSocket state on the current connection."""

    def __init__(self) -> None:
        self.compress: wsdeflate.Compressor | None = None
        self.inflate: wsdeflate.Decompressor | None = None
        self.assembler: wsframes.MessageAssembler | None = None
        self.close_sent = False
        self.close_received: tuple[int | None, str] | None = None
        self.pongs_sent = 0


class _Script:
    """The protocol script: everything both sides do, in order, one move at a time."""

    def __init__(self, settings: Settings, capture: Capture) -> None:
        self.s = settings
        self.capture = capture
        self.t0 = time.perf_counter()
        self.skew = 0.0  # simulated waiting, in seconds
        self.rng = random.Random(settings.seed) if settings.seed is not None else None
        self.wire: Wire | None = None
        self.keylog: KeyLog | None = None
        self.client: TLSEnd | None = None
        self.server: TLSEnd | None = None
        self.plain_rx = {"client": bytearray(), "server": bytearray()}
        self.connection = 0
        self.session: ssl.SSLSession | None = None
        self.cpeer = _Peer()
        self.speer = _Peer()

    def now(self) -> float:
        return time.perf_counter() - self.t0 + self.skew

    def wait(self, seconds: float, by: str, why: str, **more: object) -> None:
        """Let ``seconds`` pass on the session clock, without sleeping (``why``: a code)."""
        self.fact("wait", by=by, seconds=seconds, why=why, simulated=True, **more)
        self.skew += seconds

    def rand(self, n: int) -> bytes:
        return self.rng.randbytes(n) if self.rng else os.urandom(n)

    def cleanup(self) -> None:
        self._close_sockets()
        if self.keylog is not None:
            self.keylog.close()
            self.keylog = None

    def _close_sockets(self) -> None:
        if self.wire is not None:
            for s in (self.wire.client, self.wire.server):
                try:
                    s.close()
                except OSError:
                    pass

    # -- moving bytes ---------------------------------------------------------

    def _keylog(self) -> None:
        if self.keylog is not None:
            self.capture.add_keylog(self.keylog.lines())

    def fact(self, name: str, **value) -> None:
        """A local fact, after the secrets it may depend on are in the key log."""
        self._keylog()
        self.capture.add_fact(self.now(), name, **value)

    def error(self, layer: str, rule: Msg, rfc: str, action: Msg, *, by: str, blame: str | None,
              detail: str = "", name: str = "error") -> None:
        """A side reported a broken rule that has no bytes of its own."""
        self._keylog()
        self.capture.add_error(self.now(), layer, rule, rfc, action, by=by, blame=blame, detail=detail,
                               name=name)

    def _record(self, direction: str, data: bytes) -> None:
        self._keylog()
        received = self.wire.move(direction, data)
        self.capture.add_chunk(direction, self.now(), received)
        if self.s.scheme == "wss":
            dst = self.server if direction == "c2s" else self.client
            dst.inc.write(received)
        else:
            self.plain_rx["server" if direction == "c2s" else "client"] += received

    def flush(self, side: str, one_chunk: bool = False) -> Iterator[None]:
        """Move what a TLS side has written: a record at a time, or all as one chunk."""
        end = self.client if side == "client" else self.server
        data = end.out.read()
        if not data:
            return
        direction = "c2s" if side == "client" else "s2c"
        if one_chunk:
            self._record(direction, data)
            yield
            return
        for rec in split_records(data):
            self._record(direction, rec)
            yield

    def send_app(self, side: str, data: bytes) -> Iterator[None]:
        """An application write (HTTP head, WebSocket frame) from ``side``."""
        if self.s.scheme == "wss":
            end = self.client if side == "client" else self.server
            end.obj.write(data)
            yield from self.flush(side, one_chunk=True)
        else:
            self._record("c2s" if side == "client" else "s2c", data)
            yield

    def received(self, side: str) -> bytearray:
        """Application bytes ``side`` has read so far and not consumed."""
        if self.s.scheme == "wss":
            end = self.client if side == "client" else self.server
            end.pump()
            return end.plain
        return self.plain_rx[side]

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
        self._close_sockets()
        self.connection += 1
        self.cpeer, self.speer = _Peer(), _Peer()
        self.plain_rx = {"client": bytearray(), "server": bytearray()}
        self.wire = Wire()
        extra = {}
        if self.connection > 1:
            extra = {"connection": self.connection,
                     "why": "resume" if resume else "reconnect"}
            if after is not None:
                extra["after"] = after
        if self.connection == 1:
            self.t0 = time.perf_counter() - self.skew
            self.capture.add_fact(0.0, "tcp.connect", client=list(self.wire.client_addr),
                                  server=list(self.wire.server_addr))
        else:
            self.fact("tcp.connect", client=list(self.wire.client_addr),
                      server=list(self.wire.server_addr), **extra)
        yield
        if s.scheme == "wss":
            if not hasattr(self, "cctx"):
                # Made after the TCP step has shown (keys, certificates and the TLS
                # code cost tens of ms); not part of protocol time.
                paused = time.perf_counter()
                self._make_contexts(self.now_wall)
                self.t0 += time.perf_counter() - paused
            self.client = TLSEnd(self.cctx, False, s.host)
            if resume and self.session is not None:
                self.client.obj.session = self.session
            self.server = TLSEnd(self.sctx, True)
            ok = yield from self._tls_handshake()
            if not ok:
                yield from self._tcp_close(self._failed_by or "client")
                return "failed"
        outcome, first = yield from self._upgrade()
        if outcome == "upgraded":
            outcome, first = yield from self._exchange()
        if outcome in ("dropped", "dead"):
            return outcome
        if s.scheme == "wss":
            yield from self._tls_close(first)
            if self.client.obj.session is not None:
                self.session = self.client.obj.session
        yield from self._tcp_close(first)
        return outcome

    # -- TLS ------------------------------------------------------------------

    def _ca(self, name: str, now: dt.datetime) -> "CA":
        from wssviz.live.certs import CA  # cryptography loads here, after the TCP step

        if name not in self.cas:
            self.cas[name] = CA.create(CA_NAMES[name], now=now)
        return self.cas[name]

    def _make_contexts(self, now: dt.datetime) -> None:
        s = self.s
        self.keylog = KeyLog()
        self.cas: dict[str, "CA"] = {}
        day = dt.timedelta(days=1)
        issuer = self._ca(s.cert_issuer, now)
        identity = issuer.issue(s.cert_hosts or [s.host], now=now,
                                          not_before=now + s.cert_valid_days[0] * day,
                                          not_after=now + s.cert_valid_days[1] * day)
        trusted = [self._ca(name, now) for name in s.client_trust]
        self.capture.trust = [ca.cert_pem for ca in trusted]
        version = ssl.TLSVersion.TLSv1_3 if s.tls_version == "1.3" else ssl.TLSVersion.TLSv1_2
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.minimum_version = sctx.maximum_version = version
        sctx.num_tickets = s.num_tickets
        sctx.keylog_filename = self.keylog.path
        identity.load_into(sctx)
        cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        cctx.minimum_version = ssl.TLSVersion.TLSv1_2
        cctx.maximum_version = version
        for ca in trusted:
            cctx.load_verify_locations(cadata=ca.cert_pem)
        cctx.keylog_filename = self.keylog.path
        if s.client_cert:
            demo = self._ca("demo-ca", now)
            sctx.verify_mode = ssl.CERT_REQUIRED
            sctx.load_verify_locations(cadata=demo.cert_pem)
            demo.issue(["client.example.com"], now=now, client=True).load_into(cctx)
        for ctx in (sctx, cctx):
            if s.tls13_suites:
                openssl_ext.set_tls13_ciphersuites(ctx, s.tls13_suites)
            if s.tls12_ciphers:
                ctx.set_ciphers(s.tls12_ciphers)
        if s.client_groups:
            openssl_ext.set_groups(cctx, s.client_groups)
        if s.server_groups:
            openssl_ext.set_groups(sctx, s.server_groups)
        self.sctx, self.cctx = sctx, cctx

    def _tls_handshake(self) -> Iterator[None]:
        self._failed_by = ""
        done = {"client": False, "server": False}
        while not all(done.values()):
            for side in ("client", "server"):
                end = self.client if side == "client" else self.server
                if not done[side]:
                    try:
                        end.obj.do_handshake()
                        done[side] = True
                        if side == "client":
                            self.fact("tls.verdict", ok=True, code=0, message="ok",
                                      version=end.obj.version(), cipher=end.obj.cipher()[0],
                                      resumed=end.obj.session_reused)
                    except ssl.SSLWantReadError:
                        pass
                    except ssl.SSLError as exc:
                        self._failed_by = side
                        if side == "client":
                            self.fact("tls.verdict", ok=False,
                                      code=getattr(exc, "verify_code", 0) or 0,
                                      message=getattr(exc, "verify_message", None) or exc.reason or str(exc))
                        verify = getattr(exc, "verify_message", None)
                        rule = (Msg("rule.tls.cert_verify_failed",
                                    reason=openssl_verify(getattr(exc, "verify_code", None), verify))
                                if verify else Msg("rule.tls.openssl", reason=Msg(
                                    "value.library_words", text=exc.reason or str(exc))))
                        rfc = "RFC 8446 §4.4.2.4, §6.2" if verify else "RFC 8446 §6.2"
                        self.error("tls", rule, rfc, Msg("action.fatal_alert"), by=side,
                                   blame="server" if side == "client" else "client", detail=str(exc))
                        yield from self.flush(side)
                        # the peer reads the alert
                        peer = self.server if side == "client" else self.client
                        try:
                            peer.obj.do_handshake()
                        except ssl.SSLError:
                            pass
                        return False
                yield from self.flush(side)
        return True

    def _tls_close(self, first: str) -> Iterator[None]:
        """close_notify both ways, ``first`` sending first."""
        a, b = (self.server, self.client) if first == "server" else (self.client, self.server)
        second = "client" if first == "server" else "server"
        try:
            a.obj.unwrap()
        except (ssl.SSLWantReadError, ssl.SSLError):
            pass
        yield from self.flush(first)
        b.pump()
        try:
            b.obj.unwrap()
        except (ssl.SSLWantReadError, ssl.SSLError):
            pass
        yield from self.flush(second)
        try:
            a.obj.unwrap()
        except (ssl.SSLWantReadError, ssl.SSLError):
            pass

    def _tcp_close(self, first: str) -> Iterator[None]:
        self.wire.close(first)
        self.fact("tcp.close", by=first, how="fin")
        yield

    # -- the opening handshake ------------------------------------------------

    def _request(self) -> bytes:
        s = self.s
        request = hs.build_request(s.host, s.path, s.key, origin=s.origin, protocols=s.protocols,
                                   extensions=s.extensions,
                                   version=s.fault("client.ws_version") or "13",
                                   extra=[("Cookie", s.cookie)] if s.cookie else ())
        omit = s.fault("client.omit_header")
        if omit:  # hook: leave one header out
            lines = request.split(b"\r\n")
            request = b"\r\n".join(ln for ln in lines
                                   if not ln.lower().startswith(omit.lower().encode() + b":"))
        return request

    def _read_head(self, side: str) -> bytes:
        buf = self.received(side)
        n = hs.head_length(bytes(buf)) or len(buf)
        head = bytes(buf[:n])
        del buf[:n]
        return head

    def _upgrade(self) -> Iterator[None]:
        """Returns (outcome, who closes first)."""
        s = self.s
        yield from self.send_app("client", self._request())
        req = hs.parse_request(self._read_head("server"))
        negotiated: list[wsdeflate.DeflateParams] = []

        def extensions(value: str) -> str | None:
            prefs = wsdeflate.DeflateParams(**s.deflate) if s.deflate else None
            got = wsdeflate.negotiate(value, server_prefs=prefs)
            if got is None:
                return None
            negotiated.append(got[0])
            return got[1]

        check = hs.check_request(req, allowed_origins=s.allowed_origins,
                                 supported_protocols=s.server_protocols,
                                 supported_extensions=extensions if s.deflate is not None else None)
        if check.ok:
            response = hs.build_response(check, accept=s.fault("server.accept"))
        else:
            problem = check.problems[0] if check.problems else None
            response = hs.build_error_response(check.status, problem.detail if problem else "")
        yield from self.send_app("server", response)
        head = self._read_head("client")
        self.received("client").clear()  # a refusal's body: nothing more to read
        if not check.ok:
            return "refused", "server"
        if negotiated:
            self.speer.compress = wsdeflate.Compressor(negotiated[0], "server")
            self.speer.inflate = wsdeflate.Decompressor(negotiated[0], "server", max_size=s.max_message)
        resp = hs.parse_response(head)
        if hs.check_response(resp, key=s.key, offered_protocols=s.protocols,
                             offered_extensions=s.extensions):
            return "failed", "client"  # the Accept check shows why
        ext = resp.get("Sec-WebSocket-Extensions")
        if ext:

            try:
                params = wsdeflate.accept_response(wsdeflate.parse_offer(s.extensions or "")
                                                   or wsdeflate.DeflateParams(), ext)
            except hs.HandshakeError as exc:
                self.error("ws", exc.msg, exc.rfc, Msg("action.fail_no_frames"), by="client",
                           blame="server")
                return "failed", "client"
            self.cpeer.compress = wsdeflate.Compressor(params, "client")
            self.cpeer.inflate = wsdeflate.Decompressor(params, "client")
        if s.require_protocol and s.protocols and resp.get("Sec-WebSocket-Protocol") is None:
            self.error("ws", Msg("rule.ws.no_subprotocol_strict"), "RFC 6455 §4.1, §4.2.2, §1.9",
                       Msg("action.fail_strict"), by="client", blame="server")
            return "failed", "client"
        self.speer.assembler = wsframes.MessageAssembler(
            s.max_message, inflate=self.speer.inflate.decompress if self.speer.inflate else None)
        return "upgraded", ""

    # -- frames -----------------------------------------------------------------

    def _client_frame(self, m) -> wsframes.Frame:
        payload = m.payload()
        rsv1 = m.fault == "rsv1"
        if (self.cpeer.compress and m.kind in ("text", "binary") and m.fin and not m.fault
                and not self._client_fragmenting):
            payload = self.cpeer.compress.compress(payload)
            rsv1 = True
        if m.kind in ("text", "binary", "continuation"):
            self._client_fragmenting = not m.fin
        mask = None if m.fault == "unmasked" else (bytes.fromhex(m.mask) if m.mask else self.rand(4))
        return wsframes.Frame(OPCODES[m.kind], payload, fin=m.fin, rsv1=rsv1,
                              rsv2=m.fault == "rsv2", rsv3=m.fault == "rsv3", mask_key=mask)

    def _send(self, side: str, frame: wsframes.Frame) -> Iterator[None]:
        peer = self.cpeer if side == "client" else self.speer
        if frame.opcode == wsframes.Opcode.CLOSE:
            peer.close_sent = True
        yield from self.send_app(side, wsframes.serialize(frame))

    def _close(self, side: str, code: int | None, reason: str = "") -> Iterator[None]:
        payload = wsframes.build_close(code, _reason(reason) if code is not None else "")
        mask = self.rand(4) if side == "client" else None
        yield from self._send(side, wsframes.Frame(wsframes.Opcode.CLOSE, payload, mask_key=mask))

    def _server_fail(self, exc: "wsframes.ProtocolError") -> Iterator[None]:
        """The server fails the WebSocket connection (RFC 6455 §7.1.7): the close
        frame's reason is the rule in English (bytes on the wire, for any peer)."""
        code = exc.close_code
        self.error("ws", exc.msg, exc.rfc, Msg("action.close_code", code=wsframes.close_code_word(code)),
                   by="server", blame="client")
        yield from self._close("server", code, exc.rule)

    def _server_turn(self) -> Iterator[None]:
        """The server reads every complete frame and answers; returns ``ok``,
        ``closing`` (a close was sent) or ``dropped``."""
        s, peer = self.s, self.speer
        buf = self.received("server")
        while buf and not peer.close_sent:
            try:
                parsed = wsframes.parse_frame(bytes(buf), max_size=s.max_message)
            except wsframes.ProtocolError as exc:
                buf.clear()
                yield from self._server_fail(exc)
                return "closing"
            if parsed is None:
                return "ok"
            frame, layout = parsed
            del buf[:layout.end]
            problems = wsframes.frame_problems(frame, layout, sender="client",
                                               rsv1_allowed=peer.inflate is not None)
            if problems:
                yield from self._server_fail(problems[0])
                return "closing"
            if frame.opcode == wsframes.Opcode.CLOSE:
                code, reason = wsframes.parse_close(frame.payload)
                peer.close_received = (code, reason)
                if s.fault("server.drop_on_close"):  # hook: vanish instead of answering
                    return "dropped"
                yield from self._close("server", code)
                return "closing"
            try:
                msg = peer.assembler.feed(frame)
            except wsframes.ProtocolError as exc:
                yield from self._server_fail(exc)
                return "closing"
            if msg is None:
                continue
            if msg.opcode == wsframes.Opcode.PING:
                limit = s.fault("server.ignore_pings")
                if limit is not None and self.connection == 1 and peer.pongs_sent >= limit:
                    continue  # hook: the pong that never comes
                peer.pongs_sent += 1
                yield from self._send("server", wsframes.Frame(wsframes.Opcode.PONG, msg.data))
            elif msg.opcode in (wsframes.Opcode.TEXT, wsframes.Opcode.BINARY):
                data, op = msg.data, msg.opcode
                if s.reply == "ack":
                    data, op = f"received {len(msg.data)} bytes".encode(), wsframes.Opcode.TEXT
                rsv1 = False
                if peer.compress is not None:
                    data, rsv1 = peer.compress.compress(data), True
                yield from self._send("server", wsframes.Frame(op, data, rsv1=rsv1))
        return "ok"

    def _client_turn(self) -> Iterator[None]:
        """The client reads what the server sent; returns the opcodes it read."""
        peer = self.cpeer
        buf = self.received("client")
        seen = []
        while buf:
            parsed = wsframes.parse_frame(bytes(buf))
            if parsed is None:
                break
            frame, layout = parsed
            del buf[:layout.end]
            seen.append(frame.opcode)
            if frame.rsv1 and peer.inflate is not None:
                peer.inflate.decompress(frame.payload)  # keeps the shared window in step
            if frame.opcode == wsframes.Opcode.CLOSE:
                try:
                    code, _ = wsframes.parse_close(frame.payload)
                except wsframes.ProtocolError:
                    code = 1002
                peer.close_received = (code, "")
                if not peer.close_sent:
                    yield from self._close("client", code)
                break
        return seen

    def _exchange(self) -> Iterator[None]:
        """Returns (outcome, who closes the TCP connection first)."""
        s = self.s
        self._client_fragmenting = False
        heartbeat = s.ping_interval is not None
        body = [m for m in s.messages if not (heartbeat and m.kind == "close")]
        for m in body:
            outcome = yield from self._step(self._client_frame(m))
            if outcome:
                return outcome
        if heartbeat:
            for i in range(s.pings):
                self.wait(s.ping_interval, "client", "heartbeat_interval")
                ping = wsframes.Frame(wsframes.Opcode.PING, f"keepalive {i + 1}".encode(),
                                      mask_key=self.rand(4))
                yield from self._send("client", ping)
                yield from self._server_turn()
                seen = yield from self._client_turn()
                if wsframes.Opcode.PONG not in seen:
                    self.wait(s.pong_timeout, "client", "pong_timeout")
                    self.error("ws", Msg("rule.ws.pong_timeout", s=f"{s.pong_timeout:g}", n=i + 1),
                               "RFC 6455 §5.5.2, §7.1.1", Msg("action.drop_reconnect"), by="client",
                               blame=None, name="ws.abort")
                    self.wire.close("client")
                    self.fact("tcp.close", by="client", how="abort")
                    yield
                    return "dead", "client"
            for m in s.messages:
                if m.kind == "close":
                    outcome = yield from self._step(self._client_frame(m))
                    if outcome:
                        return outcome
        return "closed", "server"

    def _step(self, frame: wsframes.Frame) -> Iterator[None]:
        """The client sends one frame, the server answers, the client reads.
        Returns None to go on, or (outcome, first closer) when the connection ends."""
        yield from self._send("client", frame)
        state = yield from self._server_turn()
        if state == "dropped":
            reset(self.wire, "server")
            self.fact("tcp.close", by="server", how="reset")
            saw = peer_saw_reset(self.wire, "client")
            self.error("ws", Msg("rule.ws.ended_without_close", how=Msg("how.reset" if saw == "reset"
                                                                          else "how.eof")),
                       "RFC 6455 §7.1.5, §7.4.1", Msg("action.report_1006"), by="client", blame="server",
                       name="ws.abort")
            yield
            return "dropped", "server"
        yield from self._client_turn()
        if self.cpeer.close_sent and self.speer.close_sent:
            return "closed", "server"
        if state == "closing":
            return "closed", "server"
        return None
