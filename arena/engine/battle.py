"""One battle, independent of any UI: choose a pair, hide who is where, and say what each side must run.

Owns pairing (the pair that met least, or the pair whose order is least certain) and blind side
assignment. Running the streams belongs to ``arena.engine.generation``; the TUI and ``arena play``'s session
turn a ``Battle`` into one ``StreamJob`` per side with ``Battle.job`` and run each through
``generation.run_job``.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from arena.analysis.ratings.standing import Standing
from arena.backend import Contestant, GenerationParams, Message
from arena.engine.generation import ChunkCallback, StreamJob
from arena.engine.pool import ModelPool
from arena.prompts import Prompt
from arena.vocab import Side


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


def pick_uncertain_pair(
    contestants: Sequence[Contestant],
    battle_counts: Mapping[frozenset[str], int],
    standing: Standing,
    rng: random.Random,
) -> tuple[Contestant, Contestant]:
    """The pair whose next vote is needed most (``Standing.need``); a contestant without votes counts as
    level with everyone. Ties are broken at random."""
    if len(contestants) < 2:
        raise ValueError("a battle needs at least two contestants")
    adjacent = standing.adjacent([c.label for c in contestants])
    scored = [
        (
            standing.need(frozenset((a.label, b.label)), battle_counts.get(frozenset((a.label, b.label)), 0), adjacent),
            a,
            b,
        )
        for a, b in itertools.combinations(contestants, 2)
    ]
    best = min(score for score, _, _ in scored)
    return rng.choice([(a, b) for score, a, b in scored if score[0] == best[0] and score[1] <= best[1] + 1e-12])


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
    history: Mapping[Side, Sequence[Message]] | None = None
    """For a follow-up turn: each side's own conversation so far, ending with the judge's new message."""
    shown_probability: float | None = None
    """The chance the session's design showed this battle (stored answers drawn by an automatic judge's
    doubt); None where every battle is shown."""

    def contestant(self, side: Side) -> Contestant:
        return self.left if side == "left" else self.right

    def messages(self, side: Side) -> list[Message]:
        """What this side is sent: the prompt, or in a follow-up turn its own conversation so far."""
        if self.history is None:
            return self.prompt.messages()
        return list(self.history[side])

    @property
    def turn(self) -> int:
        """1 for the prompt itself, then one more per follow-up."""
        if self.history is None:
            return 1
        return sum(1 for message in self.history["left"] if message["role"] == "user")

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
            messages=self.messages(side),
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
    standing: Standing | None = None,
) -> Battle:
    """A battle on ``prompt``: the least-met pair, or with ``standing`` the one most needed; sides at random."""
    if standing is None:
        pair = pick_pair(contestants, battle_counts, rng)
    else:
        pair = pick_uncertain_pair(contestants, battle_counts, standing, rng)
    left, right = assign_sides(pair, rng)
    return Battle(prompt=prompt, left=left, right=right, params=params)
