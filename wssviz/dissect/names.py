"""Human names for TLS numbers.

The tables come from scapy (``scapy.layers.tls``), a well-kept registry of IANA
numbers.  Importing scapy is slow (its TLS layer pulls in most of itself, ~0.35 s
or more), so each table is loaded on first use, from the submodule that defines
it, and cached; nothing is imported when ``wssviz`` is.  ``version`` and
``content_type`` need only ``scapy.layers.tls.basefields`` (the cheapest
submodule); suites, extensions, groups, signature schemes, alerts and handshake
types pull in the rest of scapy's TLS layer on first use.

A few names are corrected or completed from the RFCs where scapy's table
differs from the IANA registry (TLS 1.3 SignatureScheme names, handshake and
extension numbers added by RFC 8446 / RFC 8879).  scapy's global ``conf`` is
never touched.

GREASE values (RFC 8701) are named "GREASE (0x0a0a)".  A number with no name is
not text but a ``Msg`` (``value.unknown_code``), so it reads "unknown" in the
learner's language; every function here returns a protocol name (``str``, the same
in every language) or that Msg.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import threading
from typing import Callable

from wssviz import memo
from wssviz.core.msg import Msg

__all__ = ["cipher_suite", "extension", "group", "signature_scheme", "alert", "known",
           "handshake_type", "version", "content_type", "alert_level", "label",
           "preload", "KINDS"]

# (module, attribute) holding each table in scapy.
_SOURCES = {
    "cipher_suite": ("scapy.layers.tls.crypto.suites", "_tls_cipher_suites"),
    "extension": ("scapy.layers.tls.extensions", "_tls_ext"),
    "group": ("scapy.layers.tls.crypto.groups", "_tls_named_groups"),
    "signature_scheme": ("scapy.layers.tls.keyexchange", "_tls_hash_sig"),
    "alert": ("scapy.layers.tls.record", "_tls_alert_description"),
    "alert_level": ("scapy.layers.tls.record", "_tls_alert_level"),
    "handshake_type": ("scapy.layers.tls.handshake", "_tls_handshake_type"),
    "version": ("scapy.layers.tls.basefields", "_tls_version"),
    "content_type": ("scapy.layers.tls.basefields", "_tls_type"),
}

# Names from the RFCs that win over scapy's (scapy uses "sha256+ecdsa" style for
# signature schemes, and lacks a few newer numbers).
_OVERRIDES: dict[str, dict[int, str]] = {
    "signature_scheme": {  # RFC 8446 §4.2.3
        0x0401: "rsa_pkcs1_sha256", 0x0501: "rsa_pkcs1_sha384", 0x0601: "rsa_pkcs1_sha512",
        0x0403: "ecdsa_secp256r1_sha256", 0x0503: "ecdsa_secp384r1_sha384",
        0x0603: "ecdsa_secp521r1_sha512",
        0x0804: "rsa_pss_rsae_sha256", 0x0805: "rsa_pss_rsae_sha384",
        0x0806: "rsa_pss_rsae_sha512", 0x0807: "ed25519", 0x0808: "ed448",
        0x0809: "rsa_pss_pss_sha256", 0x080A: "rsa_pss_pss_sha384",
        0x080B: "rsa_pss_pss_sha512", 0x0201: "rsa_pkcs1_sha1", 0x0203: "ecdsa_sha1",
        0x081A: "ecdsa_brainpoolP256r1tls13_sha256",
        0x081B: "ecdsa_brainpoolP384r1tls13_sha384",
        0x081C: "ecdsa_brainpoolP512r1tls13_sha512",
        # ML-DSA (FIPS 204) in TLS 1.3, draft-ietf-tls-mldsa: Chromium offers them
        0x0904: "mldsa44", 0x0905: "mldsa65", 0x0906: "mldsa87",
    },
    "group": {  # IANA TLS Supported Groups: the post-quantum hybrids and ML-KEM
        0x11EC: "X25519MLKEM768", 0x11EB: "SecP256r1MLKEM768", 0x11ED: "SecP384r1MLKEM1024",
        0x6399: "X25519Kyber768Draft00",
        0x0200: "MLKEM512", 0x0201: "MLKEM768", 0x0202: "MLKEM1024",
    },
    "handshake_type": {  # RFC 8446 §4
        4: "new_session_ticket", 5: "end_of_early_data", 254: "message_hash",
    },
    "extension": {  # IANA TLS ExtensionType registry
        0x11: "status_request_v2",
        0x1B: "compress_certificate", 0x22: "delegated_credentials", 0x2A: "early_data",
        0x3A: "ticket_request", 0xFE0D: "encrypted_client_hello",
        # ALPS (draft-vvv-tls-alps): 0x4469 first, 0x44cd since Chromium 133
        0x4469: "application_settings_old", 0x44CD: "application_settings",
        0xCA34: "trust_anchors",  # draft-ietf-tls-trust-anchor-ids (Chromium)
    },
    "alert": {41: "no_certificate", 60: "export_restriction"},
    "content_type": {24: "heartbeat"},
}

# Kinds whose numbers GREASE may take (RFC 8701 §2).
_GREASE_KINDS = {"cipher_suite", "extension", "group", "signature_scheme", "version"}

KINDS = tuple(_SOURCES)

_cache: dict[str, dict[int, str]] = {}
_lock = threading.Lock()


def _table(kind: str) -> dict[int, str]:
    table = _cache.get(kind)
    if table is not None:
        return table
    with _lock:
        if kind not in _cache:
            source = dict(_scapy_tables().get(kind, {}))
            source.update(_OVERRIDES.get(kind, {}))
            _cache[kind] = source
        return _cache[kind]


_scapy: dict[str, dict[int, str]] | None = None


def _memo_name() -> str | None:
    """The memo of scapy's tables, per scapy version (None: no scapy)."""
    try:
        version = importlib.metadata.version("scapy")
    except importlib.metadata.PackageNotFoundError:
        return None
    return f"scapy-{version}-tls-names.json"


def _scapy_tables() -> dict[str, dict[int, str]]:
    """scapy's tables, read once from scapy and memoised on disk.

    Importing scapy's TLS layer costs about a second here; the memo (a JSON file
    in the user's cache folder, named after the scapy version) makes every later
    start read the same tables in about a millisecond.  The knowledge is still
    scapy's: a new scapy version gets a new memo.
    """
    global _scapy
    if _scapy is not None:
        return _scapy
    name = _memo_name()
    raw = memo.read(name) if name is not None else None
    if isinstance(raw, dict):
        try:
            _scapy = {k: {int(c): str(n) for c, n in v.items()} for k, v in raw.items()}
            if set(_scapy) == set(_SOURCES):
                return _scapy
        except (ValueError, AttributeError):
            pass
    tables: dict[str, dict[int, str]] = {}
    complete = True
    for kind, (module, attr) in _SOURCES.items():
        try:
            tables[kind] = {int(c): str(n) for c, n in getattr(importlib.import_module(module), attr).items()}
        except Exception:  # scapy missing or changed: keep working with our overrides
            tables[kind] = {}
            complete = False
    _scapy = tables
    if name is not None and complete:
        memo.write(name, tables, replaces="scapy-*-tls-names.json")
    return tables


def preload() -> None:
    """Load every table now (e.g. from a worker thread while the app starts)."""
    for kind in _SOURCES:
        _table(kind)


def _grease(code: int) -> bool:
    return (code & 0x0F0F) == 0x0A0A and (code >> 8) == (code & 0xFF)


def known(kind: str, code: int) -> bool:
    """Whether ``code`` has a name of ``kind`` (GREASE counts as named)."""
    return (kind in _GREASE_KINDS and _grease(code)) or code in _table(kind)


def _name(kind: str, code: int, width: int = 4) -> str | Msg:
    if kind in _GREASE_KINDS and _grease(code):
        return f"GREASE (0x{code:04x})"
    name = _table(kind).get(code)
    if name is None:
        return Msg("value.unknown_code", code=f"0x{code:0{width}x}")
    return name


def cipher_suite(code: int) -> str | Msg:
    return _name("cipher_suite", code)


def extension(code: int) -> str | Msg:
    return _name("extension", code)


def group(code: int) -> str | Msg:
    return _name("group", code)


def signature_scheme(code: int) -> str | Msg:
    return _name("signature_scheme", code)


def alert(code: int) -> str | Msg:
    return _name("alert", code, 2)


def alert_level(code: int) -> str | Msg:
    return _name("alert_level", code, 2)


def handshake_type(code: int) -> str | Msg:
    return _name("handshake_type", code, 2)


def version(code: int) -> str | Msg:
    return _name("version", code)


def content_type(code: int) -> str | Msg:
    return _name("content_type", code, 2)


_FUNCS: dict[str, Callable[[int], str | Msg]] = {
    "cipher_suite": cipher_suite, "extension": extension, "group": group,
    "signature_scheme": signature_scheme, "alert": alert, "alert_level": alert_level,
    "handshake_type": handshake_type, "version": version, "content_type": content_type,
}

# How the number is written in a label: 2-byte codes in hex, 1-byte codes in decimal.
_HEX = {"cipher_suite", "extension", "group", "signature_scheme", "version"}


def label(kind: str, code: int) -> str | Msg:
    """The form field values use: "0x1301 TLS_AES_128_GCM_SHA256", "42 bad_certificate";
    for a number with no name, ``Msg("value.code_unknown")`` ("0x1234 unknown")."""
    try:
        func = _FUNCS[kind]
    except KeyError:
        raise ValueError(f"unknown name kind {kind!r}; one of {sorted(_FUNCS)}") from None
    number = f"0x{code:04x}" if kind in _HEX else str(code)
    name = func(code)
    if isinstance(name, Msg):
        return Msg("value.code_unknown", code=number)
    if kind in _GREASE_KINDS and _grease(code):
        name = "GREASE"  # the number is already in front
    return f"{number} {name}"
