"""Small-sample statistics shared by reports and leaderboards.

Every rate the arena shows carries an interval, because 30 prompts resolve a 3x effect, not a 3-point one.
"""

from __future__ import annotations

import math


def wilson_interval(successes: float, trials: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a proportion; well-behaved at 0, 1 and tiny samples (unlike p +- z*se).

    ``successes`` may be fractional (ties counted as half a win). With no trials the interval is [0, 1].
    """
    if trials <= 0:
        return (0.0, 1.0)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def intervals_overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """True when two intervals share any point: the difference is inside the noise."""
    return a[0] <= b[1] and b[0] <= a[1]
