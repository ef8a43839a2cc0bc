"""Two sessions side by side (wssviz/compare.py, ``wssviz compare``): steps aligned by
what they are, every step of each side once and in order, and a summary measured from
the steps (round trips, bytes, the encrypted share, what an eavesdropper reads)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wssviz import compare, scenarios
from wssviz.explain import visibility
from wssviz.live.pair import LiveSession

ROOT = Path(__file__).resolve().parents[1]


def _run(name):
    live = LiveSession(scenarios.load(name))
    return list(live.run_all()), live.capture.scheme


@pytest.fixture(scope="module")
def sessions():
    return {n: _run(n) for n in ("plaintext-ws", "seed-example", "tls12")}


@pytest.mark.parametrize("a, b", [("plaintext-ws", "seed-example"), ("tls12", "seed-example")])
def test_every_step_once_in_order_and_pairs_are_the_same_moment(sessions, a, b):
    (sa, _), (sb, _) = sessions[a], sessions[b]
    rows = compare.align(sa, sb)
    assert [r.a.index for r in rows if r.a] == [s.index for s in sa]
    assert [r.b.index for r in rows if r.b] == [s.index for s in sb]
    for r in rows:
        if r.a and r.b:
            assert (r.a.kind, r.a.direction) == (r.b.kind, r.b.direction)


def test_ws_against_wss(sessions):
    (ws, ws_scheme), (wss, wss_scheme) = sessions["plaintext-ws"], sessions["seed-example"]
    a, b = compare.summary(ws, ws_scheme), compare.summary(wss, wss_scheme)
    assert (a.round_trips, b.round_trips) == (2, 3) and (a.tls, b.tls) == (None, "1.3")
    assert a.encrypted_bytes == 0 and a.readable_steps == a.wire_steps
    assert b.encrypted_share > 0.5 and b.readable_steps < b.wire_steps
    # the same Upgrade request: readable on ws://, encrypted on wss://
    row = next(r for r in compare.align(ws, wss) if r.a and r.a.kind == "http.upgrade_request")
    assert visibility(row.a, ws_scheme) == "clear" and visibility(row.b, wss_scheme) == "encrypted"


def test_tls12_against_tls13(sessions):
    (t12, s12), (t13, s13) = sessions["tls12"], sessions["seed-example"]
    a, b = compare.summary(t12, s12), compare.summary(t13, s13)
    assert (a.tls, b.tls, a.round_trips, b.round_trips) == ("1.2", "1.3", 4, 3)
    assert a.encrypted_share < b.encrypted_share
    row = next(r for r in compare.align(t12, t13) if r.a and r.a.kind == "tls.certificate")
    assert row.b is not None and visibility(row.a, s12) == "clear" and visibility(row.b, s13) == "encrypted"
    assert a.bytes == sum(len(s.wire) for s in t12 if s.direction in ("c2s", "s2c"))


def _wssviz(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "wssviz", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=True).stdout


@pytest.mark.parametrize("a, rtt", [("plaintext-ws", "2"), ("tls12", "4")])
def test_the_command_prints_aligned_steps_and_the_summary_table(tmp_path, a, rtt):
    out = _wssviz("compare", a, "seed-example", "--plain", cwd=tmp_path)
    lines = out.splitlines()
    assert any("Upgrade request: GET /chat" in line and "│" in line and line.count("Upgrade request") == 2
               for line in lines)
    row = next(line for line in lines if line.startswith("round trips before the first WebSocket byte"))
    assert row.split()[-2:] == [rtt, "3"]
    assert any(line.startswith("share of the bytes encrypted") for line in lines)
    zh = _wssviz("--lang", "zh", "compare", a, "seed-example", cwd=tmp_path)
    assert "小结" in zh and "加密字节所占比例" in zh
    rows = [json.loads(line) for line in _wssviz("compare", a, "seed-example", "--json", cwd=tmp_path).splitlines()]
    assert rows[-1]["summary"]["b"]["round_trips"] == 3 and all("a" in r and "b" in r for r in rows[:-1])
    assert os.listdir(tmp_path) == []
