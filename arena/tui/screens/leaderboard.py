"""The current ratings, the same table and interval plot as ``arena leaderboard``; escape returns."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from arena.analysis.ratings import Leaderboard
from arena.present.leaderboard import leaderboard_notes, leaderboard_table
from arena.reports.leaderboard import board_for
from arena.reports.methods import METHODS
from arena.store import Store
from arena.vocab import RATING_METHODS, RatingMethod

ROUNDS = 300  # fewer bootstrap rounds than the CLI: the screen should open instantly


class LeaderboardScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("l", "app.pop_screen", "Back", show=False),
        Binding("s", "next_method", "Rating method"),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.board: Leaderboard | None = None
        self.method: RatingMethod = RATING_METHODS[0]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text("computing ratings..."), id="board")
        yield Footer()

    def on_mount(self) -> None:
        self.compute()

    @work(thread=True, exclusive=True)
    def compute(self) -> None:
        board = board_for(self.store, method=self.method, rounds=ROUNDS).board
        self.app.call_from_thread(self.show_board, board)

    def action_next_method(self) -> None:
        """The next rating method (raw Bradley-Terry, then with length and markdown taken out, ...)."""
        self.method = RATING_METHODS[(RATING_METHODS.index(self.method) + 1) % len(RATING_METHODS)]
        self.query_one("#board", Static).update(Text("computing ratings..."))
        self.compute()

    def show_board(self, board: Leaderboard) -> None:
        """Lay the table out for the screen's width now (and again on resize): numbers stay whole."""
        self.board = board
        if not board.ratings:
            content: Group | Text = Text("No votes yet: judge a battle first.")
        else:
            width = max(self.size.width - 2, 20)  # the scrollbar and the border
            following = METHODS[RATING_METHODS[(RATING_METHODS.index(self.method) + 1) % len(RATING_METHODS)]]
            title = f"leaderboard ({METHODS[self.method].title}; s: {following.title})"
            content = Group(leaderboard_table(board, width=width, title=title), *leaderboard_notes(board))
        self.query_one("#board", Static).update(content)

    def on_resize(self, event: events.Resize) -> None:
        if self.board is not None:
            self.show_board(self.board)
