"""Leaderboard speed: 100,000 battles among 20 contestants with 1,000 bootstrap rounds (target < 3 s),
raw and style-controlled (target < 1 s for the style-controlled fit with its 1,000 joint draws).

Times the whole ``compute_leaderboard``: cells (or the style design matrix), point fit, bootstrap (or the
sandwich draws), Elo, tallies, scoreboard, matrices, neighbours' sureness.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from arena.ratings import Outcome, compute_leaderboard
from arena.style import StyleCounts
from arena.verdicts import as_verdict

TARGET_S = 3.0
STYLE_TARGET_S = 1.0


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


def with_style(outcomes: list[Outcome], seed: int = 1) -> list[Outcome]:
    """The same battles with made-up answer styles (length, headers, lists, bold) on both sides."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson([200.0, 1.0, 4.0, 2.0], size=(len(outcomes), 2, 4))
    return [
        Outcome(o.left, o.right, o.verdict, StyleCounts(*map(int, counts[i, 0])), StyleCounts(*map(int, counts[i, 1])))
        for i, o in enumerate(outcomes)
    ]


def _timed(outcomes: list[Outcome], repeats: int, style_control: bool) -> tuple[list[float], float]:
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        board = compute_leaderboard(outcomes, rounds=1000, seed=0, style_control=style_control)
        timings.append(time.perf_counter() - start)
    return timings, max(r.ci_high - r.ci_low for r in board.ratings)


def run(repeats: int = 3) -> str:
    outcomes = make_outcomes()
    lines = [
        "## Leaderboard: 100,000 battles, 20 contestants, 1,000 bootstrap rounds\n",
        "| fit | runs | best | median | target | widest 95% CI |",
        "|---|---|---|---|---|---|",
    ]
    for name, data, style_control, target in (
        ("raw", outcomes, False, TARGET_S),
        ("style-controlled", with_style(outcomes), True, STYLE_TARGET_S),
    ):
        timings, widest = _timed(data, repeats, style_control)
        median = statistics.median(timings)
        verdict = "meets" if median < target else "MISSES"
        lines.append(
            f"| {name} | {repeats} | {min(timings):.2f} s | {median:.2f} s | < {target:.0f} s ({verdict}) "
            f"| {widest:.1f} points |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
