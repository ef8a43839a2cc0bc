"""`wssviz listen` with real clients: Origin checks, the page, bad clients that must
not stop the server, Ctrl-C, and headless Chromium loading the page."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from wssviz import explain
from wssviz.core import frames as wf
from wssviz.core import handshake as hs
from wssviz.core import tls_records as tr
from wssviz.live.listen import ListenServer
from wssviz.live.page import MESSAGE
from wssviz.steps import Msg


@pytest.fixture
def server(tmp_path):
    srv = ListenServer("127.0.0.1", 0, ca_dir=str(tmp_path), allow_origins=["https://app.example"],
                       handshake_timeout=2.0)
    srv.start()
    yield srv
    srv.stop()


def client_ctx(srv: ListenServer) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=srv.ca_path)


def finished(srv: ListenServer, n: int, timeout: float = 5.0) -> list:
    """The first ``n`` connections, once each is over."""
    deadline = time.monotonic() + timeout
    while len(srv.sessions) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    for conn in srv.sessions[:n]:
        assert conn.done.wait(max(0.1, deadline - time.monotonic()))
    return srv.sessions[:n]


def walk(fields):
    for f in fields:
        yield f
        yield from walk(f.children)


def echo_once(srv: ListenServer, text: str = "ping?", origin: str | None = None) -> str:
    kw = {"origin": origin} if origin else {}
    with connect(f"wss://localhost:{srv.port}/ws", ssl=client_ctx(srv), open_timeout=5, **kw) as ws:
        ws.send(text)
        return ws.recv(timeout=5)


def tls_socket(srv: ListenServer) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    return client_ctx(srv).wrap_socket(raw, server_hostname="localhost")


def test_ca_file_and_banner(server):
    pem = open(server.ca_path).read()
    der = ssl.PEM_cert_to_DER_cert(pem)
    assert server.fingerprint == ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
    assert oct(os.stat(os.path.dirname(server.ca_path)).st_mode & 0o777) == "0o700"
    banner = server.banner()
    assert server.ca_path in banner and server.fingerprint in banner
    assert f"https://localhost:{server.port}/" in banner
    zh = server.banner("zh")  # what a learner reads, in their language
    assert server.ca_path in zh and server.fingerprint in zh and "如何信任它" in zh and "Ctrl-C" in zh


def test_foreign_origin_gets_403_and_server_goes_on(server):
    with pytest.raises(InvalidStatus) as info:
        echo_once(server, origin="https://evil.example")
    assert info.value.response.status_code == 403
    assert echo_once(server, "still here", origin="https://app.example") == "still here"  # allow list
    assert echo_once(server, "own page", origin=f"https://localhost:{server.port}") == "own page"
    refused, allowed, own = finished(server, 3)
    response = next(s for s in refused.steps if s.kind == "http.upgrade_response")
    assert response.raw("http.status_code") == 403
    err = next(s for s in refused.steps if s.kind == "error")
    assert err.raw("error.rule") == "ws.origin_refused" and err.raw("error.rfc") == "RFC 6455 §4.2.2"
    assert err.raw("error.action") == "answered_status"
    assert err.find("error.action").value == Msg("action.answered_status", status=403)
    assert not [s for s in refused.steps if s.kind == "ws.frame"]
    for conn in (allowed, own):
        assert all(s.status == "ok" for s in conn.steps), [explain.summary(s, "en") for s in conn.steps
                                                           if s.status != "ok"]


def test_page_fetch_is_a_plain_request_not_an_error(server):
    with tls_socket(server) as s:
        s.sendall(f"GET / HTTP/1.1\r\nHost: localhost:{server.port}\r\nUser-Agent: test\r\n\r\n".encode())
        body = b""
        while chunk := s.recv(65536):
            body += chunk
    head, _, html = body.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and b"text/html" in head
    assert b"new WebSocket" in html and json.dumps(MESSAGE).encode() in html
    (conn,) = finished(server, 1)
    request = next(s for s in conn.steps if s.kind == "http.upgrade_request")
    response = next(s for s in conn.steps if s.kind == "http.upgrade_response")
    assert request.title == Msg("title.http_request", method="GET", target="/") and request.status == "ok"
    assert request.raw("http.note") == "plain"
    assert response.raw("http.status_code") == 200 and response.status == "ok"
    assert all(s.status == "ok" for s in conn.steps)
    assert not [s for s in conn.steps if s.kind in ("ws.accept", "ws.accept_check")]


def test_garbage_instead_of_tls_then_next_client_is_served(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # plain HTTP on the TLS port
        s.settimeout(3)
        try:
            while s.recv(4096):
                pass
        except (TimeoutError, ConnectionResetError):
            pass
    assert echo_once(server, "after garbage") == "after garbage"
    bad, good = finished(server, 2)
    errs = [s for s in bad.steps if s.kind == "error"]
    assert errs and any(e.raw("error.layer").startswith("tls") for e in errs)
    assert bad.steps[-1].kind == "tcp.close"
    assert [s.kind for s in good.steps].count("ws.frame") >= 4


def test_silent_client_times_out(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        t = time.monotonic()
        s.settimeout(5)
        assert s.recv(10) == b""  # the server gives up and closes
        assert time.monotonic() - t < 4
    (conn,) = finished(server, 1)
    err = next(s for s in conn.steps if s.kind == "error")
    assert err.raw("error.rule") == "tcp.client_silent"
    assert [s.kind for s in conn.steps] == ["tcp.connect", "error", "tcp.close"]


def test_unmasked_client_frame_is_failed_with_1002(server):
    with tls_socket(server) as s:
        key = hs.new_key()
        s.sendall(hs.build_request(f"localhost:{server.port}", "/ws", key))
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(4096)
        head, _, rest = head.partition(b"\r\n\r\n")
        assert hs.check_response(hs.parse_response(head + b"\r\n\r\n"), key=key) == []
        s.sendall(wf.serialize(wf.Frame(wf.Opcode.TEXT, b"not masked")))
        data = rest
        while (parsed := wf.parse_frame(data)) is None:
            data += s.recv(4096)
    frame, _ = parsed
    assert frame.opcode == wf.Opcode.CLOSE and wf.parse_close(frame.payload)[0] == 1002
    (conn,) = finished(server, 1)
    err = next(s for s in conn.steps if s.kind == "error" and s.raw("error.broken_by") == "client")
    assert err.raw("error.rule") == "ws.client_unmasked" and err.raw("error.rfc").startswith("RFC 6455 §5")
    assert err.raw("error.action") == "close_code"
    assert err.find("error.action").value == Msg("action.close_code", code=wf.close_code_word(1002))


@pytest.mark.parametrize("lang_args, chinese", [([], True), (["--lang", "en"], False)],
                         ids=["zh-locale", "lang-en-over-zh-locale"])
def test_cli_listen_json_and_ctrl_c(tmp_path, lang_args, chinese):
    """Run under a Chinese locale: the steps speak Chinese unless --lang says otherwise."""
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path), LANG="zh_CN.UTF-8", LC_ALL="", LC_MESSAGES="")
    proc = subprocess.Popen([sys.executable, "-m", "wssviz", "listen", "--port", "0", "--json", *lang_args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        banner = ""
        while "Ctrl-C" not in banner:
            line = proc.stderr.readline()
            assert line, banner
            banner += line
        port = int(re.search(r"127\.0\.0\.1:(\d+)", banner)[1])  # in either language
        ca = re.search(r"(/\S+listen-ca\.pem)", banner)[1]
        assert ("CA 证书" in banner) == chinese
        assert ca.startswith(str(tmp_path))
        ctx = ssl.create_default_context(cafile=ca)
        with connect(f"wss://localhost:{port}/ws", ssl=ctx, open_timeout=5) as ws:
            ws.send("via the CLI")
            assert ws.recv(timeout=5) == "via the CLI"
        lines = []  # (the server never waits for us to read: its printer has a queue)
        while not lines or lines[-1]["kind"] != "tcp.close":
            lines.append(json.loads(proc.stdout.readline()))
        assert {d["session"] for d in lines} == {0}
        assert [d["index"] for d in lines] == list(range(len(lines)))
        assert set(lines[0]) == {"index", "kind", "direction", "title", "summary", "wire", "data",
                                 "fields", "status", "time", "session"}
        han = re.compile(r"[\u4e00-\u9fff]")
        assert all(bool(han.search(d["title"] + d["summary"])) == chinese for d in lines), \
            [d["title"] for d in lines]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def chromium_status(url: str, profile: str, timeout: float = 30.0) -> str:
    """Open ``url`` in headless Chromium and wait until the page's status line says it
    is done or failed."""
    from helpers_browser import Browser

    with Browser(url, profile, timeout=timeout, extra=("--ignore-certificate-errors",)) as b:
        return b.wait_for("document.getElementById('status')?.textContent || ''",
                          lambda v: str(v).startswith(("done", "failed"))) or ""


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_headless_chromium_loads_the_page_and_exchanges_a_message(server, tmp_path):
    status = chromium_status(server.url, str(tmp_path / "profile"))
    assert status == f'done: echo "{MESSAGE}"'
    sessions = finished(server, len(server.sessions))
    page = [c for c in sessions if any(s.kind == "http.upgrade_request" and s.raw("http.note") == "plain"
                                       and s.title == Msg("title.http_request", method="GET", target="/")
                                       for s in c.steps)]
    ws = [c for c in sessions if any(s.kind == "ws.frame" for s in c.steps)]
    assert page and ws
    steps = ws[0].steps
    hello = next(s for s in steps if s.kind == "tls.client_hello")
    grease = [f for f in walk(hello.fields)
              if f.id == "tls.ext.grease" or (f.id in ("tls.client_hello.suite", "tls.ext.supported_groups.group",
                                                        "tls.ext.supported_versions.version")
                                              and tr.is_grease(f.raw))]
    assert grease, "Chromium's ClientHello carries GREASE values (RFC 8701)"
    request = hs.parse_request(next(s for s in steps if s.kind == "http.upgrade_request").data)
    assert "Chrome" in request.get("User-Agent") and request.get("Origin") == server.url.rstrip("/")
    # Chromium offers permessage-deflate and listen accepts it: both frames are
    # compressed on the wire (RSV1) and shown inflated
    response = hs.parse_response(next(s for s in steps if s.kind == "http.upgrade_response").data)
    assert response.get("Sec-WebSocket-Extensions").startswith("permessage-deflate")
    sent = next(s for s in steps if s.kind == "ws.frame" and s.direction == "c2s")
    assert sent.raw("ws.frame.mask") is True and sent.has("ws.frame.unmasked_payload")
    frame, _ = wf.parse_frame(sent.data)
    assert frame.rsv1 and frame.payload != MESSAGE.encode()  # compressed
    assert sent.data[-len(frame.payload):] != frame.payload  # as it crossed: masked
    assert sent.raw("ws.frame.message_data") == MESSAGE.encode()  # inflated
    assert MESSAGE in explain.value(sent.find("ws.frame.unmasked_payload"), "en")
    echo = next(s for s in steps if s.kind == "ws.frame" and s.direction == "s2c")
    assert echo.raw("ws.frame.rsv1") is True and echo.has("ws.frame.application_data")
    assert echo.raw("ws.frame.message_data") == MESSAGE.encode()
    assert all(s.status == "ok" for s in steps), [explain.summary(s, "en") for s in steps if s.status != "ok"]


def test_the_listen_ca_is_the_same_on_every_run(tmp_path):
    from wssviz.live.listen import ListenServer

    first = ListenServer(port=0, ca_dir=str(tmp_path))
    first.listener.close()
    again = ListenServer(port=0, ca_dir=str(tmp_path))
    again.listener.close()
    assert again.fingerprint == first.fingerprint
    key = tmp_path / "listen-ca.key"
    assert key.exists() and (key.stat().st_mode & 0o777) == 0o600
    (tmp_path / "listen-ca.key").write_text("not a key")
    fresh = ListenServer(port=0, ca_dir=str(tmp_path))
    fresh.listener.close()
    assert fresh.fingerprint != first.fingerprint  # an unusable key makes a new CA


# --- bounded memory, and room for new clients ---------------------------------------------------


def test_listen_keeps_only_the_last_finished_sessions(server, monkeypatch):
    from wssviz.live import listen

    monkeypatch.setattr(listen, "KEEP_FINISHED", 3)
    numbers = []
    for i in range(6):
        with connect(f"wss://localhost:{server.port}/ws", ssl=client_ctx(server), open_timeout=5) as ws:
            ws.send(f"message {i}")
            assert ws.recv(timeout=5) == f"message {i}"
        deadline = time.monotonic() + 5
        while not any(c.number == i and c.done.is_set() for c in server.sessions) and time.monotonic() < deadline:
            time.sleep(0.02)
        numbers.append([c.number for c in server.sessions])
    assert numbers[-1] == [3, 4, 5]  # the older ones (their steps already printed) are gone


def test_a_connection_keeps_a_bounded_capture(server, monkeypatch):
    from wssviz.live import listen

    from dataclasses import replace

    from wssviz.core import limits

    monkeypatch.setattr(limits, "LIMITS", replace(limits.LIMITS, keep_bytes=64 * 1024))
    big = "x" * 200_000
    with connect(f"wss://localhost:{server.port}/ws", ssl=client_ctx(server), open_timeout=5,
                 compression=None) as ws:
        ws.send(big)
        assert ws.recv(timeout=5) == big
    (conn,) = finished(server, 1)
    assert conn.capture.dropped > 2 * 200_000 - 64 * 1024 and conn.capture.kept <= 64 * 1024
    sent = next(s for s in conn.steps if s.kind == "ws.frame" and s.direction == "c2s")
    assert sent.raw("ws.frame.payload_length") == 200_000 and sent.status == "ok"
    assert len(sent.data) < 70_000 and sent.raw("ws.frame.not_shown") > 130_000


def test_an_idle_upgraded_client_is_closed_with_1001(tmp_path):
    srv = ListenServer("127.0.0.1", 0, ca_dir=str(tmp_path), idle_timeout=0.5)
    srv.start()
    try:
        with connect(f"wss://localhost:{srv.port}/ws", ssl=client_ctx(srv), open_timeout=5) as ws:
            time.sleep(1.2)
            with pytest.raises(Exception):
                ws.recv(timeout=2)
            assert ws.close_code == 1001
    finally:
        srv.stop()


def test_idle_clients_make_room_for_a_new_one(server, monkeypatch):
    from wssviz.live import listen

    import contextlib

    from dataclasses import replace

    from wssviz.core import limits

    monkeypatch.setattr(limits, "LIMITS", replace(limits.LIMITS, max_per_address=4))
    with contextlib.ExitStack() as stack:
        idle = [stack.enter_context(connect(f"wss://localhost:{server.port}/ws", ssl=client_ctx(server),
                                            open_timeout=5)) for _ in range(4)]
        for ws in idle:
            ws.send("hi")
            assert ws.recv(timeout=5) == "hi"
        with connect(f"wss://localhost:{server.port}/ws", ssl=client_ctx(server), open_timeout=5) as new:
            new.send("served")
            assert new.recv(timeout=5) == "served"
        first = idle[0]
        with pytest.raises(Exception):
            first.recv(timeout=5)
        assert first.close_code == 1001  # the longest silent one was asked to go
        assert idle[1].close_code is None  # the others were not


def test_a_ca_key_others_can_read_is_never_reused(tmp_path):
    from wssviz.live.certs import CA

    first = CA.load_or_create(str(tmp_path), "listen-ca", "wssviz listen CA")
    key = tmp_path / "listen-ca.key"
    assert key.stat().st_mode & 0o777 == 0o600 and not first.replaced
    assert CA.load_or_create(str(tmp_path), "listen-ca", "wssviz listen CA").cert == first.cert  # kept
    key.chmod(0o644)
    again = CA.load_or_create(str(tmp_path), "listen-ca", "wssviz listen CA")
    assert again.cert != first.cert and again.replaced == f"{key} (mode 0644)"
    assert key.stat().st_mode & 0o777 == 0o600
    key.chmod(0o640)
    told = ListenServer("127.0.0.1", 0, ca_dir=str(tmp_path))  # listen says so, in both languages
    told.listener.close()
    assert "could be read by other users" in told.banner() and "其他用户也能读取" in told.banner("zh")
    srv = ListenServer("127.0.0.1", 0, ca_dir=str(tmp_path))
    try:
        assert "note:" not in srv.banner()  # the new key is private again
    finally:
        srv.listener.close()
