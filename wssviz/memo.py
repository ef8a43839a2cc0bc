"""The user's cache folder for wssviz, and small memos kept there between runs.

Some knowledge is slow to read in its source form: scapy's TLS name tables need
scapy's TLS layer (about a second), and each explanation catalog is 60 KB of
TOML (about 10 ms to parse, plus the parser's import).  A memo is that
knowledge once read, as JSON, named after what it was read from (scapy's
version, the catalog's checksum), so the source stays the authority: a changed
source gets a new memo, and a missing, unreadable or read-only cache only means
reading the source again.

Standard library only; nothing here knows what is memoised.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["cache_dir", "read", "write"]


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
