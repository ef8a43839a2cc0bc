"""TLS record decryption: key schedules and AEAD, on top of ``cryptography``.

Theory of operation
-------------------
A key log (NSS format, one ``LABEL <client_random> <secret>`` per line) gives the
secrets; this module turns them into traffic keys and opens records with them.

TLS 1.3 (RFC 8446)
    Each direction has a traffic secret per epoch (handshake, then application,
    then one per KeyUpdate).  ``tls13_traffic_keys`` expands a secret into the
    AEAD key and the 12-byte IV (§7.3).  A record's nonce is the IV XOR the 64-bit
    record sequence number, left-padded with zeros (§5.3); the additional data is
    the 5-byte record header as sent (§5.2).  The plaintext is the real content,
    then the real content type (one byte), then zero padding (§5.4).

TLS 1.2 (RFC 5246, RFC 5288, RFC 7905)
    The ``CLIENT_RANDOM`` line gives the master secret; the PRF expands it with
    both hello randoms into the key block (§6.3).  AES-GCM records carry an 8-byte
    explicit nonce in front of the ciphertext and use the 4-byte implicit salt
    from the key block (RFC 5288 §3); ChaCha20-Poly1305 records use a 12-byte IV
    XOR the sequence number, like TLS 1.3 (RFC 7905 §2).  The additional data is
    seq_num(8) + type(1) + version(2) + plaintext length(2) (RFC 5246 §6.2.3.3).

Sequence numbers start at 0 with each new key and advance once per record that
opened successfully.  A record that fails to open raises ``DecryptError`` and
leaves the sequence number where it was.

This module knows nothing about record framing in a byte stream, handshake
messages or which epoch a record belongs to: the dissector decides that and
hands over one record at a time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from typing import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from wssviz.core.msg import Msg

# --- cipher suites -----------------------------------------------------------


@dataclass(frozen=True)
class Suite:
    """An AEAD cipher suite this module can open.

    ``iv_len`` is the IV that the key schedule yields: 12 bytes for TLS 1.3 and
    for TLS 1.2 ChaCha20-Poly1305; 4 bytes (the implicit salt) for TLS 1.2
    AES-GCM, whose other 8 nonce bytes travel in each record
    (``explicit_nonce_len``).
    """

    code: int
    name: str
    aead: str  # "AES-128-GCM", "AES-256-GCM" or "CHACHA20-POLY1305"
    key_len: int
    iv_len: int
    hash: str  # "sha256" or "sha384"
    tls13: bool

    @property
    def explicit_nonce_len(self) -> int:
        """Bytes of nonce carried in each record (RFC 5288 §3): 8 for TLS 1.2 GCM, else 0."""
        return 8 if (not self.tls13 and self.aead != "CHACHA20-POLY1305") else 0

    @property
    def tag_len(self) -> int:
        return 16

    @property
    def hash_len(self) -> int:
        return hashlib.new(self.hash).digest_size

    def __str__(self) -> str:
        return f"0x{self.code:04x} {self.name}"


def _suite(code: int, name: str, aead: str, hash_: str, tls13: bool) -> Suite:
    key_len = 16 if aead == "AES-128-GCM" else 32
    iv_len = 4 if (not tls13 and aead != "CHACHA20-POLY1305") else 12
    return Suite(code, name, aead, key_len, iv_len, hash_, tls13)


SUITES: dict[int, Suite] = {
    s.code: s
    for s in (
        _suite(0x1301, "TLS_AES_128_GCM_SHA256", "AES-128-GCM", "sha256", True),
        _suite(0x1302, "TLS_AES_256_GCM_SHA384", "AES-256-GCM", "sha384", True),
        _suite(0x1303, "TLS_CHACHA20_POLY1305_SHA256", "CHACHA20-POLY1305", "sha256", True),
        _suite(0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "AES-128-GCM", "sha256", False),
        _suite(0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "AES-256-GCM", "sha384", False),
        _suite(0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "AES-128-GCM", "sha256", False),
        _suite(0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "AES-256-GCM", "sha384", False),
        _suite(0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "CHACHA20-POLY1305", "sha256", False),
        _suite(0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "CHACHA20-POLY1305", "sha256", False),
    )
}

# --- errors ------------------------------------------------------------------


class DecryptError(Exception):
    """A record could not be opened.

    ``offset`` counts bytes from the start of the record (its 5-byte header
    included); the caller adds where the record sits in the stream.
    """

    layer = "tls"

    def __init__(self, rule: str, rfc: str, offset: int, *, code: str, **params: object) -> None:
        self.rule = rule
        self.rfc = rfc
        self.offset = offset
        self.code = code
        self.params = params
        super().__init__(f"tls: {rule} ({rfc}) at record offset {offset}")

    @property
    def msg(self) -> Msg:
        """The broken rule as the catalogs know it (what a learner reads)."""
        return Msg(f"rule.{self.code}", **self.params)


class KeyLogError(ValueError):
    """A key log line breaks the NSS key log format."""

    layer = "keylog"

    def __init__(self, line_no: int, rule: str) -> None:
        self.line_no = line_no
        self.rule = rule
        super().__init__(f"keylog: line {line_no}: {rule} (NSS key log format)")


# --- key log -----------------------------------------------------------------

#: Labels whose first field is a 32-byte ClientHello.random.
TLS13_LABELS = frozenset({
    "CLIENT_EARLY_TRAFFIC_SECRET", "EARLY_EXPORTER_SECRET",
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET",
})
KNOWN_LABELS = TLS13_LABELS | {"CLIENT_RANDOM", "RSA", "ECH_SECRET", "ECH_CONFIG"}

_LABEL_RE = re.compile(r"[A-Z][A-Z0-9_]*\Z")
_HEX_RE = re.compile(r"(?:[0-9a-fA-F]{2})+\Z")


@dataclass
class KeyLog:
    """Secrets from an NSS key log, indexed by ClientHello.random.

    ``RSA`` lines (keyed by the first 8 bytes of the encrypted premaster secret,
    not by a client random) are kept apart in ``rsa``; this module does not use
    them, since it opens only (EC)DHE suites.
    """

    entries: dict[bytes, dict[str, bytes]] = field(default_factory=dict)
    rsa: dict[bytes, bytes] = field(default_factory=dict)

    @classmethod
    def parse(cls, lines: Iterable[str], strict: bool = True) -> "KeyLog":
        """Read key log lines; comments (``#``) and blank lines are ignored.

        A malformed line raises ``KeyLogError(line_no, rule)`` (lines count from
        1); with ``strict=False`` it is skipped instead.  Identical repeated lines
        are harmless (both sides of one process may log the same secrets).
        """
        log = cls()
        for line_no, raw in enumerate(lines, start=1):
            try:
                log._add(raw)
            except KeyLogError as exc:
                if strict:
                    raise KeyLogError(line_no, exc.rule) from None
        return log

    def _add(self, raw: str) -> None:
        line = raw.strip()
        if not line or line.startswith("#"):
            return
        parts = line.split()
        if len(parts) != 3:
            raise KeyLogError(0, f"expected 3 space-separated fields (label, client random, secret), got {len(parts)}")
        label, first, secret_hex = parts
        if not _LABEL_RE.match(label):
            raise KeyLogError(0, f"label {label[:40]!r} is not an upper-case NSS label")
        if not _HEX_RE.match(first):
            raise KeyLogError(0, "second field must be an even number of hex digits")
        if not _HEX_RE.match(secret_hex):
            raise KeyLogError(0, "third field (the secret) must be an even number of hex digits")
        key, secret = bytes.fromhex(first), bytes.fromhex(secret_hex)
        if label == "RSA":
            if len(key) != 8:
                raise KeyLogError(0, "RSA: first field must be 8 bytes (16 hex digits) of encrypted premaster")
            if len(secret) != 48:
                raise KeyLogError(0, "RSA: premaster secret must be 48 bytes")
            self.rsa[key] = secret
            return
        if len(key) != 32:
            raise KeyLogError(0, f"{label}: client random must be 32 bytes (64 hex digits), got {len(key)}")
        if label == "CLIENT_RANDOM" and len(secret) != 48:
            raise KeyLogError(0, f"CLIENT_RANDOM: master secret must be 48 bytes, got {len(secret)}")
        if label in TLS13_LABELS and len(secret) not in (32, 48):
            raise KeyLogError(0, f"{label}: secret must be 32 or 48 bytes (SHA-256/384), got {len(secret)}")
        secrets = self.entries.setdefault(key, {})
        old = secrets.get(label)
        if old is not None and old != secret:
            raise KeyLogError(0, f"{label}: a different secret for the same client random was logged before")
        secrets[label] = secret

    def secrets_for(self, client_random: bytes) -> dict[str, bytes]:
        """Label → secret for one connection (empty if the log never saw it)."""
        return dict(self.entries.get(bytes(client_random), {}))

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, client_random: object) -> bool:
        return client_random in self.entries


# --- TLS 1.3 key schedule (RFC 8446 §7) ------------------------------------------


def _hkdf_expand(secret: bytes, info: bytes, length: int, hash: str) -> bytes:
    """HKDF-Expand (RFC 5869 §2.3)."""
    digest_size = hashlib.new(hash).digest_size
    if length > 255 * digest_size:
        raise ValueError("HKDF-Expand: length too large (RFC 5869 §2.3)")
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.digest(secret, block + info + bytes([counter]), hash)
        out += block
        counter += 1
    return out[:length]


def hkdf_label(length: int, label: str, context: bytes) -> bytes:
    """The HkdfLabel structure (RFC 8446 §7.1): uint16 length, opaque label<7..255>
    ("tls13 " + label), opaque context<0..255>."""
    full = b"tls13 " + label.encode("ascii")
    if len(full) > 255 or len(context) > 255:
        raise ValueError("HKDF-Expand-Label: label or context longer than 255 bytes (RFC 8446 §7.1)")
    return length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context


def hkdf_expand_label(secret: bytes, label: str, context: bytes, length: int, hash: str) -> bytes:
    """HKDF-Expand-Label (RFC 8446 §7.1): label gets the ``"tls13 "`` prefix."""
    return _hkdf_expand(secret, hkdf_label(length, label, context), length, hash)


@dataclass(frozen=True)
class TrafficKeys:
    """An AEAD key and its IV (TLS 1.2 GCM: the 4-byte implicit salt)."""

    key: bytes
    iv: bytes


def tls13_traffic_keys(suite: Suite, secret: bytes) -> TrafficKeys:
    """Traffic key and IV from a traffic secret (RFC 8446 §7.3)."""
    return TrafficKeys(
        key=hkdf_expand_label(secret, "key", b"", suite.key_len, suite.hash),
        iv=hkdf_expand_label(secret, "iv", b"", suite.iv_len, suite.hash),
    )


def tls13_next_secret(suite: Suite, secret: bytes) -> bytes:
    """The next application traffic secret after a KeyUpdate (RFC 8446 §7.2)."""
    return hkdf_expand_label(secret, "traffic upd", b"", suite.hash_len, suite.hash)


# --- TLS 1.2 key schedule (RFC 5246 §5, §6.3) -----------------------------------


def tls12_prf(secret: bytes, label: bytes, seed: bytes, length: int, hash: str) -> bytes:
    """PRF(secret, label, seed) = P_hash(secret, label + seed) (RFC 5246 §5)."""
    seed = label + seed
    out, a = b"", seed
    while len(out) < length:
        a = hmac.digest(secret, a, hash)
        out += hmac.digest(secret, a + seed, hash)
    return out[:length]


def tls12_key_block(suite: Suite, master_secret: bytes, client_random: bytes,
                    server_random: bytes) -> tuple[TrafficKeys, TrafficKeys]:
    """(client write, server write) keys from the master secret (RFC 5246 §6.3).

    AEAD suites have no MAC keys, so the key block is client key, server key,
    client IV, server IV (RFC 5288 §3, RFC 7905 §2).
    """
    if suite.tls13:
        raise ValueError(f"{suite.name} is a TLS 1.3 suite: use tls13_traffic_keys")
    if len(client_random) != 32 or len(server_random) != 32:
        raise ValueError("hello randoms must be 32 bytes (RFC 5246 §7.4.1.2)")
    k, i = suite.key_len, suite.iv_len
    block = tls12_prf(master_secret, b"key expansion", server_random + client_random, 2 * (k + i), suite.hash)
    return (TrafficKeys(block[0:k], block[2 * k:2 * k + i]),
            TrafficKeys(block[k:2 * k], block[2 * k + i:2 * k + 2 * i]))


# --- record protection -----------------------------------------------------------

#: RFC 8446 §5.2 / RFC 5246 §6.2.3: ciphertext may exceed 2^14 by at most 256 (1.3) or 2048 (1.2).
MAX_PLAINTEXT = 2 ** 14


@dataclass
class Decrypted:
    """One opened record.

    ``content_type`` is the real type (TLS 1.3: the inner type; TLS 1.2: the
    header's).  ``padding`` counts TLS 1.3 zero padding bytes.  ``aad`` and
    ``tag`` are what the AEAD checked, for showing the learner.
    """

    content_type: int
    plaintext: bytes
    padding: int
    seq: int
    nonce: bytes
    explicit_nonce: bytes
    aad: bytes = b""
    tag: bytes = b""
    iv: bytes = b""  # the write IV the nonce is made from


class RecordDecryptor:
    """Opens the records of one direction under one key, in order.

    ``seq`` is the sequence number of the next record; it starts at 0 and
    advances on each successful ``decrypt``.
    """

    def __init__(self, suite: Suite, keys: TrafficKeys) -> None:
        if len(keys.key) != suite.key_len or len(keys.iv) != suite.iv_len:
            raise ValueError(f"{suite.name}: key must be {suite.key_len} bytes and iv {suite.iv_len} bytes")
        self.suite = suite
        self.keys = keys
        self.seq = 0
        self._aead = ChaCha20Poly1305(keys.key) if suite.aead == "CHACHA20-POLY1305" else AESGCM(keys.key)
        self._iv_int = int.from_bytes(keys.iv, "big")

    def __deepcopy__(self, memo: dict) -> "RecordDecryptor":
        """A checkpoint's copy (``Dissector.checkpoint``): its own sequence number; the
        AEAD object, which holds only the key, is shared (it cannot be copied)."""
        other = object.__new__(RecordDecryptor)
        other.__dict__.update(self.__dict__)
        memo[id(self)] = other
        return other

    def _xor_nonce(self) -> bytes:
        return (self._iv_int ^ self.seq).to_bytes(12, "big")

    def decrypt(self, header: bytes, fragment: bytes) -> Decrypted:
        """Open one record: ``header`` is its 5 bytes as sent, ``fragment`` the body."""
        header, fragment = bytes(header), bytes(fragment)
        if len(header) != 5:
            raise DecryptError("record header must be 5 bytes", "RFC 8446 §5.1", 0, code="tls.header_size")
        length = int.from_bytes(header[3:5], "big")
        if length != len(fragment):
            raise DecryptError(f"header says {length} bytes but the fragment has {len(fragment)}",
                               "RFC 8446 §5.1", 3, code="tls.fragment_length", length=length,
                               n=len(fragment))
        if self.suite.tls13:
            return self._decrypt13(header, fragment)
        return self._decrypt12(header, fragment)

    def _open(self, nonce: bytes, body: bytes, aad: bytes, rfc: str, tag_offset: int) -> bytes:
        try:
            return self._aead.decrypt(nonce, body, aad)
        except InvalidTag:
            raise DecryptError(
                f"bad_record_mac: the {self.suite.aead} tag does not verify for record seq {self.seq}",
                rfc, tag_offset, code="tls.bad_record_mac", aead=self.suite.aead, seq=self.seq) from None

    def _decrypt13(self, header: bytes, fragment: bytes) -> Decrypted:
        if header[0] != 23:
            raise DecryptError(f"protected records have outer type application_data (23), not {header[0]}",
                               "RFC 8446 §5.2", 0, code="tls.outer_type", type=header[0])
        if len(fragment) < 17:
            raise DecryptError("encrypted record shorter than tag + content type", "RFC 8446 §5.2", 5,
                               code="tls.record_too_short")
        if len(fragment) > MAX_PLAINTEXT + 256:
            raise DecryptError("record_overflow: ciphertext longer than 2^14 + 256", "RFC 8446 §5.2", 3,
                               code="tls.record_overflow", limit="2^14 + 256")
        nonce = self._xor_nonce()
        inner = self._open(nonce, fragment, header, "RFC 8446 §5.2", 5 + len(fragment) - 16)
        stripped = inner.rstrip(b"\x00")
        if not stripped:
            raise DecryptError("unexpected_message: plaintext is all zeros, no content type", "RFC 8446 §5.4", 5,
                               code="tls.no_content_type")
        if len(stripped) - 1 > MAX_PLAINTEXT:
            raise DecryptError("record_overflow: plaintext longer than 2^14", "RFC 8446 §5.4", 5,
                               code="tls.plaintext_overflow")
        out = Decrypted(content_type=stripped[-1], plaintext=stripped[:-1],
                        padding=len(inner) - len(stripped), seq=self.seq, nonce=nonce,
                        explicit_nonce=b"", aad=header, tag=fragment[-16:], iv=self.keys.iv)
        self.seq += 1
        return out

    def _decrypt12(self, header: bytes, fragment: bytes) -> Decrypted:
        explicit_len = self.suite.explicit_nonce_len
        if len(fragment) < explicit_len + 16:
            raise DecryptError("encrypted record shorter than explicit nonce + tag",
                               "RFC 5288 §3" if explicit_len else "RFC 7905 §2", 5,
                               code="tls.record_too_short")
        if len(fragment) > MAX_PLAINTEXT + 2048:
            raise DecryptError("record_overflow: ciphertext longer than 2^14 + 2048", "RFC 5246 §6.2.3", 3,
                               code="tls.record_overflow", limit="2^14 + 2048")
        if explicit_len:
            explicit = fragment[:explicit_len]
            nonce = self.keys.iv + explicit
            rfc = "RFC 5288 §3"
        else:
            explicit = b""
            nonce = self._xor_nonce()
            rfc = "RFC 7905 §2"
        body = fragment[explicit_len:]
        plain_len = len(body) - 16
        aad = self.seq.to_bytes(8, "big") + header[0:3] + plain_len.to_bytes(2, "big")
        plaintext = self._open(nonce, body, aad, rfc, 5 + len(fragment) - 16)
        out = Decrypted(content_type=header[0], plaintext=plaintext, padding=0, seq=self.seq,
                        nonce=nonce, explicit_nonce=explicit, aad=aad, tag=fragment[-16:], iv=self.keys.iv)
        self.seq += 1
        return out
