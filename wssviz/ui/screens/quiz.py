"""The ``d`` screen: the interview drill on the session being stepped.

One question at a time (the four interview questions, questions made from this
session's bytes, what comes next, true or false); the learner types a reply and
presses Enter; the reply is judged (partial credit said), the answer and the steps
that show it appear; Enter again asks the next, ``g`` goes to the step that shows the
answer, Escape closes.  Questions and judging are ``wssviz.quiz``'s; words are the
catalogs'; a reply is shown as plain text, never markup.
"""

from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from wssviz import explain
from wssviz.core.msg import Msg
from wssviz.steps import Step
from wssviz.ui.texts import t

#: The steps a drill reads (its questions are about the opening and the first
#: frames; a 100,000-frame replay is not made whole for them).
FIRST_STEPS = 400


class QuizScreen(ModalScreen[int | None]):
    """Dismissed with the step to go to (``g``), or None."""

    BINDINGS = [Binding("escape", "close", "Close"), Binding("enter", "next", "Next", show=False),
                Binding("g", "go", "Go", show=False)]

    def __init__(self, steps: Sequence[Step], lang: str = "en", kinds: tuple[str, ...] = ()) -> None:
        super().__init__()
        from wssviz import quiz

        self.lang = lang
        self.steps = list(steps[:FIRST_STEPS])
        # (kinds: only these, e.g. the simplifications learners bring, "myth")
        self.items = [q for q in quiz.questions(self.steps) if not kinds or q.kind in kinds]
        self.n = 0
        self.score = 0.0
        self.asked = 0
        self.judged = False

    def say(self, msg: object) -> str:
        return explain.text(msg, self.lang)

    def compose(self) -> ComposeResult:
        with Vertical(id="quiz-box"):
            yield Static(id="quiz-head")
            with VerticalScroll(id="quiz-body"):
                yield Static(id="quiz-question")
                yield Static(id="quiz-verdict")
            yield Input(id="quiz-input", placeholder=t("quiz_placeholder", self.lang))
            yield Static(Text(t("quiz_keys", self.lang), "dim"), id="quiz-keys")

    def on_mount(self) -> None:
        self._show()

    def _show(self) -> None:
        self._show_head()
        if not self.items:
            self.query_one("#quiz-question", Static).update(Text(t("quiz_none", self.lang), "italic"))
            return
        q = self.items[self.n]
        self.query_one("#quiz-question", Static).update(Text(self.say(q.question), "bold"))
        self.query_one("#quiz-verdict", Static).update("")
        box = self.query_one("#quiz-input", Input)
        box.value = ""
        box.disabled = False
        box.focus()
        self.judged = False

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if not self.items or self.judged:
            return
        from wssviz import quiz

        q = self.items[self.n]
        out = Text()
        if event.value.strip():
            v = quiz.judge(q, event.value, quiz.concept_words)
            self.score += v.score
            self.asked += 1
            style = "bold green" if v.score == 1 else "bold yellow" if v.score else "bold red"
            out.append(self.say(Msg("quiz.ui.score", score=f"{v.score:g}")) + "\n", style)
            for m in v.said:
                out.append("  " + self.say(m) + "\n")
        else:
            out.append(self.say(Msg("quiz.ui.skipped")) + "\n", "dim")
        out.append("\n" + self.say(Msg("quiz.ui.answer", answer=q.answer)) + "\n")
        if q.steps:
            out.append("\n" + self.say(Msg("quiz.ui.steps")) + "\n", "bold")
            for i in q.steps:
                out.append("  " + self.say(Msg("quiz.ui.step", n=i, title=self.steps[i].title)) + "\n")
        self.query_one("#quiz-verdict", Static).update(out)
        self.judged = True
        box = self.query_one("#quiz-input", Input)
        box.disabled = True  # (keys are the screen's now: Enter, g, Escape)
        self.set_focus(None)
        self._show_head()

    def _show_head(self) -> None:
        """The title, which question of how many (and its kind), the score so far."""
        head = Text(t("quiz_title", self.lang), "bold")
        if self.items:
            q = self.items[self.n]
            head.append("   " + self.say(Msg("quiz.ui.number", n=self.n + 1, total=len(self.items),
                                             kind=Msg(f"quiz.ui.kind.{q.kind}"))), "dim")
        if self.asked:
            head.append("   " + t("quiz_score", self.lang).format(score=f"{self.score:g}", of=self.asked), "dim")
        self.query_one("#quiz-head", Static).update(head)

    def action_next(self) -> None:
        if self.items and self.judged:
            self.n = (self.n + 1) % len(self.items)
            self._show()

    def action_go(self) -> None:
        """Go to the first step that shows the answer (once it is shown)."""
        if self.judged and self.items[self.n].steps:
            self.dismiss(self.items[self.n].steps[0])

    def action_close(self) -> None:
        self.dismiss(None)
