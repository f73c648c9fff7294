"""Importing FastChat battles at dataset scale, against the least an importer must do, and style control on
the imported battles (hostile review item 24; issue 27).

Writes N synthetic FastChat records with conversations (20 contestants, 500 prompts, answers of 40-160
words with some markdown), then times, each in a fresh process as a user runs it:

- a minimal importer: parse, validate the fields, hash each record for its uid, one transaction of one
  ``executemany`` into one table (no contestants, prompts or answer rows, no counting): the floor the
  review measured against;
- ``arena import`` into a new file, and the same file imported again (every record already there);
- ``arena leaderboard --style-control --json`` on the imported file.

``python -m bench.bench_import [N] [--no-conversations]`` (default 20000, with conversations). Times are
CPU seconds (user + system) of each process, the median of three alternated runs.
"""

from __future__ import annotations

import json
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPEATS = 3
WORDS = "the a tide moon water pulls ocean earth gravity bulge side far near rotates twice daily".split()


def answer(rng: random.Random) -> str:
    lines = []
    if rng.random() < 0.3:
        lines.append("## " + " ".join(rng.choices(WORDS, k=3)))
    lines.append(" ".join(rng.choices(WORDS, k=rng.randint(40, 160))) + ".")
    if rng.random() < 0.4:
        lines += [f"- **{rng.choice(WORDS)}** {' '.join(rng.choices(WORDS, k=6))}" for _ in range(rng.randint(2, 5))]
    return "\n".join(lines)


def write_records(path: Path, n: int, conversations: bool = True) -> None:
    rng = random.Random(0)
    models = [f"model-{i:02d}" for i in range(20)]
    records = []
    for i in range(n):
        a, b = rng.sample(models, 2)
        question = f"Question {i % 500}: why are there two tides?"
        records.append(
            {
                "question_id": f"q{i % 500}",
                "model_a": a,
                "model_b": b,
                "winner": rng.choice(["model_a", "model_b", "tie", "tie (bothbad)"]),
                "judge": f"judge-{i % 7}",
                "tstamp": 1.7e9 + i,
            }
        )
        if conversations:
            for side in ("a", "b"):
                records[-1][f"conversation_{side}"] = [
                    {"role": "user", "content": question},
                    {"role": "assistant", "content": answer(rng)},
                ]
    path.write_text(json.dumps(records), encoding="utf-8")


MINIMAL = """
import hashlib, json, sqlite3, sys
records = json.load(open(sys.argv[1], encoding="utf-8"))
rows = []
for r in records:  # validate, hash: the least an importer that recognises a repeated record must do
    if not isinstance(r, dict) or r.get("winner") not in ("model_a", "model_b", "tie", "tie (bothbad)"):
        continue
    if not all(isinstance(r.get(k), str) for k in ("model_a", "model_b")):
        continue
    uid = hashlib.sha256(json.dumps(r, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]
    answers = [json.dumps(r[k], ensure_ascii=False) if k in r else None for k in ("conversation_a", "conversation_b")]
    rows.append((uid, r["model_a"], r["model_b"], r["winner"], r.get("judge"), r.get("tstamp"), *answers))
conn = sqlite3.connect(sys.argv[2])
conn.execute("create table battles (uid unique, model_a, model_b, winner, judge, tstamp, answer_a, answer_b)")
with conn:
    conn.executemany("insert or ignore into battles values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
"""


def wall_and_cpu(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of ``command`` in a fresh process. CPU seconds are what the
    issue's ratios are in: wall time on a shared 2-core machine swings by a fifth from run to run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def timed(command: list[str]) -> float:
    """CPU seconds of ``command`` (``wall_and_cpu``)."""
    return wall_and_cpu(command)[1]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    conversations = "--no-conversations" not in sys.argv
    with tempfile.TemporaryDirectory() as workdir:
        source = Path(workdir) / "battles.json"
        write_records(source, n, conversations)
        minimals, firsts = [], []
        for run in range(REPEATS):  # alternated, so a busy moment lands on both
            minimal_db, db = Path(workdir) / f"minimal{run}.db", Path(workdir) / f"arena{run}.db"
            minimals.append(timed([sys.executable, "-c", MINIMAL, str(source), str(minimal_db)]))
            firsts.append(timed([sys.executable, "-m", "arena", "import", str(source), "--db", str(db)]))
        minimal, first = statistics.median(minimals), statistics.median(firsts)
        again = timed([sys.executable, "-m", "arena", "import", str(source), "--db", str(db)])
        board = timed([sys.executable, "-m", "arena", "leaderboard", "--style-control", "--json", "--db", str(db)])
        with sqlite3.connect(db) as conn:
            stored = conn.execute("select count(*) from battles where style_words is not null").fetchone()[0]
        size_mib = source.stat().st_size / 2**20
    print(f"{n} records ({size_mib:.1f} MiB of JSON, {'with' if conversations else 'without'} conversations)")
    print(
        f"CPU seconds, median of {REPEATS} alternated runs: minimal importer {minimal:.2f} s "
        f"({min(minimals):.2f}-{max(minimals):.2f}); arena import {first:.2f} s ({min(firsts):.2f}-{max(firsts):.2f}), "
        f"{first / minimal:.2f}x, {n / first:.0f} battles per CPU second"
    )
    print(f"import again (all already there) {again:.2f} s")
    print(f"leaderboard --style-control on the imported file {board:.2f} s; battles with stored style: {stored}/{n}")


if __name__ == "__main__":
    main()
