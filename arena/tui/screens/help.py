"""Keys and what the arena hides until the vote: the rows come from the battle screen's bindings."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from arena.tui.keys import help_rows


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Close"),
        Binding("question_mark", "app.pop_screen", "Close"),
    ]

    def __init__(self, refused: dict[str, str] | None = None) -> None:
        """``refused``: the actions the session refuses for its whole length, with why (action -> reason;
        stored answers cannot follow up, regenerate or answer a prompt of one's own)."""
        super().__init__()
        self.refused = refused or {}

    def compose(self) -> ComposeResult:
        table = Table(show_header=False, box=None, padding=(0, 2))
        for key, what in help_rows(self.refused):
            table.add_row(Text(key, style="bold"), Text(what))
        notes = Text(
            "\nUntil you vote, the screen does not name the models: not their names, backends, colours or load "
            "order, and no token counts or speeds. Speed can still show: in the default live pace one side may "
            "finish first ('done' against 'generating'); --pace even or --pace together hide it. Voting is "
            "possible once both answers have stopped. Each vote is written to SQLite before the next prompt "
            "appears. After the vote each side shows its label, its flags (loops, garbage with the offending "
            "tokens highlighted, empty, cut off, stopped, constraints met) and its numbers.\n\nesc or ? closes.",
            style="dim",
        )
        with VerticalScroll(id="help-box") as box:
            box.border_subtitle = "esc or ?: close · ↑↓ scroll"
            yield Static(Text("vibe-arena keys", style="bold"))
            yield Static(table)
            yield Static(notes)
