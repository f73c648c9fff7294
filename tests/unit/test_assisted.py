"""Judge-assisted ratings (``arena.analysis.ratings.assisted``, ``arena leaderboard --assisted-by``): the
humans' Bradley-Terry ratings from few human votes and many verdicts of an automatic judge, rectified by the
judge's errors: seeded simulations of good, useless and biased judges (the database path: tests/app)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.assisted_sim import JUDGES, arenas


@pytest.mark.parametrize("kind", JUDGES)
def test_the_assisted_interval_covers_the_humans_truth_whatever_the_judge(kind: str) -> None:
    found = arenas(kind, 120)
    coverage = float(np.mean([covered for run in found for covered in run.covered]))
    assert coverage >= 0.93, (kind, coverage)
    width = np.mean([run.width for run in found]) / np.mean([run.human_width for run in found])
    weight = np.mean([run.facts.weight for run in found])
    if kind == "good":  # a judge that agrees 90% of the time narrows the board and is used
        assert width < 0.75 and weight > 0.5, (width, weight)
        assert np.mean([run.facts.effective_votes for run in found]) > 2 * 120
    if kind == "useless":  # a coin is (nearly) ignored: it costs nothing
        assert 0.95 < width < 1.05 and weight < 0.15, (width, weight)
