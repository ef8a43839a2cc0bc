"""The Frames pane: one WebSocket frame's header bits, payload and XOR lane.

Values come from the ``ws.frame`` step's fields: FIN, RSV1-3, opcode, MASK, the
length form used, the masking key, the unmasked payload (plain Text: a peer's
close reason is never markup) and the XOR lane the dissector lists.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Group
from rich.table import Table
from rich.text import Text

from wssviz.ui.model import clip, latest
from wssviz.ui.widgets.base import TextPane, View
from wssviz.ui.widgets.fieldtree import span_text

HEADER = ("ws.frame.fin", "ws.frame.rsv1", "ws.frame.rsv2", "ws.frame.rsv3", "ws.frame.opcode",
          "ws.frame.mask", "ws.frame.payload_length", "ws.frame.extended_payload_length",
          "ws.frame.masking_key")
PAYLOAD = ("ws.frame.unmasked_payload", "ws.frame.application_data", "ws.frame.inflated",
           "ws.frame.close_code", "ws.frame.close_reason", "ws.frame.message", "ws.frame.not_shown",
           "ws.frame.records", "ws.frame.problem")
HEADER_HEX_LIMIT = 14  # a frame header is at most 14 bytes


def lane_text(rows: list[tuple[str, str]]) -> Text:
    """The XOR lane, one short line per byte, the byte numbers right-aligned: one Text
    (as a Rich table, the 64 rows of a big frame's lane took ~20 ms to lay out)."""
    width = max((cell_len(name) for name, _ in rows), default=0)
    out = Text(no_wrap=True, overflow="ellipsis")
    for n, (name, value) in enumerate(rows):
        if n:
            out.append("\n")
        out.append(" " * (width - cell_len(name)) + name, "dim")
        out.append("  ")
        out.append(value, "cyan")
    return out


def frame_diagram(frame) -> Text | None:
    """The first 16 bits of the frame header drawn as RFC 6455 §5.2 draws them, with
    this frame's bits filled in (from its fields' raw values)."""
    raw = {id: frame.raw(f"ws.frame.{id}") for id in ("fin", "rsv1", "rsv2", "rsv3", "opcode", "mask",
                                                       "payload_length")}
    if any(v is None for v in raw.values()):
        return None
    ext = frame.find("ws.frame.extended_payload_length")
    width = (ext.end - ext.start) if ext is not None else 0
    seven = {0: raw["payload_length"], 2: 126, 8: 127}.get(width, raw["payload_length"])
    bits = [int(raw[b]) for b in ("fin", "rsv1", "rsv2", "rsv3")]
    opcode = " ".join(f"{raw['opcode']:04b}")
    length = " ".join(f"{seven:07b}")
    rule = "+-+-+-+-+-------+-+-------------+"
    lines = [" 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5", rule,
             "|F|R|R|R| opcode|M| Payload len |",
             "|I|S|S|S|  (4)  |A|     (7)     |",
             "|N|V|V|V|       |S|             |",
             "| |1|2|3|       |K|             |", rule]
    out = Text("\n".join(lines) + "\n", "dim", no_wrap=True)
    out.append("|" + "|".join(str(b) for b in bits) + "|", "bold")
    out.append(opcode, "bold cyan")
    out.append("|", "bold")
    out.append(str(int(raw["mask"])), "bold")
    out.append("|", "bold")
    out.append(length, "bold cyan")
    out.append("|\n" + rule, "bold")
    return out


def frame_renderable(view: View):
    frame = latest(view.steps, view.index, kinds=("ws.frame",))
    if frame is None:
        return Text(view.t("frames_none"), "italic")
    parts: list = []
    head = Text()
    if frame.index != view.index:
        head.append(view.t("frames_showing", n=frame.index) + "\n", "dim")
        head.append(f"{frame.index}  {view.title(frame)}", "bold")
        head.append("  " + view.summary(frame) + "\n")
        parts.append(head)

    payload = frame.find("ws.frame.payload")
    header_end = payload.start if payload is not None and payload.of == "data" else None
    # headings are Text of their own, wrapped to the pane's width: a table's title
    # would wrap at the table's (narrow) width
    header: list = [Text(view.t("frames_header"), "italic")]
    table = Table(show_header=False, box=None, padding=(0, 1), expand=False)
    table.add_column(style="bold")
    table.add_column()
    if header_end is not None:
        raw = frame.data[:min(header_end, HEADER_HEX_LIMIT)]
        table.add_row(Text(view.t("frames_bytes")), Text(" ".join(f"{b:08b}" for b in raw[:2]) +
                                          ("  " + raw[2:].hex(" ") if len(raw) > 2 else ""), "dim"))
    for id in HEADER:
        f = frame.find(id)
        if f is not None:
            table.add_row(Text(view.label(f)), Text(clip(view.value(f)), "cyan"))
    header.append(table)

    lane = frame.find("ws.frame.xor_lane")
    lane_first = view.compact and lane is not None and bool(lane.children)
    body = Text()
    body.append(("" if lane_first else "\n") + view.t("frames_payload") + "\n", "bold underline")
    for id in PAYLOAD:
        for f in frame.all(id):
            body.append(view.label(f) + view.t("field_sep"), "bold")
            body.append(clip(view.value(f), 2000) + "\n", "green")
    size = frame.raw("ws.frame.payload_length")  # the whole payload, also where the step keeps less
    if payload is not None:
        body.append(view.label(payload) + view.t("field_sep") + view.t("frames_payload_bytes", n=f"{size:,}"),
                    "bold")
        body.append("  " + span_text(payload, view.lang) + "\n", "dim")

    masked = frame.raw("ws.frame.mask") is True
    lanes: list = []
    if lane is not None and lane.children:
        lanes.append(Text(view.t("frames_lane"), "italic"))
        lanes.append(lane_text([(view.label(c), clip(view.value(c))) for c in lane.children[:64]]))
        total = size if isinstance(size, int) else len(lane.children)
        if total > len(lane.children):
            lanes.append(Text(view.t("frames_lane_more", shown=len(lane.children), total=f"{total:,}"),
                              "dim italic"))
    if lane_first:
        # presenter mode: what the class should see first is the unmasking, byte by byte
        parts += [body, *lanes, Text(""), *header]
    else:
        parts += [*header, body, *lanes]
    if not masked:
        parts.append(Text("\n" + view.t("frames_unmasked"), "italic"))
    diagram = frame_diagram(frame)
    if diagram is not None:  # last, so the values above stay in view on a small screen
        parts.append(Text("\n" + view.t("frames_diagram"), "italic"))
        parts.append(diagram)
    return Group(*parts)


class FramesPane(TextPane):
    pane_id = "frames"

    def content(self, view: View):
        return frame_renderable(view)
