"""The exact prompt strings both sides received, shown after the vote (``p`` on the battle screen)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from arena.tui.text import literal


class RenderedPromptsScreen(ModalScreen[None]):
    """One block per side: its label, then its rendered prompt as literal text (markers stay visible)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Close"),
        Binding("p", "app.pop_screen", "Close"),
    ]

    def __init__(self, prompts: Mapping[str, str]) -> None:
        super().__init__()
        self.prompts = dict(prompts)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="prompts-box") as box:
            box.border_subtitle = "esc or p: close · ↑↓ scroll"
            for title, text in self.prompts.items():
                yield Static(literal(title, "bold"))
                yield Static(literal(text or "(not recorded)"))
            yield Static(literal("esc or p closes.", "dim"))
