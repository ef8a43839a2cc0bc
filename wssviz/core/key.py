"""The Sec-WebSocket-Key and its Sec-WebSocket-Accept (RFC 6455 §4.1, §4.2.2), sans I/O.

A fresh key, the check that a key is the base64 of 16 bytes, and the Accept
derivation with every intermediate value kept (key + GUID → SHA-1 → base64), so
that a view can show each one.  Apart from the handshake module (which re-exports
these names) because checking a scenario's key needs only this, not the whole
HTTP head parser.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Callable

#: The GUID of RFC 6455 §1.3, appended to the key before hashing.
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def new_key(rand: Callable[[int], bytes] = os.urandom) -> str:
    """A fresh Sec-WebSocket-Key: 16 random bytes, base64 (RFC 6455 §4.1)."""
    raw = rand(16)
    if len(raw) != 16:
        raise ValueError("rand(16) must return 16 bytes")
    return base64.b64encode(raw).decode("ascii")


def _wire_bytes(s: str) -> bytes:
    try:
        return s.encode("latin-1")
    except UnicodeEncodeError:
        return s.encode("utf-8")


def decode_key(key: str) -> bytes | None:
    """The 16 bytes a Sec-WebSocket-Key stands for, or None if it is not the
    canonical base64 of exactly 16 bytes (RFC 6455 §4.1, §11.3.1)."""
    try:
        raw = base64.b64decode(key.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        return None
    if len(raw) != 16 or base64.b64encode(raw).decode("ascii") != key:
        return None
    return raw


@dataclass(frozen=True)
class AcceptDerivation:
    """Every intermediate of key + GUID → SHA-1 → base64 (RFC 6455 §4.2.2 item 5.4)."""

    key: str
    key_bytes: bytes | None
    joined: bytes
    digest: bytes
    accept: str


def derive_accept(key: str) -> AcceptDerivation:
    import hashlib  # here, not at import: the first screen never needs it (~2.5 ms)

    joined = _wire_bytes(key) + GUID.encode("ascii")
    digest = hashlib.sha1(joined).digest()
    return AcceptDerivation(key, decode_key(key), joined, digest,
                            base64.b64encode(digest).decode("ascii"))
