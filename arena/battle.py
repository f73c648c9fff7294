"""One battle, independent of any UI: choose a pair, hide who is where, run both streams, return results.

The TUI and ``arena batch`` both drive models through here. Chunks are reported through callbacks from
worker threads; the caller decides how to show them (the TUI posts messages, batch counts tokens).
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from arena.backend import Chunk, GenerationParams, GenerationResult, Loaded, Message
from arena.contestants import Contestant
from arena.generation import generate
from arena.pool import ModelPool
from arena.prompts import Prompt

Side = Literal["left", "right"]
SIDES: tuple[Side, Side] = ("left", "right")


def pick_pair(
    contestants: Sequence[Contestant],
    battle_counts: Mapping[frozenset[str], int],
    rng: random.Random,
) -> tuple[Contestant, Contestant]:
    """The pair that has met least so far; ties broken at random so no pair is favoured by list order."""
    if len(contestants) < 2:
        raise ValueError("a battle needs at least two contestants")
    pairs = list(itertools.combinations(contestants, 2))
    fewest = min(battle_counts.get(frozenset((a.label, b.label)), 0) for a, b in pairs)
    candidates = [(a, b) for a, b in pairs if battle_counts.get(frozenset((a.label, b.label)), 0) == fewest]
    return rng.choice(candidates)


def assign_sides(pair: tuple[Contestant, Contestant], rng: random.Random) -> tuple[Contestant, Contestant]:
    """(left, right) in random order: the judge must not learn a model's identity from its position."""
    first, second = pair
    return (first, second) if rng.random() < 0.5 else (second, first)


@dataclass
class StreamJob:
    """One model answering one prompt, with its own cancel switch."""

    loaded: Loaded
    messages: Sequence[Message]
    params: GenerationParams
    prompt_id: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    on_chunk: Callable[[Chunk], None] | None = None


def run_streams(jobs: Sequence[StreamJob], *, sequential: bool = False) -> list[GenerationResult]:
    """Run the jobs at once (one thread each) or one after the other, and return results in job order.

    Concurrent is what a judge wants to watch; sequential gives clean speed numbers, because two models
    never compete for the same cores or memory bandwidth.
    """

    def run(job: StreamJob) -> GenerationResult:
        return generate(
            job.loaded, job.messages, job.params, job.cancel, prompt_id=job.prompt_id, on_chunk=job.on_chunk
        )

    if sequential or len(jobs) == 1:
        return [run(job) for job in jobs]
    results: list[GenerationResult | None] = [None] * len(jobs)
    failures: list[BaseException] = []

    def worker(index: int, job: StreamJob) -> None:
        try:
            results[index] = run(job)
        except BaseException as exc:  # generate() turns backend errors into results; this is a real bug
            failures.append(exc)

    threads = [
        threading.Thread(target=worker, args=(index, job), name=f"arena-stream-{index}", daemon=True)
        for index, job in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return [result for result in results if result is not None]


@dataclass(frozen=True)
class Battle:
    """A prompt and the two contestants in their (hidden) positions."""

    prompt: Prompt
    left: Contestant
    right: Contestant
    params: GenerationParams

    def contestant(self, side: Side) -> Contestant:
        return self.left if side == "left" else self.right


@dataclass(frozen=True)
class BattleResult:
    battle: Battle
    left: GenerationResult
    right: GenerationResult

    def result(self, side: Side) -> GenerationResult:
        return self.left if side == "left" else self.right


def new_battle(
    prompt: Prompt,
    contestants: Sequence[Contestant],
    battle_counts: Mapping[frozenset[str], int],
    params: GenerationParams,
    rng: random.Random,
) -> Battle:
    left, right = assign_sides(pick_pair(contestants, battle_counts, rng), rng)
    return Battle(prompt=prompt, left=left, right=right, params=params)


def run_battle(
    battle: Battle,
    pool: ModelPool,
    *,
    on_chunk: Callable[[Side, Chunk], None] | None = None,
    cancels: Mapping[Side, threading.Event] | None = None,
    sequential: bool = False,
) -> BattleResult:
    """Stream both sides (same messages, same params) and return both results."""
    messages: list[Message] = battle.prompt.messages()

    def callback(side: Side) -> Callable[[Chunk], None] | None:
        if on_chunk is None:
            return None
        return lambda chunk: on_chunk(side, chunk)

    jobs = [
        StreamJob(
            loaded=pool[battle.contestant(side).label],
            messages=messages,
            params=battle.params,
            prompt_id=battle.prompt.uid,
            cancel=(cancels or {}).get(side) or threading.Event(),
            on_chunk=callback(side),
        )
        for side in SIDES
    ]
    left, right = run_streams(jobs, sequential=sequential)
    return BattleResult(battle=battle, left=left, right=right)
