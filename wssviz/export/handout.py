"""Handouts: a session as one self-contained HTML page, or as Markdown.

The page holds the ladder of the whole connection (client and server lanes, a band
for each phase: TCP, TLS, HTTP, WebSocket; a lock on every arrow whose bytes crossed
the wire inside encrypted TLS records), then each step at its own anchor
(``#step-N``): its title and summary, its bytes as annotated hex (each field's bytes
coloured and titled with the field's name and value), its field tree and its
explanation, all in the chosen language.  Nothing is fetched: the styles are inline,
there is no script, and it prints (each step keeps together on paper).

Every word comes from the catalogs (``[ui] handout_*`` and the steps' own messages);
every byte and every value from a peer or a file is escaped.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Iterable

from wssviz import explain as ex
from wssviz.steps import Field, Step, phase_of

PALETTE = 8  # colours the hex annotation cycles through


def encrypted(step: Step, scheme: str) -> bool:
    """Whether the step's bytes crossed the wire inside encrypted TLS records."""
    return ex.visibility(step, scheme) == "encrypted"


@dataclass
class Handout:
    title: str
    goal: str
    source: str
    lang: str
    scheme: str
    steps: list[Step]

    def t(self, key: str, **params: object) -> str:
        text = ex.ui_text(f"handout_{key}", self.lang)
        return text.format(**params) if params else text


#: A padlock drawn inline (no font needs to have one).
LOCK = ('<svg class="lock" width="10" height="12" viewBox="0 0 10 12" aria-hidden="true">'
        '<rect x="1" y="5" width="8" height="7" rx="1.2" fill="currentColor"/>'
        '<path d="M3 5.2V3.6a2 2 0 0 1 4 0v1.6" fill="none" stroke="currentColor" stroke-width="1.4"/></svg>')


def _spans(data: bytes, fields: Iterable[Field], of: str) -> list[tuple[int, int, int | None, list[Field]]]:
    """``data`` cut at the fields that cover it: (start, end, colour, the fields).  Fields
    over the same bytes (the bits of a frame's first byte: FIN, RSV, opcode) share one
    span; a byte no field names has none."""
    cuts: list[tuple[int, int, int | None, list[Field]]] = []
    pos = 0
    colour = 0
    for f in sorted((f for f in fields if f.of == of and f.end > f.start), key=lambda f: (f.start, f.end)):
        start, end = max(f.start, pos), min(f.end, len(data))
        if cuts and cuts[-1][3] and (f.start, min(f.end, len(data))) == (cuts[-1][0], cuts[-1][1]):
            cuts[-1][3].append(f)  # the same bytes: one span, every field named
            continue
        if start >= end:
            continue
        if start > pos:
            cuts.append((pos, start, None, []))
        cuts.append((start, end, colour % PALETTE, [f]))
        colour += 1
        pos = end
    if pos < len(data):
        cuts.append((pos, len(data), None, []))
    return cuts


def _fields_of(step: Step, of: str) -> list[Field]:
    """The fields that say what the bytes of one buffer are: the top-level ones, a
    field that covers much (a record, a message, the extensions) opened into its
    parts where its parts cover it."""
    size = len(step.wire if of == "wire" else step.data)

    def opened(f: Field, whole: bool = False) -> list[Field]:
        kids = [c for c in f.children if c.of == of and c.end > c.start]
        covered = sum(c.end - c.start for c in kids)
        # (a small whole made of parts, a record's ciphertext and tag, too; not a field
        # whose child only says more about the same bytes)
        parts = kids and all((c.start, c.end) != (f.start, f.end) for c in kids)
        if parts and (whole or f.end - f.start > 48 or len(kids) <= 3) and covered >= (f.end - f.start) * 0.9:
            return [g for c in kids for g in opened(c)]
        return [f]

    out: list[Field] = []
    for f in step.fields:
        if f.of == of and f.end > f.start:
            out += opened(f, whole=f.start == 0 and f.end >= size)
    return out


# --- HTML -------------------------------------------------------------------------

CSS = """
body{font:15px/1.45 system-ui,"Noto Sans CJK SC","PingFang SC",sans-serif;margin:2em auto;max-width:60em;color:#111}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:0}
.goal{color:#333}
table.ladder{border-collapse:collapse;width:100%;font-size:.95em}
.ladder td{padding:.15em .4em;vertical-align:middle}
.ladder .n{text-align:right;color:#555;width:2.5em}
.ladder .lane{text-align:center;font-weight:600;border-bottom:2px solid #444}
.ladder a{color:inherit;text-decoration:none}
.ladder a:hover{text-decoration:underline}
.arrow{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:40em}
.c2s .arrow{text-align:left}.s2c .arrow{text-align:right}.local .arrow{text-align:center;font-style:italic}
.band{font-weight:700;color:#222;writing-mode:horizontal-tb;width:6em}
tr.tcp{background:#eef3f8}tr.tls{background:#f1eefa}tr.http{background:#eef8ef}tr.ws{background:#fbf5e6}tr.error{background:#fbeaea}
tr.first td{border-top:2px solid #999}
.lock{vertical-align:-1px;color:#6a3fb5}
section.step{border-top:1px solid #bbb;padding:1em 0;break-inside:avoid-page}
.summary{color:#222}
.meta{color:#555;font-size:.9em}
.status-error{color:#a00;font-weight:700}.status-warning{color:#a60;font-weight:700}
pre.hex{font:13px/1.5 ui-monospace,"Noto Sans Mono CJK SC",monospace;white-space:pre;overflow-x:auto;background:#f7f7f7;padding:.5em;border-radius:4px}
.off{color:#888;margin-right:.6em}
.c0{background:#ffe08a}.c1{background:#b8e1ff}.c2{background:#c9f2c7}.c3{background:#ffc9c9}
.c4{background:#e3d1ff}.c5{background:#ffd8b0}.c6{background:#c8f0ef}.c7{background:#f0d0e8}
ul.legend{list-style:none;padding-left:0;font-size:.9em}ul.legend li{margin:.1em 0}
.sw{display:inline-block;width:1em;height:1em;vertical-align:middle;margin-right:.4em;border:1px solid #999}
ul.tree{font-size:.92em;padding-left:1.2em}ul.tree ul{padding-left:1.2em}
.tree .v{font-family:ui-monospace,monospace;word-break:break-all}
dl.explain dt{font-weight:700;margin-top:.5em}dl.explain dd{margin-left:0}
.top{font-size:.85em}
@media print{a.top{display:none}body{margin:0;max-width:none}section.step{break-inside:avoid}}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _ladder_html(h: Handout) -> str:
    rows = [f'<table class="ladder"><tr><td></td><td></td><td class="lane">{_e(h.t("client"))}</td>'
            f'<td class="lane">{_e(h.t("server"))}</td></tr>']
    last = None
    for s in h.steps:
        phase = phase_of(s.kind)
        first = phase != last
        band = _e(h.t(f"phase_{phase}")) if first else ""
        last = phase
        title = _e(ex.title(s, h.lang))
        lock = f' <span title="{_e(h.t("encrypted"))}">{LOCK}</span>' if encrypted(s, h.scheme) else ""
        link = f'<a href="#step-{s.index}">'
        if s.direction == "c2s":
            cell = f'<td colspan="2" class="arrow">{link}{title}{lock} ──▶</a></td>'
            kind = "c2s"
        elif s.direction == "s2c":
            cell = f'<td colspan="2" class="arrow">{link}◀── {title}{lock}</a></td>'
            kind = "s2c"
        else:
            side = h.t(s.direction) if s.direction in ("client", "server") else ""
            cell = f'<td colspan="2" class="arrow">{link}◆ {title} ({_e(side)})</a></td>'
            kind = "local"
        rows.append(f'<tr class="{phase} {kind}{" first" if first else ""}"><td class="band">{band}</td>'
                    f'<td class="n">{s.index}</td>{cell}</tr>')
    rows.append("</table>")
    return "\n".join(rows)


def _hex_html(h: Handout, data: bytes, fields: list[Field], of: str) -> str:
    """A hex dump, 16 bytes a line with their offset, each field's bytes coloured and
    titled with its name and value; a legend below."""
    colour: list[int | None] = [None] * len(data)
    titles: list[str] = [""] * len(data)
    legend = []
    for start, end, c, fs in _spans(data, fields, of):
        if not fs:
            continue
        label = " · ".join(f"{ex.label(f, h.lang)}: {ex.value(f, h.lang)}" for f in fs)
        for i in range(start, end):
            colour[i], titles[i] = c, label
        said = (h.t("byte_at", start=start, label=label) if end - start == 1
                else h.t("bytes_at", start=start, end=end - 1, label=label))
        legend.append(f'<li><span class="sw c{c}"></span>{_e(said)}</li>')
    lines = []
    for row in range(0, len(data), 16):
        out = [f'<span class="off">{row:04x}</span> ']
        i = row
        while i < min(row + 16, len(data)):
            j = i
            while j < min(row + 16, len(data)) and colour[j] == colour[i] and titles[j] == titles[i]:
                j += 1
            chunk = " ".join(f"{b:02x}" for b in data[i:j])
            out.append(chunk if colour[i] is None else
                       f'<span class="c{colour[i]}" title="{_e(titles[i])}">{chunk}</span>')
            out.append(" ")
            i = j
        lines.append("".join(out).rstrip())
    return f'<pre class="hex">{chr(10).join(lines)}</pre><ul class="legend">{"".join(legend)}</ul>'


def _tree_html(h: Handout, fields: list[Field]) -> str:
    if not fields:
        return ""
    items = []
    for f in fields:
        where = (f' <span class="meta">{_e(ex.ui_text("span", h.lang).format(of=ex.ui_text(f"span_{f.of}", h.lang), start=f.start, end=f.end))}</span>'
                 if f.end > f.start else "")
        items.append(f'<li>{_e(ex.label(f, h.lang))}: <span class="v">{_e(ex.value(f, h.lang))}</span>{where}'
                     f'{_tree_html(h, f.children)}</li>')
    return f'<ul class="tree">{"".join(items)}</ul>'


def _step_html(h: Handout, s: Step) -> str:
    side = {"c2s": h.t("c2s"), "s2c": h.t("s2c")}.get(s.direction, h.t(s.direction) if s.direction in
                                                       ("client", "server") else s.direction)
    status = "" if s.status == "ok" else \
        f' <span class="status-{_e(s.status)}">{_e(ex.ui_text(f"status_{s.status}", h.lang))}</span>'
    parts = [f'<section class="step" id="step-{s.index}">',
             f'<h2>{s.index} · {_e(ex.title(s, h.lang))}{status}</h2>',
             f'<p class="meta">{_e(side)} · {_e(h.t("phase_" + phase_of(s.kind)))} · {s.time:.6f} s'
             f'{" · " + LOCK + " " + _e(h.t("encrypted")) if encrypted(s, h.scheme) else ""}</p>',
             f'<p class="summary">{_e(ex.summary(s, h.lang))}</p>']
    for of, data, key in (("data", s.data, "bytes_data"), ("wire", s.wire, "bytes_wire")):
        if not data or (of == "wire" and s.wire == s.data):
            continue
        parts.append(f"<h3>{_e(h.t(key, n=len(data)))}</h3>")
        parts.append(_hex_html(h, data, _fields_of(s, of), of))
    parts.append(f"<h3>{_e(h.t('fields'))}</h3>{_tree_html(h, s.fields)}")
    e = ex.explain(s, h.lang, scheme=h.scheme)
    dl = "".join(f"<dt>{_e(ex.ui_text(k, h.lang))}</dt><dd>{_e(v)}</dd>"
                 for k, v in (("what_happened", e.what), ("why", e.why), ("eavesdropper_sees", e.eavesdropper),
                              ("rfc", e.rfc)) if v)
    parts.append(f'<h3>{_e(h.t("explanation"))}</h3><dl class="explain">{dl}</dl>')
    parts.append(f'<p><a class="top" href="#ladder">{_e(h.t("top"))}</a></p></section>')
    return "\n".join(parts)


def to_html(h: Handout) -> str:
    from wssviz import __version__

    lang = "zh-Hans" if h.lang == "zh" else h.lang
    return "\n".join([
        "<!DOCTYPE html>", f'<html lang="{lang}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(h.title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{_e(h.title)}</h1>", f'<p class="goal">{_e(h.goal)}</p>',
        f'<p class="meta">{_e(h.t("made", version=__version__, source=h.source))}</p>',
        f'<h2 id="ladder">{_e(h.t("ladder"))}</h2>', _ladder_html(h),
        *(_step_html(h, s) for s in h.steps),
        "</body></html>", ""])


# --- Markdown ---------------------------------------------------------------------


def _md(text: object) -> str:
    """Text for Markdown: its markup characters escaped, HTML tags made harmless."""
    out = html.escape(str(text), quote=False)
    for ch in "\\`*_[]#|":
        out = out.replace(ch, "\\" + ch)
    return out


def _tree_md(h: Handout, fields: list[Field], depth: int = 0) -> list[str]:
    lines = []
    for f in fields:
        lines.append(f"{'  ' * depth}- {_md(ex.label(f, h.lang))}: `{ex.value(f, h.lang).replace('`', 'ˋ')}`")
        lines += _tree_md(h, f.children, depth + 1)
    return lines


def to_markdown(h: Handout) -> str:
    from wssviz import __version__

    lines = [f"# {_md(h.title)}", "", _md(h.goal), "", f"*{_md(h.t('made', version=__version__, source=h.source))}*",
             "", f"## {_md(h.t('ladder'))}", ""]
    last = None
    for s in h.steps:
        phase = phase_of(s.kind)
        if phase != last:
            lines += ["", f"**{_md(h.t('phase_' + phase))}**", ""]
            last = phase
        title = _md(ex.title(s, h.lang)) + (" 🔒" if encrypted(s, h.scheme) else "")
        arrow = {"c2s": f"{h.t('client')} ──▶ {h.t('server')}", "s2c": f"{h.t('client')} ◀── {h.t('server')}"}.get(
            s.direction, f"◆ {h.t(s.direction) if s.direction in ('client', 'server') else s.direction}")
        lines.append(f"{s.index}. [{title}](#step-{s.index}) — {_md(arrow)}")
    for s in h.steps:
        lines += ["", f'<a id="step-{s.index}"></a>', f"## {s.index} · {_md(ex.title(s, h.lang))}", "",
                  _md(ex.summary(s, h.lang)), ""]
        for of, data, key in (("data", s.data, "bytes_data"), ("wire", s.wire, "bytes_wire")):
            if not data or (of == "wire" and s.wire == s.data):
                continue
            lines += [f"### {_md(h.t(key, n=len(data)))}", "", "```"]
            lines += [" ".join(f"{b:02x}" for b in data[i:i + 16]) for i in range(0, len(data), 16)]
            lines += ["```", ""]
        lines += [f"### {_md(h.t('fields'))}", "", *_tree_md(h, s.fields), ""]
        e = ex.explain(s, h.lang, scheme=h.scheme)
        lines += [f"### {_md(h.t('explanation'))}", ""]
        for k, v in (("what_happened", e.what), ("why", e.why), ("eavesdropper_sees", e.eavesdropper),
                     ("rfc", e.rfc)):
            if v:
                lines += [f"**{_md(ex.ui_text(k, h.lang))}**: {_md(v)}", ""]
    return "\n".join(lines) + "\n"
