"""Interval ends from bootstrap draws: ``np.quantile``'s default (linear) method, written out.

Why not ``np.quantile`` itself: its first call imports ``numpy.ma`` (through ``np.unique``), which costs a
leaderboard on a small database a tenth of its time. The arithmetic below is numpy's own, step for step, so
the numbers are the same to the last bit (``tests/unit/test_quantiles.py`` compares them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt


def linear_quantiles(values: npt.ArrayLike, probabilities: Sequence[float]) -> npt.NDArray[np.float64]:
    """``np.quantile(values, probabilities, axis=0)``: one row per probability (a scalar per probability
    for one-dimensional ``values``). A column holding NaN gives NaN, as numpy does."""
    ordered = np.sort(np.asarray(values, dtype=np.float64), axis=0)
    count = ordered.shape[0]
    if count == 0:
        raise ValueError("quantiles of no values")
    has_nan = np.isnan(ordered[-1])
    rows = []
    for probability in probabilities:
        virtual = (count - 1) * probability  # numpy's virtual index for 'linear', spelled as numpy spells it
        if virtual >= count - 1:
            row = ordered[-1].copy()
        elif virtual < 0:
            row = ordered[0].copy()
        else:
            below = math.floor(virtual)
            weight = virtual - below
            low, high = ordered[below], ordered[below + 1]
            difference = high - low
            row = high - difference * (1 - weight) if weight >= 0.5 else low + difference * weight
        rows.append(np.where(has_nan, np.nan, row))
    return np.asarray(rows, dtype=np.float64)
