"""The bundled scenario files, one TOML file each (the format: README.md here).

This folder is installed as the package ``wssviz.scenario_files`` (see
pyproject.toml), so a wheel carries it and ``wssviz.scenarios`` reads it with
``importlib.resources``; it holds no code.
"""
