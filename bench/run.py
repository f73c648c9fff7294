"""Run the benchmarks and write bench/RESULTS.md. Usage: python -m bench.run [NAME ...]

Benchmarks report numbers; they never fail the test suite. Each module exposes ``run() -> str`` returning
a markdown section (starting with a ``## `` heading). With NAMEs, only those sections are replaced (or
added); every other section, the session notes included, is kept as it was.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

BENCHMARKS = [
    "bench_leaderboard",
    "flag_quality",
    "bench_backends",
    "bench_tui",
    "bench_real_model",
    "bench_fidelity",
    "bench_serve",
    "bench_parallel",
    "bench_autojudge",
    "bench_cores",
    "bench_small_board",
    "bench_sequential",
    "bench_assisted",
    "bench_hostile_sizes",
    "bench_scale",
    "bench_judge_floor",
]
RESULTS = Path(__file__).with_name("RESULTS.md")
NOTES = "## Notes from the sessions"


def machine() -> str:
    python = platform.python_version()
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {python}, {platform.platform()}"


def main(names: list[str]) -> None:
    sections = []
    for name in names or BENCHMARKS:
        module = importlib.import_module(f"bench.{name}")
        section = module.run()
        print(section)
        sections.append(section)
    header = (
        "# Benchmark results\n\n"
        f"Written by `python -m bench.run` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.\n"
        f"Machine: {machine()}.\n\n"
    )
    kept = _sections(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    for section in sections:
        kept[_heading(section)] = section.rstrip("\n") + "\n"
    notes = kept.pop(NOTES, None)  # written by hand, kept last
    if notes is not None:
        kept[NOTES] = notes
    RESULTS.write_text(header + "\n".join(kept.values()), encoding="utf-8")


def _heading(section: str) -> str:
    return section.lstrip().splitlines()[0].strip()


def _sections(text: str) -> dict[str, str]:
    """The file's ``## `` sections by heading, in order (the ``# `` header before them is rewritten)."""
    found: dict[str, str] = {}
    for part in text.split("\n## ")[1:]:
        section = "## " + part
        found[_heading(section)] = section.rstrip("\n") + "\n"
    return found


if __name__ == "__main__":
    main(sys.argv[1:])
