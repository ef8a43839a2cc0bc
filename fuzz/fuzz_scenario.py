"""Fuzz the scenario loader: the input is a scenario file's TOML text, read with
scenarios.read (the TOML-to-Settings path of scenarios.load), then the settings
are turned into what a session uses (to_dict, each message's payload and problems).

The file is named after the document's ``name`` when that is a valid scenario name
(else fuzz.toml), so the name check does not stop every input.  Documented outcome
for a bad file: ScenarioError naming the file, line and field.
"""

import os
import re
import tempfile
import tomllib

import atheris

from _common import main

with atheris.instrument_imports(include=["wssviz"]):
    from wssviz import scenarios
    from wssviz.scenarios import ScenarioError

DIR = tempfile.mkdtemp(prefix="wssviz-fuzz-scenario-")


def _stem(data: bytes) -> str:
    m = re.search(rb'(?m)^\s*name\s*=\s*"([a-z0-9][a-z0-9-]{0,60})"', data)
    return m.group(1).decode() if m else "fuzz"


def one_input(data: bytes) -> None:
    path = os.path.join(DIR, _stem(data) + ".toml")
    with open(path, "wb") as f:
        f.write(data)
    try:
        settings, info = scenarios.read(path)
    finally:
        os.unlink(path)
    settings.to_dict()
    info.to_dict()
    for m in settings.messages:
        m.payload()
        m.problems()
    scenarios.check_outcome(settings.expect, [])


if __name__ == "__main__":
    main("scenario", one_input, expected=(ScenarioError,))
