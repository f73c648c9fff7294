"""A first screen that says what is about to happen (used by ``arena demo``)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from arena.tui.text import literal


class IntroScreen(ModalScreen[None]):
    """Scrolls when the terminal is small; the keys to go on stay on the box's bottom border."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "start", "Start"), Binding("q", "app.quit", "Quit")]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="intro-box") as box:
            box.border_subtitle = "enter: start judging · ↑↓ scroll · q: quit"
            yield Static(literal(self.text))
            yield Static(Text("\nPress enter to start judging.", style="bold"))

    def action_start(self) -> None:
        self.dismiss(None)
