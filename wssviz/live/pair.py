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
"""

from __future__ import annotations

import datetime as dt
import os
import random
import ssl
import threading
import time
from typing import Iterator

from wssviz.capture import Capture
from wssviz.core import frames as wsframes
from wssviz.core import handshake as hs
from wssviz.dissect import Dissector
from wssviz.live.certs import CA, Identity
from wssviz.live.settings import Settings
from wssviz.live.transport import KeyLog, TLSEnd, Wire, split_records
from wssviz.steps import Step

# --- the session -------------------------------------------------------------


class LiveSession:
    """A live session: the pair driven lazily, its steps built as it goes."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.title = f"{self.settings.name} (live, {self._label()})"
        self.goal = self.settings.goal
        self._lock = threading.Lock()
        self._start()

    def _label(self) -> str:
        s = self.settings
        return "ws://, no TLS" if s.scheme == "ws" else f"TLS {s.tls_version}"

    def _start(self) -> None:
        self.capture = Capture(scheme=self.settings.scheme, server_name=self.settings.host,
                               settings=self.settings.to_dict())
        self.dissector = Dissector(self.capture)
        self._steps: list[Step] = []
        self._finished = False
        self._seen = 0
        self._script = _Script(self.settings, self.capture)
        self._gen = self._script.run()

    # Session protocol
    @property
    def steps(self) -> list[Step]:
        return self._steps

    @property
    def finished(self) -> bool:
        return self._finished

    def ensure(self, index: int) -> int:
        with self._lock:
            while len(self._steps) <= index and not self._finished:
                self._advance()
            return len(self._steps)

    def run_all(self) -> list[Step]:
        with self._lock:
            while not self._finished:
                self._advance()
        return self._steps

    def restart(self) -> None:
        with self._lock:
            self._script.cleanup()
            self._start()

    def _advance(self) -> None:
        try:
            next(self._gen)
        except StopIteration:
            self._finished = True
        except Exception as exc:  # the pair itself broke: keep what was shown, say what happened
            self.capture.add_fact(self._script.now(), "error", layer="live pair", rule="driver failure",
                                  by="wssviz", detail=f"{type(exc).__name__}: {exc}", action="session stopped")
            self._finished = True
        new = self.capture.events[self._seen:]
        self._seen = len(self.capture.events)
        for ev in new:
            self._steps.extend(self.dissector.feed(ev))
        if self._finished:
            self._script.cleanup()
            self._steps.extend(self.dissector.finish())


class _Script:
    """The protocol script: everything both sides do, in order, one move at a time."""

    def __init__(self, settings: Settings, capture: Capture) -> None:
        self.s = settings
        self.capture = capture
        self.t0 = time.perf_counter()
        self.rng = random.Random(settings.seed) if settings.seed is not None else None
        self.wire: Wire | None = None
        self.keylog: KeyLog | None = None
        self.client: TLSEnd | None = None
        self.server: TLSEnd | None = None
        self.plain_rx = {"client": bytearray(), "server": bytearray()}
        self.fault = settings.faults.get

    def now(self) -> float:
        return time.perf_counter() - self.t0

    def rand(self, n: int) -> bytes:
        return self.rng.randbytes(n) if self.rng else os.urandom(n)

    def cleanup(self) -> None:
        if self.wire is not None:
            for s in (self.wire.client, self.wire.server):
                try:
                    s.close()
                except OSError:
                    pass
        if self.keylog is not None:
            self.keylog.close()
            self.keylog = None

    # -- moving bytes ---------------------------------------------------------

    def _keylog(self) -> None:
        if self.keylog is not None:
            self.capture.add_keylog(self.keylog.lines())

    def fact(self, name: str, **value) -> None:
        """A local fact, after the secrets it may depend on are in the key log."""
        self._keylog()
        self.capture.add_fact(self.now(), name, **value)

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
        if s.scheme == "wss":
            self._make_tls(now_wall)
        self.wire = Wire()
        self.t0 = time.perf_counter()
        self.capture.add_fact(0.0, "tcp.connect", client=list(self.wire.client_addr),
                              server=list(self.wire.server_addr))
        yield
        if s.scheme == "wss":
            ok = yield from self._tls_handshake()
            if not ok:
                yield from self._tcp_close("client" if self._failed_by == "client" else "server")
                return
        ok = yield from self._upgrade()
        if ok:
            yield from self._exchange()
        if s.scheme == "wss":
            yield from self._tls_close()
        yield from self._tcp_close("server")

    def _make_tls(self, now: dt.datetime) -> None:
        s = self.s
        self.keylog = KeyLog()
        ca = CA.create(now=now)
        identity: Identity = ca.issue([s.host], now=now)
        self.capture.trust = [ca.cert_pem]
        version = ssl.TLSVersion.TLSv1_3 if s.tls_version == "1.3" else ssl.TLSVersion.TLSv1_2
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.minimum_version = sctx.maximum_version = version
        sctx.num_tickets = s.num_tickets
        sctx.keylog_filename = self.keylog.path
        identity.load_into(sctx)
        cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        cctx.minimum_version = ssl.TLSVersion.TLSv1_2
        cctx.maximum_version = version
        cctx.load_verify_locations(cadata=ca.cert_pem)
        cctx.keylog_filename = self.keylog.path
        self.client = TLSEnd(cctx, False, s.host)
        self.server = TLSEnd(sctx, True)

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
                            self.fact("tls.verdict", ok=True, code=0,
                                                  message="ok", version=end.obj.version(),
                                                  cipher=end.obj.cipher()[0])
                    except ssl.SSLWantReadError:
                        pass
                    except ssl.SSLError as exc:
                        self._failed_by = side
                        if side == "client":
                            self.fact("tls.verdict", ok=False,
                                                  code=getattr(exc, "verify_code", 0) or 0,
                                                  message=getattr(exc, "verify_message", None) or exc.reason or str(exc))
                        self.fact("error", layer="tls", rule=exc.reason or str(exc),
                                              by=side, detail=str(exc), action="sent an alert and gave up")
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

    def _upgrade(self) -> Iterator[None]:
        s = self.s
        request = hs.build_request(s.host, s.path, s.key, origin=s.origin, protocols=s.protocols)
        yield from self.send_app("client", request)
        buf = self.received("server")
        n = hs.head_length(bytes(buf))
        head = bytes(buf[:n]) if n else bytes(buf)
        del buf[:len(head)]
        req = hs.parse_request(head)
        check = hs.check_request(req, allowed_origins=s.allowed_origins,
                                 supported_protocols=s.server_protocols)
        if check.ok:
            response = hs.build_response(check, accept=self.fault("accept"))
        else:
            response = hs.build_error_response(check.status, check.problems[0].detail if check.problems else "")
        yield from self.send_app("server", response)
        buf = self.received("client")
        n = hs.head_length(bytes(buf)) or len(buf)
        resp = hs.parse_response(bytes(buf[:n]))
        del buf[:n]
        problems = hs.check_response(resp, key=s.key, offered_protocols=s.protocols)
        return check.ok and not problems

    def _frame(self, side: str, frame: wsframes.Frame) -> Iterator[None]:
        yield from self.send_app(side, wsframes.serialize(frame))

    def _read_frame(self, side: str) -> wsframes.Frame | None:
        buf = self.received(side)
        parsed = wsframes.parse_frame(bytes(buf))
        if parsed is None:
            return None
        frame, layout = parsed
        del buf[:layout.end]
        return frame

    def _exchange(self) -> Iterator[None]:
        for m in self.s.messages:
            mask = bytes.fromhex(m.mask) if m.mask else self.rand(4)
            if m.kind == "close":
                payload = wsframes.build_close(m.code, m.data)
                yield from self._frame("client", wsframes.Frame(wsframes.Opcode.CLOSE, payload, mask_key=mask))
                got = self._read_frame("server")
                code, _reason = wsframes.parse_close(got.payload) if got else (None, "")
                echo = wsframes.build_close(code if code is not None else None)
                yield from self._frame("server", wsframes.Frame(wsframes.Opcode.CLOSE, echo))
                self._read_frame("client")
                return
            opcode = {"text": wsframes.Opcode.TEXT, "binary": wsframes.Opcode.BINARY,
                      "ping": wsframes.Opcode.PING}[m.kind]
            yield from self._frame("client", wsframes.Frame(opcode, m.payload(), mask_key=mask))
            got = self._read_frame("server")
            if got is None:
                continue
            reply_op = wsframes.Opcode.PONG if opcode == wsframes.Opcode.PING else opcode
            yield from self._frame("server", wsframes.Frame(reply_op, got.payload))
            self._read_frame("client")

    def _tls_close(self) -> Iterator[None]:
        # The server closes first (RFC 6455 §7.1.1: the server closes the TCP connection).
        try:
            self.server.obj.unwrap()
        except ssl.SSLWantReadError:
            pass
        yield from self.flush("server")
        self.client.pump()
        try:
            self.client.obj.unwrap()
        except (ssl.SSLWantReadError, ssl.SSLError):
            pass
        yield from self.flush("client")
        try:
            self.server.obj.unwrap()
        except (ssl.SSLWantReadError, ssl.SSLError):
            pass

    def _tcp_close(self, first: str) -> Iterator[None]:
        self.wire.close(first)
        self.fact("tcp.close", by=first, how="fin")
        yield
