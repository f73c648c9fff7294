"""What the shareable report (``arena report --html``) shows, gathered from one database: the board with its
intervals, the style-controlled board, ranks per category, the vibe check of every answer, the judges'
agreement and fidelity where the database has them. Human votes only: every number here is the judges'.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from arena.analysis.judges import JudgesReport
from arena.analysis.ratings import Leaderboard
from arena.analysis.ratings.assisted import AssistedFacts
from arena.analysis.versus import VersusRow
from arena.reports.judges import judges_for
from arena.reports.leaderboard import board_for
from arena.reports.vibe_check import Fidelity, ReportRow, build_report, fidelity_by_label
from arena.store import Store
from arena.store.queries import BattleFilter, voted_categories

MIN_CATEGORY_BATTLES = 10
"""A category's ranks are shown only where it has this many battles: fewer would rank noise."""


@dataclass
class PageData:
    board: Leaderboard
    styled: Leaderboard | None
    assisted: Leaderboard | None = None
    """The humans' ratings assisted by an automatic judge, when asked for (``--assisted-by``)."""
    categories: dict[str, Leaderboard] = field(default_factory=dict)
    report: list[ReportRow] = field(default_factory=list)
    judges: JudgesReport | None = None
    versus: list[VersusRow] = field(default_factory=list)
    """Automatic judges and the free baselines against the people (empty without an automatic judge)."""
    fidelity: dict[str, Fidelity] = field(default_factory=dict)
    leaked: int = 0


def collect_page(store: Store, rounds: int = 1000, assisted_by: str | None = None) -> PageData:
    """Everything the page shows; ``assisted_by`` adds the board assisted by that automatic judge (an
    ``ArenaError`` in one line when it cannot assist: no verdicts, too few battles shared with people)."""
    result = board_for(store, rounds=rounds)
    board = result.board
    styled = None
    if board.ratings:
        try:
            styled = board_for(store, method="style", rounds=rounds).board
        except (ValueError, ArithmeticError):  # too few battles to fit the style terms: the page says so
            styled = None
    categories = {}
    for category in voted_categories(store):
        board_of = board_for(store, BattleFilter(category=category), rounds=rounds).board
        if board_of.battles >= MIN_CATEGORY_BATTLES:
            categories[category] = board_of
    assisted = None
    if assisted_by is not None and board.ratings:
        assisted = board_for(store, method="assisted", assisted_by=assisted_by, rounds=rounds).board
    facts = assisted.facts if assisted is not None else None
    found = judges_for(store, assisted=facts if isinstance(facts, AssistedFacts) else None)
    judges = found.people if found.judges >= 2 else None
    versus = found.versus if any(row.kind == "auto" for row in found.versus) else []
    return PageData(
        board=board,
        styled=styled if styled is not None and styled.style else None,
        assisted=assisted,
        categories=categories,
        report=build_report(store, None),
        judges=judges,
        versus=[row for row in versus if row.kind != "human"],
        fidelity=fidelity_by_label(store),
        leaked=result.leaked,
    )
