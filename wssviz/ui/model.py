"""What the interface knows about Steps, as plain functions (no widgets here).

The panes ask these questions of the session's steps: which pane matters for a
step, which earlier step a pane should show, which keys protected a record, and
how to clip a long value for one line.  Everything reads Steps and Fields only;
nothing here parses bytes.
"""

from __future__ import annotations

from typing import Sequence

from wssviz.steps import Field, Step

#: Pane ids, in the order Tab walks them (and the digit keys 1-6 pick them).
PANES = ("tls", "upgrade", "accept", "frames", "hex", "explain")

#: Longest value shown on one line; longer values are clipped with an ellipsis.
VALUE_LIMIT = 160


def pane_for(step: Step) -> str:
    """The pane that comes forward by itself when ``step`` is shown."""
    kind = step.kind
    if kind in ("ws.accept", "ws.accept_check"):
        return "accept"
    if kind == "ws.frame":
        return "frames"
    if step.layer == "tls":
        return "tls"
    if step.layer == "http":
        return "upgrade"
    return "explain"


def latest(steps: Sequence[Step], upto: int, kinds: tuple[str, ...] = (),
           layer: str | None = None) -> Step | None:
    """The last step at or before index ``upto`` of one of ``kinds`` (or ``layer``).

    Panes never show a step the learner has not reached yet.  A long session's steps
    (``LazySteps``) are searched in outline: only the step found is made whole.
    """
    look = getattr(steps, "outline", steps.__getitem__)
    for i in range(min(upto, len(steps) - 1), -1, -1):
        s = look(i)
        if s.kind in kinds or (layer is not None and s.layer == layer):
            return steps[i]
    return None


def scheme_of(session: object, steps: Sequence[Step]) -> str:
    """``wss`` or ``ws``: the session's own word if it has one, else what the steps show."""
    scheme = getattr(session, "scheme", None)
    if scheme in ("ws", "wss"):
        return scheme
    for s in steps[:8]:
        if s.layer == "tls":
            return "wss"
    if any(s.layer == "http" for s in steps[:8]):
        return "ws"
    return "wss"


def is_encrypted(step: Step) -> bool:
    """True if the record(s) that carried this step hide it from the wire."""
    return step.has("tls.record.encrypted_payload")


def keys_phase(steps: Sequence[Step], upto: int) -> Field | None:
    """The phase field of the newest ``tls.keys`` step before ``upto``."""
    k = latest(steps, upto - 1, kinds=("tls.keys",))
    return k.find("tls.keys.phase") if k is not None else None


def clip(value: str, limit: int = VALUE_LIMIT) -> str:
    """One display line of ``value``: control characters made visible, long text clipped."""
    if len(value) > limit:
        extra = len(value) - limit
        value = value[:limit] + f"… (+{extra:,} chars)"
    if "\n" in value or "\r" in value or "\t" in value:
        value = value.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    return value


def field_at(fields: Sequence[Field], of: str, offset: int) -> Field | None:
    """The narrowest field whose ``of`` span holds byte ``offset`` (hex → tree)."""
    best: Field | None = None
    for top in fields:
        for f in top.walk():
            if f.of == of and f.start <= offset < f.end:
                if best is None or (f.end - f.start) <= (best.end - best.start):
                    best = f
    return best


def status_mark(f: Field) -> str:
    """``ok`` / ``failed`` / ``other`` for a check: its raw value is True, False or
    neither (a check not judged, a word)."""
    if f.raw is True:
        return "ok"
    if f.raw is False:
        return "failed"
    return "other"
