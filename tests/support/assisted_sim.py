"""Simulated arenas for judge-assisted ratings: N battles judged by an automatic judge, n of them also by a
person, on a few dozen prompts; the truth is the humans' Bradley-Terry ratings. Shared by
``tests/unit/test_assisted.py`` and ``bench/bench_assisted.py``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arena.analysis.ratings import Outcome, compute_leaderboard
from arena.analysis.ratings.assisted import AssistedBT, AssistedFacts, Judged, Shared

TRUE = (1100.0, 1050.0, 1000.0, 950.0)
LABELS = tuple(f"m{i}" for i in range(len(TRUE)))
JUDGES = ("good", "useless", "left", "favours m0")
"""good: agrees with the person 90% of the time; useless: a coin; left: picks the left answer half of the
time, else agrees (it prefers one side); favours m0: always picks m0 when it plays, else good."""


@dataclass(frozen=True)
class Arena:
    covered: list[bool]
    """Each contestant: whether the assisted 95% interval holds its true rating."""
    width: float
    """Mean interval width, assisted."""
    human_width: float
    """Mean interval width of the humans-only board on the same votes."""
    facts: AssistedFacts


def _judge(kind: str, human: float, left: int, right: int, rng: np.random.Generator) -> float:
    if kind == "good":
        return human if rng.random() < 0.9 else 1 - human
    if kind == "useless":
        return float(rng.random() < 0.5)
    if kind == "left":
        return 1.0 if rng.random() < 0.5 else human
    if left == 0 or right == 0:  # favours m0
        return 1.0 if left == 0 else 0.0
    return human if rng.random() < 0.9 else 1 - human


def arena(
    kind: str, rng: np.random.Generator, seed: int, *, judged: int = 2000, humans: int = 120, prompts: int = 40,
    rounds: int = 200,
) -> Arena:  # fmt: skip
    left, right, human, judge, prompt = [], [], [], [], []
    for _ in range(judged):
        a, b = (int(x) for x in rng.choice(len(TRUE), 2, replace=False))
        share = 1 / (1 + 10 ** ((TRUE[b] - TRUE[a]) / 400))
        vote = 1.0 if rng.random() < share else 0.0
        left.append(LABELS[a])
        right.append(LABELS[b])
        human.append(vote)
        judge.append(_judge(kind, vote, a, b, rng))
        prompt.append(f"p{rng.integers(prompts)}")
    people = [int(k) for k in rng.choice(judged, humans, replace=False)]
    outcomes = [Outcome(left[k], right[k], "left" if human[k] == 1 else "right", prompt[k]) for k in people]
    shared = Shared(
        [left[k] for k in people],
        [right[k] for k in people],
        [human[k] for k in people],
        [judge[k] for k in people],
        [prompt[k] for k in people],
        [str(k) for k in people],
    )
    model = AssistedBT("auto:sim", Judged(left, right, judge, prompt, [str(k) for k in range(judged)]), shared)
    board = compute_leaderboard(outcomes, rounds=rounds, seed=seed, model=model)
    alone = compute_leaderboard(outcomes, rounds=rounds, seed=seed)
    truth = dict(zip(LABELS, np.array(TRUE) - np.mean(TRUE) + 1000, strict=True))
    assert isinstance(board.facts, AssistedFacts)
    return Arena(
        covered=[r.ci_low <= truth[r.contestant] <= r.ci_high for r in board.ratings],
        width=float(np.mean([r.ci_high - r.ci_low for r in board.ratings])),
        human_width=float(np.mean([r.ci_high - r.ci_low for r in alone.ratings])),
        facts=board.facts,
    )


def arenas(kind: str, runs: int, seed: int = 11, **options: int) -> list[Arena]:
    rng = np.random.default_rng(seed)
    return [arena(kind, rng, run, **options) for run in range(runs)]
