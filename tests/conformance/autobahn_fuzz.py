"""What both fuzzing peers share: the exact bytes of each case's frames, a frame
reader for what the tested endpoint sends back, and Autobahn's verdict.

Nothing here comes from wssviz: the frames are built and read by hand (RFC 6455 §5.2),
so a bug in wssviz's framing cannot hide itself.
"""

from __future__ import annotations

import os
import pickle
import struct
from dataclasses import dataclass, field
from typing import Callable

from autobahn_cases import BeginFrame, Case, CloseFrame, EndMessage, Frame, FrameData, Message, Wait

#: Pause after each piece of a chopped frame, and after a frame-wise ("sync") write:
#: the pieces leave in writes of their own, as Autobahn's queued writes do.  The pause
#: after a whole frame is longer, so that the endpoint has read it before the next one
#: comes (what "frame-wise chops" are for) even while it is busy showing it.
CHOP_PAUSE = 0.002
SYNC_PAUSE = 0.02


# --- frames out --------------------------------------------------------------------------


def mask(data: bytes, key: bytes, at: int = 0) -> bytes:
    """XOR ``data`` with ``key`` (RFC 6455 §5.3), starting ``at`` octets into the payload."""
    k = key[at % 4:] + key[:at % 4]
    stream = (k * (len(data) // 4 + 1))[:len(data)]
    return bytes(a ^ b for a, b in zip(data, stream))


def header(opcode: int, length: int, *, fin: bool = True, rsv: int = 0, key: bytes | None = None) -> bytes:
    """A frame header as RFC 6455 §5.2 draws it (the shortest length form)."""
    b0 = (0x80 if fin else 0) | ((rsv % 8) << 4) | (opcode % 16)
    m = 0x80 if key is not None else 0
    if length <= 125:
        head = bytes([b0, m | length])
    elif length <= 0xFFFF:
        head = bytes([b0, m | 126]) + struct.pack("!H", length)
    else:
        head = bytes([b0, m | 127]) + struct.pack("!Q", length)
    return head + (key or b"")


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0, masked: bool = False) -> bytes:
    key = os.urandom(4) if masked else None
    body = mask(payload, key) if key else payload
    return header(opcode, len(payload), fin=fin, rsv=rsv, key=key) + body


def close_payload(code: int | None, reason: bytes = b"") -> bytes:
    return (b"" if code is None else struct.pack("!H", code)) + reason


@dataclass
class Write:
    data: bytes
    chop: int | None = None  # write in pieces of this many octets
    pause: float = 0.0  # after each piece (and after the write)
    close: bool = False  # carries a Close frame: the fuzzer has now sent its Close


@dataclass
class Pause:
    seconds: float
    label: str | None


def plan(case: Case, *, masked: bool) -> list[Write | Pause]:
    """The case's actions as writes and waits.  Frames without a chop or ``sync`` that
    follow each other go out in one write, as a Twisted transport would send them."""
    out: list[Write | Pause] = []
    buf = bytearray()
    buf_close = False
    stream_key: bytes | None = None
    stream_at = 0

    def flush() -> None:
        nonlocal buf_close
        if buf:
            out.append(Write(bytes(buf), close=buf_close))
            buf.clear()
            buf_close = False

    for a in case.actions:
        if isinstance(a, Wait):
            flush()
            out.append(Pause(a.seconds, a.label))
            continue
        if isinstance(a, BeginFrame):
            stream_key = os.urandom(4) if masked else None
            stream_at = 0
            buf += header(a.opcode, a.length, fin=False, key=stream_key)
            continue
        if isinstance(a, FrameData):
            buf += mask(a.data, stream_key, stream_at) if stream_key else a.data
            stream_at += len(a.data)
            continue
        if isinstance(a, EndMessage):
            buf += frame(0, b"", fin=True, masked=masked)
            continue
        if isinstance(a, Message):
            op = 2 if a.binary else 1
            p, n = a.payload, a.frag
            if n is None or len(p) <= n:
                buf += frame(op, p, masked=masked)
            else:
                pieces = [p[i:i + n] for i in range(0, len(p), n)]
                for i, piece in enumerate(pieces):
                    buf += frame(op if i == 0 else 0, piece, fin=i == len(pieces) - 1, masked=masked)
            continue
        if isinstance(a, CloseFrame):
            buf += frame(8, close_payload(a.code, a.reason), masked=masked)
            buf_close = True
            continue
        assert isinstance(a, Frame), a
        payload = a.payload
        if a.payload_len is not None:
            payload = (payload * (a.payload_len // len(payload) + 1))[:a.payload_len]
        data = frame(a.opcode, payload, fin=a.fin, rsv=a.rsv, masked=masked)
        # (a Close written with sendFrame is raw bytes to Autobahn: it does not change the
        # fuzzer's state, so it is not "the fuzzer's Close", unlike CloseFrame)
        if a.chop is None and not a.sync:
            buf += data
            continue
        flush()
        out.append(Write(data, chop=a.chop, pause=CHOP_PAUSE if a.chop else SYNC_PAUSE))
    flush()
    return out


# --- frames in ---------------------------------------------------------------------------


@dataclass
class In:
    """A frame as it arrived: header bits and the unmasked payload."""

    fin: bool
    rsv: int
    opcode: int
    masked: bool
    payload: bytes


class Reader:
    """Frames out of a byte stream (RFC 6455 §5.2), as the bytes arrive."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def feed(self, data: bytes) -> list[In]:
        self.buf += data
        out = []
        while True:
            f = self._one()
            if f is None:
                return out
            out.append(f)

    def _one(self) -> In | None:
        b = self.buf
        if len(b) < 2:
            return None
        n = b[1] & 0x7F
        pos = 2
        if n == 126:
            if len(b) < 4:
                return None
            n = struct.unpack("!H", b[2:4])[0]
            pos = 4
        elif n == 127:
            if len(b) < 10:
                return None
            n = struct.unpack("!Q", b[2:10])[0]
            pos = 10
        key = None
        if b[1] & 0x80:
            if len(b) < pos + 4:
                return None
            key = bytes(b[pos:pos + 4])
            pos += 4
        if len(b) < pos + n:
            return None
        payload = bytes(b[pos:pos + n])
        if key:
            payload = mask(payload, key)
        f = In(bool(b[0] & 0x80), (b[0] >> 4) & 7, b[0] & 0x0F, key is not None, payload)
        del b[:pos + n]
        return f


class Messages:
    """Autobahn's view of what arrives: whole messages, pings, pongs (and the Close)."""

    def __init__(self) -> None:
        self.opcode: int | None = None
        self.parts: list[bytes] = []

    def take(self, f: In) -> tuple | None:
        if f.opcode == 9:
            return ("ping", f.payload)
        if f.opcode == 10:
            return ("pong", f.payload)
        if f.opcode == 8:
            return ("close", f.payload)
        if f.opcode in (1, 2):
            self.opcode, self.parts = f.opcode, []
        self.parts.append(f.payload)
        if not f.fin:
            return None
        event = ("message", b"".join(self.parts), self.opcode == 2)
        self.opcode, self.parts = None, []
        return event


def valid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def close_code(payload: bytes) -> int | None:
    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None


# --- Autobahn's verdict (case.py: Case.onConnectionLost, finishWhenDone) ---------------------


def same(a: object, b: object) -> bool:
    """Autobahn compares pickles: the same events, in the same order."""
    return pickle.dumps(a) == pickle.dumps(b)


def matches_all(expected: dict, received: list) -> bool:
    """finishWhenDone: the fuzzer closes only once what it received matches every
    expected outcome."""
    return all(same(received, e) for e in expected.values())


@dataclass
class Closing:
    """How the connection ended, from the fuzzer's side."""

    closed_by_me: bool = False  # the fuzzer sent the first Close
    sent_close: bool = False
    got_close: bool = False
    remote_code: int | None = None  # the close code in the endpoint's Close
    remote_close_payload: bytes | None = None
    dropped_by_me: bool = False  # the fuzzer closed TCP (the endpoint did not)
    tcp_closed: bool = False

    @property
    def was_clean(self) -> bool:
        return self.sent_close and self.got_close


@dataclass
class Verdict:
    behavior: str  # OK, NON-STRICT, FAILED, INFORMATIONAL
    close: str  # OK, FAILED, UNCLEAN, WRONG CODE, FAILED BY CLIENT, INFORMATIONAL
    detail: str
    notes: list[str] = field(default_factory=list)
    short: str = ""  # what happened, in one line

    @property
    def result(self) -> str:
        """pass / non-strict / informational / fails."""
        if self.behavior == "INFORMATIONAL":
            return "informational"
        if self.close != "OK" or self.behavior not in ("OK", "NON-STRICT"):
            return "fails"
        return "pass" if self.behavior == "OK" else "non-strict"


def judge(case: Case, received: list, c: Closing, *, fuzzer_is_server: bool,
          match: "Callable[[list], bool] | None" = None, violations: list[str] = ()) -> Verdict:
    """Autobahn's verdict.  ``match(events)`` says whether an expected outcome happened
    (default: ``received`` is exactly those events); ``violations``: rules the
    endpoint's own frames broke (the case fails)."""
    match = match or (lambda events: same(received, events))
    behavior = "FAILED"
    for outcome, events in case.expected.items():
        if match(events) and not violations:
            behavior = outcome
            break
    exp = case.close
    if exp["closed_by_me"] != c.closed_by_me:
        close = "FAILED"
        why = "the connection was failed by the wrong endpoint"
    elif exp["require_clean"] and not c.was_clean:
        close = "UNCLEAN"
        why = "the spec requires the connection to be closed cleanly here"
    elif c.remote_code is not None and c.remote_code not in exp["codes"]:
        close = "WRONG CODE"
        why = f"the close code should have been {','.join(map(str, exp['codes']))} or empty"
    elif not fuzzer_is_server and c.dropped_by_me:
        close = "FAILED BY CLIENT"
        why = "it is preferred that the server close the TCP connection"
    elif fuzzer_is_server and not exp["closed_by_me"] and not c.got_close and not c.tcp_closed:
        # Added here (Autobahn checks no such thing for a client): the endpoint was to
        # fail the connection, yet it neither sent a Close nor closed TCP; the fuzzer
        # dropped it when the case's time was up.
        close = "FAILED"
        why = "the endpoint did not fail the connection: the fuzzer dropped it when the case's time was up"
    else:
        close, why = "OK", "connection was properly closed"
    # the 7.x cases: a wrong close code fails the case itself
    if case.id.startswith("7.") and close == "WRONG CODE":
        behavior = "FAILED"
    broke = f"the endpoint's frames broke rules: {', '.join(dict.fromkeys(violations))}; " if violations else ""
    expected = " or ".join(f"{k}: {describe(v)}" for k, v in case.expected.items())
    detail = broke + (f"received {describe(received)}; expected {expected}; "
              f"close: {close} ({why}; endpoint's close code {c.remote_code}, "
              f"first Close by {'fuzzer' if c.closed_by_me else 'endpoint' if c.got_close else 'nobody'}, "
              f"{'clean' if c.was_clean else 'not clean'}, TCP closed by "
              f"{'fuzzer' if c.dropped_by_me else 'endpoint' if c.tcp_closed else '?'})")
    first = "fuzzer" if c.closed_by_me else "endpoint" if c.got_close else "nobody"
    short = (f"got {describe(received)}; endpoint's Close: "
             f"{(c.remote_code if c.remote_code is not None else 'no code') if c.got_close else 'none'}; "
             f"first Close by {first}; {'clean' if c.was_clean else 'not clean'}; TCP closed by "
             f"{'the fuzzer' if c.dropped_by_me else 'the endpoint'}")
    if case.informational:
        return Verdict("INFORMATIONAL", "INFORMATIONAL", detail, short=short)
    return Verdict(behavior, close, detail, short=short)


def describe(events: list) -> str:
    def one(e: tuple) -> str:
        if e[0] == "message":
            p = e[1]
            shown = p[:20].hex() + ("…" if len(p) > 20 else "")
            return f"{'binary' if e[2] else 'text'}({len(p)}: {shown})"
        if e[0] == "timeout":
            return f"timeout {e[1]}"
        return f"{e[0]}({e[1][:20].hex()})"
    return "[" + ", ".join(one(e) for e in events) + "]"


# --- the fuzzer ------------------------------------------------------------------------------

#: Seconds the fuzzer waits for the endpoint's Close once it sent its own (Autobahn's
#: closeHandshakeTimeout is 1 s), and for the endpoint to close TCP after the closing
#: handshake (its serverConnectionDropTimeout is 1 s).  A little more here: the tested
#: endpoint also dissects every byte it handles.
CLOSE_WAIT = 2.0
DROP_WAIT = 2.0


class Transport:
    """What a fuzzer needs of its connection."""

    def send(self, data: bytes) -> None: ...
    def recv(self, timeout: float) -> bytes | None:
        """Bytes (b"" when none came within ``timeout``), or None: the endpoint is gone."""
    def wait_closed(self, timeout: float) -> bool:
        """After the closing handshake: True once the endpoint closed TCP."""
    def drop(self) -> None: ...


class Fuzzer:
    """Runs one case against an endpoint, as Autobahn's fuzzing peer does, and keeps
    what the endpoint sent (``received``) and how the connection ended (``closing``)."""

    fuzzer_is_server = False

    def __init__(self, case: Case, transport: Transport, *, masked: bool, leftover: bytes = b"") -> None:
        import time

        self.time = time
        self.case = case
        self.t = transport
        self.masked = masked
        self.reader = Reader()
        self.messages = Messages()
        self.received: list = []
        self.violations: list[str] = []  # rules the endpoint's own frames broke
        self.closing = Closing()
        self.eof = False
        self.log: list[tuple[float, str]] = []  # (seconds, what) for failure reports
        self.t0 = time.monotonic()
        if leftover:
            self._bytes(leftover)

    # -- state --------------------------------------------------------------------------

    @property
    def open(self) -> bool:
        """Autobahn's STATE_OPEN: no Close either way, TCP still up."""
        return not (self.closing.sent_close or self.closing.got_close or self.eof)

    def note(self, what: str) -> None:
        self.log.append((round(self.time.monotonic() - self.t0, 3), what))

    # -- bytes in ------------------------------------------------------------------------

    def pump(self, seconds: float) -> None:
        """Read what the endpoint sends for ``seconds`` (at least one look)."""
        end = self.time.monotonic() + seconds
        while not self.eof:
            left = end - self.time.monotonic()
            data = self.t.recv(max(0.0, min(left, 0.05)))
            if data is None:
                self.eof = True
                self.note("TCP closed by the endpoint")
                return
            if data:
                self._bytes(data)
            if left <= 0:
                return

    def _bytes(self, data: bytes) -> None:
        for f in self.reader.feed(data):
            self.note(f"got opcode {f.opcode} fin {int(f.fin)} {len(f.payload)} octets")
            self.check(f)
            ev = self.messages.take(f)
            if ev is not None:
                if ev[0] == "message" and not ev[2] and not valid_utf8(ev[1]):
                    self.violations.append("a text message that is not UTF-8")
                self.event(ev)

    def check(self, f: In) -> None:
        """What the endpoint sends must itself follow RFC 6455 §5 (Autobahn's peer
        would fail the connection otherwise)."""
        if self.closing.got_close:
            return
        side = "client" if self.fuzzer_is_server else "server"
        if f.masked != self.fuzzer_is_server:
            self.violations.append(f"a {side} frame {'masked' if f.masked else 'not masked'}")
        if f.rsv:
            self.violations.append(f"RSV bits {f.rsv:03b} with no extension")
        if f.opcode not in (0, 1, 2, 8, 9, 10):
            self.violations.append(f"reserved opcode {f.opcode}")
        if f.opcode >= 8 and (not f.fin or len(f.payload) > 125):
            self.violations.append(f"a control frame (opcode {f.opcode}) fragmented or over 125 octets")
        if f.opcode == 8 and len(f.payload) == 1:
            self.violations.append("a Close with a 1-octet payload")

    def event(self, ev: tuple) -> None:
        c = self.closing
        if ev[0] == "close":
            if c.got_close:
                return
            c.got_close = True
            c.remote_close_payload = ev[1]
            c.remote_code = close_code(ev[1])
            if not c.sent_close:  # the endpoint closes first: answer (Autobahn replies 1000)
                c.closed_by_me = False
                self.send_close(reply=True)
            return
        if c.got_close:
            return  # nothing counts after the endpoint's Close
        self.received.append(ev)
        self.finish_when_done()

    def finish_when_done(self) -> None:
        """Autobahn: once what arrived matches every expected outcome, the fuzzer that
        expects to close sends Close 1000."""
        if (self.case.close["closed_by_me"] and not self.case.suppress_close and not self.closing.sent_close
                and not self.closing.got_close and matches_all(self.case.expected, self.received)):
            self.send_close()

    # -- bytes out ------------------------------------------------------------------------

    def send(self, data: bytes) -> bool:
        if self.eof:
            return False
        try:
            self.t.send(data)
            return True
        except OSError as exc:
            self.note(f"write failed: {exc}")
            self.eof = True
            return False

    def send_close(self, code: int = 1000, *, reply: bool = False, before: bytes = b"") -> None:
        c = self.closing
        if c.sent_close:
            return
        c.sent_close = True
        if not reply and not c.got_close:
            c.closed_by_me = True
        self.note(f"send Close {code}" + (" (reply)" if reply else ""))
        self.send(before + frame(8, close_payload(code), masked=self.masked))

    def write(self, w: Write) -> None:
        if w.close and not self.closing.sent_close and not self.closing.got_close:
            self.closing.closed_by_me = True
        if w.close:
            self.closing.sent_close = True
        pieces = [w.data] if w.chop is None else [w.data[i:i + w.chop] for i in range(0, len(w.data), w.chop)]
        self.note(f"write {len(w.data)} octets" + (f" in chops of {w.chop}" if w.chop else ""))
        for piece in pieces:
            if not self.send(piece):
                return
            if w.pause:
                self.time.sleep(w.pause)
                self.pump(0)

    # -- the case -------------------------------------------------------------------------------

    def run(self, steps: list[Write | Pause] | None = None) -> None:
        """The case's writes and waits (``steps``: a part of them), then ``after``."""
        for step in plan(self.case, masked=self.masked) if steps is None else steps:
            if isinstance(step, Pause):
                self.pump(step.seconds)
                if step.label is None:
                    continue
                if not self.open:
                    self.note(f"wait {step.label}: the connection is no longer open")
                    break
                self.received.append(("timeout", step.label))
                continue
            if self.eof:
                break
            self.write(step)
            self.pump(0)
        self.after()
        self.end()

    def maybe_close(self) -> bool:
        """After the script: close now if the case allows it; True if a Close just went
        out.  (The fuzzer against wssviz's client closes once that client's own ping
        is in; Autobahn's fuzzer closes from ``finish_when_done`` only.)"""
        return False

    def after(self) -> None:
        """The case's ``then``: wait for the outcome, close (``close``) or drop (``kill``)
        when the time is up."""
        kind, seconds = self.case.then
        deadline = self.time.monotonic() + seconds
        sent_at = None
        while not self.eof and not self.closing.got_close:
            now = self.time.monotonic()
            if self.closing.sent_close:
                sent_at = sent_at or now
                if now - sent_at > CLOSE_WAIT:
                    self.note("no Close in reply")
                    break
            elif self.maybe_close():
                continue
            elif now >= deadline:
                if kind == "close":
                    self.send_close()
                    continue
                self.note("case time is up: drop TCP")
                break
            self.pump(0.05)

    def end(self) -> None:
        c = self.closing
        if self.eof:
            c.tcp_closed = True
            return
        if c.got_close and c.sent_close and not self.fuzzer_is_server:
            # the server should close TCP now
            if self.t.wait_closed(DROP_WAIT):
                c.tcp_closed = True
                self.note("TCP closed by the endpoint")
                return
            self.note("the endpoint did not close TCP")
        c.dropped_by_me = True
        self.t.drop()
