"""Judge-assisted ratings (issue 35) on simulated arenas: 4 contestants 50 points apart, 2,000 battles judged
by an automatic judge, 120 of them also by a person, 40 prompts. For each kind of judge: how often the
assisted 95% interval holds the humans' true rating, its width against the humans-only board on the same
votes, the tuned weight and how many human votes the judge was worth. Then which 80 battles people judge: at
random, or drawn where the judge is least sure (`--pairing judge-uncertain`, weighted back)."""

from __future__ import annotations

import time

import numpy as np

from tests.support.assisted_sim import CHOOSERS, JUDGES, arenas, chosen_arenas

RUNS = 200
CHOSEN_RUNS = 150
SCENES: dict[str, tuple[float, float]] = {
    "close battles (prompts vary a lot, few are plain)": (0.0, 0.0),
    "60% plain battles (one side collapsed), the rest close": (0.6, 0.0),
    "as above, the judge leaning toward m0": (0.6, 2.0),
}
"""(share of plain battles, the judge's lean toward m0 in log-odds) per scene (``assisted_sim.pool``)."""


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
    lines += ["", f"Simulation time {time.perf_counter() - started:.0f} s.", "", *chosen()]
    return "\n".join(lines)


def chosen() -> list[str]:
    """Which 80 battles people judge: at random, or drawn where the judge is least sure (``--pairing
    judge-uncertain``, weighted back)."""
    started = time.perf_counter()
    lines = [
        "### Human votes where they teach most (`--pairing judge-uncertain`)\n",
        "Simulated: a batch of 1,200 battles over 60 prompts, 4 contestants 50 points apart, all judged by a "
        "probability judge (the person's own chance on each battle, seen through log-odds noise 0.5); people "
        f"vote on 80 of them, chosen at random or drawn by the judge's doubt; {CHOSEN_RUNS} batches per row, "
        "200 bootstrap rounds. Truth: the humans' Bradley-Terry ratings over the whole batch.\n",
        "| battles | chosen | coverage | mean interval width (points) | votes' mean weight |",
        "|---|---|---|---|---|",
    ]
    for scene, (clear, lean) in SCENES.items():
        for chooser in CHOOSERS:
            found = chosen_arenas(chooser, CHOSEN_RUNS, clear=clear, favours_m0=lean)
            coverage = np.mean([covered for arena in found for covered in arena.covered])
            width = np.mean([arena.width for arena in found])
            spread = np.std([arena.width for arena in found]) / np.sqrt(len(found))
            weight = np.mean([arena.mean_weight for arena in found])
            lines.append(f"| {scene} | {chooser} | {coverage:.1%} | {width:.0f} +- {spread:.0f} | {weight:.2f} |")
    return [*lines, "", f"Simulation time {time.perf_counter() - started:.0f} s.", ""]


if __name__ == "__main__":
    print(run())
