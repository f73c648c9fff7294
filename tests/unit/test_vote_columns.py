"""The votes as integer-coded columns (``ratings.columns.VoteColumns``): every count the board takes from the
arrays must be what the plain definition over ``Outcome`` tuples gives, since the board is built from them."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from arena.analysis.ratings import Outcome, VoteColumns, compute_leaderboard, elo_ratings
from arena.analysis.ratings.data import components
from arena.vocab import RATED_VERDICTS

votes_drawn = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", "é"]),
        st.sampled_from(["a", "b", "c", "d", "é"]),
        st.sampled_from(["left", "right", "tie", "both_bad", "skip", "bogus"]),
        st.sampled_from(["p1", "p2", "p3", "p4"]),
    ),
    max_size=60,
)


@given(votes_drawn)
def test_the_rated_columns_hold_what_the_outcomes_say(rows: list[tuple[str, str, str, str]]) -> None:
    """The rated votes (a rated verdict, two different contestants; a verdict outside the vocabulary, as a
    merged file may hold, is not rated), their tally, the pairs that met, and the prompts numbered in the
    order of their first rated vote."""
    rated, kept = VoteColumns.from_rows(rows).rated()
    expected = [row for row in rows if row[2] in RATED_VERDICTS and row[0] != row[1]]
    assert kept.tolist() == [i for i, row in enumerate(rows) if row[2] in RATED_VERDICTS and row[0] != row[1]]
    assert [tuple(o) for o in rated.outcomes()] == expected
    assert rated.tally() == Counter((left, right, verdict) for left, right, verdict, _ in expected)
    assert list(rated.contestants) == sorted({row[0] for row in expected} | {row[1] for row in expected})
    assert rated.prompts == tuple(dict.fromkeys(row[3] for row in expected))
    assert sorted(rated.pairs_met()) == sorted({(row[0], row[1]) for row in expected})
    assert rated.scores().tolist() == [{"left": 1.0, "right": 0.0}.get(row[2], 0.5) for row in expected]


def test_elo_and_the_groups_from_columns_match_the_outcomes() -> None:
    outcomes = [Outcome("a", "b", "left", "p"), Outcome("c", "d", "right", "q"), Outcome("b", "a", "tie", "p")] * 4
    rated, _ = VoteColumns.of(outcomes).rated()
    assert elo_ratings(rated) == elo_ratings(outcomes)
    assert components(list(rated.contestants), rated.pairs_met()) == [["a", "b"], ["c", "d"]]


def test_a_board_from_columns_is_the_board_from_outcomes() -> None:
    outcomes = [Outcome(a, b, v, f"p{i % 7}") for i, (a, b, v) in enumerate(
        [("a", "b", "left"), ("b", "c", "right"), ("c", "a", "tie"), ("a", "c", "both_bad"), ("b", "a", "skip")] * 30
    )]  # fmt: skip
    from_outcomes = compute_leaderboard(outcomes, rounds=50, seed=1)
    from_columns = compute_leaderboard(VoteColumns.of(outcomes), rounds=50, seed=1)
    assert from_columns == from_outcomes
    assert from_outcomes.battles == 120 and from_outcomes.prompts == 7
