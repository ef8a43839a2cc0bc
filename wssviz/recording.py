"""Recordings: a Capture saved as a versioned JSON document.

A recording stores raw material only (flights with direction and time, the key
log, the trust anchors, the wall-clock start, OpenSSL's verdicts and the
scenario settings) and never Steps: loading one rebuilds every Step through
Dissect, so a replay prints exactly what the live run printed, on another
machine, in another time zone, long after the certificates expired (they are
judged at ``started``, not at replay time).

Format (version 1), documented in docs/recording-format.md::

    {"format": "wssviz-recording", "version": 1,
     "scheme": "wss", "server_name": "server.example.com",
     "started": 1795683321.123456,          # seconds since the epoch, UTC
     "settings": {...}, "trust": ["-----BEGIN CERTIFICATE-----..."],
     "keylog": ["CLIENT_HANDSHAKE_TRAFFIC_SECRET <random> <secret>", ...],
     "events": [{"t": 0.0, "fact": "tcp.connect", "value": {...}},
                {"t": 0.000412, "dir": "c2s", "hex": "1603010200..."}, ...]}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from wssviz.capture import Capture, Chunk, Fact

FORMAT = "wssviz-recording"
VERSION = 1


class RecordingError(Exception):
    """A recording that cannot be read: says where and why."""


def event_document(e: Chunk | Fact) -> dict[str, Any]:
    if isinstance(e, Chunk):
        return {"t": e.time, "dir": e.direction, "hex": e.data.hex()}
    return {"t": e.time, "fact": e.name, "value": e.value}


def _head(capture: Capture) -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "scheme": capture.scheme,
            "server_name": capture.server_name, "started": capture.started,
            "settings": capture.settings, "trust": capture.trust, "keylog": capture.keylog}


def to_document(capture: Capture) -> dict[str, Any]:
    if not capture.whole:
        raise RecordingError(f"recording: {capture.dropped} bytes of this session were let go to "
                             "stay within its memory budget; record it as it runs (--record)")
    return {**_head(capture), "events": [event_document(e) for e in capture.events]}


def save(capture: Capture, path: str | Path) -> None:
    Path(path).write_text(json.dumps(to_document(capture), indent=1) + "\n", encoding="utf-8")


class Recorder:
    """A recording written as the session runs, so a long session's bytes need not
    stay in memory: each event goes to a side file as it happens (``add``, the
    Capture's ``sink``); ``close(capture)`` writes the document, streaming the events
    back in, and removes the side file.  The result is an ordinary recording."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._part = self.path.with_name(self.path.name + ".events")
        self._f = open(self._part, "w", encoding="utf-8")
        self._n = 0

    def add(self, event: Chunk | Fact) -> None:
        self._f.write(json.dumps(event_document(event)) + "\n")
        self._n += 1

    def close(self, capture: Capture) -> None:
        self._f.close()
        head = json.dumps(_head(capture), indent=1)
        with open(self.path, "w", encoding="utf-8") as out, open(self._part, encoding="utf-8") as src:
            out.write(head[:-2] + ',\n "events": [')
            for i, line in enumerate(src):
                out.write(("\n  " if i == 0 else ",\n  ") + line.rstrip("\n"))
            out.write("\n ]\n}\n")
        self._part.unlink()


def migrate(doc: dict[str, Any]) -> dict[str, Any]:
    """Bring an older document up to VERSION (each step one version forward)."""
    version = doc.get("version")
    if not isinstance(version, int):
        raise RecordingError("recording: 'version' is missing or not a number")
    if version > VERSION:
        raise RecordingError(f"recording: version {version} is newer than this wssviz reads ({VERSION})")
    # Version 1 is the first; later versions add their upgrade steps here, e.g.
    # if version == 1: doc = _v1_to_v2(doc); version = 2
    return doc


def from_document(doc: Any) -> Capture:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise RecordingError(f"recording: not a {FORMAT} document (the 'format' key is missing or wrong)")
    doc = migrate(doc)
    settings = doc.get("settings") or {}
    if not isinstance(settings, dict):
        raise RecordingError("recording: 'settings' must be an object")
    trust, keylog = _get(doc, "trust", list), _get(doc, "keylog", list)
    for key, items in (("trust", trust), ("keylog", keylog)):
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise RecordingError(f"recording: {key}[{i}] must be a string")
    cap = Capture(scheme=_get(doc, "scheme", str), server_name=_get(doc, "server_name", str),
                  started=float(_get(doc, "started", (int, float))), settings=settings,
                  trust=list(trust), keylog=list(keylog))
    if cap.scheme not in ("ws", "wss"):
        raise RecordingError(f"recording: scheme must be ws or wss, not {cap.scheme!r}")
    for i, e in enumerate(_get(doc, "events", list)):
        where = f"recording: events[{i}]"
        if not isinstance(e, dict) or not isinstance(e.get("t"), (int, float)):
            raise RecordingError(f"{where}: needs a number 't'")
        if "dir" in e:
            if e["dir"] not in ("c2s", "s2c"):
                raise RecordingError(f"{where}: 'dir' must be c2s or s2c")
            try:
                data = bytes.fromhex(e.get("hex", ""))
            except (ValueError, TypeError) as exc:
                raise RecordingError(f"{where}: 'hex' is not hexadecimal ({exc})") from None
            cap.events.append(Chunk(e["dir"], float(e["t"]), data))
        elif "fact" in e:
            cap.events.append(Fact(float(e["t"]), str(e["fact"]), dict(e.get("value") or {})))
        else:
            raise RecordingError(f"{where}: neither bytes ('dir', 'hex') nor a fact")
    return cap


def _get(doc: dict, key: str, kind: Any) -> Any:
    if key not in doc or not isinstance(doc[key], kind):
        raise RecordingError(f"recording: '{key}' is missing or of the wrong type")
    return doc[key]


def load(path: str | Path) -> Capture:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RecordingError(f"{path} is neither a pcap/pcapng capture nor a wssviz recording "
                             f"(byte {exc.start} is not UTF-8 text)") from None
    except OSError as exc:
        raise RecordingError(f"recording: cannot read {path}: {exc.strerror or exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordingError(f"recording: {path} is not JSON ({exc.msg}: line {exc.lineno}, "
                             f"column {exc.colno}, offset {exc.pos})") from None
    return from_document(doc)
