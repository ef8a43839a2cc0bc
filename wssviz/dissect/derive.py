"""Derivations written out and checked, from the session's own secrets.

Each function returns a Field tree that shows every intermediate of one computation
the learner can redo by hand (the way the Accept derivation is shown), computed here
from the key log and the handshake messages:

- TLS 1.3 traffic keys: HKDF-Expand-Label with its HkdfLabel bytes, for the key and
  the IV (RFC 8446 §7.1, §7.3);
- Finished: finished_key, the transcript hash, verify_data = HMAC(finished_key,
  transcript hash) compared with what the peer sent (RFC 8446 §4.4.4); TLS 1.2:
  PRF(master secret, label, hash of the handshake messages) (RFC 5246 §7.4.9);
- CertificateVerify: the signed content (64 spaces, the context string, a zero byte,
  the transcript hash) and the signature checked with the certificate's key
  (RFC 8446 §4.4.3);
- TLS 1.2 keys: the session hash of the extended master secret (RFC 7627 §3) and the
  key block PRF(master secret, "key expansion", server random + client random) split
  into write keys and IVs (RFC 5246 §6.3);
- one record's AEAD opening: nonce = IV XOR sequence number, additional data, tag.

A value that does not match (a tampered transcript, a wrong key) makes its check
``raw=False``; the step that holds it then has status ``error``.
"""

from __future__ import annotations

import hashlib
import hmac

from wssviz.dissect import decrypt
from wssviz.dissect.build import elide
from wssviz.steps import Field, Msg, computed


def _verdict(id: str, ok: bool) -> Field:
    return computed(id, Msg("verdict.match" if ok else "verdict.differ"), raw=ok)


# --- TLS 1.3 keys (RFC 8446 §7.1, §7.3) -------------------------------------------------


def traffic_keys(side: str, phase: str, label: str, secret: bytes, suite: "decrypt.Suite") -> Field:
    """How one side's key and IV come from its traffic secret."""
    kinfo = decrypt.hkdf_label(suite.key_len, "key", b"")
    iinfo = decrypt.hkdf_label(suite.iv_len, "iv", b"")
    keys = decrypt.tls13_traffic_keys(suite, secret)
    f = computed("tls.keys.hkdf", Msg("value.hkdf_keys", side=Msg(f"side.{side}"), phase=Msg(f"phase.{phase}"),
                                      hash=suite.hash.upper()), raw=f"{side}_{phase}")
    f.add(computed("tls.keys.hkdf.secret", secret.hex(), raw=secret, name=label))
    f.add(computed("tls.keys.hkdf.key_label", Msg("value.hkdf_label", hex=kinfo.hex(), n=suite.key_len,
                                                 label="tls13 key"), raw=kinfo))
    f.add(computed("tls.keys.hkdf.key", keys.key.hex(), raw=keys.key))
    f.add(computed("tls.keys.hkdf.iv_label", Msg("value.hkdf_label", hex=iinfo.hex(), n=suite.iv_len,
                                                label="tls13 iv"), raw=iinfo))
    f.add(computed("tls.keys.hkdf.iv", keys.iv.hex(), raw=keys.iv))
    return f


# --- Finished ----------------------------------------------------------------------------


def finished13(base_label: str, base: bytes, suite: "decrypt.Suite", transcript: list[bytes],
               received: bytes) -> Field:
    """verify_data = HMAC(finished_key, Hash(messages so far)) (RFC 8446 §4.4.4)."""
    finished_key = decrypt.hkdf_expand_label(base, "finished", b"", suite.hash_len, suite.hash)
    digest = hashlib.new(suite.hash, b"".join(transcript)).digest()
    expected = hmac.digest(finished_key, digest, suite.hash)
    ok = hmac.compare_digest(expected, received)
    f = computed("tls.finished.check", Msg("value.finished_check", ok=ok), raw=ok)
    f.add(computed("tls.finished.check.base_secret", base.hex(), raw=base, name=base_label))
    f.add(computed("tls.finished.check.finished_key", finished_key.hex(), raw=finished_key))
    f.add(computed("tls.finished.check.transcript_hash",
                   Msg("value.transcript_hash", hash=suite.hash.upper(), n=len(transcript), hex=digest.hex()),
                   raw=digest))
    f.add(computed("tls.finished.check.expected",
                   Msg("value.verify_hmac", hash=suite.hash.upper(), hex=expected.hex()), raw=expected))
    f.add(computed("tls.finished.check.received", received.hex(), raw=received))
    f.add(_verdict("tls.finished.check.verdict", ok))
    return f


def finished12(master: bytes, suite: "decrypt.Suite", transcript: list[bytes], received: bytes,
               from_client: bool) -> Field:
    """verify_data = PRF(master_secret, finished_label, Hash(handshake_messages))[0..11]
    (RFC 5246 §7.4.9)."""
    label = b"client finished" if from_client else b"server finished"
    digest = hashlib.new(suite.hash, b"".join(transcript)).digest()
    expected = decrypt.tls12_prf(master, label, digest, len(received) or 12, suite.hash)
    ok = hmac.compare_digest(expected, received)
    f = computed("tls.finished.check", Msg("value.finished_check", ok=ok), raw=ok)
    f.add(computed("tls.finished.check.master_secret", master.hex(), raw=master))
    f.add(computed("tls.finished.check.label", label.decode(), raw=label.decode()))
    f.add(computed("tls.finished.check.transcript_hash",
                   Msg("value.transcript_hash", hash=suite.hash.upper(), n=len(transcript), hex=digest.hex()),
                   raw=digest))
    f.add(computed("tls.finished.check.expected",
                   Msg("value.verify_prf", label=label.decode(), n=len(expected), hex=expected.hex()), raw=expected))
    f.add(computed("tls.finished.check.received", received.hex(), raw=received))
    f.add(_verdict("tls.finished.check.verdict", ok))
    return f


# --- signatures --------------------------------------------------------------------------


def certificate_verify(cert_der: bytes, scheme: int, signature: bytes, transcript: list[bytes],
                       hash_name: str, server: bool) -> Field:
    """What a TLS 1.3 CertificateVerify signs, and the signature checked with the key
    of the certificate its sender presented (RFC 8446 §4.4.3)."""
    from wssviz.dissect import x509

    digest = hashlib.new(hash_name, b"".join(transcript)).digest()
    content = x509.tls13_certificate_verify_content(digest, server=server)
    check = x509.verify_signature(cert_der, scheme, signature, content)
    context = content[64:-1 - len(digest)].decode()
    f = computed("tls.certificate_verify.check", Msg("value.signature_check", ok=check.ok), raw=check.ok)
    f.add(computed("tls.certificate_verify.check.content",
                   Msg("value.signed_content", context=context, hex=digest.hex()), raw=content))
    f.add(computed("tls.certificate_verify.check.transcript_hash",
                   Msg("value.transcript_hash", hash=hash_name.upper(), n=len(transcript), hex=digest.hex()),
                   raw=digest))
    f.add(computed("tls.certificate_verify.check.verdict", check.detail, raw=check.ok))
    return f


def server_key_exchange(cert_der: bytes, scheme: int, signature: bytes, content: bytes) -> Field:
    """TLS 1.2: the server signs client_random + server_random + its ECDH parameters
    (RFC 5246 §7.4.3, RFC 8422 §5.4)."""
    from wssviz.dissect import x509

    check = x509.verify_signature(cert_der, scheme, signature, content)
    f = computed("tls.server_key_exchange.check", Msg("value.signature_check", ok=check.ok), raw=check.ok)
    f.add(computed("tls.server_key_exchange.check.content", Msg("value.ske_content", hex=elide(content, 32)),
                   raw=content))
    f.add(computed("tls.server_key_exchange.check.verdict", check.detail, raw=check.ok))
    return f


# --- TLS 1.2 keys (RFC 5246 §6.3, RFC 7627 §3) ----------------------------------------


def key_block12(master: bytes, suite: "decrypt.Suite", client_random: bytes, server_random: bytes) -> Field:
    """The key block PRF(master_secret, "key expansion", server_random + client_random)
    and how it splits into write keys and IVs (RFC 5246 §6.3)."""
    k, i = suite.key_len, suite.iv_len
    seed = server_random + client_random
    block = decrypt.tls12_prf(master, b"key expansion", seed, 2 * (k + i), suite.hash)
    f = computed("tls.keys.prf", Msg("value.key_block", n=len(block), hash=suite.hash.upper()), raw=block)
    f.add(computed("tls.keys.prf.label", "key expansion", raw="key expansion"))
    f.add(computed("tls.keys.prf.seed", Msg("value.prf_seed", hex=elide(seed, 64)), raw=seed))
    f.add(computed("tls.keys.prf.key_block", elide(block, 64), raw=block))
    for id, part in (("client_write_key", block[0:k]), ("server_write_key", block[k:2 * k]),
                     ("client_write_iv", block[2 * k:2 * k + i]), ("server_write_iv", block[2 * k + i:])):
        f.add(computed(f"tls.keys.prf.{id}", part.hex(), raw=part))
    return f


# --- one record opened (RFC 8446 §5.2-5.3, RFC 5288 §3) -------------------------------


def record_opening(out: "decrypt.Decrypted", tls13: bool = True) -> list[Field]:
    """The fields that show how a record was opened: IV, sequence number, nonce,
    additional data (TLS 1.3: the record header; TLS 1.2: sequence number, type,
    version and plaintext length, RFC 5246 §6.2.3.3), tag."""
    fields = []
    if out.iv:
        fields.append(computed("tls.decrypted.iv", out.iv.hex(), raw=out.iv))
    if out.explicit_nonce:
        fields.append(computed("tls.decrypted.explicit_nonce", out.explicit_nonce.hex(), raw=out.explicit_nonce))
    aad_id = "tls.decrypted.additional_data" if tls13 else "tls.decrypted.additional_data_tls12"
    fields.append(computed(aad_id, out.aad.hex(), raw=out.aad))
    fields.append(computed("tls.decrypted.tag", out.tag.hex(), raw=out.tag))
    return fields
