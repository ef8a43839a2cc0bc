"""Challenge mode (``x``): at each turning point, guess the next message before it shows.

When the step about to be shown is a message from the other side than the one on
screen (ServerHello after ClientHello, the 101 after the Upgrade request, a Pong after
a Ping, a Close answering a Close), the learner is asked what it will be: four
choices, the real one and three other messages of this same session (told apart by
kind, direction and opcode, never by their words), in an order fixed by the step's
number.  A digit answers; the verdict shows; any key goes on to the step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from wssviz import explain
from wssviz.core.msg import Msg
from wssviz.steps import Step
from wssviz.ui.texts import t

WIRE = ("c2s", "s2c")


def _key(s: Step) -> tuple:
    return s.kind, s.direction, s.raw("ws.frame.opcode") if s.kind == "ws.frame" else None


def is_turn(steps: Sequence[Step], shown: int, coming: int) -> bool:
    """Whether step ``coming`` is a message answering the one on screen: the next
    message on the wire after ``shown``, sent by the other side."""
    if not 0 <= shown < coming < len(steps):
        return False
    now = next((steps[i] for i in range(shown, -1, -1) if steps[i].direction in WIRE), None)
    nxt = steps[coming]
    return now is not None and nxt.direction in WIRE and nxt.direction != now.direction and \
        all(steps[i].direction not in WIRE for i in range(shown + 1, coming))


class Horizon:
    """The steps as far as the learner has seen them (the ladder must not show the
    answer): a sequence of the first ``n`` of ``steps``, outlines included."""

    def __init__(self, steps: Sequence[Step], n: int) -> None:
        self._steps, self._n = steps, n

    def __len__(self) -> int:
        return min(self._n, len(self._steps))

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._steps[i]

    def outline(self, i: int) -> Step:
        outline = getattr(self._steps, "outline", None)
        return outline(i) if outline is not None else self._steps[i]


#: What else each side could send at a turning point (when the session itself has not
#: sent enough other kinds yet): message kinds, and frames by their title's message.
OTHER = {
    "s2c": ("tls.server_hello", "tls.hello_retry_request", "tls.certificate", "tls.alert",
            "http.upgrade_response", "title.frame_pong", "title.frame_close", "title.frame_text", "tcp.close"),
    "c2s": ("tls.client_hello", "tls.finished", "tls.alert", "http.upgrade_request", "title.frame_ping",
            "title.frame_close", "title.frame_text", "tcp.close"),
}


@dataclass(frozen=True)
class KindChoice:
    """A choice that names a kind of message (its words: the catalog's title of the kind)."""

    kind: str


def _label_key(s: Step) -> str:
    """What a choice stands for: a frame by its title's message, else its kind."""
    return s.title.key if s.kind == "ws.frame" and isinstance(s.title, Msg) else s.kind


def choices(steps: Sequence[Step], coming: int, n: int = 4) -> tuple[list[object], int]:
    """``n`` choices: the real message (its step) among other things the same side
    could send (steps of this session of other kinds, then kinds it might have sent),
    and where the real one is.  A choice is a Step or a catalog word (a Msg)."""
    real = steps[coming]
    taken = {_label_key(real)}
    others: list[object] = []
    for s in steps[:min(len(steps), 400)]:  # what the same side sends elsewhere in the session
        k = _label_key(s)
        if s.direction == real.direction and k not in taken:
            taken.add(k)
            others.append(s)
    for k in OTHER.get(real.direction, ()):
        if k not in taken:
            taken.add(k)
            others.append(Msg(k) if k.startswith("title.") else KindChoice(k))
    picked = [others[(coming * 7 + i * 5) % len(others)] for i in range(len(others))] if others else []
    seen: list[object] = []
    for o in picked:
        if not any(o is x for x in seen):
            seen.append(o)
        if len(seen) == n - 1:
            break
    at = coming % (len(seen) + 1)
    return seen[:at] + [real] + seen[at:], at


def choice_text(o: object, lang: str) -> str:
    if isinstance(o, Step):
        return explain.title(o, lang)
    if isinstance(o, KindChoice):
        return explain.kind_title(o.kind, lang)
    return explain.text(o, lang)


class ChallengeScreen(ModalScreen[bool]):
    """Dismissed with whether the guess was right (False when skipped)."""

    def __init__(self, steps: Sequence[Step], coming: int, lang: str = "en") -> None:
        super().__init__()
        self.lang = lang
        self.coming = coming
        self.options, self.right = choices(steps, coming)
        self.answer: int | None = None
        side = "server" if steps[coming].direction == "s2c" else "client"
        self.side = t(f"challenge_{side}", lang)

    def compose(self) -> ComposeResult:
        with Vertical(id="challenge-box"):
            yield Static(Text(t("challenge_question", self.lang).format(n=self.coming, side=self.side), "bold"))
            body = Text()
            for i, s in enumerate(self.options):
                body.append(f"\n  {i + 1}  ", "bold cyan")
                body.append(choice_text(s, self.lang))
            yield Static(body, id="challenge-options")
            yield Static(Text(t("challenge_keys", self.lang).format(n=len(self.options)), "dim"),
                         id="challenge-verdict")

    def on_key(self, event: events.Key) -> None:
        event.stop()
        if self.answer is not None:  # the verdict was read: on to the step
            self.dismiss(self.answer == self.right)
            return
        if event.key == "escape":
            self.dismiss(False)
            return
        if event.key.isdigit() and 1 <= int(event.key) <= len(self.options):
            self.answer = int(event.key) - 1
            ok = self.answer == self.right
            verdict = Text(t("challenge_right" if ok else "challenge_wrong", self.lang).format(
                title=choice_text(self.options[self.right], self.lang)), "bold green" if ok else "bold red")
            verdict.append("\n" + t("challenge_go_on", self.lang), "dim")
            self.query_one("#challenge-verdict", Static).update(verdict)
