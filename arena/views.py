"""Rich renderables for the CLI's tables. Model output and user-provided names are never parsed as markup.

Every cell built from data goes through ``Text`` (literal), so a prompt or a label containing ``[bold]``
prints as written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from arena.batch import ContestantSummary
from arena.prompts import PromptSet


def _fmt(value: float | None, digits: int = 1, suffix: str = "") -> str:
    return "-" if value is None else f"{value:.{digits}f}{suffix}"


def batch_summary_table(summaries: Sequence[ContestantSummary], title: str) -> Table:
    table = Table(title=Text(title))
    table.add_column("contestant", no_wrap=True)
    table.add_column("gens", justify="right")
    table.add_column("stop", justify="right")
    table.add_column("length", justify="right")
    table.add_column("error", justify="right")
    table.add_column("median tokens", justify="right")
    table.add_column("median tok/s", justify="right")
    table.add_column("median ttft", justify="right")
    for summary in summaries:
        reasons = summary.finish_reasons
        table.add_row(
            Text(summary.contestant),
            str(summary.generations),
            str(reasons.get("stop", 0)),
            str(reasons.get("length", 0)),
            Text(str(reasons.get("error", 0)), style="red" if reasons.get("error") else ""),
            _fmt(summary.median_tokens, 0),
            _fmt(summary.median_tokens_per_s),
            _fmt(summary.median_ttft_s, 3, " s"),
        )
    return table


def prompt_sets_table(sets: Sequence[PromptSet]) -> Table:
    table = Table(title="prompt sets")
    table.add_column("name")
    table.add_column("prompts", justify="right")
    table.add_column("categories")
    table.add_column("description")
    for prompt_set in sets:
        table.add_row(
            Text(prompt_set.name),
            str(len(prompt_set)),
            Text(", ".join(prompt_set.categories)),
            Text(prompt_set.description),
        )
    return table


def prompt_set_table(prompt_set: PromptSet) -> Table:
    table = Table(title=Text(f"{prompt_set.name} ({len(prompt_set)} prompts)"))
    table.add_column("id", no_wrap=True)
    table.add_column("category")
    table.add_column("constraints")
    table.add_column("text", overflow="fold", ratio=1)
    for prompt in prompt_set.prompts:
        kinds = ", ".join(str(c["kind"]) for c in prompt.constraints)
        first_line = prompt.text.splitlines()[0]
        table.add_row(Text(prompt.id), Text(prompt.category), Text(kinds), Text(first_line[:120]))
    return table


def backends_table(rows: Sequence[dict[str, Any]]) -> Table:
    table = Table(title="backends")
    table.add_column("name")
    table.add_column("status")
    table.add_column("options")
    table.add_column("description")
    for row in rows:
        ok = row["status"] == "ok"
        table.add_row(
            Text(row["name"]),
            Text(row["status"], style="green" if ok else "yellow"),
            Text(", ".join(row["options"])),
            Text(row["description"]),
        )
    return table


def doctor_table(report: dict[str, Any]) -> Table:
    table = Table(title="arena doctor", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    for section, values in report.items():
        if isinstance(values, dict):
            table.add_section()
            for key, value in values.items():
                table.add_row(Text(f"{section}.{key}"), Text(str(value)))
        else:
            table.add_row(Text(section), Text(str(values)))
    return table
