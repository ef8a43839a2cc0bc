"""The Textual interface: step through a wss:// connection, pane by pane.

``run_app(session, ...)`` is what the composition root calls; ``WssvizApp`` is
the app.  The interface sees only a ``Session`` (steps so far, ``ensure``,
``restart``) and the explain catalogs: never dissectors, live sockets or crypto.

For trying it by hand: ``python -m wssviz.ui.app STEPS.jsonl`` opens a file of
``wssviz run --json`` lines as a replay.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Iterable

from textual.app import App, SystemCommand
from textual.screen import Screen
from textual.theme import Theme

from wssviz.session import Session
from wssviz.ui.model import PANES
from wssviz.ui.screens.main import StepScreen, make_bindings
from wssviz.ui.texts import t

#: Presenter themes: the most contrast a terminal can give.
CONTRAST_DARK = Theme(
    name="wssviz-contrast-dark", primary="#ffd700", secondary="#00ffff", accent="#0050ff",
    warning="#ffd700", error="#ff3030", success="#00ff00", foreground="#ffffff",
    background="#000000", surface="#000000", panel="#202020", dark=True,
)
CONTRAST_LIGHT = Theme(
    name="wssviz-contrast-light", primary="#0000c0", secondary="#004080", accent="#ffd700",
    warning="#805000", error="#c00000", success="#006000", foreground="#000000",
    background="#ffffff", surface="#ffffff", panel="#e0e0e0", dark=False,
)
THEMES = {(False, True): "textual-dark", (False, False): "textual-light",
          (True, True): CONTRAST_DARK.name, (True, False): CONTRAST_LIGHT.name}


def screen_class(lang: str) -> type[StepScreen]:
    """The stepping screen with its footer labels in ``lang``."""
    return type("StepScreen", (StepScreen,), {"BINDINGS": make_bindings(lang)})


class WssvizApp(App[int]):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere work too
    TITLE = "wssviz"
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, session: Session, *, present: bool = False, lang: str = "en",
                 session_factory: Callable[[], Session] | None = None,
                 dark: bool = True) -> None:
        super().__init__()
        self.session = session
        self.present = present
        self.lang = lang
        self.session_factory = session_factory
        self.dark = dark
        self.register_theme(CONTRAST_DARK)
        self.register_theme(CONTRAST_LIGHT)
        self.apply_theme(present=present)
        self.main_screen: StepScreen = screen_class(lang)(lang)

    def apply_theme(self, present: bool) -> None:
        self.theme = THEMES[(present, self.dark)]

    def get_default_screen(self) -> Screen:
        return self.main_screen

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        s, lang = self.main_screen, self.lang
        yield SystemCommand(t("key_next", lang), "→ Space n", s.action_next)
        yield SystemCommand(t("key_previous", lang), "← p", s.action_previous)
        yield SystemCommand(t("key_first", lang), "Home", s.action_first)
        yield SystemCommand(t("key_last", lang), "End", s.action_last)
        yield SystemCommand(t("key_goto", lang), "g", s.action_goto)
        yield SystemCommand(t("key_autoplay", lang), "a", s.action_autoplay)
        yield SystemCommand(t("key_faster", lang), "+", lambda: s.action_speed(-1))
        yield SystemCommand(t("key_slower", lang), "-", lambda: s.action_speed(1))
        yield SystemCommand(t("key_restart", lang), "r", s.action_restart)
        yield SystemCommand(t("key_present", lang), "F5", s.action_present)
        yield SystemCommand(t("key_theme", lang), "t", s.action_theme)
        yield SystemCommand(t("key_help", lang), "?", s.action_help)
        for i, p in enumerate(PANES):
            yield SystemCommand(f"{t('key_pane', lang)}: {t('pane_' + p, lang)}", str(i + 1),
                                lambda p=p: s.action_show_pane(p))


def run_app(session: Session, *, present: bool = False, lang: str = "en",
            session_factory: Callable[[], Session] | None = None) -> int:
    """Run the interface on ``session`` until the learner quits; the exit status."""
    app = WssvizApp(session, present=present, lang=lang, session_factory=session_factory)
    result = app.run()
    return int(result or 0) if app.return_code in (None, 0) else int(app.return_code)


def load_jsonl(path: str) -> "Session":
    """A replay of a file of ``wssviz run --json`` lines (for trying the interface)."""
    import json

    from wssviz.session import StepList
    from wssviz.steps import Step

    with open(path, encoding="utf-8") as fh:
        steps = [Step.from_dict(json.loads(line)) for line in fh if line.strip()]
    return StepList(steps, title=f"{path} (replay)", goal="")


if __name__ == "__main__":
    args = sys.argv[1:]
    present = "--present" in args
    args = [a for a in args if a != "--present"]
    if len(args) != 1:
        print("usage: python -m wssviz.ui.app STEPS.jsonl [--present]", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(run_app(load_jsonl(args[0]), present=present))
