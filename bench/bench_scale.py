"""How cost grows with the work (issue 37 item 2): import, leaderboard (plain, style-controlled, battle
bootstrap), report and export at 10,000, 100,000 and 1,000,000 battles, each whole command in a fresh
process, as CPU seconds and its own peak memory, with the import and the board against their minimal
references (``bench_import.MINIMAL``, ``bench_leaderboard.REFERENCE_COMMAND``) measured in the same run.

Conversations (answers of 40-160 words with some markdown) at 10,000 and 100,000 battles; without them at
1,000,000 (a vote-only set, as a 1M-battle public leaderboard dump is read for its votes; with answers it
would be 1.5 GB of JSON). ``python -m bench.bench_scale [SIZE ...]`` (default: all three).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.bench_import import MINIMAL, write_records
from bench.bench_leaderboard import REFERENCE_COMMAND

SIZES = ((10_000, True), (100_000, True), (1_000_000, False))


@dataclass(frozen=True)
class Measured:
    cpu_s: float
    wall_s: float
    peak_mib: float


def measured(command: list[str]) -> Measured:
    """One fresh process under GNU time: its own CPU seconds (user + system) and peak resident memory (a
    child forked from this process would start from this process's own peak, which holds the data set)."""
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M %U %S", *command], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{command[:4]} exited with status {done.returncode}: {done.stderr[-300:]}")
    peak_kib, user, system = done.stderr.strip().splitlines()[-1].split()
    return Measured(float(user) + float(system), wall, int(peak_kib) / 1024)


def arena(*args: str) -> list[str]:
    return [sys.executable, "-m", "arena", *args]


def one_size(n: int, conversations: bool, folder: Path) -> list[str]:
    source = folder / f"battles-{n}.json"
    write_records(source, n, conversations)
    db = folder / f"arena-{n}.db"
    rows = [
        ("minimal importer", measured([sys.executable, "-c", MINIMAL, str(source), str(folder / f"min-{n}.db")])),
        ("`arena import`", measured(arena("import", str(source), "--db", str(db)))),
        ("board reference", measured([sys.executable, "-c", REFERENCE_COMMAND, str(db)])),
        ("`arena leaderboard --json`", measured(arena("leaderboard", "--json", "--db", str(db)))),
        ("`--style-control`", measured(arena("leaderboard", "--json", "--style-control", "--db", str(db)))),
        ("`--cluster battle`", measured(arena("leaderboard", "--json", "--cluster", "battle", "--db", str(db)))),
        ("`arena export --format fastchat`", measured(arena("export", "--format", "fastchat", "--out",
                                                            str(folder / f"out-{n}.json"), "--db", str(db)))),
    ]  # fmt: skip
    if conversations:  # a vote-only set has no answers to report on
        rows.append(("`arena report --all --json`", measured(arena("report", "--all", "--json", "--db", str(db)))))
    by_name = dict(rows)
    ratios = {
        "`arena import`": by_name["`arena import`"].cpu_s / by_name["minimal importer"].cpu_s,
        "`arena leaderboard --json`": by_name["`arena leaderboard --json`"].cpu_s / by_name["board reference"].cpu_s,
        "`--style-control`": by_name["`--style-control`"].cpu_s / by_name["`arena leaderboard --json`"].cpu_s,
    }
    size_mib = source.stat().st_size / 2**20
    lines = []
    for name, found in rows:
        ratio = f"{ratios[name]:.2f}x" if name in ratios else ""
        lines.append(
            f"| {n:,} | {'yes' if conversations else 'no'} ({size_mib:.0f} MiB) | {name} | {found.cpu_s:.2f} s "
            f"| {found.wall_s:.2f} s | {ratio} | {found.peak_mib:.0f} MiB |"
        )
    for path in folder.iterdir():
        path.unlink()
    return lines


def run(sizes: tuple[tuple[int, bool], ...] = SIZES) -> str:
    lines = [
        "## Scale: 10,000 to 1,000,000 battles, whole commands (`bench/bench_scale.py`)\n",
        "Each command in a fresh process: its CPU seconds (user + system), wall seconds and peak resident",
        "memory (GNU time's), one run each; the ratios are CPU seconds against the minimal importer and the",
        "minimal board (`REFERENCE_COMMAND` of `bench_leaderboard.py`) measured beside them, and the",
        "style-controlled board's against the plain board's (target 1.3x).\n",
        "| battles | answers | command | CPU | wall | x its floor | peak memory |",
        "|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        for n, conversations in sizes:
            lines += one_size(n, conversations, Path(folder))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    wanted = {int(arg) for arg in sys.argv[1:]}
    print(run(tuple(size for size in SIZES if not wanted or size[0] in wanted)))
