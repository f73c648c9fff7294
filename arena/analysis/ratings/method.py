"""The rating-method seam: what a way of turning votes into ratings takes and gives back.

``compute_leaderboard`` does everything every method shares (which votes count, the tally, the cells, the
prompt clusters, Elo, the scoreboard, Rank(UB), the neighbours); a ``RatingModel`` does only the fit: the
point ratings and their bootstrap (or other) draws. Plain Bradley-Terry (``bt.BradleyTerry``) and the
style-controlled fit (``styled.StyleControlled``) are two models; a new one is one class here plus its
registration (``arena.reports.methods``), after arena-rank's ``RatingSystem`` with one class per model.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Protocol

from arena.analysis.quantiles import linear_quantiles
from arena.analysis.ratings.columns import IntArray, VoteColumns
from arena.analysis.ratings.data import Cells, FloatArray, PromptCells
from arena.analysis.style import StyleCoefficient


@dataclass(frozen=True)
class FitInput:
    """The rated votes as every method gets them."""

    rated: VoteColumns
    """The battles that count (a verdict other than skip, two different contestants), in vote order; their
    contestants are ``labels``."""
    kept: IntArray
    """Each rated battle's position among the outcomes ``compute_leaderboard`` was given: per-battle data
    a method holds (style differences, a judge's verdicts) lines up through it."""
    cells: Cells
    by_prompt: PromptCells | None
    """Set when the intervals resample whole prompts (enough prompts to); None: resample battles."""

    @property
    def labels(self) -> tuple[str, ...]:
        return self.cells.labels


class MethodFacts(Protocol):
    """What a method has to say about its fit beside the ratings (a judge-assisted fit: the judge's help)."""

    def lines(self) -> list[str]:
        """Lines for the board's notes (plain text; labels in them are untrusted)."""
        ...

    def to_dict(self) -> dict[str, object]: ...


@dataclass(frozen=True)
class Fitted:
    """Ratings in points (in ``FitInput.labels`` order), their interval bounds, the draws the bounds come
    from (None without rounds), when the method took style out its coefficients, and what else it says."""

    point: FloatArray
    low: FloatArray
    high: FloatArray
    draws: FloatArray | None
    style: list[StyleCoefficient] | None = None
    facts: MethodFacts | None = None


MIN_PROMPTS_TO_RESAMPLE = 5
"""Below this many prompts, resampling prompts says nothing (with one prompt every round is the same):
the intervals then resample battles, and the board says they describe these prompts only."""


class RatingModel(Protocol):
    """A way to fit ratings to the rated votes."""

    @property
    def name(self) -> str:
        """Its name on the command line and in ``--json`` (``vocab.RATING_METHODS``)."""
        ...

    def prompts_needed(self, contestants: int) -> int:
        """The fewest prompts its intervals can be drawn over, prompts as clusters; with fewer they are drawn
        over battles (``MIN_PROMPTS_TO_RESAMPLE`` for a bootstrap; more for a cluster sandwich)."""
        ...

    def fit(
        self,
        data: FitInput,
        *,
        rounds: int,
        seed: int,
        anchor: tuple[str, float] | None,
        confidence: float,
    ) -> Fitted:
        """Point ratings and, with ``rounds`` > 0, ``rounds`` draws of them (resampled over prompts where
        ``data.by_prompt`` is set), anchored as asked."""
        ...


def with_interval(
    point: FloatArray,
    draws: FloatArray | None,
    confidence: float,
    style: list[StyleCoefficient] | None = None,
    facts: MethodFacts | None = None,
) -> Fitted:
    """A ``Fitted`` whose bounds are the draws' central ``confidence`` quantiles (the point without draws)."""
    if draws is None:
        return Fitted(point, point.copy(), point.copy(), None, style, facts)
    alpha = (1 - confidence) / 2
    low, high = linear_quantiles(draws, [alpha, 1 - alpha])
    return Fitted(point, low, high, draws, style, facts)


def small_cluster_factor(clusters: int, confidence: float = 0.95) -> float:
    """How much wider a bootstrap over ``clusters`` prompts must be to hold its level with few of them.

    Resampling M prompts takes their own spread for the truth: a jackknife over clusters (the CR3 small-
    sample correction, which also covers prompts with unequal numbers of votes) is about M / (M - 1) times
    wider; and its quantiles are normal ones where, with M prompts, the spread is itself uncertain: Student's t
    with M - 1 degrees of freedom. With 20-30 prompts the plain bootstrap called one of two equal models
    better in 7.2-7.4% of single looks against 5% promised; spread by M / (M - 1) t / z, 4.5-5.6%
    (``bench/bench_sequential.py``, ``tests/unit/test_sequential.py``). 1 for many prompts."""
    if clusters < 2:
        return 1.0
    z = _normal_quantile(0.5 + confidence / 2)
    return clusters / (clusters - 1) * _t_quantile(z, clusters - 1) / z


def _normal_quantile(p: float) -> float:
    """The standard normal quantile (the standard library's)."""
    return float(statistics.NormalDist().inv_cdf(p))


def _t_quantile(z: float, df: int) -> float:
    """Student's t quantile from the normal one (the Cornish-Fisher expansion in 1 / df): within 0.3% from 4
    degrees of freedom up, where a bootstrap over prompts starts (``MIN_PROMPTS_TO_RESAMPLE``), and 1% at 3."""
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )


def widened(fitted: Fitted, factor: float, confidence: float) -> Fitted:
    """``fitted`` with its draws spread ``factor`` times farther from the point (the intervals follow)."""
    if fitted.draws is None or factor == 1.0:
        return fitted
    draws = fitted.point + factor * (fitted.draws - fitted.point)
    return with_interval(fitted.point, draws, confidence, fitted.style, fitted.facts)
