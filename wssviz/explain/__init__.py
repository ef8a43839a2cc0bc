"""The catalogs: everything a learner reads, in every language, and the code that picks it.

The text lives in one TOML catalog per language (``en.toml``, ``zh.toml``) next to
this module; a language is one catalog file (``languages()`` lists them), and no
other module builds text a learner reads (``tests/test_architecture.py``).  English
is the reference catalog and is complete; other languages fall back to it per entry
and per part.

Catalog layout
--------------
- ``[ui]``: interface strings (``ui_text``; the interface fills ``{name}`` with
  ``str.format``).
- ``[text]``: messages (``Msg`` keys): step titles and summaries, word values,
  error rules and actions; rendered by ``text`` (``render.py`` says how templates
  are filled).
- ``[field]``: field labels by field id (``label``).
- ``[glossary.<term>]``: ``name`` and ``text`` of a term the explanations use
  (``glossary``).
- ``[scenario.<name>]``: a bundled scenario's ``title``, ``goal``, ``description``
  and ``outcome`` (the English ones are the scenario file's own).
- every other table is an explanation entry: keyed by a step kind
  (``["tls.certificate"]``) or a variant of it (``["tls.certificate.client"]``),
  with the parts ``title``, ``what``, ``why``, ``rfc`` and up to three eavesdropper
  texts, one per visibility (``visibility()``): ``eavesdropper`` (the bytes cross
  the wire readable), ``eavesdropper_encrypted`` (inside encrypted TLS records),
  ``eavesdropper_local`` (a local computation that sends nothing).

Variants and their conditions
-----------------------------
A variant holds ``when``, a table of conditions that must all hold for the step
(in the reference catalog; other languages give only the parts).  A condition's
key is a field id (``"ws.frame.opcode" = 1``: the raw value of the step's first
field with that id), a fact the dissector recorded on the step (``sender =
"client"``), or ``direction``, ``status`` or ``scheme``.  The wanted value is a value,
a list of values (any of them), or ``"*"`` (present at all).  For each part, the
variants that hold are tried most specific first (most conditions; then in file
order), then the kind's own entry, then ``_generic``; each key is looked up in the
requested language first and then in English.  So a variant may define only the
parts that differ, and a missing Chinese part shows the English one rather than a
less specific Chinese one.

Placeholders in these parts name a field id (``{tcp.closed_by}``: its value as
rendered in the language), a fact (``{sender}``), or ``{wire bytes}`` / ``{data
bytes}`` (lengths); see ``render.py`` for ``[[ ... ]]`` and filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from wssviz.explain import render
from wssviz.explain.render import (REFERENCE, default_language, entry, fill, label, languages,
                                   scenario_part, summary, text, title, ui_text, value)
from wssviz.steps import Msg, Step

__all__ = ["Explanation", "explain", "kind_title", "languages", "default_language", "ui_text", "visibility",
           "text", "mentions",
           "label", "value", "title", "summary", "glossary", "scenario_text", "REFERENCE"]

PARTS = ("title", "what", "why", "rfc")
EAVESDROPPER_PART = {"clear": "eavesdropper", "encrypted": "eavesdropper_encrypted",
                     "local": "eavesdropper_local"}
_NOT_ENTRIES = {"ui", "text", "field", "glossary", "scenario"}


@dataclass(frozen=True)
class Explanation:
    title: str
    what: str
    why: str
    eavesdropper: str
    rfc: str


def kind_title(kind: str, lang: str = REFERENCE) -> str:
    """A short human name for a step kind; the kind itself if unknown."""
    return entry(kind, "title", lang) or kind


# --- glossary and scenarios ---------------------------------------------------


@dataclass(frozen=True)
class Term:
    key: str  # the term's id, e.g. "hkdf"
    name: str  # as the learner sees it, e.g. "HKDF"
    text: str  # what it means
    match: tuple[str, ...]  # the words that mark it in teaching text


def glossary(lang: str = REFERENCE) -> list[Term]:
    """The glossary in ``lang`` (English where it lacks a term), in catalog order."""
    ref = render.catalog(REFERENCE).get("glossary", {})
    mine = render.catalog(lang).get("glossary", {})
    out = []
    for key, base in ref.items():
        own = mine.get(key, {})
        name = own.get("name") or base.get("name") or key
        match = tuple(own.get("match", base.get("match", [name])))
        out.append(Term(key, name, own.get("text") or base.get("text", ""), match))
    return out


def scenario_text(name: str, part: str, lang: str, default: str) -> str:
    """A bundled scenario's ``title``/``goal``/``description``/``outcome`` in ``lang``
    (the scenario file's own text when the catalog has none)."""
    return scenario_part(name, part, lang, default)


# --- visibility on the wire --------------------------------------------------

#: TLS handshake messages that are always sent before any key exists.
_TLS_ALWAYS_CLEAR = frozenset({"tls.client_hello", "tls.server_hello",
                               "tls.hello_retry_request", "tls.change_cipher_spec"})
_APPLICATION_DATA = 0x17
_CLEAR_CONTENT_TYPES = frozenset({0x14, 0x15, 0x16})  # ccs, alert, handshake
TLS12, TLS13 = 0x0303, 0x0304


def _plaintext_alert_record(step: Step) -> bool:
    """The step's wire is one alert record (type 21) carrying a bare 2-byte alert."""
    wire = step.wire
    return len(wire) >= 7 and wire[0] == 0x15 and int.from_bytes(wire[3:5], "big") == 2


def visibility(step: Step, scheme: str = "wss") -> str:
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
    kind, wire, data = step.kind, step.wire, step.data
    if step.direction in ("client", "server"):
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
    version = step.raw("tls.version")
    if kind == "tls.alert":
        if wire:
            return "clear" if _plaintext_alert_record(step) else "encrypted"
        if step.raw("tls.alert.description") == 0:
            return "encrypted"
        return "clear" if version == TLS12 else "encrypted"
    if layer != "tls":  # an error step carrying bytes
        return "clear" if not wire or wire[0] in _CLEAR_CONTENT_TYPES else "encrypted"
    if kind in _TLS_ALWAYS_CLEAR:
        return "clear"
    if wire and data and data in wire[5:]:
        return "clear"
    if version == TLS12:
        return "encrypted" if kind == "tls.finished" else "clear"
    return "encrypted"


# --- choosing the entry --------------------------------------------------------

_MISSING = object()


def fact(step: Step, key: str, scheme: str = "wss") -> Any:
    """What a condition or placeholder ``key`` means for ``step``."""
    if key == "direction":
        return str(step.direction)
    if key == "status":
        return str(step.status)
    if key == "scheme":
        return scheme
    if "." in key:
        f = step.find(key)
        return _MISSING if f is None else f.raw
    return step.facts.get(key, _MISSING)


def _holds(step: Step, when: dict[str, Any], scheme: str) -> bool:
    for key, want in when.items():
        got = fact(step, key, scheme)
        if want == "*":
            if got is _MISSING or got is None:
                return False
        elif isinstance(want, list):
            if got is _MISSING or got not in want:
                return False
        elif got is _MISSING or got != want:
            return False
    return True


@cache
def _variants(kind: str) -> tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]:
    """The reference catalog's variants of ``kind``: (key, conditions), most specific first
    (the most conditions, a list of values counting half; then in file order)."""
    found = []
    for order, (key, body) in enumerate(render.catalog(REFERENCE).items()):
        if key in _NOT_ENTRIES or not isinstance(body, dict) or not key.startswith(kind + "."):
            continue
        when = body.get("when")
        if isinstance(when, dict) and when:
            # a condition naming one value is more specific than one naming several
            weight = sum(0.5 if isinstance(v, list) else 1 for v in when.values())
            found.append((-weight, order, key, tuple(when.items())))
    found.sort()
    return tuple((key, when) for _, _, key, when in found)


def chain(step: Step, scheme: str = "wss") -> list[str]:
    """The entry keys for ``step``, most specific first."""
    keys = [key for key, when in _variants(step.kind) if _holds(step, dict(when), scheme)]
    return keys + [step.kind, "_generic"]


def _part(keys: list[str], part: str, lang: str) -> str:
    cats = ([render.catalog(lang), render.catalog(REFERENCE)] if lang != REFERENCE
            else [render.catalog(REFERENCE)])
    for key in keys:
        for cat in cats:
            v = cat.get(key, {}).get(part)
            if isinstance(v, str) and v.strip():
                return v
    return ""


def _resolver(step: Step, scheme: str, lang: str):
    def resolve(name: str) -> Any:
        if name == "wire bytes":  # not for a large frame: its step keeps only part of the wire
            return (len(step.wire) or None) if not step.has("ws.frame.not_shown") else None
        if name == "data bytes":
            return len(step.data) or None
        if "." in name:
            f = step.find(name)
            if f is None or (isinstance(f.value, Msg) and f.value.key == "value.none"):
                return None  # absent, or a field that says "none"
            # our own words stay whole (a Msg renders in full); a literal, peer data
            # perhaps, is cut to one line where the template inserts it
            return f.value if isinstance(f.value, Msg) else (value(f, lang) or None)
        got = step.facts.get(name)
        return got
    return resolve


def explain(step: Step, lang: str = REFERENCE, *, scheme: str = "wss") -> Explanation:
    """The explanation for ``step`` in ``lang``; never raises for an unknown kind."""
    keys = chain(step, scheme)
    vis = visibility(step, scheme)
    resolve = _resolver(step, scheme, lang)
    eaves = _part(keys, EAVESDROPPER_PART[vis], lang) or _part(keys, "eavesdropper", lang)
    parts = {p: fill(_part(keys, p, lang), resolve, lang) for p in PARTS}
    return Explanation(title=parts["title"] or str(step.kind), what=parts["what"], why=parts["why"],
                       eavesdropper=fill(eaves, resolve, lang), rfc=parts["rfc"])





def mentions(text: str, word: str) -> bool:
    """Whether teaching ``text`` uses the term ``word`` (a whole word in Latin letters;
    anywhere for Chinese)."""
    import re

    if not word:
        return False
    if word.isascii():
        return re.search(rf"(?<![A-Za-z0-9]){re.escape(word)}(?![A-Za-z0-9])", text) is not None
    return word in text
