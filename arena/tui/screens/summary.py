"""The end of a session: what it amounted to (``arena.judging.summary``), when the prompts run out or the
judge presses q. q quits from here; esc goes back to judging (a prompt of one's own, the leaderboard)."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from arena.judging.summary import SessionSummary, summary_lines
from arena.tui.text import literal


class SummaryScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "app.quit", "Quit"),
        Binding("escape", "app.pop_screen", "Back to judging"),
    ]

    def __init__(self, summary: SessionSummary, *, finished: bool, hide_board: bool = False) -> None:
        """``hide_board``: the standings are left out (``arena serve --hide-board``); this session's own
        records stay."""
        super().__init__()
        self.summary = replace(summary, board=[], calls=[]) if hide_board else summary
        self.finished = finished

    def compose(self) -> ComposeResult:
        title = "Every prompt is judged." if self.finished else "Your session so far."
        with VerticalScroll(id="summary-box") as box:
            box.border_subtitle = "q: quit (votes are saved) · esc: back · ↑↓ scroll"
            yield Static(Text(title, style="bold"))
            yield Static(literal("\n".join(summary_lines(self.summary))), id="summary-text")
