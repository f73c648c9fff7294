"""`arena leaderboard` on an empty or small database, as a user runs it (issue 26: "well under 0.3 s").

A fresh process per run, with its bytecode cached (``PYTHONDONTWRITEBYTECODE`` is dropped for these runs:
where it is set, every run compiles the arena's sources again, about 0.1 s more, which no installed copy
pays). The reference, measured in the same run, is what such a command cannot avoid: starting Python and
importing numpy (with ``numpy.random``), click, rich's console and table, and sqlite3.

``python -m bench.bench_small_board``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from arena.store import Store
from bench.bench_leaderboard import make_outcomes, write_database

RUNS = 15
TARGET_S = 0.3
FLOOR_IMPORTS = "import numpy, numpy.random, click, rich.console, rich.table, sqlite3"


def timings(command: list[str], runs: int = RUNS) -> list[float]:
    """Wall seconds of ``runs`` fresh processes, after one untimed run that writes the bytecode."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(command, env=env, capture_output=True, check=True)
    found = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=True)
        found.append(time.perf_counter() - start)
    return found


def run() -> str:
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        empty, small, hundreds = (Path(folder) / name for name in ("empty.db", "small.db", "hundreds.db"))
        with Store(empty):
            pass
        write_database(small, make_outcomes(4, contestants=3))
        write_database(hundreds, make_outcomes(300, contestants=4))
        python = timings([sys.executable, "-c", "pass"])
        floor = timings([sys.executable, "-c", FLOOR_IMPORTS])
        reference = statistics.median(floor)
        lines = [
            "## Leaderboard on an empty or small database (`bench/bench_small_board.py`)\n",
            f"Whole `arena leaderboard` commands, {RUNS} fresh processes each, bytecode cached; load average "
            f'{load:.2f} at the start. Reference in the same run: `python -c "{FLOOR_IMPORTS}"`, best '
            f"{min(floor):.3f} s, median {reference:.3f} s (Python alone: median {statistics.median(python):.3f} s).\n",
            "| database | output | best | median | / reference | target |",
            "|---|---|---|---|---|---|",
        ]
        for name, database in (("empty", empty), ("4 battles", small), ("300 battles", hundreds)):
            for output, extra in (("table", ()), ("--json", ("--json",))):
                found = timings([sys.executable, "-m", "arena", "leaderboard", "--db", str(database), *extra])
                median = statistics.median(found)
                verdict = "meets" if median < TARGET_S else "MISSES"
                lines.append(
                    f"| {name} | {output} | {min(found):.3f} s | {median:.3f} s | {median / reference:.2f} "
                    f"| < {TARGET_S} s ({verdict}) |"
                )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
