"""The rules of docs/architecture.md §2–§4 (steps are data, text comes from the
catalogs, imports point down), held by reading the real code."""

from __future__ import annotations

import ast
import re
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


# --- steps are data: learner text comes from dissect/ and the catalogs -------------

PROSE = re.compile(r"[A-Za-z]{2,}[ ,]+[A-Za-z]{2,}[ ,]+[A-Za-z]{2,}")  # three English words

#: Modules whose output a learner reads (steps, panes, plain text); their words must
#: come from the catalogs.  (The command line's usage errors, scenario-file errors and
#: the operator banner of ``listen`` are for whoever runs the tool and stay English.)
LEARNER_MODULES = sorted(
    [*files("ui"), *(ROOT / m for m in ("plain.py", "session.py", "steps.py", "capture.py",
                                          "recording.py", "live/pair.py", "live/driven.py",
                                          "live/connect.py"))])

#: Literals that are data, not teaching text: the names in the demo certificates.
DATA_LITERALS = {"wssviz Demo CA", "Unknown CA (in no trust store)"}


def _prose_literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)):
            skip.add(id(body[0].value))  # docstrings
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            if isinstance(target, ast.Name) and "CSS" in target.id:
                skip.update(id(c) for c in ast.walk(node.value))  # style sheets
        if isinstance(node, ast.Raise):
            skip.update(id(c) for c in ast.walk(node))  # programming errors
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in skip
            and n.value not in DATA_LITERALS and PROSE.search(n.value)]


@pytest.mark.parametrize("path", LEARNER_MODULES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_learner_text_is_not_written_outside_the_catalogs(path):
    assert _prose_literals(path) == []


def test_the_prose_scan_finds_prose(tmp_path):
    """The scan above would see a sentence slipped into a pane."""
    probe = tmp_path / "probe.py"
    probe.write_text('"""A docstring is fine."""\n'
                     'DEFAULT_CSS = "Screen { layout: vertical; }"\n'
                     'def f():\n    return "the server answers with a pong"\n', encoding="utf-8")
    assert _prose_literals(probe) == [(4, "the server answers with a pong")]


@pytest.mark.parametrize("path", sorted(ROOT.rglob("*.py")), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_steps_are_built_only_by_the_dissector(path):
    rel = path.relative_to(ROOT).as_posix()
    if rel.startswith("dissect/") or rel == "steps.py":
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call)
             and getattr(n.func, "id", getattr(n.func, "attr", None)) in ("Step", "Field")]
    assert calls == [], f"{rel} builds steps at lines {calls}"


DISPLAY_CALLS = {"title", "summary", "label", "text", "ui_text", "explain", "kind_title"}
DISPLAY_ATTRS = {"title", "summary", "what", "why", "eavesdropper"}


def _display(node: ast.AST) -> bool:
    """An expression that is text made for a learner (or the Msg behind it)."""
    if isinstance(node, ast.Call):
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        if name in DISPLAY_CALLS:
            return True
        return name == "value" and isinstance(node.func, ast.Attribute) and \
            getattr(node.func.value, "id", "") in ("ex", "explain", "render")
    return isinstance(node, ast.Attribute) and node.attr in DISPLAY_ATTRS


def _decisions_on_text(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Compare):
            sides = [n.left, *n.comparators]
            if any(_display(s) for s in sides) and any(
                    isinstance(s, (ast.Constant, ast.JoinedStr)) and not isinstance(getattr(s, "value", ""), (int, type(None)))
                    for s in sides):
                out.append(f"{n.lineno}: {ast.unparse(n)}")
        if (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                and n.func.attr in ("startswith", "endswith", "find", "index", "count")
                and _display(n.func.value)):
            out.append(f"{n.lineno}: {ast.unparse(n)}")
    return out


@pytest.mark.parametrize("path", sorted(ROOT.rglob("*.py")), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_code_decides_on_display_text(path):
    """Kinds, field ids and raw values carry meaning; titles, summaries and values do not."""
    assert _decisions_on_text(path) == []


def test_the_display_scan_finds_decisions(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f(step, ex):\n"
                     "    if ex.title(step, 'en') == 'Close':\n        return 1\n"
                     "    if step.summary.startswith('server'):\n        return 2\n"
                     "    if step.kind == 'ws.close':\n        return 3\n", encoding="utf-8")
    assert [line.split(":")[0] for line in _decisions_on_text(probe)] == ["2", "4"]


def test_the_app_and_its_screens_do_not_import_each_other():
    """ui/app.py imports the screens; no screen or widget imports the app (even for
    type checking): they reach it through ui/host.py's protocol."""
    for path in files("ui/screens") + files("ui/widgets"):
        text = path.read_text(encoding="utf-8")
        assert "wssviz.ui.app" not in text, path.name
