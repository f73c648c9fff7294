"""Headless runs: every contestant answers every prompt of a set, and each generation is stored.

Owns the batch loop, its session record and its per-contestant summary; streams run through
``arena.engine.generation`` and answers are stored through ``arena.judging.answers``, like the TUI's.

All contestants answer a prompt at the same time (one thread each) unless ``sequential`` is asked for,
which gives clean speed numbers. Each generation is written in its own transaction as soon as it is done,
so an interrupted batch keeps everything finished before the interrupt.
"""

from __future__ import annotations

import json
import statistics
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from arena.backend import Chunk, Contestant, GenerationParams, GenerationResult, LoadedInfo
from arena.engine.generation import StreamJob, run_streams
from arena.engine.pool import ModelPool
from arena.judging.answers import record_answer
from arena.prompts import Prompt
from arena.store import Store, writes
from arena.store.settings import ContestantRef, SessionSettings


@dataclass(frozen=True)
class BatchRecord:
    """One stored generation of a batch run."""

    generation_id: int
    contestant: str
    prompt: str
    result: GenerationResult
    sample: int = 0
    """Which of the prompt's ``--samples`` answers (0 without samples)."""
    seed: int | None = None
    """The sampling seed it ran with."""

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.generation_id,
            "contestant": self.contestant,
            "prompt": self.prompt,
            "sample": self.sample,
            "seed": self.seed,
            "output": self.result.text,
            "n_tokens": self.result.n_tokens,
            "finish_reason": self.result.finish_reason,
            "ttft_s": self.result.ttft_s,
            "tokens_per_s": self.result.tokens_per_s,
            "wall_s": self.result.wall_s,
            "error": self.result.error,
        }


def start_batch_session(
    store: Store,
    contestants: Sequence[Contestant],
    prompts: Sequence[Prompt],
    *,
    prompt_set: str,
    params: GenerationParams,
    sequential: bool,
    samples: int = 1,
    loaded: Mapping[str, LoadedInfo] | None = None,
) -> int:
    """Register the run's contestants and prompts and open its session; returns the session id. ``loaded``
    (what each contestant ran as, by label) is kept with the session for the reveal of battles judged later
    on these answers (``arena play --from-batch``)."""
    writes.register(store, contestants, prompts)
    settings = SessionSettings(
        prompt_set=prompt_set,
        params=params.to_dict(),
        contestants=tuple(ContestantRef(spec=c.spec, label=c.label) for c in contestants),  # in --model order
        sequential=sequential,
        samples=samples if samples > 1 else None,
        loaded={label: _plain(asdict(info)) for label, info in (loaded or {}).items()},
    )
    return writes.start_session(store, "batch", judge=None, settings=settings)


def _plain(info: dict[str, Any]) -> dict[str, Any]:
    """``info`` as plain JSON values (a backend's ``extra`` may hold a path or an enum: kept as its text)."""
    plain: dict[str, Any] = json.loads(json.dumps(info, default=str))
    return plain


def run_batch(
    contestants: Sequence[Contestant],
    prompts: Sequence[Prompt],
    params: GenerationParams,
    pool: ModelPool,
    store: Store,
    *,
    session: int,
    sequential: bool = False,
    on_tokens: Callable[[str, int], None] | None = None,
    on_done: Callable[[BatchRecord], None] | None = None,
    cancel: threading.Event | None = None,
    samples: int = 1,
) -> list[BatchRecord]:
    """Generate and store an answer from every contestant to every prompt, prompt by prompt; with
    ``samples`` K, K answers each, the k-th with seed ``params.seed + k`` (the same k for every contestant)."""
    records: list[BatchRecord] = []
    stop_all = cancel or threading.Event()
    for prompt, sample in ((prompt, sample) for prompt in prompts for sample in range(samples)):
        if stop_all.is_set():
            break
        messages = prompt.messages()
        sampled = replace(params, seed=params.seed + sample) if sample else params

        def counter(label: str) -> Callable[[Chunk], None] | None:
            if on_tokens is None:
                return None
            callback = on_tokens
            return lambda chunk: callback(label, chunk.n_tokens)

        jobs = [
            StreamJob(
                loaded=pool[contestant.label],
                messages=messages,
                params=sampled,
                prompt_id=prompt.uid,
                cancel=stop_all,
                on_chunk=counter(contestant.label),
            )
            for contestant in contestants
        ]
        stored = _answer_and_store(jobs, contestants, prompt, sampled, store, session, sequential, on_done, sample)
        records.extend(stored)
    return records


def _answer_and_store(
    jobs: Sequence[StreamJob],
    contestants: Sequence[Contestant],
    prompt: Prompt,
    params: GenerationParams,
    store: Store,
    session: int,
    sequential: bool,
    on_done: Callable[[BatchRecord], None] | None,
    sample: int = 0,
) -> list[BatchRecord]:
    """One prompt's streams; each side is stored the moment it finishes, so Ctrl-C while the other side
    still streams loses nothing that was done. Records come back in contestant order."""
    finished: dict[int, BatchRecord] = {}

    def store_one(index: int, result: GenerationResult) -> None:
        label = contestants[index].label
        answer = record_answer(
            store, session=session, contestant=label, prompt=prompt, params=params, result=result, sample=sample
        )
        finished[index] = BatchRecord(answer.generation_id, label, prompt.uid, result, sample, params.seed)
        if on_done is not None:
            on_done(finished[index])

    run_streams(jobs, sequential=sequential, on_result=store_one)
    return [finished[index] for index in sorted(finished)]


@dataclass(frozen=True)
class ContestantSummary:
    """Per-contestant totals for the table printed after a batch."""

    contestant: str
    generations: int
    finish_reasons: dict[str, int]
    median_tokens: float
    median_tokens_per_s: float | None
    median_ttft_s: float | None
    errors: list[str]

    def to_dict(self) -> dict[str, object]:
        return {
            "contestant": self.contestant,
            "generations": self.generations,
            "finish_reasons": self.finish_reasons,
            "median_tokens": self.median_tokens,
            "median_tokens_per_s": self.median_tokens_per_s,
            "median_ttft_s": self.median_ttft_s,
            "errors": self.errors,
        }


def _median(values: Sequence[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def summarize(contestants: Sequence[Contestant], records: Sequence[BatchRecord]) -> list[ContestantSummary]:
    summaries = []
    for contestant in contestants:
        own = [record.result for record in records if record.contestant == contestant.label]
        summaries.append(
            ContestantSummary(
                contestant=contestant.label,
                generations=len(own),
                finish_reasons=dict(Counter(result.finish_reason for result in own)),
                median_tokens=_median([result.n_tokens for result in own]) or 0.0,
                median_tokens_per_s=_median([result.tokens_per_s for result in own]),
                median_ttft_s=_median([result.ttft_s for result in own]),
                errors=sorted({result.error for result in own if result.error}),
            )
        )
    return summaries
