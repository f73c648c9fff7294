"""Rich tables that fit the terminal they are printed to, with every number whole.

Owns the fitting rule shared by every table the CLI and the TUI print: each column has a kind and a
priority. Numbers never wrap and are never cut; names and prose fold onto more lines rather than losing
their end. When even that is too wide, whole columns are dropped, least important first, and the caption
says which. A table that hides a column says so; a table that shows "978-12…" lies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from arena.untrusted import visible

ColumnKind = Literal["whole", "name", "text"]
"""whole: numbers and identifiers, never wrapped or cut; name: folds onto more lines; text: folds, takes the rest."""
NAME_MIN_WIDTH = 24  # most labels (gemma-3-270m-q4_k_m, SmolLM2-135M-Instruct.Q4_1) stay whole
TEXT_MIN_WIDTH = 16


@dataclass(frozen=True)
class Column:
    """One column: its header, what it holds, and how much it matters (higher stays longer)."""

    header: str
    kind: ColumnKind = "whole"
    priority: int = 50
    justify: Literal["left", "right", "center"] | None = None
    style: str = ""


Cell = str | Text


def _width(cell: Cell) -> int:
    plain = visible(cell.plain if isinstance(cell, Text) else cell)
    return max((Text(line).cell_len for line in plain.splitlines()), default=0)


def _floor(column: Column, cells: Sequence[Cell]) -> int:
    """The narrowest this column may get: a number's full width; a name or prose folded, to a floor."""
    widest = max([_width(column.header), *(_width(cell) for cell in cells)])
    if column.kind == "whole":
        return widest
    return min(widest, NAME_MIN_WIDTH if column.kind == "name" else TEXT_MIN_WIDTH)


def _build(
    columns: Sequence[Column],
    rows: Sequence[Sequence[Cell]],
    floors: Sequence[int],
    keep: Sequence[int],
    **table_args: Any,
) -> Table:
    table = Table(**table_args)
    for index in keep:
        column = columns[index]
        floor = floors[index]
        if column.kind == "whole":
            table.add_column(
                column.header, justify=column.justify or "right", no_wrap=True, min_width=floor, style=column.style
            )
        else:
            table.add_column(
                column.header,
                justify=column.justify or "left",
                overflow="fold",
                min_width=floor,
                style=column.style,
                ratio=1 if column.kind == "text" else None,
            )
    for row in rows:
        table.add_row(*(_safe(row[index]) for index in keep))
    return table


def _safe(cell: Cell) -> Text:
    """A cell as literal, visible text (``arena.untrusted``): laid out already escaped, so borders align."""
    if isinstance(cell, Text):
        shown = visible(cell.plain)
        return cell if shown == cell.plain else Text(shown, style=cell.style)
    return Text(visible(str(cell)))


def _minimum_width(columns: Sequence[Column], floors: Sequence[int], keep: Sequence[int], **table_args: Any) -> int:
    """The table's narrowest rendering: measured on a stand-in whose cells are each column's floor width
    (rich measures a long unbroken name as unbreakable, though folding will break it)."""
    stand_in = Table(**{key: value for key, value in table_args.items() if key not in ("title", "caption")})
    for index in keep:
        stand_in.add_column(visible(columns[index].header), no_wrap=True)
    stand_in.add_row(*("x" * max(1, floors[index]) for index in keep))
    return Measurement.get(_MEASURING, _MEASURING.options, stand_in).minimum


_MEASURING = Console(width=100_000, color_system=None)  # Measurement.get clamps to the console's width


def fitted_table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[Cell]],
    width: int,
    *,
    caption: str | Text | None = None,
    **table_args: Any,
) -> Table:
    """A table no wider than ``width``: drop the least important columns until its minimum width fits.

    Cells are literal text (a ``str`` is never parsed as markup). Dropped columns are named in the caption.
    """
    floors = [_floor(column, [row[index] for row in rows]) for index, column in enumerate(columns)]
    keep = list(range(len(columns)))
    by_priority = sorted(keep, key=lambda index: (columns[index].priority, -index))
    dropped: list[str] = []
    while len(keep) > 1 and _minimum_width(columns, floors, keep, **table_args) > width:
        victim = next(index for index in by_priority if index in keep)
        keep.remove(victim)
        dropped.append(columns[victim].header)
    notes = []
    if caption is not None:
        notes.append(caption.plain if isinstance(caption, Text) else caption)
    if dropped:
        notes.append(f"not shown at this width: {', '.join(dropped)} (widen the terminal, or use --json)")
    if notes:
        table_args = {**table_args, "caption": Text("\n".join(notes))}
    return _build(columns, rows, floors, keep, **table_args)
