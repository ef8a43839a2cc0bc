"""The package as users get it: every package and every file read at run time is in
the wheel, and the bundled scenarios come from the package, not from a checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_package_folder_is_listed():
    """pyproject names its packages (the scenario folder is mapped into the package), so
    a new subpackage must be added there; this test says which."""
    listed = set(pyproject()["tool"]["setuptools"]["packages"])
    found = {".".join(p.relative_to(ROOT).parts[:-1]) for p in (ROOT / "wssviz").rglob("__init__.py")}
    assert found <= listed, f"add to pyproject's packages: {sorted(found - listed)}"
    assert pyproject()["tool"]["setuptools"]["package-dir"]["wssviz.scenario_files"] == "scenarios"


def test_bundled_scenarios_are_package_resources():
    from wssviz import scenarios

    folder = scenarios.bundled()
    on_disk = sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml"))
    assert sorted(e.name[:-5] for e in folder.iterdir() if e.name.endswith(".toml")) == on_disk
    assert scenarios.names() == on_disk and len(on_disk) >= 28


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    src = tmp_path_factory.mktemp("src")  # a copy: building leaves build/ and egg-info behind
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("wssviz", "scenarios"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(src)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return next(out.glob("wssviz-*.whl"))


def test_the_wheel_carries_every_file_read_at_run_time(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for toml in (ROOT / "scenarios").glob("*.toml"):
        assert f"wssviz/scenario_files/{toml.name}" in names
    for catalog in (ROOT / "wssviz" / "explain").glob("*.toml"):
        assert f"wssviz/explain/{catalog.name}" in names
    for tcss in (ROOT / "wssviz" / "ui").glob("*.tcss"):
        assert f"wssviz/ui/{tcss.name}" in names
    for py in (ROOT / "wssviz").rglob("*.py"):
        assert py.relative_to(ROOT).as_posix() in names


def test_the_installed_wheel_runs_from_another_folder(wheel, tmp_path):
    """The wheel unpacked alone on the path (no checkout beside it) lists every scenario
    and runs the default one."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    # -I would drop PYTHONPATH; -s keeps the user's site out, -P keeps the cwd (an empty folder) out
    base = [sys.executable, "-s", "-c",
            "import sys; sys.path[:0] = [sys.argv.pop(1)]; import site; "
            "from wssviz.cli import main; sys.exit(main(sys.argv[1:]))", str(site)]
    out = subprocess.run(base + ["scenarios"], capture_output=True, text=True, cwd=empty, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.splitlines()) == len(list((ROOT / "scenarios").glob("*.toml")))
    probe = subprocess.run(base[:3] + ["import sys; sys.path[:0] = [sys.argv.pop(1)]; import wssviz, "
                                       "wssviz.scenarios as s; print(wssviz.__file__, s.bundled())", str(site)],
                           capture_output=True, text=True, cwd=empty, env=env, timeout=60)
    assert probe.stdout.startswith(str(site)), probe.stdout + probe.stderr
    assert str(ROOT) not in probe.stdout
    run = subprocess.run(base + ["run", "--json"], capture_output=True, text=True, cwd=empty, env=env,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert len(run.stdout.splitlines()) > 20
