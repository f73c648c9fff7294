"""Which stored battles a person should judge when an automatic judge has judged them all: active inference.

The assisted board (``assisted.py``) rectifies the judge by its errors on the battles a person also judged.
Its interval narrows fastest when the people judge the battles where the judge's verdict is most likely to be
wrong: where the judge is unsure, or where it disagrees with what the board says about the pair. Choosing
those *deterministically* would bias the board (the person would never see a battle the judge is sure of, so
the judge's errors there would never be measured). So each battle is shown with a known probability, at
least ``MIN_SHOW``, higher the larger the judge's expected error, and the vote on it is weighted by one over
that probability (inverse-probability weighting; active statistical inference, Zrnic & Candes 2024). The
weighted rectifier's expectation is the same as with every battle shown, whatever the judge: the board stays
unbiased, and the interval is narrower when the judge's errors concentrate where it said it was unsure.

The sampling probability is proportional to the square root of the expected squared gap between the
judge's score and the person's verdict (the rectifier's variance; the optimal rule in that paper), scaled so
the most doubtful pending battle is always shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from arena.analysis.ratings.data import FloatArray

Score = TypeVar("Score", float, FloatArray)
"""One battle's figure, or an array of them (the bench draws thousands): every formula here takes either."""

MIN_SHOW = 0.2
"""The lowest chance a battle is shown: its vote then stands for five; lower would make single votes swing
the board (the weight's variance grows as one over this)."""

BINS = 5
PRIOR_BATTLES = 4.0
"""How many battles' worth the prior of a score bin's calibration weighs before the people's votes there."""
CONFIDENT = 0.9
"""The prior trusts a judge's verdict at most this much (a hard verdict "A" reads as 90% A) until the people's
votes on battles it also judged say how often it is right."""


@dataclass(frozen=True)
class Calibration:
    """How often the people agreed with the judge, by the judge's score for the left answer (fifths of
    [0, 1]): the people's mean verdict in each fifth, shrunk toward the judge's own score where few voted."""

    observed: tuple[tuple[float, float], ...] = ((0.0, 0.0),) * BINS
    """(summed human verdicts, battles) per fifth of the judge's score range."""

    @classmethod
    def of(cls, judge: Sequence[float], human: Sequence[float], weight: Sequence[float] | None = None) -> Calibration:
        """From the battles both judged: the judge's score for the left answer, the person's (1, 0.5, 0),
        and each vote's weight (one over the chance it was shown; all ones when not given)."""
        weights = np.ones(len(judge)) if weight is None else np.asarray(weight, dtype=np.float64)
        bins = _bins(np.asarray(judge, dtype=np.float64))
        totals = np.bincount(bins, weights * np.asarray(human, dtype=np.float64), minlength=BINS)
        counts = np.bincount(bins, weights, minlength=BINS)
        return cls(tuple((float(total), float(count)) for total, count in zip(totals, counts, strict=True)))

    def person(self, judge_score: Score) -> Score:
        """The chance a person gives the left answer the win, as the judge's score predicts it."""
        observed = np.array(self.observed)
        bins = _bins(np.asarray(judge_score, dtype=np.float64))
        prior = np.clip(judge_score, 1 - CONFIDENT, CONFIDENT)
        found = (observed[bins, 0] + PRIOR_BATTLES * prior) / (observed[bins, 1] + PRIOR_BATTLES)
        return found if isinstance(judge_score, np.ndarray) else float(found)  # type: ignore[no-any-return]


def _bins(scores: FloatArray) -> npt.NDArray[np.int64]:
    """Each score's fifth of [0, 1]."""
    return np.clip((scores * BINS).astype(np.int64), 0, BINS - 1)


def expected_error(judge_score: Score, person: Score) -> Score:
    """The expected squared gap between the judge's score and a person's verdict that is 1 with chance
    ``person`` (else 0): the variance the person's vote on this battle removes from the rectifier."""
    return person * (1 - judge_score) ** 2 + (1 - person) * judge_score**2


def combined(calibrated: Score, board: Score | None) -> Score:
    """The chance a person prefers the left answer, from the calibrated judge and the board's chance for the
    pair (None: the board does not rate both yet), added as evidence in log-odds: a board at 50% changes
    nothing, a board sure of the other side pulls a sure judge back toward doubt."""
    if board is None:
        return calibrated
    odds = _logit(calibrated) + _logit(board)
    found = 1 / (1 + np.exp(-odds))
    return found if isinstance(found, np.ndarray) else float(found)  # type: ignore[return-value]


def _logit(p: Score) -> Score:
    clipped = np.clip(p, 0.02, 0.98)
    return np.log(clipped / (1 - clipped))  # type: ignore[no-any-return]


def show_probability(error: float, largest: float) -> float:
    """The chance a battle with this expected error is shown, the pending battles' largest being ``largest``:
    proportional to the square root of the error, 1 for the largest, at least ``MIN_SHOW``."""
    if largest <= 0:
        return 1.0
    return float(min(1.0, max(MIN_SHOW, (max(error, 0.0) / largest) ** 0.5)))
