"""Tables fit the terminal with their numbers whole: narrow terminals drop low-priority columns (and say
which), names fold instead of being cut, and a provisional contestant is marked instead of ranked."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console
from rich.text import Text

from arena.cli import cli
from arena.present.tables import Column, fitted_table
from tests.support.votes import add_votes

LONG_NAME = "a-very-long-contestant-name-from-a-checkpoint-directory?quant=nf4"
# the shape of a leaderboard: a long name, whole numbers of decreasing importance, and free text
COLUMNS = (
    [Column("contestant", "name", 100)]
    + [
        Column(header, priority=priority)
        for header, priority in (("rating", 95), ("95% CI", 85), ("elo", 30), ("win% (CI)", 50))
    ]
    + [Column("notes", "text", 10)]
)
ROWS = [
    [LONG_NAME, "1264", "1201-1330", "1016", "100 (21-100)", "a long remark that can fold onto several lines"],
    ["short", "736", "670-801", "984", "0 (0-79)", "-"],
]


def render(table: object, width: int) -> str:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(table)
    return out.getvalue()


@pytest.mark.parametrize("width", [40, 60, 80, 100, 160])
def test_numbers_are_whole_and_lines_fit(width: int) -> None:
    shown = render(fitted_table(COLUMNS, ROWS, width), width)
    assert all(len(line) <= width for line in shown.splitlines())
    assert "…" not in shown
    kept = [c.header for c in COLUMNS if c.header in shown.splitlines()[1]]
    for row in ROWS:
        for column, cell in zip(COLUMNS, row, strict=True):
            if column.kind == "whole" and column.header in kept:
                assert cell in shown  # never '1201-13…'
    first_column = "".join(line.split("│")[1].strip() for line in shown.splitlines() if line.count("│") > 1)
    assert LONG_NAME in first_column  # folded onto lines, never cut


def test_dropped_columns_are_named_least_important_first() -> None:
    shown = render(fitted_table(COLUMNS, ROWS, 60), 60)
    header = shown.splitlines()[1]
    assert "contestant" in header and "rating" in header
    assert "not shown at this width" in shown
    dropped = shown.split("not shown at this width:")[1]
    assert "notes" in dropped and "elo" in dropped  # priority 10 and 30 go before 50 and 85
    assert "rating" not in dropped


def test_wide_enough_drops_nothing() -> None:
    shown = render(fitted_table(COLUMNS, ROWS, 200), 200)
    assert "not shown" not in shown
    header = shown.splitlines()[1]
    assert all(column.header in header for column in COLUMNS)  # every column is there, headed
    assert "1201-1330" in shown and "100 (21-100)" in shown and "a long remark" in shown


def test_cells_are_literal_text() -> None:
    shown = render(fitted_table(COLUMNS[:2], [["[bold]x[/]", "1"]], 80), 80)
    assert "[bold]x[/]" in shown


@pytest.mark.parametrize("columns", ["80", "100"])
def test_leaderboard_at_narrow_widths_shows_whole_numbers_and_ranks(tmp_path: Path, columns: str) -> None:
    db = tmp_path / "v.db"
    add_votes(db, [("alpha-model-with-a-long-name", "beta", "left")] * 8 + [("beta", "gamma", "right")] * 12)
    result = CliRunner(env={"COLUMNS": columns}).invoke(cli, ["leaderboard", "--db", str(db), "--rounds", "50"])
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    rows = json.loads(CliRunner().invoke(cli, ["leaderboard", "--db", str(db), "--json", "--rounds", "50"]).stdout)
    for row in rows:
        assert f"{row['rating']:.0f}" in result.output
        if row["provisional"]:
            assert row["battles"] < 10
        else:
            assert f"{row['ci_low']:.0f}-{row['ci_high']:.0f}" in result.output
    table_rows = [line for line in result.output.splitlines() if "battles on" not in line]  # not the coverage note
    lines = [line for line in table_rows if re.match(r"^\s*(\d+|\?)\s", line)]
    assert len(lines) == 3  # every row has its rank (or ? for provisional)
    assert any(line.strip().startswith("?") for line in lines)  # alpha has 8 battles: provisional


def test_one_battle_is_provisional_not_ranked(tmp_path: Path) -> None:
    db = tmp_path / "one.db"
    add_votes(db, [("a", "b", "left")])
    rows = json.loads(CliRunner().invoke(cli, ["leaderboard", "--db", str(db), "--json"]).stdout)
    assert [row["provisional"] for row in rows] == [True, True]
    table = CliRunner(env={"COLUMNS": "80"}).invoke(cli, ["leaderboard", "--db", str(db)]).output
    assert "too few" in table and "provisional" in table
    assert Text.from_ansi(table).plain.count("?") >= 2
