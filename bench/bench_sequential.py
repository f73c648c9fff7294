"""Calls that stay true however often the board is read (issue 34): the sequential test against the old
fixed-sample rule, on simulated judges who read the board after every vote.

- False calls: two (and four) equal contestants, the board read after every vote: how often it *ever*
  calls one better. The old rule (the prompt bootstrap's 97.5%, not provisional) read the same way, and once.
- Power: votes (ties included) until the test decides a pair whose better side wins 55, 60, 65 and 70% of
  the decisive votes, 30% ties, 30 prompts; the old rule's votes to its first "separated" beside it.
- Pairing: 4 contestants 70 points apart; votes until the whole order is decided (every adjacent pair
  called), pairing by need (open adjacent pairs first) against every pair in turn.
- The small-cluster correction: one look at 200 votes on 20 and 30 prompts, equal contestants.

Everything is seeded; the runs are many (300 per figure) so the shares carry about +-1.3 points at 5%.
"""

from __future__ import annotations

import math
import random
import statistics
import time

from arena.analysis.ratings import board as board_module
from arena.analysis.ratings import compute_leaderboard
from arena.analysis.ratings.method import small_cluster_factor
from tests.support.sequential_sim import pair_votes, simulate

RUNS = 300
SHARES = (0.55, 0.60, 0.65, 0.70)
ONE_LOOK_RUNS = 3000
OLD_RUNS = 100
"""The old rule refits a bootstrap at every look: fewer runs (its shares carry about +-4 points)."""


def _gap(share: float) -> float:
    return 400 * math.log10(share / (1 - share))


def _old_rule(share: float, budget: int, every: int, seed: int) -> tuple[int | None, bool]:
    """The old "separated" read every ``every`` votes: (votes at the first call, whether it was wrong)."""
    rng = random.Random(seed)
    votes = pair_votes(rng, budget, 30, share)
    for looked in range(every, budget + 1, every):
        (pair,) = compute_leaderboard(votes[:looked], rounds=200, seed=seed).neighbours
        if not pair.provisional and pair.p_a_better is not None and pair.p_a_better >= 0.975:
            return looked, share <= 0.5 or pair.a != "a"
    return None, False


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.0f}" if values else "-"


def _false_calls() -> list[str]:
    two = [simulate([1000.0, 1000.0], rng=random.Random(seed), budget=600) for seed in range(RUNS)]
    four = [simulate([1000.0] * 4, rng=random.Random(seed), budget=600) for seed in range(RUNS)]
    spread = [simulate([1000.0] * 2, rng=random.Random(s), budget=1000, prompt_spread=0.15) for s in range(RUNS)]
    old_every = [_old_rule(0.5, 300, 1, seed)[0] is not None for seed in range(OLD_RUNS // 2)]
    old_five = [_old_rule(0.5, 200, 5, seed)[0] is not None for seed in range(OLD_RUNS)]

    def share(found: list[bool]) -> str:
        return f"{sum(found) / len(found):.1%} ({len(found)} runs)"

    return [
        "| how the board is read (equal contestants, 30 prompts, 30% ties) | sequential test | old rule |",
        "|---|---|---|",
        f"| 2 contestants, after every vote, up to 600 votes | {share([r.wrong for r in two])} | - |",
        f"| 2 contestants, after every vote, up to 300 votes | - | {share(old_every)} |",
        f"| 2 contestants, every 5 votes, up to 200 | - | {share(old_five)} |",
        f"| 4 contestants (any pair), after every vote, up to 600 | {share([r.wrong for r in four])} | - |",
        f"| 2 contestants, prompts differ (sd 0.15), after every vote, up to 1000 | {share([r.wrong for r in spread])} "
        "| - |",
    ]


def _power() -> list[str]:
    lines = [
        "| decisive share of the better | sequential: median votes to decide | decided within 3000 "
        "| old rule: median votes to its first call |",
        "|---|---|---|---|",
    ]
    for share in SHARES:
        runs = [simulate([1000.0 + _gap(share), 1000.0], rng=random.Random(s), budget=3000) for s in range(RUNS)]
        decided = [run.votes for run in runs if run.decided]
        old = [v for s in range(OLD_RUNS // 2) if (v := _old_rule(share, 400, 5, s)[0]) is not None]
        lines.append(
            f"| {share:.0%} | {_median([float(v) for v in decided])} | {len(decided) / len(runs):.0%} | "
            f"{_median([float(v) for v in old])} (calls within 400: {len(old)}/{OLD_RUNS // 2}) |"
        )
    return lines


def _pairing() -> list[str]:
    truth = [1210.0, 1140.0, 1070.0, 1000.0]
    found = {}
    for pairing in ("least-met", "need"):
        runs = [simulate(truth, rng=random.Random(s), budget=8000, pairing=pairing) for s in range(RUNS // 3)]
        found[pairing] = ([r.votes for r in runs if r.decided], sum(r.wrong for r in runs), len(runs))
    uniform = statistics.median(found["least-met"][0])
    need = statistics.median(found["need"][0])
    return [
        "| pairing | median votes until the whole order is decided | runs decided within 8000 | wrong calls |",
        "|---|---|---|---|",
        *(
            f"| {name} | {statistics.median(votes):.0f} | {len(votes)}/{total} | {wrong} |"
            for name, (votes, wrong, total) in found.items()
        ),
        "",
        f"By need: {1 - need / uniform:.0%} fewer votes than every pair in turn.",
    ]


def _no_correction(clusters: int, confidence: float = 0.95) -> float:
    return 1.0


def _one_look() -> list[str]:
    lines = ["| prompts | plain bootstrap | with the small-cluster correction |", "|---|---|---|"]
    for prompts in (20, 30):
        rates = []
        for corrected in (False, True):
            vars(board_module)["small_cluster_factor"] = small_cluster_factor if corrected else _no_correction
            called = 0
            for seed in range(ONE_LOOK_RUNS):
                votes = pair_votes(random.Random(seed), 200, prompts)
                (pair,) = compute_leaderboard(votes, rounds=1000, seed=seed).neighbours
                called += pair.p_a_better is not None and pair.p_a_better >= 0.975
            rates.append(called / ONE_LOOK_RUNS)
        vars(board_module)["small_cluster_factor"] = small_cluster_factor
        lines.append(f"| {prompts} | {rates[0]:.1%} | {rates[1]:.1%} |")
    return lines


def run() -> str:
    started = time.perf_counter()
    lines = [
        "## Sequential calls: safe to read after every vote (issue 34)\n",
        "Simulated judges (seeded): votes on 30 prompts, 30% ties, sides at random; the board read after every "
        "vote. The sequential test is the arena's (a mixture e-process per pair on head-to-head decisive votes, "
        "threshold 2 P / alpha for P pairs, votes discounted by their design effect across prompts); the old rule "
        'is the prompt bootstrap\'s 97.5% (the former "separated").\n',
        "### False calls\n",
        *_false_calls(),
        "\n### Votes to a decision\n",
        *_power(),
        "\n### Pairing by need\n",
        "4 contestants 70 points apart (the better of two neighbours wins 60% of their decisive votes).\n",
        *_pairing(),
        "\n### One look with few prompts\n",
        "Two equal contestants, 200 votes, one look at the bootstrap's 97.5% (1,000 rounds, the default; "
        f"{ONE_LOOK_RUNS:,} runs each, +-0.4 points).\n",
        *_one_look(),
        "",
        f"Simulation time {time.perf_counter() - started:.0f} s.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
