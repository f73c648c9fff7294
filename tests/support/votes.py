"""Fill a real arena database with voted battles through the Store API, as the TUI does."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from arena.backend import Contestant, GenerationParams, GenerationResult
from arena.prompts import Prompt
from arena.store import Store, writes

PROMPTS = [
    Prompt(set="demo", id="p1", category="code", text="Write a function."),
    Prompt(set="demo", id="p2", category="poem", text="Write a poem."),
]


def result(text: str) -> GenerationResult:
    return GenerationResult(
        text=text,
        n_tokens=len(text.split()),
        finish_reason="stop",
        ttft_s=0.1,
        tokens_per_s=20.0,
        wall_s=0.5,
        peak_mem_bytes=None,
        rendered_prompt="prompt",
        chat_template=True,
    )


def add_votes(
    db: Path,
    votes: Sequence[tuple[str, str, str]],
    judge: str = "ana",
    flags: bool = False,
    prompts: Sequence[Prompt] = PROMPTS,
) -> None:
    """``votes`` are (left, right, verdict); ``prompts`` take turns (by default a code and a poem prompt)."""
    with Store(db) as store:
        labels = sorted({v[0] for v in votes} | {v[1] for v in votes})
        writes.register(store, [Contestant(label, "replay", f"{label}.jsonl") for label in labels], prompts)
        session = writes.start_session(store, "play", judge=judge)
        params = GenerationParams(temperature=0.0)
        for index, (left, right, verdict) in enumerate(votes):
            prompt = prompts[index % len(prompts)]
            ids = [
                writes.record_generation(
                    store,
                    session=session,
                    contestant=label,
                    prompt=prompt.uid,
                    messages=prompt.messages(),
                    params=params,
                    result=result(f"{label} answers {prompt.id} #{index}"),
                )
                for label in (left, right)
            ]
            if flags:
                with store.transaction() as tx:
                    tx.table("flags").insert({"generation": ids[0], "name": "repetitive", "hit": 1, "score": 0.9})
            writes.record_battle(
                store,
                session=session,
                prompt=prompt.uid,
                left_generation=ids[0],
                right_generation=ids[1],
                left_contestant=left,
                right_contestant=right,
                verdict=verdict,
                judge=judge,
                vote_s=2.0,
            )
