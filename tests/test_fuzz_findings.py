"""What the fuzzers found stays fixed: every saved finding (fuzz/findings/<target>/*.bin)
and every seed (fuzz/corpus/<target>/*) goes through its target's one_input, as the
fuzzer ran it, and may only end in the error that target expects from bad input.

The targets import atheris (libFuzzer) to instrument the code; here a stand-in without
instrumentation loads them, so the suite needs no fuzzer (fuzz/README.md runs them).
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import types
from pathlib import Path

import pytest

from wssviz.core.frames import ProtocolError
from wssviz.core.handshake import HandshakeError
from wssviz.pcap_import import CaptureImportError
from wssviz.recording import RecordingError
from wssviz.scenarios import ScenarioError

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"

# what each target's fuzzer accepts as an answer to bad input (its main(expected=...))
EXPECTED: dict[str, tuple[type[BaseException], ...]] = {
    "capture": (CaptureImportError,), "frames": (ProtocolError,), "recording": (RecordingError,),
    "request": (HandshakeError,), "response": (HandshakeError,), "scenario": (ScenarioError,),
    "tls": (),
}


def _inputs() -> list:
    out = []
    for target in sorted(EXPECTED):
        for kind in ("findings", "corpus"):
            folder = FUZZ / kind / target
            for f in sorted(folder.glob("*")) if folder.is_dir() else []:
                if f.is_file() and f.suffix != ".txt":
                    out.append(pytest.param(target, f, id=f"{target}/{kind}/{f.name}"))
    return out


_loaded: dict[str, types.ModuleType] = {}


def _target(target: str, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    if target not in _loaded:
        stand_in = types.ModuleType("atheris")
        stand_in.instrument_imports = lambda **_: contextlib.nullcontext()
        stand_in.instrument_func = lambda f: f
        monkeypatch.setitem(sys.modules, "atheris", stand_in)
        monkeypatch.syspath_prepend(str(FUZZ))
        spec = importlib.util.spec_from_file_location(f"wssviz_fuzz_{target}", FUZZ / f"fuzz_{target}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _loaded[target] = module
    return _loaded[target]


def test_every_target_has_inputs():
    names = {p.values[0] for p in _inputs()}
    assert names == set(EXPECTED), f"targets without seeds: {set(EXPECTED) - names}"
    assert {f.stem[5:] for f in FUZZ.glob("fuzz_*.py")} == set(EXPECTED)


@pytest.mark.parametrize(("target", "path"), _inputs())
def test_input_ends_in_no_crash(target, path, monkeypatch):
    one_input = _target(target, monkeypatch).one_input
    try:
        one_input(path.read_bytes())
    except EXPECTED[target]:
        pass
