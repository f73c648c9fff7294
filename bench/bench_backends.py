"""Arena overhead per backend: tokens/s of the library's own streaming loop (transformers'
TextIteratorStreamer, llama-cpp-python's create_completion(stream=True)) vs the same generation through
``run_batch`` (the code behind ``arena batch``: stream driver, stop filter, UTF-8 handling, callbacks).

Both sides generate greedily from the same prompt string with the same token budget, so they produce the
same tokens; each figure is generated tokens over wall time, prefill included. Run-to-run noise on a
shared 2-core machine is around +-15%, larger than the 3% being looked for, so every raw run is paired
with an arena run of the same prompt, the order alternates, and the report gives the median of the
pairwise ratios with its quartiles. Target: the arena costs under 3% (median ratio >= 0.97).
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from arena.backend import Contestant, GenerationParams
from arena.demo.tinymodels import TinySpec, build_family
from arena.engine.contestants import parse_spec
from arena.engine.pool import ModelPool
from arena.judging.batch import BatchPlan, run_batch
from arena.prompts import load_prompt_set
from arena.store import Store, writes

SPEC = TinySpec(hidden=256, layers=4, heads=8, kv_heads=4, intermediate=768, vocab=512, train_steps=0)
MAX_TOKENS = 128
ROUNDS = 6


def _hf_generate(model: Any, prompt_ids: Any, streamer: Any = None) -> Any:
    import torch

    with torch.inference_mode():
        return model.model.generate(
            input_ids=prompt_ids,
            attention_mask=torch.ones_like(prompt_ids),
            max_new_tokens=MAX_TOKENS,
            do_sample=False,
            pad_token_id=model.tokenizer.pad_token_id,
            eos_token_id=model.eos_ids,
            streamer=streamer,
        )


def _raw_hf(model: Any, prompt_ids: Any) -> tuple[int, float]:
    """transformers' own streaming loop: generate in a thread, read a TextIteratorStreamer."""
    from transformers import TextIteratorStreamer

    streamer = TextIteratorStreamer(model.tokenizer, skip_prompt=True, skip_special_tokens=True)
    result: list[Any] = []

    def work() -> None:
        result.append(_hf_generate(model, prompt_ids, streamer))

    start = time.perf_counter()
    thread = threading.Thread(target=work)
    thread.start()
    text = "".join(streamer)
    thread.join()
    seconds = time.perf_counter() - start
    assert text is not None
    return int(result[0].shape[1] - prompt_ids.shape[1]), seconds


def _bare_hf(model: Any, prompt_ids: Any) -> tuple[int, float]:
    """No streaming at all: one generate call, ids only."""
    start = time.perf_counter()
    out = _hf_generate(model, prompt_ids)
    return int(out.shape[1] - prompt_ids.shape[1]), time.perf_counter() - start


def _bare_gguf(model: Any, tokens: list[int]) -> tuple[int, float]:
    """The token generator without detokenizing: ids only."""
    start = time.perf_counter()
    generated = 0
    for token in model.llama.generate(tokens, temp=0.0, top_k=0, top_p=1.0, min_p=0.0, repeat_penalty=1.0):
        generated += 1
        if model.is_end(token) or generated >= MAX_TOKENS:
            break
    return generated, time.perf_counter() - start


def _raw_gguf(model: Any, tokens: list[int]) -> tuple[int, float]:
    """llama-cpp-python's own streaming loop: create_completion(stream=True)."""
    start = time.perf_counter()
    generated = 0
    for chunk in model.llama.create_completion(
        prompt=tokens,
        max_tokens=MAX_TOKENS,
        temperature=0.0,
        top_k=0,
        top_p=1.0,
        min_p=0.0,
        repeat_penalty=1.0,
        stream=True,
    ):
        if chunk["choices"][0]["text"] or chunk["choices"][0]["finish_reason"] is None:
            generated += 1
    return generated, time.perf_counter() - start


def measure(contestant: Contestant, pool: ModelPool, store: Store, session: int) -> dict[str, list[float]]:
    """Rates of the library streaming loop, the bare token loop and the arena, run in rotating order."""
    prompts = load_prompt_set("everyday").prompts[:4]
    params = GenerationParams(temperature=0.0, max_tokens=MAX_TOKENS)
    model = pool[contestant.label]
    rates: dict[str, list[float]] = {"library": [], "bare": [], "arena": []}
    for round_index in range(ROUNDS):
        for prompt in prompts:
            rendered = model.render(prompt.messages())
            hf = contestant.backend == "hf"
            prompt_input = model._input_ids(rendered) if hf else model._tokens(rendered)  # type: ignore[attr-defined]
            loops = [
                ("library", _raw_hf if hf else _raw_gguf),
                ("bare", _bare_hf if hf else _bare_gguf),
                ("arena", None),
            ]
            shift = round_index % 3
            for name, loop in loops[shift:] + loops[:shift]:
                if loop is None:
                    [record] = run_batch(BatchPlan([contestant], [prompt], params), pool, store, session=session)
                    rates[name].append(record.result.n_tokens / record.result.wall_s)
                else:
                    n, seconds = loop(model, prompt_input)
                    rates[name].append(n / seconds)
    return rates


def _ratio_summary(arena: list[float], baseline: list[float]) -> tuple[float, float, float]:
    q1, median, q3 = statistics.quantiles([a / b for a, b in zip(arena, baseline, strict=True)], n=4)
    return median, q1, q3


def run() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        family = build_family(Path(tmp) / "bench-model", SPEC)
        contestants = [
            parse_spec(f"hf:{family.hf}?device=cpu", label="hf-cpu-fp32"),
            parse_spec(f"gguf:{family.gguf}", label="gguf-f32"),
        ]
        lines = [
            f"## Backend overhead: library loop vs `arena batch` ({MAX_TOKENS} greedy tokens, 4 prompts x {ROUNDS})\n",
            f"Model: untrained tiny llama, hidden {SPEC.hidden}, {SPEC.layers} layers, vocab {SPEC.vocab}, CPU.\n",
            "| backend | library streaming tok/s | bare token loop tok/s | arena tok/s "
            "| arena / library: median [q1, q3] | arena / bare: median [q1, q3] | target: arena / library >= 0.97 |",
            "|---|---|---|---|---|---|---|",
        ]
        with ModelPool() as pool, Store(Path(tmp) / "bench.db") as store:
            pool.load_all(contestants)
            writes.register(store, contestants, load_prompt_set("everyday").prompts)
            session = writes.start_session(store, "bench", judge=None)
            for contestant in contestants:
                rates = measure(contestant, pool, store, session)
                lib = _ratio_summary(rates["arena"], rates["library"])
                bare = _ratio_summary(rates["arena"], rates["bare"])
                verdict = "meets" if lib[0] >= 0.97 else "MISSES"
                medians = {name: statistics.median(values) for name, values in rates.items()}
                lines.append(
                    f"| {contestant.label} | {medians['library']:.1f} | {medians['bare']:.1f} | {medians['arena']:.1f} "
                    f"| {lib[0]:.3f} [{lib[1]:.3f}, {lib[2]:.3f}] "
                    f"| {bare[0]:.3f} [{bare[1]:.3f}, {bare[2]:.3f}] | {verdict} |"
                )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
