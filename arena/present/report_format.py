"""The vibe-check report as text: one column list, read by field name, shared by the terminal table and
the markdown output.

Owns the report's columns and how each cell is written. A column names the ``ReportRow`` field it shows,
so reordering or adding columns cannot shift values under the wrong header.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from arena.analysis.flags import FLAGS
from arena.reports.vibe_check import Fidelity, Rate, ReportRow


def format_rate(rate: Rate, separator: str = " ") -> str:
    """'3/25 12% ≈ (5-25)': ≈ when the difference to the first contestant is inside the noise."""
    if not rate.n:
        return "-"
    marker = " ≈" if rate.versus_first == "≈" else ""
    interval = f"({100 * rate.low:.0f}-{100 * rate.high:.0f})"
    return f"{rate.hits}/{rate.n} {100 * (rate.rate or 0):.0f}%{marker}{separator}{interval}"


def format_speed(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def format_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def format_memory(value: int | None) -> str:
    if value is None:
        return "-"
    amount = float(value)
    for unit in ("B", "KiB", "MiB"):
        if amount < 1024:
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} GiB"


@dataclass(frozen=True)
class ReportColumn:
    """One report column: its full header, the short header used in the terminal, and how to write a cell.

    ``cell(row, separator)`` gets the separator between a rate and its interval (a newline in the
    terminal table, a space in markdown).
    """

    header: str
    short: str
    cell: Callable[[ReportRow, str], str]
    numeric: bool = True
    priority: int = 50
    """Which columns a narrow terminal drops first (lowest first)."""
    in_terminal: bool = True
    """False for columns the terminal table leaves out for width (every rate already says out of how many)."""


def _rate_column(metric: str, header: str, short: str, priority: int) -> ReportColumn:
    return ReportColumn(header, short, lambda row, sep: format_rate(row.rates[metric], sep), priority=priority)


def _speed_cell(row: ReportRow, separator: str) -> str:
    speed = format_speed(row.median_tokens_per_s)
    if row.speed_ratio is None:
        return speed
    return f"{speed}{separator}{format_ratio(row.speed_ratio)}"


def fidelity_text(found: Fidelity, separator: str = " ") -> str:
    """'97.2% top-1 · KL 0.0024 vs hf-fp32': agreement with the reference's first choice, mean KL."""
    return f"{found.top1_agreement:.1%} top-1 · KL {found.mean_kld:.4f}{separator}vs {found.reference}"


def format_fidelity(row: ReportRow, separator: str = " ") -> str:
    """The row's fidelity, or '-' when ``arena fidelity`` never measured it."""
    return "-" if row.fidelity is None else fidelity_text(row.fidelity, separator)


COLUMNS: tuple[ReportColumn, ...] = (
    ReportColumn("contestant", "contestant", lambda row, sep: row.contestant, numeric=False, priority=100),
    ReportColumn("gens", "gens", lambda row, sep: str(row.generations), in_terminal=False),
    ReportColumn("stopped", "stopped", lambda row, sep: str(row.cancelled), in_terminal=False),
    _rate_column("constraints", "constraints met", "constr.", 75),
    *(
        _rate_column(spec.name, spec.column, spec.short or spec.column, spec.priority)
        for spec in FLAGS
        if spec.column is not None
    ),
    ReportColumn("tok/s (vs first)", "tok/s", _speed_cell, priority=40),
    ReportColumn("peak mem", "mem", lambda row, sep: format_memory(row.peak_mem_bytes), priority=30),
    ReportColumn("fidelity", "fidelity", format_fidelity, priority=45),
    ReportColumn(
        "flips (samples disagree)",
        "flips",
        lambda row, sep: "-" if row.flips is None else format_rate(row.flips, sep),
        priority=58,
    ),
    ReportColumn(
        "judges' reasons",
        "reasons",
        lambda row, sep: ", ".join(f"{reason} {n}" for reason, n in sorted(row.reasons.items())) or "-",
        numeric=False,
        priority=35,
    ),
)
OPTIONAL_COLUMNS = ("fidelity", "judges' reasons", "flips (samples disagree)")
"""Shown only when some row has a value (most reports have no fidelity measurement)."""

CAPTION = (
    "count/n rate (95% CI; a prompt's several answers count as one cluster): for constr. the answers that met "
    "them, for a flag the answers it flagged; ≈ within noise of the first row; "
    "flips: checks on which a prompt's answers disagree; tok/s with its ratio to the first; "
    "answers stopped with esc are not counted; mem: on the CPU the process's growth for the model (measured at "
    "load), on a GPU the CUDA peak; "
    "contestants sharing one copy of the weights (the same checkpoint, other prompting) each show the whole copy"
)


def shown_columns(rows: Sequence[ReportRow]) -> list[ReportColumn]:
    """The columns worth printing for these rows: optional ones only when some row fills them."""
    return [
        column
        for column in COLUMNS
        if column.header not in OPTIONAL_COLUMNS or any(column.cell(row, " ") != "-" for row in rows)
    ]


def markdown(rows: Sequence[ReportRow]) -> str:
    columns = shown_columns(rows)
    lines = ["| " + " | ".join(column.header for column in columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = (column.cell(row, " ").replace("|", "\\|") for column in columns)
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "Rates are hits/generations with 95% Wilson intervals; ≈ marks a difference to the first row inside the noise."
    )
    return "\n".join(lines) + "\n"
