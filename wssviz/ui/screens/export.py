"""The ``e`` screen: where to write the session as a pcapng for Wireshark.

The screen only asks for a file name; writing is the exporter's business (a
callable the composition root passes in), run by the app off the UI thread.
"""

from __future__ import annotations

import re
import time
from typing import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from wssviz.session import Session
from wssviz.ui.texts import t

#: ``exporter(session, path) -> (pcapng path, key log path or None)``; raises on failure.
Exporter = Callable[[Session, str], "tuple[str, str | None]"]


def default_name(session: Session, now: float | None = None) -> str:
    """``wssviz-<scenario>-<local time>.pcapng``, named after the session (its scenario,
    ``connect``, or the file it replays)."""
    head = str(getattr(session, "name", "") or "").rstrip("/").rsplit("/", 1)[-1]
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", head).strip("-.") or "session"
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return f"wssviz-{slug[:40]}-{stamp}.pcapng"


def describe(exc: BaseException) -> str:
    """An error in one line: the system's words for a file problem, else the exception."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class ExportScreen(ModalScreen[str | None]):
    """Dismisses with the file name to write, or None."""

    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    #export-box { width: 80%; max-width: 100; height: auto; background: $panel;
                  border: thick $primary; padding: 1 2; }
    #export-title { text-style: bold; }
    #export-hint { color: $text-muted; margin-bottom: 1; }
    #export-problem { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]
    AUTO_FOCUS = "#export-input"

    def __init__(self, default: str, lang: str = "en") -> None:
        super().__init__()
        self.default = default
        self.lang = lang

    def compose(self) -> ComposeResult:
        with Vertical(id="export-box"):
            yield Static(Text(t("export_title", self.lang)), id="export-title")
            yield Static(Text(t("export_hint", self.lang)), id="export-hint")
            yield Static(Text(t("export_file", self.lang)))
            yield Input(self.default, id="export-input")
            yield Static(id="export-problem")

    @on(Input.Submitted, "#export-input")
    def _submitted(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        if not path:
            self.query_one("#export-problem", Static).update(Text(t("export_empty", self.lang)))
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
