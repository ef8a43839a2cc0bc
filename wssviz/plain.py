"""The text views: ``--plain`` (a numbered walkthrough for people) and ``--json``.

Both render Steps only.  ``--json`` prints exactly the Step keys of docs/architecture.md §2,
one Step per line.
"""

from __future__ import annotations

from typing import TextIO

from wssviz.steps import Step
from wssviz.textwrap_cjk import wrap

ARROWS = {"c2s": "client ──► server", "s2c": "client ◄── server",
          "client": "client (local)", "server": "server (local)"}
MAX_FIELDS = 14  # key fields shown per step in --plain


def _key_fields(step: Step) -> list[tuple[str, str]]:
    """The fields worth a line: the message's own children, not record framing."""
    out: list[tuple[str, str]] = []
    for f in step.fields:
        if f.name in ("record", "tls version", "decrypted with", "xor lane"):
            continue
        if f.children and f.of == "data" and step.layer == "tls":
            for c in f.children:
                if c.name in ("handshake type", "length"):
                    continue
                out.append((c.name, c.value))
        elif f.name == "headers":
            out.extend((c.name, c.value) for c in f.children)
        else:
            out.append((f.name, f.value))
    return out


# Chinese is wrapped by display cells, never with closing punctuation at a line
# start: the rule lives in wssviz.textwrap_cjk, shared with the interface.


def _bytes(n: int) -> str:
    return f"{n} byte" + ("" if n == 1 else "s")


def format_step(step: Step, lang: str = "en", scheme: str = "wss", explain: bool = True) -> str:
    lines = [f"[{step.index}] {ARROWS[step.direction]}  {step.title}"
             + ("" if step.status == "ok" else f"  ({step.status.upper()})"),
             f"    {step.summary}"]
    kf = _key_fields(step)
    for name, value in kf[:MAX_FIELDS]:
        value = value if len(value) <= 100 else value[:97] + "…"
        lines.append(f"      {name}: {value}")
    if len(kf) > MAX_FIELDS:
        lines.append(f"      … {len(kf) - MAX_FIELDS} more fields (see --json)")
    if step.wire:
        if step.wire == step.data:
            lines.append(f"    on the wire: {_bytes(len(step.wire))}, readable as they are")
        else:
            lines.append(f"    on the wire: {_bytes(len(step.wire))} of TLS records; "
                         f"the message inside: {_bytes(len(step.data))}")
    if explain:
        from wssviz.explain import explain as explain_step
        from wssviz.explain import ui_text

        e = explain_step(step, lang, scheme=scheme)
        for key, text in (("what_happened", e.what), ("why", e.why), ("eavesdropper_sees", e.eavesdropper)):
            if text:
                lines.extend(wrap(f"{ui_text(key, lang)}: {text}", 100, "    ", "      "))
        if e.rfc:
            lines.append(f"    {ui_text('rfc', lang)}: {e.rfc}")
    return "\n".join(lines)


def header(title: str, goal: str) -> str:
    """What the walkthrough is about, above its first step."""
    lines = [f"== {title} =="] + wrap(goal, 100, "", "") if goal else [f"== {title} =="]
    return "\n".join(lines) + "\n\n"


def write_json(step: Step, out: TextIO) -> None:
    out.write(step.to_json() + "\n")


def write_plain(step: Step, out: TextIO, lang: str = "en", scheme: str = "wss") -> None:
    out.write(format_step(step, lang, scheme) + "\n\n")
