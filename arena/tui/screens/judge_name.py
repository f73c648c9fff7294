"""Who is judging: the first screen of a browser session (``arena serve``), where no user name is known.

Every vote is stored with the judge's name (agreement, position bias and the outlier test in ``arena
judges`` are per judge), so a browser judge names themselves before the first battle starts.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from arena.play import judge_name_problem


class JudgeNameScreen(ModalScreen[str]):
    """An input for the judge's name; enter accepts it once ``judge_name_problem`` has nothing to say."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "submit", "Start judging", show=True)]

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
            yield Static(Text(""), id="judge-problem")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        name = self.query_one(Input).value.strip()
        problem = judge_name_problem(name)
        if problem:
            self.query_one("#judge-problem", Static).update(Text(problem, style="bold red"))
            return
        self.dismiss(name)
