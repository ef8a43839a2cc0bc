"""The import rule of docs/architecture.md §3, held by looking at real imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "wssviz"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def files(sub: str) -> list[Path]:
    return sorted((ROOT / sub).rglob("*.py"))


@pytest.mark.parametrize("path", files("core"), ids=lambda p: p.name)
def test_core_is_standard_library_only(path):
    for mod in imported_modules(path):
        top = mod.split(".")[0]
        assert top in sys.stdlib_module_names or mod.startswith("wssviz.core"), f"{path.name} imports {mod}"


@pytest.mark.parametrize("path", files("ui"), ids=lambda p: p.name)
def test_ui_sees_steps_only(path):
    for mod in imported_modules(path):
        assert not mod.startswith(("wssviz.dissect", "wssviz.live", "wssviz.recording",
                                   "scapy", "cryptography")), f"{path.name} imports {mod}"


@pytest.mark.parametrize("path", files("dissect") + [ROOT / "steps.py"], ids=lambda p: p.name)
def test_dissect_never_reaches_up(path):
    for mod in imported_modules(path):
        assert not mod.startswith(("wssviz.live", "wssviz.ui", "wssviz.cli", "textual")), \
            f"{path.name} imports {mod}"


def test_scapy_is_not_on_the_start_up_path():
    code = ("import sys, wssviz.cli, wssviz.live.pair, wssviz.dissect, wssviz.recording; "
            "print(any(m == 'scapy' or m.startswith('scapy.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
