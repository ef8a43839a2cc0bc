"""Every limit wssviz enforces, in one place.

Each limit has a default here, a line in the README ("Limits") and in ``wssviz
--help``, and can be set for one run with ``--limit NAME=VALUE`` (repeatable).
Breaking a limit is never a stall or a traceback: it is an ``error`` step with the
close code or HTTP status the rule names (1009 message too big, 1002 protocol
error, 431 header fields too large, 413 content too large …), or, for a file, a
one-line message.

The process has one set (``LIMITS``), read where a limit is applied: the command
line sets it before anything starts (``configure``).  Pure data: the sans-I/O core
reads it like any other caller.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields, replace

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30


def _size(default: int, what: str) -> int:
    return field(default=default, metadata={"kind": "size", "what": what})


def _count(default: int, what: str) -> int:
    return field(default=default, metadata={"kind": "count", "what": what})


def _seconds(default: float, what: str) -> float:
    return field(default=default, metadata={"kind": "seconds", "what": what})


@dataclass(frozen=True)
class Limits:
    # -- WebSocket (RFC 6455 §10.4: an endpoint limits what it accepts) ------------------
    max_frame: int = _size(64 * MiB, "payload of one WebSocket frame (beyond: close 1009)")
    max_message: int = _size(64 * MiB, "a message, reassembled and inflated (beyond: close 1009)")
    max_fragments: int = _count(1_000_000, "frames in one fragmented message (beyond: close 1009)")
    # -- HTTP (the opening handshake) ---------------------------------------------------
    max_head: int = _size(16 * KiB, "an HTTP request or response head (beyond: 431)")
    max_line: int = _size(8190, "one line of an HTTP head (beyond: 431; 414 for a request line)")
    max_headers: int = _count(100, "header lines in an HTTP head (beyond: 431)")
    # -- time ---------------------------------------------------------------------------
    handshake_timeout: float = _seconds(10.0, "TLS handshake and HTTP head, for listen's clients")
    close_timeout: float = _seconds(5.0, "waiting for the peer's Close or TCP close")
    idle_timeout: float = _seconds(60.0, "an upgraded listen connection may stay silent (then: 1001)")
    # -- listen ---------------------------------------------------------------------------
    max_connections: int = _count(64, "listen's connections at once")
    max_per_address: int = _count(32, "listen's connections at once from one client address")
    # -- memory and files ------------------------------------------------------------------
    keep_bytes: int = _size(1 * MiB, "bytes of one connection kept in memory (the rest: counted)")
    max_recording: int = _size(1 * GiB, "a recording file read by replay or export")
    max_capture: int = _size(1 * GiB, "a pcap or pcapng file read by replay or export")


#: The limits of this process (``configure`` replaces them).
LIMITS = Limits()


class LimitError(ValueError):
    """A ``--limit`` that names no limit or gives no valid value."""


_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": KiB, "m": 1000**2, "mb": 1000**2, "mib": MiB,
          "g": 1000**3, "gb": 1000**3, "gib": GiB}
_NUMBER = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*\Z")


def parse_value(name: str, text: str) -> int | float:
    """``NAME``'s value from ``text``: sizes take B, KiB, MiB, GiB (or k, M, G), times
    take s or ms; every value is a finite, positive number."""
    kinds = {f.name: f.metadata["kind"] for f in fields(Limits)}
    if name not in kinds:
        raise LimitError(f"no limit is called {name!r}; the limits are: {', '.join(kinds)}")
    m = _NUMBER.match(text)
    if not m:
        raise LimitError(f"--limit {name}={text!r}: not a number (e.g. {example(name)})")
    number, unit = float(m.group(1)), m.group(2).lower()
    kind = kinds[name]
    if kind == "seconds":
        scale = {"": 1.0, "s": 1.0, "ms": 0.001}.get(unit)
    elif kind == "size":
        scale = _UNITS.get(unit)
    else:
        scale = 1 if unit == "" else None
    if scale is None:
        raise LimitError(f"--limit {name}={text!r}: unknown unit {unit!r} (e.g. {example(name)})")
    value = number * scale
    if not math.isfinite(value) or value <= 0 or value > 2**62:
        raise LimitError(f"--limit {name}={text!r}: must be above 0 and finite")
    if kind == "seconds":
        return value
    if value != int(value):
        raise LimitError(f"--limit {name}={text!r}: must be a whole number of bytes or items")
    return int(value)


def example(name: str) -> str:
    kind = {f.name: f.metadata["kind"] for f in fields(Limits)}[name]
    return {"size": f"{name}=16MiB", "seconds": f"{name}=30s", "count": f"{name}=100"}[kind]


def configure(settings: list[str]) -> Limits:
    """Apply ``NAME=VALUE`` settings (the command line's ``--limit``) to ``LIMITS``."""
    global LIMITS
    changes: dict[str, int | float] = {}
    for item in settings:
        name, sep, text = item.partition("=")
        if not sep:
            raise LimitError(f"--limit {item!r}: write NAME=VALUE (e.g. max_frame=16MiB)")
        changes[name.strip()] = parse_value(name.strip(), text)
    LIMITS = replace(LIMITS, **changes)
    return LIMITS


def describe() -> str:
    """The limits and their defaults, for ``--help`` and the README."""
    lines = []
    for f in fields(Limits):
        value = f.default
        kind = f.metadata["kind"]
        shown = (f"{value:g} s" if kind == "seconds" else _human(value) if kind == "size" else f"{value:,}")
        lines.append(f"  {f.name:18} {shown:>10}  {f.metadata['what']}")
    return "\n".join(lines)


def _human(n: int) -> str:
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} B"
