"""Small-sample statistics shared by reports and leaderboards.

Every rate the arena shows carries an interval, because 30 prompts resolve a 3x effect, not a 3-point one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def wilson_interval(successes: float, trials: float, z: float = 1.96) -> tuple[float, float]:
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


def clustered_interval(groups: Sequence[tuple[float, int]], z: float = 1.96) -> tuple[float, float]:
    """A Wilson interval for a proportion whose trials come in clusters (``groups``: (successes, trials) per
    cluster, e.g. a prompt's several answers), honest when a cluster's trials lean together.

    The cluster-robust variance of the pooled rate (the ratio estimator's, with the usual M / (M - 1)
    correction) over its binomial variance is the design effect; the interval is Wilson's on the effective
    number of trials, trials / design effect (never more than the trials). Where every trial succeeded (or
    none did) there is no spread to measure the design effect by, and each cluster counts as one trial (the
    cautious end: a prompt's answers might all be alike). With one trial per cluster, or a single cluster,
    it is the plain Wilson interval.
    """
    successes = sum(hits for hits, _ in groups)
    trials = sum(n for _, n in groups)
    clusters = sum(1 for _, n in groups if n > 0)
    if trials <= 0 or clusters < 2 or clusters == trials:
        return wilson_interval(successes, trials, z)
    rate = successes / trials
    binomial = rate * (1 - rate) / trials
    if binomial <= 0:  # all hits or none: no spread to measure the leaning by; assume the worst, one per cluster
        return wilson_interval(rate * clusters, clusters, z)
    robust = clusters / (clusters - 1) * sum((hits - rate * n) ** 2 for hits, n in groups) / trials**2
    effective = trials / max(1.0, robust / binomial)
    return wilson_interval(rate * effective, effective, z)


def intervals_overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """True when two intervals share any point: the difference is inside the noise."""
    return a[0] <= b[1] and b[0] <= a[1]
