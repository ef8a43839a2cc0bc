"""The user's cache folder for wssviz, and small memos kept there between runs.

Some knowledge is slow to read in its source form: scapy's TLS name tables need
scapy's TLS layer (about a second), and each explanation catalog is 60 KB of
TOML (about 10 ms to parse, plus the parser's import).  A memo is that
knowledge once read, as JSON, named after what it was read from (scapy's
version, the catalog's checksum), so the source stays the authority: a changed
source gets a new memo, and a missing, unreadable or read-only cache only means
reading the source again.

Standard library only; nothing here knows what is memoised.  ``toml`` is the one
place TOML (the explanation catalogs, the scenario files) is read.
"""

from __future__ import annotations

import json
import os
import tempfile
import zlib
from pathlib import Path
from typing import Any

__all__ = ["cache_dir", "read", "toml", "write"]


def cache_dir(writable: bool = False) -> Path:
    """``$XDG_CACHE_HOME/wssviz`` or ``~/.cache/wssviz``; with ``writable``, the temporary
    folder's ``wssviz`` instead when the home folder cannot take it."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if writable and not os.path.isdir(base) and not os.access(os.path.dirname(base) or ".", os.W_OK):
        base = tempfile.gettempdir()
    return Path(base) / "wssviz"


def read(name: str) -> Any | None:
    """The memo ``name`` (a file name in the cache folder), or None if there is none
    or it cannot be read."""
    try:
        return json.loads((cache_dir() / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write(name: str, data: Any, replaces: str | None = None) -> None:
    """Keep ``data`` as memo ``name`` (written whole or not at all).  Memos matching the
    glob ``replaces`` (older versions of the same knowledge) are removed."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if replaces:
            for old in folder.glob(replaces):
                if old.name != name:
                    old.unlink(missing_ok=True)
        tmp = folder / f"{name}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, folder / name)
    except (OSError, TypeError, ValueError):
        pass  # a read-only home, or data JSON cannot hold: the knowledge still works, just not memoised


def toml(raw: bytes, stem: str) -> dict[str, Any]:
    """The TOML document ``raw`` (UTF-8), from its memo when it has been read before.

    The memo is named after ``stem`` and the document's length and checksum, and
    replaces the memos of earlier versions of the same stem.  Invalid TOML raises
    ``tomllib.TOMLDecodeError`` (a ``ValueError``), invalid UTF-8 ``UnicodeDecodeError``.
    """
    name = f"{stem}-{len(raw)}-{zlib.crc32(raw):08x}.json"
    data = read(name)
    if isinstance(data, dict):
        return data
    import tomllib  # only when there is no memo (the import and a parse cost ~3-15 ms)

    data = tomllib.loads(raw.decode("utf-8"))
    write(name, data, replaces=f"{stem}-*.json")
    return data
