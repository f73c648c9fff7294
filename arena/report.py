"""The vibe-check report: per contestant, how often it loops, collapses, says nothing or runs out of
budget, how well it keeps the prompts' constraints, and how fast it is.

Every rate carries a 95% Wilson interval, and each contestant is compared with the first one (the
baseline): where the two intervals overlap the difference is inside the noise and is shown as a tie.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from arena.flags import CONSTRAINT_PREFIX
from arena.stats import intervals_overlap, wilson_interval
from arena.store import Store

RATE_FLAGS = ("repetitive", "garbage", "empty", "truncated")
METRICS = (*RATE_FLAGS, "constraints")


@dataclass(frozen=True)
class Rate:
    """``hits`` out of ``n`` with its interval; ``versus_first`` is '≈', 'higher' or 'lower' (None for the baseline)."""

    hits: int
    n: int
    low: float
    high: float
    versus_first: str | None = None

    @property
    def rate(self) -> float | None:
        return self.hits / self.n if self.n else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "hits": self.hits,
            "n": self.n,
            "rate": None if self.rate is None else round(self.rate, 4),
            "ci": [round(self.low, 4), round(self.high, 4)],
            "versus_first": self.versus_first,
        }


@dataclass(frozen=True)
class ReportRow:
    contestant: str
    generations: int
    rates: dict[str, Rate]
    median_tokens_per_s: float | None
    speed_ratio: float | None
    peak_mem_bytes: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "contestant": self.contestant,
            "generations": self.generations,
            **{name: rate.to_dict() for name, rate in self.rates.items()},
            "median_tokens_per_s": self.median_tokens_per_s,
            "speed_ratio": self.speed_ratio,
            "peak_mem_bytes": self.peak_mem_bytes,
        }


def latest_batch_session(store: Store) -> int | None:
    rows = store.query("select max(id) as id from sessions where kind = 'batch'")
    return rows[0]["id"] if rows and rows[0]["id"] is not None else None


def build_report(store: Store, session: int | None) -> list[ReportRow]:
    """Rows in the order the contestants first appear (the batch's --model order); None means every session."""
    where, params = ("where g.session = ?", [session]) if session is not None else ("", [])
    generations = store.query(
        f"select g.id, g.contestant, g.tokens_per_s, g.peak_mem_bytes from generations g {where} order by g.id",
        params,
    )
    flags = store.query(
        f"select f.generation, f.name, f.hit from flags f join generations g on g.id = f.generation {where}",
        params,
    )
    by_generation: dict[int, dict[str, bool]] = {}
    for flag in flags:
        by_generation.setdefault(flag["generation"], {})[flag["name"]] = bool(flag["hit"])

    order: list[str] = []
    for row in generations:
        if row["contestant"] not in order:
            order.append(row["contestant"])
    rows: list[ReportRow] = []
    for contestant in order:
        own = [g for g in generations if g["contestant"] == contestant]
        analyzed = [by_generation[g["id"]] for g in own if g["id"] in by_generation]
        rates = {}
        for name in RATE_FLAGS:
            hits = sum(1 for found in analyzed if found.get(name))
            rates[name] = Rate(hits, len(analyzed), *wilson_interval(hits, len(analyzed)))
        constraint_results = [
            hit for found in analyzed for name, hit in found.items() if name.startswith(CONSTRAINT_PREFIX)
        ]
        met = sum(1 for hit in constraint_results if not hit)
        rates["constraints"] = Rate(met, len(constraint_results), *wilson_interval(met, len(constraint_results)))
        speeds = [g["tokens_per_s"] for g in own if g["tokens_per_s"] is not None]
        memory = [g["peak_mem_bytes"] for g in own if g["peak_mem_bytes"] is not None]
        rows.append(
            ReportRow(
                contestant=contestant,
                generations=len(own),
                rates=rates,
                median_tokens_per_s=statistics.median(speeds) if speeds else None,
                speed_ratio=None,
                peak_mem_bytes=max(memory) if memory else None,
            )
        )
    return _compare_with_first(rows)


def _compare_with_first(rows: list[ReportRow]) -> list[ReportRow]:
    if not rows:
        return rows
    first = rows[0]
    compared = [first]
    for row in rows[1:]:
        rates = {}
        for name, rate in row.rates.items():
            base = first.rates[name]
            if not rate.n or not base.n:
                versus = None
            elif intervals_overlap((rate.low, rate.high), (base.low, base.high)):
                versus = "≈"
            else:
                versus = "higher" if (rate.rate or 0) > (base.rate or 0) else "lower"
            rates[name] = Rate(rate.hits, rate.n, rate.low, rate.high, versus)
        ratio = (
            row.median_tokens_per_s / first.median_tokens_per_s
            if row.median_tokens_per_s is not None and first.median_tokens_per_s
            else None
        )
        compared.append(
            ReportRow(row.contestant, row.generations, rates, row.median_tokens_per_s, ratio, row.peak_mem_bytes)
        )
    baseline_ratio = 1.0 if first.median_tokens_per_s else None
    compared[0] = ReportRow(
        first.contestant,
        first.generations,
        first.rates,
        first.median_tokens_per_s,
        baseline_ratio,
        first.peak_mem_bytes,
    )
    return compared


def format_rate(rate: Rate, separator: str = " ") -> str:
    """'3/25 12% ≈ (5-25)': ≈ when the difference to the first contestant is inside the noise."""
    if not rate.n:
        return "-"
    marker = " ≈" if rate.versus_first == "≈" else ""
    interval = f"({100 * rate.low:.0f}-{100 * rate.high:.0f})"
    return f"{rate.hits}/{rate.n} {100 * (rate.rate or 0):.0f}%{marker}{separator}{interval}"


def _format_speed(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def format_memory(value: int | None) -> str:
    if value is None:
        return "-"
    amount = float(value)
    for unit in ("B", "KiB", "MiB"):
        if amount < 1024:
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} GiB"


HEADERS: tuple[str, ...] = (
    "contestant",
    "gens",
    "repetitive",
    "garbage",
    "empty",
    "truncated",
    "constraints met",
    "tok/s",
    "vs first",
    "peak mem",
)


def table_rows(rows: list[ReportRow], separator: str = " ") -> list[list[str]]:
    """Printable cells, shared by the rich table (interval on its own line) and the markdown output."""
    return [
        [
            row.contestant,
            str(row.generations),
            *(format_rate(row.rates[name], separator) for name in METRICS),
            _format_speed(row.median_tokens_per_s),
            "-" if row.speed_ratio is None else f"{row.speed_ratio:.2f}x",
            format_memory(row.peak_mem_bytes),
        ]
        for row in rows
    ]


def markdown(rows: list[ReportRow]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for cells in table_rows(rows):
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    lines.append("")
    lines.append(
        "Rates are hits/generations with 95% Wilson intervals; ≈ marks a difference to the first row inside the noise."
    )
    return "\n".join(lines) + "\n"
