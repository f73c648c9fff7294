"""Turn votes into ratings a careful person can trust: Bradley-Terry with bootstrap intervals, plus Elo.

Bradley-Terry is fitted by maximum likelihood on all battles at once, so the order of votes does not
matter (online Elo, kept as a "live" secondary column, does depend on order). Ties count as half a win for
each side; ``both_bad`` is a tie for the rating and is counted separately as an absolute-quality rate.

The fit works on aggregated counts, never on battles one by one: a data set is reduced to "cells"
(pair, outcome) with counts, a bootstrap round is one multinomial draw over those cells (exactly equivalent
to resampling battles with replacement), and all rounds are fitted together by a batched Newton method.
100,000 battles among 20 contestants with 1,000 rounds take well under the 3-second budget.

A very weak Gaussian prior on the log-strengths (sd 1000 rating points) keeps the fit finite when a
contestant never lost or never won, where the unpenalized maximum likelihood is infinite; such ratings are
flagged, since they are bounds more than estimates. With real data the prior moves ratings by a small
fraction of a point.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt

from arena.stats import intervals_overlap, wilson_interval
from arena.verdicts import RATED_VERDICTS, Verdict

if TYPE_CHECKING:
    from arena.style import StyleCoefficient, StyleCounts, StyleFit

SCALE = 400.0
BASE = 10.0
INITIAL_RATING = 1000.0
PRIOR_SD_POINTS = 1000.0
PROVISIONAL_BELOW = 10
"""A contestant with fewer rated battles than this is provisional: its interval is not yet meaningful (one
battle bootstraps to a zero-width interval), so it gets no rank."""

FloatArray = npt.NDArray[np.float64]
_POINTS_PER_NAT = SCALE / math.log(BASE)


class Outcome(NamedTuple):
    """One judged battle, as the ratings see it. ``skip`` verdicts never reach here. The style counts of
    both answers are there when style control is asked for. A named tuple: a leaderboard builds 100,000 of
    them, and a frozen dataclass costs five times as much to create."""

    left: str
    right: str
    verdict: Verdict
    left_style: StyleCounts | None = None
    right_style: StyleCounts | None = None


def outcomes_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[Outcome]:
    """Outcomes from battle rows as ``arena.store.queries.battle_rows`` returns them."""
    return [Outcome(row["left_contestant"], row["right_contestant"], row["verdict"]) for row in rows]


class StyleColumns(NamedTuple):
    """Each battle's raw style differences (f_A - f_B) / (f_A + f_B + 1) for the four features, as one
    (battles, 4) array aligned with the outcomes: the fast path for 100,000 battles, where SQLite computes
    them and one object per answer would cost more than the fit."""

    raw: FloatArray

    @classmethod
    def of(cls, rows: Sequence[Sequence[float]]) -> StyleColumns:
        """From rows of four differences, as ``arena.store.queries.style_table`` returns them."""
        return cls(np.array(rows, dtype=np.float64).reshape(-1, 4))


def outcomes_from_votes(votes: Sequence[Sequence[Any]]) -> list[Outcome]:
    """Outcomes from ``arena.store.queries.vote_table`` tuples (style, when wanted, comes apart as
    ``StyleColumns``)."""
    return [Outcome(vote[0], vote[1], vote[2]) for vote in votes]


def _prior_precision() -> float:
    sd_nats = PRIOR_SD_POINTS / _POINTS_PER_NAT
    return 1.0 / (sd_nats * sd_nats)


def fit_bradley_terry(scores: FloatArray, prior_precision: float | None = None) -> FloatArray:
    """Log-strengths (natural units) maximizing the penalized BT likelihood, for a batch of data sets.

    ``scores[r, i, j]`` is what i scored against j in data set r (1 per win, 0.5 per tie). Returns an array
    of shape (r, n) with each row summing to zero (the prior's centre). Newton steps are clipped so a
    contestant far from the rest cannot make an iteration overshoot.
    """
    precision = _prior_precision() if prior_precision is None else prior_precision
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


def elo_ratings(outcomes: Sequence[Outcome], k: float = 32.0) -> dict[str, float]:
    """Online Elo in the given order: each battle moves both ratings by K times the surprise.

    The loop runs over integer-coded contestants and a plain list of ratings (a tenth of a second for
    100,000 battles, half of what dict lookups by label cost)."""
    index: dict[str, int] = {}
    for outcome in outcomes:
        index.setdefault(outcome[0], len(index))
        index.setdefault(outcome[1], len(index))
    ratings = [INITIAL_RATING] * len(index)
    scores = {"left": 1.0, "right": 0.0}
    ln_base = math.log(BASE) / SCALE
    exp = math.exp
    coded = [(index[o[0]], index[o[1]], scores.get(o[2], 0.5)) for o in outcomes]
    for left, right, score in coded:
        ra = ratings[left]
        rb = ratings[right]
        surprise = k * (score - 1.0 / (1.0 + exp((rb - ra) * ln_base)))
        ratings[left] = ra + surprise
        ratings[right] = rb - surprise
    return {label: ratings[position] for label, position in index.items()}


@dataclass(frozen=True)
class Cells:
    """A data set reduced to (winner-side index, loser-side index, weight) counts.

    Each cell is one (i, j, outcome) with i < j and outcome 0 = i won, 1 = j won, 2 = tie (incl. both_bad).
    """

    labels: tuple[str, ...]
    i: npt.NDArray[np.int64]
    j: npt.NDArray[np.int64]
    outcome: npt.NDArray[np.int64]
    count: npt.NDArray[np.int64]

    @classmethod
    def from_tally(cls, counted: Mapping[tuple[str, str, str], int], labels: Sequence[str]) -> Cells:
        """Cells from (left, right, verdict) counts (``tally``): the work is per distinct triple, not per battle."""
        index = {label: position for position, label in enumerate(labels)}
        keys = list(counted)
        weights = np.array([counted[key] for key in keys], dtype=np.int64)
        left = np.array([index[key[0]] for key in keys], dtype=np.int64)
        right = np.array([index[key[1]] for key in keys], dtype=np.int64)
        verdict = np.array([{"left": 0, "right": 1}.get(key[2], 2) for key in keys], dtype=np.int64)
        swap = left > right
        i = np.where(swap, right, left)
        j = np.where(swap, left, right)
        # from i's point of view a left win by j is a loss: swap the win codes
        outcome = np.where(swap & (verdict < 2), 1 - verdict, verdict)
        n = len(labels)
        codes = (i * n + j) * 3 + outcome
        unique, inverse = np.unique(codes, return_inverse=True)
        counts = np.bincount(inverse.reshape(-1), weights=weights, minlength=len(unique))
        return cls(
            labels=tuple(labels),
            i=unique // 3 // n,
            j=unique // 3 % n,
            outcome=unique % 3,
            count=counts.astype(np.int64),
        )

    def score_matrices(self, counts: npt.NDArray[np.int64]) -> FloatArray:
        """(rounds, n, n) score matrices for a (rounds, cells) array of cell counts."""
        n = len(self.labels)
        # column c of ``spread`` says where one battle of cell c puts its points in the flat n*n matrix
        spread = np.zeros((len(self.count), n * n))
        cells = np.arange(len(self.count))
        ij = self.i * n + self.j
        ji = self.j * n + self.i
        spread[cells, ij] += np.where(self.outcome == 0, 1.0, np.where(self.outcome == 2, 0.5, 0.0))
        spread[cells, ji] += np.where(self.outcome == 1, 1.0, np.where(self.outcome == 2, 0.5, 0.0))
        result: FloatArray = (counts.astype(np.float64) @ spread).reshape(-1, n, n)
        return result


def _components(labels: Sequence[str], outcomes: Sequence[Outcome]) -> list[list[str]]:
    """Groups of contestants connected by battles; ratings are only comparable within a group."""
    parent = {label: label for label in labels}

    def root(label: str) -> str:
        while parent[label] != label:
            parent[label] = parent[parent[label]]
            label = parent[label]
        return label

    for left, right in {(outcome[0], outcome[1]) for outcome in outcomes}:
        parent[root(left)] = root(right)
    groups: dict[str, list[str]] = {}
    for label in labels:
        groups.setdefault(root(label), []).append(label)
    return sorted(groups.values(), key=lambda group: (-len(group), group))


@dataclass(frozen=True)
class Rating:
    """One row of the leaderboard."""

    contestant: str
    rating: float
    ci_low: float
    ci_high: float
    rank_ub: int
    elo: float
    battles: int
    wins: int
    ties: int
    losses: int
    both_bad: int
    win_rate: float
    win_rate_low: float
    win_rate_high: float
    never_lost: bool
    never_won: bool
    group: int
    within_noise: tuple[str, ...] = ()

    @property
    def provisional(self) -> bool:
        return self.battles < PROVISIONAL_BELOW

    def to_dict(self) -> dict[str, object]:
        return {
            "contestant": self.contestant,
            "rating": round(self.rating, 2),
            "ci_low": round(self.ci_low, 2),
            "ci_high": round(self.ci_high, 2),
            "rank_ub": self.rank_ub,
            "provisional": self.provisional,
            "battles": self.battles,
            "wins": self.wins,
            "ties": self.ties,
            "losses": self.losses,
            "both_bad": self.both_bad,
            "both_bad_rate": round(self.both_bad / self.battles, 4) if self.battles else None,
            "win_rate": round(self.win_rate, 4),
            "win_rate_ci": [round(self.win_rate_low, 4), round(self.win_rate_high, 4)],
            "elo": round(self.elo, 2),
            "never_lost": self.never_lost,
            "never_won": self.never_won,
            "group": self.group,
            "within_noise": list(self.within_noise),
        }


@dataclass(frozen=True)
class PairRecord:
    """Head to head between two contestants, from ``a``'s side."""

    a: str
    b: str
    a_wins: int
    b_wins: int
    ties: int
    both_bad: int

    @property
    def battles(self) -> int:
        return self.a_wins + self.b_wins + self.ties + self.both_bad

    def describe(self) -> str:
        """'b beats a 5-1, 1 tie, 1 both bad' in the leader's favour."""
        leader, trailer, high, low = (
            (self.a, self.b, self.a_wins, self.b_wins)
            if self.a_wins >= self.b_wins
            else (self.b, self.a, self.b_wins, self.a_wins)
        )
        verb = "ties" if high == low else "beats"
        extra = []
        if self.ties:
            extra.append(f"{self.ties} tie" + ("s" if self.ties != 1 else ""))
        if self.both_bad:
            extra.append(f"{self.both_bad} both bad")
        return f"{leader} {verb} {trailer} {high}-{low}" + (", " + ", ".join(extra) if extra else "")


@dataclass(frozen=True)
class PositionBias:
    """Share of decided battles won by the left pane; a fair judge and blind sides give about 0.5."""

    left_wins: int
    decided: int
    share: float | None
    ci_low: float
    ci_high: float

    @property
    def significant(self) -> bool:
        return self.decided > 0 and not self.ci_low <= 0.5 <= self.ci_high


@dataclass(frozen=True)
class Sureness:
    """How sure the ranking is that ``a`` (the higher of two neighbours on the board) is better than ``b``.

    ``p_a_better`` is the share of bootstrap rounds in which a's rating is above b's (None without
    bootstrap). ``votes_to_separate`` estimates how many more decisive votes between the two would make
    their difference significant at 95%, four times in five: with p the chance that a beats b implied by
    their ratings, a two-sided test at 5% on N decisive votes has 80% power once
    N = (1.96 + 0.84)^2 p (1 - p) / (p - 0.5)^2 (the usual sample-size formula), minus the decisive votes
    they already have. 0 when the bootstrap already separates them; None when the ratings are level (no
    number of votes is predictable).
    """

    a: str
    b: str
    battles: int
    p_a_better: float | None
    votes_to_separate: int | None

    def to_dict(self) -> dict[str, object]:
        return {
            "a": self.a,
            "b": self.b,
            "battles": self.battles,
            "p_a_better": None if self.p_a_better is None else round(self.p_a_better, 4),
            "votes_to_separate": self.votes_to_separate,
        }

    def describe(self) -> str:
        """'m2 vs m4: 71% sure, ~60 more votes' (in the order of the board)."""
        sure = "no bootstrap" if self.p_a_better is None else f"{self.p_a_better:.0%} sure"
        if self.votes_to_separate == 0:
            more = "separated"
        elif self.votes_to_separate is None:
            more = "level: more votes will not tell them apart soon"
        else:
            more = f"~{self.votes_to_separate} more decisive votes between them"
        return f"{self.a} above {self.b}: {sure}, {more}"


@dataclass(frozen=True)
class Leaderboard:
    ratings: list[Rating]
    pairs: list[PairRecord]
    groups: list[list[str]]
    position_bias: PositionBias
    battles: int
    rounds: int
    anchor: tuple[str, float] | None = None
    win_matrix: dict[str, dict[str, float | None]] = field(default_factory=dict)
    count_matrix: dict[str, dict[str, int]] = field(default_factory=dict)
    neighbours: list[Sureness] = field(default_factory=list)
    """Each adjacent pair of the board (within one comparable group), top to bottom."""
    style: list[StyleCoefficient] | None = None
    """The style coefficients when the ratings are style-controlled, else None."""

    @property
    def comparable(self) -> bool:
        return len(self.groups) <= 1


def _scale(beta: FloatArray, labels: Sequence[str], anchor: tuple[str, float] | None) -> FloatArray:
    """Log-strengths to rating points: mean 1000, or the anchor contestant at its given rating."""
    points: FloatArray = beta * _POINTS_PER_NAT
    if anchor is None:
        result: FloatArray = points - points.mean(axis=-1, keepdims=True) + INITIAL_RATING
        return result
    position = list(labels).index(anchor[0])
    anchored: FloatArray = points - points[..., position : position + 1] + anchor[1]
    return anchored


def compute_leaderboard(
    outcomes: Sequence[Outcome],
    *,
    rounds: int = 1000,
    seed: int = 0,
    anchor: tuple[str, float] | None = None,
    k: float = 32.0,
    confidence: float = 0.95,
    style_control: bool = False,
    style: StyleColumns | None = None,
) -> Leaderboard:
    """Ratings with bootstrap intervals, Rank(UB), Elo, tallies, the pairwise scoreboard and matrices.

    ``outcomes`` are in the order the votes were cast (only Elo uses it); ``skip`` verdicts are ignored.
    ``style_control`` fits the ratings with the answers' style taken out (``arena.style``; the outcomes
    must carry style counts, or ``style`` gives them as arrays aligned with ``outcomes``); tallies, Elo and
    the scoreboard stay the raw ones.
    """
    kept = [index for index, o in enumerate(outcomes) if o[2] in RATED_VERDICTS and o[0] != o[1]]
    rated = [outcomes[index] for index in kept]
    if style is not None and len(kept) != len(outcomes):
        style = StyleColumns(style.raw[kept])
    counted = tally(rated)
    labels = sorted({key[0] for key in counted} | {key[1] for key in counted})
    if anchor is not None and anchor[0] not in labels:
        raise ValueError(f"anchor {anchor[0]!r} has no battles (contestants: {', '.join(labels) or 'none'})")
    position_bias = _position_bias(counted)
    if not labels:
        return Leaderboard([], [], [], position_bias, 0, rounds, anchor)

    alpha = (1 - confidence) / 2
    boot: FloatArray | None = None
    found_style = None
    if style_control:
        from arena.style import coefficients

        fit = _style_fit(rated, style, labels, rounds, seed)
        point = _scale(fit.beta[None, :], labels, anchor)[0]
        found_style = coefficients(fit, confidence)
        if rounds > 0:
            boot = _scale(fit.beta_draws, labels, anchor)
    else:
        cells = Cells.from_tally(counted, labels)
        point = _scale(fit_bradley_terry(cells.score_matrices(cells.count[None, :])), labels, anchor)[0]
        if rounds > 0:
            rng = np.random.default_rng(seed)
            draws = rng.multinomial(len(rated), cells.count / cells.count.sum(), size=rounds)
            boot = _scale(fit_bradley_terry(cells.score_matrices(draws)), labels, anchor)
    if boot is not None:
        low, high = np.quantile(boot, [alpha, 1 - alpha], axis=0)
    else:
        low, high = point.copy(), point.copy()

    groups = _components(labels, rated)
    group_of = {label: index for index, group in enumerate(groups) for label in group}
    elo = elo_ratings(rated, k=k)
    tallies = _tallies(counted, labels)
    ratings = []
    for index, label in enumerate(labels):
        wins, ties, losses, both_bad = tallies[label]
        battles = wins + ties + losses + both_bad
        win_rate = (wins + 0.5 * (ties + both_bad)) / battles
        rate_low, rate_high = wilson_interval(wins + 0.5 * (ties + both_bad), battles)
        better = sum(
            1 for other in range(len(labels)) if group_of[labels[other]] == group_of[label] and low[other] > high[index]
        )
        ratings.append(
            Rating(
                contestant=label,
                rating=float(point[index]),
                ci_low=float(low[index]),
                ci_high=float(high[index]),
                rank_ub=1 + better,
                elo=elo[label],
                battles=battles,
                wins=wins,
                ties=ties,
                losses=losses,
                both_bad=both_bad,
                win_rate=win_rate,
                win_rate_low=rate_low,
                win_rate_high=rate_high,
                never_lost=losses == 0 and wins > 0,
                never_won=wins == 0 and losses > 0,
                group=group_of[label],
            )
        )
    ratings = _mark_noise(ratings)
    ratings.sort(key=lambda r: (-r.rating, r.contestant))
    pairs = _pairs(counted)
    position = {label: index for index, label in enumerate(labels)}
    neighbours = [
        _sureness(higher, lower, boot, position, pairs)
        for higher, lower in itertools.pairwise(ratings)
        if higher.group == lower.group
    ]
    return Leaderboard(
        ratings=ratings,
        pairs=pairs,
        groups=groups,
        position_bias=position_bias,
        battles=len(rated),
        rounds=rounds,
        anchor=anchor,
        win_matrix=_win_matrix(labels, pairs),
        count_matrix={a: {b: _pair_battles(pairs, a, b) for b in labels if b != a} for a in labels},
        neighbours=neighbours,
        style=found_style,
    )


def _style_fit(
    rated: Sequence[Outcome], style: StyleColumns | None, labels: Sequence[str], rounds: int, seed: int
) -> StyleFit:
    from arena.style import fit_style_controlled, standardize, style_differences

    if style is None:
        if any(o.left_style is None or o.right_style is None for o in rated):
            raise ValueError("style control needs the answers' style counts (on the outcomes, or as StyleColumns)")
        differences = style_differences([o.left_style for o in rated], [o.right_style for o in rated])  # type: ignore[misc]
    else:
        differences = standardize(style.raw)
    index = {label: position for position, label in enumerate(labels)}
    left = np.array([index[o[0]] for o in rated], dtype=np.int64)
    right = np.array([index[o[1]] for o in rated], dtype=np.int64)
    scores = {"left": 1.0, "right": 0.0}
    score = np.array([scores.get(o[2], 0.5) for o in rated])
    return fit_style_controlled(
        left, right, score, differences, len(labels), _prior_precision(), rounds=rounds, seed=seed
    )


SEPARATE_Z = 1.96 + 0.84
"""z for a two-sided 5% test plus z for 80% power."""
MAX_VOTES_TO_SEPARATE = 100_000


def _sureness(
    higher: Rating, lower: Rating, boot: FloatArray | None, position: Mapping[str, int], pairs: Sequence[PairRecord]
) -> Sureness:
    """See ``Sureness``: the bootstrap's verdict on two neighbours, and the votes a clear one would take."""
    p_better = None
    if boot is not None:
        ahead = boot[:, position[higher.contestant]] - boot[:, position[lower.contestant]]
        p_better = float(((ahead > 0).sum() + 0.5 * (ahead == 0).sum()) / len(ahead))
    record = next((pair for pair in pairs if {pair.a, pair.b} == {higher.contestant, lower.contestant}), None)
    decisive = 0 if record is None else record.a_wins + record.b_wins
    p = 1.0 / (1.0 + BASE ** (-(higher.rating - lower.rating) / SCALE))
    if p_better is not None and p_better >= 1 - (1 - 0.95) / 2:
        votes: int | None = 0
    elif abs(p - 0.5) < 1e-3:
        votes = None
    else:
        needed = SEPARATE_Z**2 * p * (1 - p) / (p - 0.5) ** 2
        votes = min(max(1, math.ceil(needed) - decisive), MAX_VOTES_TO_SEPARATE)
    return Sureness(higher.contestant, lower.contestant, record.battles if record else 0, p_better, votes)


def tally(outcomes: Iterable[Outcome]) -> Counter[tuple[str, str, str]]:
    """How many battles had each (left, right, verdict): counted once, in C, and then every per-battle
    statistic (cells, tallies, the scoreboard) works on a few hundred keys instead of every battle."""
    return Counter((outcome[0], outcome[1], outcome[2]) for outcome in outcomes)


def _tallies(counted: Mapping[tuple[str, str, str], int], labels: Sequence[str]) -> dict[str, list[int]]:
    """label -> [wins, ties, losses, both_bad]."""
    tallies = {label: [0, 0, 0, 0] for label in labels}
    for (left, right, verdict), number in counted.items():
        if verdict == "left":
            tallies[left][0] += number
            tallies[right][2] += number
        elif verdict == "right":
            tallies[right][0] += number
            tallies[left][2] += number
        else:
            column = 1 if verdict == "tie" else 3
            tallies[left][column] += number
            tallies[right][column] += number
    return tallies


def _mark_noise(ratings: list[Rating]) -> list[Rating]:
    """For each contestant, the others of its group whose interval overlaps its own."""
    marked = []
    for rating in ratings:
        overlapping = tuple(
            other.contestant
            for other in ratings
            if other.contestant != rating.contestant
            and other.group == rating.group
            and intervals_overlap((rating.ci_low, rating.ci_high), (other.ci_low, other.ci_high))
        )
        marked.append(replace(rating, within_noise=overlapping))
    return marked


def _pairs(counted: Mapping[tuple[str, str, str], int]) -> list[PairRecord]:
    counts: dict[tuple[str, str], list[int]] = {}
    for (left, right, verdict), number in counted.items():
        a, b = sorted((left, right))
        record = counts.setdefault((a, b), [0, 0, 0, 0])
        if verdict in ("left", "right"):
            winner = left if verdict == "left" else right
            record[0 if winner == a else 1] += number
        else:
            record[2 if verdict == "tie" else 3] += number
    return [PairRecord(a, b, *record) for (a, b), record in sorted(counts.items())]


def _pair_battles(pairs: Sequence[PairRecord], a: str, b: str) -> int:
    for pair in pairs:
        if {pair.a, pair.b} == {a, b}:
            return pair.battles
    return 0


def _win_matrix(labels: Sequence[str], pairs: Sequence[PairRecord]) -> dict[str, dict[str, float | None]]:
    """Row's share of points against column (ties and both-bad as half); None where they never met."""
    matrix: dict[str, dict[str, float | None]] = {a: {b: None for b in labels if b != a} for a in labels}
    for pair in pairs:
        total = pair.battles
        half = 0.5 * (pair.ties + pair.both_bad)
        matrix[pair.a][pair.b] = (pair.a_wins + half) / total
        matrix[pair.b][pair.a] = (pair.b_wins + half) / total
    return matrix


def _position_bias(counted: Mapping[tuple[str, str, str], int]) -> PositionBias:
    left_wins = sum(number for (_, _, verdict), number in counted.items() if verdict == "left")
    decided = left_wins + sum(number for (_, _, verdict), number in counted.items() if verdict == "right")
    low, high = wilson_interval(left_wins, decided)
    share = left_wins / decided if decided else None
    return PositionBias(left_wins, decided, share, low, high)


MAX_ANCHOR = 1e6
"""Ratings live around 1000; an anchor far beyond this is a typo (and 1e308 overflows the scale)."""


def parse_anchor(text: str) -> tuple[str, float]:
    """``LABEL=RATING`` from the command line."""
    label, sep, value = text.rpartition("=")
    if not sep or not label:
        raise ValueError(f"--anchor {text!r}: expected LABEL=RATING, e.g. base=1000")
    try:
        rating = float(value)
    except ValueError:
        raise ValueError(f"--anchor {text!r}: the rating {value!r} is not a number") from None
    if not -MAX_ANCHOR <= rating <= MAX_ANCHOR:  # NaN fails too
        raise ValueError(f"--anchor {text!r}: the rating must be a number between {-MAX_ANCHOR:g} and {MAX_ANCHOR:g}")
    return label, rating


def matrix_rows(matrix: Mapping[str, Mapping[str, float | int | None]]) -> list[list[str]]:
    """A matrix as printable rows (header first), for tables and CSV."""
    labels = list(matrix)
    rows = [["", *labels]]
    for a in labels:
        cells = []
        for b in labels:
            value = matrix[a].get(b) if a != b else None
            cells.append("-" if value is None else (f"{value:.2f}" if isinstance(value, float) else str(value)))
        rows.append([a, *cells])
    return rows
