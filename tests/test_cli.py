"""The command line as a tool: --version, usage errors before any interface, library
warnings kept off the terminal, the learner's own scenario folders, and replay's choice
of file type and connection."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers_capture import MASKED_HELLO, UPGRADE_REQUEST, UPGRADE_RESPONSE, make_tls_capture

from wssviz import __version__
from wssviz.capture import Capture
from wssviz.export.pcapng import keylog_text, write_pcapng


def wssviz(*args: str, cwd=None, env=None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wssviz", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=env)


def test_version():
    out = wssviz("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"wssviz {__version__}"


@pytest.mark.parametrize("url", ["http://x/", "https://example.com/", "ws://", "wss://u@h/", "ftp://h/"])
def test_connect_refuses_a_bad_url_before_any_interface(url, tmp_path):
    out = wssviz("connect", url, cwd=tmp_path)
    assert out.returncode == 2
    assert out.stdout == ""  # no escape codes: the interface never started
    assert "\x1b" not in out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("wssviz: connect: ") and "RFC 6455 §3" in lines[0]


def test_connect_refuses_a_folder_or_an_empty_file_as_cafile(tmp_path):
    (tmp_path / "empty.pem").write_text("")
    for cafile, why in ((str(tmp_path), "is a folder"), (str(tmp_path / "empty.pem"), "holds no PEM")):
        out = wssviz("connect", "wss://127.0.0.1:9/", "--cafile", cafile, cwd=tmp_path)
        assert out.returncode == 2 and out.stdout == "" and why in out.stderr, out.stderr
        assert len(out.stderr.splitlines()) == 1


def test_library_warnings_go_to_a_log_not_the_terminal(tmp_path):
    code = ("import warnings; from wssviz.cli import route_warnings; route_warnings(); "
            "warnings.warn('a library complains', DeprecationWarning)")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    env.pop("PYTHONWARNINGS", None)
    out = subprocess.run([sys.executable, "-W", "default", "-c", code], capture_output=True, text=True,
                         env=env)
    assert "a library complains" in out.stderr  # asked for with -W: shown as Python shows it
    out = subprocess.run([sys.executable, "-c", code.replace("DeprecationWarning", "UserWarning")],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 0 and out.stderr == ""
    assert "a library complains" in (tmp_path / "wssviz" / "warnings.log").read_text()


def test_system_store_scan_raises_no_warning():
    """The system store may hold certificates cryptography warns about (a serial number
    that is not positive); scanning it for anchors shows no warning."""
    import warnings

    from wssviz.live.connect import system_anchors_for

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert system_anchors_for([]) == []  # reads every certificate of the store, matches none


# --- scenario folders -------------------------------------------------------------------


@pytest.fixture
def own_folder(tmp_path):
    from wssviz.scenarios import bundled

    text = bundled().joinpath("seed-example.toml").read_text(encoding="utf-8")
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "my-hello.toml").write_text(text.replace('name = "seed-example"', 'name = "my-hello"')
                                          .replace('title = "The textbook wss:// session"',
                                                   'title = "My own hello"'), encoding="utf-8")
    return folder


def test_own_scenario_folder_by_option_and_environment(own_folder, tmp_path):
    out = wssviz("scenarios", "--scenarios", str(own_folder), cwd=tmp_path)
    assert out.returncode == 0
    assert any(line.startswith("my-hello") and str(own_folder) in line for line in out.stdout.splitlines())
    assert "seed-example" in out.stdout  # the bundled ones are still there
    env = {**os.environ, "WSSVIZ_SCENARIOS": str(own_folder)}
    rows = [json.loads(line) for line in wssviz("scenarios", "--json", cwd=tmp_path, env=env).stdout.splitlines()]
    mine = [r for r in rows if r["name"] == "my-hello"]
    assert mine and mine[0]["source"] == str(own_folder / "my-hello.toml")
    assert {r["source"] for r in rows if r["name"] != "my-hello"} == {"bundled"}
    steps = wssviz("--scenarios", str(own_folder), "run", "my-hello", "--json", cwd=tmp_path)
    assert steps.returncode == 0 and len(steps.stdout.splitlines()) > 20


def test_own_scenario_hides_a_bundled_one_of_the_same_name(own_folder, tmp_path):
    from wssviz.scenarios import bundled

    text = bundled().joinpath("seed-example.toml").read_text(encoding="utf-8")
    (own_folder / "seed-example.toml").write_text(text.replace("The textbook wss:// session", "Mine"),
                                                  encoding="utf-8")
    out = wssviz("scenarios", "--json", "--scenarios", str(own_folder), cwd=tmp_path)
    row = next(json.loads(r) for r in out.stdout.splitlines() if json.loads(r)["name"] == "seed-example")
    assert row["title"] == "Mine" and row["source"] != "bundled"


def test_a_scenario_folder_that_does_not_exist_is_a_usage_error(tmp_path):
    out = wssviz("scenarios", "--scenarios", str(tmp_path / "nope"), cwd=tmp_path)
    assert out.returncode == 2 and out.stdout == "" and "is not a folder" in out.stderr
    env = {**os.environ, "WSSVIZ_SCENARIOS": str(tmp_path / "nope")}
    out = wssviz("run", "--json", cwd=tmp_path, env=env)
    assert out.returncode == 2 and out.stdout == "" and "WSSVIZ_SCENARIOS" in out.stderr


# --- replay: what a file is, which connection ------------------------------------------------


def test_file_type_comes_from_the_first_bytes_not_the_name(tmp_path):
    cap = make_tls_capture(True)
    named_json = tmp_path / "capture.json"  # a pcapng, misnamed
    write_pcapng(cap, str(named_json))
    out = wssviz("replay", str(named_json), "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert any(json.loads(line)["kind"] == "ws.frame" for line in out.stdout.splitlines())

    for content, hint in ((b"hello, this is text\n", ""), (b"\x1f\x8b\x08\x00" + bytes(20), "gzip"),
                          (keylog_text(cap).encode(), "--keylog"), (b"[1, 2, 3]", "one JSON object"),
                          (b"", "empty")):
        path = tmp_path / "x.pcap"
        path.write_bytes(content)
        out = wssviz("replay", str(path), "--json", cwd=tmp_path)
        assert out.returncode == 2 and out.stdout == ""
        line, = out.stderr.splitlines()
        assert "neither a recording (JSON) nor a capture (pcap, pcapng)" in line and hint in line
        assert "not JSON" not in line


def _connections_pcap(tmp_path) -> str:
    """Three connections: a refused attempt that carried no byte, a plain HTTP page
    fetch, then the WebSocket (a browser's order)."""
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether
    from scapy.utils import rdpcap, wrpcap

    def pkt(sport, dport, flags, t):
        p = (Ether(src="02:00:00:00:00:0a", dst="02:00:00:00:00:0b") / IP(src="127.0.0.1", dst="127.0.0.1")
             / TCP(sport=sport, dport=dport, flags=flags, seq=1000))
        p.time = t
        return p

    refused = [pkt(50000, 8080, "S", 1_700_000_000.0), pkt(8080, 50000, "RA", 1_700_000_000.001)]
    page = Capture(scheme="ws", server_name="server.example.com", started=1_700_000_000.01)
    page.add_fact(0.0, "tcp.connect", client=["127.0.0.1", 50001], server=["127.0.0.1", 8080])
    page.add_chunk("c2s", 0.001, b"GET / HTTP/1.1\r\nHost: server.example.com\r\n\r\n")
    page.add_chunk("s2c", 0.002, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
    ws = Capture(scheme="ws", server_name="server.example.com", started=1_700_000_000.02)
    ws.add_fact(0.0, "tcp.connect", client=["127.0.0.1", 50002], server=["127.0.0.1", 8080])
    ws.add_chunk("c2s", 0.001, UPGRADE_REQUEST)
    ws.add_chunk("s2c", 0.002, UPGRADE_RESPONSE)
    ws.add_chunk("c2s", 0.003, MASKED_HELLO)
    pkts = list(refused)
    for i, cap in enumerate((page, ws)):
        write_pcapng(cap, str(tmp_path / f"{i}.pcapng"))
        pkts += list(rdpcap(str(tmp_path / f"{i}.pcapng")))
    path = tmp_path / "browser.pcap"
    wrpcap(str(path), sorted(pkts, key=lambda p: p.time))
    return str(path)


def test_replay_opens_the_connection_that_holds_the_websocket(tmp_path):
    path = _connections_pcap(tmp_path)
    out = wssviz("replay", path, "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    steps = [json.loads(line) for line in out.stdout.splitlines()]
    assert any(s["kind"] == "ws.frame" for s in steps)
    assert bytes.fromhex(steps[1]["data"]) == UPGRADE_REQUEST
    listed = [line for line in out.stderr.splitlines() if "connection" in line]
    assert len(listed) == 3
    assert listed[0].startswith("  connection 0") and "no data" in listed[0]
    assert listed[1].startswith("  connection 1") and "no WebSocket upgrade" in listed[1]
    assert listed[2].startswith("→ connection 2") and "WebSocket" in listed[2]
    # the learner can still pick another one
    out = wssviz("replay", path, "--json", "--connection", "1", cwd=tmp_path)
    assert out.returncode == 0
    assert not any(json.loads(line)["kind"] == "ws.frame" for line in out.stdout.splitlines())


def test_holds_websocket_sees_through_tls_with_the_key_log():
    from wssviz.dissect import holds_websocket

    cap = make_tls_capture(True)
    assert holds_websocket(cap)
    cap.keylog = []  # no keys: nothing can be read
    assert not holds_websocket(cap)


def test_replay_of_a_real_browser_capture_opens_its_websocket(tmp_path):
    """Headless Chromium 156 against ``wssviz listen``, captured with tcpdump on loopback
    (its key log from SSLKEYLOGFILE): three refused IPv6 attempts that carried no byte,
    the page and another fetch, then the WebSocket, the sixth connection."""
    from pathlib import Path

    data = Path(__file__).parent / "data"
    out = wssviz("replay", str(data / "chromium-156-listen.pcap"), "--keylog",
                 str(data / "chromium-156-listen.keys"), "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    steps = [json.loads(line) for line in out.stdout.splitlines()]
    request = next(s for s in steps if s["kind"] == "http.upgrade_request")
    assert bytes.fromhex(request["data"]).startswith(b"GET /ws HTTP/1.1\r\n")
    assert sum(s["kind"] == "ws.frame" for s in steps) == 4
    listed = [line for line in out.stderr.splitlines() if " connection " in line]
    assert len(listed) == 6
    assert "[::1]:" in listed[0] and "no data" in listed[0]
    assert listed[5].startswith("→ connection 5") and listed[5].endswith("WebSocket (choose with --connection 5)")


def test_every_limit_is_documented_in_the_readme_and_the_help():
    from dataclasses import fields

    from wssviz.core.limits import Limits, describe

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert describe() in readme  # the same table, defaults included
    help_text = wssviz("--help").stdout
    for f in fields(Limits):
        assert f.name in help_text


@pytest.mark.parametrize("args, why", [
    (["--limit", "max_frame"], "write NAME=VALUE"),
    (["--limit", "nosuch=1"], "no limit is called 'nosuch'"),
    (["--limit", "max_frame=-1MiB"], "not a number"),
    (["--limit", "idle_timeout=nan"], "not a number"),
    (["--limit", "max_frame=1XB"], "unknown unit"),
    (["connect", "ws://127.0.0.1:9/", "--timeout", "inf"], "--timeout"),
    (["connect", "ws://127.0.0.1:9/", "--timeout", "-5"], "--timeout"),
    (["replay", "r.json", "--connection", "-1"], "--connection"),
])
def test_bad_options_are_one_line_usage_errors(args, why, tmp_path):
    extra = ["--json"] if args[0] in ("connect", "replay") else ["scenarios"]
    out = wssviz(*args, *extra, cwd=tmp_path)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("wssviz") and why in lines[0], out.stderr


def test_a_limit_set_on_the_command_line_is_applied(tmp_path):
    """A frame over max_frame is refused by the dissector from its header (1009)."""
    out = wssviz("--limit", "max_frame=64", "run", "large-message", "--json", cwd=tmp_path)
    steps = [json.loads(line) for line in out.stdout.splitlines()]
    errors = [s for s in steps if s["kind"] == "error"]
    rules = [f["raw"] for s in errors for f in s["fields"] if f["id"] == "error.rule"]
    assert "ws.frame_too_big" in rules, rules
