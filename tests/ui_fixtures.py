"""Sessions for the interface tests.

``recorded_steps()`` is the default session exactly as ``wssviz run --json``
printed it once (``ui_default.jsonl`` beside this file), replayed through
``StepList``: snapshot and Pilot tests never drive a live pair.

``ws_frame`` builds a frame step from real bytes after the dissector's field
contract, for what the default session does not carry: a 16 MiB frame
(``big_frame_step``) and a peer-chosen close reason (``with_close_reason``).
``SlowLive`` makes steps only on demand, like the live pair, with a delay, a
gate and an injected failure.
"""

from __future__ import annotations

import json
import struct
import threading
from pathlib import Path

from wssviz.session import StepList
from wssviz.steps import Field, Step, computed

MASK = bytes.fromhex("37fa213d")

def ws_frame(index: int, direction: str, opcode: int, payload: bytes, masked: bool,
             *, time: float | None = None, lane_limit: int = 64) -> Step:
    """A frame step whose fields follow the dissector's contract, built from real bytes."""
    n = len(payload)
    head = bytes([0x80 | opcode])
    mbit = 0x80 if masked else 0
    if n < 126:
        head += bytes([mbit | n]); form = 7
    elif n < 1 << 16:
        head += bytes([mbit | 126]) + struct.pack("!H", n); form = 16
    else:
        head += bytes([mbit | 127]) + struct.pack("!Q", n); form = 64
    ms = len(head)
    if masked:
        head += MASK
        body = bytes(b ^ MASK[i % 4] for i, b in enumerate(payload[:lane_limit])) + (
            _mask_rest(payload, lane_limit) if n > lane_limit else b"")
    else:
        body = payload
    data = head + body
    ps, pe = len(head), len(data)
    names = {0x1: "text", 0x2: "binary", 0x8: "close", 0x9: "ping", 0xA: "pong"}
    f = [Field("FIN", "1 (final frame of the message)", 0, 1, "data"),
         Field("RSV1", "0", 0, 1, "data"), Field("RSV2", "0", 0, 1, "data"),
         Field("RSV3", "0", 0, 1, "data"),
         Field("opcode", f"0x{opcode:x} {names[opcode]}", 0, 1, "data"),
         Field("MASK", "1 (masked)" if masked else "0 (not masked)", 1, 2, "data"),
         Field("payload length", f"{n} ({form}-bit form)", 1, 2, "data")]
    if form > 7:
        f.append(Field("extended payload length", str(n), 2, ms, "data"))
    if masked:
        f.append(Field("masking key", MASK.hex(), ms, ms + 4, "data"))
    f.append(Field("payload", data[ps:ps + 16].hex(), ps, pe, "data"))
    if opcode == 0x8:
        code = struct.unpack("!H", payload[:2])[0]
        f.append(computed("close code", f"{code} normal closure" if code == 1000 else str(code)))
        f.append(computed("close reason", payload[2:].decode("utf-8", "replace")))
    else:
        shown = payload[:200].decode("utf-8", "replace")
        f.append(computed("unmasked payload" if masked else "application data", shown))
    if masked and n:
        k = min(n, lane_limit)
        lane = computed("xor lane", f"payload byte ⊕ key byte = masked byte (first {k} of {n})")
        for i in range(k):
            p = payload[i]
            ch = chr(p) if 0x20 <= p < 0x7F else "."
            lane.add(Field(f"byte {i}", f"0x{MASK[i % 4]:02x} ⊕ 0x{p:02x} '{ch}' = 0x{data[ps + i]:02x}",
                           ps + i, ps + i + 1, "data"))
        f.append(lane)
    title = {0x1: "Text frame", 0x2: "Binary frame", 0x8: "Close frame", 0x9: "Ping", 0xA: "Pong"}[opcode]
    summary = f"{'masked ' if masked else ''}{names[opcode]} frame, {n} bytes"
    return Step(index, "ws.frame", direction, title, summary, data, data, f, "ok",
                index * 0.001 if time is None else time)


def _mask_rest(payload: bytes, start: int) -> bytes:
    # XOR with a repeated key, fast enough for 16 MiB (int arithmetic on the whole block).
    rest = payload[start:]
    key = (MASK[start % 4:] + MASK[:start % 4]) * (len(rest) // 4 + 1)
    x = int.from_bytes(rest, "big") ^ int.from_bytes(key[:len(rest)], "big")
    return x.to_bytes(len(rest), "big")


def big_frame_step(index: int, size: int = 16 << 20) -> Step:
    """A masked binary frame carrying ``size`` bytes (64-bit length form)."""
    payload = bytes((i * 7) & 0xFF for i in range(256)) * (size // 256)
    return ws_frame(index, "c2s", 0x2, payload, True)


RECORDING = Path(__file__).with_name("ui_default.jsonl")


def recorded_steps() -> list[Step]:
    """The default session (``wssviz run --json``, TLS 1.3), as recorded once."""
    with RECORDING.open(encoding="utf-8") as fh:
        return [Step.from_dict(json.loads(line)) for line in fh if line.strip()]


def with_close_reason(steps: list[Step], reason: str) -> list[Step]:
    """``steps`` with the client's close frame replaced by one carrying ``reason``."""
    out = list(steps)
    for i, s in enumerate(out):
        if s.kind == "ws.frame" and s.direction == "c2s" and s.value("opcode", "").startswith("0x8"):
            out[i] = ws_frame(i, "c2s", 0x8, struct.pack("!H", 1000) + reason.encode(), True, time=s.time)
    return out


def replay(steps: list[Step] | None = None, title: str = "seed-example (replay)") -> StepList:
    return StepList(steps if steps is not None else recorded_steps(), title=title,
                    goal="a wss:// connection, step by step")


class SlowLive:
    """A live-like session over known steps: ``ensure`` blocks until released.

    It stands in for the live pair's timing (steps exist only once asked for),
    so tests can check the interface stays responsive while a step is made.
    """

    def __init__(self, steps: list[Step], delay: float = 0.0, fail_at: int | None = None) -> None:
        self._all = steps
        self._steps: list[Step] = []
        self.title = "slow live"
        self.goal = "steps made on demand"
        self.delay = delay
        self.fail_at = fail_at
        self.gate = threading.Event()
        self.gate.set()
        self.calls: list[int] = []
        self.restarts = 0

    @property
    def steps(self) -> list[Step]:
        return self._steps

    @property
    def finished(self) -> bool:
        return len(self._steps) >= len(self._all)

    def ensure(self, index: int) -> int:
        self.calls.append(index)
        self.gate.wait(10)
        while len(self._steps) <= index and not self.finished:
            if self.fail_at is not None and len(self._steps) == self.fail_at:
                raise ConnectionResetError("peer went away")
            if self.delay:
                threading.Event().wait(self.delay)
            self._steps.append(self._all[len(self._steps)])
        return len(self._steps)

    def restart(self) -> None:
        self.restarts += 1
        self._steps = []
