"""The one recipe from a store to a leaderboard: the votes that match a filter, what the rating method reads
beside them (``arena.reports.methods``), the fit. The CLI's ``arena leaderboard``, the arena's leaderboard screen and
``arena play --pairing uncertain`` all call it, so they cannot disagree about which votes count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from arena.analysis.ratings import Leaderboard, compute_leaderboard
from arena.analysis.ratings.standing import Standing
from arena.reports.methods import METHODS, MethodOptions
from arena.store import Store
from arena.store.queries import BattleFilter, auto_judges, auto_vote_count, drawn_vote_count, leaked_vote_count
from arena.vocab import Cluster, RatingMethod, is_auto_judge


@dataclass(frozen=True)
class BoardResult:
    """A leaderboard and how many of its rated battles had an answer that named itself (``identity``)."""

    board: Leaderboard
    leaked: int
    judges: str = "people"
    """Whose votes these are: "people", or the automatic judge the filter named (``auto:LABEL``)."""
    auto_left_out: int = 0
    """Verdicts of automatic judges the filter left out (people's boards never count them silently)."""
    drawn: int = 0
    """Votes drawn where an automatic judge was unsure (``--pairing judge-uncertain``) that this method counts
    as they are (only the assisted method weighs them by how they were drawn); filled by ``with_drawn`` where
    the board's notes are shown, not on every fit (pairing refits before each battle)."""


BOARD_ROUNDS = 1000
"""Bootstrap rounds of every board people read (``arena leaderboard``'s default, the arena's board screen)."""


def board_for(
    store: Store,
    battle_filter: BattleFilter | None = None,
    *,
    method: RatingMethod = "bt",
    assisted_by: str | None = None,
    rounds: int = BOARD_ROUNDS,
    seed: int = 0,
    anchor: tuple[str, float] | None = None,
    k: float = 32.0,
    cluster: Cluster = "prompt",
    on_stage: Callable[[str], None] | None = None,
) -> BoardResult:
    """The leaderboard of the votes ``battle_filter`` selects, fitted by ``method`` (``ValueError`` for an
    anchor without battles); ``on_stage`` hears what it does next (a progress line: a million votes take
    seconds to read and fit)."""
    tell = on_stage or (lambda _stage: None)
    tell("reading the votes")
    read = METHODS[method].read(store, battle_filter, MethodOptions(assisted_by=assisted_by))
    leaked = leaked_vote_count(store, battle_filter)
    tell(f"fitting {len(read.votes):,} votes" + (f" and {rounds:,} bootstrap rounds" if rounds else ""))
    board = compute_leaderboard(
        read.votes, rounds=rounds, seed=seed, anchor=anchor, k=k, cluster=cluster, model=read.model
    )
    chosen = battle_filter or BattleFilter()
    if is_auto_judge(chosen.judge):
        return BoardResult(board, leaked, judges=str(chosen.judge))
    left_out = 0 if chosen.include_auto else auto_vote_count(store)
    return BoardResult(board, leaked, auto_left_out=left_out)


def with_drawn(store: Store, found: BoardResult, battle_filter: BattleFilter | None) -> BoardResult:
    """``found`` with how many of its votes a judge-uncertain session drew (``BoardResult.drawn``)."""
    if found.board.method == "assisted":
        return found
    return replace(found, drawn=drawn_vote_count(store, battle_filter))


def standing_of(store: Store) -> Standing:
    """Point ratings and the pairs the sequential test has decided, from every counting vote of people (no
    bootstrap): what pairing by need reads before each battle."""
    board = board_for(store, rounds=0).board
    return Standing({rating.contestant: rating.rating for rating in board.ratings}, frozenset(board.decided))


def assisting_judges(store: Store) -> list[str]:
    """The automatic judges whose verdicts could assist the people's board (``--assisted-by``)."""
    return auto_judges(store)
