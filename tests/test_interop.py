"""Interop over real TLS on 127.0.0.1: our client against a `websockets` server, and a
`websockets` client against our listen server.  Both sides are real OpenSSL stacks
that share nothing with wssviz but the CA certificate."""

from __future__ import annotations

import asyncio
import ssl
import threading

import pytest
from websockets.asyncio.server import serve
from websockets.sync.client import connect

from wssviz import explain
from wssviz.core import frames as wf
from wssviz.core import handshake as hs
from wssviz.dissect import dissect
from wssviz.live.certs import CA
from wssviz.live.connect import ClientSession
from wssviz.live.listen import ListenServer
from wssviz.plain import to_json


class WebsocketsServer:
    """A `websockets` echo server in its own thread and event loop."""

    def __init__(self, ssl_context: ssl.SSLContext | None) -> None:
        self.ssl_context = ssl_context
        self.received: list[str | bytes] = []
        self.request_headers: list[dict[str, str]] = []
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _echo(self, ws) -> None:
        self.request_headers.append(dict(ws.request.headers.raw_items()))
        async for message in ws:
            self.received.append(message)
            await ws.send(message)

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with serve(self._echo, "127.0.0.1", 0, ssl=self.ssl_context) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stop.wait()

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._main())
        self._loop.close()

    def __enter__(self) -> "WebsocketsServer":
        self._thread.start()
        assert self._ready.wait(5), "websockets server did not start"
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5)


@pytest.fixture
def ca_files(tmp_path):
    ca = CA.create()
    identity = ca.issue(["localhost", "127.0.0.1"])
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(ca.cert_pem)
    return ca, identity, str(ca_file)


def server_context(identity, version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if version is not None:
        ctx.maximum_version = version
    identity.load_into(ctx)
    return ctx


def kinds(steps) -> list[tuple[str, str]]:
    return [(s.kind, s.direction) for s in steps]


def frames(steps, direction: str) -> list:
    return [s for s in steps if s.kind == "ws.frame" and s.direction == direction]


def unmask(step) -> bytes:
    """The payload of a frame step, unmasked with the key its own fields show."""
    frame, _ = wf.parse_frame(step.data)
    key = step.raw("ws.frame.masking_key")
    assert key == frame.mask_key
    start = len(step.data) - len(frame.payload)
    return wf.apply_mask(step.data[start:], key)


def assert_clean_session(steps) -> None:
    bad = [(s.index, s.kind, explain.summary(s, "en")) for s in steps if s.status != "ok"]
    assert not bad, bad


@pytest.mark.parametrize("version", [None, ssl.TLSVersion.TLSv1_2], ids=["tls1.3", "tls1.2"])
def test_our_client_against_websockets_server(ca_files, version):
    _ca, identity, ca_file = ca_files
    with WebsocketsServer(server_context(identity, version)) as server:
        session = ClientSession(f"wss://localhost:{server.port}/chat?room=1", cafile=ca_file,
                                protocols=(), send=("Hello",), timeout=5.0)
        steps = session.run_all()
    assert server.received == ["Hello"]
    assert server.request_headers[0]["Host"] == f"localhost:{server.port}"
    assert_clean_session(steps)
    seq = kinds(steps)
    if version is None:
        for k in [("tls.encrypted_extensions", "s2c"), ("tls.certificate", "s2c"),
                  ("tls.certificate_verify", "s2c"), ("tls.finished", "s2c"), ("tls.finished", "c2s")]:
            assert k in seq, k
        # the handshake messages were decrypted with our own key log: data is the message itself
        ee = next(s for s in steps if s.kind == "tls.encrypted_extensions")
        assert ee.data[0] == 8 and ee.data != ee.wire[5:]
    else:
        for k in [("tls.server_key_exchange", "s2c"), ("tls.client_key_exchange", "c2s"),
                  ("tls.change_cipher_spec", "c2s"), ("tls.finished", "s2c")]:
            assert k in seq, k
    check = next(s for s in steps if s.kind == "tls.cert_check")
    assert check.status == "ok" and check.raw("tls.cert_check.verdict") == "ok"
    if version is None:  # TLS 1.3: OpenSSL's verdict exists before the client's Finished
        assert check.raw("tls.cert_check.openssl") is True
    request = next(s for s in steps if s.kind == "http.upgrade_request")
    assert request.data.startswith(b"GET /chat?room=1 HTTP/1.1\r\n")
    key = hs.parse_request(request.data).get("Sec-WebSocket-Key")
    accept = next(s for s in steps if s.kind == "ws.accept_check")
    assert accept.status == "ok" and accept.raw("ws.accept_check.received") == hs.derive_accept(key).accept
    assert accept.raw("ws.accept_check.verdict") is True
    # ws frames, as they crossed: ours masked, the server's not
    c2s, s2c = frames(steps, "c2s"), frames(steps, "s2c")
    assert [s.raw("ws.frame.opcode") for s in c2s] == [0x1, 0x9, 0x8]
    assert [s.raw("ws.frame.opcode") for s in s2c] == [0x1, 0xA, 0x8]
    assert unmask(c2s[0]) == b"Hello" and c2s[0].has("ws.frame.unmasked_payload")
    assert c2s[0].raw("ws.frame.mask") is True
    assert s2c[0].raw("ws.frame.mask") is False and payload(s2c[0]) == b"Hello"
    assert s2c[0].has("ws.frame.application_data")
    assert unmask(c2s[1]) == unmask_payload_of(s2c[1])
    assert c2s[2].raw("ws.frame.close_code") == 1000 and s2c[2].raw("ws.frame.close_code") == 1000
    assert seq[-1][0] == "tcp.close"
    # the recording rebuilds the very same steps
    assert [to_json(s, "en") for s in dissect(session.capture)] == [to_json(s, "en") for s in steps]


def payload(step) -> bytes:
    """The payload bytes of a frame step as they crossed (``ws.frame.payload``'s span)."""
    return step.span_bytes(step.find("ws.frame.payload"))


def unmask_payload_of(step) -> bytes:
    frame, _ = wf.parse_frame(step.data)
    return frame.payload


def test_our_client_plain_ws_against_websockets_server():
    with WebsocketsServer(None) as server:
        steps = ClientSession(f"ws://127.0.0.1:{server.port}/", send=("one", "two")).run_all()
    assert server.received == ["one", "two"]
    assert_clean_session(steps)
    assert not any(s.layer == "tls" for s in steps)
    echoed = [payload(s) for s in frames(steps, "s2c")]
    assert echoed[:2] == [b"one", b"two"]
    assert all(s.raw("ws.frame.opcode") == 1 for s in frames(steps, "s2c")[:2])
    request = next(s for s in steps if s.kind == "http.upgrade_request")
    assert request.wire == request.data  # ws:// shows its own bytes on the wire


def test_websockets_client_against_listen_server(tmp_path):
    server = ListenServer("127.0.0.1", 0, ca_dir=str(tmp_path))
    server.start()
    try:
        ctx = ssl.create_default_context(cafile=server.ca_path)
        with connect(f"wss://localhost:{server.port}/ws", ssl=ctx, open_timeout=5) as ws:
            ws.send("Hello")
            assert ws.recv(timeout=5) == "Hello"
            assert ws.ping(b"are you there?").wait(5)
        conn = server.sessions[0]
        assert conn.done.wait(5)
    finally:
        server.stop()
    steps = conn.steps
    assert_clean_session(steps)
    hello = next(s for s in steps if s.kind == "tls.client_hello")
    assert hello.direction == "c2s" and hello.raw("tls.ext.server_name.host_name") == "localhost"
    assert "localhost" in explain.summary(hello, "en")  # the client's own SNI, shown
    request = next(s for s in steps if s.kind == "http.upgrade_request")
    assert b"websockets" in hs.parse_request(request.data).get("User-Agent").encode()
    response = next(s for s in steps if s.kind == "http.upgrade_response")
    assert response.raw("http.status_code") == 101
    c2s, s2c = frames(steps, "c2s"), frames(steps, "s2c")
    assert all(s.raw("ws.frame.mask") is True for s in c2s)
    assert all(s.raw("ws.frame.mask") is False for s in s2c)
    # websockets offers permessage-deflate and listen accepts it: the text crosses
    # compressed (RSV1) and each step shows it inflated
    assert response.raw("http.status_code") == 101 and "permessage-deflate" in \
        hs.parse_response(response.data).get("Sec-WebSocket-Extensions")
    assert c2s[0].raw("ws.frame.rsv1") is True and unmask(c2s[0]) != b"Hello"
    assert c2s[0].raw("ws.frame.message_data") == s2c[0].raw("ws.frame.message_data") == b"Hello"
    assert [s.raw("ws.frame.opcode") for s in c2s] == [0x1, 0x9, 0x8]
    assert [s.raw("ws.frame.opcode") for s in s2c] == [0x1, 0xA, 0x8]
    assert steps[-1].kind == "tcp.close"
    assert [to_json(s, "en") for s in dissect(conn.capture)] == [to_json(s, "en") for s in steps]


@pytest.mark.tools
@pytest.mark.parametrize("tls", ["1.3", "1.2"])
def test_connect_deflate_record_then_export_opens_in_tshark(ca_files, tmp_path, tls):
    """`connect --deflate --record` against a compressing `websockets` server, then
    `export`: tshark decrypts the pcapng with no key file and inflates every message."""
    import json
    import shutil
    import subprocess
    import sys

    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed (.ci/run installs it)")
    _ca, identity, ca_file = ca_files
    record, pcapng = tmp_path / "r.json", tmp_path / "x.pcapng"
    sent = ["Hello " * 20, "compressed twice, " * 10]
    with WebsocketsServer(server_context(identity)) as server:
        out = subprocess.run([sys.executable, "-m", "wssviz", "connect", f"wss://localhost:{server.port}/",
                              "--cafile", ca_file, "--tls", tls, "--deflate", "--record", str(record),
                              *sum((["--send", t] for t in sent), []), "--json"],
                             capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    steps = [json.loads(line) for line in out.stdout.splitlines()]
    frames_ = [s for s in steps if s["kind"] == "ws.frame"]
    compressed = [s for s in frames_ if any(f["id"] == "ws.frame.rsv1" and f["raw"] for f in s["fields"])]
    assert len(compressed) == 4, [s["summary"] for s in frames_]  # two messages each way
    assert not (tmp_path / "r.json.events").exists()
    replayed = subprocess.run([sys.executable, "-m", "wssviz", "replay", str(record), "--json"],
                              capture_output=True, text=True, timeout=60)
    assert replayed.stdout.splitlines() == out.stdout.splitlines()  # the recording is the session
    done = subprocess.run([sys.executable, "-m", "wssviz", "export", str(record), "--pcapng", str(pcapng)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    shark = subprocess.run(["tshark", "-r", str(pcapng), "-Y", "websocket", "-T", "fields",
                            "-e", "websocket.rsv", "-e", "websocket.payload.text"],
                           capture_output=True, text=True, timeout=60)
    texts = [line.split("\t")[-1] for line in shark.stdout.splitlines() if line.split("\t")[-1]]
    assert texts == [sent[0], sent[0], sent[1], sent[1]], shark.stdout


def test_connect_appends_to_sslkeylogfile_and_writes_keylog(ca_files, tmp_path, monkeypatch):
    _ca, identity, ca_file = ca_files
    env_log, own_log = tmp_path / "browser.keys", tmp_path / "own.keys"
    env_log.write_text("# an earlier session\n")
    monkeypatch.setenv("SSLKEYLOGFILE", str(env_log))
    with WebsocketsServer(server_context(identity)) as server:
        session = ClientSession(f"wss://localhost:{server.port}/", cafile=ca_file, keylog=str(own_log),
                                timeout=5.0)
        session.run_all()
    own = own_log.read_text().splitlines()
    import re

    assert own and all(re.fullmatch(r"[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+", line) for line in own), own
    assert set(own) == set(session.capture.keylog)
    assert env_log.read_text().splitlines() == ["# an earlier session", *own]  # appended, not overwritten
