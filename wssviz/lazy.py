"""A module imported on its first use, for what a first screen does not need.

``ssl = lazy.module("ssl")`` binds a stand-in; the first attribute read imports
the real module (through the import system, so it is imported once and thread-safe)
and every read after that is a lookup in ``sys.modules``.  The live pair uses it
for ``ssl`` (about 8 ms, with OpenSSL's library) and ``ctypes``, which its first
step, the TCP connection, never touches.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

__all__ = ["module"]


class _Lazy:
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        real = sys.modules.get(self._name)
        if real is None:
            real = importlib.import_module(self._name)
        return getattr(real, attr)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported on first use>"


def module(name: str) -> Any:
    """A stand-in for module ``name`` that imports it when first read."""
    return _Lazy(name)
