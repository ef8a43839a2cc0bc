"""The --json face: exactly the Step keys of docs/architecture.md §2, one Step per line."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from wssviz.steps import ALL_KINDS, FIELD_KEYS, JSON_KEYS

HEX = re.compile(r"^([0-9a-f]{2})*$")
DOTTED_ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")


@pytest.fixture(scope="module", params=["1.3", "1.2"])
def lines(request):
    out = subprocess.run([sys.executable, "-m", "wssviz", "run", "--tls", request.param, "--json"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def check_field(f, step):
    assert tuple(f) == ("id", "name", "value", "raw", "start", "end", "of", "children") == FIELD_KEYS
    assert isinstance(f["id"], str) and DOTTED_ID.match(f["id"]), f["id"]
    assert isinstance(f["name"], str) and f["name"]
    assert isinstance(f["value"], str)
    assert f["of"] in ("wire", "data", "none")
    assert isinstance(f["start"], int) and isinstance(f["end"], int)
    if f["of"] == "none":
        assert f["start"] == f["end"] == 0
    else:
        assert 0 <= f["start"] <= f["end"] <= len(step[f["of"]]) // 2
    for c in f["children"]:
        check_field(c, step)


def test_every_line_holds_the_contract(lines):
    for i, step in enumerate(lines):
        assert tuple(step) == JSON_KEYS
        assert step["index"] == i
        assert step["kind"] in ALL_KINDS
        assert step["direction"] in ("c2s", "s2c", "client", "server")
        assert step["title"] and step["summary"]
        assert HEX.match(step["wire"]) and HEX.match(step["data"])
        assert step["status"] in ("ok", "warning", "error")
        assert isinstance(step["time"], (int, float)) and round(step["time"], 6) == step["time"]
        if step["direction"] in ("client", "server"):
            assert step["wire"] == ""
        for f in step["fields"]:
            check_field(f, step)


def test_required_kinds_in_protocol_order(lines):
    kinds = [s["kind"] for s in lines]
    must = ["tcp.connect", "tls.client_hello", "tls.server_hello", "tls.certificate",
            "tls.finished", "http.upgrade_request", "ws.accept", "http.upgrade_response",
            "ws.accept_check", "ws.frame", "tls.alert", "tcp.close"]
    positions = [kinds.index(k) for k in must]
    assert positions == sorted(positions)
    assert "tls.keys" in kinds and "tls.cert_check" in kinds
    assert kinds.index("tls.cert_check") < max(i for i, s in enumerate(lines)
                                               if s["kind"] == "tls.finished" and s["direction"] == "c2s")
    assert [s["direction"] for s in lines if s["kind"] == "tls.finished"].count("c2s") == 1


def test_plain_walkthrough_reads_like_a_walkthrough():
    out = subprocess.run([sys.executable, "-m", "wssviz", "run", "--plain"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "[0] " in text and "TCP connection opened" in text
    assert "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in text or "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in text
    assert "Eavesdropper sees:" in text and "RFC: RFC 6455" in text


def test_plain_walkthrough_in_chinese_wraps_by_display_width():
    from wssviz.textwrap_cjk import cells as _cells

    out = subprocess.run([sys.executable, "-m", "wssviz", "run", "--plain", "--lang", "zh"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "窃听者看到：" in out.stdout and "为什么：" in out.stdout
    explained = [l for l in out.stdout.splitlines() if any(_cells(c) == 2 for c in l)]
    assert explained
    assert all(sum(_cells(c) for c in l) <= 102 for l in explained)  # one wide char may overhang
    assert not any(l.lstrip().startswith(("，", "。")) for l in explained)


def test_a_wrong_accept_puts_the_derivation_on_the_client():
    """bad-accept: the 101 is flagged and the Accept derivation is the client's expectation,
    between the response and the check; the default session keeps it on the server."""
    out = subprocess.run([sys.executable, "-m", "wssviz", "run", "bad-accept", "--json"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1, out.stderr  # the session holds error steps
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    kinds = [s["kind"] for s in lines]
    at = kinds.index("http.upgrade_response")
    assert kinds[at:at + 3] == ["http.upgrade_response", "ws.accept", "ws.accept_check"]
    resp, acc = lines[at], lines[at + 1]
    assert resp["status"] == "error" and "now speaks WebSocket" not in resp["summary"]
    assert acc["direction"] == "client" and acc["wire"] == "" and acc["status"] == "ok"
    assert "ws.frame" not in kinds


def test_default_accept_is_derived_on_the_server(lines):
    acc = next(s for s in lines if s["kind"] == "ws.accept")
    resp = next(s for s in lines if s["kind"] == "http.upgrade_response")
    assert acc["direction"] == "server" and acc["index"] + 1 == resp["index"]
    assert resp["status"] == "ok"
