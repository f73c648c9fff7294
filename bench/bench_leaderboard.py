"""Leaderboard speed: 100,000 battles among 20 contestants with 1,000 bootstrap rounds (target < 3 s).

Times the whole ``compute_leaderboard``: cells, point fit, bootstrap, Elo, tallies, scoreboard, matrices.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from arena.ratings import Outcome, compute_leaderboard
from arena.verdicts import as_verdict

TARGET_S = 3.0


def make_outcomes(battles: int = 100_000, contestants: int = 20, seed: int = 0) -> list[Outcome]:
    rng = np.random.default_rng(seed)
    strength = rng.normal(1000, 150, contestants)
    labels = [f"model-{i:02d}" for i in range(contestants)]
    left = rng.integers(0, contestants, battles)
    right = (left + rng.integers(1, contestants, battles)) % contestants
    p_left = 1 / (1 + 10 ** ((strength[right] - strength[left]) / 400))
    u = rng.random(battles)
    verdicts = np.where(
        u < 0.08,
        "tie",
        np.where(u < 0.12, "both_bad", np.where(rng.random(battles) < p_left, "left", "right")),
    )
    return [Outcome(labels[a], labels[b], as_verdict(str(v))) for a, b, v in zip(left, right, verdicts, strict=True)]


def run(repeats: int = 3) -> str:
    outcomes = make_outcomes()
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        board = compute_leaderboard(outcomes, rounds=1000, seed=0)
        timings.append(time.perf_counter() - start)
    best, median = min(timings), statistics.median(timings)
    widest = max(r.ci_high - r.ci_low for r in board.ratings)
    verdict = "meets" if median < TARGET_S else "MISSES"
    return (
        "## Leaderboard: 100,000 battles, 20 contestants, 1,000 bootstrap rounds\n\n"
        f"| runs | best | median | target | widest 95% CI |\n|---|---|---|---|---|\n"
        f"| {repeats} | {best:.2f} s | {median:.2f} s | < {TARGET_S:.0f} s ({verdict}) "
        f"| {widest:.1f} points |\n"
    )


if __name__ == "__main__":
    print(run())
