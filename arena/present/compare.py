"""``arena report --compare`` in a terminal: the counts, then each flip with both answers side by side."""

from __future__ import annotations

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from arena.analysis.flags import CONSTRAINT_PREFIX
from arena.present.tables import Column, fitted_table
from arena.present.terminal import literal
from arena.reports.compare import Comparison
from arena.wording import counted

EXCERPT_CHARS = 400
"""How much of each answer a flip's row shows (``--json`` has them whole)."""


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + " [...]"


def comparison_view(comparison: Comparison, width: int) -> Group:
    regressions, fixes = comparison.prompts_with("regression"), comparison.prompts_with("fix")
    head = literal(
        f"{comparison.before.name} -> {comparison.after.name}: regressions on {counted(regressions, 'prompt')}, "
        f"fixes on {counted(fixes, 'prompt')}, of {counted(comparison.prompts, 'prompt')} both answered",
        style="bold",
    )
    notes = [
        literal(
            "a check fails where its flag hit (loops, garbage, empty, cut off, names itself) or its constraint "
            "was broken; one answer per prompt and side (the first not stopped): where the models sample, a "
            "single flip can be chance (arena batch --samples K, then arena report's flips column)",
            style="dim",
        )
    ]
    if comparison.only_one_side:
        one_side = counted(comparison.only_one_side, "prompt")
        notes.append(literal(f"{one_side} answered on one side only: not compared", style="yellow"))
    if not comparison.flips:
        return Group(head, *notes, Text("no check flipped"))
    columns = [
        Column("prompt", "name", 90),
        Column("checks", "name", 80),
        Column("before", "text", 70),
        Column("after", "text", 70),
    ]
    parts: list[Text | Table] = [head, *notes]
    sections = (("regression", "regressions: passed before, fail after"), ("fix", "fixes: failed before, pass after"))
    for kind, title in sections:
        flips = sorted(
            (flip for flip in comparison.flips if flip.kind == kind), key=lambda flip: (flip.prompt, flip.check)
        )
        if not flips:
            continue
        by_prompt: dict[str, list[str]] = {}  # one row per prompt: its answers once, whatever flipped on them
        for flip in flips:
            by_prompt.setdefault(flip.prompt, []).append(flip.check.removeprefix(CONSTRAINT_PREFIX))
        first = {flip.prompt: flip for flip in reversed(flips)}
        rows: list[list[str | Text]] = [
            [prompt, ", ".join(checks), _excerpt(first[prompt].before), _excerpt(first[prompt].after)]
            for prompt, checks in by_prompt.items()
        ]
        parts.append(fitted_table(columns, rows, width, title=title, box=box.SIMPLE_HEAD, show_lines=True))
    return Group(*parts)
