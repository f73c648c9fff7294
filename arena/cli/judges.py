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
    from arena.present.info import judges_tables, versus_table
    from arena.reports.judges import judges_for

    with existing_store(db_path) as store:
        found = judges_for(store, battle_filter)
    if found.empty:
        raise ArenaError("no votes with a judge name match (skips are not counted)")
    if as_json:
        versus = [row.to_dict() for row in found.versus]
        echo_json({**found.people.to_dict(), "versus_humans": versus, "versus_notes": found.notes})
        return
    out = console()
    for renderable in [*judges_tables(found.people, out.width), *versus_table(found.versus, found.notes, out.width)]:
        out.print(renderable)
