"""The command line end to end: record → export pcapng → tshark and replay."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest


def wssviz(*args: str) -> subprocess.CompletedProcess:
    out = subprocess.run([sys.executable, "-m", "wssviz", *args], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    rec = folder / "r.json"
    steps = [json.loads(l) for l in wssviz("run", "--json", "--record", str(rec)).stdout.splitlines()]
    pcapng = folder / "s.pcapng"
    wssviz("export", str(rec), "--pcapng", str(pcapng), "--keylog", str(folder / "s.keys"))
    return folder, rec, pcapng, steps


def walk(fields):
    for f in fields:
        yield f
        yield from walk(f["children"])


def by_id(step) -> dict:
    """The first --json field with each id (ids and raw values, never the words)."""
    out: dict = {}
    for f in walk(step["fields"]):
        out.setdefault(f["id"], f)
    return out


def frames_from_steps(steps):
    out = []
    for s in steps:
        if s["kind"] != "ws.frame":
            continue
        f = by_id(s)
        opcode = f["ws.frame.opcode"]["raw"]
        key = f["ws.frame.masking_key"]["raw"] if "ws.frame.masking_key" in f else ""
        span = f["ws.frame.payload"]
        assert span["of"] == "data"
        payload = bytes.fromhex(s["data"])[span["start"]:span["end"]]
        if key:
            k = bytes.fromhex(key)
            payload = bytes(b ^ k[i % 4] for i, b in enumerate(payload))
        text = payload.decode("utf-8") if opcode == 1 else ""
        code = str(f["ws.frame.close_code"]["raw"]) if opcode == 8 else ""
        out.append((str(opcode), "1" if f["ws.frame.mask"]["raw"] else "0", key, text, code))
    return out


@pytest.mark.skipif(shutil.which("tshark") is None, reason="needs tshark (installed by .ci/run)")
def test_tshark_decrypts_the_export_with_no_key_file(recorded):
    _, _, pcapng, steps = recorded
    out = subprocess.run(["tshark", "-r", str(pcapng), "-Y", "websocket", "-T", "fields",
                          "-e", "websocket.opcode", "-e", "websocket.mask", "-e", "websocket.masking_key",
                          "-e", "websocket.payload.text", "-e", "websocket.payload.close.status_code"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    seen = [tuple((line.split("\t") + [""] * 5)[:5]) for line in out.stdout.splitlines()]
    seen = [(op, mask, key.replace(":", ""), text, code) for op, mask, key, text, code in seen]
    assert seen == frames_from_steps(steps)
    assert seen[0] == ("1", "1", "37fa213d", "Hello", "")


def test_replay_of_the_pcapng_lists_the_same_kinds(recorded):
    _, _, pcapng, steps = recorded
    replayed = [json.loads(l) for l in wssviz("replay", str(pcapng), "--json").stdout.splitlines()]
    assert [s["kind"] for s in replayed] == [s["kind"] for s in steps]
    # same bytes in every step that crossed the wire
    assert [s["data"] for s in replayed if s["direction"] in ("c2s", "s2c")] == \
        [s["data"] for s in steps if s["direction"] in ("c2s", "s2c")]


def test_capture_without_trust_anchors_says_the_chain_is_not_judged(recorded, tmp_path):
    _, rec, pcapng, _ = recorded
    replayed = [json.loads(l) for l in wssviz("replay", str(pcapng), "--json").stdout.splitlines()]
    check = next(s for s in replayed if s["kind"] == "tls.cert_check")
    assert check["status"] == "warning" and by_id(check)["tls.cert_check.verdict"]["raw"] == "unanchored"
    assert by_id(check)["tls.cert_check.chain"]["raw"] is None
    assert "not judged" in check["summary"]
    ca = tmp_path / "ca.pem"
    ca.write_text(json.loads(rec.read_text())["trust"][0])
    judged = [json.loads(l) for l in wssviz("replay", str(pcapng), "--cafile", str(ca), "--json")
              .stdout.splitlines()]
    check = next(s for s in judged if s["kind"] == "tls.cert_check")
    assert check["status"] == "ok" and by_id(check)["tls.cert_check.verdict"]["raw"] == "ok"


def test_capture_without_keys_shows_the_clear_parts(recorded, tmp_path):
    _, rec, _, _ = recorded
    doc = json.loads(rec.read_text())
    doc["keylog"] = []
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(doc))
    steps = [json.loads(l) for l in wssviz("replay", str(bare), "--json").stdout.splitlines()]
    kinds = [s["kind"] for s in steps]
    assert kinds[:3] == ["tcp.connect", "tls.client_hello", "tls.server_hello"]
    keys = next(s for s in steps if s["kind"] == "tls.keys")
    assert keys["status"] == "warning" and by_id(keys)["tls.keys.missing"]["raw"]
    assert "lacks" in keys["summary"]
    assert any(s["kind"] == "error" and by_id(s)["error.rule"]["raw"] == "tls.no_key" for s in steps)
    assert "ws.frame" not in kinds and kinds[-1] == "tcp.close"


def test_a_session_with_two_connections_exports_two_tcp_streams(tmp_path):
    pcapng = tmp_path / "sr.pcapng"
    wssviz("export", "session-resumption", "--pcapng", str(pcapng))
    from wssviz.pcap_import import read_capture_file

    conns = read_capture_file(str(pcapng))
    assert len(conns) == 2 and conns[0].client != conns[1].client
    second = [json.loads(l) for l in wssviz("replay", str(pcapng), "--connection", "1", "--json")
              .stdout.splitlines()]
    kinds = [s["kind"] for s in second]
    assert kinds[0] == "tcp.connect" and "tls.certificate" not in kinds  # resumed: no certificate
    assert kinds.count("ws.frame") == 4 and all(s["status"] == "ok" for s in second)
