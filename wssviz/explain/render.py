"""Text as data, rendered: catalog messages, field labels and values, in one language.

Everything a learner reads is a ``Msg`` (``wssviz.steps``): a key into the ``[text]``
table of a catalog and the values to fill in.  ``text(msg, lang)`` renders it; a
field's label comes from the ``[field]`` table by the field's id (``label``), its
value is a literal or a Msg (``value``).  A key a language lacks falls back to the
reference catalog (English), then shows as the key itself (a test keeps every key
present in every catalog).

Templates
---------
``{name}`` is filled with the parameter ``name``: a literal as it is (control
characters become spaces, long values are cut), a number in digits, a list joined
by the catalog's ``list.sep``, bytes as hex, a nested Msg rendered in the same
language.  A segment inside ``[[ ... ]]`` is dropped when any placeholder in it has
no value (absent, None, or an empty list).  Filters after a colon:
``{n:plural:suite|suites}`` (one form for 1, the other for the rest; a list counts
its items), ``{items:count}`` (how many items), ``{ok:choice:yes|no}`` (one text for a true value, the other for a false one).  Values are inserted in one literal
pass, never formatted or rescanned, so a peer's ``{0.__class__}`` or ``[/bold]``
stays plain text; the result is plain text, never markup.
"""

from __future__ import annotations

import functools
import re
from functools import cache
from importlib import resources
from typing import Any, Callable

from wssviz import memo
from wssviz.steps import Field, Msg, Step

REFERENCE = "en"
MAX_VALUE = 80  # characters of a literal shown inside a template


@cache
def _load(lang: str) -> dict[str, Any]:
    """The catalog for ``lang``: its TOML, read through a memo (``wssviz.memo``)."""
    try:
        raw = resources.files("wssviz.explain").joinpath(f"{lang}.toml").read_bytes()
    except (FileNotFoundError, OSError):
        return {}
    return memo.toml(raw, f"explain-{lang}")


def catalog(lang: str) -> dict[str, Any]:
    """The catalog for ``lang`` (empty if there is none).  Tests may patch this."""
    return _load(lang)


def languages() -> list[str]:
    """Languages with a catalog, English first: a language is one catalog file."""
    names = [p.name[:-5] for p in resources.files("wssviz.explain").iterdir()
             if p.name.endswith(".toml")]
    return sorted(names, key=lambda n: (n != REFERENCE, n))


_ENTRIES: dict[tuple, str | None] = {}  # (table, key, lang, the catalogs' identities) -> entry


def entry(table: str, key: str, lang: str) -> str | None:
    """``[table] key`` in ``lang``, else in the reference catalog, else None."""
    cats = (catalog(lang), catalog(REFERENCE)) if lang != REFERENCE else (catalog(REFERENCE),)
    k = (table, key, lang, *map(id, cats))
    try:
        return _ENTRIES[k]
    except KeyError:
        pass
    found = _entry(table, key, cats)
    if len(_ENTRIES) < 100_000:
        _ENTRIES[k] = found
    return found


def _entry(table: str, key: str, cats: tuple) -> str | None:
    for cat in cats:
        value = cat.get(table, {}).get(key)
        if isinstance(value, str) and value:
            return value
    return None


# --- templates ---------------------------------------------------------------

_TOKEN = re.compile(r"\[\[(.*?)\]\]|\{([A-Za-z0-9 _.\-]+)(?::([a-z]+)(?::([^{}]*))?)?\}", re.DOTALL)
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9 _.\-]+)(?::([a-z]+)(?::([^{}]*))?)?\}")

Resolver = Callable[[str], Any]  # a placeholder name -> its value (None: absent)


def clean(value: str, limit: int = MAX_VALUE) -> str:
    """A literal made safe for one line of teaching text."""
    text = "".join(ch if ch.isprintable() else " " for ch in value)
    if limit and len(text) > limit:
        text = text[:limit - 1] + "…"
    return text


def show(value: Any, lang: str, limit: int = MAX_VALUE) -> str | None:
    """Any parameter value as text in ``lang``; None when it counts as absent."""
    if value is None:
        return None
    if isinstance(value, Msg):
        return text(value, lang)
    if isinstance(value, bool):
        return text(Msg("word.yes" if value else "word.no"), lang)
    if isinstance(value, (int, float)):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, (list, tuple)):
        parts = [p for p in (show(v, lang, limit) for v in value) if p]
        if not parts:
            return None
        return (entry("text", "list.sep", lang) or ", ").join(parts)
    s = clean(str(value), limit)
    return s or None


def _filtered(value: Any, name: str | None, arg: str | None, lang: str) -> str | None:
    if name is None:
        return show(value, lang)
    if name == "count":
        return str(len(value)) if isinstance(value, (list, tuple)) else show(value, lang)
    if name == "plural":
        n = len(value) if isinstance(value, (list, tuple)) else value
        one, _, other = (arg or "").partition("|")
        return one if n == 1 else other
    if name == "choice":  # {ok:choice:when true|when false}
        yes, _, no = (arg or "").partition("|")
        return yes if value else no
    return show(value, lang)


@functools.lru_cache(maxsize=8192)
def _compile(template: str, optional: bool = False) -> tuple:
    """A template as its parts, parsed once: literal text, ``(name, filter, arg)`` for a
    placeholder, and ``(None, parts)`` for an optional ``[[ ]]`` part."""
    pattern = _PLACEHOLDER if optional else _TOKEN
    parts: list = []
    pos = 0
    for m in pattern.finditer(template):
        if m.start() > pos:
            parts.append(template[pos:m.start()])
        if optional:
            parts.append((m.group(1), m.group(2), m.group(3)))
        elif m.group(2) is not None:
            parts.append((m.group(2), m.group(3), m.group(4)))
        else:
            parts.append((None, _compile(m.group(1), True)))
        pos = m.end()
    if pos < len(template):
        parts.append(template[pos:])
    return tuple(parts)


_SPACES = re.compile(r"[ \t]{2,}")


def fill(template: str, resolve: Resolver, lang: str) -> str:
    """Fill ``template`` from ``resolve`` (see the module docs)."""

    def one(name: str, flt: str | None, arg: str | None) -> str | None:
        value = resolve(name)
        if value is None or (isinstance(value, (list, tuple)) and not value):
            return None
        return _filtered(value, flt, arg, lang)

    out: list[str] = []
    for part in _compile(template):
        if isinstance(part, str):
            out.append(part)
        elif part[0] is not None:
            out.append(one(*part) or "")
        else:  # an optional part: all of it, or nothing if any of its values is absent
            inner: list[str] = []
            for p in part[1]:
                got = p if isinstance(p, str) else one(*p)
                if got is None:
                    break
                inner.append(got)
            else:
                out.append("".join(inner))
    text = "".join(out)
    if "  " in text or "\t" in text:
        text = _SPACES.sub(" ", text)
    return text.strip()


# --- messages, labels, values ------------------------------------------------


_TEXTS: dict[tuple, str] = {}  # rendered Msgs whose values are all hashable, per language
_TEXTS_MAX = 4096  # enough for what repeats (FIN 1, RSV1 0 …); per-frame texts do not


def text(msg: Msg | str | None, lang: str = REFERENCE) -> str:
    """A Msg rendered in ``lang`` (a literal is returned as it is).  A long session
    says the same things many times (FIN 1, RSV1 0 …): those are rendered once."""
    if msg is None:
        return ""
    if not isinstance(msg, Msg):
        return str(msg)
    try:
        # (True and 1 are equal keys but read differently: the type is part of the key)
        k = (msg.key, tuple((n, type(v), v) for n, v in msg.params.items()), lang,
             id(catalog(lang)), id(catalog(REFERENCE)))
        hash(k)
    except TypeError:  # a list among the values
        return _text(msg, lang)
    found = _TEXTS.get(k)
    if found is None:
        if len(_TEXTS) >= _TEXTS_MAX:
            _TEXTS.clear()
        found = _TEXTS[k] = _text(msg, lang)
    return found


def _text(msg: Msg, lang: str) -> str:
    if msg.key == "scenario.part":
        return scenario_part(msg.params.get("name", ""), msg.params.get("part", "title"), lang,
                             str(msg.params.get("default", "")))
    template = entry("text", msg.key, lang)
    if template is None:
        return msg.key
    return fill(template, msg.params.get, lang)


def scenario_part(name: str, part: str, lang: str, default: str) -> str:
    """A bundled scenario's ``title``/``goal``/``description``/``outcome`` in ``lang``
    (``[scenario.<name>]`` of the catalog; the scenario file's own text otherwise)."""
    if lang != REFERENCE:
        value = catalog(lang).get("scenario", {}).get(name, {}).get(part)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())
    return default


def field_label(id: str, lang: str = REFERENCE) -> str | None:
    """The catalog's label template for a field id: the id itself, else the id with its
    third segment (``tls.ext.key_share.group`` → ``tls.ext.*.group``) or its second
    (``tls.server_hello.random`` → ``tls.*.random``) taken as ``*``."""
    found = entry("field", id, lang)
    if found is not None:
        return found
    parts = id.split(".")
    for i in (2, 1):
        if len(parts) > i + 1:
            found = entry("field", ".".join(parts[:i] + ["*"] + parts[i + 1:]), lang)
            if found is not None:
                return found
    return None


def label(f: Field, lang: str = REFERENCE) -> str:
    """What a field is called in ``lang``: its literal name, or the catalog's label for
    its id (``{n}`` is the item's number)."""
    if f.name is not None:
        return f.name
    k = (f.id, f.n, lang, id(catalog(lang)), id(catalog(REFERENCE)))
    found = _LABELS.get(k)
    if found is None:
        found = _LABELS[k] = _label(f.id, f.n, lang)
    return found


_LABELS: dict[tuple, str] = {}


def _label(id: str, n: int | None, lang: str) -> str:
    template = field_label(id, lang)
    if template is None:
        return id.rsplit(".", 1)[-1].replace("_", " ")
    if "{" not in template:
        return template
    return fill(template, {"n": n}.get, lang)


def value(f: Field, lang: str = REFERENCE) -> str:
    """A field's value as a learner reads it in ``lang``."""
    v = f.value
    if isinstance(v, Msg):
        return text(v, lang)
    return v


def title(step: Step, lang: str = REFERENCE) -> str:
    return text(step.title, lang)


def summary(step: Step, lang: str = REFERENCE) -> str:
    return text(step.summary, lang)


def ui_text(key: str, lang: str = REFERENCE) -> str:
    """An interface string from the ``[ui]`` table; the key itself if unknown."""
    return entry("ui", key, lang) or key


def default_language(environ: dict | None = None) -> str:
    """The learner's language from the locale: the first of ``LC_ALL``, ``LC_MESSAGES``
    and ``LANG`` that is set (POSIX order), if a catalog exists for it (``zh_CN.UTF-8``
    → ``zh``); English otherwise."""
    import os

    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var)
        if value:
            code = value.split(".", 1)[0].split("@", 1)[0].split("_", 1)[0].lower()
            if code in ("c", "posix", REFERENCE) or not code:
                return REFERENCE
            return code if code in languages() else REFERENCE
    return REFERENCE
