"""The one recipe from a store to the judges' statistics: the people's votes (agreement, position bias,
outliers) and every judge, automatic ones included, against the people on the same items. ``arena judges``
and the HTML report both call it."""

from __future__ import annotations

from dataclasses import dataclass

from arena.analysis.judges import JudgesReport, judge_report, votes_from_rows
from arena.analysis.versus import VersusRow, length_votes, versus_humans, versus_notes
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


def judges_for(store: Store, battle_filter: BattleFilter | None = None) -> JudgesResult:
    votes = votes_from_rows(judge_votes(store, battle_filter))
    versus = versus_humans(length_votes(votes_with_lengths(store, battle_filter)))
    return JudgesResult(judge_report(votes), len({vote.judge for vote in votes}), versus, versus_notes(versus))
