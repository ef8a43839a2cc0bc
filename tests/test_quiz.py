"""The interview drill (wssviz/quiz.py, ``wssviz quiz``): questions built from a
session's steps, answers that an independent reading of ``wssviz run --json``
recomputes, replies judged with partial credit, in both languages."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wssviz import explain, quiz, scenarios
from wssviz.core.msg import Msg
from wssviz.live.pair import LiveSession

ROOT = Path(__file__).resolve().parents[1]


def wssviz(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "wssviz", *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120, check=True)


# --- an independent reading of the steps as `wssviz run --json` prints them ----------


def _walk(fields):
    for f in fields:
        yield f
        yield from _walk(f["children"])


def _raw(step, fid):
    return next((f["raw"] for f in _walk(step["fields"]) if f["id"] == fid), None)


def _header(step, name):
    for f in _walk(step["fields"]):
        if f["id"] == "http.header":
            kids = {c["id"]: c["raw"] for c in f["children"]}
            if str(kids.get("http.header.name", "")).lower() == name.lower():
                return kids["http.header.value"]
    return None


def recompute(steps: list[dict]) -> dict:
    """Each 'bytes' answer worked out from the printed steps alone (RFC 6455, RFC 8446)."""
    first = lambda kind, d=None, ok=lambda s: True: next(  # noqa: E731
        (s for s in steps if s["kind"] == kind and (d is None or s["direction"] == d) and ok(s)), None)
    out = {}
    req, resp = first("http.upgrade_request"), first("http.upgrade_response")
    key = _header(req, "Sec-WebSocket-Key")
    out["accept"] = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                                                  .encode()).digest()).decode()
    data = lambda s: first("ws.frame", s, lambda x: _raw(x, "ws.frame.opcode") in (1, 2))  # noqa: E731
    c = data("c2s")
    frame = bytes.fromhex(c["data"])
    pay = next(f for f in _walk(c["fields"]) if f["id"] == "ws.frame.payload")
    mask = bytes.fromhex(_raw(c, "ws.frame.masking_key"))
    out["unmask"] = bytes(b ^ mask[i % 4] for i, b in enumerate(frame[pay["start"]:pay["end"]])).decode()
    cert = first("tls.certificate", "s2c")
    ctype = _raw(cert, "tls.record.content_type")
    out["cert_readable"] = {"content_type": ctype, "readable": ctype == 22}
    sh = first("tls.server_hello")
    out["suite"] = _raw(sh, "tls.server_hello.cipher_suite")
    out["group"] = _raw(sh, "tls.ext.key_share.entry")
    version = _raw(sh, "tls.server_hello.selected_version") or _raw(sh, "tls.server_hello.legacy_version")
    out["version"] = {0x0304: "1.3", 0x0303: "1.2"}[version]
    hellos = sum(s["kind"] == "tls.client_hello" for s in steps[:resp["index"]])
    out["rtt"] = 1 + hellos + (version == 0x0303) + 1
    close = first("ws.frame", "c2s", lambda s: _raw(s, "ws.frame.opcode") == 8)
    out["close_code"] = _raw(close, "ws.frame.close_code")
    out["sni"] = _raw(first("tls.client_hello"), "tls.ext.server_name.host_name")
    out["overhead"] = len(c["wire"]) // 2 - len(c["data"]) // 2
    out["header_size"] = len(frame) - _raw(c, "ws.frame.payload_length")
    out["server_masked"] = _raw(data("s2c"), "ws.frame.mask")
    out["subprotocol"] = _header(resp, "Sec-WebSocket-Protocol") or ""
    out["suites_offered"] = sum(f["id"] == "tls.client_hello.suite" and f["raw"] not in (0x00FF, 0x5600)
                                and f["raw"] & 0x0F0F != 0x0A0A  # signalling values and GREASE are not suites
                                for f in _walk(first("tls.client_hello")["fields"]))
    out["chain"] = _raw(cert, "tls.certificate.list")
    ping = first("ws.frame", "c2s", lambda s: _raw(s, "ws.frame.opcode") == 9)
    pf = bytes.fromhex(ping["data"])
    pp = next(f for f in _walk(ping["fields"]) if f["id"] == "ws.frame.payload")
    pm = bytes.fromhex(_raw(ping, "ws.frame.masking_key"))
    out["pong"] = bytes(b ^ pm[i % 4] for i, b in enumerate(pf[pp["start"]:pp["end"]])).decode()
    return out


def test_the_list_has_every_kind_and_answers_a_script_recomputes_from_run_json(tmp_path):
    """The must-show: at least 24 questions with question, answer and steps, the four
    interview questions among them, and at least 12 made from the session's own bytes
    whose answers an independent script recomputes from `wssviz run --json`."""
    run = wssviz("run", "--json", "--record", "r.json", cwd=tmp_path)
    steps = [json.loads(line) for line in run.stdout.splitlines()]
    listed = wssviz("quiz", "r.json", "--list", "--json", cwd=tmp_path)
    items = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(items) >= 24
    assert all(i["question"] and i["answer"] and isinstance(i["steps"], list) for i in items)
    assert all(0 <= n < len(steps) for i in items for n in i["steps"])
    ids = {i["id"] for i in items}
    assert {"interview.secure", "interview.vs_https", "interview.handshake", "interview.reliable"} <= ids
    mine = {i["id"].removeprefix("bytes."): i["value"] for i in items if i["kind"] == "bytes"}
    theirs = recompute(steps)
    assert len(mine) >= 12 and mine == theirs
    # each answer's steps are the ones that show it
    by_id = {i["id"]: i for i in items}
    kinds = lambda qid: {steps[n]["kind"] for n in by_id[qid]["steps"]}  # noqa: E731
    assert kinds("bytes.accept") == {"http.upgrade_request", "ws.accept", "http.upgrade_response"}
    assert kinds("bytes.unmask") == {"ws.frame"} and kinds("bytes.suite") == {"tls.server_hello"}


def test_chinese_questions_and_answers_say_no_english_sentence(tmp_path):
    listed = wssviz("--lang", "zh", "quiz", "--list", "--json", cwd=tmp_path)
    items = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(items) >= 24
    english = {i["id"]: i for i in map(json.loads, wssviz("--lang", "en", "quiz", "--list", "--json",
                                                           cwd=tmp_path).stdout.splitlines())}
    for i in items:
        assert "quiz." not in i["question"] + i["answer"]  # every key found in the catalog
        assert any("\u4e00" <= ch <= "\u9fff" for ch in i["question"]), i["question"]
        # an answer is Chinese, or only values (x25519 (0x001d).), never the English sentence
        assert i["answer"] != english[i["id"]]["answer"] or not any(c.isalpha() for c in i["answer"]
                                                                     if c not in "x0123456789abcdef"), i["answer"]


def _session(name: str):
    live = LiveSession(scenarios.load(name))
    return list(live.run_all())


@pytest.mark.parametrize("name, rtt, readable", [("seed-example", 3, False), ("tls12", 4, True),
                                                 ("hello-retry-request", 4, False),
                                                 ("session-resumption", 3, False)])
def test_answers_follow_the_session(name, rtt, readable):
    qs = {q.id: q for q in quiz.questions(_session(name))}
    assert qs["bytes.rtt"].value == rtt
    if "bytes.cert_readable" in qs:
        assert qs["bytes.cert_readable"].value["readable"] is readable


def test_a_plain_ws_session_asks_no_tls_question():
    qs = {q.id for q in quiz.questions(_session("plaintext-ws"))}
    assert "bytes.accept" in qs and "bytes.unmask" in qs and "bytes.rtt" in qs
    assert not {"bytes.suite", "bytes.group", "bytes.version", "bytes.sni", "bytes.cert_readable"} & qs


def words(concept: str) -> list[str]:
    out = []
    for lang in explain.languages():
        out += [w.strip() for w in explain.text(Msg(f"quiz.concept.{concept}.words"), lang).split(",")]
    return [w for w in out if w]


@pytest.fixture(scope="module")
def seed():
    return {q.id: q for q in quiz.questions(_session("seed-example"))}


def test_partial_credit_is_explained(seed):
    accept = seed["bytes.accept"]
    digest = hashlib.sha1(b"dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()
    assert quiz.judge(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", words).score == 1
    v = quiz.judge(accept, digest.hex(), words)
    assert v.score == 0.5 and v.said == (Msg("quiz.near.accept_hex"),)
    no_guid = base64.b64encode(hashlib.sha1(b"dGhlIHNhbXBsZSBub25jZQ==").digest()).decode()
    assert quiz.judge(accept, no_guid, words).said == (Msg("quiz.near.accept_no_guid"),)
    v = quiz.judge(seed["bytes.unmask"], "Hellp", words)
    assert v.score == 0.8 and v.said[0].params == {"right": 4, "of": 5, "at": 4}
    assert quiz.judge(seed["bytes.rtt"], "2", words).said == (Msg("quiz.near.rtt_tcp"),)
    assert quiz.judge(seed["bytes.rtt"], "4", words).score == 0.5
    assert quiz.judge(seed["bytes.suite"], "0x1302", words).score == 1
    assert quiz.judge(seed["bytes.header_size"], "2", words).said == (Msg("quiz.near.header_mask"),)


def test_yes_no_and_concepts_in_either_language(seed):
    assert quiz.judge(seed["bytes.cert_readable"], "不能", words).score == 1
    assert quiz.judge(seed["bytes.cert_readable"], "yes", words).score == 0
    assert quiz.judge(seed["myth.key_signed"], "错", words).score == 1
    assert quiz.judge(seed["bytes.server_masked"], "maybe", words).said == (Msg("quiz.verdict.yesno"),)
    full = quiz.judge(seed["interview.secure"], "wss 在 TLS 之上：证书校验、ECDHE 密钥交换、AES 加密、AEAD 保证完整性", words)
    assert full.score == 1 and full.said == ()
    half = quiz.judge(seed["interview.secure"], "It uses TLS with a certificate and encryption", words)
    assert half.score == 0.5
    assert [m.key for m in half.said[0].params["concepts"]] == \
        ["quiz.concept.key_exchange", "quiz.concept.integrity", "quiz.concept.wss_port"]
    assert quiz.judge(seed["predict.ping"], "a pong", words).score == 1


def test_an_interactive_drill_reads_replies_and_totals_them(tmp_path):
    replies = "\n".join(["", "", "", "", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "Hellp", "no"]) + "\n"
    out = wssviz("quiz", "--kind", "bytes", "--kind", "interview", cwd=tmp_path, stdin=replies).stdout
    assert "Question 5 of 20 (from this session's bytes)" in out
    assert "Skipped." in out and "Score: 0.8 of 1" in out and "4 of 5 bytes right" in out
    assert "step 15: Upgrade request: GET /chat" in out
    assert out.rstrip().endswith("Total: 2.8 of 3 (93 %)")
    assert os.listdir(tmp_path) == []


def test_review_findings_are_judged_as_a_learner_would_expect(seed):
    """Numbers in words, a yes/no followed by more, base64 without its padding, AEAD as
    encryption; a TLS 1.2 session's certificate-first 'myth' is roughly true there."""
    assert quiz.judge(seed["bytes.chain"], "one", words).score == 1
    assert quiz.judge(seed["bytes.chain"], "一张", words).score == 1
    assert quiz.judge(seed["bytes.suites_offered"], "十七", words).score == 1
    assert quiz.judge(seed["myth.key_signed"], "no, false", words).score == 1
    v = quiz.judge(seed["bytes.accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo", words)
    assert v.score == 0.75 and v.said == (Msg("quiz.near.base64_padding"),)
    v = quiz.judge(seed["interview.secure"], "wss runs TLS: certificate, ECDHE key exchange, AEAD records give "
                   "confidentiality and integrity", words)
    assert v.score == 1
    t12 = {q.id: q for q in quiz.questions(_session("tls12"))}
    assert t12["myth.verify_then_key"].value is True
    assert t12["myth.verify_then_key"].answer == Msg("quiz.myth.verify_then_key.a12")
    ws = {q.id: q for q in quiz.questions(_session("plaintext-ws"))}
    assert "myth.verify_then_key" not in ws and ws["bytes.rtt"].answer == Msg("quiz.bytes.rtt.a_ws", n=2)


@pytest.mark.parametrize("name, code", [("invalid-utf8", 1007), ("message-too-big", 1009),
                                        ("unmasked-client-frame", 1002)])
def test_which_close_code_the_peer_that_saw_a_broken_rule_must_send(name, code):
    qs = {q.id: q for q in quiz.questions(_session(name))}
    q = qs["bytes.close_should"]
    steps = _session(name)
    assert q.value == code and quiz.judge(q, str(code), words).score == 1
    assert [steps[i].kind for i in q.steps] == ["error", "ws.frame"]
    for lang in ("en", "zh"):
        assert "{" not in explain.text(q.question, lang) and str(code) in explain.text(q.answer, lang)
