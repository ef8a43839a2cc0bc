"""Autobahn|Testsuite sections 1-7 and 10 against `wssviz connect`'s client.

The fuzzing peer is a raw server written here (plain ws:// on 127.0.0.1): it reads the
upgrade request, answers 101 by hand, then writes each case's frames octet by octet
(unmasked, as a server must), chopped and paced as the case says (``autobahn_fuzz.plan``).
The client under test is ``ClientSession(url, send=[]).run_all()``: with nothing to
send, its fixed script is "answer pings and Closes, send one ping of its own, then
Close 1000".

Autobahn's client cases expect the client to echo every message; connect sends a fixed
script and echoes nothing.  So for connect each case is judged as Autobahn judges it,
with one adaptation: an expected ``("message", payload, binary)`` is checked against
what the client *read* (its steps: the server's data frames it took in without a
broken rule, up to the first frame that broke one) instead of an echo.  Pongs, the
client's Close (who sent it first, its code, a clean closing handshake) and the
fail-fast timing of 6.4.x are judged from the wire as they are for a server.  The
client's own script ping is answered with a pong when the fuzzer closes and is not
counted as something the case received.  The fuzzer, being the server, closes TCP.

A result other than a plain pass is recorded as a property (``verdict``/``detail``) for
tests/conformance/table.py; a failing case fails its test.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
import time

import pytest

from autobahn_cases import CASES
from autobahn_fuzz import Fuzzer, Transport, Write, describe, frame, judge, plan, same
from wssviz.live.connect import PING_PAYLOAD, ClientSession

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TIMEOUT = 5.0  # the client's own deadline for each wait (longer than any case's script)


class Serving(Transport):
    """The fuzzer's side of an accepted TCP connection."""

    def __init__(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn = conn

    def send(self, data: bytes) -> None:
        self.conn.sendall(data)

    def recv(self, timeout: float) -> bytes | None:
        self.conn.settimeout(max(timeout, 1e-4))
        try:
            data = self.conn.recv(1 << 16)
        except socket.timeout:
            return b""
        except OSError:
            return None
        return data or None

    def wait_closed(self, timeout: float) -> bool:
        return False

    def drop(self) -> None:
        try:
            self.conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()


class ClientFuzzer(Fuzzer):
    """Autobahn's fuzzing server, closing as described in the module docstring."""

    fuzzer_is_server = True

    def __init__(self, *a, behind_101: bytes | None = None, **kw) -> None:
        super().__init__(*a, **kw)
        self.own_ping = False
        self.behind_101 = behind_101  # the 101, to go out in one write with the case's first frames

    def event(self, ev: tuple) -> None:
        if ev == ("ping", PING_PAYLOAD) and not self.own_ping and not self.closing.got_close:
            self.own_ping = True  # the client's script ping: answered when we close
            self.note("the client's own ping")
            return
        super().event(ev)

    def run(self) -> None:
        if self.behind_101 is not None:
            steps = plan(self.case, masked=False)
            first = steps.pop(0)
            assert isinstance(first, Write) and first.chop is None
            self.write(Write(self.behind_101 + first.data, close=first.close))
            super().run(steps)
            return
        # Start once the client's own ping is in: the case's frames then never share a
        # read with the 101 (a wssviz bug otherwise: test_frames_behind_the_101 below).
        end = time.monotonic() + 2.0
        while not self.own_ping and not self.eof and time.monotonic() < end:
            self.pump(0.02)
        super().run()

    def finish_when_done(self) -> None:
        return  # the fuzzer closes after its script (maybe_close), never mid-script

    def maybe_close(self) -> bool:
        c, case = self.closing, self.case
        if not case.close["closed_by_me"] or case.suppress_close or c.sent_close or not self.own_ping:
            return False
        wire = [e for e in self.received if e[0] in ("ping", "pong")]
        if not all(same(wire, [e for e in exp if e[0] in ("ping", "pong")]) for exp in case.expected.values()):
            return False
        self.send_close(before=frame(10, PING_PAYLOAD))  # the pong for its ping, then our Close
        return True


def read_messages(steps) -> list[tuple]:
    """The data messages the client read: the server's frames in its steps, up to the
    first one that broke a rule (the client fails the connection there).  Each is
    ``("message", payload, binary, size, whole)``: a step holds the first 64 KiB of a
    frame, so ``payload`` may be a prefix of ``size`` octets."""
    out: list[tuple] = []
    cur: list | None = None
    for s in steps:
        if s.kind != "ws.frame" or s.direction != "s2c":
            continue
        if s.status == "error":
            break
        op = s.raw("ws.frame.opcode")
        if op >= 8:
            continue
        size = s.raw("ws.frame.payload_length")
        head = 2 + (0 if size < 126 else 2 if size < 65536 else 8)  # the fuzzer writes the shortest form
        payload = s.data[head:head + size]
        if op in (1, 2):
            cur = [op, bytearray(), 0, True]
        if cur is None:
            break
        cur[1] += payload
        cur[2] += size
        cur[3] = cur[3] and len(payload) == size
        if s.raw("ws.frame.fin"):
            out.append(("message", bytes(cur[1]), cur[0] == 2, cur[2], cur[3]))
            cur = None
    return out


def matcher(received: list, read: list):
    """Whether an expected outcome is what the client did (see the module docstring)."""
    wire = [e for e in received if e[0] != "timeout"]
    timeouts = [e for e in received if e[0] == "timeout"]

    def match(expected: list) -> bool:
        msgs = [e for e in expected if e[0] == "message"]
        if not same(wire, [e for e in expected if e[0] in ("ping", "pong")]):
            return False
        if not same(timeouts, [e for e in expected if e[0] == "timeout"]):
            return False
        if len(msgs) != len(read):
            return False
        for (_, p, binary), (_, got, got_binary, size, whole) in zip(msgs, read):
            if binary != got_binary or size != len(p) or not (p == got if whole else p.startswith(got)):
                return False
        return True
    return match


def upgrade(t: Serving, *, send: bool = True) -> tuple[bytes, bytes]:
    """Read the request head, answer 101 (unless ``send`` is False: then the caller
    sends it); returns (the 101, what came after the request head)."""
    buf = b""
    end = time.monotonic() + 5
    while b"\r\n\r\n" not in buf:
        assert time.monotonic() < end, "no upgrade request"
        data = t.recv(0.5)
        assert data is not None, "closed before the upgrade"
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in
                                                        head.decode("latin-1").split("\r\n")[1:])}
    accept = base64.b64encode(hashlib.sha1((headers["sec-websocket-key"] + GUID).encode()).digest()).decode()
    response = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode()
    if send:
        t.send(response)
    return response, rest


def run_case(case, *, behind_101: bool = False) -> tuple:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    box: dict = {}

    def serve() -> None:
        listener.settimeout(10)
        try:
            conn, _ = listener.accept()
            t = Serving(conn)
            response, leftover = upgrade(t, send=not behind_101)
            fz = box["fz"] = ClientFuzzer(case, t, masked=False, leftover=leftover,
                                          behind_101=response if behind_101 else None)
            fz.run()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            box["error"] = exc
        finally:
            listener.close()

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    steps = ClientSession(f"ws://127.0.0.1:{port}/", send=[], timeout=TIMEOUT).run_all()
    th.join(15)
    assert "error" not in box, f"fuzzing server broke: {box['error']!r}"
    fz = box["fz"]
    read = read_messages(steps)
    v = judge(case, fz.received, fz.closing, fuzzer_is_server=True, match=matcher(fz.received, read),
              violations=fz.violations)
    v.detail = f"read {describe([m[:3] for m in read])}; " + v.detail
    v.short = f"read {describe([m[:3] for m in read])}; " + v.short
    notes = []
    for s in steps:
        if s.kind == "error" and s.raw("error.by") == "client":
            notes.append(f"client error step: {s.raw('error.rule')} -> {s.raw('error.action')}")
    closes = [s.raw("ws.frame.close_code") for s in steps if s.kind == "ws.frame" and s.direction == "c2s"
              and s.raw("ws.frame.opcode") == 8]
    notes.append(f"client's Close: {closes[0] if closes else 'none'}")
    v.notes = notes
    return v, fz, steps


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case, record_property):
    v, fz, steps = run_case(case)
    record_property("verdict", v.result)
    record_property("detail", v.detail)
    record_property("notes", "; ".join(v.notes))
    record_property("short", v.short)
    if v.result == "fails":
        log = ", ".join(f"{t}s {what}" for t, what in fz.log)
        pytest.fail(f"case {case.id}: {v.behavior}/{v.close}: {v.detail}\nexpectation: {case.expectation}\n"
                    f"log: {log}\nclient: {'; '.join(v.notes)}", pytrace=False)


# --- beyond the Autobahn table ------------------------------------------------------------------


@pytest.mark.parametrize("case_id", ["3.1", "7.3.3"], ids=lambda c: f"behind-101-{c}")
def test_frames_behind_the_101(case_id):
    """Not an Autobahn case: the same case, with its first frames in the very write that
    carries the 101, as a server that speaks first on open sends them (they then reach
    the client in the same read as the response head).  The client must handle them as
    it handles frames that come later: fail with 1002 on a broken rule (3.1), answer a
    Close (7.3.3)."""
    from autobahn_cases import BY_ID

    v, fz, steps = run_case(BY_ID[case_id], behind_101=True)
    if v.result == "fails":
        log = ", ".join(f"{t}s {what}" for t, what in fz.log)
        pytest.fail(f"case {case_id} behind the 101: {v.behavior}/{v.close}: {v.detail}\nlog: {log}\n"
                    f"client: {'; '.join(v.notes)}", pytrace=False)
