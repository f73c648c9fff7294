"""Judge-assisted ratings (``arena.analysis.ratings.assisted``, ``arena leaderboard --assisted-by``): the
humans' Bradley-Terry ratings from few human votes and many verdicts of an automatic judge, rectified by the
judge's errors: seeded simulations of good, useless and biased judges (the database path: tests/app)."""

from __future__ import annotations

import numpy as np
import pytest

from arena.analysis.ratings import Outcome, compute_leaderboard
from arena.analysis.ratings.assisted import AssistedBT, Judged, Shared
from tests.support.assisted_sim import JUDGES, arenas, chosen_arenas


@pytest.mark.parametrize("kind", JUDGES)
def test_the_assisted_interval_covers_the_humans_truth_whatever_the_judge(kind: str) -> None:
    found = arenas(kind, 120)
    coverage = float(np.mean([covered for run in found for covered in run.covered]))
    assert coverage >= 0.93, (kind, coverage)
    width = np.mean([run.width for run in found]) / np.mean([run.human_width for run in found])
    weight = np.mean([run.facts.weight for run in found])
    if kind == "good":  # a judge that agrees 90% of the time narrows the board and is used
        assert width < 0.75 and weight > 0.5, (width, weight)
        assert np.mean([run.facts.effective_votes for run in found]) > 2 * 120
    if kind == "useless":  # a coin is (nearly) ignored: it costs nothing
        assert 0.95 < width < 1.05 and weight < 0.15, (width, weight)


def test_votes_drawn_by_the_judges_doubt_are_weighted_back() -> None:
    """m0 meets m1 2,000 times. On half the battles the judge is sure and right (the winner is a coin flip);
    on the other half it says 50% while people pick m0 nine times in ten. The humans' truth: m0 wins 70%.
    Showing the undecided battles always and the sure ones one time in five over-represents m0's wins among
    the votes: unweighted, the board puts m0 far too high; weighted by one over each chance, it holds the truth."""
    rng = np.random.default_rng(4)
    left, right, judge, human, prompt, chance = [], [], [], [], [], []
    for k in range(2000):
        a, b = ("m0", "m1") if k % 2 else ("m1", "m0")
        if k % 4 < 2:  # sure and right
            left_wins = rng.random() < 0.5
            judge.append(0.95 if left_wins else 0.05)
            human.append(float(left_wins))
            chance.append(0.2)
        else:
            judge.append(0.5)
            human.append(float((rng.random() < 0.9) == (a == "m0")))
            chance.append(1.0)
        left.append(a)
        right.append(b)
        prompt.append(f"p{k % 200}")
    shown = [k for k in range(2000) if rng.random() < chance[k]]
    truth = 400 * np.log10(0.7 / 0.3)  # m0 over m1

    def gap(weights: list[float]) -> tuple[float, float, float]:
        shared = Shared(
            [left[k] for k in shown], [right[k] for k in shown], [human[k] for k in shown],
            [judge[k] for k in shown], [prompt[k] for k in shown], [str(k) for k in shown], weights,
        )  # fmt: skip
        model = AssistedBT("auto:j", Judged(left, right, judge, prompt, [str(k) for k in range(2000)]), shared)
        outcomes = [Outcome(left[k], right[k], "left" if human[k] == 1 else "right", prompt[k]) for k in shown]
        board = compute_leaderboard(outcomes, rounds=200, seed=1, model=model)
        rating = {r.contestant: r for r in board.ratings}
        m0, m1 = rating["m0"], rating["m1"]
        return m0.rating - m1.rating, m0.ci_low - m1.ci_high, m0.ci_high - m1.ci_low

    weighted, low, high = gap([1 / chance[k] for k in shown])
    assert abs(weighted - truth) < 40 and low <= truth <= high, (weighted, truth)
    unweighted, _, _ = gap([])
    assert unweighted - truth > 80, (unweighted, truth)  # the tilt the weights undo


def test_judge_uncertain_draws_keep_the_interval_honest_and_narrow_it_where_battles_are_plain() -> None:
    """The arena's own draws (``--pairing judge-uncertain``'s formulas) on simulated batches of a probability
    judge: the weighted assisted interval covers the humans' truth, and where most battles are plain (one side
    collapsed) it is narrower after 80 votes than with 80 chosen at random (bench_assisted reports the sizes)."""
    drawn = chosen_arenas("judge-uncertain", 120, clear=0.6)
    coverage = float(np.mean([covered for run in drawn for covered in run.covered]))
    assert coverage >= 0.93, coverage
    at_random = chosen_arenas("random", 120, clear=0.6)
    assert np.mean([run.width for run in drawn]) < 0.97 * np.mean([run.width for run in at_random])
    assert np.mean([run.mean_weight for run in drawn]) > 1.3  # sure battles were shown less often
