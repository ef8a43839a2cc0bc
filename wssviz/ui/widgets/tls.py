"""The TLS pane: the current TLS message as a field tree, with what protected it.

For ``tls.cert_check`` the verdict is shown line by line (chain, host name,
validity, signature, verdict, OpenSSL's verdict), each marked ✓ or ✗.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.cells import cell_len
from rich.text import Text

from wssviz.steps import Field

from wssviz.ui.model import clip, is_encrypted, keys_phase, latest, status_mark
from wssviz.ui.widgets.base import Pane, View
from wssviz.ui.widgets.detail import Band
from wssviz.ui.widgets.fieldtree import FieldTree
from wssviz.ui.widgets.sections import TextSection, TreeSection
from wssviz.ui.widgets.wrapped import Wrapped

MARKS = {"ok": ("✓ ", "green"), "failed": ("✗ ", "bold red"), "other": ("• ", "")}


def record_diagram(step, view: "View | None" = None) -> Text | None:
    """The 5-byte header of the step's first TLS record drawn as RFC 8446 §5.1 lays it
    out (its struct's field names, their sizes in the learner's language), with this
    record's values."""
    rec = step.find("tls.record")
    if rec is None or rec.of != "wire":
        return None
    kids = {c.id: c.raw for c in rec.children}
    ctype, version, length = (kids.get("tls.record.content_type"), kids.get("tls.record.version"),
                              kids.get("tls.record.length"))
    if None in (ctype, version, length):
        return None
    bits = (lambda n: view.t("diagram_bits", n=n)) if view is not None else (lambda n: f"{n} bits")
    cols = [("type", bits(8), str(ctype)), ("legacy_record_version", bits(16), f"0x{version:04x}"),
            ("length", bits(16), str(length))]
    widths = [max(cell_len(c) for c in col) + 2 for col in cols]

    def row(cells: list[str]) -> str:
        return "|" + "|".join(" " + c + " " * (w - 1 - cell_len(c)) for c, w in zip(cells, widths)) + "|"

    rule = "+" + "+".join("-" * w for w in widths) + "+"
    out = Text(rule + "\n" + row([c[0] for c in cols]) + "\n" + row([c[1] for c in cols]) + "\n" + rule + "\n",
               "dim", no_wrap=True)
    out.append(row([c[2] for c in cols]), "bold cyan")
    out.append("\n" + rule, "dim")
    return out


def tls_head(view: View) -> tuple[RenderableType, object]:
    """The heading and the step whose fields the tree shows (or None).  Sentences
    are ``Wrapped`` so that Chinese breaks by the same rules as everywhere else."""
    steps, index = view.steps, view.index
    step = carrier(steps, index)
    if step is None:
        step = latest(steps, index, layer="tls")
    if step is None:
        return Wrapped(view.t("tls_none"), "italic"), None
    parts: list[RenderableType] = []
    if step.index == index and step.layer != "tls":
        parts.append(Wrapped(view.t("tls_carried", n=step.index), "dim"))
    elif step.index != index:
        parts.append(Wrapped(view.t("tls_showing", n=step.index), "dim"))
        parts.append(Wrapped(f"{step.index}  {view.title(step)}  {view.summary(step)}", "bold"))
    if step.local:
        parts.append(Wrapped(view.t("tls_local", where=view.t(f"dir_{step.direction}")), "italic"))
    elif is_encrypted(step):
        used = step.find("tls.decrypted")
        phase = keys_phase(steps, step.index)
        if used is not None:
            msg = view.t("tls_decrypted_with", keys=clip(view.value(used)))
        elif phase is not None:
            msg = view.t("tls_encrypted", phase=view.value(phase))
        else:
            msg = view.t("tls_encrypted_nokeys")
        parts.append(Wrapped("🔒 " + msg, "yellow"))
    else:
        parts.append(Wrapped(view.t("tls_clear"), "cyan"))
    diagram = record_diagram(step, view)
    if diagram is not None:
        parts.append(diagram)
    if step.kind == "tls.cert_check":
        out = Text()
        out.append("\n" + view.t("tls_checks") + "\n", "bold")
        for f in step.fields:
            if f.id == "tls.version":
                continue
            mark, style = MARKS[status_mark(f)]
            out.append(mark, style)
            out.append(view.label(f) + view.t("field_sep"), "bold")
            out.append(clip(view.value(f), 300) + "\n", style)
        parts.append(out)
    return Group(*parts), step


class TlsPane(Pane):
    """The heading (what protected the message) above the message's field tree."""

    pane_id = "tls"

    def build(self, view: View) -> list[Band]:
        head, step = tls_head(view)
        text = TextSection(head, view.key(self.pane_id), name="head")
        if step is None or step.kind == "tls.cert_check":
            return [Band(text)]  # a certificate check is all in the heading, line by line
        fields = step.fields if step.layer == "tls" else [f for f in step.fields if f.id in CARRIER_IDS]
        tree = FieldTree(fields, view.title(step), view.lang)
        section = TreeSection(tree)
        first = first_certificate(step)
        if first is not None:
            # subject, issuer, SAN, dates, key in sight without a key press: the
            # certificate opened, the tree scrolled to the message that carries it
            tree.expand(first)
            node = tree.node_for(first)
            while node is not None and node.parent is not None:
                node = node.parent
            section.top = tree.visible.index(node) if node is not None else 0
        # the heading is as tall as its text (at most half the pane; it scrolls)
        return [Band(text, ("fit", 0.5)), Band(section)]


#: the fields of an HTTP or WebSocket step that belong to the TLS records carrying it
CARRIER_IDS = ("tls.record", "tls.decrypted")


def carrier(steps, index: int):
    """The step at ``index`` if TLS records carried it (an HTTP or WebSocket step on
    wss://): the TLS pane then shows those records, not the last handshake message."""
    if not 0 <= index < len(steps):
        return None
    step = steps[index]
    if step.layer != "tls" and any(f.id == "tls.record" for f in step.fields):
        return step
    return None


def first_certificate(step) -> "Field | None":
    """The first certificate of a Certificate message (the server's own), if any."""
    if step.kind != "tls.certificate":
        return None
    return step.find("tls.certificate.entry")
