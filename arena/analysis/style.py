"""Style control: ratings with the judges' taste for longer, more formatted answers taken out.

Owns the style features of an answer and the style-controlled Bradley-Terry fit (LMArena's method, its
default board since 2025). Judges prefer longer and more formatted answers, and small fine-tunes and
quantizations differ a lot in verbosity, so a raw rating can reward length instead of quality. Per battle
and feature f (answer length, markdown headers, list items, bold spans; code blocks removed first) the
model sees d_f = (f_A - f_B) / (f_A + f_B + 1), standardized over the battles, and fits

    logit P(A wins) = ln10/400 * (r_A - r_B) + gamma . z

with ties as half a win, as the plain fit. The ratings r are then what is left once style is accounted
for, and gamma says how much each feature swayed the judges (in log-odds per standard deviation).

Intervals: the plain board refits every bootstrap round; here each round would be a Newton fit over every
battle (a second per 100 rounds on 100k battles), so the rounds are drawn from the bootstrap's large-sample
limit instead, the sandwich covariance H^-1 (sum of score outer products) H^-1 around the full fit. It is
what the bootstrap converges to; the tests compare it with a real refitting bootstrap.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from arena.analysis.quantiles import linear_quantiles
from arena.analysis.style_counts import FENCED, markdown, style_difference

FloatArray = npt.NDArray[np.float64]
FEATURES = ("length", "headers", "lists", "bold")
RIDGE = 1e-6
"""A vanishing penalty on gamma, so a feature that never varies leaves the fit finite."""

_WORD = re.compile(r"\S+")


class StyleCounts(NamedTuple):
    """One answer's style: its length (tokens where known, else words) and markdown elements. (The
    leaderboard reads the differences stored with each vote instead; these serve single answers, outcomes
    built in memory and databases older than those stored differences.)"""

    length: float
    headers: int
    lists: int
    bold: int


def style_counts(text: str | None, n_tokens: int | None = None) -> StyleCounts:
    """Count an answer's style features, with fenced code left out (code is content, not formatting)."""
    prose = FENCED.sub("\n", text or "")
    length = float(n_tokens) if n_tokens else float(len(_WORD.findall(prose)))
    return StyleCounts(length, *markdown(prose))


def raw_differences(
    left: Sequence[Sequence[float]] | FloatArray, right: Sequence[Sequence[float]] | FloatArray
) -> FloatArray:
    """(battles, features): (f_A - f_B) / (f_A + f_B + 1), the one formula of a style difference: the store
    keeps these with each vote, and the fit standardizes them."""
    a = np.array(left, dtype=np.float64)
    b = np.array(right, dtype=np.float64)
    if a.ndim < 2:  # no battles (or one flat row): the (battles, features) shape all the same
        a = a.reshape(-1, len(FEATURES))
        b = b.reshape(-1, len(FEATURES))
    result: FloatArray = style_difference(a, b)
    return result


def style_differences(
    left: Sequence[Sequence[float]] | FloatArray, right: Sequence[Sequence[float]] | FloatArray
) -> FloatArray:
    """``raw_differences`` standardized over the battles; a feature that never varies is left at zero."""
    return standardize(raw_differences(left, right))


def standardize(raw: FloatArray) -> FloatArray:
    """Each feature's differences centred and scaled to unit spread over the battles; zero where a feature
    never varies (it can say nothing)."""
    spread = raw.std(axis=0)
    centred = raw - raw.mean(axis=0)
    standardized: FloatArray = np.where(spread > 1e-12, centred / np.where(spread > 1e-12, spread, 1.0), 0.0)
    return standardized


@dataclass(frozen=True)
class StyleFit:
    """The style-controlled fit: log-strengths (natural units, centred), gamma, and joint draws of both."""

    beta: FloatArray
    gamma: FloatArray
    beta_draws: FloatArray
    gamma_draws: FloatArray


def fit_style_controlled(
    left: npt.NDArray[np.int64],
    right: npt.NDArray[np.int64],
    score: FloatArray,
    differences: FloatArray,
    n: int,
    prior_precision: float,
    *,
    rounds: int,
    seed: int,
    clusters: npt.NDArray[np.int64] | None = None,
) -> StyleFit:
    """Penalized maximum likelihood of the style-controlled model by Newton's method.

    ``left`` / ``right`` are contestant indices per battle, ``score`` the left side's score (1, 0.5, 0),
    ``differences`` the standardized style differences. The prior on the log-strengths is the plain fit's.
    With ``clusters`` (each battle's prompt index) the sandwich is cluster-robust: the score contributions
    are summed within a prompt before their outer product, the large-sample limit of a bootstrap that
    resamples prompts; without, each battle is its own cluster.

    The design matrix (a row per battle: +1 for left, -1 for right, the differences) is never built: its
    products are sums per contestant and per pair (``_design_product``, ``_weighted_gram``), so memory and
    time grow with the battles times the five numbers each has, not times the contestants (a dense design
    was 190 MB per Newton step at 1,000,000 battles and 20 contestants, and the fit took 15 s).
    """
    features = differences.shape[1]
    theta, covariance = style_estimate(StyleProblem(left, right, score, differences, n, prior_precision, clusters))
    # the ratings are only defined up to a shift: draw the centred log-strengths (and the coefficients), so no
    # draw carries the near-flat direction the weak prior leaves, only to have it subtracted again
    centring = np.eye(n + features)
    centring[:n, :n] -= 1.0 / n
    centred = centring @ theta
    draws = _gaussian_draws(centred, centring @ covariance @ centring.T, rounds, seed)
    beta_draws = draws[:, :n] - draws[:, :n].mean(axis=1, keepdims=True)
    return StyleFit(beta=centred[:n], gamma=theta[n:], beta_draws=beta_draws, gamma_draws=draws[:, n:])


@dataclass(frozen=True)
class StyleProblem:
    """What the style-controlled fit is given (see ``fit_style_controlled``)."""

    left: npt.NDArray[np.int64]
    right: npt.NDArray[np.int64]
    score: FloatArray
    differences: FloatArray
    n: int
    prior_precision: float
    clusters: npt.NDArray[np.int64] | None = None


def style_estimate(problem: StyleProblem) -> tuple[FloatArray, FloatArray]:
    """The penalized maximum-likelihood estimate (log-strengths, then the coefficients) and its sandwich
    covariance, as ``fit_style_controlled`` describes them."""
    left, right, score, differences, n = problem.left, problem.right, problem.score, problem.differences, problem.n
    prior_precision, clusters = problem.prior_precision, problem.clusters
    features = differences.shape[1]
    penalty = np.concatenate([np.full(n, prior_precision), np.full(features, RIDGE)])
    theta = np.zeros(n + features)

    def probability(theta: FloatArray) -> FloatArray:
        result: FloatArray = 1.0 / (1.0 + np.exp(-(theta[left] - theta[right] + differences @ theta[n:])))
        return result

    for _ in range(100):
        p = probability(theta)
        gradient = _design_product(left, right, differences, score - p, n) - penalty * theta
        hessian = _weighted_gram(left, right, differences, p * (1.0 - p), n) + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        largest = float(np.abs(step).max())
        theta = theta + step * min(1.0, 2.0 / max(largest, 1e-300))
        if largest < 1e-10:
            break
    p = probability(theta)
    hessian = _weighted_gram(left, right, differences, p * (1.0 - p), n) + np.diag(penalty)
    inverse = np.linalg.inv(hessian)
    covariance: FloatArray = inverse @ _meat(left, right, differences, score - p, n, clusters) @ inverse
    return theta, covariance


def _design_product(
    left: npt.NDArray[np.int64], right: npt.NDArray[np.int64], differences: FloatArray, values: FloatArray, n: int
) -> FloatArray:
    """design.T @ values: per contestant, its left battles' values minus its right battles'; per feature,
    the differences times the values."""
    return np.concatenate(
        [
            np.bincount(left, weights=values, minlength=n) - np.bincount(right, weights=values, minlength=n),
            differences.T @ values,
        ]
    )


def _weighted_gram(
    left: npt.NDArray[np.int64], right: npt.NDArray[np.int64], differences: FloatArray, weights: FloatArray, n: int
) -> FloatArray:
    """design.T @ diag(weights) @ design from per-pair and per-contestant sums of the weights."""
    features = differences.shape[1]
    pair = np.bincount(left * n + right, weights=weights, minlength=n * n).reshape(n, n)
    weighted = differences * weights[:, None]
    cross = np.stack(
        [
            np.bincount(left, weights=weighted[:, f], minlength=n)
            - np.bincount(right, weights=weighted[:, f], minlength=n)
            for f in range(features)
        ],
        axis=1,
    ).reshape(n, features)
    gram = np.empty((n + features, n + features))
    gram[:n, :n] = np.diag(pair.sum(axis=1) + pair.sum(axis=0)) - pair - pair.T
    gram[:n, n:] = cross
    gram[n:, :n] = cross.T
    gram[n:, n:] = differences.T @ weighted
    return gram


def _meat(
    left: npt.NDArray[np.int64],
    right: npt.NDArray[np.int64],
    differences: FloatArray,
    residual: FloatArray,
    n: int,
    clusters: npt.NDArray[np.int64] | None,
) -> FloatArray:
    """The sandwich's middle: the sum over clusters of (S_c - mean)(S_c - mean)^T, S_c the summed score rows
    (design row times residual) of a cluster's battles. Each battle its own cluster: the weighted Gram with
    the squared residuals. Clusters: their sums built for blocks of clusters at a time (memory stays near
    32 MB however many prompts)."""
    features = differences.shape[1]
    width = n + features
    if clusters is None:
        total = _design_product(left, right, differences, residual, n)
        gram = _weighted_gram(left, right, differences, residual * residual, n)
        centred: FloatArray = gram - np.outer(total, total) / max(len(residual), 1)
        return centred
    count = int(clusters.max()) + 1 if len(clusters) else 0
    order = np.argsort(clusters, kind="stable")
    sorted_clusters = clusters[order]
    block = max(1, 4_000_000 // width)
    meat = np.zeros((width, width))
    total = np.zeros(width)
    for first in range(0, count, block):
        start, stop = np.searchsorted(sorted_clusters, [first, first + block])
        rows = order[start:stop]
        local = sorted_clusters[start:stop] - first
        size = min(block, count - first)
        values = residual[rows]
        summed = np.empty((size, width))
        summed[:, :n] = (
            np.bincount(local * n + left[rows], weights=values, minlength=size * n)
            - np.bincount(local * n + right[rows], weights=values, minlength=size * n)
        ).reshape(size, n)
        weighted = differences[rows] * values[:, None]
        for feature in range(features):
            summed[:, n + feature] = np.bincount(local, weights=weighted[:, feature], minlength=size)
        meat += summed.T @ summed
        total += summed.sum(axis=0)
    result: FloatArray = meat - np.outer(total, total) / max(count, 1)
    return result


def _gaussian_draws(mean: FloatArray, covariance: FloatArray, rounds: int, seed: int) -> FloatArray:
    """``rounds`` joint draws from N(mean, covariance), robust to a covariance that is only semi-definite."""
    if rounds <= 0:
        return np.zeros((0, len(mean)))
    values, vectors = np.linalg.eigh((covariance + covariance.T) / 2)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    rng = np.random.default_rng(seed)
    result: FloatArray = mean + rng.standard_normal((rounds, len(mean))) @ root.T
    return result


@dataclass(frozen=True)
class StyleCoefficient:
    """How much one feature swayed the judges: log-odds of winning per standard deviation of its difference."""

    feature: str
    coefficient: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict[str, object]:
        return {
            "feature": self.feature,
            "coefficient": round(self.coefficient, 4),
            "ci": [round(self.ci_low, 4), round(self.ci_high, 4)],
        }


def coefficients(fit: StyleFit, confidence: float = 0.95) -> list[StyleCoefficient]:
    alpha = (1 - confidence) / 2
    found = []
    for index, name in enumerate(FEATURES):
        value = float(fit.gamma[index])
        if len(fit.gamma_draws):
            low, high = linear_quantiles(fit.gamma_draws[:, index], [alpha, 1 - alpha])
        else:
            low = high = value
        found.append(StyleCoefficient(name, value, float(low), float(high)))
    return found


STYLE_MIN_VOTES = 100
STYLE_MIN_PROMPTS = 10
"""Below these, the style coefficients are provisional: with 3 votes an interval for "length" excluded zero
(the fit's bootstrap cannot see how little a handful of votes says about a preference)."""


def style_provisional(votes: int, prompts: int) -> bool:
    """Whether ``votes`` on ``prompts`` prompts are too few to read the style coefficients as more than a hint."""
    return votes < STYLE_MIN_VOTES or prompts < STYLE_MIN_PROMPTS


def describe(found: Sequence[StyleCoefficient], votes: int | None = None, prompts: int | None = None) -> str:
    """'style control: length +0.41 (0.30-0.52), lists +0.05 (...)': which way each feature pulled; with the
    board's ``votes`` and ``prompts``, a word where they are too few for the coefficients to mean much."""
    parts = [f"{c.feature} {c.coefficient:+.2f} ({c.ci_low:+.2f} to {c.ci_high:+.2f})" for c in found]
    said = "style control (log-odds per sd of the difference): " + ", ".join(parts)
    if votes is not None and prompts is not None and style_provisional(votes, prompts):
        said += (
            f"; provisional: {votes} votes on {prompts} prompts are too few to say which way style pulls "
            f"(at least {STYLE_MIN_VOTES} votes on {STYLE_MIN_PROMPTS} prompts)"
        )
    return said
