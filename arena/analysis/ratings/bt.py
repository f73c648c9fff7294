"""The Bradley-Terry model: the fit, the rating scale, the win probability it implies, and online Elo.

Bradley-Terry is fitted by maximum likelihood on all battles at once, so the order of votes does not
matter (online Elo, kept as a "live" secondary column, does depend on order). Ties count as half a win for
each side (``vocab.SCORE``); ``both_bad`` is a tie for the rating.

A very weak Gaussian prior on the log-strengths (sd 1000 rating points) keeps the fit finite when a
contestant never lost or never won, where the unpenalized maximum likelihood is infinite; such ratings are
flagged, since they are bounds more than estimates. With real data the prior moves ratings by a small
fraction of a point.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from arena.analysis.ratings.columns import VoteColumns
from arena.analysis.ratings.data import Outcome
from arena.analysis.ratings.method import MIN_PROMPTS_TO_RESAMPLE, FitInput, Fitted, with_interval

SCALE = 400.0
BASE = 10.0
INITIAL_RATING = 1000.0
PRIOR_SD_POINTS = 1000.0

FloatArray = npt.NDArray[np.float64]
POINTS_PER_NAT = SCALE / math.log(BASE)


def win_probability(rating_a: float, rating_b: float) -> float:
    """The chance that a beats b implied by their ratings: the logistic of the model every fit here uses."""
    return 1.0 / (1.0 + math.exp((rating_b - rating_a) / POINTS_PER_NAT))


def weak_prior_precision() -> float:
    """The precision (in nats^-2) of the weak prior: sd ``PRIOR_SD_POINTS`` rating points."""
    sd_nats = PRIOR_SD_POINTS / POINTS_PER_NAT
    return 1.0 / (sd_nats * sd_nats)


def fit_bradley_terry(scores: FloatArray, prior_precision: float | None = None) -> FloatArray:
    """Log-strengths (natural units) maximizing the penalized BT likelihood, for a batch of data sets.

    ``scores[r, i, j]`` is what i scored against j in data set r (1 per win, 0.5 per tie). Returns an array
    of shape (r, n) with each row summing to zero (the prior's centre). Newton steps are clipped so a
    contestant far from the rest cannot make an iteration overshoot.
    """
    precision = weak_prior_precision() if prior_precision is None else prior_precision
    rounds, n, _ = scores.shape
    games = scores + scores.transpose(0, 2, 1)
    beta = np.zeros((rounds, n))
    eye = np.eye(n)
    for _ in range(200):
        diff = beta[:, :, None] - beta[:, None, :]
        p = 1.0 / (1.0 + np.exp(-diff))
        gradient = (scores - games * p).sum(axis=2) - precision * beta
        weights = games * p * (1.0 - p)
        hessian = weights - eye * (weights.sum(axis=2)[:, :, None] + precision)
        if precision == 0:
            # without a prior the likelihood is flat along "add c to everyone": pin the mean to zero
            hessian = hessian - 1.0 / n
        step = np.linalg.solve(hessian, gradient[:, :, None])[:, :, 0]
        largest = np.abs(step).max(axis=1, keepdims=True)
        step = step * np.minimum(1.0, 2.0 / np.maximum(largest, 1e-300))
        beta = beta - step
        if largest.max() < 1e-9:
            break
    result: FloatArray = beta - beta.mean(axis=1, keepdims=True)
    return result


def elo_ratings(votes: VoteColumns | Sequence[Outcome], k: float = 32.0) -> dict[str, float]:
    """Online Elo in the given order: each battle moves both ratings by K times the surprise.

    The loop runs over the votes' integer codes and a plain list of ratings, the logistic inlined (0.03 s
    for 100,000 battles here; dict lookups by label and a call per battle cost three times as much)."""
    columns = VoteColumns.of(votes)
    ratings = [INITIAL_RATING] * len(columns.contestants)
    exp, per_nat = math.exp, POINTS_PER_NAT  # win_probability, inlined: the loop is 100,000 steps long
    for left, right, score in zip(
        columns.left.tolist(), columns.right.tolist(), columns.scores().tolist(), strict=True
    ):
        ra = ratings[left]
        rb = ratings[right]
        surprise = k * (score - 1.0 / (1.0 + exp((rb - ra) / per_nat)))
        ratings[left] = ra + surprise
        ratings[right] = rb - surprise
    return dict(zip(columns.contestants, ratings, strict=True))


def to_points(beta: FloatArray, labels: Sequence[str], anchor: tuple[str, float] | None) -> FloatArray:
    """Log-strengths to rating points: mean 1000, or the anchor contestant at its given rating."""
    points: FloatArray = beta * POINTS_PER_NAT
    if anchor is None:
        result: FloatArray = points - points.mean(axis=-1, keepdims=True) + INITIAL_RATING
        return result
    position = list(labels).index(anchor[0])
    anchored: FloatArray = points - points[..., position : position + 1] + anchor[1]
    return anchored


class BradleyTerry:
    """Plain Bradley-Terry (the default method): the maximum-likelihood fit on the cells, refitted on each
    bootstrap round, drawn over whole prompts (``FitInput.by_prompt``) or over battles (a multinomial over the
    cells)."""

    name = "bt"

    def prompts_needed(self, contestants: int) -> int:
        """A bootstrap over prompts refits every round: the least that says anything."""
        return MIN_PROMPTS_TO_RESAMPLE

    def fit(
        self,
        data: FitInput,
        *,
        rounds: int,
        seed: int,
        anchor: tuple[str, float] | None,
        confidence: float,
    ) -> Fitted:
        cells = data.cells
        point = to_points(fit_bradley_terry(cells.score_matrices(cells.count[None, :])), data.labels, anchor)[0]
        if rounds <= 0:
            return with_interval(point, None, confidence)
        rng = np.random.default_rng(seed)
        if data.by_prompt is not None and not data.by_prompt.singletons:
            resampled = data.by_prompt.resample(rounds, rng)
        else:  # battles, or prompts of one battle each: the same draw
            resampled = rng.multinomial(len(data.rated), cells.count / cells.count.sum(), size=rounds)
        draws = to_points(fit_bradley_terry(cells.score_matrices(resampled)), data.labels, anchor)
        return with_interval(point, draws, confidence)
