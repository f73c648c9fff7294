"""How far a judge agrees with the humans, beside baselines that cost nothing (``arena judges``'
``versus_humans``).

An automatic judge says nothing until its agreement with the people in the same database is shown next to
"always pick the longer answer" (AlpacaEval: 62.2% with humans; LMArena's PPE: 59.8%), "always pick the
left pane" and a coin. MT-Bench's definitions (Zheng et al. 2023, section 4.2):

- an *item* is a prompt and an unordered pair of contestants (``arena.analysis.judges.Vote.item``); each
  judge counts with their latest vote on it; a judge's vote is compared with **every** human vote on the
  item by someone else (so an item three people judged gives three comparisons). An automatic judge's
  verdict on two stored answers is compared with the people's votes on the *same two answers* (several
  answer pairs of one prompt are different questions), each such battle being its own item;
- ``agreement_with_ties`` (MT-Bench's S1): the share of comparisons where both say the same, a tie being a
  third answer ("both bad" counts as a tie);
- ``agreement`` (S2): the same over the comparisons where neither says tie, with a 95% interval that
  clusters the comparisons by item (a judge's one vote on an item is compared with each human's: those
  comparisons are not independent);
- ``kappa``: Cohen's kappa over the comparisons (first / second / tie);
- baselines vote on each human's own battle (its two answers as shown): ``baseline:longest`` picks the
  answer with more words (a tie when equal), ``baseline:left`` the left pane, ``baseline:random`` a seeded
  coin; they are compared with that human's vote, on the items the automatic judges judged (on every item
  with a human vote when there is no automatic judge yet);
- ``consistency`` (automatic judges): the share of its verdicts where both orders agreed;
- ``prefers_longer``: of a judge's decided votes between answers of different lengths, the share won by
  the longer one (humans included: people like length too).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from arena.analysis.judges import Item, JudgedVote, Vote, cohen_kappa
from arena.analysis.stats import clustered_interval
from arena.vocab import is_auto_judge

UNNAMED = "(no name)"
BASELINES = ("baseline:longest", "baseline:left", "baseline:random")

Kind = Literal["auto", "human", "baseline"]


@dataclass(frozen=True)
class LengthVote:
    """One vote with what the baselines need: the two answers' lengths, and an automatic judge's consistency."""

    vote: Vote
    battle: int
    left_words: int | None
    right_words: int | None
    consistent: bool | None
    answers: frozenset[int] | None = None
    """The two answers' generation ids, where known: an automatic judge is compared with the people who
    voted on the same two answers, not on other answers to the same prompt."""

    @property
    def decided_longer(self) -> bool | None:
        """Whether the winner is the longer answer (None for a tie or answers of equal or unknown length)."""
        if self.vote.winner is None or self.left_words is None or self.right_words is None:
            return None
        if self.left_words == self.right_words:
            return None
        longer = self.vote.left if self.left_words > self.right_words else self.vote.right
        return self.vote.winner == longer


@dataclass(frozen=True)
class VersusRow:
    judge: str
    kind: Kind
    items: int
    """Distinct items (prompt, pair) compared."""
    comparisons: int
    """(this judge's vote, a human's vote) pairs on the same item."""
    agreement: float | None
    """S2: both decided, the same winner (ties left out)."""
    decided: int
    """Comparisons where neither said tie (S2's denominator)."""
    agreement_with_ties: float | None
    """S1: the same answer, a tie being one."""
    kappa: float | None
    agreement_low: float | None = None
    agreement_high: float | None = None
    """The 95% interval of ``agreement``, comparisons clustered by item (one item's comparisons share a
    vote and lean together: they are not independent)."""
    consistency: float | None = None
    """Automatic judges: the share of verdicts where both orders agreed."""
    prefers_longer: float | None = None
    """Decided votes between answers of different lengths won by the longer one."""
    brier: float | None = None
    """Automatic judges, on the battles a person voted on the same two answers: the mean squared gap between
    its probability that the left answer is better (its verdict where it gives no probability) and the
    person's verdict (1, 0, a tie 0.5); 0.25 is a judge that always says 50%. Where it can assist."""
    reliability: tuple[tuple[float, float, int], ...] = ()
    """(mean probability, the people's mean verdict, battles) per fifth of the probability range: a
    calibrated judge's two numbers match."""
    effective_votes: float | None = None
    """How many human votes its verdicts are worth on this database (the judge-assisted board's
    ``effective human votes``), where it can assist."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "judge": self.judge,
            "kind": self.kind,
            "items": self.items,
            "comparisons": self.comparisons,
            "agreement": _rounded(self.agreement),
            "agreement_ci": None
            if self.agreement_low is None or self.agreement_high is None
            else [_rounded(self.agreement_low), _rounded(self.agreement_high)],
            "decided": self.decided,
            "agreement_with_ties": _rounded(self.agreement_with_ties),
            "kappa": _rounded(self.kappa),
            "consistency": _rounded(self.consistency),
            "prefers_longer": _rounded(self.prefers_longer),
            "brier": _rounded(self.brier),
            "reliability": [
                {"judge": round(p, 3), "humans": round(h, 3), "battles": n} for p, h, n in self.reliability
            ],
            "effective_human_votes": None if self.effective_votes is None else round(self.effective_votes, 1),
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


class WordCountedVote(JudgedVote, Protocol):
    """What the judge-versus-humans comparison reads of a stored vote (``arena.store.auto_verdicts.
    LengthVoteRow`` is one): a judged vote, its battle, its answers' lengths and generation ids, and an
    automatic judge's consistency."""

    @property
    def battle(self) -> int: ...

    @property
    def left_words(self) -> int | None: ...

    @property
    def right_words(self) -> int | None: ...

    @property
    def consistent(self) -> bool | None: ...

    @property
    def answers(self) -> frozenset[int] | None: ...


def length_votes(rows: Sequence[WordCountedVote]) -> list[LengthVote]:
    """Rated votes (skips left out), oldest first."""
    return [
        LengthVote(
            vote=Vote(
                row.judge if row.judge is not None else UNNAMED,
                row.prompt,
                row.left,
                row.right,
                row.verdict,
                row.answers,
            ),
            battle=row.battle,
            left_words=row.left_words,
            right_words=row.right_words,
            consistent=row.consistent,
            answers=row.answers,
        )
        for row in rows
        if row.verdict != "skip"
    ]


def versus_humans(votes: Sequence[LengthVote]) -> list[VersusRow]:
    """One row per automatic judge, per human and per baseline (see the module's definitions)."""
    latest: dict[str, dict[Item, LengthVote]] = {}
    every: dict[str, list[LengthVote]] = {}
    for vote in votes:  # oldest first: the latest vote on an item wins
        latest.setdefault(vote.vote.judge, {})[vote.vote.item] = vote
        every.setdefault(vote.vote.judge, []).append(vote)
    humans = {judge: own for judge, own in latest.items() if not is_auto_judge(judge)}
    by_item: dict[Item, list[LengthVote]] = {}
    for own in humans.values():
        for item, vote in own.items():
            by_item.setdefault(item, []).append(vote)
    rows = []
    autos = sorted(judge for judge in latest if is_auto_judge(judge))
    by_answers: dict[frozenset[int], list[LengthVote]] = {}
    for vote in votes:
        if vote.answers is not None and not is_auto_judge(vote.vote.judge):
            by_answers.setdefault(vote.answers, []).append(vote)
    for judge in [*autos, *sorted(humans)]:
        own = latest[judge]
        if is_auto_judge(judge):
            pairs, compared = _on_the_same_answers(judge, every[judge], by_answers, by_item)
        else:
            pairs = [
                (item, vote.vote.outcome, human.vote.outcome)
                for item, vote in own.items()
                for human in by_item.get(item, [])
                if human.vote.judge != judge
            ]
            compared = {item for item in own if any(h.vote.judge != judge for h in by_item.get(item, []))}
        consistency = None
        if is_auto_judge(judge):
            flags = [vote.consistent for vote in every[judge] if vote.consistent is not None]
            consistency = sum(flags) / len(flags) if flags else None
        kind: Kind = "auto" if is_auto_judge(judge) else "human"
        rows.append(_row(judge, kind, len(compared), pairs, consistency, every[judge]))
    covered = {item for judge in autos for item in latest[judge]} if autos else set(by_item)
    human_votes = [vote for item in sorted(covered) for vote in by_item.get(item, [])]
    items = len({human.vote.item for human in human_votes})
    for name in BASELINES:
        guesses = [_baseline(name, human) for human in human_votes]
        pairs = [
            (human.vote.item, guess.vote.outcome, human.vote.outcome)
            for guess, human in zip(guesses, human_votes, strict=True)
        ]
        rows.append(_row(name, "baseline", items, pairs, None, guesses))
    return rows


def _on_the_same_answers(
    judge: str,
    own: Sequence[LengthVote],
    by_answers: dict[frozenset[int], list[LengthVote]],
    by_item: dict[Item, list[LengthVote]],
) -> tuple[list[tuple[Item, str, str]], set[Item]]:
    """An automatic judge's comparisons: its latest verdict on two stored answers against every person's vote
    on the same two answers (the judge saw exactly what they saw); a verdict on answers nobody stored (an
    import) against the people's latest votes on its item, as for people."""
    latest: dict[frozenset[int] | Item, LengthVote] = {}
    for vote in own:  # oldest first
        latest[vote.answers if vote.answers is not None else vote.vote.item] = vote
    pairs: list[tuple[Item, str, str]] = []
    compared: set[Item] = set()
    for key, vote in latest.items():
        people = by_answers.get(key, []) if isinstance(key, frozenset) else by_item.get(key, [])
        unit: Item = (f"{sorted(key)}", "", "", "") if isinstance(key, frozenset) else key
        for human in people:
            if human.vote.judge != judge:
                pairs.append((unit, vote.vote.outcome, human.vote.outcome))
                compared.add(unit)
    return pairs, compared


def _row(
    judge: str,
    kind: Kind,
    items: int,
    pairs: Sequence[tuple[Item, str, str]],
    consistency: float | None,
    own: Sequence[LengthVote],
) -> VersusRow:
    decided = [(a, b) for _, a, b in pairs if a != "tie" and b != "tie"]
    by_item: dict[Item, list[int]] = {}
    for item, a, b in pairs:
        if a != "tie" and b != "tie":
            counted = by_item.setdefault(item, [0, 0])
            counted[0] += a == b
            counted[1] += 1
    low, high = clustered_interval([(hits, n) for hits, n in by_item.values()]) if decided else (None, None)
    longer = [flag for vote in own if (flag := vote.decided_longer) is not None]
    return VersusRow(
        judge=judge,
        kind=kind,
        items=items,
        comparisons=len(pairs),
        agreement=sum(a == b for a, b in decided) / len(decided) if decided else None,
        decided=len(decided),
        agreement_with_ties=sum(a == b for _, a, b in pairs) / len(pairs) if pairs else None,
        kappa=cohen_kappa([a for _, a, _ in pairs], [b for _, _, b in pairs]) if pairs else None,
        agreement_low=low,
        agreement_high=high,
        consistency=consistency,
        prefers_longer=sum(longer) / len(longer) if longer else None,
    )


def _baseline(name: str, human: LengthVote) -> LengthVote:
    """What the baseline ``name`` votes on the human's own battle."""
    verdict = "left"
    if name == "baseline:longest":
        left, right = human.left_words, human.right_words
        verdict = "tie" if left is None or right is None or left == right else ("left" if left > right else "right")
    elif name == "baseline:random":
        seed = int.from_bytes(hashlib.sha256(str(human.battle).encode()).digest()[:8], "big")
        verdict = random.Random(seed).choice(("left", "right"))
    vote = Vote(name, human.vote.prompt, human.vote.left, human.vote.right, verdict)
    return LengthVote(vote, human.battle, human.left_words, human.right_words, None)


FEW_DECIDED = 30
"""Below this many decided comparisons an agreement figure's 95% interval is wider than +-18 points."""


def versus_notes(rows: Sequence[VersusRow]) -> list[str]:
    """Where a figure would mislead: an automatic judge no better than a free baseline, or too few
    comparisons to say; judged against the humans' own agreement where there is one."""
    notes = []
    baselines = {row.judge: row for row in rows if row.kind == "baseline"}
    longest = baselines.get("baseline:longest")
    for row in rows:
        if row.kind != "auto":
            continue
        if not row.comparisons:
            notes.append(f"{row.judge}: no human vote on the same items yet: nothing to compare with")
            continue
        if row.agreement is None:
            notes.append(f"{row.judge}: every verdict compared is a tie (its two orders disagreed): it decided nothing")
            continue
        if row.decided < FEW_DECIDED:
            notes.append(f"{row.judge}: only {row.decided} decided comparisons: its agreement is a rough figure")
        best = max(
            (base for base in baselines.values() if base.agreement is not None),
            key=lambda base: base.agreement or 0.0,
            default=None,
        )
        if best is not None and best.agreement is not None and row.agreement <= best.agreement:
            notes.append(
                f"{row.judge}: agrees with the humans no more than {best.judge} ({row.agreement:.0%} vs "
                f"{best.agreement:.0%}): do not use its verdicts"
            )
        elif row.agreement < 0.6:
            notes.append(f"{row.judge}: {row.agreement:.0%} agreement is close to a coin (50%)")
        if row.consistency is not None and row.consistency < 0.5:
            notes.append(
                f"{row.judge}: its two orders agree on only {row.consistency:.0%} of the pairs (position bias): "
                "most of its verdicts are ties"
            )
    if longest is not None and longest.agreement is None and any(row.kind == "auto" for row in rows):
        notes.append("baseline:longest could not be computed: the answers' word counts are not stored")
    return notes
