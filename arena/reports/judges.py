"""The one recipe from a store to the judges' statistics: the people's votes (agreement, position bias,
outliers) and every judge, automatic ones included, against the people on the same items. ``arena judges``
and the HTML report both call it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from arena.analysis.judges import JudgesReport, judge_report, votes_from_rows
from arena.analysis.ratings.assisted import AssistedFacts
from arena.analysis.versus import VersusRow, length_votes, versus_humans, versus_notes
from arena.errors import ArenaError
from arena.reports.leaderboard import board_for
from arena.store import Store
from arena.store.auto_verdicts import votes_with_lengths
from arena.store.queries import BattleFilter, judge_votes


@dataclass(frozen=True)
class JudgesResult:
    people: JudgesReport
    """How the people's votes agree (automatic judges are never mixed in)."""
    judges: int
    """People with a named vote among them."""
    versus: list[VersusRow]
    """Each judge, person or automatic, against the other people's votes on the same items, and baselines."""
    notes: list[str]

    @property
    def empty(self) -> bool:
        """No named vote of a person and no automatic judge: nothing to say."""
        return not self.people.judges and not any(row.kind == "auto" for row in self.versus)


WORTH_ROUNDS = 200
"""Bootstrap rounds of the assisted fit that says what each automatic judge is worth (a report figure)."""


def judges_for(
    store: Store, battle_filter: BattleFilter | None = None, assisted: AssistedFacts | None = None
) -> JudgesResult:
    """``assisted``: the facts of an assisted board already fitted on the same votes (the HTML report's
    ``--assisted-by``): its judge's row reads them instead of a second, shorter fit, so the page says one
    figure for what that judge is worth."""
    votes = votes_from_rows(judge_votes(store, battle_filter))
    versus = [
        _with_assisted(row, _assisted(store, battle_filter, row.judge, assisted)) if row.kind == "auto" else row
        for row in versus_humans(length_votes(votes_with_lengths(store, battle_filter)))
    ]
    return JudgesResult(judge_report(votes), len({vote.judge for vote in votes}), versus, versus_notes(versus))


def _assisted(
    store: Store, battle_filter: BattleFilter | None, judge: str, known: AssistedFacts | None
) -> AssistedFacts | None:
    """An automatic judge's assisted board's facts (its calibration on the battles people voted, what it is
    worth); None where it cannot assist (too few battles shared with people)."""
    if known is not None and known.judge == judge:
        return known
    try:
        facts = board_for(store, battle_filter, method="assisted", assisted_by=judge, rounds=WORTH_ROUNDS).board.facts
    except ArenaError:
        return None
    return facts if isinstance(facts, AssistedFacts) else None


def _with_assisted(row: VersusRow, facts: AssistedFacts | None) -> VersusRow:
    if facts is None:
        return row
    return replace(row, brier=facts.brier, reliability=facts.reliability, effective_votes=facts.effective_votes)
