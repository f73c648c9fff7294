"""Several judges on one database (after ``arena merge``): do they agree, does any of them favour a side,
and does any of them vote unlike the rest?

Owns the agreement statistics and the outlier test; the votes come from ``arena.store.queries``.

An *item* is what was judged: the two stored answers (several samples of one prompt and pair are several
items; two judges who never saw the same answers share no item), or, for a vote imported without its answers,
the prompt and the unordered pair of contestants. A vote on it is read from the item's fixed orientation
("first wins", "second wins", "tie"; both-bad counts as a tie, skips are left out), so two judges who saw
the same pair on opposite sides still agree. A judge who voted on an item more than once counts with their
latest vote.

- Agreement: Cohen's kappa for each pair of judges, Krippendorff's alpha (nominal) for all of them, with
  and without ties (without: tie votes are left out, so only the direction of decided votes counts).
- Position bias: each judge's share of decided votes won by the left pane, with its 95% Wilson interval.
- Outliers: a sequential test in the spirit of Chatbot Arena's anomalous-user detection. Each decided
  vote of a judge is scored against the other judges' decided votes on the same contestant pair, q (add-one
  smoothed): the e-value 0.5 / q(the outcome this judge chose) is a likelihood ratio of "votes by coin" to
  "votes like the others", with expectation at most 1 for a judge who votes like the others. Its running
  product is then a test martingale, and the judge is flagged once it passes 1 / alpha = 20 (Ville's
  inequality keeps false alarms under 5% however long the judge votes). A coin-flipper, a judge who votes
  by pane position and one who votes against the others all make it grow.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from arena.analysis.stats import wilson_interval

OUTLIER_ALPHA = 0.05
MIN_JUDGES_FOR_OUTLIERS = 3
"""With two judges who disagree, the test cannot tell which one votes unlike the rest: both would be
flagged. Below this many judges nobody is called an outlier (the evidence is still shown)."""


Item = tuple[str, str, str, str]
"""(prompt, first contestant, second contestant, the two answers' generation ids or "")."""


@dataclass(frozen=True)
class Vote:
    judge: str
    prompt: str
    left: str
    right: str
    verdict: str
    answers: frozenset[int] | None = None
    """The two stored answers' generation ids (None: imported without them)."""

    @property
    def pair(self) -> tuple[str, str]:
        first, second = sorted((self.left, self.right))
        return first, second

    @property
    def item(self) -> Item:
        shown = "" if self.answers is None else "-".join(str(answer) for answer in sorted(self.answers))
        return (self.prompt, *self.pair, shown)

    @property
    def winner(self) -> str | None:
        if self.verdict in ("tie", "both_bad"):
            return None
        return self.left if self.verdict == "left" else self.right

    @property
    def outcome(self) -> str:
        """The vote from the item's fixed orientation: whether its "first" contestant won, or a tie.

        Which of the two is "first" is decided per item by a hash, not alphabetically: if the first were
        always the same contestant, a strong one would make most votes "second" for every judge and chance
        agreement alone would explain them (the prevalence problem of kappa and alpha).
        """
        if self.verdict in ("tie", "both_bad"):
            return "tie"
        winner = self.left if self.verdict == "left" else self.right
        first = self.pair[0] if _flip(self.item) else self.pair[1]
        return "first" if winner == first else "second"


def _flip(item: Item) -> bool:
    digest = hashlib.sha256("\x00".join(item[:3]).encode("utf-8", "surrogatepass")).digest()
    return digest[0] % 2 == 0


class JudgedVote(Protocol):
    """What the judges' statistics read of a stored vote (``arena.store.queries.JudgeVoteRow`` is one): the
    analysis names what it reads, the store stays out of it."""

    @property
    def judge(self) -> str | None: ...

    @property
    def prompt(self) -> str: ...

    @property
    def left(self) -> str: ...

    @property
    def right(self) -> str: ...

    @property
    def verdict(self) -> str: ...

    @property
    def answers(self) -> frozenset[int] | None: ...


def votes_from_rows(rows: Sequence[JudgedVote]) -> list[Vote]:
    """Rated votes with a judge, oldest first."""
    return [
        Vote(row.judge, str(row.prompt), str(row.left), str(row.right), str(row.verdict), row.answers)
        for row in rows
        if row.judge is not None and row.verdict != "skip"
    ]


def _latest(votes: Sequence[Vote]) -> dict[str, dict[Item, str]]:
    """judge -> item -> outcome (the judge's latest vote on the item)."""
    table: dict[str, dict[Item, str]] = {}
    for vote in votes:
        table.setdefault(vote.judge, {})[vote.item] = vote.outcome
    return table


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Agreement of two raters on the same items beyond chance; None when chance agreement is total."""
    if not a:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / len(a)
    first, second = Counter(a), Counter(b)
    expected = sum(first[c] * second[c] for c in set(a) | set(b)) / (len(a) * len(a))
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


def krippendorff_alpha(units: Sequence[Sequence[str]]) -> float | None:
    """Krippendorff's alpha for nominal data: ``units`` holds each item's values (any number of raters,
    items with fewer than two values ignored). None when there is no disagreement to expect."""
    coincidences: dict[tuple[str, str], float] = {}
    for values in units:
        m = len(values)
        if m < 2:
            continue
        for i, j in itertools.permutations(range(m), 2):
            key = (values[i], values[j])
            coincidences[key] = coincidences.get(key, 0.0) + 1.0 / (m - 1)
    totals: dict[str, float] = {}
    for (c, _k), weight in coincidences.items():
        totals[c] = totals.get(c, 0.0) + weight
    n = sum(totals.values())
    if n <= 1:
        return None
    disagreement = sum(weight for (c, k), weight in coincidences.items() if c != k)
    expected = sum(totals[c] * totals[k] for c in totals for k in totals if c != k)
    if expected == 0:
        return None
    return 1.0 - (n - 1) * disagreement / expected


@dataclass(frozen=True)
class PairAgreement:
    a: str
    b: str
    shared: int
    kappa: float | None
    kappa_without_ties: float | None
    decided_shared: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "shared_items": self.shared,
            "kappa": _rounded(self.kappa),
            "kappa_without_ties": _rounded(self.kappa_without_ties),
            "decided_shared_items": self.decided_shared,
        }


@dataclass(frozen=True)
class JudgeReport:
    judge: str
    votes: int
    decided: int
    left_share: float | None
    left_low: float
    left_high: float
    shared_votes: int
    """Votes on contestant pairs other judges voted on too (what the outlier test can use)."""
    evidence: float
    """The outlier test's largest running product of e-values; 20 or more flags the judge."""
    flagged: bool

    @property
    def position_biased(self) -> bool:
        return self.decided > 0 and not self.left_low <= 0.5 <= self.left_high

    def to_dict(self) -> dict[str, Any]:
        return {
            "judge": self.judge,
            "votes": self.votes,
            "decided": self.decided,
            "left_share": _rounded(self.left_share),
            "left_share_ci": [round(self.left_low, 4), round(self.left_high, 4)],
            "position_biased": self.position_biased,
            "shared_votes": self.shared_votes,
            "outlier_evidence": round(self.evidence, 3),
            "outlier": self.flagged,
        }


@dataclass(frozen=True)
class JudgesReport:
    judges: list[JudgeReport]
    pairs: list[PairAgreement]
    alpha: float | None
    alpha_without_ties: float | None
    items_with_several_judges: int

    @property
    def outliers_tested(self) -> bool:
        """Whether there are enough judges for the outlier test to call anyone (``MIN_JUDGES_FOR_OUTLIERS``)."""
        return len(self.judges) >= MIN_JUDGES_FOR_OUTLIERS

    @property
    def outlier_note(self) -> str | None:
        """Why nobody is called an outlier, where the judges are too few."""
        if self.outliers_tested:
            return None
        return (
            f"outlier test not called with {len(self.judges)} judge(s): with fewer than {MIN_JUDGES_FOR_OUTLIERS} "
            "it cannot tell which one votes unlike the rest"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "outliers_tested": self.outliers_tested,
            "judges": [judge.to_dict() for judge in self.judges],
            "pairs": [pair.to_dict() for pair in self.pairs],
            "krippendorff_alpha": _rounded(self.alpha),
            "krippendorff_alpha_without_ties": _rounded(self.alpha_without_ties),
            "items_with_several_judges": self.items_with_several_judges,
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def judge_report(votes: Sequence[Vote]) -> JudgesReport:
    latest = _latest(votes)
    names = sorted(latest)
    judges_of: dict[Item, list[str]] = {}
    for name in names:
        for item in latest[name]:
            judges_of.setdefault(item, []).append(name)
    sharing = {pair for judged in judges_of.values() for pair in itertools.combinations(judged, 2)}
    pairs = []
    for a, b in sorted(sharing):  # only pairs that judged an item in common: work grows with the votes
        shared = sorted(set(latest[a]) & set(latest[b]))
        first = [latest[a][item] for item in shared]
        second = [latest[b][item] for item in shared]
        decided = [(x, y) for x, y in zip(first, second, strict=True) if x != "tie" and y != "tie"]
        pairs.append(
            PairAgreement(
                a,
                b,
                len(shared),
                cohen_kappa(first, second),
                cohen_kappa([x for x, _ in decided], [y for _, y in decided]),
                len(decided),
            )
        )
    items: dict[Item, list[str]] = {}
    for judged in latest.values():
        for item, outcome in judged.items():
            items.setdefault(item, []).append(outcome)
    several = [values for values in items.values() if len(values) >= 2]
    crowd: dict[tuple[str, str], Counter[str]] = {}
    for vote in votes:
        if vote.winner is not None:
            crowd.setdefault(vote.pair, Counter())[vote.winner] += 1
    by_judge: dict[str, list[Vote]] = {}
    for vote in votes:
        by_judge.setdefault(vote.judge, []).append(vote)
    judges = [_one_judge(name, by_judge.get(name, []), crowd) for name in names]
    if len(names) < MIN_JUDGES_FOR_OUTLIERS:
        judges = [replace(judge, flagged=False) for judge in judges]
    return JudgesReport(
        judges=judges,
        pairs=pairs,
        alpha=krippendorff_alpha(several),
        alpha_without_ties=krippendorff_alpha([[v for v in values if v != "tie"] for values in several]),
        items_with_several_judges=len(several),
    )


MAX_EVIDENCE = 1e300
"""The outlier evidence shown is capped here: a product of e-values can pass any float, and JSON has no
Infinity. Anything above 20 is flagged alike."""


def _one_judge(name: str, own: Sequence[Vote], crowd: Mapping[tuple[str, str], Counter[str]]) -> JudgeReport:
    """One judge's position bias and sequential outlier test against everyone else's votes (the crowd's
    counts less the judge's own: one pass over the votes for all judges, not one per judge)."""
    decided = [vote for vote in own if vote.verdict in ("left", "right")]
    left_wins = sum(1 for vote in decided if vote.verdict == "left")
    low, high = wilson_interval(left_wins, len(decided))
    mine: dict[tuple[str, str], Counter[str]] = {}
    for vote in own:
        if vote.winner is not None:
            mine.setdefault(vote.pair, Counter())[vote.winner] += 1
    others = {pair: crowd.get(pair, Counter()) - counts for pair, counts in mine.items()}
    log_evidence, peak, shared = 0.0, 0.0, 0
    for vote in own:
        seen = others[vote.pair] if vote.pair in others else crowd.get(vote.pair, Counter())
        if not seen:
            continue
        shared += 1
        if vote.winner is None:
            continue  # a tie says nothing about the direction the test is about
        log_evidence += math.log(0.5 / ((seen[vote.winner] + 1) / (sum(seen.values()) + 2)))
        peak = max(peak, log_evidence)
    peak = min(math.exp(min(peak, 700.0)), MAX_EVIDENCE)
    return JudgeReport(
        judge=name,
        votes=len(own),
        decided=len(decided),
        left_share=left_wins / len(decided) if decided else None,
        left_low=low,
        left_high=high,
        shared_votes=shared,
        evidence=peak,
        flagged=peak >= 1.0 / OUTLIER_ALPHA,
    )
