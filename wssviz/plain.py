"""The text views: ``--plain`` (a numbered walkthrough for people) and ``--json``.

Both render Steps only, in one language: every word comes from the catalogs
(``wssviz.explain``).  ``--json`` prints exactly the Step keys of
docs/architecture.md §2, one Step per line; each field carries its ``id`` and
``raw`` value beside its ``name`` and ``value`` for people, and the ids, kinds and
raw values are the same in every language.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from wssviz import explain as ex
from wssviz.steps import Field, Msg, Step, jsonable
from wssviz.textwrap_cjk import cut, wrap

MAX_FIELDS = 14  # key fields shown per step in --plain
#: Fields --plain leaves to --json: record framing, the version, decryption, the XOR lane.
_FRAMING = {"tls.record", "tls.version", "tls.decrypted", "ws.frame.xor_lane"}
_HEADER_PARTS = {"tls.handshake.type", "tls.handshake.length"}


def _key_fields(step: Step) -> list[Field]:
    """The fields worth a line: the message's own children, not record framing."""
    out: list[Field] = []
    for f in step.fields:
        if f.id in _FRAMING:
            continue
        if f.children and f.of == "data" and step.layer == "tls":
            out.extend(c for c in f.children if c.id not in _HEADER_PARTS)
        elif f.id == "http.headers":
            out.extend(f.children)
        else:
            out.append(f)
    return out


# Chinese is wrapped by display cells, never with closing punctuation at a line
# start: the rule lives in wssviz.textwrap_cjk, shared with the interface.


def arrow(step: Step, lang: str) -> str:
    return ex.ui_text(f"plain_{step.direction}", lang)


def format_step(step: Step, lang: str = "en", scheme: str = "wss", explain: bool = True,
                seen: set[str] | None = None) -> str:
    """One step as text.  ``seen``: glossary terms already explained in this
    walkthrough (a term's meaning is printed the first time it appears)."""
    t = ex.ui_text
    status = "" if step.status == "ok" else t("plain_status", lang).format(status=t(f"status_{step.status}", lang))
    lines = [f"[{step.index}] {arrow(step, lang)}  {ex.title(step, lang)}{status}",
             *wrap(ex.summary(step, lang), 100, "    ", "      ")]
    kf = _key_fields(step)
    for f in kf[:MAX_FIELDS]:
        lines.append(cut("      " + t("plain_field", lang).format(label=ex.label(f, lang), value=ex.value(f, lang)), 100))
    if len(kf) > MAX_FIELDS:
        lines.append("      " + t("plain_more_fields", lang).format(n=len(kf) - MAX_FIELDS))
    if step.has("ws.frame.not_shown"):
        size = len(step.data) + step.raw("ws.frame.not_shown")
        records = step.raw("ws.frame.records")
        key = "plain_wire_large_records" if records else "plain_wire_large"
        lines.append("    " + t(key, lang).format(size=size, records=records, kept=len(step.data)))
    elif step.wire:
        if step.wire == step.data:
            lines.append("    " + ex.text(Msg("plain.wire_clear", n=len(step.wire)), lang))
        else:
            lines.append("    " + ex.text(Msg("plain.wire_records", n=len(step.wire), m=len(step.data)), lang))
    if explain:
        e = ex.explain(step, lang, scheme=scheme)
        body = []
        for key, text in (("what_happened", e.what), ("why", e.why), ("eavesdropper_sees", e.eavesdropper)):
            if text:
                lines.extend(wrap(t("plain_field", lang).format(label=t(key, lang), value=text), 100, "    ", "      "))
                body.append(text)
        if e.rfc:
            lines.append("    " + t("plain_field", lang).format(label=t("rfc", lang), value=e.rfc))
        if seen is not None:
            for term in ex.glossary(lang):
                if term.key in seen:
                    continue
                if any(ex.mentions(text, word) for text in body for word in term.match):
                    seen.add(term.key)
                    lines.extend(wrap(t("plain_glossary_line", lang).format(name=term.name, text=term.text),
                                      100, "    ⟶ ", "      "))
    return "\n".join(lines)


def header(title: str, goal: str) -> str:
    """What the walkthrough is about, above its first step."""
    lines = [f"== {title} =="] + wrap(goal, 100, "", "") if goal else [f"== {title} =="]
    return "\n".join(lines) + "\n\n"


def field_dict(f: Field, lang: str) -> dict[str, Any]:
    return {"id": f.id, "name": ex.label(f, lang), "value": ex.value(f, lang), "raw": jsonable(f.raw),
            "start": f.start, "end": f.end, "of": f.of,
            "children": [field_dict(c, lang) for c in f.children]}


def step_dict(step: Step, lang: str = "en") -> dict[str, Any]:
    """The --json object of a step, in ``lang``."""
    return {"index": step.index, "kind": str(step.kind), "direction": str(step.direction),
            "title": ex.title(step, lang), "summary": ex.summary(step, lang),
            "wire": step.wire.hex(), "data": step.data.hex(),
            "fields": [field_dict(f, lang) for f in step.fields],
            "status": str(step.status), "time": step.time}


def to_json(step: Step, lang: str = "en") -> str:
    return json.dumps(step_dict(step, lang), ensure_ascii=False, separators=(", ", ": "))


def write_json(step: Step, out: TextIO, lang: str = "en") -> None:
    out.write(to_json(step, lang) + "\n")


def write_plain(step: Step, out: TextIO, lang: str = "en", scheme: str = "wss",
                seen: set[str] | None = None) -> None:
    out.write(format_step(step, lang, scheme, seen=seen) + "\n\n")
