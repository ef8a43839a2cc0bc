"""What the stepping screen needs of the app that hosts it, as a protocol: the screen
depends on this, not on ``wssviz.ui.app`` (which imports the screen), so the two do not
import each other."""

from __future__ import annotations

from typing import Callable, Protocol

from wssviz.session import Session
from wssviz.ui.config import UiConfig
from wssviz.ui.opening import Opening


class Host(Protocol):
    session: Session
    opening: Opening | None
    open_error: BaseException | None
    session_factory: Callable[[], Session] | None
    config: UiConfig  # language, presenter mode, theme, screenshots: one object

    def apply_theme(self, present: bool) -> None: ...
