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
from arena.errors import ArenaError
from arena.present.leaderboard import leaderboard_notes, leaderboard_table
from arena.reports.leaderboard import BOARD_ROUNDS, assisting_judges, board_for
from arena.reports.methods import METHODS
from arena.store import Store
from arena.tui.text import literal
from arena.vocab import RatingMethod

ROUNDS = BOARD_ROUNDS
"""As many bootstrap rounds as ``arena leaderboard``: the two boards show the same intervals (300 here made
them differ slightly); the fit runs in a worker, so the screen opens at once and fills in."""


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
        self.methods: list[tuple[RatingMethod, str | None]] = [("bt", None), ("style", None)]
        """The methods ``s`` cycles through: raw, style-controlled, then assisted by each automatic judge in
        the database (one without enough battles shared with people says so instead of a board)."""
        self.chosen = 0

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text("computing ratings..."), id="board")
        yield Footer()

    def on_mount(self) -> None:
        self.methods += [("assisted", judge) for judge in assisting_judges(self.store)]
        self.compute()

    @work(thread=True, exclusive=True)
    def compute(self) -> None:
        method, judge = self.methods[self.chosen]
        try:
            board = board_for(self.store, method=method, assisted_by=judge, rounds=ROUNDS).board
        except ArenaError as exc:  # an automatic judge that shares too few battles with people
            self.app.call_from_thread(self.show_refusal, str(exc))
            return
        self.app.call_from_thread(self.show_board, board)

    def action_next_method(self) -> None:
        """The next rating method (raw Bradley-Terry, then with length and markdown taken out, then assisted
        by each automatic judge)."""
        self.chosen = (self.chosen + 1) % len(self.methods)
        self.query_one("#board", Static).update(Text("computing ratings..."))
        self.compute()

    def show_board(self, board: Leaderboard) -> None:
        """Lay the table out for the screen's width now (and again on resize): numbers stay whole."""
        self.board = board
        if not board.ratings:
            content: Group | Text = Text("No votes yet: judge a battle first.")
        else:
            width = max(self.size.width - 2, 20)  # the scrollbar and the border
            title = f"leaderboard ({self.method_title(self.chosen)}; s: {self.method_title(self.chosen + 1)})"
            content = Group(leaderboard_table(board, width=width, title=title), *leaderboard_notes(board))
        self.query_one("#board", Static).update(content)

    def method_title(self, chosen: int) -> str:
        method, judge = self.methods[chosen % len(self.methods)]
        return METHODS[method].title + (f" by {judge}" if judge else "")

    def show_refusal(self, why: str) -> None:
        self.board = None
        self.query_one("#board", Static).update(
            literal(f"{self.method_title(self.chosen)}: {why}. s: the next method.")
        )

    def on_resize(self, event: events.Resize) -> None:
        if self.board is not None:
            self.show_board(self.board)
