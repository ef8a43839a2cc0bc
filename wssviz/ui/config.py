"""The interface's configuration, in one object: what the learner chose (language,
presenter mode, light or dark) and where screenshots go.  The command line makes one
(``cli.tui``); the app holds it (``WssvizApp.config``) and every screen reads it there,
so a switch (``l``, ``F5``, ``t``) changes one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class UiConfig:
    lang: str = "en"
    present: bool = False  # presenter mode (F5): the ladder, the pane first, a high-contrast theme
    dark: bool = True  # the theme's light or dark variant (t)
    screenshots: Path | None = None  # where a screenshot goes (None: the current folder)
