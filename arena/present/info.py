"""Informational tables: prompt sets, backends, the doctor's findings, one text's flags, the judges' agreement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich import box
from rich.table import Table
from rich.text import Text

from arena.analysis.flags import Flag
from arena.present.tables import Column, fitted_table
from arena.present.terminal import literal
from arena.prompts import PromptSet
from arena.wording import counted

if TYPE_CHECKING:
    from arena.analysis.judges import JudgesReport
    from arena.analysis.versus import VersusRow
    from arena.backend import LoadedInfo


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
        verdict = ("OUTLIER" if judge.flagged else "ok") if report.outliers_tested else "not called"
        test = literal(f"{verdict} (peak {judge.evidence:.3g})", style="bold red" if judge.flagged else "")
        cells.append([judge.judge, str(judge.votes), bias, str(judge.shared_votes), test])
    shown: list[Table | Text] = [fitted_table(columns, cells, width, title=literal("judges"))]
    if report.outlier_note is not None:
        shown.append(literal(report.outlier_note, style="dim"))

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


VERSUS_HEADERS = (
    "items",
    "agreement, no ties (95% CI)",
    "with ties",
    "kappa",
    "orders agree",
    "prefers longer",
    "Brier",
    "worth (human votes)",
)
"""The figures of a judge against the humans, after its name: the terminal table and the HTML report."""


def versus_cells(row: VersusRow) -> list[str]:
    """One judge's figures against the humans (``VERSUS_HEADERS``), as both the terminal and the page show them."""

    def share(value: float | None) -> str:
        return "-" if value is None else f"{value:.0%}"

    interval = (
        f" ({share(row.agreement_low)}-{share(row.agreement_high)})"
        if row.agreement_low is not None and row.agreement_high is not None
        else ""
    )
    return [
        str(row.items),
        f"{share(row.agreement)}{interval} of {row.decided}",
        f"{share(row.agreement_with_ties)} of {row.comparisons}",
        "-" if row.kappa is None else f"{row.kappa:.2f}",
        share(row.consistency),
        share(row.prefers_longer),
        "-" if row.brier is None else f"{row.brier:.3f}",
        "-" if row.effective_votes is None else f"{row.effective_votes:.0f}",
    ]


def versus_table(rows: Sequence[VersusRow], notes: Sequence[str], width: int) -> list[Table | Text]:
    """Each judge's agreement with the humans beside the baselines (``arena.analysis.versus``)."""
    columns = [
        Column("judge", "name", 100),
        Column("items", priority=60, justify="right"),
        Column("agreement, no ties (95% CI)", priority=95, justify="right"),
        Column("with ties", priority=80, justify="right"),
        Column("kappa", priority=70, justify="right"),
        Column("orders agree", priority=65, justify="right"),
        Column("prefers longer", priority=50, justify="right"),
        Column("Brier", priority=45, justify="right"),
        Column("worth (human votes)", priority=55, justify="right"),
    ]
    cells: list[list[str | Text]] = [
        [
            literal(row.judge, style="bold" if row.kind == "auto" else ("dim" if row.kind == "baseline" else "")),
            *versus_cells(row),
        ]
        for row in rows
    ]
    shown: list[Table | Text] = [fitted_table(columns, cells, width, title=literal("versus the humans"))]
    explained = (
        "each judge's votes against every other person's vote on the same prompt and pair; agreement leaves "
        "ties out (MT-Bench's S2), 'with ties' counts a tie as a third answer (S1). Anchors: GPT-4 vs experts "
        "66% / 85%, experts with each other 63% / 81% (MT-Bench); 'always the longer answer' 62% (AlpacaEval). "
        "Brier: its probabilities against the people's verdicts (0.25 = always 50%, lower is better; --json has "
        "the reliability table); worth: how many human votes its verdicts count for on the judge-assisted board"
    )
    shown.append(literal(explained, style="dim"))
    shown.extend(literal(note, style="yellow") for note in notes)
    return shown


def describe_loaded(info: LoadedInfo) -> str:
    """What ran where, in one line: 'gguf · cpu · Q4_1 · 135M params · ctx 8192 · 272 MiB'."""
    parts = [info.backend]
    parts += [value for value in (info.device, info.dtype) if value]
    if info.quant and info.quant != info.dtype:
        parts.append(str(info.quant))
    if info.n_params:
        parts.append(_short_count(info.n_params) + " params")
    context = info.extra.get("n_ctx")
    if context:
        parts.append(f"ctx {context}")
    if info.memory_bytes:
        shared = " shared" if info.extra.get("weights_shared") else ""  # one copy serves two contestants
        how = {
            "measured": " (measured growth at load)",
            "computed": " (weights + KV cache, computed)",
            "weights": " (weights only)",
        }
        parts.append(f"{info.memory_bytes / 2**20:.0f} MiB{shared}{how.get(str(info.extra.get('memory')), '')}")
    if info.chat_template is False:
        parts.append("no chat template")
    given = info.extra.get("chat_template_given")
    if given:
        parts.append(f"chat template given: {given}")
    return " · ".join(str(part) for part in parts)


def _short_count(number: int) -> str:
    for divisor, suffix in ((10**9, "B"), (10**6, "M"), (10**3, "K")):
        if number >= divisor:
            return f"{number / divisor:.3g}{suffix}"
    return str(number)
