"""Ratings: Bradley-Terry against an independent fit, Elo by hand, bootstrap coverage, and edge cases."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy.optimize import minimize

from arena.analysis.ratings import Outcome, PairRecord, compute_leaderboard, elo_ratings, parse_anchor


def simulate(true: dict[str, float], battles: int, seed: int, tie_rate: float = 0.1) -> list[Outcome]:
    """Battles drawn from the BT model itself, with random pairs and random sides."""
    rng = random.Random(seed)
    labels = list(true)
    outcomes = []
    for _ in range(battles):
        left, right = rng.sample(labels, 2)
        if rng.random() < tie_rate:
            outcomes.append(Outcome(left, right, rng.choice(["tie", "both_bad"])))
            continue
        p_left = 1 / (1 + 10 ** ((true[right] - true[left]) / 400))
        outcomes.append(Outcome(left, right, "left" if rng.random() < p_left else "right"))
    return outcomes


def scipy_bradley_terry(outcomes: list[Outcome]) -> dict[str, float]:
    """Unpenalized maximum likelihood written independently: a logistic regression on battles."""
    labels = sorted({o.left for o in outcomes} | {o.right for o in outcomes})
    index = {label: i for i, label in enumerate(labels)}
    a = np.array([index[o.left] for o in outcomes])
    b = np.array([index[o.right] for o in outcomes])
    y = np.array([{"left": 1.0, "right": 0.0}.get(o.verdict, 0.5) for o in outcomes])

    def negative_log_likelihood(r: np.ndarray) -> float:
        d = (r[a] - r[b]) * math.log(10) / 400
        return float(-(y * -np.logaddexp(0, -d) + (1 - y) * -np.logaddexp(0, d)).sum())

    fit = minimize(negative_log_likelihood, np.zeros(len(labels)), method="BFGS", options={"gtol": 1e-8})
    centred = fit.x - fit.x.mean() + 1000
    return dict(zip(labels, centred, strict=True))


def test_bradley_terry_matches_an_independent_fit() -> None:
    true = {"a": 1150.0, "b": 1060.0, "c": 1000.0, "d": 930.0, "e": 860.0}
    outcomes = simulate(true, 2500, seed=3)
    board = compute_leaderboard(outcomes, rounds=0)
    reference = scipy_bradley_terry(outcomes)
    for rating in board.ratings:
        assert rating.rating == pytest.approx(reference[rating.contestant], abs=0.5)
    assert [r.contestant for r in board.ratings] == ["a", "b", "c", "d", "e"]
    assert sum(r.rating for r in board.ratings) / 5 == pytest.approx(1000)


def test_bradley_terry_ignores_vote_order_but_elo_does_not() -> None:
    outcomes = simulate({"a": 1100.0, "b": 1000.0, "c": 900.0}, 300, seed=5)
    shuffled = outcomes[:]
    random.Random(1).shuffle(shuffled)
    first = {r.contestant: r.rating for r in compute_leaderboard(outcomes, rounds=0).ratings}
    second = {r.contestant: r.rating for r in compute_leaderboard(shuffled, rounds=0).ratings}
    assert first == pytest.approx(second, abs=1e-6)
    assert elo_ratings(outcomes) != pytest.approx(elo_ratings(shuffled), abs=1e-6)


def test_elo_matches_a_hand_computed_sequence() -> None:
    outcomes = [Outcome("a", "b", "left"), Outcome("b", "a", "left"), Outcome("a", "b", "tie")]
    # 1: equal ratings, expected 0.5: a +16, b -16 -> a 1016, b 984
    # 2: b (984) beats a (1016): expected_b = 1/(1+10^(32/400)) = 0.454; b += 32*0.546 = 17.47
    e_b = 1 / (1 + 10 ** (32 / 400))
    a2, b2 = 1016 - 32 * (1 - e_b), 984 + 32 * (1 - e_b)
    # 3: tie, a is left: a += 32*(0.5 - expected_a)
    e_a = 1 / (1 + 10 ** ((b2 - a2) / 400))
    a3, b3 = a2 + 32 * (0.5 - e_a), b2 - 32 * (0.5 - e_a)
    result = elo_ratings(outcomes, k=32)
    assert result["a"] == pytest.approx(a3) and result["b"] == pytest.approx(b3)
    assert result["a"] + result["b"] == pytest.approx(2000)
    assert elo_ratings(outcomes[:1], k=10)["a"] == pytest.approx(1005)


def test_bootstrap_intervals_cover_the_truth_at_about_the_nominal_rate() -> None:
    true = {"a": 1120.0, "b": 1040.0, "c": 1000.0, "d": 960.0, "e": 880.0}
    covered = total = 0
    for seed in range(40):
        board = compute_leaderboard(simulate(true, 300, seed=100 + seed), rounds=300, seed=seed)
        for rating in board.ratings:
            covered += rating.ci_low <= true[rating.contestant] <= rating.ci_high
            total += 1
    assert 0.88 <= covered / total <= 0.995, covered / total


def test_bootstrap_is_seeded() -> None:
    outcomes = simulate({"a": 1050.0, "b": 950.0}, 60, seed=1)
    one = compute_leaderboard(outcomes, rounds=100, seed=9).ratings
    two = compute_leaderboard(outcomes, rounds=100, seed=9).ratings
    assert [(r.ci_low, r.ci_high) for r in one] == [(r.ci_low, r.ci_high) for r in two]


def test_contestant_that_never_lost_gets_a_finite_flagged_top_rating() -> None:
    outcomes = [Outcome("champ", "b", "left")] * 5 + [
        Outcome("b", "c", "left"),
        Outcome("c", "b", "left"),
    ] * 3
    board = compute_leaderboard(outcomes, rounds=200)
    top = board.ratings[0]
    assert top.contestant == "champ" and top.never_lost and not top.never_won
    assert math.isfinite(top.rating) and math.isfinite(top.ci_high)
    assert top.rating > board.ratings[1].rating + 200


def test_contestant_that_never_won_is_flagged_last() -> None:
    outcomes = [Outcome("a", "z", "left"), Outcome("z", "b", "right"), Outcome("a", "b", "tie")]
    board = compute_leaderboard(outcomes, rounds=50)
    assert board.ratings[-1].contestant == "z" and board.ratings[-1].never_won


def test_disconnected_groups_are_reported_and_ranked_separately() -> None:
    outcomes = [Outcome("a", "b", "left")] * 30 + [Outcome("c", "d", "left")] * 30
    board = compute_leaderboard(outcomes, rounds=200)
    assert len(board.groups) == 2
    assert sorted(sorted(group) for group in board.groups) == [["a", "b"], ["c", "d"]]
    by_label = {r.contestant: r for r in board.ratings}
    # b has one better contestant in its own group (a); c, though stronger-looking, is not comparable
    assert by_label["b"].rank_ub == 2 and by_label["d"].rank_ub == 2
    assert by_label["a"].rank_ub == 1 and by_label["c"].rank_ub == 1
    assert "c" not in by_label["a"].within_noise


def test_rank_ub_counts_contestants_clearly_above() -> None:
    true = {"top": 1400.0, "mid1": 1000.0, "mid2": 990.0, "low": 600.0}
    board = compute_leaderboard(simulate(true, 3000, seed=2, tie_rate=0), rounds=300)
    ranks = {r.contestant: r.rank_ub for r in board.ratings}
    assert ranks["top"] == 1
    assert ranks["mid1"] == ranks["mid2"] == 2
    assert ranks["low"] == 4
    mids = {r.contestant: r for r in board.ratings}
    assert "mid2" in mids["mid1"].within_noise and "top" not in mids["mid1"].within_noise


def test_a_single_battle() -> None:
    board = compute_leaderboard([Outcome("x", "y", "right")], rounds=100)
    assert [r.contestant for r in board.ratings] == ["y", "x"]
    assert board.ratings[0].wins == 1 and board.ratings[1].losses == 1
    assert all(math.isfinite(r.ci_low) and math.isfinite(r.ci_high) for r in board.ratings)


def test_no_battles_and_only_skips() -> None:
    assert compute_leaderboard([]).ratings == []
    board = compute_leaderboard([Outcome("a", "b", "skip")])
    assert board.ratings == [] and board.battles == 0


def test_both_bad_is_a_tie_for_the_rating_but_counted_apart() -> None:
    ties = compute_leaderboard([Outcome("a", "b", "tie")] * 4 + [Outcome("a", "b", "left")], rounds=0)
    bad = compute_leaderboard([Outcome("a", "b", "both_bad")] * 4 + [Outcome("a", "b", "left")], rounds=0)
    assert [r.rating for r in ties.ratings] == pytest.approx([r.rating for r in bad.ratings])
    a = next(r for r in bad.ratings if r.contestant == "a")
    assert (a.wins, a.ties, a.both_bad, a.losses, a.battles) == (1, 0, 4, 0, 5)


def test_anchor_pins_one_contestant() -> None:
    outcomes = simulate({"base": 1000.0, "ft": 1100.0}, 200, seed=4)
    free = {r.contestant: r.rating for r in compute_leaderboard(outcomes, rounds=0).ratings}
    pinned = compute_leaderboard(outcomes, rounds=100, anchor=("base", 1500.0))
    by_label = {r.contestant: r for r in pinned.ratings}
    assert by_label["base"].rating == pytest.approx(1500)
    assert by_label["ft"].rating - 1500 == pytest.approx(free["ft"] - free["base"])
    assert by_label["base"].ci_low == pytest.approx(1500) == by_label["base"].ci_high
    with pytest.raises(ValueError, match="anchor 'nobody' has no battles"):
        compute_leaderboard(outcomes, anchor=("nobody", 1000.0))


def test_position_bias() -> None:
    fair = compute_leaderboard(
        [Outcome("a", "b", "left"), Outcome("b", "a", "left")] * 20 + [Outcome("a", "b", "right")] * 40,
        rounds=0,
    )
    assert fair.position_bias.share == pytest.approx(0.5) and not fair.position_bias.significant
    biased = compute_leaderboard(
        [Outcome("a", "b", "left"), Outcome("b", "a", "left")] * 40 + [Outcome("a", "b", "right")] * 10,
        rounds=0,
    )
    assert biased.position_bias.significant and biased.position_bias.ci_low > 0.5


def test_scoreboard_and_matrices() -> None:
    outcomes = [Outcome("a", "b", "right")] * 5 + [
        Outcome("b", "a", "right"),
        Outcome("a", "b", "tie"),
        Outcome("b", "a", "both_bad"),
    ]
    board = compute_leaderboard(outcomes, rounds=0)
    [pair] = board.pairs
    assert (pair.a, pair.b, pair.a_wins, pair.b_wins, pair.ties, pair.both_bad) == ("a", "b", 1, 5, 1, 1)
    assert pair.describe() == "b beats a 5-1, 1 tie, 1 both bad"
    assert board.win_matrix["b"]["a"] == pytest.approx(6 / 8)
    assert board.win_matrix["a"]["b"] == pytest.approx(2 / 8)
    assert board.count_matrix == {"a": {"b": 8}, "b": {"a": 8}}
    assert PairRecord("x", "y", 2, 2, 0, 0).describe() == "x ties y 2-2"


@pytest.mark.parametrize("text", ["base", "=1000", "base=high"])
def test_bad_anchor_text(text: str) -> None:
    with pytest.raises(ValueError, match="--anchor"):
        parse_anchor(text)
