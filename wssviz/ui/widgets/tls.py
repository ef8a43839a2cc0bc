"""The TLS pane: the current TLS message as a field tree, with what protected it.

For ``tls.cert_check`` the verdict is shown line by line (chain, host name,
validity, signature, verdict, OpenSSL's verdict), each marked ✓ or ✗.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from wssviz.steps import Field

from wssviz.ui.model import clip, is_encrypted, keys_phase, latest, status_mark
from wssviz.ui.widgets.base import Pane, View
from wssviz.ui.widgets.detail import Band
from wssviz.ui.widgets.fieldtree import FieldTree
from wssviz.ui.widgets.sections import TextSection, TreeSection
from wssviz.ui.widgets.wrapped import Wrapped

MARKS = {"ok": ("✓ ", "green"), "failed": ("✗ ", "bold red"), "other": ("• ", "")}


def record_diagram(step) -> Text | None:
    """The 5-byte header of the step's first TLS record drawn as RFC 8446 §5.1 lays it
    out (type, legacy version, length), with this record's values."""
    rec = step.find("tls.record")
    if rec is None or rec.of != "wire":
        return None
    kids = {c.id: c.raw for c in rec.children}
    ctype, version, length = (kids.get("tls.record.content_type"), kids.get("tls.record.version"),
                              kids.get("tls.record.length"))
    if None in (ctype, version, length):
        return None
    rule = "+--------+----------------+----------------+"
    out = Text(rule + "\n| type   | legacy_version | length         |\n| 8 bits | 16 bits        | 16 bits        |\n"
               + rule + "\n", "dim", no_wrap=True)
    out.append(f"| {ctype:<6} | 0x{version:04x}         | {length:<14} |", "bold cyan")
    out.append("\n" + rule, "dim")
    return out


def tls_head(view: View) -> tuple[RenderableType, object]:
    """The heading and the step whose fields the tree shows (or None).  Sentences
    are ``Wrapped`` so that Chinese breaks by the same rules as everywhere else."""
    steps, index = view.steps, view.index
    step = latest(steps, index, layer="tls")
    if step is None:
        return Wrapped(view.t("tls_none"), "italic"), None
    parts: list[RenderableType] = []
    if step.index != index:
        parts.append(Wrapped(view.t("tls_showing", n=step.index), "dim"))
        parts.append(Wrapped(f"{step.index}  {view.title(step)}  {view.summary(step)}", "bold"))
    if step.local:
        parts.append(Wrapped(view.t("tls_local", where=view.t(f"dir_{step.direction}")), "italic"))
    elif is_encrypted(step):
        used = step.find("tls.decrypted")
        phase = keys_phase(steps, step.index)
        if used is not None:
            msg = view.t("tls_encrypted_nokeys") + " " + view.t("tls_decrypted_with", keys=clip(view.value(used)))
        elif phase is not None:
            msg = view.t("tls_encrypted", phase=view.value(phase))
        else:
            msg = view.t("tls_encrypted_nokeys")
        parts.append(Wrapped("🔒 " + msg, "yellow"))
    else:
        parts.append(Wrapped(view.t("tls_clear"), "cyan"))
    diagram = record_diagram(step)
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
        tree = FieldTree(step.fields, view.title(step), view.lang)
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


def first_certificate(step) -> "Field | None":
    """The first certificate of a Certificate message (the server's own), if any."""
    if step.kind != "tls.certificate":
        return None
    return step.find("tls.certificate.entry")
