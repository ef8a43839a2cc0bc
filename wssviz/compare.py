"""Two sessions side by side: their steps aligned, and a summary of what differs.

``align`` pairs the steps of two sessions by what they are (kind, direction, the
opcode of a frame), so the same moment of two connections sits on one row and a step
only one of them has stands alone: ws:// against wss:// (the TLS handshake only on one
side; at each shared step, what an eavesdropper sees), TLS 1.2 against TLS 1.3 (the
extra round trip, what each encrypts), or any two scenarios.  ``summary`` measures each
session: round trips before the first WebSocket byte, bytes on the wire, the share of
them encrypted, what an eavesdropper can read, when the first WebSocket byte leaves.
Decisions are made on kinds, directions and raw values; words come from the catalogs.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from wssviz.explain import visibility
from wssviz.quiz import TLS_VERSIONS, round_trips, tls_version
from wssviz.steps import Step

WIRE = ("c2s", "s2c")


def arrow(s: Step) -> str:
    """A step's direction in one character: → sent by the client, ← by the server, ◆ local."""
    return {"c2s": "→", "s2c": "←"}.get(s.direction, "◆")


def _key(s: Step) -> tuple:
    opcode = s.raw("ws.frame.opcode") if s.kind == "ws.frame" else None
    return s.kind, s.direction, opcode


@dataclass(frozen=True)
class Row:
    a: Step | None
    b: Step | None


def align(a: list[Step], b: list[Step]) -> list[Row]:
    """Rows of (step of A, step of B): equal moments together, the rest alone, in order."""
    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(None, [_key(s) for s in a], [_key(s) for s in b], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            rows += [Row(a[i], b[j]) for i, j in zip(range(i1, i2), range(j1, j2))]
        else:  # one side's steps first, then the other's: no false pairs
            rows += [Row(a[i], None) for i in range(i1, i2)]
            rows += [Row(None, b[j]) for j in range(j1, j2)]
    return rows


@dataclass(frozen=True)
class Summary:
    scheme: str
    tls: str | None  # "1.3", "1.2" or None (ws://)
    round_trips: int | None
    steps: int
    wire_steps: int
    readable_steps: int  # steps whose bytes an eavesdropper reads
    bytes: int  # bytes that crossed the wire (TLS records, or clear HTTP and frames)
    bytes_before_ws: int | None  # of them, before the client's first WebSocket frame
    encrypted_bytes: int
    first_ws: float | None  # seconds from the connection's start to the first WebSocket frame
    frames: int = 0  # WebSocket frames exchanged (the traffic itself: compare like with like)

    @property
    def encrypted_share(self) -> float:
        return self.encrypted_bytes / self.bytes if self.bytes else 0.0


def summary(steps: list[Step], scheme: str) -> Summary:
    wire = [s for s in steps if s.direction in WIRE and s.wire]  # (TCP's own steps carry no bytes)
    seen = {id(s): visibility(s, scheme) for s in wire}
    first = next((s for s in steps if s.kind == "ws.frame"), None)
    version = tls_version(steps)
    return Summary(
        scheme=scheme,
        tls=TLS_VERSIONS.get(version) if version else None,
        round_trips=round_trips(steps),
        steps=len(steps),
        wire_steps=len(wire),
        readable_steps=sum(1 for s in wire if seen[id(s)] == "clear"),
        bytes=sum(len(s.wire) for s in wire),
        bytes_before_ws=sum(len(s.wire) for s in wire if s.index < first.index) if first else None,
        encrypted_bytes=sum(len(s.wire) for s in wire if seen[id(s)] == "encrypted"),
        first_ws=first.time if first else None,
        frames=sum(1 for s in wire if s.kind == "ws.frame"),
    )


def summary_rows(sa: Summary, sb: Summary, lang: str, timing: bool = True) -> list[tuple[str, str, str]]:
    """The summary table, each row (what is measured, A's value, B's value) in ``lang``;
    ``timing``: with the row of live timings (a printout has it; a screen beside a
    replay, whose times are not this run's, leaves it out)."""
    from wssviz.explain import ui_text

    dash = ui_text("compare_none", lang)

    def fmt(v, kind: str = "") -> str:
        if v is None:
            return dash
        if kind == "share":
            return f"{round(100 * v)} %"
        if kind == "seconds":
            return f"{v * 1000:.1f} ms"
        return f"{v:,}" if isinstance(v, int) else str(v)

    rows = [("row_scheme", f"{sa.scheme}://", f"{sb.scheme}://"),
            ("row_tls", fmt(sa.tls), fmt(sb.tls)),
            ("row_rtt", fmt(sa.round_trips), fmt(sb.round_trips)),
            ("row_frames", fmt(sa.frames), fmt(sb.frames)),
            ("row_steps", fmt(sa.wire_steps), fmt(sb.wire_steps)),
            ("row_bytes", fmt(sa.bytes), fmt(sb.bytes)),
            ("row_bytes_before", fmt(sa.bytes_before_ws), fmt(sb.bytes_before_ws)),
            ("row_encrypted", fmt(sa.encrypted_share, "share"), fmt(sb.encrypted_share, "share")),
            ("row_readable", f"{sa.readable_steps} / {sa.wire_steps}", f"{sb.readable_steps} / {sb.wire_steps}")]
    if timing:
        rows.append(("row_first_ws", fmt(sa.first_ws, "seconds"), fmt(sb.first_ws, "seconds")))
    return [(ui_text(f"compare_{key}", lang), va, vb) for key, va, vb in rows]
