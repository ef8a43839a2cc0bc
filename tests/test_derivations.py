"""The derivations a session shows are this session's own, and checked.

An independent computation (the ``cryptography`` library's HKDF, Python's hmac and
hashlib, written from RFC 8446 §4.4.4 and §7.1, sharing no code with wssviz) redoes
the traffic keys and both Finished values from what ``wssviz run --json`` prints: the
key log lines of the keys step and the handshake messages' bytes.  A tampered
transcript makes the checks fail visibly.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from wssviz import recording
from wssviz.dissect import dissect
from wssviz.live.pair import LiveSession
from wssviz.live.settings import Settings


def hkdf_expand_label(secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
    return HKDFExpand(algorithm=hashes.SHA384() if len(secret) == 48 else hashes.SHA256(), length=length,
                      info=info).derive(secret)


def walk(fields):
    for f in fields:
        yield f
        yield from walk(f["children"])


def find(step, id):
    return [f for f in walk(step["fields"]) if f["id"] == id]


@pytest.fixture(scope="module")
def printed():
    out = subprocess.run([sys.executable, "-m", "wssviz", "run", "--json", "--lang", "en"], capture_output=True,
                         text=True, timeout=120, check=True)
    return [json.loads(line) for line in out.stdout.splitlines()]


HANDSHAKE = ("tls.client_hello", "tls.server_hello", "tls.encrypted_extensions", "tls.certificate",
             "tls.certificate_verify", "tls.finished")


def test_keys_and_finished_recomputed_from_the_printed_session(printed):
    keys = next(s for s in printed if s["kind"] == "tls.keys")  # the handshake keys
    log = dict(line.split(" ")[0::2] for line in bytes.fromhex(keys["data"]).decode().splitlines())
    suite = next(f["raw"] for f in find(keys, "tls.keys.cipher_suite"))
    hash_len = 48 if suite == 0x1302 else 32  # TLS_AES_256_GCM_SHA384 (RFC 8446 §B.4)
    key_len = 32 if hash_len == 48 else 16
    for f in find(keys, "tls.keys.hkdf"):
        side = f["raw"].split("_")[0].upper()
        secret = bytes.fromhex(log[f"{side}_HANDSHAKE_TRAFFIC_SECRET"])
        got = {c["id"]: c["raw"] for c in f["children"]}
        assert got["tls.keys.hkdf.key"] == hkdf_expand_label(secret, b"key", b"", key_len).hex()
        assert got["tls.keys.hkdf.iv"] == hkdf_expand_label(secret, b"iv", b"", 12).hex()
    messages = [s for s in printed if s["kind"] in HANDSHAKE]
    finished = [i for i, s in enumerate(messages) if s["kind"] == "tls.finished"]
    assert len(finished) == 2
    for i in finished:
        step = messages[i]
        side = "SERVER" if step["direction"] == "s2c" else "CLIENT"
        base = bytes.fromhex(log[f"{side}_HANDSHAKE_TRAFFIC_SECRET"])
        digest = hashlib.new("sha384" if hash_len == 48 else "sha256",
                             b"".join(bytes.fromhex(m["data"]) for m in messages[:i])).digest()
        finished_key = hkdf_expand_label(base, b"finished", b"", hash_len)
        verify = hmac.digest(finished_key, digest, "sha384" if hash_len == 48 else "sha256")
        assert bytes.fromhex(step["data"])[4:] == verify  # what the peer sent
        check = {c["id"]: c["raw"] for c in find(step, "tls.finished.check")[0]["children"]}
        assert check["tls.finished.check.finished_key"] == finished_key.hex()
        assert check["tls.finished.check.transcript_hash"] == digest.hex()
        assert check["tls.finished.check.expected"] == verify.hex() and check["tls.finished.check.verdict"] is True
        assert step["status"] == "ok"


def _scenarios() -> list[str]:
    from wssviz import scenarios

    return [item.name for item in scenarios.catalog()]


@pytest.mark.parametrize("name", _scenarios())
def test_every_scenario_checks_its_finished_and_signatures(name):
    from wssviz import scenarios

    settings = scenarios.load(name)
    steps = LiveSession(settings).run_all()
    checks = [(s.kind, s.direction, f.raw) for s in steps for f in s.walk()
              if f.id in ("tls.finished.check", "tls.certificate_verify.check", "tls.server_key_exchange.check")]
    sides = {(k, d) for k, d, _ in checks}
    assert all(ok is True for _, _, ok in checks), checks
    if settings.scheme == "ws":
        assert not checks
        return
    assert ("tls.finished", "s2c") in sides
    # the client's Finished exists when the client finished its handshake (it then speaks HTTP);
    # where it refused the server's certificate, it sent an alert instead
    assert (("tls.finished", "c2s") in sides) == any(s.kind == "http.upgrade_request" for s in steps)
    signed = ("tls.server_key_exchange", "s2c") if settings.tls_version == "1.2" else ("tls.certificate_verify", "s2c")
    assert signed in sides
    if name == "mutual-tls":
        assert ("tls.certificate_verify", "c2s") in sides  # the client's proof, checked too
    if name == "tls12":
        assert ("tls.server_key_exchange", "s2c") in sides


def test_a_tampered_transcript_fails_the_checks_visibly():
    """One byte of the ClientHello's legacy_session_id changed on the wire: the keys
    still come from the key log (found by the client random, untouched), but the
    transcript the peers signed and MACed is not this one."""
    session = LiveSession(Settings())
    session.run_all()
    doc = recording.to_document(session.capture)
    first = next(e for e in doc["events"] if e.get("dir") == "c2s")
    data = bytearray(bytes.fromhex(first["hex"]))
    data[5 + 4 + 2 + 32 + 1 + 5] ^= 0x01  # record and handshake headers, version, random, into the session id
    first["hex"] = data.hex()
    steps = dissect(recording.from_document(doc))
    by = {(s.kind, s.direction): s for s in steps}
    fin, cv = by[("tls.finished", "s2c")], by[("tls.certificate_verify", "s2c")]
    assert fin.raw("tls.finished.check") is False and fin.status == "error"
    assert fin.raw("tls.finished.check.expected") != fin.raw("tls.finished.check.received")
    assert cv.raw("tls.certificate_verify.check") is False and cv.status == "error"


def test_a_missing_secret_says_so_and_labels_what_it_can():
    session = LiveSession(Settings())
    session.run_all()
    capture = session.capture
    capture.keylog = [line for line in capture.keylog if not line.startswith("CLIENT_HANDSHAKE_TRAFFIC_SECRET")]
    steps = dissect(capture)
    keys = next(s for s in steps if s.kind == "tls.keys")
    assert keys.raw("tls.keys.missing") == ["CLIENT_HANDSHAKE_TRAFFIC_SECRET"]
    assert [f.raw for f in keys.all("tls.keys.hkdf")] == ["server_handshake"]  # what it can
    # the client's encrypted flight cannot be opened: said once, as a warning naming the rule
    assert not any(s.kind == "tls.finished" and s.direction == "c2s" for s in steps)
    no_key = [s for s in steps if s.kind == "error" and s.raw("error.rule") == "tls.no_key"]
    assert no_key and no_key[0].status == "warning"
    server_fin = next(s for s in steps if s.kind == "tls.finished" and s.direction == "s2c")
    assert server_fin.raw("tls.finished.check") is True
