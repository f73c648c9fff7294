"""The style-controlled fit as the board asks for it: each battle's style differences beside its outcome.

The model and its intervals are ``arena.analysis.style``'s; this module lines the votes up with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from arena.analysis.ratings.bt import FloatArray, to_points, weak_prior_precision
from arena.analysis.ratings.columns import IntArray, VoteColumns
from arena.analysis.ratings.method import MIN_PROMPTS_TO_RESAMPLE, FitInput, Fitted, with_interval
from arena.analysis.style import (
    FEATURES,
    StyleCounts,
    StyleFit,
    coefficients,
    fit_style_controlled,
    raw_differences,
    standardize,
)


class StyleColumns(NamedTuple):
    """Each battle's raw style differences (f_A - f_B) / (f_A + f_B + 1) for the four features, as one
    (battles, 4) array aligned with the outcomes: the fast path for 100,000 battles, where the store keeps
    them with each vote and one object per answer would cost more than the fit."""

    raw: FloatArray

    @classmethod
    def of(cls, rows: Sequence[Sequence[float]]) -> StyleColumns:
        """From rows of four differences, as ``arena.store.queries.style_from_texts`` returns them."""
        return cls(np.array(rows, dtype=np.float64).reshape(-1, 4))

    @classmethod
    def from_stored(cls, stored: FloatArray) -> StyleColumns:
        """From every vote's differences as ``migrations.STYLE_COLUMNS`` holds them, (votes, 5): tokens,
        words, headers, lists, bold, the tokens NaN where an answer had no token count. Length is in tokens
        where every vote has them, else in words."""
        by_tokens = bool(np.isfinite(stored[:, 0]).all())
        return cls(np.column_stack([stored[:, 0] if by_tokens else stored[:, 1], stored[:, 2:]]).reshape(-1, 4))

    @classmethod
    def from_counts(cls, left: Sequence[StyleCounts], right: Sequence[StyleCounts]) -> StyleColumns:
        """From both answers' style counts, battle by battle (outcomes built in memory)."""
        return cls(raw_differences(left, right))

    def take(self, kept: IntArray) -> StyleColumns:
        return StyleColumns(self.raw[kept])


def style_fit(
    rated: VoteColumns,
    style: StyleColumns,
    labels: Sequence[str],
    rounds: int,
    seed: int,
    clusters: npt.NDArray[np.int64] | None = None,
) -> StyleFit:
    """Ratings with style taken out, and ``rounds`` joint draws of ratings and coefficients (cluster-robust
    over ``clusters``, each battle's prompt index, when given). ``rated`` names the contestants ``labels``
    names, in that order (``VoteColumns.rated``)."""
    return fit_style_controlled(
        rated.left,
        rated.right,
        rated.scores(),
        standardize(style.raw),
        len(labels),
        weak_prior_precision(),
        rounds=rounds,
        seed=seed,
        clusters=clusters,
    )


class StyleControlled:
    """Bradley-Terry with the answers' style taken out (``arena.analysis.style``): ``columns`` holds each
    battle's style differences, aligned with the outcomes given to ``compute_leaderboard``. Its draws come
    from the fit's sandwich covariance, cluster-robust over prompts where ``FitInput.by_prompt`` is set."""

    name = "style"

    def prompts_needed(self, contestants: int) -> int:
        """More prompts than parameters: the cluster sandwich's middle is a sum over prompts, of rank at most
        prompts - 1, and with fewer it gives some rating no spread at all (on 5 prompts and 5 contestants one
        got an 8-point interval beside its neighbours' 140, and a Rank(UB) it had not earned)."""
        return max(MIN_PROMPTS_TO_RESAMPLE, contestants + len(FEATURES) + 1)

    def __init__(self, columns: StyleColumns) -> None:
        self.columns = columns

    def fit(
        self,
        data: FitInput,
        *,
        rounds: int,
        seed: int,
        anchor: tuple[str, float] | None,
        confidence: float,
    ) -> Fitted:
        columns = self.columns
        if len(data.kept) != len(columns.raw):
            columns = columns.take(data.kept)
        clusters = data.by_prompt.battle_prompt if data.by_prompt is not None else None
        fit = style_fit(data.rated, columns, data.labels, rounds, seed, clusters)
        point = to_points(fit.beta[None, :], data.labels, anchor)[0]
        draws = to_points(fit.beta_draws, data.labels, anchor) if rounds > 0 else None
        return with_interval(point, draws, confidence, style=coefficients(fit, confidence))
