"""Simulated judging for the sequential calls: votes drawn from true ratings, read after every vote the way
the board reads them (``sequential.winner`` on each pair's per-prompt record, exactly what
``compute_leaderboard`` computes for ``Leaderboard.decided``). Shared by ``tests/unit/test_sequential.py``
and ``bench/bench_sequential.py``."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from arena.analysis.ratings import Outcome
from arena.analysis.ratings.board import between_prompt_variance
from arena.analysis.ratings.bt import win_probability
from arena.analysis.ratings.sequential import winner
from arena.analysis.ratings.standing import Standing
from arena.vocab import Verdict


@dataclass
class PairState:
    """One pair's decisive votes per prompt, from the first contestant's side: prompt -> [wins, votes]."""

    records: dict[int, list[int]]

    def per_prompt(self) -> list[tuple[int, int]]:
        return [(wins, votes) for wins, votes in self.records.values()]


@dataclass(frozen=True)
class Run:
    votes: int
    """Votes cast when the run ended (a call on every adjacent pair, a wrong call, or the budget)."""
    wrong: bool
    """The board called some pair in the wrong order (for equal contestants: any call at all)."""
    decided: bool
    """Every pair next to each other in the true order was called, rightly."""


def simulate(
    truth: Sequence[float],
    *,
    rng: random.Random,
    budget: int,
    prompts: int = 30,
    ties: float = 0.3,
    pairing: str = "least-met",
    prompt_spread: float = 0.0,
) -> Run:
    """Votes until the true order is decided (every adjacent pair called), a pair is called wrongly, or
    ``budget`` votes. ``truth`` holds true ratings in points (equal ratings: any call is wrong); each vote is
    a tie with chance ``ties``, else the pair's BT win probability, shifted per prompt by a normal effect
    with sd ``prompt_spread`` (0: prompts do not matter). ``pairing`` is "least-met" (every pair in turn) or
    "need" (the arena's ``Standing.need``: open adjacent pairs first)."""
    k = len(truth)
    labels = [f"m{i}" for i in range(k)]
    pairs = list(itertools.combinations(range(k), 2))
    compared = len(pairs)
    effects = [rng.gauss(0.0, prompt_spread) for _ in range(prompts)]
    state = {pair: PairState({}) for pair in pairs}
    met = dict.fromkeys(pairs, 0)
    called: dict[tuple[int, int], int] = {}
    order = sorted(range(k), key=lambda i: -truth[i])
    needed = {tuple(sorted(pair)) for pair in itertools.pairwise(order) if truth[pair[0]] != truth[pair[1]]}
    wins_total = [[0.0] * k for _ in range(k)]
    for vote in range(1, budget + 1):
        pair = _pick(pairs, met, called, wins_total, labels, rng, pairing)
        met[pair] += 1
        if rng.random() < ties:
            continue
        i, j = pair
        prompt = rng.randrange(prompts)
        p = min(max(win_probability(truth[i], truth[j]) + effects[prompt], 0.01), 0.99)
        first_won = rng.random() < p
        wins_total[i][j] += first_won
        wins_total[j][i] += not first_won
        record = state[pair].records.setdefault(prompt, [0, 0])
        record[0] += first_won
        record[1] += 1
        per_prompt = state[pair].per_prompt()
        side = winner(per_prompt, between_prompt_variance(per_prompt), compared)
        if side is None:
            continue
        better = pair[side]
        if truth[better] <= truth[pair[1 - side]]:
            return Run(vote, wrong=True, decided=False)
        called[pair] = better
        if needed and needed <= set(called):
            return Run(vote, wrong=False, decided=True)
    return Run(budget, wrong=False, decided=False)


def _pick(
    pairs: Sequence[tuple[int, int]],
    met: dict[tuple[int, int], int],
    called: dict[tuple[int, int], int],
    wins: list[list[float]],
    labels: Sequence[str],
    rng: random.Random,
    pairing: str,
) -> tuple[int, int]:
    if pairing == "least-met":
        fewest = min(met.values())
        return rng.choice([pair for pair in pairs if met[pair] == fewest])
    standing = Standing(_points(wins, labels), frozenset(frozenset((labels[i], labels[j])) for i, j in called))
    adjacent = standing.adjacent(labels)
    scored = [(standing.need(frozenset((labels[i], labels[j])), met[(i, j)], adjacent), (i, j)) for i, j in pairs]
    best = min(score for score, _ in scored)
    return rng.choice([pair for score, pair in scored if score == best])


def _points(wins: list[list[float]], labels: Sequence[str]) -> dict[str, float]:
    """Rough ratings from the records (log-odds of each one's overall win share, in points): what pairing
    needs to order the contestants; the arena refits Bradley-Terry, which orders them the same way here."""
    found = {}
    for i, label in enumerate(labels):
        won = sum(wins[i])
        lost = sum(wins[j][i] for j in range(len(labels)))
        found[label] = 1000.0 + 400.0 / math.log(10) * math.log((won + 1) / (lost + 1))
    return found


def pair_votes(rng: random.Random, count: int, prompts: int, share: float = 0.5, ties: float = 0.3) -> list[Outcome]:
    """Votes between a and b on ``prompts`` prompts (drawn at random), sides at random, ``ties`` of them ties
    and a winning ``share`` of the rest: what the issue's measurements of the old rule used."""
    found = []
    for _ in range(count):
        left, right = ("a", "b") if rng.random() < 0.5 else ("b", "a")
        if rng.random() < ties:
            verdict: Verdict = "tie"
        else:
            a_won = rng.random() < share
            verdict = "left" if (left == "a") == a_won else "right"
        found.append(Outcome(left, right, verdict, f"p{rng.randrange(prompts)}"))
    return found
