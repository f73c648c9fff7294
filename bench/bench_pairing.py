"""Pairing rules against a simulated judge: how many votes until the board puts 5 contestants in their
true order 90% of the time, with `least-met` (every pair in turn) and `uncertain` (the pair whose order
the votes so far leave least certain, weighted toward pairs that met less).

The judge follows Bradley-Terry exactly, with true ratings 60 points apart (the better of two neighbours
wins 58.5% of their battles); ties are left out. Each budget is replayed 100 times with different seeds;
the order counts as right when the point ratings at the end sort the five exactly as the truth does. The
`uncertain` rule refits the ratings every 5 votes here (the arena refits before every battle; the bench
would take minutes otherwise).
"""

from __future__ import annotations

import random
import time

import numpy as np

from arena.analysis.ratings import SCALE, fit_bradley_terry
from arena.analysis.ratings.standing import Standing
from arena.backend import Contestant
from arena.engine.battle import pick_pair, pick_uncertain_pair

TRUE = [1000.0, 1060.0, 1120.0, 1180.0, 1240.0]
BUDGETS = (50, 100, 200, 300, 400, 600, 800, 1200)
REPLAYS = 100
REFIT_EVERY = 5
TARGET = 0.9


def simulate(rule: str, votes: int, seed: int) -> bool:
    rng = random.Random(seed)
    contestants = [Contestant(f"m{i}", "replay", "x") for i in range(len(TRUE))]
    index = {c.label: i for i, c in enumerate(contestants)}
    scores = np.zeros((len(TRUE), len(TRUE)))
    counts: dict[frozenset[str], int] = {}
    ratings: dict[str, float] = {}
    for vote in range(votes):
        if rule == "uncertain":
            if vote % REFIT_EVERY == 0 and scores.sum() > 0:
                beta = fit_bradley_terry(scores[None])[0] * SCALE / np.log(10)
                ratings = {c.label: 1000.0 + float(beta[i]) for i, c in enumerate(contestants)}
            a, b = pick_uncertain_pair(contestants, counts, Standing(ratings), rng)
        else:
            a, b = pick_pair(contestants, counts, rng)
        i, j = index[a.label], index[b.label]
        p = 1.0 / (1.0 + 10.0 ** ((TRUE[j] - TRUE[i]) / SCALE))
        winner, loser = (i, j) if rng.random() < p else (j, i)
        scores[winner, loser] += 1
        pair = frozenset((a.label, b.label))
        counts[pair] = counts.get(pair, 0) + 1
    fitted = fit_bradley_terry(scores[None])[0]
    return bool(np.all(np.diff(fitted) > 0))


def run() -> str:
    lines = [
        "## Pairing: votes to get the true order of 5 contestants right 90% of the time\n",
        f"Simulated Bradley-Terry judge, true ratings {int(TRUE[1] - TRUE[0])} points apart; "
        f"{REPLAYS} replays per budget; share of replays with the exact true order.\n",
        "| rule | " + " | ".join(str(budget) for budget in BUDGETS) + " | votes for 90% |",
        "|---|" + "---|" * (len(BUDGETS) + 1),
    ]
    started = time.perf_counter()
    for rule in ("least-met", "uncertain"):
        shares = [sum(simulate(rule, budget, seed) for seed in range(REPLAYS)) / REPLAYS for budget in BUDGETS]
        enough = next((str(budget) for budget, share in zip(BUDGETS, shares, strict=True) if share >= TARGET), "> 1200")
        lines.append(f"| {rule} | " + " | ".join(f"{share:.0%}" for share in shares) + f" | {enough} |")
    lines += ["", f"Simulation time {time.perf_counter() - started:.0f} s.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
