"""``linear_quantiles`` is ``np.quantile``'s default method to the last bit (it replaces it in the fits only
to avoid importing ``numpy.ma``): every shape and probability the leaderboard and style control use, and the
edges."""

from __future__ import annotations

import numpy as np
import pytest

from arena.analysis.quantiles import linear_quantiles


@pytest.mark.parametrize("count", [1, 2, 3, 7, 40, 999, 1000, 1001])
@pytest.mark.parametrize("columns", [None, 1, 6])
def test_the_same_numbers_as_numpy(count: int, columns: int | None) -> None:
    rng = np.random.default_rng(count * 10 + (columns or 0))
    shape = (count,) if columns is None else (count, columns)
    for _ in range(10):
        draws = rng.normal(1000, rng.uniform(1, 300), size=shape)
        for probabilities in ([0.025, 0.975], [0.0, 1.0], [0.5], list(rng.uniform(0, 1, 4))):
            expected = np.quantile(draws, probabilities, axis=0)
            found = linear_quantiles(draws, probabilities)
            assert found.shape == expected.shape
            assert np.array_equal(found, expected)  # bit for bit, not approximately


def test_ties_nan_and_no_values() -> None:
    repeated = np.array([[3.0, 1.0], [3.0, 1.0], [3.0, 2.0]])
    assert np.array_equal(linear_quantiles(repeated, [0.25, 0.75]), np.quantile(repeated, [0.25, 0.75], axis=0))
    with_nan = np.array([[1.0, np.nan], [2.0, 5.0], [3.0, 6.0]])
    found = linear_quantiles(with_nan, [0.1, 0.9])
    assert np.isnan(found[:, 1]).all() and np.array_equal(found[:, 0], np.quantile(with_nan[:, 0], [0.1, 0.9]))
    with pytest.raises(ValueError):
        linear_quantiles(np.array([]), [0.5])
