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

LOADING = "The models are loading behind this screen (the first run converts them once)..."
STARTING = "Starting as soon as the models are loaded..."
READY = "The models are ready."


class IntroScreen(ModalScreen[None]):
    """Scrolls when the terminal is small; the keys to go on stay on the box's bottom border."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "start", "Start"), Binding("q", "app.quit", "Quit")]

    def __init__(self, text: str, *, waiting_for_models: bool = False) -> None:
        """``waiting_for_models``: the models load behind this screen; enter before they are ready is held
        until ``models_ready`` (the name is not ``loading``: Textual covers a widget whose ``loading`` is set)."""
        super().__init__()
        self.text = text
        self.waiting_for_models = waiting_for_models
        self.start_asked = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="intro-box") as box:
            box.border_subtitle = "enter: start judging · ↑↓ scroll · q: quit"
            box.border_title = "loading the models..." if self.waiting_for_models else ""  # seen at 80x24 too
            yield Static(literal(self.text))
            yield Static(Text("\nPress enter to start judging.", style="bold"))
            status = LOADING if self.waiting_for_models else ""
            yield Static(Text(status, style="dim"), id="intro-status")

    def action_start(self) -> None:
        if self.waiting_for_models:
            self.start_asked = True
            self.query_one("#intro-status", Static).update(Text(STARTING, style="bold"))
            self.query_one("#intro-box", VerticalScroll).border_title = "starting once the models are loaded..."
            return
        self.dismiss(None)

    def models_ready(self) -> None:
        """The models are loaded: go on if the judge asked to, else say so."""
        self.waiting_for_models = False
        if self.start_asked:
            self.dismiss(None)
        else:
            self.query_one("#intro-status", Static).update(Text(READY, style="dim"))
            self.query_one("#intro-box", VerticalScroll).border_title = "the models are ready"
