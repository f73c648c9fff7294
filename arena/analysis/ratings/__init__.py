"""Turn votes into ratings a careful person can trust: Bradley-Terry with bootstrap intervals, plus Elo.

The parts, each one job: ``data`` (outcomes and every count taken from them), ``method`` (the seam a rating
method plugs into: ``RatingModel``, one class per method), ``bt`` (the model, its scale and win probability,
Elo, the plain fit), ``styled`` (the fit with style taken out) and ``board`` (the leaderboard put together).
The names below are the package's surface, for callers that want a board rather than its parts.
"""

from arena.analysis.ratings.board import (
    PROVISIONAL_BELOW,
    Leaderboard,
    Rating,
    Sureness,
    compute_leaderboard,
    parse_anchor,
)
from arena.analysis.ratings.bt import (
    INITIAL_RATING,
    SCALE,
    BradleyTerry,
    elo_ratings,
    fit_bradley_terry,
    win_probability,
)
from arena.analysis.ratings.columns import VoteColumns
from arena.analysis.ratings.data import (
    Outcome,
    PairRecord,
    PositionBias,
    matrix_rows,
    outcomes_from_rows,
    tallies,
    tally,
)
from arena.analysis.ratings.method import FitInput, Fitted, RatingModel
from arena.analysis.ratings.styled import StyleColumns, StyleControlled

__all__ = [
    "INITIAL_RATING",
    "PROVISIONAL_BELOW",
    "SCALE",
    "BradleyTerry",
    "FitInput",
    "Fitted",
    "Leaderboard",
    "Outcome",
    "PairRecord",
    "PositionBias",
    "Rating",
    "RatingModel",
    "StyleColumns",
    "StyleControlled",
    "Sureness",
    "VoteColumns",
    "compute_leaderboard",
    "elo_ratings",
    "fit_bradley_terry",
    "matrix_rows",
    "outcomes_from_rows",
    "parse_anchor",
    "tallies",
    "tally",
    "win_probability",
]
