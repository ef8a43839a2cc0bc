"""Shared plumbing for the atheris targets in this folder.

Each target defines ``one_input(data: bytes)`` and calls ``main(name, one_input,
expected=(...))``.  Exceptions listed in ``expected`` are the documented errors of
the code under test and are swallowed; anything else is a finding.

By default a finding crashes the process (libFuzzer saves the input as
``crash-<sha1>`` in the current folder, or where ``-artifact_prefix=`` says).

With ``WSSVIZ_FUZZ_KEEP_GOING=1`` a finding is recorded instead and fuzzing goes on:
the first input of each distinct signature (exception type + innermost wssviz
frame) is written to ``fuzz/findings/<target>/<signature>.bin`` with its traceback
beside it (``.txt``).  This is the harness-local filter the README describes: it keeps
a target fuzzing past a known class of bug; each signature is still a finding.

Hangs and memory blow-ups are caught by libFuzzer itself (``-timeout=``,
``-rss_limit_mb=``) in both modes.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# Memos (parsed TOML kept as JSON) go to a private cache, not the user's.
os.environ.setdefault("XDG_CACHE_HOME", os.path.join(tempfile.gettempdir(), "wssviz-fuzz-cache"))
sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))

KEEP_GOING = os.environ.get("WSSVIZ_FUZZ_KEEP_GOING") == "1"
_seen: set[str] = set()


def signature(exc: BaseException) -> str:
    """``TypeName@wssviz/path.py:line`` of the innermost wssviz frame (else the
    innermost frame at all)."""
    tb = traceback.extract_tb(exc.__traceback__)
    where = None
    for fr in reversed(tb):
        if "/wssviz/" in fr.filename:
            where = fr
            break
    if where is None and tb:
        where = tb[-1]
    loc = "?"
    if where is not None:
        fn = where.filename
        i = fn.rfind("/wssviz/")
        loc = f"{fn[i + 1:] if i >= 0 else os.path.basename(fn)}:{where.lineno}"
    return f"{type(exc).__name__}@{loc}"


def _record(target: str, data: bytes, exc: BaseException) -> None:
    sig = signature(exc)
    if sig in _seen:
        return
    _seen.add(sig)
    out = HERE / "findings" / target
    out.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in sig)
    (out / f"{safe}.bin").write_bytes(data)
    tb = "".join(traceback.format_exception(exc))
    (out / f"{safe}.txt").write_text(f"signature: {sig}\ninput sha1: {hashlib.sha1(data).hexdigest()}\n"
                                     f"input size: {len(data)}\n\n{tb}", encoding="utf-8")
    print(f"\n=== FINDING {sig} (saved in {out / safe}.bin)\n{tb}", file=sys.stderr, flush=True)


def main(target: str, one_input, *, expected: tuple[type[BaseException], ...] = ()) -> None:
    import atheris

    def run(data: bytes) -> None:
        try:
            one_input(data)
        except expected:
            pass
        except Exception as exc:  # noqa: BLE001 - every other exception is a finding
            if not KEEP_GOING:
                raise
            _record(target, data, exc)

    atheris.Setup(sys.argv, run)
    atheris.Fuzz()
