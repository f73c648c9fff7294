"""Keys and what the arena hides until the vote."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = [
    ("a  or  ←", "Model A is better"),
    ("b  or  →", "Model B is better"),
    ("t", "tie"),
    ("x", "both bad"),
    ("s", "skip (recorded, not rated)"),
    ("esc", "stop generation"),
    ("tab  shift+tab", "move the focus between the two answers"),
    ("↑ ↓  pgup pgdn  home end", "scroll the focused answer (the mouse wheel scrolls too)"),
    ("n", "next prompt (after the vote)"),
    ("f", "follow up: a next message to both models, each continuing its own conversation (before the vote)"),
    ("r", "regenerate: both models answer again with a new seed (before the vote; the old answers are kept)"),
    ("e", "type a prompt of your own"),
    ("v", "answers as markdown (the default) or as their exact text, both panes alike"),
    ("l", "leaderboard (s there: the next rating method: raw, style-controlled)"),
    ("p", "the exact prompts both sides received (after the vote)"),
    ("1 2 3 4", "after the vote, why the winner won: correct, followed instructions, concise, well formatted"),
    ("5 6 7 8", "after the vote, why the loser lost: hallucinated, looped, wrong language, unsafe"),
    ("m", "a note on the battle just judged"),
    ("u", "take back your last vote (kept and marked, no longer counted); its prompt comes again later"),
    ("?", "this help"),
    ("q", "quit (votes are already saved)"),
]


GENERATING_KEYS = ("f", "r", "e")
"""Keys that make the models generate: off when the answers are stored ones (``--from-batch``)."""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Close"),
        Binding("question_mark", "app.pop_screen", "Close"),
    ]

    def __init__(self, stored_from: int | None = None) -> None:
        """``stored_from``: the batch session whose stored answers are judged (None: live models)."""
        super().__init__()
        self.stored_from = stored_from

    def compose(self) -> ComposeResult:
        table = Table(show_header=False, box=None, padding=(0, 2))
        for key, what in KEYS:
            if self.stored_from is not None and key in GENERATING_KEYS:
                what = f"off: these are stored answers (batch session {self.stored_from}), nothing generates"
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
