"""``arena judges``: agreement between judges, their position bias, and judges who vote unlike the rest."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from arena.cli.common import console, db_option, echo_json, existing_store, filter_options
from arena.errors import ArenaError

if TYPE_CHECKING:
    from arena.store.queries import BattleFilter


@click.command()
@db_option
@filter_options
@click.option("--json", "as_json", is_flag=True, help="Print judges, pairs of judges and alpha as JSON.")
def judges(db_path: Path, battle_filter: BattleFilter, as_json: bool) -> None:
    """How several judges' votes agree (Cohen's kappa per pair, Krippendorff's alpha for all, with and
    without ties), each judge's position bias, and a sequential test for judges who vote unlike the rest.
    People only; then every judge (automatic ones, `arena autojudge`, included) against the humans' votes
    on the same items, beside baselines: always the longer answer, always the left pane, a coin.

    Agreement needs judges who voted on the same prompt and pair of contestants: after `arena merge` of
    their files, or when they judge the same prompt set.
    """
    from arena.analysis.judges import judge_report, votes_from_rows
    from arena.analysis.versus import length_votes, versus_humans, versus_notes
    from arena.present.info import judges_tables, versus_table
    from arena.store.auto_verdicts import votes_with_lengths
    from arena.store.queries import judge_votes

    with existing_store(db_path) as store:
        votes = votes_from_rows(judge_votes(store, battle_filter))
        versus = versus_humans(length_votes(votes_with_lengths(store, battle_filter)))
    if not votes and not any(row.kind == "auto" for row in versus):
        raise ArenaError("no votes with a judge name match (skips are not counted)")
    report = judge_report(votes)
    notes = versus_notes(versus)
    if as_json:
        echo_json({**report.to_dict(), "versus_humans": [row.to_dict() for row in versus], "versus_notes": notes})
        return
    out = console()
    for renderable in [*judges_tables(report, out.width), *versus_table(versus, notes, out.width)]:
        out.print(renderable)
