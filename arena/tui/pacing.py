"""How much of each answer the judge may see while the models generate, so that speed does not name a model.

Owns the pace modes of ``arena play --pace``; pure logic (no textual), so the rule is tested on its own:

- ``live``: each pane shows its text as it arrives (the default). No token counts or speeds are shown
  before the vote, but who starts first and who streams faster can still be seen.
- ``even``: both panes advance together, at the pace of the slower model: a pane never shows more
  characters than the other side has produced so far. First-token latency and decode speed are hidden;
  only length shows, once one answer has ended and the other goes on.
- ``together``: nothing is shown until both answers have stopped; then both appear at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from arena.vocab import PACES, SIDES, Pace, Side

__all__ = ["PACES", "Pace", "Presentation"]


@dataclass(frozen=True)
class Presentation:
    """How the battle screen presents the two streams: their pace, whether counts and speeds may show
    before the vote, and whether the sides generate one after the other."""

    pace: Pace = "live"
    show_speed: bool = False
    sequential: bool = False
    hide_board: bool = False
    """The judges see no leaderboard (``arena serve --hide-board``): one who has seen the standings votes
    differently, and the organizer reads the board with ``arena leaderboard``."""
    named: bool = False
    """Each pane names its model from the start (``arena play --named``, for debugging): not blind."""


def visible_lengths(pace: Pace, produced: Mapping[Side, int], done: Mapping[Side, bool]) -> dict[Side, int]:
    """Characters of each side's text to show now, given how much each has produced and which are done."""
    if pace == "live" or all(done[side] for side in SIDES):
        return {side: produced[side] for side in SIDES}
    if pace == "together":
        return {side: 0 for side in SIDES}
    # even: the shared horizon is what the sides still generating have produced
    horizon = min(produced[side] for side in SIDES if not done[side])
    return {side: min(produced[side], horizon) for side in SIDES}


def fully_shown(pace: Pace, side: Side, produced: Mapping[Side, int], done: Mapping[Side, bool]) -> bool:
    """Whether ``side`` has stopped and all of its text is on screen (its pane may say it is done)."""
    return done[side] and visible_lengths(pace, produced, done)[side] >= produced[side]
