"""`wssviz connect` against servers that misbehave: each ends as an error step that
names layer, rule and RFC section, within its deadline, never as a traceback or a hang.

The servers are small scripts on real sockets (and real OpenSSL) in a thread."""

from __future__ import annotations

import json
import re
import socket
import ssl
import threading
import time
from typing import Callable

import pytest

from wssviz import explain
from wssviz.cli import main
from wssviz.core import frames as wf
from wssviz.core import handshake as hs
from wssviz.live.certs import CA
from wssviz.live.connect import ClientSession, parse_url
from wssviz.steps import Msg


class ScriptedServer:
    """Accepts one connection on 127.0.0.1 and runs ``script(conn)`` on it, where
    ``conn`` is the TCP socket, or the TLS socket when ``identity`` is given."""

    def __init__(self, script: Callable[[socket.socket], None], identity=None) -> None:
        self.script = script
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.ctx = None
        if identity is not None:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            identity.load_into(self.ctx)
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.listener.settimeout(10)
        try:
            conn, _ = self.listener.accept()
            conn.settimeout(10)
            if self.ctx is not None:
                conn = self.ctx.wrap_socket(conn, server_side=True)
            try:
                self.script(conn)
            finally:
                conn.close()
        except (OSError, ssl.SSLError) as exc:
            self.error = exc
        finally:
            self.listener.close()
            self.done.set()

    def __enter__(self) -> "ScriptedServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.wait(10)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    ca = CA.create()
    identity = ca.issue(["localhost", "127.0.0.1"])
    path = tmp_path_factory.mktemp("pki") / "ca.pem"
    path.write_text(ca.cert_pem)
    return identity, str(path)


def read_head(conn: socket.socket) -> bytes:
    buf = b""
    while b"\r\n\r\n" not in buf:
        piece = conn.recv(4096)
        if not piece:
            break
        buf += piece
    return buf


def upgrade(conn: socket.socket) -> None:
    """Read the client's request and answer 101 as RFC 6455 says."""
    req = hs.parse_request(read_head(conn))
    check = hs.check_request(req)
    conn.sendall(hs.build_response(check))


def errors(steps) -> list:
    return [s for s in steps if s.kind == "error"]


def run(url: str, **kw):
    t = time.monotonic()
    steps = ClientSession(url, **kw).run_all()
    return steps, time.monotonic() - t


def test_parse_url():
    t = parse_url("wss://Example.com:8443/chat?x=1")
    assert (t.scheme, t.host, t.port, t.path, t.host_header) == ("wss", "example.com", 8443, "/chat?x=1",
                                                                  "example.com:8443")
    assert parse_url("ws://[::1]/").host_header == "[::1]"
    assert parse_url("wss://h").path == "/" and parse_url("wss://h").port == 443
    for bad in ("http://h/", "wss:///x", "wss://u:p@h/", "wss://h/#frag", "wss://h:99999/"):
        with pytest.raises(ValueError, match="connect"):
            parse_url(bad)


def test_stalling_server_times_out_during_tls(pki):
    _identity, ca_file = pki
    stop = threading.Event()
    with ScriptedServer(lambda conn: stop.wait(5)) as server:  # accepts, never answers
        steps, took = run(f"wss://127.0.0.1:{server.port}/", cafile=ca_file, timeout=0.6)
        stop.set()
    assert took < 3
    kinds = [s.kind for s in steps]
    assert kinds[:2] == ["tcp.connect", "tls.client_hello"]
    (err,) = errors(steps)
    assert err.raw("error.layer") == "tls" and err.raw("error.rule") == "tls.handshake_timeout"
    assert "did not complete the TLS handshake" in explain.value(err.find("error.rule"), "en")
    assert err.raw("error.rfc").startswith("RFC 8446") and err.raw("error.action") == "gave_up_closed_tcp"
    assert kinds[-1] == "tcp.close" and steps[-1].raw("tcp.closed_by") == "client"


def test_server_that_never_answers_the_upgrade(pki):
    identity, ca_file = pki
    stop = threading.Event()

    def script(conn):
        read_head(conn)
        stop.wait(5)

    with ScriptedServer(script, identity) as server:
        steps, took = run(f"wss://localhost:{server.port}/", cafile=ca_file, timeout=0.6)
        stop.set()
    assert took < 3
    assert "tls.cert_check" in [s.kind for s in steps]
    (err,) = errors(steps)
    assert err.raw("error.layer") == "http" and err.raw("error.rule") == "http.response_timeout"
    assert err.raw("error.rfc") == "RFC 6455 §4.1"


def test_server_sends_garbage_frame(pki):
    identity, ca_file = pki

    def script(conn):
        upgrade(conn)
        read_head_or_frame = conn.recv(4096)  # our Hello
        assert read_head_or_frame
        conn.sendall(bytes([0x83, 0x02]) + b"??")  # reserved opcode 0x3
        time.sleep(0.5)

    with ScriptedServer(script, identity) as server:
        steps, took = run(f"wss://localhost:{server.port}/", cafile=ca_file, timeout=2)
    assert took < 4
    err = errors(steps)
    ours = [e for e in err if e.direction == "client" and e.raw("error.broken_by") == "server"
            and e.raw("error.layer") == "ws"]
    assert ours and ours[-1].raw("error.rule") == "ws.reserved_opcode"
    assert ours[-1].raw("error.rfc").startswith("RFC 6455 §5.2")
    assert ours[-1].raw("error.action") == "close_code"
    assert ours[-1].find("error.action").value == Msg("action.close_code", code=wf.close_code_word(1002))
    # what the client did: a masked close frame with 1002
    close = [s for s in steps if s.kind == "ws.frame" and s.direction == "c2s"][-1]
    assert close.raw("ws.frame.opcode") == 8 and close.raw("ws.frame.close_code") == 1002
    assert close.raw("ws.frame.mask") is True
    assert steps[-1].kind == "tcp.close"


def test_server_closes_mid_frame(pki):
    identity, ca_file = pki

    def script(conn):
        upgrade(conn)
        conn.recv(4096)
        conn.sendall(bytes([0x81, 0x7E, 0x01, 0x00]) + b"x" * 20)  # promises 256 bytes, sends 20
        conn.unwrap().close() if hasattr(conn, "unwrap") else None

    with ScriptedServer(script, identity) as server:
        steps, took = run(f"wss://localhost:{server.port}/", cafile=ca_file, timeout=2)
    assert took < 4
    ours = [e for e in errors(steps) if e.raw("error.layer") == "ws"]
    assert ours and ours[0].raw("error.rule") == "ws.closed_inside_frame"
    assert ours[0].raw("error.action") == "abnormal_1006"
    assert steps[-1].kind == "tcp.close" and steps[-1].raw("tcp.closed_by") == "server"


def test_server_closes_without_close_frame_plain_ws():
    def script(conn):
        upgrade(conn)
        conn.recv(4096)
        conn.shutdown(socket.SHUT_WR)
        time.sleep(0.3)

    with ScriptedServer(script) as server:
        steps, took = run(f"ws://127.0.0.1:{server.port}/", timeout=2)
    assert took < 4
    (err,) = errors(steps)
    assert err.raw("error.rule") == "ws.closed_without_close"
    assert explain.value(err.find("error.rule"), "en") == \
        "the server closed the TCP connection without a Close frame"
    assert err.raw("error.rfc").startswith("RFC 6455 §7.1.5")


def test_server_speaks_plain_http_to_a_tls_client(pki):
    _identity, ca_file = pki

    def script(conn):
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        time.sleep(0.3)

    with ScriptedServer(script) as server:
        steps, took = run(f"wss://127.0.0.1:{server.port}/", cafile=ca_file, timeout=2)
    assert took < 4
    err = errors(steps)
    assert err and all(e.status == "error" for e in err)
    assert any(e.raw("error.layer", "").startswith("tls") for e in err)
    assert steps[-1].kind == "tcp.close"


def test_refused_upgrade_and_wrong_accept(pki):
    identity, ca_file = pki

    def script(conn):
        read_head(conn)
        conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
        time.sleep(0.3)

    with ScriptedServer(script, identity) as server:
        steps, _ = run(f"wss://localhost:{server.port}/", cafile=ca_file, timeout=2)
    check = next(s for s in steps if s.kind == "ws.accept_check")
    assert check.status == "error" and check.raw("ws.accept_check.received") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert check.raw("ws.accept_check.verdict") is False
    assert not [s for s in steps if s.kind == "ws.frame"]  # the client failed the connection: no frames


def test_untrusted_certificate_is_refused_then_insecure_goes_on(pki, tmp_path):
    identity, _ca_file = pki
    other = tmp_path / "other-ca.pem"
    other.write_text(CA.create("Some Other CA").cert_pem)
    with ScriptedServer(lambda conn: None, identity) as server:
        steps, _ = run(f"wss://localhost:{server.port}/", cafile=str(other), timeout=2)
    check = next(s for s in steps if s.kind == "tls.cert_check")
    assert check.status == "error" and check.raw("tls.cert_check.openssl") is False
    assert check.raw("tls.cert_check.verdict") == "refused"
    (err,) = errors(steps)
    assert err.raw("error.rule") == "tls.cert_verify_failed" and err.direction == "client"
    alert = next(s for s in steps if s.kind == "tls.alert")
    assert alert.direction == "c2s" and alert.status == "error"

    def script(conn):
        upgrade(conn)
        frame, _ = wf.parse_frame(conn.recv(4096))
        conn.sendall(wf.serialize(wf.Frame(wf.Opcode.TEXT, frame.payload)))
        conn.recv(4096)
        conn.sendall(wf.serialize(wf.Frame(wf.Opcode.PONG, b"wssviz ping")))
        conn.recv(4096)
        conn.sendall(wf.serialize(wf.Frame(wf.Opcode.CLOSE, wf.build_close(1000))))

    with ScriptedServer(script, identity) as server:
        session = ClientSession(f"wss://localhost:{server.port}/", cafile=str(other), insecure=True,
                                timeout=2)
        steps = session.run_all()
        session_facts = lambda _steps, name: session.capture.facts(name)  # noqa: E731
    check = next(s for s in steps if s.kind == "tls.cert_check")
    assert check.raw("tls.cert_check.verdict") == "insecure"  # the chain is still not trusted: shown
    assert check.raw("tls.cert_check.chain") is False
    assert check.status == "warning"  # wssviz's checks fail while the client went on
    assert check.has("tls.cert_check.openssl") and check.raw("tls.cert_check.openssl") is None  # not judged
    assert check.find("tls.cert_check.disagreement") is None
    (verdict,) = session_facts(steps, "tls.verdict")
    assert verdict.value["insecure"] is True and verdict.value["code"] == 0
    assert check.find("tls.cert_check.openssl").value == Msg("value.openssl_insecure")
    assert "--insecure" in explain.value(check.find("tls.cert_check.openssl"), "zh")
    assert not errors(steps)
    echo = [s for s in steps if s.kind == "ws.frame" and s.direction == "s2c"][0]
    assert echo.raw("ws.frame.opcode") == 1 and echo.span_bytes(echo.find("ws.frame.payload")) == b"Hello"


def test_system_store_trust(pki, monkeypatch):
    """Without --cafile the client trusts the system store (here: SSL_CERT_FILE, which
    OpenSSL reads), and the Capture keeps only the anchor that matters."""
    identity, ca_file = pki
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)

    def script(conn):
        upgrade(conn)
        conn.recv(4096)
        conn.sendall(wf.serialize(wf.Frame(wf.Opcode.CLOSE, wf.build_close(1001))))

    with ScriptedServer(script, identity) as server:
        session = ClientSession(f"wss://localhost:{server.port}/", timeout=2)
        steps = session.run_all()
    check = next(s for s in steps if s.kind == "tls.cert_check")
    assert check.status == "ok" and check.raw("tls.cert_check.verdict") == "ok"
    assert session.capture.trust == [open(ca_file).read()]
    # the server closed first with 1001: our client echoed that code, as RFC 6455 §5.5.1 says
    closes = [s for s in steps if s.kind == "ws.frame" and s.raw("ws.frame.opcode") == 8]
    assert [(c.direction, c.raw("ws.frame.close_code")) for c in closes] == [("s2c", 1001), ("c2s", 1001)]


def test_connection_refused():
    s = socket.create_server(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    steps, took = run(f"ws://127.0.0.1:{port}/", timeout=1)
    assert took < 2
    (err,) = errors(steps)
    assert err.raw("error.layer") == "tcp" and err.raw("error.rule") == "tcp.cannot_connect"


def test_lazy_only_clienthello_sent_until_asked(pki):
    identity, ca_file = pki
    with ScriptedServer(lambda conn: read_head(conn), identity) as server:
        session = ClientSession(f"wss://localhost:{server.port}/", cafile=ca_file, timeout=1)
        assert session.ensure(1) >= 2
        assert session.steps[1].kind == "tls.client_hello"
        chunks = session.capture.chunks
        assert [c.direction for c in chunks] == ["c2s"]  # the server's answer is not read yet
        session.restart()  # a fresh connection replaces the old one
        assert session.steps == [] and not session.finished
        session._script.cleanup()


def test_cli_connect_json(pki, capsys):
    identity, ca_file = pki

    def script(conn):
        upgrade(conn)
        for _ in range(3):
            data = conn.recv(4096)
            frame, _ = wf.parse_frame(data)
            if frame.opcode == wf.Opcode.PING:
                conn.sendall(wf.serialize(wf.Frame(wf.Opcode.PONG, frame.payload)))
            elif frame.opcode == wf.Opcode.CLOSE:
                conn.sendall(wf.serialize(wf.Frame(wf.Opcode.CLOSE, frame.payload)))
            else:
                conn.sendall(wf.serialize(wf.Frame(frame.opcode, frame.payload[::-1])))

    with ScriptedServer(script, identity) as server:
        code = main(["connect", f"wss://localhost:{server.port}/", "--cafile", ca_file, "--json",
                     "--send", "[bold]markup?", "--timeout", "2"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    assert [d["index"] for d in lines] == list(range(len(lines)))
    assert set(lines[0]) == {"index", "kind", "direction", "title", "summary", "wire", "data", "fields",
                             "status", "time"}
    texts = [d for d in lines if d["kind"] == "ws.frame" and d["direction"] == "s2c"]
    assert '"?pukram]dlob["' in texts[0]["summary"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cli_connect_plain_speaks_the_chosen_language(pki, capsys, lang):
    identity, ca_file = pki

    def script(conn):
        upgrade(conn)
        for _ in range(3):  # echo the text, answer the ping and the close
            frame, _ = wf.parse_frame(conn.recv(4096))
            opcode = wf.Opcode.PONG if frame.opcode == wf.Opcode.PING else frame.opcode
            conn.sendall(wf.serialize(wf.Frame(opcode, frame.payload)))

    with ScriptedServer(script, identity) as server:
        code = main(["connect", f"wss://localhost:{server.port}/", "--cafile", ca_file, "--plain",
                     "--lang", lang, "--timeout", "2"])
    out = capsys.readouterr().out
    heads = [line for line in out.splitlines() if line.startswith("[")]
    assert code == 0 and len(heads) > 10, out
    han = re.compile(r"[\u4e00-\u9fff]")
    assert all(bool(han.search(h)) == (lang == "zh") for h in heads), heads
    assert ("发生了什么" in out) == (lang == "zh")


def test_cli_connect_bad_url(capsys):
    assert main(["connect", "http://example.com/", "--json"]) == 2
    assert "ws:// or wss://" in capsys.readouterr().err


def test_system_store_without_the_servers_ca_is_judged_and_refused(pki, monkeypatch, tmp_path):
    """A live client says what it trusted: an empty match in the system store is a
    refusal, not the 'not judged' of an imported capture; and the client's late
    handshake key (OpenSSL derives it when it next sends) is not a warning."""
    identity, _ = pki
    empty = tmp_path / "empty.pem"
    empty.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(empty))

    def script(conn):
        time.sleep(0.5)

    with ScriptedServer(script, identity) as server:
        steps = ClientSession(f"wss://localhost:{server.port}/", timeout=2).run_all()
    check = next(s for s in steps if s.kind == "tls.cert_check")
    assert check.status == "error" and check.raw("tls.cert_check.chain") is False
    assert check.find("tls.cert_check.disagreement") is None
    keys = next(s for s in steps if s.kind == "tls.keys")
    assert keys.status == "ok"
