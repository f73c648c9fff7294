"""The leaderboard: ratings with bootstrap intervals, Rank(UB), Elo, tallies, the scoreboard, the matrices, and
how sure the board is of each neighbouring pair.

``compute_leaderboard`` puts the parts together: the tally and counts (``data``), the fit and its intervals
(a ``method.RatingModel``: ``bt.BradleyTerry``, ``styled.StyleControlled``, ...), then one ``Rating`` per
contestant.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from arena.analysis.ratings.bt import BradleyTerry, FloatArray, elo_ratings, win_probability
from arena.analysis.ratings.columns import VoteColumns
from arena.analysis.ratings.data import (
    Cells,
    Outcome,
    PairRecord,
    PositionBias,
    PromptCells,
    Tally,
    components,
    count_matrix,
    pairs,
    position_bias,
    tallies,
    win_matrix,
)
from arena.analysis.ratings.method import (
    MIN_PROMPTS_TO_RESAMPLE,
    FitInput,
    Fitted,
    MethodFacts,
    RatingModel,
    small_cluster_factor,
    widened,
)
from arena.analysis.ratings.sequential import call_pair, winner
from arena.analysis.ratings.styled import StyleColumns, StyleControlled
from arena.analysis.stats import intervals_overlap, wilson_interval
from arena.analysis.style import StyleCoefficient
from arena.vocab import Cluster
from arena.wording import counted

PROVISIONAL_BELOW = 10
"""A contestant with fewer rated battles than this is provisional: its interval is not yet meaningful (one
battle bootstraps to a zero-width interval), so it gets no rank."""


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
class Sureness:
    """How sure the board is that ``a`` (the higher of two neighbours) is better than ``b``.

    The call (``decided``) comes from the sequential test on their head-to-head decisive votes
    (``sequential.call_pair``): it stays true however often the board is read, family-wise over the board's
    pairs. ``p_a_better`` is the bootstrap's share of rounds with a above b: the ratings' spread for these
    votes, not a call. ``votes_to_separate`` is the expected number of further decisive votes between the
    two until the test calls it, at the share their ratings imply (0 once decided); where more votes on the
    same prompts cannot get there, it is None and ``prompts_to_separate`` says how many prompts would.
    Both None when the ratings are level.
    """

    a: str
    b: str
    battles: int
    p_a_better: float | None
    votes_to_separate: int | None
    prompts_to_separate: int | None = None
    """Set where more votes on the same prompts cannot separate them: the prompts a call needs."""
    prompts: int = 0
    """Prompts on which the two met with a decisive vote."""
    provisional: bool = False
    """Either has fewer than ``PROVISIONAL_BELOW`` battles: never called, whatever the test says."""
    decided: bool = False
    """The sequential test has called a above b: true however often the board was and will be read."""
    head_to_head: str | None = None
    """Whom the test has called the better of the two, where it has (may be b, against the ratings' order,
    when indirect votes put a above: then the board's order of the pair is not decided)."""
    e_value: float = 1.0
    needed: float = 1.0
    """The e-value a call needs (2 P / alpha for P pairs on the board)."""
    design_effect: float = 1.0

    def to_dict(self) -> dict[str, object]:
        return {
            "a": self.a,
            "b": self.b,
            "battles": self.battles,
            "prompts": self.prompts,
            "decided": self.decided,
            "head_to_head": self.head_to_head,
            "e_value": round(min(self.e_value, 1e12), 3),
            "e_value_needed": round(self.needed, 3),
            "design_effect": round(self.design_effect, 3),
            "p_a_better": None if self.p_a_better is None else round(self.p_a_better, 4),
            "votes_to_separate": self.votes_to_separate,
            "prompts_to_separate": self.prompts_to_separate,
            "provisional": self.provisional,
        }

    def describe(self) -> str:
        """'m2 above m4: decided (stays true however often you look)', or what a decision would take."""
        sure = "" if self.p_a_better is None else f" ({self.p_a_better:.0%} of the bootstrap for these votes)"
        if self.decided:
            return f"{self.a} above {self.b}: decided, stays true however often you look"
        if self.provisional:
            more = f"open: provisional (fewer than {PROVISIONAL_BELOW} battles each)"
        elif self.head_to_head == self.b:
            more = f"open: head to head {self.b} is ahead (decided), the ratings put {self.a} above"
        elif self.prompts_to_separate is not None:
            more = (
                f"open: more prompts needed: votes on these {counted(self.prompts, 'prompt')} cannot decide it "
                f"(~{self.prompts_to_separate} prompts would)"
            )
        elif self.votes_to_separate is None:
            more = "open: level, more votes will not tell them apart soon"
        elif self.votes_to_separate > CLOSE_VOTES:
            more = f"open: close, ~{self.votes_to_separate:,} more decisive votes between them to decide"
        else:
            more = f"open: ~{counted(self.votes_to_separate, 'more decisive vote')} between them to decide"
        return f"{self.a} above {self.b}: {more}{sure}"


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
    prompts: int = 0
    """Distinct prompts among the rated battles."""
    cluster: Cluster = "battle"
    """What the intervals resample: "prompt" (all of a prompt's battles together) or "battle"."""
    cluster_asked: Cluster = "prompt"
    prompts_needed: int = MIN_PROMPTS_TO_RESAMPLE
    """The fewest prompts the method's intervals could be drawn over (``RatingModel.prompts_needed``)."""
    facts: MethodFacts | None = None
    """What the rating method says beside the ratings (a judge-assisted fit: the judge's help)."""
    decided: dict[frozenset[str], str] = field(default_factory=dict)
    """Every pair (not only neighbours) whose order the sequential test has called, with the one called
    better; provisional contestants' pairs stay open."""
    method: str = "bt"
    """The rating method that fitted the ratings (``vocab.RATING_METHODS``)."""


CLOSE_VOTES = 2000
"""Beyond this many more decisive votes a pair is called close: more than a judge will cast for it."""
FEW_PROMPTS = 20
"""Below this many prompts the board says its ratings describe these prompts, not prompts in general."""


def compute_leaderboard(
    outcomes: Sequence[Outcome] | VoteColumns,
    *,
    rounds: int = 1000,
    seed: int = 0,
    anchor: tuple[str, float] | None = None,
    k: float = 32.0,
    confidence: float = 0.95,
    style: StyleColumns | None = None,
    cluster: Cluster = "prompt",
    model: RatingModel | None = None,
) -> Leaderboard:
    """Ratings with bootstrap intervals, Rank(UB), Elo, tallies, the pairwise scoreboard and matrices.

    ``outcomes`` are in the order the votes were cast (only Elo uses it), as ``Outcome`` tuples or, from
    the store, ``VoteColumns``; ``skip`` verdicts are ignored.
    ``model`` fits the ratings (``method.RatingModel``; plain Bradley-Terry by default); ``style``
    (differences aligned with ``outcomes``) is a spelling of ``model=StyleControlled(style)``: the ratings
    fitted with the answers' style taken out. Tallies, Elo and the scoreboard are the raw votes' whatever
    the model.
    ``cluster`` "prompt" resamples prompts (``PromptCells``; the style fit's sandwich sums scores within a
    prompt), where there are as many as the model needs (``RatingModel.prompts_needed``); "battle" resamples
    battles.
    """
    rated, kept = VoteColumns.of(outcomes).rated()
    if model is None:
        model = StyleControlled(style) if style is not None else BradleyTerry()
    counted = rated.tally()
    labels = list(rated.contestants)
    if anchor is not None and anchor[0] not in labels:
        raise ValueError(f"anchor {anchor[0]!r} has no battles (contestants: {', '.join(labels) or 'none'})")
    bias = position_bias(counted)
    if not labels:
        return Leaderboard([], [], [], bias, 0, rounds, anchor)
    cells = Cells.from_tally(counted, labels)
    by_prompt = PromptCells.of(rated, cells)
    needed = max(MIN_PROMPTS_TO_RESAMPLE, model.prompts_needed(len(labels)))
    used: Cluster = "prompt" if cluster == "prompt" and by_prompt.prompts >= needed else "battle"
    fitted = model.fit(
        FitInput(rated, kept, cells, by_prompt if used == "prompt" else None),
        rounds=rounds,
        seed=seed,
        anchor=anchor,
        confidence=confidence,
    )
    if used == "prompt" and fitted.draws is not None:
        fitted = widened(fitted, small_cluster_factor(by_prompt.prompts, confidence), confidence)
    groups = components(labels, rated.pairs_met())
    ratings = _mark_noise(_ratings(labels, counted, fitted, groups, elo_ratings(rated, k=k)))
    ratings.sort(key=lambda r: (-r.rating, r.contestant))
    records = pairs(counted)
    compared = len(labels) * (len(labels) - 1) // 2
    return Leaderboard(
        ratings=ratings,
        pairs=records,
        groups=groups,
        position_bias=bias,
        battles=len(rated),
        rounds=rounds,
        anchor=anchor,
        win_matrix=win_matrix(labels, records),
        count_matrix=count_matrix(labels, records),
        neighbours=_neighbours(ratings, fitted.draws, records, cells, by_prompt, compared),
        style=fitted.style,
        prompts=by_prompt.prompts,
        cluster=used,
        cluster_asked=cluster,
        prompts_needed=needed,
        facts=fitted.facts,
        decided=_decided_pairs(ratings, cells, by_prompt, compared),
        method=model.name,
    )


def _neighbours(
    ratings: Sequence[Rating],
    draws: FloatArray | None,
    records: Sequence[PairRecord],
    cells: Cells,
    by_prompt: PromptCells,
    compared: int,
) -> list[Sureness]:
    """Each pair next to each other in the board's order within one comparable group (a contestant of another
    group listed between them does not part them), top to bottom."""
    position = {label: index for index, label in enumerate(cells.labels)}
    groups = sorted({rating.group for rating in ratings})
    adjacent = [pair for group in groups for pair in itertools.pairwise(r for r in ratings if r.group == group)]
    adjacent.sort(key=lambda pair: ratings.index(pair[0]))
    return [
        _sureness(
            higher, lower, draws, position, records, _records_by_prompt(by_prompt, cells, higher, lower), compared
        )
        for higher, lower in adjacent
    ]


def _ratings(
    labels: Sequence[str],
    counted: Tally,
    fitted: Fitted,
    groups: Sequence[Sequence[str]],
    elo: Mapping[str, float],
) -> list[Rating]:
    """One row per contestant: its rating and interval, Rank(UB) within its group, tallies, win rate."""
    group_of = {label: index for index, group in enumerate(groups) for label in group}
    counts = tallies(counted, labels)
    ratings = []
    for index, label in enumerate(labels):
        wins, ties, losses, both_bad = counts[label]
        battles = wins + ties + losses + both_bad
        points = wins + 0.5 * (ties + both_bad)
        rate_low, rate_high = wilson_interval(points, battles)
        better = sum(
            1
            for other in range(len(labels))
            if group_of[labels[other]] == group_of[label] and fitted.low[other] > fitted.high[index]
        )
        ratings.append(
            Rating(
                contestant=label,
                rating=float(fitted.point[index]),
                ci_low=float(fitted.low[index]),
                ci_high=float(fitted.high[index]),
                rank_ub=1 + better,
                elo=elo[label],
                battles=battles,
                wins=wins,
                ties=ties,
                losses=losses,
                both_bad=both_bad,
                win_rate=points / battles,
                win_rate_low=rate_low,
                win_rate_high=rate_high,
                never_lost=losses == 0 and wins > 0,
                never_won=wins == 0 and losses > 0,
                group=group_of[label],
            )
        )
    return ratings


def _records_by_prompt(by_prompt: PromptCells, cells: Cells, higher: Rating, lower: Rating) -> list[tuple[int, int]]:
    """The higher one's (wins, decisive votes) against the lower on each prompt where they met."""
    i, j = cells.labels.index(higher.contestant), cells.labels.index(lower.contestant)
    records = by_prompt.pair_records(cells, min(i, j), max(i, j))
    return records if i < j else [(votes - wins, votes) for wins, votes in records]


def between_prompt_variance(records: Sequence[tuple[int, int]]) -> float:
    """omega^2: how much a pair's win rate varies from prompt to prompt beyond what the votes on each prompt
    explain (method of moments: the spread of the per-prompt rates minus their mean binomial variance,
    floored at 0). 0 with fewer than two prompts: nothing to compare."""
    rated = [(wins / votes, votes) for wins, votes in records if votes > 0]
    if len(rated) < 2:
        return 0.0
    rates = [rate for rate, _ in rated]
    mean = sum(wins for wins, _ in records) / sum(votes for _, votes in records)
    average_rate = sum(rates) / len(rates)
    spread = sum((rate - average_rate) ** 2 for rate in rates) / (len(rates) - 1)
    noise = sum(mean * (1 - mean) / votes for _, votes in rated) / len(rated)
    return max(0.0, spread - noise)


def _sureness(
    higher: Rating,
    lower: Rating,
    boot: FloatArray | None,
    position: Mapping[str, int],
    pairs: Sequence[PairRecord],
    per_prompt: Sequence[tuple[int, int]],
    compared: int,
) -> Sureness:
    """See ``Sureness``: the sequential test's call on two neighbours (``compared``: the pairs on the
    board, for the family-wise level), the bootstrap's spread, and what a call would take."""
    p_better = None
    if boot is not None:
        ahead = boot[:, position[higher.contestant]] - boot[:, position[lower.contestant]]
        p_better = float(((ahead > 0).sum() + 0.5 * (ahead == 0).sum()) / len(ahead))
    record = next((pair for pair in pairs if {pair.a, pair.b} == {higher.contestant, lower.contestant}), None)
    provisional = higher.provisional or lower.provisional
    call = call_pair(
        higher.contestant,
        lower.contestant,
        per_prompt,
        between_prompt_variance(per_prompt),
        compared,
        win_probability(higher.rating, lower.rating),
    )
    decided = call.winner == higher.contestant and not provisional
    return Sureness(
        higher.contestant,
        lower.contestant,
        record.battles if record else 0,
        p_better,
        0 if decided else (None if call.votes_to_decide == 0 else call.votes_to_decide),
        prompts_to_separate=None if decided else call.prompts_to_decide,
        prompts=len(per_prompt),
        provisional=provisional,
        decided=decided,
        head_to_head=call.winner,
        e_value=call.e_value,
        needed=math.exp(call.log_threshold),
        design_effect=call.design,
    )


def _decided_pairs(
    ratings: Sequence[Rating], cells: Cells, by_prompt: PromptCells, compared: int
) -> dict[frozenset[str], str]:
    """Each pair of non-provisional contestants the sequential test has called, with the one called better."""
    index = {label: position for position, label in enumerate(cells.labels)}
    rated = sorted((r.contestant for r in ratings if not r.provisional), key=index.__getitem__)
    decided = {}
    for first, second in itertools.combinations(rated, 2):
        records = by_prompt.pair_records(cells, index[first], index[second])
        called = winner(records, between_prompt_variance(records), compared)
        if called is not None:
            decided[frozenset((first, second))] = (first, second)[called]
    return decided


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
