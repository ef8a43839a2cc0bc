"""The Textual interface: step through a wss:// connection, pane by pane.

``run_app(session, ...)`` is what the composition root calls; ``WssvizApp`` is
the app.  The interface sees only a ``Session`` (steps so far, ``ensure``,
``restart``) and the explain catalogs: never dissectors, live sockets or crypto.

Besides the session, the composition root may hand in three callables, so the
interface stays free of scenario files, live sockets and scapy: ``scenarios()``
(the library, as ``ScenarioChoice`` rows), ``open_scenario(name)`` (a new live
session) and ``exporter(session, path)`` (pcapng + key log).  Their keys live at
the app level: ``s`` scenario picker, ``e`` export, ``l`` language.

The session itself may come late: ``run_app(None, opener=...)`` calls
``opener()`` on a thread of its own from the moment the app is made
(``ui.opening``), and the first screen shows the first step if it is ready in a
moment, or "working…" until it is.  If the opener fails before any session
exists, the app ends and ``run_app`` raises that exception, so the command line
reports it as it would have before the interface started.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from rich.text import Text
from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingsMap
from textual.dom import DOMNode
from textual.screen import Screen
from textual.theme import Theme

from wssviz.session import Session, StepList
from wssviz.ui.config import UiConfig
from wssviz.ui.model import PANES
from wssviz.ui.opening import Opening
from wssviz.ui.screens.main import StepScreen, make_bindings
from wssviz.ui.texts import next_language, t

if TYPE_CHECKING:  # the picker and export screens load on their first use (first screen sooner)
    from wssviz.ui.screens.export import Exporter
    from wssviz.ui.screens.picker import ScenarioChoice

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
#: Allocations between two automatic collections while the interface runs (Python's
#: default is 700): with collections done while the learner reads, one seldom lands
#: in a key press.
GC_THRESHOLD = 50_000
THEMES = {(False, True): "textual-dark", (False, False): "textual-light",
          (True, True): CONTRAST_DARK.name, (True, False): CONTRAST_LIGHT.name}


def screen_class(lang: str) -> type[StepScreen]:
    """The stepping screen with its footer labels in ``lang``."""
    return type("StepScreen", (StepScreen,), {"BINDINGS": make_bindings(lang)})


def app_bindings(lang: str) -> list[Binding]:
    """The app's own keys (they work on every screen that does not take the key itself)."""
    return [
        Binding("s", "scenarios", t("key_scenarios", lang)),
        Binding("e", "export", t("key_export", lang)),
        Binding("l", "language", t("key_lang", lang)),
        Binding("G", "glossary", t("key_glossary", lang), show=False),
        Binding("d", "quiz", t("key_quiz", lang), show=False),
        Binding("c", "compare", t("key_compare", lang), show=False),
    ]


def relabel(node: DOMNode, bindings: list[Binding]) -> None:
    """Put ``bindings`` over the node's own ones with the same keys (a language switch).

    Textual merges a class's ``BINDINGS`` once, when the node is made, and offers
    no public call to change a binding's description afterwards.
    """
    keys = dict(node._bindings.key_to_bindings)
    keys.update(BindingsMap(bindings).key_to_bindings)
    node._bindings = BindingsMap.from_keys(keys)


class WssvizApp(App[int]):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere work too
    TITLE = "wssviz"
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, session: Session | None, *, present: bool = False, lang: str = "en",
                 session_factory: Callable[[], Session] | None = None,
                 opener: Callable[[], Session] | None = None,
                 dark: bool = True,
                 scenarios: Callable[[], Sequence[ScenarioChoice]] | None = None,
                 open_scenario: Callable[[str], Session] | None = None,
                 exporter: Exporter | None = None,
                 screenshots: str | Path | None = None,
                 config: UiConfig | None = None) -> None:
        super().__init__()
        #: what the learner chose, in one place (the keyword arguments make one when none is given)
        self.config = config if config is not None else UiConfig(
            lang=lang, present=present, dark=dark, screenshots=Path(screenshots) if screenshots is not None else None)
        if session is None and opener is None:
            raise ValueError("WssvizApp needs a session or an opener")
        #: The first session, opening off the UI thread (None: it was given, or has arrived).
        self.opening: Opening | None = Opening(opener) if session is None and opener is not None else None
        self.session: Session = session if session is not None else StepList([], title="wssviz")
        #: Why the first session could not be opened (the app then ends with status 2).
        self.open_error: BaseException | None = None
        self.session_factory = session_factory
        self.scenarios = scenarios
        self.open_scenario = open_scenario
        self.exporter = exporter
        self.scenario = ""  # the name of the scenario chosen in the picker, if any
        self._choices: list[ScenarioChoice] | None = None
        relabel(self, app_bindings(self.lang))
        self.register_theme(CONTRAST_DARK)
        self.register_theme(CONTRAST_LIGHT)
        self.apply_theme(present=self.present)
        self.main_screen: StepScreen = screen_class(self.lang)(self.lang)

    # the configuration's fields, read and set where they live
    lang = property(lambda self: self.config.lang, lambda self, v: setattr(self.config, "lang", v))
    present = property(lambda self: self.config.present, lambda self, v: setattr(self.config, "present", v))
    dark = property(lambda self: self.config.dark, lambda self, v: setattr(self.config, "dark", v))
    screenshots = property(lambda self: self.config.screenshots,
                           lambda self, v: setattr(self.config, "screenshots", None if v is None else Path(v)))

    def apply_theme(self, present: bool) -> None:
        self.theme = THEMES[(present, self.dark)]

    def get_default_screen(self) -> Screen:
        return self.main_screen

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        """A screenshot: in a browser (``wssviz serve``), a download; on a terminal, an
        SVG saved in the screenshot folder (the current one unless ``--screenshots``),
        with a PNG beside it where ``rsvg-convert`` is installed, and a notice saying
        where (Textual's own saves into ~/Downloads, and fails where there is none)."""
        if self.is_web:
            return super().deliver_screenshot(filename, path, time_format)
        import time

        folder = Path(path) if path else (self.screenshots or Path.cwd())
        index = self.main_screen.index
        target = folder / (filename or f"wssviz-step-{max(index, 0)}-{time.strftime('%Y%m%d-%H%M%S')}.svg")
        try:
            target.write_text(self.export_screenshot(), encoding="utf-8")
        except OSError as exc:
            self.notify(t("screenshot_failed", self.lang).format(path=str(target), error=exc.strerror or exc),
                        severity="error", markup=False, timeout=10)
            return None
        self._to_png(target)
        return None

    @work(thread=True, group="screenshot", exit_on_error=False)
    def _to_png(self, svg: Path) -> None:
        import shutil
        import subprocess

        saved = str(svg)
        tool = shutil.which("rsvg-convert")
        if tool is not None:
            png = svg.with_suffix(".png")
            try:
                subprocess.run([tool, str(svg), "-o", str(png)], check=True, timeout=60, capture_output=True)
                saved = t("screenshot_both", self.lang).format(svg=str(svg), png=str(png))
            except (OSError, subprocess.SubprocessError):
                pass  # the SVG is there: that is said
        self.call_from_thread(self.notify, t("screenshot_saved", self.lang).format(path=saved), markup=False,
                              timeout=8)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.callback != self.action_change_theme:  # ours (t) switches light/dark
                yield command
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
        yield SystemCommand(t("key_scenarios", lang), f"s · {t('key_scenarios_long', lang)}",
                            self.action_scenarios)
        yield SystemCommand(t("key_export", lang), f"e · {t('key_export_long', lang)}", self.action_export)
        # the short label names the other language ("中文"): search finds the long one
        yield SystemCommand(t("key_lang_long", lang), f"l · {t('key_lang', lang)}", self.action_language)
        yield SystemCommand(t("key_glossary", lang), f"G · {t('key_glossary_long', lang)}", self.action_glossary)
        yield SystemCommand(t("key_quiz", lang), f"d · {t('key_quiz_long', lang)}", self.action_quiz)
        yield SystemCommand(t("key_myths", lang), t("key_myths_long", lang), lambda: self.action_quiz(("myth",)))
        yield SystemCommand(t("key_compare", lang), f"c · {t('key_compare_long', lang)}", self.action_compare)
        for i, p in enumerate(PANES):
            yield SystemCommand(t("key_pane", lang) + t("field_sep", lang) + t("pane_" + p, lang),
                                f"{i + 1} · {t('key_pane_long', lang)}", lambda p=p: s.action_show_pane(p))
        yield SystemCommand(t("key_pane_auto", lang), "0", s.action_auto_pane)

    # -- scenario picker (s) ---------------------------------------------------

    def _scenario_choices(self) -> list | None:
        """The scenario library for a picker (None, said in a notice, when there is none)."""
        from wssviz.ui.screens.export import describe
        from wssviz.ui.screens.picker import ScenarioChoice

        if self.scenarios is None or self.open_scenario is None:
            self.notify(t("picker_unavailable", self.lang), severity="warning", markup=False)
            return None
        if self._choices is None:
            try:
                self._choices = [ScenarioChoice(*c) for c in self.scenarios()]
            except Exception as exc:  # noqa: BLE001 - a bad scenario file is a message, not a crash
                self.notify(t("picker_failed", self.lang).format(error=describe(exc)),
                            severity="error", markup=False, timeout=10)
                return None
        return self._choices

    def action_scenarios(self) -> None:
        from wssviz.ui.screens.picker import PickerScreen

        choices = self._scenario_choices()
        if choices is not None:
            self.push_screen(PickerScreen(choices, self.lang, self.scenario), self._picked)

    def _picked(self, name: str | None) -> None:
        if not name or self.open_scenario is None:
            return
        opener = self.open_scenario
        self.scenario = name
        self.session_factory = lambda: opener(name)  # r restarts this scenario from now on
        screen = self.main_screen
        screen.action_restart()
        screen._set_note(Text(t("picker_starting", self.lang).format(name=name), "green"))
        screen.restart_note = t("picker_started", self.lang).format(name=name)

    # -- export (e) -----------------------------------------------------------

    def action_export(self) -> None:
        from wssviz.ui.screens.export import ExportScreen, default_name

        if self.exporter is None:
            self.notify(t("export_unavailable", self.lang), severity="warning", markup=False)
            return
        self.push_screen(ExportScreen(default_name(self.session), self.lang), self._export_to)

    def _export_to(self, path: str | None) -> None:
        if path:
            session = self.session
            capture = getattr(session, "capture", None)
            if capture is not None and not getattr(capture, "whole", True):
                self.notify(t("export_incomplete", self.lang).format(n=capture.dropped), severity="warning",
                            markup=False, timeout=10)
                return
            self._export(session, path, len(session.steps))

    @work(thread=True, group="export", exit_on_error=False)
    def _export(self, session: Session, path: str, steps: int) -> None:
        """Write off the UI thread (a long session takes a while); failures are notices."""
        from wssviz.ui.screens.export import describe

        lang = self.lang
        assert self.exporter is not None
        try:
            pcapng, keylog = self.exporter(session, path)
        except Exception as exc:  # noqa: BLE001 - an unwritable folder must not end the app
            self.call_from_thread(self.notify, t("export_failed", lang).format(error=describe(exc)),
                                  severity="error", markup=False, timeout=10)
            return
        lines = [t("export_done", lang).format(path=pcapng),
                 t("export_keylog", lang).format(path=keylog) if keylog else t("export_no_keylog", lang)]
        if not session.finished:  # asked after writing: a replay may finish reading meanwhile
            lines.append(t("export_partial", lang).format(n=steps))
        self.call_from_thread(self.notify, "\n".join(lines), markup=False, timeout=6)

    # -- glossary (G) ---------------------------------------------------------

    def action_glossary(self) -> None:
        from wssviz.explain import explain
        from wssviz.ui.screens.glossary import GlossaryScreen

        from wssviz.ui.model import scheme_of

        screen, context = self.main_screen, ""
        steps = self.session.steps
        if 0 <= screen.index < len(steps):
            e = explain(steps[screen.index], self.lang, scheme=scheme_of(self.session, steps))
            context = " ".join((e.what, e.why, e.eavesdropper))
        self.push_screen(GlossaryScreen(self.lang, context))

    # -- compare (c) ------------------------------------------------------------

    def action_compare(self) -> None:
        """Pick a scenario; it runs live to its end beside this session's steps."""
        from wssviz.ui.screens.picker import PickerScreen

        choices = self._scenario_choices()
        if choices is not None:
            self.push_screen(PickerScreen(choices, self.lang, ""), self._compare_with)

    def _compare_with(self, name: str | None) -> None:
        if name:
            self.notify(t("compare_running", self.lang).format(name=name), markup=False, timeout=3)
            self._run_compare(name)

    @work(thread=True, group="compare", exit_on_error=False)
    def _run_compare(self, name: str) -> None:
        from wssviz.ui.model import scheme_of
        from wssviz.ui.screens.compare import FIRST_STEPS, CompareScreen, compare_renderable
        from wssviz.ui.screens.export import describe

        try:
            other = self.open_scenario(name)
            other_steps = list(other.run_all())
            mine = self.session.steps  # (a replay: what its index has found so far)
            renderable = compare_renderable(
                mine[:FIRST_STEPS], scheme_of(self.session, mine), getattr(self.session, "name", "") or "A",
                other_steps, scheme_of(other, other_steps), name, self.lang)
        except Exception as exc:  # noqa: BLE001 - a failure is a notice
            self.call_from_thread(self.notify, t("picker_failed", self.lang).format(error=describe(exc)),
                                  severity="error", markup=False, timeout=10)
            return
        self.call_from_thread(self.push_screen, CompareScreen(renderable, self.lang))

    # -- the interview drill (d) ----------------------------------------------

    def action_quiz(self, kinds: tuple[str, ...] = ()) -> None:
        from wssviz.ui.screens.quiz import QuizScreen

        def went(index: int | None) -> None:
            if index is not None:
                self.main_screen.go(index)

        self.push_screen(QuizScreen(self.session.steps, self.lang, kinds), went)

    # -- language (l) ---------------------------------------------------------

    def action_language(self) -> None:
        self.set_language(next_language(self.lang))

    def set_language(self, lang: str) -> None:
        """Every label, pane and explanation in ``lang`` from now on."""
        self.lang = lang
        relabel(self, app_bindings(lang))
        relabel(self.main_screen, make_bindings(lang))
        self.main_screen.set_lang(lang)
        self.main_screen.refresh_bindings()
        self.notify(t("status_lang", lang), markup=False, timeout=2)


def run_app(session: Session | None, *, config: UiConfig | None = None, present: bool = False, lang: str = "en",
            session_factory: Callable[[], Session] | None = None,
            opener: Callable[[], Session] | None = None,
            scenarios: Callable[[], Sequence[ScenarioChoice]] | None = None,
            open_scenario: Callable[[str], Session] | None = None,
            exporter: Exporter | None = None, screenshots: str | None = None) -> int:
    """Run the interface on ``session`` until the learner quits; the exit status."""
    # What start-up made (Textual, the catalogs) lives as long as the process: out of
    # the cyclic collector's reach, its collections stay short (the command line
    # holds the collector off until here).  From then on the stepping screen collects
    # while the learner reads (StepScreen._on_idle_tick); the collector's own first
    # threshold is raised so that it seldom runs inside a key press, yet still runs
    # when nobody stops to read (auto-play at full speed).
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, *thresholds[1:])
    gc.enable()
    app = WssvizApp(session, present=present, lang=lang, session_factory=session_factory, opener=opener,
                    scenarios=scenarios, open_scenario=open_scenario, exporter=exporter, screenshots=screenshots,
                    config=config)
    try:
        result = app.run()
    finally:
        gc.set_threshold(*thresholds)
        if app.opening is not None:  # the learner quit while the first session was opening
            app.opening.settle()
    if app.open_error is not None:
        raise app.open_error
    return int(result or 0) if app.return_code in (None, 0) else int(app.return_code)
