"""Rich renderables for the CLI's tables (and the TUI's leaderboard). Untrusted text is never markup and
never drives the terminal: every string built from data goes through ``literal`` (``arena.terminal``), so
a label holding ``[bold]`` or ESC prints as written, visibly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich import box
from rich.table import Table
from rich.text import Text

from arena.batch import ContestantSummary
from arena.flags import Flag
from arena.parity import ParityRow
from arena.prompts import PromptSet
from arena.ratings import PROVISIONAL_BELOW, Leaderboard
from arena.report import ReportRow
from arena.report_format import CAPTION, shown_columns
from arena.tables import Column, fitted_table
from arena.terminal import literal
from arena.wording import counted

if TYPE_CHECKING:
    from arena.fidelity import FidelityRow
    from arena.judges import JudgesReport


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


def prompt_sets_table(sets: Sequence[PromptSet], width: int) -> Table:
    columns = [
        Column("name", "name", 100),
        Column("prompts", priority=90),
        Column("categories", "text", 40),
        Column("description", "text", 60),
    ]
    rows: list[list[str | Text]] = [[s.name, str(len(s)), ", ".join(s.categories), s.description] for s in sets]
    return fitted_table(columns, rows, width, title=literal("prompt sets"))


def _preview(text: str, limit: int = 160) -> str:
    """The first line of a prompt, cut at a word with an ellipsis when long (the whole text: --json)."""
    first = text.splitlines()[0]
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0] + " …"


def prompt_set_table(prompt_set: PromptSet, width: int) -> Table:
    columns = [
        Column("id", "whole", 100, justify="left"),
        Column("category", "name", 50),
        Column("constraints", "text", 40),
        Column("text", "text", 90),
    ]
    rows = [
        [
            prompt.id,
            prompt.category,
            ", ".join(str(c["kind"]) for c in prompt.constraints),
            _preview(prompt.text),
        ]
        for prompt in prompt_set.prompts
    ]
    return fitted_table(
        columns, rows, width, title=literal(f"{prompt_set.name} ({counted(len(prompt_set), 'prompt')})")
    )


def backends_table(rows: Sequence[dict[str, Any]]) -> Table:
    table = Table(title="backends")
    table.add_column("name")
    table.add_column("status")
    table.add_column("options")
    table.add_column("description")
    for row in rows:
        ok = row["status"] == "ok"
        table.add_row(
            literal(row["name"]),
            literal(row["status"], style="green" if ok else "yellow"),
            literal(", ".join(row["options"])),
            literal(row["description"]),
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
                table.add_row(literal(f"{section}.{key}"), literal(str(value)))
        else:
            table.add_row(literal(section), literal(str(values)))
    return table


def interval_bar(low: float, point: float, high: float, lo: float, hi: float, width: int = 30) -> Text:
    """One contestant's interval on a shared axis: ``├───●──┤``, so overlaps are visible at a glance."""
    span = (hi - lo) or 1.0

    def column(value: float) -> int:
        return max(0, min(width - 1, round((value - lo) / span * (width - 1))))

    cells = [" "] * width
    start, end, mid = column(low), column(high), column(point)
    for position in range(start, end + 1):
        cells[position] = "─"
    cells[start], cells[end] = "├", "┤"
    cells[mid] = "●"
    return literal("".join(cells), style="cyan")


def leaderboard_table(board: Leaderboard, width: int, title: str = "leaderboard") -> Table:
    """Ratings with 95% intervals, Rank(UB), Elo, tallies, and the unicode interval plot.

    A provisional contestant (too few battles) gets no rank: its interval does not mean much yet.
    """
    columns = [
        Column("#", priority=90),
        Column("contestant", "name", 100),
        Column("rating", priority=95),
        Column("95% CI", priority=85),
        Column("interval", priority=35, justify="left"),
        Column("elo", priority=30),
        Column("W-T-L-B", priority=60),
        Column("win% (CI)", priority=50),
    ]
    rows: list[list[str | Text]] = []
    if board.ratings:
        lo = min(r.ci_low for r in board.ratings)
        hi = max(r.ci_high for r in board.ratings)
        for rating in board.ratings:
            rows.append(
                [
                    "?" if rating.provisional else str(rating.rank_ub),
                    rating.contestant,
                    f"{rating.rating:.0f}",
                    "too few" if rating.provisional else f"{rating.ci_low:.0f}-{rating.ci_high:.0f}",
                    interval_bar(rating.ci_low, rating.rating, rating.ci_high, lo, hi, width=14),
                    f"{rating.elo:.0f}",
                    f"{rating.wins}-{rating.ties}-{rating.losses}-{rating.both_bad}",
                    f"{rating.win_rate * 100:.0f} ({rating.win_rate_low * 100:.0f}-{rating.win_rate_high * 100:.0f})",
                ]
            )
    caption = "W-T-L-B: wins, ties, losses, both bad; # is Rank(UB)"
    if any(r.provisional for r in board.ratings):
        caption += f"; ? = provisional: fewer than {PROVISIONAL_BELOW} battles, not ranked yet"
    return fitted_table(
        columns,
        rows,
        width,
        caption=caption,
        title=literal(f"{title} - {counted(board.battles, 'battle')}, {board.rounds} bootstrap rounds"),
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )


def leaderboard_notes(board: Leaderboard, leaked: int = 0) -> list[Text]:
    """Lines under the table: noise, bounds, comparability, position bias, head-to-head records, and how
    many counted battles had an answer that named itself (``leaked``)."""
    lines = []
    if leaked:
        lines.append(
            literal(
                f"{counted(leaked, 'battle')} where an answer named itself (the judge was not blind); "
                "--exclude-leaks leaves them out",
                style="yellow",
            )
        )
    if board.style is not None:
        from arena.style import describe

        lines.append(literal(describe(board.style), style="cyan"))
    if len(board.groups) > 1:
        groups = " | ".join("{" + ", ".join(group) + "}" for group in board.groups)
        lines.append(literal(f"not comparable across groups (no battles connect them): {groups}", style="yellow"))
    for rating in board.ratings:
        if rating.within_noise:
            lines.append(literal(f"{rating.contestant}: within noise of {', '.join(rating.within_noise)}", style="dim"))
        if rating.never_lost:
            lines.append(literal(f"{rating.contestant}: never lost, so its rating is a lower bound", style="dim"))
        if rating.never_won:
            lines.append(literal(f"{rating.contestant}: never won, so its rating is an upper bound", style="dim"))
    bias = board.position_bias
    if bias.decided:
        verdict = "left pane favoured beyond noise" if bias.significant else "no position bias beyond noise"
        lines.append(
            literal(
                f"left pane won {bias.left_wins}/{bias.decided} decided battles "
                f"({bias.share:.0%}, 95% CI {bias.ci_low:.0%}-{bias.ci_high:.0%}): {verdict}",
                style="yellow" if bias.significant else "dim",
            )
        )
    if board.neighbours:
        lines.append(literal("how sure (neighbours on the board):"))
    for neighbour in board.neighbours:
        lines.append(literal("  " + neighbour.describe(), style="green" if neighbour.votes_to_separate == 0 else ""))
    if board.pairs:
        lines.append(literal("head to head:"))
    for pair in board.pairs:
        lines.append(literal("  " + pair.describe()))
    return lines


def matrix_table(title: str, rows: Sequence[Sequence[str]]) -> Table:
    table = Table(title=literal(title))
    for header in rows[0]:
        table.add_column(literal(header), justify="right")
    for row in rows[1:]:
        table.add_row(*(literal(cell) for cell in row))
    return table


def flags_table(flags: Sequence[Flag]) -> Table:
    """One row per flag; evidence is model output, so it is shown as literal text."""
    table = Table(title="flags", box=box.SIMPLE_HEAD)
    table.add_column("flag", no_wrap=True)
    table.add_column("hit", no_wrap=True)
    table.add_column("score", justify="right")
    table.add_column("evidence", overflow="fold")
    for flag in flags:
        if flag.error:
            status, evidence = literal("ERROR", style="bold yellow"), f"the check failed: {flag.error}"
        else:
            status = literal("HIT", style="bold red") if flag.hit else literal("ok", style="green")
            evidence = " | ".join(flag.evidence)
        table.add_row(literal(flag.name), status, "-" if flag.score is None else f"{flag.score:.2f}", literal(evidence))
    return table


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


def judges_tables(report: JudgesReport, width: int) -> list[Table | Text]:
    """Per judge: votes, position bias, outlier test; then agreement per pair of judges and overall."""
    columns = [
        Column("judge", "name", 100),
        Column("votes", priority=90, justify="right"),
        Column("left pane won", priority=80, justify="right"),
        Column("shared", priority=50, justify="right"),
        Column("outlier test (flags at 20)", priority=85),
    ]
    cells: list[list[str | Text]] = []
    for judge in report.judges:
        share = (
            "-" if judge.left_share is None else f"{judge.left_share:.0%} ({judge.left_low:.0%}-{judge.left_high:.0%})"
        )
        bias = literal(
            share + (" biased" if judge.position_biased else ""), style="yellow" if judge.position_biased else ""
        )
        test = literal(
            f"{'OUTLIER' if judge.flagged else 'ok'} (peak {judge.evidence:.3g})",
            style="bold red" if judge.flagged else "",
        )
        cells.append([judge.judge, str(judge.votes), bias, str(judge.shared_votes), test])
    shown: list[Table | Text] = [fitted_table(columns, cells, width, title=literal("judges"))]

    def number(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    pair_columns = [
        Column("judges", "name", 100),
        Column("shared items", priority=80, justify="right"),
        Column("kappa", priority=90, justify="right"),
        Column("kappa, no ties", priority=70, justify="right"),
    ]
    pair_cells: list[list[str | Text]] = [
        [f"{pair.a} / {pair.b}", str(pair.shared), number(pair.kappa), number(pair.kappa_without_ties)]
        for pair in report.pairs
        if pair.shared
    ]
    if pair_cells:
        shown.append(fitted_table(pair_columns, pair_cells, width, title=literal("agreement (Cohen's kappa)")))
    shown.append(
        literal(
            f"Krippendorff's alpha over {counted(report.items_with_several_judges, 'item')} judged by several: "
            f"{number(report.alpha)} (without ties {number(report.alpha_without_ties)}); "
            "1 = full agreement, 0 = chance",
            style="dim",
        )
    )
    return shown
