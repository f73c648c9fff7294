"""One battle, independent of any UI: choose a pair, hide who is where, and say what each side must run.

Owns pairing (the pair that met least) and blind side assignment. Running the streams belongs to
``arena.generation``; the TUI and ``arena play``'s session turn a ``Battle`` into one ``StreamJob`` per side
with ``Battle.job`` and run each through ``generation.run_job``.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from arena.backend import Contestant, GenerationParams
from arena.generation import ChunkCallback, StreamJob
from arena.pool import ModelPool
from arena.prompts import Prompt
from arena.verdicts import Side


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


@dataclass(frozen=True)
class Battle:
    """A prompt and the two contestants in their (hidden) positions."""

    prompt: Prompt
    left: Contestant
    right: Contestant
    params: GenerationParams

    def contestant(self, side: Side) -> Contestant:
        return self.left if side == "left" else self.right

    def job(
        self,
        side: Side,
        pool: ModelPool,
        *,
        cancel: threading.Event | None = None,
        on_chunk: ChunkCallback | None = None,
    ) -> StreamJob:
        """What one side runs: the same messages and params for both sides, its own cancel switch."""
        return StreamJob(
            loaded=pool[self.contestant(side).label],
            messages=self.prompt.messages(),
            params=self.params,
            prompt_id=self.prompt.uid,
            cancel=cancel or threading.Event(),
            on_chunk=on_chunk,
        )


def new_battle(
    prompt: Prompt,
    contestants: Sequence[Contestant],
    battle_counts: Mapping[frozenset[str], int],
    params: GenerationParams,
    rng: random.Random,
) -> Battle:
    left, right = assign_sides(pick_pair(contestants, battle_counts, rng), rng)
    return Battle(prompt=prompt, left=left, right=right, params=params)
