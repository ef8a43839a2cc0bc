"""Replay of real captures of permessage-deflate (RFC 7692) messages that are both
compressed and fragmented, each way, followed by more messages.

The captures in tests/data/deflate/ were made by ``make_captures.py`` beside them
(tcpdump on loopback): Python ``websockets`` client and server over wss:// (TLS 1.3,
with the key log) and ws://, and Node ``ws`` client and server over ws:// and wss://.
Each ``NAME.expected.json`` sidecar lists, per direction, the messages as the sender
handed them to its library, and the close codes.

Each capture is loaded the way ``wssviz replay`` loads it and dissected.  The test
rebuilds every message itself from the frame steps' fields (ids and raw values and
spans, never the text a learner reads): it unmasks, joins the fragments, and inflates
with one raw-deflate context per direction (context takeover, unless negotiated off),
then compares with the sidecar.  It also asks that the dissector saw no problem and that
the frame completing each message carries the whole message in
``ws.frame.message_data``.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from wssviz.cli import load_capture
from wssviz.dissect import dissect
from wssviz.plain import field_dict
from wssviz.steps import Field, Step

DATA = Path(__file__).parent / "data" / "deflate"
SIDECARS = sorted(DATA.glob("*.expected.json"))
NAMES = [p.name.removesuffix(".expected.json") for p in SIDECARS]
OPCODES = {1: "text", 2: "binary"}
TAIL = b"\x00\x00\xff\xff"  # RFC 7692 §7.2.2: appended before inflating


def test_the_captures_are_there():
    assert {"websockets-wss", "websockets-ws", "nodews-ws"} <= set(NAMES)


@cache
def sidecar(name: str) -> dict:
    return json.loads((DATA / f"{name}.expected.json").read_text())


@cache
def steps_of(name: str) -> tuple[Step, ...]:
    """The steps of the capture, as ``wssviz replay NAME.pcap --keylog NAME.keys`` builds them."""
    side = sidecar(name)
    keylog = str(DATA / side["keylog"]) if side["keylog"] else None
    capture = load_capture(str(DATA / side["capture"]), keylog, None, None)
    steps = tuple(dissect(capture))
    for s in steps:
        s.check()
    return steps


def top(step: Step, id: str) -> Field | None:
    return next((f for f in step.walk() if f.id == id), None)


def shown(step: Step, f: Field) -> str:
    """A field as a learner reads it (for failure messages only)."""
    return str(field_dict(f, "en")["value"])


def where(step: Step) -> str:
    return f"step {step.index} ({step.kind} {step.direction})"


# --- rebuilding the messages from the frame steps ---------------------------------------


@dataclass
class Message:
    opcode: str
    frames: int
    data: bytes
    last: Step  # the frame step that completed it
    compressed: bool

    def as_sidecar(self) -> dict:
        return {"opcode": self.opcode, "frames": self.frames, "data_hex": self.data.hex()}


@dataclass
class Rebuilt:
    messages: dict[str, list[Message]] = field(default_factory=lambda: {"c2s": [], "s2c": []})
    close_code: dict[str, int | None] = field(default_factory=dict)
    extensions: str | None = None


def negotiated(steps: tuple[Step, ...]) -> str | None:
    """Sec-WebSocket-Extensions of the 101 response, read from the response's bytes."""
    resp = next(s for s in steps if s.kind == "http.upgrade_response")
    head = resp.data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    values = [line.split(":", 1)[1].strip() for line in head.split("\r\n")[1:]
              if line.split(":", 1)[0].strip().lower() == "sec-websocket-extensions"]
    return ", ".join(values) if values else None


def ext_params(ext: str | None) -> set[str]:
    if not ext:
        return set()
    first = ext.split(",")[0]
    parts = [p.strip().lower() for p in first.split(";")]
    assert parts[0] == "permessage-deflate", ext
    return {p.split("=")[0].strip() for p in parts[1:]}


def payload_of(step: Step) -> bytes:
    """The frame's payload from its span in ``step.data``, unmasked."""
    p = top(step, "ws.frame.payload")
    assert p is not None and p.of == "data", f"{where(step)}: no ws.frame.payload span"
    data = step.data[p.start:p.end]
    key = top(step, "ws.frame.masking_key")
    if key is not None:
        k = bytes(key.raw)
        data = bytes(b ^ k[i % 4] for i, b in enumerate(data))
    return data


@cache
def rebuilt(name: str) -> Rebuilt:
    steps = steps_of(name)
    out = Rebuilt(extensions=negotiated(steps))
    params = ext_params(out.extensions)
    # who compresses a direction: the client c2s, the server s2c
    reset = {"c2s": "client_no_context_takeover" in params, "s2c": "server_no_context_takeover" in params}
    inflaters = {d: zlib.decompressobj(-15) for d in ("c2s", "s2c")}
    open_: dict[str, dict | None] = {"c2s": None, "s2c": None}
    for s in steps:
        if s.kind != "ws.frame":
            continue
        d = s.direction
        op = top(s, "ws.frame.opcode").raw
        fin = top(s, "ws.frame.fin").raw
        rsv1 = top(s, "ws.frame.rsv1").raw
        payload = payload_of(s)
        if op >= 8:
            if op == 8:
                out.close_code[d] = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
            continue
        if op in OPCODES:
            assert open_[d] is None, f"{where(s)}: a new message before the last one ended"
            open_[d] = {"opcode": OPCODES[op], "parts": [], "rsv1": bool(rsv1)}
        else:
            assert op == 0 and open_[d] is not None, f"{where(s)}: opcode {op} outside a message"
            assert not rsv1, f"{where(s)}: RSV1 on a continuation (RFC 7692 §6.1)"
        m = open_[d]
        m["parts"].append(payload)
        if not fin:
            continue
        data = b"".join(m["parts"])
        if m["rsv1"]:
            if reset[d]:
                inflaters[d] = zlib.decompressobj(-15)
            data = inflaters[d].decompress(data + TAIL)
        out.messages[d].append(Message(m["opcode"], len(m["parts"]), data, s, m["rsv1"]))
        open_[d] = None
    assert open_ == {"c2s": None, "s2c": None}, "a message never ended"
    return out


# --- the tests ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_messages_rebuilt_from_the_frames_are_what_was_sent(name):
    """The capture holds what the sidecar says: compressed and fragmented messages each
    way, then more, and a normal close (this checks the data, and the frame fields'
    ids, raw values and spans)."""
    side, got = sidecar(name), rebuilt(name)
    assert got.extensions == side["extensions"]
    assert "permessage-deflate" in (got.extensions or "")
    for d in ("c2s", "s2c"):
        expected = [{k: m[k] for k in ("opcode", "frames", "data_hex")} for m in side[d]]
        assert [m.as_sidecar() for m in got.messages[d]] == expected, d
        assert any(m.frames > 1 and m.compressed for m in got.messages[d]), \
            f"{d}: no message both fragmented and compressed"
        assert all(m.compressed for m in got.messages[d]), f"{d}: a data message was not compressed"
        assert got.close_code.get(d) == side["close_code"][d] == 1000


@pytest.mark.parametrize("name", NAMES)
def test_no_error_step(name):
    bad = [s for s in steps_of(name) if s.kind == "error" or s.status == "error"]
    first = ""
    if bad:
        s = bad[0]
        problems = [shown(s, f) for f in s.walk() if f.id.endswith(".problem")]
        first = f"; first: {where(s)} status {s.status}: {problems}"
    assert not [where(s) for s in bad], f"{len(bad)} error steps{first}"


@pytest.mark.parametrize("name", NAMES)
def test_no_frame_problem(name):
    problems = [f"{where(s)}: {f.raw}: {shown(s, f)}" for s in steps_of(name) if s.kind == "ws.frame"
                for f in s.walk() if f.id == "ws.frame.problem"]
    assert not problems, f"{len(problems)} frame problems:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", NAMES)
def test_the_dissector_gives_each_whole_message(name):
    """The frame step that completes a message carries the whole message, reassembled
    and inflated, as ``ws.frame.message_data`` (raw: bytes)."""
    side, got = sidecar(name), rebuilt(name)
    for d in ("c2s", "s2c"):
        assert len(got.messages[d]) == len(side[d])
        for i, (m, want) in enumerate(zip(got.messages[d], side[d], strict=True)):
            f = top(m.last, "ws.frame.message_data")
            assert f is not None, f"{d} message {i}: {where(m.last)} has no ws.frame.message_data"
            assert bytes(f.raw) == bytes.fromhex(want["data_hex"]), f"{d} message {i}: {where(m.last)}"
