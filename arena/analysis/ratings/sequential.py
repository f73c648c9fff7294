"""Calls that stay true however often the board is read: when the arena says one contestant is above
another, the call comes from an anytime-valid test, not from a fixed-sample interval.

Why. A judge reads the board after every few votes and stops at the first "separated". A fixed-sample rule
(the bootstrap's 97.5%) read after every vote calls one of two *equal* models better in about half of all
runs (measured in ``bench/bench_sequential.py``). An e-process does not care how often it is read: by
Ville's inequality, a nonnegative supermartingale that starts at 1 ever reaches 1/alpha with probability at
most alpha. So the arena keeps, for each pair, two e-processes on its head-to-head decisive votes:

- ``E_up`` bets that a wins more than half of them: a mixture, over alternatives q in (1/2, 1) with a
  uniform weight, of the likelihood ratios (q / (1/2))^wins ((1 - q) / (1/2))^losses. Under any true share
  p <= 1/2 each ratio has expectation at most 1 per vote, so the mixture is a supermartingale and the chance
  that it *ever* crosses the threshold is at most the level it is given;
- ``E_down`` the same for b.

The board calls "a above b" when ``E_up`` crosses 2 P / alpha, with P the number of pairs on the board: each
direction of each pair gets alpha / (2 P), so the chance that the board *ever* calls any wrong order, read
after every vote for as long as voting goes on, is at most alpha (family-wise, Bonferroni over every pair,
since which pairs are neighbours depends on the data). Ties and both-bad votes carry no direction and are
left out of the test (they count in the ratings as half a win each).

Votes on one prompt are not independent. Where the same prompts are judged many times, a pair's votes are
discounted by their design effect before the test: D = 1 + omega^2 sum_j n_j^2 / (n p (1 - p)), with omega^2
the variance of the pair's win share between prompts beyond what the votes on each explain (the board's
``between_prompt_variance``), n_j the decisive votes on prompt j and n their total. With no difference
between prompts D = 1 and the test is exact; with differences, more votes on the same prompts add less and
less evidence (n / D tends to M p (1 - p) / omega^2 for M prompts), which is when the board says "more
prompts needed". The discount is an estimate, so the test is exact for votes independent given the pair and
approximate (conservative in ``bench/bench_sequential.py``) when prompts differ.

Pure numpy on two counts per pair: a board of a few hundred battles stays a few milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from arena.analysis.ratings.data import FloatArray

ALPHA = 0.05
"""The board's level: the chance it ever calls a wrong order, however often it is read."""
_GRID: FloatArray = np.linspace(0.5025, 0.9975, 199)
"""The alternatives the mixture bets on (win shares above 1/2), equally weighted: a uniform prior."""
_LOG_UP = np.log(2.0 * _GRID)
_LOG_DOWN = np.log(2.0 * (1.0 - _GRID))
_LOG_WEIGHT = -math.log(len(_GRID))
MAX_VOTES = 100_000
"""Beyond this many more decisive votes the board says "level" instead of a number."""
MIN_SHARE = 0.05
"""The win share the design effect's binomial variance is floored at (a 10-0 record is not variance 0)."""


def log_evidence(wins: float, losses: float) -> float:
    """log E: the mixture e-value that the side with ``wins`` wins more than half of the decisive votes."""
    terms = _LOG_WEIGHT + wins * _LOG_UP + losses * _LOG_DOWN
    top = float(terms.max())
    return top + math.log(float(np.exp(terms - top).sum()))


def threshold(pairs: int, alpha: float = ALPHA) -> float:
    """log of the e-value a call needs: each direction of each of ``pairs`` pairs gets alpha / (2 pairs)."""
    return math.log(2.0 * max(pairs, 1) / alpha)


def design_effect(per_prompt: Sequence[tuple[int, int]], omega: float) -> float:
    """How many times less evidence a pair's votes carry than as many independent ones: 1 + omega^2
    sum_j n_j^2 / (n p (1 - p)) over prompts j with n_j decisive votes (``per_prompt``: (wins, votes))."""
    votes = sum(n for _, n in per_prompt)
    if votes == 0 or omega <= 0:
        return 1.0
    share = min(max(sum(w for w, _ in per_prompt) / votes, MIN_SHARE), 1 - MIN_SHARE)
    return 1.0 + omega * sum(n * n for _, n in per_prompt) / (votes * share * (1 - share))


@dataclass(frozen=True)
class PairCall:
    """What the sequential test says about ``a`` against ``b`` on their head-to-head record."""

    a: str
    b: str
    wins: int
    """a's decisive wins against b."""
    losses: int
    design: float
    """The design effect the votes were discounted by (1: votes as independent as they look)."""
    log_for_a: float
    log_for_b: float
    log_threshold: float
    votes_to_decide: int | None = None
    """Expected further decisive votes until a call, at the share the ratings imply (0 once called; None
    when more votes on these prompts cannot decide it, or the two are level)."""
    prompts_to_decide: int | None = None
    """Where more votes on the same prompts cannot decide it: about how many prompts would."""

    @property
    def winner(self) -> str | None:
        """Whom the test has called the better of the two (None: open)."""
        if self.log_for_a >= self.log_threshold:
            return self.a
        if self.log_for_b >= self.log_threshold:
            return self.b
        return None

    @property
    def e_value(self) -> float:
        """The larger of the two e-values (how far the evidence has come; the call needs ``2 P / alpha``)."""
        return math.exp(min(max(self.log_for_a, self.log_for_b), 700.0))


def call_pair(
    a: str,
    b: str,
    per_prompt: Sequence[tuple[int, int]],
    omega: float,
    pairs: int,
    expected_share: float,
    alpha: float = ALPHA,
) -> PairCall:
    """The test's state for a and b: ``per_prompt`` holds a's (wins, decisive votes) against b on each
    prompt where they met, ``omega`` the between-prompt variance, ``pairs`` how many pairs the board holds,
    ``expected_share`` the share of decisive votes a is expected to win (from the ratings)."""
    wins = sum(w for w, _ in per_prompt)
    losses = sum(n for _, n in per_prompt) - wins
    design = design_effect(per_prompt, omega)
    bar = threshold(pairs, alpha)
    up, down = log_evidence(wins / design, losses / design), log_evidence(losses / design, wins / design)
    call = PairCall(a, b, wins, losses, design, up, down, bar)
    if call.winner is not None:
        return _with(call, votes=0)
    return _needed(call, per_prompt, omega, expected_share)


def winner(per_prompt: Sequence[tuple[int, int]], omega: float, pairs: int, alpha: float = ALPHA) -> int | None:
    """The test's call alone, without what a call would take (cheap: for every pair of the board): 0 when
    the first of the pair is called the better, 1 the second, None while open."""
    wins = sum(w for w, _ in per_prompt)
    losses = sum(n for _, n in per_prompt) - wins
    design = design_effect(per_prompt, omega)
    bar = threshold(pairs, alpha)
    if log_evidence(wins / design, losses / design) >= bar:
        return 0
    if log_evidence(losses / design, wins / design) >= bar:
        return 1
    return None


def _with(call: PairCall, *, votes: int | None = None, prompts: int | None = None) -> PairCall:
    return PairCall(
        call.a, call.b, call.wins, call.losses, call.design, call.log_for_a, call.log_for_b, call.log_threshold,
        votes, prompts,
    )  # fmt: skip


def _needed(call: PairCall, per_prompt: Sequence[tuple[int, int]], omega: float, share: float) -> PairCall:
    """Further decisive votes until a call, on the expected path (the counts growing at ``share``, spread over
    the prompts met so far like the votes before): within a quarter of the simulated mean in the tests."""
    if abs(share - 0.5) < 1e-3:
        return call
    prompts = max(1, len(per_prompt))
    spread = sum(n * n for _, n in per_prompt)
    votes = call.wins + call.losses
    variance = share * (1 - share)

    def crosses(more: int) -> bool:
        total = votes + more
        squares = spread + (2 * votes * more + more * more) / prompts  # the new votes spread evenly
        design = 1.0 + omega * squares / (total * variance) if omega > 0 and total else 1.0
        wins, losses = (call.wins + more * share) / design, (call.losses + more * (1 - share)) / design
        leader, trailer = (wins, losses) if share > 0.5 else (losses, wins)
        return log_evidence(leader, trailer) >= call.log_threshold

    if not crosses(MAX_VOTES):  # the same prompts cannot decide it: how many prompts could
        return _with(call, prompts=_prompts_needed(call.log_threshold, omega, share, votes / prompts))
    low, high = 0, MAX_VOTES
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if crosses(middle) else (middle, high)
    return _with(call, votes=high)


def _prompts_needed(bar: float, omega: float, share: float, per_prompt: float) -> int | None:
    """Prompts that, at the current votes per prompt, would carry enough evidence for a call."""
    leader = max(share, 1 - share)
    if log_evidence(MAX_VOTES * leader, MAX_VOTES * (1 - leader)) < bar:
        return None
    low, high = 0, MAX_VOTES  # the effective votes a call needs
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if log_evidence(middle * leader, middle * (1 - leader)) >= bar else (middle, high)
    effective = high
    inflation = 1.0 + omega * max(per_prompt, 1.0) / (share * (1 - share))
    return math.ceil(effective * inflation / max(per_prompt, 1.0))
