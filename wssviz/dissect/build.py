"""Small helpers the dissectors share to make Steps and Fields."""

from __future__ import annotations

from wssviz.steps import Field, Step, computed


def elide(data: bytes, limit: int = 32) -> str:
    """Hex of ``data``, cut to ``limit`` bytes with the full length said."""
    if len(data) <= limit:
        return data.hex()
    return f"{data[:limit].hex()}… ({len(data)} bytes)"


def text_preview(text: str, limit: int = 80) -> str:
    """A peer's text for a one-line summary: control characters shown, long text cut."""
    shown = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return shown if len(shown) <= limit else shown[:limit] + f"… ({len(text)} characters)"


def record_fields(records: list[bytes], encrypted: list[bool]) -> list[Field]:
    """One "record" field per TLS record, with spans into the step's ``wire``."""
    from wssviz.dissect import names

    out, pos = [], 0
    for raw, enc in zip(records, encrypted):
        ctype, version, length = raw[0], int.from_bytes(raw[1:3], "big"), int.from_bytes(raw[3:5], "big")
        f = Field("record", f"{names.content_type(ctype)}, {length} bytes"
                  + (" (encrypted)" if enc else ""), pos, pos + len(raw), "wire")
        f.add(Field("content type", f"{ctype} {names.content_type(ctype)}", pos, pos + 1, "wire"))
        f.add(Field("version", f"0x{version:04x} {names.version(version)}", pos + 1, pos + 3, "wire"))
        f.add(Field("length", str(length), pos + 3, pos + 5, "wire"))
        if enc:
            f.add(Field("encrypted payload", elide(raw[5:], 16), pos + 5, pos + len(raw), "wire"))
        else:
            f.add(Field("fragment", elide(raw[5:], 16), pos + 5, pos + len(raw), "wire"))
        out.append(f)
        pos += len(raw)
    return out


class StepMaker:
    """Numbers steps in the order the learner meets them."""

    def __init__(self) -> None:
        self.count = 0

    def make(self, kind: str, direction: str, title: str, summary: str, *, wire: bytes = b"",
             data: bytes = b"", fields: list[Field] | None = None, status: str = "ok",
             time: float = 0.0) -> Step:
        step = Step(self.count, kind, direction, title, summary, wire, data, fields or [], status, time)
        self.count += 1
        return step

    def error(self, layer: str, rule: str, rfc: str, offset: int | str, by: str, time: float, *,
              action: str, blame: str | None = None, wire: bytes = b"", data: bytes = b"",
              status: str = "error", title: str | None = None, summary: str | None = None,
              extra: list[Field] | None = None) -> Step:
        """An ``error`` step: which layer, which rule (RFC section), where, who noticed
        it (``by``), who broke it (``blame``, when known), and what ``by`` did about it
        (docs/architecture.md §4, §5).  The step sits on the side that noticed."""
        fields = [computed("layer", layer), computed("rule", rule), computed("rfc", rfc),
                  computed("offset", str(offset)), computed("by", by)]
        if blame:
            fields.append(computed("broken by", blame))
        fields.append(computed("action", action))
        where = f", offset {offset}" if isinstance(offset, int) else ""
        direction = by if by in ("client", "server") else "client"
        return self.make("error", direction, title or f"{layer}: rule broken",
                         summary or f"{by}: {rule} ({rfc}{where})", wire=wire, data=data,
                         fields=fields + (extra or []), status=status, time=time)
