"""Work that grows with an answer's size, on the hostile review's pathological inputs (issue 36): the panes'
markdown styling and the sentence splitter the flags use. Each must stay about linear: ten times the input,
about ten times the time. Median of 3 runs; the answer's characters per row."""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable

from rich.console import Console

from arena.analysis.flags.text import sentences
from arena.tui.markdown import styled_answer

RUNS = 3


def _styled_and_laid_out(answer: str) -> None:
    Console(file=io.StringIO(), width=80).print(styled_answer(answer))


CASES: list[tuple[str, Callable[[str], object], Callable[[int], str]]] = [
    ("styling: a systemd fence of spaces (was cubic)", _styled_and_laid_out, lambda n: f"```systemd\n{' ' * n}x\n```"),
    ("styling: unclosed `**` openers", _styled_and_laid_out, lambda n: "**a " * (n // 4)),
    ("styling: backtick runs of growing length", _styled_and_laid_out, lambda n: "`` ` " * (n // 5)),
    ("styling: a table of 1 KB rows", _styled_and_laid_out, lambda n: ("| " + "cell | " * 140 + "\n") * (n // 1000)),
    (
        "sentences: one paragraph of prose (was quadratic)",
        sentences,
        lambda n: "The cat sat. Dr. Who ran! " * (n // 26),
    ),
]
SIZES = (10_000, 100_000, 1_000_000)


def _median_s(work: Callable[[str], object], text: str) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        work(text)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run() -> str:
    lines = [
        "## Answer size: styling and sentences (issue 36)\n",
        f"Seconds, median of {RUNS}; styling includes rich laying the text out at 80 columns (what a pane does).\n",
        "| work | " + " | ".join(f"{size:,} chars" for size in SIZES) + " |",
        "|---|" + "---|" * len(SIZES),
    ]
    for name, work, make in CASES:
        cells = [f"{_median_s(work, make(size)):.3f}" for size in SIZES]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join([*lines, ""])


if __name__ == "__main__":
    print(run())
