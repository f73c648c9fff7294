"""The vibe-check report: per contestant, how often it loops, collapses, says nothing or runs out of
budget, how well it keeps the prompts' constraints, and how fast it is.

Every rate carries a 95% Wilson interval, and each contestant is compared with the first one (the
baseline): where the two intervals overlap the difference is inside the noise and is shown as a tie.

Owns the computation only (``ReportRow``, ``Rate``); the rows come from ``arena.store.queries`` and are
rendered, by field name, in ``arena.present.report_format``.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from arena.analysis.flags import CONSTRAINT_PREFIX, RATED_FLAGS
from arena.analysis.stats import clustered_interval, intervals_overlap
from arena.store import Store
from arena.store.queries import latest_fidelity, reason_counts, report_generations, session_contestants


@dataclass(frozen=True)
class Rate:
    """``hits`` out of ``n`` with its interval; ``versus_first`` is '≈', 'higher' or 'lower' (None for the baseline)."""

    hits: int
    n: int
    low: float
    high: float
    versus_first: str | None = None

    @property
    def rate(self) -> float | None:
        return self.hits / self.n if self.n else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "hits": self.hits,
            "n": self.n,
            "rate": None if self.rate is None else round(self.rate, 4),
            "ci": [round(self.low, 4), round(self.high, 4)],
            "versus_first": self.versus_first,
        }


@dataclass(frozen=True)
class Fidelity:
    """A contestant's newest ``arena fidelity`` numbers against a reference model."""

    reference: str
    top1_agreement: float
    mean_kld: float
    tokens: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "top1_agreement": self.top1_agreement,
            "mean_kld": self.mean_kld,
            "tokens": self.tokens,
        }


@dataclass(frozen=True)
class ReportRow:
    contestant: str
    generations: int
    cancelled: int
    rates: dict[str, Rate]
    median_tokens_per_s: float | None
    speed_ratio: float | None
    peak_mem_bytes: int | None
    fidelity: Fidelity | None = None
    reasons: dict[str, int] = field(default_factory=dict)
    """Why judges voted for or against it (``arena play``'s reason tags), over every session."""
    flips: Rate | None = None
    """Where a prompt has several answers (``--samples``): of its checks (flags and constraints) seen on every
    answer, how many the answers disagree on; None when no prompt has two answers."""
    flippiest: tuple[str, ...] = ()
    """The prompts whose answers disagree on the most checks (at most three)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "contestant": self.contestant,
            "generations": self.generations,
            "cancelled": self.cancelled,
            **{name: rate.to_dict() for name, rate in self.rates.items()},
            "median_tokens_per_s": self.median_tokens_per_s,
            "speed_ratio": self.speed_ratio,
            "peak_mem_bytes": self.peak_mem_bytes,
            "fidelity": None if self.fidelity is None else self.fidelity.to_dict(),
            "reasons": self.reasons,
            "flips": None if self.flips is None else self.flips.to_dict(),
            "flippiest_prompts": list(self.flippiest),
        }


def build_report(store: Store, session: int | None, reference: str | None = None) -> list[ReportRow]:
    """One row per contestant; None means every session. Where ``arena fidelity`` measured a contestant
    (against ``reference``, or its newest measurement against any), the row carries those numbers too.

    The first row is the baseline every other row is compared with: the batch's first ``--model`` when the
    report covers one batch, else the contestants in alphabetical order. Answers the judge stopped (esc)
    are counted apart and left out of every rate: a cut-short answer says nothing about loops or constraints.
    """
    generations = report_generations(store, session)
    measured = fidelity_by_label(store, reference)
    tagged = reason_counts(store)
    present = sorted({row.contestant for row in generations})
    given = [label for label in session_contestants(store, session) if label in present] if session else []
    order = given + [label for label in present if label not in given]
    rows: list[ReportRow] = []
    for contestant in order:
        own = [g for g in generations if g.contestant == contestant]
        judged = [g for g in own if g.finish_reason != "cancelled"]
        analyzed = [(g.prompt, g.checks) for g in judged if g.checks is not None]
        rates = {name: _rate(analyzed, _flag_hit(name)) for name in RATED_FLAGS}
        rates["constraints"] = _rate(analyzed, _constraints_met)
        flips, flippiest = _flips(analyzed)
        speeds = [g.tokens_per_s for g in own if g.tokens_per_s is not None]
        memory = [g.peak_mem_bytes for g in own if g.peak_mem_bytes is not None]
        rows.append(
            ReportRow(
                contestant=contestant,
                generations=len(own),
                cancelled=len(own) - len(judged),
                rates=rates,
                median_tokens_per_s=statistics.median(speeds) if speeds else None,
                speed_ratio=None,
                peak_mem_bytes=max(memory) if memory else None,
                fidelity=measured.get(contestant),
                reasons=tagged.get(contestant, {}),
                flips=flips,
                flippiest=flippiest,
            )
        )
    return _compare_with_first(rows)


Analyzed = list[tuple[str, dict[str, bool]]]
"""Each judged answer's prompt and its checks (flag or constraint name -> hit)."""


def _flag_hit(name: str) -> Callable[[dict[str, bool]], list[bool]]:
    return lambda found: [bool(found.get(name))]


def _constraints_met(found: dict[str, bool]) -> list[bool]:
    return [not hit for name, hit in found.items() if name.startswith(CONSTRAINT_PREFIX)]


def _rate(analyzed: Analyzed, outcomes: Callable[[dict[str, bool]], list[bool]]) -> Rate:
    """Successes over trials with an interval that counts a prompt's answers as one cluster
    (``stats.clustered_interval``): several answers to one prompt are not independent evidence."""
    by_prompt: dict[str, list[bool]] = {}
    for prompt, found in analyzed:
        by_prompt.setdefault(prompt, []).extend(outcomes(found))
    groups = [(sum(values), len(values)) for values in by_prompt.values()]
    hits = sum(h for h, _ in groups)
    trials = sum(n for _, n in groups)
    return Rate(hits, trials, *clustered_interval(groups))


def _flips(analyzed: Analyzed) -> tuple[Rate | None, tuple[str, ...]]:
    """How often a prompt's answers disagree on a check, over the (prompt, check) pairs that every one of
    the prompt's answers (two or more) was checked on; and the prompts with the most disagreements."""
    by_prompt: dict[str, list[dict[str, bool]]] = {}
    for prompt, found in analyzed:
        by_prompt.setdefault(prompt, []).append(found)
    groups = []
    disagreeing: dict[str, int] = {}
    for prompt, answers in by_prompt.items():
        if len(answers) < 2:
            continue
        shared = set.intersection(*(set(found) for found in answers))
        checks = [name for name in shared if name in RATED_FLAGS or name.startswith(CONSTRAINT_PREFIX)]
        flipped = sum(1 for name in checks if len({found[name] for found in answers}) > 1)
        groups.append((flipped, len(checks)))
        disagreeing[prompt] = flipped
    if not groups:
        return None, ()
    flipped_total = sum(h for h, _ in groups)
    checked = sum(n for _, n in groups)
    flippiest = sorted((prompt for prompt, n in disagreeing.items() if n), key=lambda p: (-disagreeing[p], p))[:3]
    return Rate(flipped_total, checked, *clustered_interval(groups)), tuple(flippiest)


def fidelity_by_label(store: Store, reference: str | None = None) -> dict[str, Fidelity]:
    """Each measured contestant's newest fidelity (against ``reference``, or any reference)."""
    return {
        label: Fidelity(row.reference, row.top1_agreement, row.mean_kld, row.tokens)
        for label, row in latest_fidelity(store, reference).items()
    }


def _compare_with_first(rows: list[ReportRow]) -> list[ReportRow]:
    if not rows:
        return rows
    first = rows[0]
    compared = [first]
    for row in rows[1:]:
        rates = {}
        for name, rate in row.rates.items():
            base = first.rates[name]
            if not rate.n or not base.n:
                versus = None
            elif intervals_overlap((rate.low, rate.high), (base.low, base.high)):
                versus = "≈"
            else:
                versus = "higher" if (rate.rate or 0) > (base.rate or 0) else "lower"
            rates[name] = Rate(rate.hits, rate.n, rate.low, rate.high, versus)
        ratio = (
            row.median_tokens_per_s / first.median_tokens_per_s
            if row.median_tokens_per_s is not None and first.median_tokens_per_s
            else None
        )
        compared.append(replace(row, rates=rates, speed_ratio=ratio))
    compared[0] = replace(first, speed_ratio=1.0 if first.median_tokens_per_s else None)
    return compared
