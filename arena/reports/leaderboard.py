"""The one recipe from a store to a leaderboard: the votes that match a filter, their style differences when
style control is asked for, the fit. The CLI's ``arena leaderboard``, the arena's leaderboard screen and
``arena play --pairing uncertain`` all call it, so they cannot disagree about which votes count.
"""

from __future__ import annotations

from dataclasses import dataclass

from arena.analysis.ratings import Leaderboard, StyleColumns, compute_leaderboard, outcomes_from_votes
from arena.store import Store
from arena.store.queries import (
    BattleFilter,
    StyledVoteRow,
    VoteRow,
    auto_vote_count,
    style_table,
    styled_vote_table,
    vote_table,
)
from arena.vocab import Cluster, is_auto_judge


@dataclass(frozen=True)
class BoardResult:
    """A leaderboard and how many of its rated battles had an answer that named itself (``identity``)."""

    board: Leaderboard
    leaked: int
    judges: str = "people"
    """Whose votes these are: "people", or the automatic judge the filter named (``auto:LABEL``)."""
    auto_left_out: int = 0
    """Verdicts of automatic judges the filter left out (people's boards never count them silently)."""


def board_for(
    store: Store,
    battle_filter: BattleFilter | None = None,
    *,
    style_control: bool = False,
    rounds: int = 1000,
    seed: int = 0,
    anchor: tuple[str, float] | None = None,
    k: float = 32.0,
    cluster: Cluster = "prompt",
) -> BoardResult:
    """The leaderboard of the votes ``battle_filter`` selects (``ValueError`` for an anchor without battles)."""
    style = None
    votes: list[VoteRow] | list[StyledVoteRow]
    if style_control:
        votes = styled_vote_table(store, battle_filter)
        style = StyleColumns.of(style_table(store, votes, battle_filter))
    else:
        votes = vote_table(store, battle_filter)
    leaked = sum(1 for vote in votes if vote.leaked and vote.verdict != "skip")
    board = compute_leaderboard(
        outcomes_from_votes(votes), rounds=rounds, seed=seed, anchor=anchor, k=k, style=style, cluster=cluster
    )
    chosen = battle_filter or BattleFilter()
    if is_auto_judge(chosen.judge):
        return BoardResult(board, leaked, judges=str(chosen.judge))
    left_out = 0 if chosen.include_auto else auto_vote_count(store)
    return BoardResult(board, leaked, auto_left_out=left_out)
