"""The ``?`` help screen: every key and what it does."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from wssviz.ui.texts import t

#: (keys shown, text key) in the order the help lists them.
KEYS = (
    ("→  Space  n", "key_next"),
    ("←  p", "key_previous"),
    ("Home  End", "key_first"),
    ("g", "key_goto"),
    ("Tab  Shift+Tab  1-6", "key_pane_long"),
    ("0", "key_pane_auto"),
    ("↑  ↓  PgUp  PgDn", "key_pane_move"),
    ("Enter", "key_pane_toggle"),
    ("a", "key_autoplay"),
    ("+  -", "key_faster"),
    ("r", "key_restart"),
    ("F5", "key_present"),
    ("t  x", "key_theme"),
    ("s", "key_scenarios_long"),
    ("e", "key_export_long"),
    ("l", "key_lang_long"),
    ("G", "key_glossary_long"),
    ("d  c", "key_quiz_long"),
    ("Ctrl+P", "key_palette"),
    ("?", "key_help"),
    ("q", "key_quit"),
)


class HelpScreen(ModalScreen[None]):
    """Every key, in a box that fits an 80×24 terminal and scrolls (↑ ↓ PgUp PgDn) when it cannot."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", show=False)]
    AUTO_FOCUS = "#help-box"

    def __init__(self, lang: str = "en") -> None:
        super().__init__()
        self.lang = lang

    def compose(self) -> ComposeResult:
        table = Table(show_header=False, box=None, padding=(0, 2))  # (the title is on the box's border)
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for keys, key in KEYS:
            label = t(key, self.lang)
            if key == "key_faster":
                label = f"{t('key_faster', self.lang)} / {t('key_slower', self.lang)}"
            elif key == "key_theme":
                label = f"{t('key_theme', self.lang)} / {t('key_challenge', self.lang)}"
            elif key == "key_quiz_long":
                label = f"{t('key_quiz_long', self.lang)} / {t('key_compare', self.lang)}"
            elif key == "key_first":
                label = f"{t('key_first', self.lang)} / {t('key_last', self.lang)}"
            table.add_row(Text(keys), Text(label))
        # what the ladder's marks mean, on one line (the box fits 80x24 without scrolling)
        from wssviz.ui.widgets.timeline import BAND, BAND_STYLE

        legend = Text()
        for phase in ("tcp", "tls", "http", "ws"):
            legend.append(BAND, BAND_STYLE[phase])
            legend.append(t(f"help_band_{phase}", self.lang) + " ")
        for mark, key in (("═🔒▶", "help_encrypted"), ("──▶", "help_clear"), ("◆", "help_local")):
            legend.append("  " + mark + " ", "bold")
            legend.append(t(key, self.lang))
        box = VerticalScroll(id="help-box")
        box.border_title = t("help_title", self.lang)
        with box:
            yield Static(table)
            yield Static(legend, id="help-legend")

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
