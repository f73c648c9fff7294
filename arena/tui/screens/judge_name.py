"""Who is judging: the first screen of a browser session (``arena serve``), where no user name is known.

Every vote is stored with the judge's name (agreement, position bias and the outlier test in ``arena
judges`` are per judge), so a browser judge names themselves before the first battle starts. The models
load meanwhile (``loading``): the screen says so, and a name given before they are ready is held until
``models_ready`` is called.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from arena.judging.names import judge_name, judge_name_problem

LOADING = "The models are loading; type your name meanwhile."
READY = "The models are ready."


class JudgeNameScreen(ModalScreen[str]):
    """An input for the judge's name; enter accepts it once ``judge_name_problem`` has nothing to say
    (and dismisses with it once the models are ready)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "submit", "Start judging", show=True)]

    def __init__(self, *, loading: bool = False) -> None:
        super().__init__()
        self.waiting_for_models = loading  # not ``loading``: Textual's widgets cover themselves when it is set
        self.chosen: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="judge-box"):
            yield Static(Text("Who is judging?", style="bold"))
            yield Static(
                Text(
                    "Your name is stored with every vote you cast, so the ratings can tell judges apart.\n"
                    "The models stay anonymous until you vote.",
                    style="dim",
                )
            )
            yield Input(placeholder="your name, then enter", id="judge-name", max_length=80)
            yield Static(Text(LOADING if self.waiting_for_models else ""), id="judge-status")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        name = judge_name(self.query_one(Input).value.strip())
        problem = judge_name_problem(name)
        if problem:
            self._status(Text(problem, style="bold red"))
            return
        if self.waiting_for_models:
            self.chosen = name
            self.query_one(Input).disabled = True
            self._status(Text(f"Thank you, {name}: the first battle starts once the models are loaded."))
            return
        self.dismiss(name)

    def models_ready(self) -> None:
        self.waiting_for_models = False
        if self.chosen is not None:
            self.dismiss(self.chosen)
        else:
            self._status(Text(READY, style="dim"))

    def _status(self, text: Text) -> None:
        self.query_one("#judge-status", Static).update(text)
