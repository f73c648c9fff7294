"""The current ratings, the same table and interval plot as ``arena leaderboard``; escape returns."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from arena.ratings import compute_leaderboard, outcomes_from_rows
from arena.store import Store
from arena.store.queries import battle_rows

ROUNDS = 300  # fewer bootstrap rounds than the CLI: the screen should open instantly


class LeaderboardScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("l", "app.pop_screen", "Back", show=False),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text("computing ratings..."), id="board")
        yield Footer()

    def on_mount(self) -> None:
        self.compute()

    @work(thread=True, exclusive=True)
    def compute(self) -> None:
        from arena.views import leaderboard_notes, leaderboard_table

        board = compute_leaderboard(outcomes_from_rows(battle_rows(self.store)), rounds=ROUNDS)
        if not board.ratings:
            content: Group | Text = Text("No votes yet: judge a battle first.")
        else:
            content = Group(leaderboard_table(board), *leaderboard_notes(board))
        self.app.call_from_thread(self.query_one("#board", Static).update, content)
