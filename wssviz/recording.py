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
import math
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Iterator

from wssviz.capture import LAST_MOMENT, Capture, Chunk, Fact
from wssviz.core.jsonstream import JsonStream, JsonStreamError

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


# --- reading: every value checked where it enters ---------------------------------------

MAX_DEPTH = 16  # nesting of JSON values inside a fact
MAX_TIME = 10**9  # seconds: an event time or a start time beyond this is not a recording's


def _number(v: Any, where: str, *, low: float = 0.0, high: float = MAX_TIME) -> float:
    # (an int too large for a float is out of range, not an overflow)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not low <= v <= high \
            or (isinstance(v, float) and not math.isfinite(v)):
        raise RecordingError(f"{where} must be a number from {low:g} to {high:g}, not {_short(v)}")
    return float(v)


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def _depth(v: Any, where: str, depth: int = 0) -> None:
    """JSON values inside a fact: finite numbers, strings, lists and objects, not too deep."""
    if depth > MAX_DEPTH:
        raise RecordingError(f"{where} is nested more than {MAX_DEPTH} levels deep")
    if isinstance(v, float) and not math.isfinite(v):
        raise RecordingError(f"{where} holds {v!r}, which is not a number")
    if isinstance(v, dict):
        for k, x in v.items():
            _depth(x, f"{where}.{k}", depth + 1)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            _depth(x, f"{where}[{i}]", depth + 1)


def _address(v: Any, where: str) -> None:
    if not (isinstance(v, list) and len(v) == 2 and isinstance(v[0], str) and isinstance(v[1], int)
            and not isinstance(v[1], bool) and 0 <= v[1] <= 65535):
        raise RecordingError(f"{where} must be [host, port] (a string and 0..65535), not {_short(v)}")


def _kind(*types: type, choices: tuple = ()) -> Any:
    def check(v: Any, where: str) -> None:
        if isinstance(v, bool) and bool not in types:
            ok = False
        else:
            ok = isinstance(v, types) and (not choices or v in choices)
        if not ok:
            want = " or ".join(repr(c) for c in choices) if choices else " or ".join(t.__name__ for t in types)
            raise RecordingError(f"{where} must be {want}, not {_short(v)}")
    return check


_STR, _INT, _BOOL, _DICT = _kind(str), _kind(int), _kind(bool), _kind(dict)
_SIDE = _kind(str, choices=("client", "server"))
_ERROR = {"layer": _STR, "code": _STR, "params": _DICT, "rfc": _STR, "by": _STR, "blame": _STR,
          "detail": _STR, "offset": _INT, "action_code": _STR, "action_params": _DICT,
          "rule": _STR, "action": _STR, "reason": _STR}
#: The facts wssviz reads, and the type of each value it reads (others are kept as they are).
FACT_SCHEMA: dict[str, dict[str, Any]] = {
    "tcp.connect": {"client": _address, "server": _address, "connection": _INT, "why": _STR,
                    "after": lambda v, w: _number(v, w)},
    "tcp.close": {"by": _SIDE, "how": _kind(str, choices=("fin", "reset", "abort"))},
    "wait": {"by": _STR, "seconds": lambda v, w: _number(v, w), "why": _STR, "simulated": _BOOL,
             "attempt": _INT},
    "tls.verdict": {"ok": _BOOL, "code": _INT, "message": _STR, "insecure": _BOOL, "version": _STR,
                    "cipher": _STR, "resumed": _BOOL},
    "error": _ERROR,
    "ws.abort": _ERROR,
}
_SETTINGS = {"name": _STR, "title": _STR, "goal": _STR, "description": _STR, "cert_issuer": _STR,
             "client_trust": _kind(list)}


def _fact_value(name: str, value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise RecordingError(f"{where}: 'value' must be an object, not {_short(value)}")
    _depth(value, f"{where}.value")
    for key, check in FACT_SCHEMA.get(name, {}).items():
        if key in value and value[key] is not None:
            check(value[key], f"{where}.value.{key}")
    return value


def from_document(doc: Any) -> Capture:
    cap = _head_of(doc)
    events = _get(doc, "events", list)
    if not events:
        raise RecordingError("recording: 'events' is empty: nothing happened in this recording")
    for i, e in enumerate(events):
        cap.events.append(_event(e, i))
    return cap


def _head_of(doc: Any) -> Capture:
    """The Capture a document's head describes (no events yet), every key checked."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise RecordingError(f"recording: not a {FORMAT} document (the 'format' key is missing or wrong)")
    doc = migrate(doc)
    settings = doc.get("settings") or {}
    if not isinstance(settings, dict):
        raise RecordingError("recording: 'settings' must be an object")
    _depth(settings, "recording: settings")
    for key, check in _SETTINGS.items():
        if settings.get(key) is not None:
            check(settings[key], f"recording: settings.{key}")
    if not all(isinstance(x, str) for x in settings.get("client_trust") or []):
        raise RecordingError("recording: settings.client_trust must be a list of strings")
    trust, keylog = _get(doc, "trust", list), _get(doc, "keylog", list)
    for key, items in (("trust", trust), ("keylog", keylog)):
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise RecordingError(f"recording: {key}[{i}] must be a string")
    cap = Capture(scheme=_get(doc, "scheme", str), server_name=_get(doc, "server_name", str),
                  started=_number(_get(doc, "started", (int, float)), "recording: 'started'", high=LAST_MOMENT),
                  settings=settings, trust=list(trust), keylog=list(keylog))
    if cap.scheme not in ("ws", "wss"):
        raise RecordingError(f"recording: scheme must be ws or wss, not {_short(cap.scheme)}")
    if not cap.server_name or len(cap.server_name) > 253 or not cap.server_name.isprintable():
        raise RecordingError("recording: 'server_name' must be a host name (1 to 253 printable characters)")
    return cap


def _event(e: Any, i: int) -> Chunk | Fact:
    """One event of a recording, checked."""
    if type(e) is dict and len(e) == 3:  # the common case (bytes), checked in one line
        t, d, h = e.get("t"), e.get("dir"), e.get("hex")
        if type(t) is float and 0.0 <= t <= MAX_TIME and (d == "c2s" or d == "s2c") and type(h) is str:
            try:
                return Chunk(d, t, bytes.fromhex(h))
            except ValueError:
                pass  # said exactly by the checks below
    where = f"recording: events[{i}]"
    if not isinstance(e, dict) or "t" not in e:
        raise RecordingError(f"{where}: needs a number 't'")
    t = _number(e["t"], f"{where}.t")
    if "dir" in e:
        if e["dir"] not in ("c2s", "s2c"):
            raise RecordingError(f"{where}: 'dir' must be c2s or s2c")
        hexed = e.get("hex", "")
        if not isinstance(hexed, str):
            raise RecordingError(f"{where}: 'hex' must be a string of hexadecimal digits")
        try:
            data = bytes.fromhex(hexed)
        except ValueError as exc:
            raise RecordingError(f"{where}: 'hex' is not hexadecimal ({exc})") from None
        return Chunk(e["dir"], t, data)
    if "fact" in e:
        if not isinstance(e["fact"], str) or not e["fact"]:
            raise RecordingError(f"{where}: 'fact' must be a name (a string)")
        value = e.get("value")
        return Fact(t, e["fact"], _fact_value(e["fact"], {} if value is None else value, where))
    raise RecordingError(f"{where}: neither bytes ('dir', 'hex') nor a fact")


def _get(doc: dict, key: str, kind: Any) -> Any:
    if key not in doc or not isinstance(doc[key], kind) or isinstance(doc[key], bool):
        raise RecordingError(f"recording: '{key}' is missing or of the wrong type")
    return doc[key]


def load(path: str | Path) -> Capture:
    """A recording read whole: every event checked before any is used."""
    capture, events = open_recording(path)
    capture.events.extend(events)
    return capture


#: The keys a reader needs before the first event (a recording written by wssviz has
#: them all before ``events``, so its events can be read one at a time).
HEAD_KEYS = ("format", "version", "scheme", "server_name", "started", "trust", "keylog")


def open_recording(path: str | Path) -> tuple[Capture, Iterator[Chunk | Fact]]:
    """A recording read as it is used: its head (checked) now, as a Capture with no
    events, and an iterator over its events, each read from the file and checked when
    it is asked for.  Memory holds one piece of the file at a time, not the file.  A
    fault in an event or after the events raises RecordingError from the iterator
    (naming the event or the offset); a fault before them, from this call."""
    from wssviz.core.limits import LIMITS

    try:
        size = Path(path).stat().st_size
        if size > LIMITS.max_recording:
            raise RecordingError(f"recording: {path} is {size:,} bytes, over the max_recording limit of "
                                 f"{LIMITS.max_recording:,} (raise it with --limit max_recording=...)")
        f = open(path, "rb")
    except OSError as exc:
        raise RecordingError(f"recording: cannot read {path}: {exc.strerror or exc}") from None
    reader = JsonStream(f, parse_constant=_no_constant)
    try:
        with _said(path):
            return _open(reader, f, size)
    except BaseException:
        f.close()
        raise


def _open(reader: JsonStream, f, size: int) -> tuple[Capture, Iterator[Chunk | Fact]]:
    doc: dict[str, Any] = {}
    if reader.peek() != "{":  # not an object: what json.loads would say of it
        from_document(reader.value())
    reader.expect("{")
    while True:
        key = reader.key(first=not doc)
        if key is None:  # the document ended without events
            reader.end()
            from_document(doc)  # says what is missing
            raise RecordingError("recording: 'events' is missing or of the wrong type")
        if key != "events":
            doc[key] = reader.value()
            continue
        if not all(k in doc for k in HEAD_KEYS) or reader.peek() != "[":
            # an unusual order (or no list): read the rest whole, then check it all
            doc[key] = reader.value()
            doc.update(reader.rest_of_object())
            reader.end()
            f.close()
            return from_document(doc), iter(())
        capture = _head_of(doc)
        reader.expect("[")
        if not reader.array_item(first=True):
            raise RecordingError("recording: 'events' is empty: nothing happened in this recording")
        return capture, RecordingEvents(reader, f, doc, size, f.name)


@contextmanager
def _said(path: str | Path) -> Iterator[None]:
    """What the JSON reader found wrong, said of the recording."""
    try:
        yield
    except JsonStreamError as e:
        if e.kind == "utf8":
            raise RecordingError(f"{path} is neither a pcap/pcapng capture nor a wssviz recording "
                                 f"(byte {e.offset} is not UTF-8 text)") from None
        if e.kind == "deep":
            raise RecordingError(f"recording: {path} nests its JSON values too deeply "
                                 f"(the value at offset {e.offset})") from None
        if e.kind == "value":
            raise RecordingError(f"recording: {path} holds a value JSON readers refuse at offset "
                                 f"{e.offset} ({e.msg})") from None
        raise RecordingError(f"recording: {path} is not JSON ({e.msg}: line {e.line}, "
                             f"column {e.column}, offset {e.offset})") from None


class RecordingEvents:
    """The events of a recording being read (``open_recording``): an iterator, and how
    far into the file it has got (``position``, of ``size`` bytes)."""

    def __init__(self, reader: JsonStream, f, doc: dict[str, Any], size: int, path: str) -> None:
        self._gen = self._read(reader, f, doc, path)
        self._reader = reader
        self.size = size

    @property
    def position(self) -> int:
        return self._reader.read_bytes

    def __iter__(self) -> "RecordingEvents":
        return self

    def __next__(self) -> Chunk | Fact:
        return next(self._gen)

    @staticmethod
    def _read(reader: JsonStream, f, doc: dict[str, Any], path: str) -> Iterator[Chunk | Fact]:
        try:
            i = 0
            while True:
                with _said(path):
                    value = reader.value()
                yield _event(value, i)
                i += 1
                with _said(path):
                    if not reader.array_item(first=False):
                        break
            with _said(path):
                rest = reader.rest_of_object()
                reader.end()
            for key in rest:
                if key in doc or key == "events":
                    raise RecordingError(f"recording: '{key}' appears twice (again after 'events')")
        finally:
            f.close()


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a recording may hold")
