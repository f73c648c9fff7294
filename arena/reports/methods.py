"""The rating methods the board offers, by name: what each reads from the store and the model that fits it.

The one registry of rating methods. A method is a ``RatingModel`` in ``arena.analysis.ratings`` plus one
entry here (and its name in ``vocab.RATING_METHODS``, which the command line offers without importing
numpy); ``board_for``, ``arena leaderboard --method``, the leaderboard screen and the HTML report all go
through it, so none of them branches on a method's name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from arena.analysis.ratings import BradleyTerry, StyleColumns, StyleControlled, VoteColumns
from arena.analysis.ratings.assisted import MIN_SHARED, AssistedBT, Judged, Shared
from arena.analysis.ratings.method import RatingModel
from arena.errors import ArenaError
from arena.store import Store
from arena.store.auto_verdicts import PairVote, pair_votes
from arena.store.queries import BattleFilter, style_from_texts, styled_vote_rows, vote_rows
from arena.vocab import RatingMethod, is_auto_judge


@dataclass(frozen=True)
class MethodOptions:
    """What a method may need beyond the votes: the automatic judge that assists the humans' ratings."""

    assisted_by: str | None = None


@dataclass(frozen=True)
class MethodInput:
    """The votes a method rates and the model that fits them."""

    votes: VoteColumns
    model: RatingModel


@dataclass(frozen=True)
class Method:
    """One way to rate: its name, how the board titles it, and what it reads."""

    name: RatingMethod
    title: str
    """How a board fitted this way says so ("style-controlled")."""
    read: Callable[[Store, BattleFilter | None, MethodOptions], MethodInput]


def _plain(store: Store, battle_filter: BattleFilter | None, _options: MethodOptions) -> MethodInput:
    return MethodInput(VoteColumns.from_rows(vote_rows(store, battle_filter)), BradleyTerry())


def _styled(store: Store, battle_filter: BattleFilter | None, _options: MethodOptions) -> MethodInput:
    """The votes and the style differences stored with them, in one read; counted from the answers' texts
    for the votes that have answers but none stored (imports and rows older than the counts)."""
    columns, stored, missing = _stored_styles(styled_vote_rows(store, battle_filter))
    if missing.any():  # the slow path: read again with the ids, which the counted texts are keyed by
        columns, stored, missing = _stored_styles(styled_vote_rows(store, battle_filter, with_ids=True))
        counted = style_from_texts(store, battle_filter)
        nothing = (None,) * 5  # a vote that has an answer but nothing to count
        found = [counted.get(vote, nothing) for vote in np.asarray(columns[9], dtype=np.int64)[missing].tolist()]
        stored[missing] = np.array(found, dtype=np.float64).reshape(-1, 5)
        stored[missing, 1:] = np.nan_to_num(stored[missing, 1:])
    votes = VoteColumns.from_columns(*columns[:4])
    return MethodInput(votes, StyleControlled(StyleColumns.from_stored(stored)))


def _stored_styles(
    rows: Sequence[Sequence[Any]],
) -> tuple[list[Sequence[Any]], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """``styled_vote_rows`` as columns, the five stored differences as a (votes, 5) array (None reads as
    NaN), and which votes lack any of words, headers, lists and bold."""
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [()] * 10
    stored = np.ascontiguousarray(np.array(columns[4:9], dtype=np.float64).reshape(5, -1).T)
    return columns, stored, ~np.isfinite(stored[:, 1:]).all(axis=1)


def _assisted(store: Store, battle_filter: BattleFilter | None, options: MethodOptions) -> MethodInput:
    """The people's votes, and the judge's verdicts linked to them through the two answers they judged."""
    judge = options.assisted_by
    if judge is None or not is_auto_judge(judge):
        raise ArenaError("the assisted board needs an automatic judge: --assisted-by auto:LABEL")
    people, verdicts = pair_votes(store, battle_filter, judge)
    if not verdicts:
        raise ArenaError(
            f"no verdicts by {judge} match (arena autojudge --label ... stores them; arena judges lists them)"
        )
    shared = linked_votes(people, verdicts)
    if len(shared.human) < MIN_SHARED:
        raise ArenaError(
            f"{judge} judged {len(shared.human)} of the battles people voted on: at least {MIN_SHARED} are needed to "
            "measure its errors (arena autojudge --session N judges the battles of a session)"
        )
    judged = Judged(
        [v.left for v in verdicts],
        [v.right for v in verdicts],
        [v.score for v in verdicts],
        [v.prompt for v in verdicts],
        [_key(v.left_generation, v.right_generation) for v in verdicts],
    )
    return MethodInput(VoteColumns.from_rows(vote_rows(store, battle_filter)), AssistedBT(judge, judged, shared))


def linked_votes(people: Sequence[PairVote], verdicts: Sequence[PairVote]) -> Shared:
    """Each person's vote on two stored answers that the judge also judged, with the judge's score for the
    person's left answer (the judge may have seen the two on the other sides)."""
    by_pair = {
        frozenset((v.left_generation, v.right_generation)): v
        for v in verdicts
        if v.left_generation is not None and v.right_generation is not None
    }
    rows = []
    for vote in people:
        if vote.left_generation is None or vote.right_generation is None:
            continue  # imported without its answers: nothing links it to a verdict
        verdict = by_pair.get(frozenset((vote.left_generation, vote.right_generation)))
        if verdict is None:
            continue
        judge_score = verdict.score if verdict.left == vote.left else 1.0 - verdict.score
        key = _key(vote.left_generation, vote.right_generation)
        weight = 1.0 if vote.shown_probability is None else 1.0 / vote.shown_probability
        rows.append((vote.left, vote.right, vote.score, judge_score, vote.prompt, key, weight))
    if not rows:
        return Shared([], [], [], [], [], [])
    lefts, rights, humans, judges, prompts, keys, weights = (list(column) for column in zip(*rows, strict=True))
    return Shared(lefts, rights, humans, judges, prompts, keys, weights)


def _key(left: int | None, right: int | None) -> str:
    """A battle's two answers, whichever side each was on: what a person's vote and a verdict share."""
    return "-".join(sorted(str(generation) for generation in (left, right)))


METHODS: dict[RatingMethod, Method] = {
    "bt": Method("bt", "raw Bradley-Terry", _plain),
    "style": Method("style", "style-controlled", _styled),
    "assisted": Method("assisted", "judge-assisted", _assisted),
}


def method(name: RatingMethod) -> Method:
    return METHODS[name]
