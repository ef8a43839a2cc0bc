"""Words the interface shows: the ``[ui]`` tables of the explain catalogs.

Every label goes through ``t(key, lang)``; the text itself lives only in
``wssviz/explain/<lang>.toml`` (English is the reference, other languages fall
back to it per key).  A key missing from every catalog shows as the key itself,
which ``tests/test_explain.py`` keeps from happening.
"""

from __future__ import annotations

from functools import lru_cache

from wssviz.explain import languages, ui_text

__all__ = ["ALIASES", "languages", "next_language", "t"]

#: Interface names for labels that ``--plain`` shares under the catalog's own name.
ALIASES = {"explain_what": "what_happened", "explain_why": "why",
           "explain_eavesdropper": "eavesdropper_sees", "explain_rfc": "rfc"}


@lru_cache(maxsize=None)
def t(key: str, lang: str = "en") -> str:
    """The catalog's ``[ui]`` text for ``key`` in ``lang`` (English if it lacks one)."""
    return ui_text(ALIASES.get(key, key), lang)


def next_language(lang: str) -> str:
    """The language after ``lang`` among those with a catalog (English first)."""
    langs = languages()
    return langs[(langs.index(lang) + 1) % len(langs)] if lang in langs else langs[0]
