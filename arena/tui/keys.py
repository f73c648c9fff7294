"""The battle screen's keys: one list, read by the screen (its bindings and footer) and by the help screen.

Each binding carries its long help text as its ``tooltip``; keys that do one thing for several values (the
reasons 1-8, a and the left arrow) share a ``group``, so the help lists them on one row. Which keys are live
at a moment is the session's call (``PlaySession.allows``): an action named after one of ``round.Action``'s
values is asked there, so no second list of "session actions" is kept.
"""

from __future__ import annotations

from typing import get_args

from textual.binding import Binding

from arena.judging.round import Action
from arena.vocab import REASONS

SESSION_ACTIONS: frozenset[str] = frozenset(get_args(Action))
"""The screen's actions that the session's phase rules decide (``round.Action``'s values, read from it)."""

_PRAISE = Binding.Group("after the vote, why the winner won")
_COMPLAINT = Binding.Group("after the vote, why the loser lost")
_A_BETTER = Binding.Group("Model A is better")
_B_BETTER = Binding.Group("Model B is better")


def _reason(key: str) -> Binding:
    reason, praise = REASONS[key]
    return Binding(key, f"reason('{key}')", reason, show=False, group=_PRAISE if praise else _COMPLAINT)


BATTLE_BINDINGS: list[Binding] = [
    Binding("question_mark", "help", "Help", tooltip="this help"),  # first: at 80 columns the footer is cut right
    Binding("q", "quit", "Quit", tooltip="quit (votes are already saved): the session's summary first"),
    # the footer's words are short enough for every key to show at 80 columns; the help has the long ones
    Binding("a", "vote('left')", "A wins", group=_A_BETTER, tooltip="Model A is better"),
    Binding("left", "vote('left')", "A wins", show=False, priority=True, group=_A_BETTER),
    Binding("b", "vote('right')", "B wins", group=_B_BETTER, tooltip="Model B is better"),
    Binding("right", "vote('right')", "B wins", show=False, priority=True, group=_B_BETTER),
    Binding("t", "vote('tie')", "Tie", tooltip="tie"),
    Binding("x", "vote('both_bad')", "Both bad", tooltip="both bad"),
    Binding("s", "vote('skip')", "Skip", tooltip="skip (recorded, not rated)"),
    Binding("escape", "stop", "Stop", tooltip="stop generation"),
    Binding("n", "next", "Next", tooltip="next prompt (after the vote)"),
    Binding(
        "u",
        "undo",
        "Undo",
        tooltip="take back your last vote (kept and marked, no longer counted); its prompt comes again later",
    ),
    Binding(
        "f",
        "follow_up",
        "Follow",
        tooltip="follow up: a next message to both models, each continuing its own conversation (before the vote)",
    ),
    Binding(
        "r",
        "regenerate",
        "Regen",
        tooltip="regenerate: both models answer again with a new seed (before the vote; the old answers are kept)",
    ),
    Binding(
        "R",
        "regenerate('one')",
        "Regen one",
        show=False,
        tooltip="regenerate the focused answer only (tab to it first; the other keeps its answer; before the vote)",
    ),
    Binding("e", "custom", "Own prompt", tooltip="type a prompt of your own"),
    Binding("m", "note", "Note", tooltip="a note on the battle just judged"),
    Binding("p", "prompts", "Prompts", tooltip="the exact prompts both sides received (after the vote)"),
    Binding("l", "leaderboard", "Board", tooltip="leaderboard (s there: the next rating method)"),
    Binding(
        "v",
        "toggle_view",
        "Styled / plain",
        show=False,
        tooltip="answers with their markdown styled in place (the default) or plain, both panes alike; "
        "the words and line breaks are the model's either way",
    ),
    *[_reason(key) for key in REASONS],
]

PANE_KEYS: list[tuple[str, str]] = [
    ("tab  shift+tab", "move the focus between the two answers"),
    ("↑ ↓  pgup pgdn  home end", "scroll the focused answer (the mouse wheel scrolls too)"),
]
"""Keys the answer panes handle themselves (Textual's focus and scrolling), listed in the help too."""

_SHOWN = {"question_mark": "?", "escape": "esc", "left": "←", "right": "→"}


def key_name(key: str) -> str:
    """How the help writes a binding's key ("?" for question_mark)."""
    return _SHOWN.get(key, key)


def action_name(action: str) -> str:
    """``vote('left')`` -> ``vote``: the action a binding runs, without its argument."""
    return action.split("(", 1)[0]


def help_rows(refused: dict[str, str]) -> list[tuple[str, str]]:
    """(keys, what they do) per row of the help: one row per binding, or per group of bindings; an action
    the session refuses for the whole session says why instead (``refused``: action name -> reason). Help and
    quit come first in the footer (cut on the right at 80 columns) and last here, after what judging uses."""
    rows: list[tuple[str, str]] = []
    last: list[tuple[str, str]] = []
    grouped: dict[Binding.Group, int] = {}
    for binding in BATTLE_BINDINGS:
        key = key_name(binding.key)
        group = binding.group
        if group is not None and group in grouped:
            index = grouped[group]
            keys, what = rows[index]
            more = "" if group in (_A_BETTER, _B_BETTER) else f", {binding.description}"
            rows[index] = (f"{keys}  {key}", what + more)
            continue
        what = binding.tooltip or binding.description
        if group is not None:
            grouped[group] = len(rows)
            what = group.description + ("" if group in (_A_BETTER, _B_BETTER) else f": {binding.description}")
        reason = refused.get(action_name(binding.action))
        (last if binding.action in ("help", "quit") else rows).append((key, f"off: {reason}" if reason else what))
        if binding.action == "stop":
            rows.extend(PANE_KEYS)
    return rows + last
