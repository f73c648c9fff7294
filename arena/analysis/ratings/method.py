"""The rating-method seam: what a way of turning votes into ratings takes and gives back.

``compute_leaderboard`` does everything every method shares (which votes count, the tally, the cells, the
prompt clusters, Elo, the scoreboard, Rank(UB), the neighbours); a ``RatingModel`` does only the fit: the
point ratings and their bootstrap (or other) draws. Plain Bradley-Terry (``bt.BradleyTerry``) and the
style-controlled fit (``styled.StyleControlled``) are two models; a new one is one class here plus its
registration (``arena.reports.methods``), after arena-rank's ``RatingSystem`` with one class per model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from arena.analysis.quantiles import linear_quantiles
from arena.analysis.ratings.data import Cells, FloatArray, Outcome, PromptCells
from arena.analysis.style import StyleCoefficient


@dataclass(frozen=True)
class FitInput:
    """The rated votes as every method gets them."""

    rated: Sequence[Outcome]
    """The battles that count (a verdict other than skip, two different contestants), in vote order."""
    kept: Sequence[int]
    """Each rated battle's position among the outcomes ``compute_leaderboard`` was given: per-battle data
    a method holds (style differences, a judge's verdicts) lines up through it."""
    cells: Cells
    by_prompt: PromptCells | None
    """Set when the intervals resample whole prompts (enough prompts to); None: resample battles."""

    @property
    def labels(self) -> tuple[str, ...]:
        return self.cells.labels


@dataclass(frozen=True)
class Fitted:
    """Ratings in points (in ``FitInput.labels`` order), their interval bounds, the draws the bounds come
    from (None without rounds) and, when the method took style out, its coefficients."""

    point: FloatArray
    low: FloatArray
    high: FloatArray
    draws: FloatArray | None
    style: list[StyleCoefficient] | None = None


class RatingModel(Protocol):
    """A way to fit ratings to the rated votes."""

    @property
    def name(self) -> str:
        """Its name on the command line and in ``--json`` (``vocab.RATING_METHODS``)."""
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
    point: FloatArray, draws: FloatArray | None, confidence: float, style: list[StyleCoefficient] | None = None
) -> Fitted:
    """A ``Fitted`` whose bounds are the draws' central ``confidence`` quantiles (the point without draws)."""
    if draws is None:
        return Fitted(point, point.copy(), point.copy(), None, style)
    alpha = (1 - confidence) / 2
    low, high = linear_quantiles(draws, [alpha, 1 - alpha])
    return Fitted(point, low, high, draws, style)
