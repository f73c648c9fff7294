"""Honest intervals when prompts repeat (``ratings.data.PromptCells``, ``ratings.board``): a local arena judges
few prompts many times, so the votes on one prompt are a cluster, not independent votes.

Simulated judges with a prompt x model effect (a model that is good at one prompt wins that prompt's battles):
the prompt-resampling interval covers the true rating at its promised rate; the battle bootstrap, as a
documented contrast, does not. With one battle per prompt the two are the same draw.
"""

from __future__ import annotations

import itertools
import math
import random
from pathlib import Path

import numpy as np
import pytest

from arena.analysis.ratings import Outcome, StyleColumns, compute_leaderboard
from arena.analysis.ratings.board import between_prompt_variance
from arena.analysis.ratings.columns import VoteColumns
from arena.analysis.ratings.data import Cells, PromptCells, tally
from arena.analysis.ratings.method import small_cluster_factor
from arena.analysis.style import StyleCounts, fit_style_controlled, standardize
from tests.support.helpers import run
from tests.support.votes import add_votes

TRUE = {"m0": 1000.0, "m1": 1060.0, "m2": 940.0, "m3": 1000.0}
LN10_OVER_400 = math.log(10) / 400


def arena_with_prompt_effects(
    prompts: int, battles_per_prompt: int, effect_sd: float, rng: random.Random, first_prompt: int = 0
) -> list[Outcome]:
    """Random pairs on each prompt; each model has its own advantage on each prompt (sd ``effect_sd`` in
    logits), so a prompt's battles lean the same way."""
    labels = list(TRUE)
    outcomes = []
    for number in range(first_prompt, first_prompt + prompts):
        advantage = {label: rng.gauss(0.0, effect_sd) for label in labels}
        for _ in range(battles_per_prompt):
            left, right = rng.sample(labels, 2)
            logit = LN10_OVER_400 * (TRUE[left] - TRUE[right]) + advantage[left] - advantage[right]
            verdict = "left" if rng.random() < 1 / (1 + math.exp(-logit)) else "right"
            outcomes.append(Outcome(left, right, verdict, f"p{number}"))
    return outcomes


def true_ratings(effect_sd: float) -> dict[str, float]:
    """What the ratings converge to over the whole population of prompts: a fit on 3,000 of them."""
    population = arena_with_prompt_effects(3000, 40, effect_sd, random.Random(12345), first_prompt=10**6)
    return {r.contestant: r.rating for r in compute_leaderboard(population, rounds=0).ratings}


def coverage(runs: int, prompts: int, per_prompt: int, effect_sd: float, cluster: str) -> float:
    truth = true_ratings(effect_sd)
    covered = checked = 0
    for run_number in range(runs):
        outcomes = arena_with_prompt_effects(prompts, per_prompt, effect_sd, random.Random(run_number))
        board = compute_leaderboard(outcomes, rounds=200, seed=run_number, cluster=cluster)  # type: ignore[arg-type]
        assert board.cluster == cluster
        for rating in board.ratings:
            covered += rating.ci_low <= truth[rating.contestant] <= rating.ci_high
            checked += 1
    return covered / checked


def test_the_prompt_resampling_interval_covers_the_truth_and_the_battle_bootstrap_does_not() -> None:
    """24 prompts x 60 battles, a prompt x model effect of 0.8 logits (the issue's simulation), 200 runs."""
    by_prompt = coverage(200, 24, 60, 0.8, "prompt")
    by_battle = coverage(200, 24, 60, 0.8, "battle")
    assert by_prompt >= 0.90, by_prompt
    assert by_battle < 0.80, by_battle  # the contrast: votes on one prompt are not independent


def test_with_one_battle_per_prompt_both_bootstraps_are_the_same_draw() -> None:
    outcomes = arena_with_prompt_effects(1500, 1, 0.8, random.Random(3))
    by_prompt = compute_leaderboard(outcomes, rounds=300, seed=5, cluster="prompt")
    by_battle = compute_leaderboard(outcomes, rounds=300, seed=5, cluster="battle")
    assert by_prompt.cluster == "prompt" and by_prompt.prompts == 1500
    factor = small_cluster_factor(1500)  # the same draw, spread by the small-cluster correction (1.0006 here)
    for prompted, battled in zip(by_prompt.ratings, by_battle.ratings, strict=True):
        assert prompted.ci_high - prompted.rating == pytest.approx(factor * (battled.ci_high - battled.rating))
        assert prompted.rating - prompted.ci_low == pytest.approx(factor * (battled.rating - battled.ci_low))


def test_without_a_prompt_effect_resampling_prompts_costs_little_width() -> None:
    outcomes = arena_with_prompt_effects(60, 4, 0.0, random.Random(4))
    widths = {}
    for cluster in ("prompt", "battle"):
        board = compute_leaderboard(outcomes, rounds=600, seed=1, cluster=cluster)  # type: ignore[arg-type]
        widths[cluster] = np.mean([r.ci_high - r.ci_low for r in board.ratings])
    assert 0.85 < widths["prompt"] / widths["battle"] < 1.2, widths


def test_resampling_prompts_takes_each_prompts_battles_whole() -> None:
    outcomes = [Outcome("a", "b", "left", "p1")] * 3 + [Outcome("a", "b", "right", "p2")] * 5
    labels = ["a", "b"]
    cells = Cells.from_tally(tally(outcomes), labels)
    grouped = PromptCells.of(VoteColumns.of(outcomes), cells)
    assert grouped.prompts == 2 and not grouped.singletons
    counts = grouped.resample(500, np.random.default_rng(0))
    won, lost = counts[:, 0], counts[:, 1]  # cell 0: a beat b; cell 1: b beat a
    assert set(zip(won.tolist(), lost.tolist(), strict=True)) == {(6, 0), (3, 5), (0, 10)}  # whole prompts only


def test_few_prompts_fall_back_to_battles_and_say_so() -> None:
    outcomes = arena_with_prompt_effects(3, 40, 0.8, random.Random(5))
    board = compute_leaderboard(outcomes, rounds=100)
    assert board.prompts == 3 and board.cluster == "battle" and board.cluster_asked == "prompt"


def test_the_leaderboard_says_what_its_intervals_cover(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    add_votes(db, [("a", "b", "left"), ("a", "b", "right"), ("b", "a", "left")] * 10)
    text = run("leaderboard", "--db", str(db), "--rounds", "50").stdout
    assert "30 battles on 2 prompts" in " ".join(text.split())  # tests.support.votes alternates two prompts
    assert "too few to resample" in text and "describe these prompts" in " ".join(text.split())
    battle = run("leaderboard", "--db", str(db), "--rounds", "50", "--cluster", "battle", "--json").stdout
    assert '"ci_resamples": "battle"' in battle and '"prompts_on_board": 2' in battle


def test_more_votes_on_the_same_prompts_cannot_separate_a_pair_that_splits_by_prompt() -> None:
    """a wins every vote on four prompts and loses every vote on two: its lead is real on these prompts,
    but the prompts disagree so much that only more prompts can tell whether it holds."""
    outcomes = []
    for number in range(6):
        verdict = "left" if number < 4 else "right"
        outcomes += [Outcome("a", "b", verdict, f"p{number}")] * 10  # type: ignore[arg-type]
    board = compute_leaderboard(outcomes, rounds=400)
    (neighbour,) = board.neighbours
    assert board.cluster == "prompt" and neighbour.prompts == 6
    assert neighbour.votes_to_separate is None and neighbour.prompts_to_separate is not None
    assert neighbour.prompts_to_separate > 6
    assert "more prompts needed" in neighbour.describe()
    assert between_prompt_variance([(10, 10)] * 4 + [(0, 10)] * 2) > 0.2
    assert between_prompt_variance([(5, 10)] * 6) == 0.0  # every prompt the same: no floor


def test_the_cluster_robust_style_sandwich_matches_a_refitting_prompt_bootstrap() -> None:
    """The style fit's draws stand in for refitting every round: with prompts as clusters their spread must
    be a prompt bootstrap's, which is wider than the battle sandwich when prompts lean."""
    rng = random.Random(7)
    outcomes = arena_with_prompt_effects(40, 30, 0.8, rng)
    lengths = [
        (StyleCounts(rng.uniform(50, 300), 0, 0, 0), StyleCounts(rng.uniform(50, 300), 0, 0, 0)) for _ in outcomes
    ]
    labels = sorted(TRUE)
    index = {label: i for i, label in enumerate(labels)}
    left = np.array([index[o.left] for o in outcomes])
    right = np.array([index[o.right] for o in outcomes])
    score = np.array([1.0 if o.verdict == "left" else 0.0 for o in outcomes])
    differences = standardize(StyleColumns.from_counts([a for a, _ in lengths], [b for _, b in lengths]).raw)
    prompt_of = np.array([int(o.prompt[1:]) for o in outcomes])
    clustered = fit_style_controlled(left, right, score, differences, 4, 1e-6, rounds=2000, seed=0, clusters=prompt_of)
    naive = fit_style_controlled(left, right, score, differences, 4, 1e-6, rounds=2000, seed=0)
    draws = np.random.default_rng(1)
    refits = []
    members = [np.flatnonzero(prompt_of == p) for p in range(40)]
    for _ in range(150):
        pick = np.concatenate([members[p] for p in draws.integers(0, 40, 40)])
        again = fit_style_controlled(left[pick], right[pick], score[pick], differences[pick], 4, 1e-6, rounds=0, seed=0)
        refits.append(again.beta)
    bootstrap_sd = np.array(refits).std(axis=0)
    sandwich_sd = clustered.beta_draws.std(axis=0)
    ratio = sandwich_sd / bootstrap_sd
    assert np.all((ratio > 0.75) & (ratio < 1.33)), (sandwich_sd, bootstrap_sd)
    assert np.all(naive.beta_draws.std(axis=0) < 0.8 * sandwich_sd)  # the naive one is visibly too narrow


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_pairs_per_prompt_record_is_counted_from_the_votes(seed: int) -> None:
    """The sequential calls read each pair's (wins, decisive votes) per prompt, grouped for all pairs in one
    pass: the same as counting them vote by vote (ties and both-bad left out, prompts in order)."""
    rng = random.Random(seed)
    labels = ["a", "b", "c", "d"][: 2 + seed]
    outcomes = []
    for _ in range(300):
        left, right = rng.sample(labels, 2)
        outcomes.append(Outcome(left, right, rng.choice(["left", "right", "tie", "both_bad"]), f"p{rng.randrange(9)}"))
    cells = Cells.from_tally(tally(outcomes), labels)
    by_prompt = PromptCells.of(VoteColumns.of(outcomes), cells)
    prompt_order = list(dict.fromkeys(outcome.prompt for outcome in outcomes))
    for i, j in itertools.combinations(range(len(labels)), 2):
        counted: dict[str, list[int]] = {}
        for outcome in outcomes:
            if {outcome.left, outcome.right} == {labels[i], labels[j]} and outcome.verdict in ("left", "right"):
                winner = outcome.left if outcome.verdict == "left" else outcome.right
                record = counted.setdefault(outcome.prompt, [0, 0])
                record[0] += winner == labels[i]
                record[1] += 1
        expected = [tuple(counted[p]) for p in prompt_order if p in counted]
        assert by_prompt.pair_records(cells, i, j) == expected
    empty = PromptCells.of(
        VoteColumns.of([Outcome("a", "b", "tie", "p")]),
        Cells.from_tally(tally([Outcome("a", "b", "tie", "p")]), ["a", "b"]),
    )
    assert empty.pair_records(Cells.from_tally(tally([Outcome("a", "b", "tie", "p")]), ["a", "b"]), 0, 1) == []
