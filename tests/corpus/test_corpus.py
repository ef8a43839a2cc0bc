"""The malformed-input corpus (cases.py), run against wssviz.

House rule: bad input never crashes and never loses what was shown.  Each case checks
three things:

1. the message: an ``error`` step naming the layer and the rule (and, where bytes
   caused it, the offset; for frames also the close code the side that noticed sent
   back), or for a bad file or option exit status 2 and one line on stderr starting
   "wssviz", never a traceback, never the rule ``tool.driver_failure`` (kept for bugs);
2. what came before the fault is still shown and recorded: the steps before it exist,
   and the session's capture holds the bytes (rebuilt through a recording, it gives
   the same steps);
3. the program goes on: listen accepts and echoes a new client after each bad one; a
   connect session ends; the interface keeps running or ends with the message.

One listen server serves the whole module.  Limits are made small for the cases that
need it (``wssviz.core.limits``), so bombs and timeouts stay fast.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import pytest

from wssviz.core import limits

HERE = Path(__file__).resolve().parent


def _load_cases():
    """cases.py, under a name of its own (no clash with another folder's ``cases``)."""
    import importlib.util

    name = "wssviz_corpus_cases"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HERE / "cases.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


C = _load_cases()
CASES, Case = C.CASES, C.Case

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CONNECT_TIMEOUT = 1.5  # connect's --timeout for the scripted servers


def accept_for(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


# --- reading frames (our own, tolerant) -------------------------------------------------------


@dataclass
class Got:
    opcode: int
    payload: bytes
    fin: bool
    rsv1: bool


def read_frames(buf: bytearray) -> list[Got]:
    """Whole frames from the front of ``buf`` (consumed); what is not whole stays."""
    out = []
    while len(buf) >= 2:
        b0, b1 = buf[0], buf[1]
        n, pos = b1 & 0x7F, 2
        if n == 126:
            if len(buf) < 4:
                break
            n, pos = struct.unpack("!H", buf[2:4])[0], 4
        elif n == 127:
            if len(buf) < 10:
                break
            n, pos = struct.unpack("!Q", buf[2:10])[0], 10
        key = None
        if b1 & 0x80:
            if len(buf) < pos + 4:
                break
            key, pos = bytes(buf[pos:pos + 4]), pos + 4
        if len(buf) < pos + n:
            break
        payload = bytes(buf[pos:pos + n])
        if key:
            payload = C.xor(payload, key)
        out.append(Got(b0 & 0x0F, payload, bool(b0 & 0x80), bool(b0 & 0x40)))
        del buf[:pos + n]
    return out


def frame_opcodes(data: bytes) -> list[int]:
    """The opcodes of the frames in ``data`` (as far as they parse)."""
    return [g.opcode for g in read_frames(bytearray(data))]


class Messages:
    """Data messages out of a peer's frames (inflating permessage-deflate ones)."""

    def __init__(self) -> None:
        self.inflater = zlib.decompressobj(-15)
        self.parts: list[bytes] = []
        self.compressed = False
        self.done: list[bytes] = []
        self.closes: list[int | None] = []

    def feed(self, frames: list[Got]) -> None:
        for g in frames:
            if g.opcode == 8:
                self.closes.append(struct.unpack("!H", g.payload[:2])[0] if len(g.payload) >= 2 else None)
            elif g.opcode in (1, 2, 0):
                if g.opcode:
                    self.parts, self.compressed = [], g.rsv1
                self.parts.append(g.payload)
                if g.fin:
                    data = b"".join(self.parts)
                    if self.compressed:
                        data = self.inflater.decompress(data + b"\x00\x00\xff\xff")
                    self.done.append(data)


# --- listen ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def listen(tmp_path_factory):
    from wssviz.live.listen import ListenServer

    srv = ListenServer("127.0.0.1", 0, ca_dir=str(tmp_path_factory.mktemp("listen-ca")),
                       handshake_timeout=2.5, idle_timeout=5.0)  # room for 1 MiB heads on a busy machine
    srv.start()
    yield srv
    srv.stop()


def tls_to(srv) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return ssl.create_default_context(cafile=srv.ca_path).wrap_socket(raw, server_hostname="localhost")


def client_hello(srv) -> bytes:
    """The ClientHello a real client would send listen (from OpenSSL, never sent)."""
    ctx = ssl.create_default_context(cafile=srv.ca_path)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


class NewConnection:
    """The listen connection a block of code opens (the first one it did not know)."""

    def __init__(self, srv) -> None:
        self.srv = srv
        self._held = list(srv.sessions)  # held, so that no new connection can reuse their ids
        self.known = {id(c) for c in self._held}

    def get(self, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            new = [c for c in list(self.srv.sessions) if id(c) not in self.known]
            if new:
                conn = new[0]
                assert conn.done.wait(max(0.1, deadline - time.monotonic())), "listen's connection never ended"
                return conn
            time.sleep(0.02)
        raise AssertionError("listen never showed the connection")


def recv_until(s: socket.socket, done: Callable[[bytes], bool], timeout: float, data: bytes = b"") -> bytes:
    """Read until ``done(data)``, EOF or ``timeout`` seconds."""
    buf = bytearray(data)
    deadline = time.monotonic() + timeout
    while not done(bytes(buf)):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            piece = s.recv(65536)
        except (TimeoutError, socket.timeout):
            break
        except (OSError, ssl.SSLError):
            break
        if not piece:
            break
        buf += piece
    return bytes(buf)


def read_head(s: socket.socket, timeout: float = 10.0) -> tuple[bytes, bytes]:
    data = recv_until(s, lambda d: b"\r\n\r\n" in d, timeout)
    head, sep, rest = data.partition(b"\r\n\r\n")
    return head + sep, rest


@dataclass
class Outcome:
    steps: list
    capture: Any
    took: float
    sent: bytes = b""  # the case's own bytes, as the misbehaving side meant to write them
    prefix: int = 0  # bytes of that side's stream before the case's own bytes
    head: int = 0  # bytes of the HTTP head before the frames (the stream's other base)
    messages: list[bytes] = field(default_factory=list)  # data messages the well-behaved side got back
    status: int | None = None  # listen's HTTP status
    response: bytes = b""
    wrote: bytes | None = None  # what it did write, when it stopped early (None: all of ``sent``)


def listen_frames(srv, case: Case) -> Outcome:
    send = case.send
    new = NewConnection(srv)
    t0 = time.monotonic()
    req = C.request(extra=b"Sec-WebSocket-Extensions: permessage-deflate\r\n" if send.get("deflate") else b"")
    req = req.replace(b"{port}", str(srv.port).encode())
    msgs = Messages()
    payload = send["frames"]
    early = bool(send.get("with_handshake"))
    with tls_to(srv) as s:
        s.sendall(req + (payload if early else b""))
        head, rest = read_head(s)
        assert head.startswith(b"HTTP/1.1 101"), head
        buf = bytearray(rest)
        before = b""
        if not early:
            before = C.frame(1, C.BEFORE)
            s.sendall(before)
            data = recv_until(s, lambda d: bool(read_frames(bytearray(d))), 10, bytes(buf))
            buf = bytearray(data)
            msgs.feed(read_frames(buf))
        if early:
            pass
        elif send.get("per_byte"):
            for b in payload:
                s.sendall(bytes([b]))
                time.sleep(0.002)
        else:
            s.sendall(payload)
        closing = 8 in frame_opcodes(payload)
        deadline = time.monotonic() + case.expect.get("seconds", 10)
        while time.monotonic() < deadline:
            more = recv_until(s, lambda d: len(d) > 0, deadline - time.monotonic())
            if not more:
                break
            buf += more
            msgs.feed(read_frames(buf))
            if case.expect.get("ok") and not closing and len(msgs.done) >= (1 if early else 2):
                s.sendall(C.frame(8, b"\x03\xe8"))
                closing = True
    conn = new.get()
    return Outcome(conn.steps, conn.capture, time.monotonic() - t0, payload, len(before), len(req),
                   msgs.done if early else msgs.done[1:])


def listen_handshake(srv, case: Case) -> Outcome:
    send = case.send
    new = NewConnection(srv)
    t0 = time.monotonic()
    req = send["request"].replace(b"{port}", str(srv.port).encode())
    msgs = Messages()
    with tls_to(srv) as s:
        try:
            if send.get("per_byte"):
                for b in req:
                    s.sendall(bytes([b]))
                    time.sleep(send["per_byte"])
            else:
                s.sendall(req)
        except (OSError, ssl.SSLError):
            pass  # the server gave up on us: that is the point
        head, rest = read_head(s, timeout=case.expect.get("seconds", 10))
        status = int(head[9:12]) if head[:9] in (b"HTTP/1.1 ", b"HTTP/1.0 ") and head[9:12].isdigit() else None
        if status == 101:
            buf = bytearray(rest)
            s.sendall(C.frame(1, C.BEFORE))
            buf = bytearray(recv_until(s, lambda d: bool(read_frames(bytearray(d))), 10, bytes(buf)))
            msgs.feed(read_frames(buf))
            s.sendall(C.frame(8, b"\x03\xe8"))
        recv_until(s, lambda d: False, 5)
    conn = new.get()
    return Outcome(conn.steps, conn.capture, time.monotonic() - t0, req, 0, 0, msgs.done, status, head)


def listen_tls(srv, case: Case) -> Outcome:
    send = case.send
    new = NewConnection(srv)
    t0 = time.monotonic()
    sent = b""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        kind = send["client"]
        if kind == "raw":
            sent = send["bytes"]
        elif kind == "hello_cut":
            sent = client_hello(srv)[:send["cut"]]
        else:
            sent = client_hello(srv)
        s.sendall(sent)
        if kind == "hello_then" and send.get("bytes"):
            time.sleep(0.2)
            s.sendall(send["bytes"])
            sent += send["bytes"]
        if send.get("close"):
            s.shutdown(socket.SHUT_WR)
        recv_until(s, lambda d: False, case.expect.get("seconds", 5))
    conn = new.get()
    return Outcome(conn.steps, conn.capture, time.monotonic() - t0, sent)


def echo_once(srv, text: str = "still serving?") -> str:
    from websockets.sync.client import connect

    with connect(f"wss://localhost:{srv.port}/ws", ssl=ssl.create_default_context(cafile=srv.ca_path),
                 open_timeout=5, close_timeout=2) as ws:
        ws.send(text)
        return ws.recv(timeout=5)


# --- connect: scripted servers ----------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    from wssviz.live.certs import CA, Identity

    ca = CA.create("corpus CA")
    folder = tmp_path_factory.mktemp("pki")
    cafile = folder / "ca.pem"
    cafile.write_text(ca.cert_pem)
    now = dt.datetime.now(dt.timezone.utc)
    return {
        "cafile": str(cafile),
        "good": ca.issue(["localhost", "127.0.0.1"]),
        "expired": ca.issue(["localhost"], not_before=now - dt.timedelta(days=30),
                            not_after=now - dt.timedelta(days=1)),
        "other_host": ca.issue(["other.example"]),
        "self_signed": self_signed("localhost", Identity),
    }


def self_signed(host: str, Identity):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .sign(key, hashes.SHA256()))
    return Identity(cert.public_bytes(serialization.Encoding.PEM).decode(),
                    key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode())


class RawServer:
    """Accepts one connection on 127.0.0.1 and runs ``script(sock)`` in a thread; TLS
    with ``identity`` (a failed server handshake ends the script quietly)."""

    def __init__(self, script: Callable[[socket.socket], None], identity=None) -> None:
        self.script = script
        self.identity = identity
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.listener.settimeout(10)
        try:
            conn, _ = self.listener.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.settimeout(10)
            try:
                if self.identity is not None:
                    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                    self.identity.load_into(ctx)
                    try:
                        conn = ctx.wrap_socket(conn, server_side=True)
                    except (ssl.SSLError, OSError):
                        return  # the client refused us: expected for the certificate cases
                self.script(conn)
            finally:
                conn.close()
        except (OSError, ssl.SSLError) as exc:
            self.error = exc
        finally:
            self.listener.close()

    def __enter__(self) -> "RawServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.thread.join(15)


def drain(conn: socket.socket, seconds: float) -> bytes:
    """Read what the client sends until it closes, or ``seconds`` pass."""
    return recv_until(conn, lambda d: False, seconds)


def run_client(url: str, **kw):
    from wssviz.live.connect import ClientSession

    t0 = time.monotonic()
    session = ClientSession(url, timeout=CONNECT_TIMEOUT, **kw)
    steps = session.run_all()
    return session, steps, time.monotonic() - t0


def connect_frames(case: Case) -> Outcome:
    """A raw ws:// server: answers the upgrade, echoes the client's "Hello" (the frame
    before the fault), sends the case's frames when the client's ping comes (or right
    after its 101, ``with_handshake``), answers pings and the Close."""
    from wssviz.core.deflate import DeflateParams

    send = case.send
    payload = send["frames"]
    early = bool(send.get("with_handshake"))
    box: dict[str, Any] = {"prefix": 0}

    def send_payload(conn: socket.socket) -> None:
        if send.get("per_byte"):
            for b in payload:
                conn.sendall(bytes([b]))
                time.sleep(0.002)
        else:
            conn.sendall(payload)

    def script(conn: socket.socket) -> None:
        head, rest = read_head(conn)
        key = next(line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")
                   if line.lower().startswith(b"sec-websocket-key:"))
        resp = C.response(b"Sec-WebSocket-Extensions: permessage-deflate\r\n" if send.get("deflate") else b"",
                          accept=accept_for(key))
        box["head"] = len(resp)
        conn.sendall(resp + (payload if early else b""))
        sent, closed, echoed = early, early and 8 in frame_opcodes(payload), False
        buf = bytearray(rest)
        deadline = time.monotonic() + case.expect.get("seconds", 10)
        while time.monotonic() < deadline:
            for g in read_frames(buf):
                if g.opcode in (1, 2) and not echoed and not closed:
                    echo = C.frame(1, C.BEFORE, mask=None)
                    conn.sendall(echo)
                    echoed = True
                    box["prefix"] = box["prefix"] or (0 if early else len(echo))
                elif g.opcode == 9:
                    if not sent:
                        send_payload(conn)
                        sent, closed = True, 8 in frame_opcodes(payload)
                    if not closed:
                        conn.sendall(C.frame(10, g.payload, mask=None))
                elif g.opcode == 8:
                    if not closed:
                        conn.sendall(C.frame(8, g.payload[:2], mask=None))
                    return
            try:
                conn.settimeout(max(0.1, deadline - time.monotonic()))
                piece = conn.recv(65536)
            except (TimeoutError, socket.timeout, OSError):
                return
            if not piece:
                return
            buf += piece

    with RawServer(script) as server:
        session, steps, took = run_client(f"ws://127.0.0.1:{server.port}/",
                                          deflate=DeflateParams() if send.get("deflate") else None)
    messages = [frame_message(s) for s in steps if s.kind == "ws.frame" and s.direction == "s2c"
                and s.raw("ws.frame.opcode") in (0, 1, 2) and s.raw("ws.frame.fin")]
    return Outcome(steps, session.capture, took, payload, box["prefix"], box.get("head", 0),
                   messages if early else messages[1:])


def frame_message(step) -> bytes:
    """The message a final data frame step completes, as its receiver reads it."""
    data = step.raw("ws.frame.message_data")
    if data is not None:
        return data
    shown = step.span_bytes(step.find("ws.frame.payload"))
    key = step.raw("ws.frame.masking_key")
    return C.xor(shown, key) if key else shown


def connect_handshake(case: Case) -> Outcome:
    from wssviz.core.deflate import DeflateParams

    send = case.send
    box: dict[str, Any] = {}

    def script(conn: socket.socket) -> None:
        head, _ = read_head(conn)
        key = next(line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")
                   if line.lower().startswith(b"sec-websocket-key:"))
        resp = send["response"].replace(b"{accept}", accept_for(key))
        box["sent"] = resp
        box["wrote"] = b""
        try:
            if send.get("per_byte"):
                for b in resp:
                    conn.sendall(bytes([b]))
                    box["wrote"] += bytes([b])
                    time.sleep(send["per_byte"])
            else:
                conn.sendall(resp)
                box["wrote"] = resp
        except OSError:
            return
        drain(conn, 3)

    with RawServer(script) as server:
        session, steps, took = run_client(f"ws://127.0.0.1:{server.port}/",
                                          deflate=DeflateParams() if send.get("deflate") else None)
    out = Outcome(steps, session.capture, took, box.get("sent", b""))
    out.wrote = box.get("wrote", b"")
    return out


def connect_tls(case: Case, pki) -> Outcome:
    send = case.send
    identity = pki[send["cert"]] if send["server"] == "tls" else None

    def script(conn: socket.socket) -> None:
        if send.get("first"):
            conn.sendall(send["first"])
        else:
            recv_until(conn, lambda d: len(d) >= 5 and len(d) >= 5 + int.from_bytes(d[3:5], "big"), 5)
        if send.get("reply"):
            conn.sendall(send["reply"])
        if send.get("close"):
            conn.shutdown(socket.SHUT_WR)
        drain(conn, 3)

    with RawServer(script, identity) as server:
        session, steps, took = run_client(f"wss://localhost:{server.port}/", cafile=pki["cafile"])
    return Outcome(steps, session.capture, took, send.get("first") or send.get("reply") or b"")


# --- the checks -------------------------------------------------------------------------------


def errors(steps) -> list:
    return [s for s in steps if s.kind == "error"]


def explain_steps(steps) -> str:
    """The steps' kinds and rule ids, for a failure message."""
    out = []
    for s in steps:
        if s.kind == "error":
            out.append(f"{s.index}:error[{s.status}]({s.raw('error.layer')},{s.raw('error.rule')},"
                       f"offset={s.raw('error.offset')},by={s.raw('error.by')},{s.raw('error.detail') or ''})")
        elif s.kind == "ws.frame":
            out.append(f"{s.index}:ws.frame[{s.direction},op={s.raw('ws.frame.opcode')},"
                       f"close={s.raw('ws.frame.close_code')},{s.status}]")
        elif s.kind == "http.upgrade_response":
            out.append(f"{s.index}:http.upgrade_response[{s.raw('http.status_code')},{s.status}]")
        else:
            out.append(f"{s.index}:{s.kind}[{s.status}]")
    return " ".join(out)


def check_sound(steps) -> None:
    """Never a bug report in place of a message; every step keeps its contract."""
    bugs = [s for s in errors(steps) if s.raw("error.rule") == "tool.driver_failure"
            or s.raw("error.layer") == "dissector"]
    assert not bugs, f"a driver failure (a bug) instead of a message: {explain_steps(bugs)}"
    for s in steps:
        s.check()


def payload_offset(case: Case, spec: Any) -> int | None:
    """An expected offset: an int, or "payload[+n]": where the first frame's payload begins."""
    if spec is None or isinstance(spec, int):
        return spec
    data = case.send["frames"]
    if spec == "frame2":
        n = data[1] & 0x7F
        size = struct.unpack("!H", data[2:4])[0] if n == 126 else struct.unpack("!Q", data[2:10])[0] \
            if n == 127 else n
        return C.head_size(data) + size
    base = C.head_size(data)
    return base + (int(spec.split("+")[1]) if "+" in spec else 0)


def check_message(case: Case, out: Outcome, *, side: str) -> None:
    """(1) the error step names layer, rule (and offset); the close code sent back.
    ``side``: the side that must notice (``server`` for listen, ``client`` for connect)."""
    steps, exp = out.steps, case.expect
    check_sound(steps)
    shown = explain_steps(steps)
    if exp.get("ok"):
        bad = [s for s in steps if s.status == "error"]
        assert not bad, f"a good input shown as an error: {explain_steps(bad)}"
    if "echo" in exp:  # (a step keeps a long message's first 64 KiB: docs/steps.md)
        want = exp["echo"].encode()
        assert any(m == want or (len(m) >= 1 << 16 and want.startswith(m)) for m in out.messages), \
            f"no echo of the message; got {[m[:40] for m in out.messages[:3]]!r}"
    if exp.get("rules"):
        hits = [s for s in errors(steps) if s.raw("error.rule") in exp["rules"]]
        assert hits, f"no error step with rule {exp['rules']}; steps: {shown}"
        if exp.get("layer"):
            assert any(str(s.raw("error.layer")).startswith(exp["layer"]) for s in hits), \
                f"layer is not {exp['layer']}: {explain_steps(hits)}"
        if not exp.get("warning_only"):
            assert any(s.status == "error" for s in hits), f"only a warning: {explain_steps(hits)}"
        mine = [s for s in hits if s.raw("error.by") == side] or hits
        want = payload_offset(case, exp.get("offset"))
        if exp.get("offset_at"):
            needle, nth, plus = (*exp["offset_at"], 0, 0)[:3]
            want = C.at(out.sent, needle, nth) + plus
        accepted = set()
        if want is not None:
            accepted |= {out.prefix + want, out.head + out.prefix + want}
        if exp.get("msg_offset") is not None:
            accepted.add(exp["msg_offset"])
        if accepted:
            got = [s.raw("error.offset") for s in mine]
            assert any(o in accepted for o in got), \
                f"the offset should be one of {sorted(accepted)}, the {side}'s error steps say {got}: {shown}"
    if exp.get("close") is not None:
        sent_by = "s2c" if side == "server" else "c2s"
        codes = [s.raw("ws.frame.close_code") for s in steps
                 if s.kind == "ws.frame" and s.direction == sent_by and s.raw("ws.frame.opcode") == 8]
        assert exp["close"] in codes, f"the {side} sent close codes {codes}, expected {exp['close']}: {shown}"
    if exp.get("status") is not None:
        codes = [s.raw("http.status_code") for s in steps if s.kind == "http.upgrade_response"]
        assert exp["status"] in codes, f"HTTP status {codes}, expected {exp['status']}"
    if exp.get("cert_check"):
        checks = [s.status for s in steps if s.kind == "tls.cert_check"]
        assert exp["cert_check"] in checks, f"tls.cert_check status {checks}"
    if exp.get("alert"):
        assert any(s.kind == "tls.alert" for s in steps), f"no tls.alert step: {shown}"
    if exp.get("seconds"):
        assert out.took < exp["seconds"] + 5, f"took {out.took:.1f}s"


def signature(steps) -> list[tuple]:
    return [(s.kind, s.direction, s.status, s.raw("error.rule")) for s in steps]


def check_recorded(out: Outcome, *, side_sent: str, plain: bool) -> None:
    """(2) the capture holds the bytes and, saved as a recording and read back, gives the
    same steps that were shown."""
    from wssviz import recording
    from wssviz.dissect import dissect

    cap = out.capture
    stream = cap.stream(side_sent)
    if cap.whole:
        # the bytes that caused the fault (those after it may never have been read)
        first = (out.sent if out.wrote is None else out.wrote)[:14]
        if plain:  # (a peer that trickles may have written a byte more than was read)
            assert first in stream or (stream and out.sent.startswith(stream)), \
                "the capture lacks the bytes that caused the fault"
        else:  # inside TLS records: at least as many bytes crossed
            assert len(stream) >= len(first), "the capture lacks the bytes that caused the fault"
        doc = json.loads(json.dumps(recording.to_document(cap)))
        again = dissect(recording.from_document(doc))
        assert signature(again) == signature(out.steps), (
            "the recording rebuilds other steps than those shown:\n"
            f"  shown:    {explain_steps(out.steps)}\n  replayed: {explain_steps(again)}")
    else:
        assert cap.dropped > 0 and cap.kept <= limits.LIMITS.keep_bytes


def check_before(out: Outcome, *, fault_side: str, frame: bool = True) -> None:
    """(2) what came before the fault is still shown: the upgrade and the first frames."""
    kinds = [s.kind for s in out.steps]
    assert "http.upgrade_request" in kinds and "http.upgrade_response" in kinds, explain_steps(out.steps)
    if not frame:
        return
    d = "c2s" if fault_side == "client" else "s2c"
    first = [s for s in out.steps if s.kind == "ws.frame" and s.direction == d]
    assert first, f"the frame before the fault is gone: {explain_steps(out.steps)}"
    shown = frame_message(first[0])
    assert shown == C.BEFORE, f"the first frame shows {shown!r}"
    err = [s.index for s in errors(out.steps) if s.status == "error"]
    if err:
        assert first[0].index < min(err)


def with_limits(monkeypatch, changes: dict[str, Any]) -> None:
    if changes:
        monkeypatch.setattr(limits, "LIMITS", replace(limits.LIMITS, **changes))


# --- files ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def material(tmp_path_factory):
    """A good recording, a pcapng of it with its key log, and a pcap of the same packets."""
    from wssviz import recording, scenarios
    from wssviz.export.pcapng import keylog_text, write_pcapng
    from wssviz.live.pair import LiveSession

    folder = tmp_path_factory.mktemp("material")
    session = LiveSession(scenarios.load("seed-example"))
    session.run_all()
    doc = json.loads(json.dumps(recording.to_document(session.capture)))
    write_pcapng(session.capture, str(folder / "good.pcapng"))
    (folder / "good.keylog").write_text(keylog_text(session.capture))
    pcapng = (folder / "good.pcapng").read_bytes()
    return {"doc": doc, "pcapng": pcapng, "pcap": pcapng_to_pcap(pcapng), "keylog": folder / "good.keylog"}


def pcapng_to_pcap(data: bytes) -> bytes:
    """The same packets as a classic pcap (little-endian pcapng, one interface)."""
    pos, linktype, units, packets = 0, 1, 10**6, []
    while pos + 12 <= len(data):
        btype, blen = struct.unpack_from("<II", data, pos)
        body = data[pos + 8:pos + blen - 4]
        if btype == 1:
            linktype = struct.unpack_from("<H", body, 0)[0]
            opt = 8
            while opt + 4 <= len(body):
                code, size = struct.unpack_from("<HH", body, opt)
                if code == 0:
                    break
                if code == 9:  # if_tsresol: 10^-n seconds
                    units = 10 ** body[opt + 4]
                opt += 4 + (size + 3) // 4 * 4
        elif btype == 6:
            _iface, hi, lo, caplen, origlen = struct.unpack_from("<IIIII", body, 0)
            ts = (hi << 32) | lo
            usec = ts * 10**6 // units
            packets.append((usec // 10**6, usec % 10**6, body[20:20 + caplen], origlen))
        pos += blen
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)]
    for sec, usec, pkt, origlen in packets:
        out.append(struct.pack("<IIII", sec, usec, len(pkt), origlen) + pkt)
    return b"".join(out)


def edit_recording(doc: dict, edit: str) -> str:
    """The text of the good recording with one edit (cases.py names them)."""
    import copy

    d = copy.deepcopy(doc)
    text = None
    ev = d["events"]
    fact = lambda name: next(e for e in ev if e.get("fact") == name)  # noqa: E731
    chunk = next(e for e in ev if "dir" in e)
    if edit == "deep_text":
        text = '{"format": "wssviz-recording", "version": 1, "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    elif edit == "deep_fact":
        fact("tcp.connect")["value"]["x"] = json.loads("[" * 50 + "]" * 50)
    elif edit == "bigint_version":
        text = json.dumps(d).replace('"version": 1', '"version": 1' + "0" * 5000, 1)
    elif edit == "bigint_extra":
        text = json.dumps(d)[:-1] + ', "extra": ' + "9" * 5000 + "}"
    elif edit.startswith("started="):
        text = json.dumps(d).replace(f'"started": {json.dumps(d["started"])}', f'"started": {edit[8:]}', 1)
    elif edit.startswith("t="):
        chunk["t"] = eval(edit[2:])  # noqa: S307 - our own literals
    elif edit == "value_list":
        fact("tcp.connect")["value"] = [1, 2]
    elif edit.startswith("client="):
        fact("tcp.connect")["value"]["client"] = eval(edit[7:])  # noqa: S307
    elif edit.startswith("verdict_ok="):
        fact("tls.verdict")["value"]["ok"] = eval(edit[11:])  # noqa: S307
    elif edit.startswith("error_params="):
        ev.insert(len(ev) - 1, {"t": ev[-1]["t"], "fact": "error", "value": {
            "layer": "ws", "code": "ws.text_utf8", "params": eval(edit[13:]), "rfc": "RFC 6455 §8.1",  # noqa: S307
            "by": "server", "action_code": "close_code", "action_params": {}}})
    elif edit == "error_unknown_rule":
        ev.insert(len(ev) - 1, {"t": ev[-1]["t"], "fact": "error", "value": {
            "layer": "no such layer", "code": "no.such.rule", "params": {"x": {"msg": "no.such.key"}},
            "rfc": "RFC 0", "by": "martian", "blame": "venus", "action_code": "no_such_action",
            "action_params": {}, "offset": -7}})
    elif edit == "events=[]":
        d["events"] = []
    elif edit.startswith("format="):
        d["format"] = eval(edit[7:])  # noqa: S307
    elif edit.startswith("version="):
        d["version"] = eval(edit[8:])  # noqa: S307
    elif edit == "list":
        text = json.dumps([d])
    elif edit.startswith("hex="):
        chunk["hex"] = eval(edit[4:])  # noqa: S307
    elif edit.startswith("cut="):
        whole = json.dumps(d, indent=1)
        text = whole[:int(edit[4:])]
    else:
        raise ValueError(edit)
    return text if text is not None else json.dumps(d, indent=1)


def capture_bytes(material, name: str) -> bytes:
    pcap, ng = material["pcap"], material["pcapng"]
    if name == "pcap_cut_first":
        return pcap[:24 + 16 + 20]
    if name == "pcap_cut_last":
        return pcap[:-7]
    shb = struct.unpack_from("<I", ng, 4)[0]
    b = bytearray(ng)
    if name == "pcapng_len_huge":
        struct.pack_into("<I", b, shb + 4, 0xFFFFFFF0)
    elif name == "pcapng_len_7":
        struct.pack_into("<I", b, shb + 4, 7)
    elif name == "pcapng_shb_12":
        struct.pack_into("<I", b, 4, 12)
    elif name != "pcapng_good":
        raise ValueError(name)
    return bytes(b)


def scenario_text(name: str) -> str:
    """seed-example, renamed to ``name`` and with the edits of cases.SCENARIO_EDITS."""
    from wssviz.scenarios import bundled

    text = bundled().joinpath("seed-example.toml").read_text(encoding="utf-8")
    text = text.replace('name = "seed-example"', f'name = "{name}"', 1)
    for table, kv in C.SCENARIO_EDITS[name.replace("-", "_")]:
        if table == "":
            key = kv.split("=")[0].strip()
            lines = text.splitlines()
            text = "\n".join(kv if ln.startswith(key + " =") else ln for ln in lines) + "\n"
        elif table == "message0":
            text = text.replace('data = "Hello"\nmask = "37fa213d"', kv, 1)
        else:
            key = kv.split("=")[0].strip()
            lines = text.splitlines()
            if f"[{table}]" in lines:
                start = lines.index(f"[{table}]") + 1
                end = next((i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines))
                body = [ln for ln in lines[start:end] if not ln.startswith(key + " =")]
                lines[start:end] = [kv, *body]
            else:
                lines += ["", f"[{table}]", kv]
            text = "\n".join(lines) + "\n"
    return text


def wssviz(argv: list, cwd: Path, env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    if argv and isinstance(argv[0], bytes):
        cmd = [os.fsencode(sys.executable), b"-m", b"wssviz", *argv]
    else:
        cmd = [sys.executable, "-m", "wssviz", *argv]
    return subprocess.run(cmd, capture_output=True, timeout=timeout, cwd=cwd, env=env)


def run_file_case(case: Case, material, tmp_path: Path) -> None:
    send, exp = case.send, case.expect
    empty, inputs = tmp_path / "empty", tmp_path / "in"
    empty.mkdir()
    inputs.mkdir()
    (inputs / "a-folder").mkdir()
    (inputs / "empty.pem").write_text("")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONWARNINGS": ""}
    env.pop("WSSVIZ_SCENARIOS", None)
    file = None
    if "recording" in send:
        file = inputs / "recording.json"
        file.write_text(edit_recording(material["doc"], send["recording"]), encoding="utf-8")
    elif "capture" in send:
        name = send["capture"]
        file = inputs / ("capture.pcap" if name.startswith("pcap_") else "capture.pcapng")
        file.write_bytes(capture_bytes(material, name))
    if "scenario" in send:
        name = send["scenario"].replace("_", "-")
        folder = inputs / "scenarios"
        folder.mkdir()
        (folder / f"{name}.toml").write_text(scenario_text(name), encoding="utf-8")
        argv = ["--scenarios", str(folder), "run", name, "--json"]
    elif "argv" in send:
        argv = send["argv"]
    else:
        fill = {"{file}": str(file), "{dir}": str(inputs / "a-folder"), "{empty}": str(inputs / "empty.pem")}
        argv = [fill.get(a, a) for a in send["args"]]
    proc = wssviz(argv, empty, env)
    err = proc.stderr.decode("utf-8", "replace")
    out = proc.stdout.decode("utf-8", "replace")
    # (1) the message
    assert "Traceback" not in err, err
    assert proc.returncode == exp["rc"], f"exit status {proc.returncode}, expected {exp['rc']}; stderr: {err!r}"
    if exp["rc"] == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("wssviz"), f"not one line starting wssviz: {err!r}"
        if "recording" in send and out:
            # a recording is printed as it is read: a fault in or after its events ends
            # the printout, what came before stays, each step whole; the message says where
            steps = [json.loads(line) for line in out.splitlines()]
            assert out.endswith("\n") and all(s["index"] == i for i, s in enumerate(steps)), out[-300:]
            assert "events[" in err or "offset" in err or "appears twice" in err, err
        else:
            assert out == "", "a usage error printed steps"
    else:
        steps = [json.loads(line) for line in out.splitlines()]
        rules = [f.get("raw") for s in steps if s["kind"] == "error" for f in s["fields"] if f["id"] == "error.rule"]
        assert any(r in exp["rules"] for r in rules), f"error rules {rules}, expected one of {exp['rules']}"
        # (2) what came before is shown
        kinds = [s["kind"] for s in steps]
        assert "http.upgrade_response" in kinds and kinds[-1] == "tcp.close", kinds
    # (3) the program ended by itself (no hang: subprocess.run's timeout)
    assert os.listdir(empty) == [], "the command left files in the working folder"


async def ui_case(case: Case, opener) -> None:
    from wssviz.ui.app import WssvizApp

    app = WssvizApp(None, opener=opener)
    exp = case.expect
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        for _ in range(100):
            if app.opening is None:
                break
            await pilot.pause(0.05)
        if exp.get("open_error"):
            for _ in range(40):
                if not app.is_running:
                    break
                await pilot.pause(0.05)
        else:
            session = app.session
            # step through every step: each one is drawn
            for _ in range(400):
                before = app.main_screen.index
                await pilot.press("right")
                await pilot.pause(0.01)
                if session.finished and app.main_screen.index >= len(session.steps) - 1:
                    break
                if app.main_screen.index == before and session.finished:
                    await pilot.pause(0.05)
            assert app.is_running, "the interface stopped"
            assert session.finished and app.main_screen.index == len(session.steps) - 1, \
                f"stuck at step {app.main_screen.index} of {len(session.steps)}"
            check_sound(session.steps)
            if exp.get("rules"):
                assert any(s.raw("error.rule") in exp["rules"] for s in errors(session.steps)), \
                    explain_steps(session.steps)
            await pilot.press("q")
    if exp.get("open_error"):
        from wssviz.cli import UserError

        assert isinstance(app.open_error, UserError), f"open_error: {app.open_error!r}"
        assert app.return_value == 2
        assert len(str(app.open_error).splitlines()) == 1


# --- the test -------------------------------------------------------------------------------


def test_the_corpus_keeps_its_promises():
    for cls, n in C.PROMISED_KINDS.items():
        assert len(C.kinds(cls)) >= n, f"{cls}: {len(C.kinds(cls))} kinds, promised {n}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case, request, monkeypatch, tmp_path):
    with_limits(monkeypatch, case.send.get("limits", {}))
    if case.target == "listen":
        srv = request.getfixturevalue("listen")
        if case.cls == "frames":
            out = listen_frames(srv, case)
            check_message(case, out, side="server")
            check_before(out, fault_side="client", frame=not case.send.get("with_handshake"))
            check_recorded(out, side_sent="c2s", plain=False)
        elif case.cls == "handshake":
            out = listen_handshake(srv, case)
            exp = case.expect
            if exp.get("declined") or exp.get("accepted_or_refused"):
                check_sound(out.steps)
                if out.status == 101:
                    assert C.BEFORE in out.messages, f"upgraded but no echo: {explain_steps(out.steps)}"
                    assert not [s for s in out.steps if s.status == "error"], explain_steps(out.steps)
                    if exp.get("declined"):
                        ext = [ln for ln in out.response.split(b"\r\n")
                               if ln.lower().startswith(b"sec-websocket-extensions:")]
                        assert not any(exp["declined"].encode() in ln for ln in ext), ext
                else:
                    assert out.status is not None and 400 <= out.status < 500, out.response[:60]
                    assert any(str(s.raw("error.layer")).startswith("http") for s in errors(out.steps))
            else:
                check_message(case, out, side="server")
                tls = [s.kind for s in out.steps if s.kind.startswith("tls.")]
                assert "tls.client_hello" in tls and "tls.finished" in tls, explain_steps(out.steps)
            check_recorded(out, side_sent="c2s", plain=False)
        else:
            out = listen_tls(srv, case)
            check_message(case, out, side="server")
            assert out.steps[0].kind == "tcp.connect" and out.steps[-1].kind == "tcp.close", \
                explain_steps(out.steps)
            check_recorded(out, side_sent="c2s", plain=True)
        # (3) listen goes on: a new client is served
        monkeypatch.undo()
        assert echo_once(srv) == "still serving?"
    elif case.target == "connect":
        if case.cls == "frames":
            out = connect_frames(case)
            check_message(case, out, side="client")
            check_before(out, fault_side="server", frame=not case.send.get("with_handshake"))
            check_recorded(out, side_sent="s2c", plain=True)
        elif case.cls == "handshake":
            out = connect_handshake(case)
            check_message(case, out, side="client")
            assert [s.kind for s in out.steps][:2] == ["tcp.connect", "http.upgrade_request"], \
                explain_steps(out.steps)
            check_recorded(out, side_sent="s2c", plain=True)
        else:
            out = connect_tls(case, request.getfixturevalue("pki"))
            check_message(case, out, side="client")
            assert [s.kind for s in out.steps][:2] == ["tcp.connect", "tls.client_hello"], explain_steps(out.steps)
            check_recorded(out, side_sent="s2c", plain=True)
        # (3) the session ended by itself, with the TCP close
        assert out.steps[-1].kind == "tcp.close", explain_steps(out.steps)
    elif case.target == "cli":
        run_file_case(case, request.getfixturevalue("material"), tmp_path)
    elif case.target == "ui":
        material = request.getfixturevalue("material")
        path = tmp_path / "recording.json"
        if case.send["recording"] == "listen_rsv1":
            from wssviz import recording

            srv = request.getfixturevalue("listen")
            rsv1 = next(c for c in CASES if c.id == "frames/rsv1_text@listen")
            recording.save(listen_frames(srv, rsv1).capture, path)
        else:
            path.write_text(edit_recording(material["doc"], case.send["recording"]), encoding="utf-8")
        from wssviz import cli

        asyncio.run(ui_case(case, lambda: cli.replay_session(str(path))))
    else:
        raise AssertionError(case.target)
