"""The rating methods the board offers, by name: what each reads from the store and the model that fits it.

The one registry of rating methods. A method is a ``RatingModel`` in ``arena.analysis.ratings`` plus one
entry here (and its name in ``vocab.RATING_METHODS``, which the command line offers without importing
numpy); ``board_for``, ``arena leaderboard --method``, the leaderboard screen and the HTML report all go
through it, so none of them branches on a method's name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from arena.analysis.ratings import BradleyTerry, StyleColumns, StyleControlled
from arena.analysis.ratings.method import RatingModel
from arena.store import Store
from arena.store.queries import BattleFilter, StyledVoteRow, VoteRow, style_table, styled_vote_table, vote_table
from arena.vocab import RatingMethod


@dataclass(frozen=True)
class MethodInput:
    """The votes a method rates and the model that fits them."""

    votes: Sequence[VoteRow] | Sequence[StyledVoteRow]
    model: RatingModel


@dataclass(frozen=True)
class Method:
    """One way to rate: its name, how the board titles it, and what it reads."""

    name: RatingMethod
    title: str
    """How a board fitted this way says so ("style-controlled")."""
    read: Callable[[Store, BattleFilter | None], MethodInput]


def _plain(store: Store, battle_filter: BattleFilter | None) -> MethodInput:
    return MethodInput(vote_table(store, battle_filter), BradleyTerry())


def _styled(store: Store, battle_filter: BattleFilter | None) -> MethodInput:
    votes = styled_vote_table(store, battle_filter)
    return MethodInput(votes, StyleControlled(StyleColumns.of(style_table(store, votes, battle_filter))))


METHODS: dict[RatingMethod, Method] = {
    "bt": Method("bt", "raw Bradley-Terry", _plain),
    "style": Method("style", "style-controlled", _styled),
}


def method(name: RatingMethod) -> Method:
    return METHODS[name]
