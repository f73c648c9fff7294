"""Judge-assisted ratings (issue 35) on simulated arenas: 4 contestants 50 points apart, 2,000 battles judged
by an automatic judge, 120 of them also by a person, 40 prompts. For each kind of judge: how often the
assisted 95% interval holds the humans' true rating, its width against the humans-only board on the same
votes, the tuned weight and how many human votes the judge was worth."""

from __future__ import annotations

import time

import numpy as np

from tests.support.assisted_sim import JUDGES, arenas

RUNS = 200


def run() -> str:
    started = time.perf_counter()
    lines = [
        "## Judge-assisted ratings (issue 35)\n",
        f"Simulated: 4 contestants 50 points apart, 2,000 judged battles, 120 of them voted by a person, 40 prompts, "
        f"{RUNS} arenas per judge, 400 bootstrap rounds. Coverage: the share of contestants whose assisted 95% "
        "interval holds the humans' true rating.\n",
        "| judge | coverage | width vs humans-only | weight (lambda) | effective human votes |",
        "|---|---|---|---|---|",
    ]
    for kind in JUDGES:
        found = arenas(kind, RUNS, rounds=400)
        coverage = np.mean([covered for arena in found for covered in arena.covered])
        width = np.mean([a.width for a in found]) / np.mean([a.human_width for a in found])
        weight = np.mean([a.facts.weight for a in found])
        effective = np.mean([a.facts.effective_votes for a in found])
        lines.append(f"| {kind} | {coverage:.1%} | {width:.2f}x | {weight:.2f} | {effective:.0f} (of 120) |")
    lines += ["", f"Simulation time {time.perf_counter() - started:.0f} s.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
