"""What a run produced, as rich tables: a batch's summary, the vibe-check report, parity and fidelity rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich import box
from rich.table import Table
from rich.text import Text

from arena.present.report_format import CAPTION, shown_columns
from arena.present.tables import Column, fitted_table
from arena.present.terminal import literal
from arena.reports.vibe_check import ReportRow
from arena.wording import counted

if TYPE_CHECKING:  # the rows it shows; their modules run models and sessions
    from arena.engine.fidelity import FidelityRow
    from arena.engine.parity import ParityRow
    from arena.judging.batch import ContestantSummary


def _fmt(value: float | None, digits: int = 1, suffix: str = "") -> str:
    return "-" if value is None else f"{value:.{digits}f}{suffix}"


def batch_summary_table(summaries: Sequence[ContestantSummary], title: str, width: int) -> Table:
    columns = [
        Column("contestant", "name", 100),
        Column("gens", priority=70),
        Column("stop", priority=60),
        Column("length", priority=65),
        Column("error", priority=80),
        Column("median tokens", priority=50),
        Column("median tok/s", priority=40),
        Column("median ttft", priority=30),
    ]
    rows: list[list[str | Text]] = []
    for summary in summaries:
        reasons = summary.finish_reasons
        rows.append(
            [
                summary.contestant,
                str(summary.generations),
                str(reasons.get("stop", 0)),
                str(reasons.get("length", 0)),
                literal(str(reasons.get("error", 0)), style="red" if reasons.get("error") else ""),
                _fmt(summary.median_tokens, 0),
                _fmt(summary.median_tokens_per_s),
                _fmt(summary.median_ttft_s, 3, " s"),
            ]
        )
    return fitted_table(columns, rows, width, title=literal(title))


def report_table(rows: Sequence[ReportRow], title: str, width: int) -> Table:
    """The report: each interval sits under its rate; low-priority columns go first on a narrow terminal."""
    shown = [column for column in shown_columns(rows) if column.in_terminal]
    columns = [Column(column.short, "name" if not column.numeric else "whole", column.priority) for column in shown]
    cells = [[column.cell(row, "\n") for column in shown] for row in rows]
    return fitted_table(
        columns,
        cells,
        width,
        caption=CAPTION,
        title=literal(title),
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
    )


def parity_table(rows: Sequence[ParityRow], spec_a: str, spec_b: str) -> Table:
    """One row per prompt: identical, or where A and B part and how each goes on."""
    table = Table(title=literal(f"greedy parity - A: {spec_a}  B: {spec_b}"), box=box.SIMPLE_HEAD)
    table.add_column("prompt", no_wrap=True)
    table.add_column("result")
    table.add_column("...shared", justify="right", overflow="fold")
    table.add_column("A goes on", overflow="fold")
    table.add_column("B goes on", overflow="fold")
    for row in rows:
        if row.a.error or row.b.error:
            result = literal(f"error: {row.a.error or row.b.error}", style="red")
            table.add_row(literal(row.prompt), result, "", "", "")
            continue
        if row.prompt_ids_differ_at is not None and row.same_prompt:
            a_token, b_token = row.prompt_tokens or ("?", "?")
            table.add_row(
                literal(row.prompt),
                literal(
                    f"same prompt text, different prompt tokens from token {row.prompt_ids_differ_at}: "
                    f"A {a_token}, B {b_token} (a tokenizer conversion bug)",
                    style="red",
                ),
                "",
                "",
                "",
            )
            continue
        if row.identical:
            table.add_row(
                literal(row.prompt),
                literal(f"identical ({counted(row.a.n_tokens, 'token')})", style="green"),
                "",
                "",
                "",
            )
            continue
        if row.diverge_at is None:
            table.add_row(
                literal(row.prompt), literal("same tokens from different prompts", style="yellow"), "", "", ""
            )
            continue
        unit = "token" if row.compared_by == "tokens" else "character"
        shared, a_next, b_next = row.continuations()
        table.add_row(
            literal(row.prompt),
            literal(
                f"diverge at {unit} {row.diverge_at}" + ("" if row.same_prompt else "; prompts differ"), style="yellow"
            ),
            literal(repr(shared)),
            literal(repr(a_next)),
            literal(repr(b_next)),
        )
    return table


def parity_prompts_table(row: ParityRow, spec_a: str, spec_b: str) -> Table:
    """The exact prompt strings A and B received, side by side (chat template markers visible)."""
    verdict = "identical" if row.same_prompt else "DIFFERENT"
    table = Table(title=literal(f"rendered prompts for {row.prompt}: {verdict}"), box=box.SIMPLE_HEAD, show_lines=False)
    for label, result, spec in (("A", row.a, spec_a), ("B", row.b, spec_b)):
        template = {True: "chat template", False: "no chat template: raw completion", None: "template unknown"}[
            result.chat_template
        ]
        table.add_column(literal(f"{label}: {spec} ({template})"), overflow="fold", ratio=1)
    table.add_row(literal(row.a.rendered_prompt), literal(row.b.rendered_prompt))
    return table


def fidelity_table(rows: Sequence[FidelityRow], width: int) -> Table:
    """One line per candidate: agreement with the reference and how far its distributions drift."""
    columns = [
        Column("candidate", "name", 100),
        Column("top-1 agree", priority=95, justify="right"),
        Column("mean KL", priority=90, justify="right"),
        Column("p99 KL", priority=80, justify="right"),
        Column("max KL", priority=60, justify="right"),
        Column("ppl ref → cand", priority=70, justify="right"),
        Column("tokens", priority=75, justify="right"),
        Column("score time", priority=40, justify="right"),
    ]
    cells: list[list[str | Text]] = [
        [
            row.contestant,
            f"{row.top1_agreement:.1%}",
            f"{row.mean_kld:.4f}",
            f"{row.p99_kld:.4f}",
            f"{row.max_kld:.3f}",
            f"{row.reference_ppl:.2f} → {row.candidate_ppl:.2f}",
            str(row.tokens),
            f"{row.seconds:.1f} s",
        ]
        for row in rows
    ]
    reference = rows[0].reference if rows else "?"
    return fitted_table(columns, cells, width, title=literal(f"fidelity to {reference}"))


def fidelity_worst_table(row: FidelityRow, width: int) -> Table:
    """Where one candidate parts most from the reference: the token, and each model's first choice."""
    columns = [
        Column("prompt", "name", 60),
        Column("pos", priority=50, justify="right"),
        Column("KL", priority=90, justify="right"),
        Column("token", "name", 80),
        Column("reference's top", "name", 70),
        Column("candidate's top", "name", 70),
    ]
    cells: list[list[str | Text]] = [
        [worst.prompt, str(worst.position), f"{worst.kld:.3f}", worst.token, worst.reference_top, worst.candidate_top]
        for worst in row.worst
    ]
    return fitted_table(columns, cells, width, title=literal(f"{row.contestant}: worst positions"))
