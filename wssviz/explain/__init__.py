"""Teaching text for every Step: what happened, why, what an eavesdropper sees, the RFC.

The text lives in one TOML catalog per language (``en.toml``, ``zh.toml``) next to
this module; widgets never hold teaching text.  English is the reference catalog
and is complete; other languages fall back to it per entry and per part.

Catalog layout
--------------
``[ui]`` holds the few interface strings (``ui_text``).  Every other table is an
entry keyed by a step kind, optionally with a variant suffix, e.g.
``["ws.frame.text.c2s"]``.  An entry has the parts ``title``, ``what``, ``why``,
``rfc`` and up to three eavesdropper texts, one per visibility (``visibility()``):

- ``eavesdropper``: the bytes cross the wire readable (``ws://``, or a TLS message
  sent in clear);
- ``eavesdropper_encrypted``: the bytes ride in encrypted TLS records;
- ``eavesdropper_local``: a local computation that sends nothing.

Lookup order
------------
For a step, the *chain* lists candidate keys, most specific first:

1. a value variant from the step's fields (names are the dissector's contract):
   ``ws.frame``: ``ws.frame.<op>.<direction>`` then ``ws.frame.<op>`` where ``<op>`` is
   the word in field ``opcode`` (``"0x1 text"`` → ``text``) and ``<direction>`` is
   ``c2s`` or ``s2c``; ``tls.alert``: ``tls.alert.<name>`` from field ``description``
   (``"48 unknown_ca"``); ``tls.keys``: ``tls.keys.handshake`` / ``.application`` /
   ``.tls12`` from field ``phase``; ``http.upgrade_response``: ``.<code>`` from field
   ``status code`` (``"403 Forbidden"`` → ``.403``);
   ``tls.alert.tls13_clear`` for a TLS 1.3 alert that went out in a plaintext alert
   record (outer type 21); ``tls.client_hello.retry`` when field ``attempt`` is 2 or
   more (a ClientHello after a HelloRetryRequest); ``tls.client_hello.resumption`` /
   ``tls.server_hello.resumption`` when a field ``pre_shared_key`` (the extension)
   is present; ``ws.frame.<op>.compressed`` (text, binary) when field ``RSV1`` says
   ``1 (compressed)``; ``http.upgrade_request.extensions`` /
   ``http.upgrade_response.extensions`` (101 only) when a header field
   ``Sec-WebSocket-Extensions`` is present (any case); ``tcp.close.<after>`` from field
   ``after`` (``websocket close`` → ``tcp.close.websocket_close``, ``tls alert``,
   ``http refusal``, ``abort``); ``error.<layer>`` from field ``layer`` (``tls record``
   → ``error.tls_record`` then ``error.tls``; ``live pair``, ``connect`` and ``listen``,
   wssviz's own drivers, → ``error.tool``);
2. ``<kind>.tls12.error`` then ``<kind>.error`` when the step's status is ``error``
   (and for an upgrade response whose status code is not 101); the first only for TLS 1.2;
3. ``<kind>.tls12`` when field ``tls version`` says TLS 1.2;
4. ``<kind>`` itself, then ``_generic``.

Each part is taken from the first key of the chain that has it, looking at each key
in the requested language first and then in English; only a part missing from both
moves on to the next key of the chain.  So a variant may define
only the parts that differ (e.g. only ``why``), and a missing Chinese entry shows the
English one rather than a less specific Chinese one.  An unknown language is English.

Placeholders
------------
Catalog text may contain ``{name}``, filled with the value of the step's field
``name`` (first match, depth first) or the computed names ``wire bytes`` / ``data
bytes`` (lengths).  A value that is empty or the word ``none`` (an error step's
``offset: none``) counts as absent.  Put placeholders inside an optional segment ``[[ ... ]]``: the
segment is dropped when any placeholder in it has no value; a bare placeholder with
no value becomes empty.  Values are inserted literally in one pass (never formatted,
never rescanned), control characters become spaces, and long values are cut, so a
peer-sent value such as ``{0.__class__}`` or ``[/bold]`` stays plain text.  Results
are plain text, never markup: views show them as ``rich.text.Text``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from wssviz import memo

__all__ = ["Explanation", "explain", "kind_title", "languages", "ui_text", "visibility"]

REFERENCE = "en"
PARTS = ("title", "what", "why", "rfc")
EAVESDROPPER_PART = {"clear": "eavesdropper", "encrypted": "eavesdropper_encrypted",
                     "local": "eavesdropper_local"}
MAX_VALUE = 80  # characters of a field value shown inside teaching text


@dataclass(frozen=True)
class Explanation:
    title: str
    what: str
    why: str
    eavesdropper: str
    rfc: str


# --- catalogs --------------------------------------------------------------


@cache
def _load(lang: str) -> dict[str, Any]:
    """The catalog for ``lang``: its TOML, read through a memo (``wssviz.memo``)."""
    try:
        raw = resources.files(__package__).joinpath(f"{lang}.toml").read_bytes()
    except (FileNotFoundError, OSError):
        return {}
    return memo.toml(raw, f"explain-{lang}")


def _catalog(lang: str) -> dict[str, Any]:
    """The catalog for ``lang`` (empty if there is none). Tests may patch this."""
    return _load(lang)


def languages() -> list[str]:
    """Languages with a catalog, English first."""
    names = [p.name[:-5] for p in resources.files(__package__).iterdir()
             if p.name.endswith(".toml")]
    return sorted(names, key=lambda n: (n != REFERENCE, n))


def ui_text(key: str, lang: str = "en") -> str:
    """An interface string from the ``[ui]`` table; the key itself if unknown."""
    for cat in (_catalog(lang), _catalog(REFERENCE)):
        value = cat.get("ui", {}).get(key)
        if isinstance(value, str) and value:
            return value
    return key


def kind_title(kind: str, lang: str = "en") -> str:
    """A short human name for a step kind; the kind itself if unknown."""
    for cat in (_catalog(lang), _catalog(REFERENCE)):
        value = cat.get(kind, {}).get("title") if kind != "ui" else None
        if isinstance(value, str) and value:
            return value
    return kind


# --- visibility on the wire --------------------------------------------------

#: TLS handshake messages that are always sent before any key exists.
_TLS_ALWAYS_CLEAR = frozenset({"tls.client_hello", "tls.server_hello",
                               "tls.hello_retry_request", "tls.change_cipher_spec"})
_APPLICATION_DATA = 0x17
_CLEAR_CONTENT_TYPES = frozenset({0x14, 0x15, 0x16})  # ccs, alert, handshake


def _is_tls12(step: Any) -> bool:
    return (_value(step, "tls version") or "").strip().upper().startswith("TLS 1.2")


def _is_tls13(step: Any) -> bool:
    return (_value(step, "tls version") or "").strip().upper().startswith("TLS 1.3")


def _plaintext_alert_record(step: Any) -> bool:
    """The step's wire is one alert record (type 21) carrying a bare 2-byte alert."""
    wire = bytes(getattr(step, "wire", b"") or b"")
    return len(wire) >= 7 and wire[0] == 0x15 and int.from_bytes(wire[3:5], "big") == 2


def visibility(step: Any, scheme: str = "wss") -> str:
    """What crossing the wire means for this step: ``clear``, ``encrypted`` or ``local``.

    ``local`` steps (direction ``client``/``server``, or an ``error`` with no bytes
    of its own) send nothing.  Under ``ws://`` everything sent is readable.  Under
    ``wss://``: TCP segments are clear; HTTP and WebSocket bytes ride in encrypted
    application data; for TLS steps, a record of type application_data (23) is
    encrypted, a message whose bytes appear verbatim in its record is clear, an
    alert is clear only as a 2-byte plaintext record, and otherwise the protocol
    decides (TLS 1.3: everything after ServerHello but ChangeCipherSpec is encrypted;
    TLS 1.2: everything before ChangeCipherSpec is clear, Finished is encrypted).
    """
    kind = str(getattr(step, "kind", ""))
    direction = getattr(step, "direction", "")
    wire = bytes(getattr(step, "wire", b"") or b"")
    data = bytes(getattr(step, "data", b"") or b"")
    if direction in ("client", "server"):
        return "local"
    if kind == "error" and not wire:
        return "local"
    if scheme == "ws":
        return "clear"
    layer = kind.split(".", 1)[0]
    if layer == "tcp":
        return "clear"
    if layer in ("http", "ws"):
        return "encrypted"
    if wire and wire[0] == _APPLICATION_DATA:
        return "encrypted"
    if kind == "tls.alert":
        if wire:
            return "clear" if _plaintext_alert_record(step) else "encrypted"
        if (_word(_value(step, "description")) or "") == "close_notify":
            return "encrypted"
        return "clear" if _is_tls12(step) else "encrypted"
    if layer != "tls":  # an error step carrying bytes
        return "clear" if not wire or wire[0] in _CLEAR_CONTENT_TYPES else "encrypted"
    if kind in _TLS_ALWAYS_CLEAR:
        return "clear"
    if wire and data and data in wire[5:]:
        return "clear"
    if _is_tls12(step):
        return "encrypted" if kind == "tls.finished" else "clear"
    return "encrypted"


# --- lookup ----------------------------------------------------------------

_WORD = re.compile(r"[a-z][a-z0-9_]*")


def _value(step: Any, name: str) -> str | None:
    getter = getattr(step, "value", None)
    if getter is None:
        return None
    value = getter(name)
    return value if isinstance(value, str) else None


def _word(value: str | None) -> str | None:
    """The last identifier-like word of a value: ``"48 unknown_ca"`` → ``unknown_ca``."""
    if not value:
        return None
    words = _WORD.findall(value.lower())
    return words[-1] if words else None


def _slug(value: str | None) -> str:
    """A catalog key suffix from a field value: ``"tls record"`` → ``tls_record``."""
    return "_".join(re.findall(r"[a-z0-9]+", (value or "").lower()))


def _leading_int(value: str | None) -> int | None:
    m = re.match(r"\s*(\d+)", value or "")
    return int(m.group(1)) if m else None


def _has_field(step: Any, name: str) -> bool:
    """Whether any field (at any depth) is called ``name``, ignoring case."""
    name = name.lower()
    for top in getattr(step, "fields", None) or []:
        walk = getattr(top, "walk", None)
        if walk is None:
            continue
        if any(str(getattr(f, "name", "")).lower() == name for f in walk()):
            return True
    return False


def _compressed(step: Any) -> bool:
    rsv1 = (_value(step, "RSV1") or "").strip().lower()
    return rsv1.startswith("1") and "compressed" in rsv1


#: Error layers that are wssviz's own drivers rather than a protocol.
_TOOL_LAYERS = frozenset({"live_pair", "connect", "listen"})


def _chain(step: Any) -> list[str]:
    kind = str(getattr(step, "kind", ""))
    direction = getattr(step, "direction", "")
    keys: list[str] = []
    error = getattr(step, "status", "ok") == "error"
    if kind == "ws.frame":
        op = _word(_value(step, "opcode"))
        if op:
            if op in ("text", "binary") and _compressed(step):
                keys.append(f"ws.frame.{op}.compressed")
            if direction in ("c2s", "s2c"):
                keys.append(f"ws.frame.{op}.{direction}")
            keys.append(f"ws.frame.{op}")
    elif kind == "tls.alert":
        name = _word(_value(step, "description"))
        if name:
            keys.append(f"tls.alert.{name}")
        if _is_tls13(step) and _plaintext_alert_record(step):
            keys.append("tls.alert.tls13_clear")
    elif kind == "tls.keys":
        phase = (_value(step, "phase") or "").strip().lower()
        suffix = {"handshake": "handshake", "application": "application",
                  "master secret": "tls12"}.get(phase)
        if suffix:
            keys.append(f"tls.keys.{suffix}")
    elif kind in ("tls.client_hello", "tls.server_hello"):
        if kind == "tls.client_hello" and (_leading_int(_value(step, "attempt")) or 1) >= 2:
            keys.append("tls.client_hello.retry")
        if _has_field(step, "pre_shared_key"):
            keys.append(f"{kind}.resumption")
    elif kind == "http.upgrade_request":
        if _has_field(step, "Sec-WebSocket-Extensions"):
            keys.append(f"{kind}.extensions")
    elif kind == "http.upgrade_response":
        m = re.match(r"\s*(\d{3})\b", _value(step, "status code") or "")
        if m:
            keys.append(f"{kind}.{m.group(1)}")
            error = error or m.group(1) != "101"
        if not error and _has_field(step, "Sec-WebSocket-Extensions"):
            keys.append(f"{kind}.extensions")
    elif kind == "tcp.close":
        after = _slug(_value(step, "after"))
        if after:
            keys.append(f"tcp.close.{after}")
    elif kind == "error":
        layer = _slug(_value(step, "layer"))
        if layer in _TOOL_LAYERS:
            keys.append("error.tool")
        elif layer:
            keys.append(f"error.{layer}")
            keys.append(f"error.{layer.split('_', 1)[0]}")
    tls12 = kind.startswith("tls.") and _is_tls12(step)
    if error:
        if tls12:
            keys.append(f"{kind}.tls12.error")
        keys.append(f"{kind}.error")
    if tls12:
        keys.append(f"{kind}.tls12")
    keys += [kind, "_generic"]
    return list(dict.fromkeys(keys))


def _part(chain: list[str], part: str, lang: str) -> str:
    cats = [_catalog(lang), _catalog(REFERENCE)]
    for key in chain:
        for cat in cats:
            value = cat.get(key, {}).get(part)
            if isinstance(value, str) and value.strip():
                return value
    return ""


# --- placeholders ----------------------------------------------------------

_TOKEN = re.compile(r"\[\[(.*?)\]\]|\{([A-Za-z0-9 _.\-]+)\}", re.DOTALL)
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9 _.\-]+)\}")


def _clean(value: str) -> str:
    text = "".join(ch if ch.isprintable() else " " for ch in value).strip()
    if len(text) > MAX_VALUE:
        text = text[:MAX_VALUE - 1] + "…"
    return text


def _fill(template: str, step: Any, lang: str = REFERENCE) -> str:
    """Fill ``{name}`` placeholders from the step, in one literal pass (a value that is
    just a side, "client" or "server", in the catalog's language)."""
    extra = {}
    wire = getattr(step, "wire", b"") or b""
    data = getattr(step, "data", b"") or b""
    if wire:
        extra["wire bytes"] = str(len(wire))
    if data:
        extra["data bytes"] = str(len(data))

    def lookup(name: str) -> str | None:
        value = _value(step, name)
        if value is None:
            value = extra.get(name)
        if value is None:
            return None
        value = _clean(value)
        if lang != REFERENCE and value in ("client", "server"):
            value = ui_text(f"side_{value}", lang)
        return value if value and value.lower() != "none" else None

    def segment(m: re.Match[str]) -> str:
        if m.group(2) is not None:
            return lookup(m.group(2)) or ""
        missing = False

        def inner(p: re.Match[str]) -> str:
            nonlocal missing
            value = lookup(p.group(1))
            if value is None:
                missing = True
                return ""
            return value

        filled = _PLACEHOLDER.sub(inner, m.group(1))
        return "" if missing else filled

    text = _TOKEN.sub(segment, template)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


# --- the entry point -------------------------------------------------------


def explain(step: Any, lang: str = "en", *, scheme: str = "wss") -> Explanation:
    """The explanation for ``step`` in ``lang``; never raises for an unknown kind."""
    chain = _chain(step)
    vis = visibility(step, scheme)
    eaves = _part(chain, EAVESDROPPER_PART[vis], lang) or _part(chain, "eavesdropper", lang)
    parts = {p: _fill(_part(chain, p, lang), step, lang) for p in PARTS}
    return Explanation(title=parts["title"] or str(getattr(step, "kind", "")),
                       what=parts["what"], why=parts["why"],
                       eavesdropper=_fill(eaves, step, lang), rfc=parts["rfc"])
