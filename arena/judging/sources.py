"""Where a judging session's battles come from: live models answering now, or a batch's stored answers.

``PlaySession`` owns every rule of judging (phases, the vote, reasons, notes, undo, the reveal) and asks a
``BattleSource`` only what differs: which battle comes next, how each side's answer arrives, whether new
answers can be generated at all, and what was loaded. ``LiveSource`` streams from loaded models;
``arena.judging.stored.StoredSource`` serves a batch's stored answers. Front ends never see the source:
they ask the session.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from arena.analysis.ratings.standing import Standing
from arena.backend import Contestant, GenerationParams, GenerationResult, LoadedInfo
from arena.backend.registry import capabilities_of
from arena.engine.battle import Battle, new_battle
from arena.engine.generation import ChunkCallback, run_job
from arena.engine.pool import ModelPool
from arena.judging.answers import AnalyzedAnswer
from arena.judging.resume import Resume
from arena.judging.round import Round
from arena.prompts import Prompt
from arena.store import Store, queries, writes
from arena.store.settings import SessionSettings
from arena.vocab import Pairing, Side


@dataclass(frozen=True)
class Draw:
    """What a source needs from the session to choose the next battle."""

    store: Store
    number: int
    """The round's number in this session (1-based)."""
    seed: int
    """The battle's sampling seed (the same for both sides, new for every battle)."""
    rng: random.Random
    """The session's generator: places models on their sides and breaks ties between pairs."""
    pairing: Pairing
    standing: Callable[[], Standing]
    """Point ratings and decided pairs from every stored vote (only read for pairing "uncertain": it costs a
    fit)."""


@dataclass(frozen=True)
class SideAnswer:
    """One side's answer as a source delivers it."""

    result: GenerationResult
    stored: AnalyzedAnswer | None = None
    """The answer as already stored (a batch's): the session writes nothing. None: a new answer to store."""


class BattleSource(Protocol):
    """The part of a judging session that differs between live models and stored answers."""

    @property
    def contestants(self) -> Sequence[Contestant]: ...

    @property
    def params(self) -> GenerationParams: ...

    @property
    def unit(self) -> str:
        """What the queue holds, as the judge counts it: "prompt" (live) or "battle" (stored pairs)."""
        ...

    @property
    def description(self) -> str | None:
        """Said beside the settings ("stored answers of batch session 3"); None for live models."""
        ...

    @property
    def total(self) -> int:
        """Items in the queue (it grows when a vote taken back queues its battle again)."""
        ...

    @property
    def position(self) -> int:
        """Items drawn from the queue so far."""
        ...

    @property
    def judged_before(self) -> int:
        """Items an earlier session had judged already (a resumed one's), counted in the progress."""
        ...

    @property
    def generation_refused(self) -> str | None:
        """Why nothing can be generated here (no follow-ups, regenerating, prompts of one's own), or None."""
        ...

    @property
    def sampled(self) -> bool:
        """Whether a battle's sampling seed changes its answers (shown in the settings line when it does)."""
        ...

    def start(self, store: Store, *, seed: int, judge: str | None, resume: Resume | None) -> None:
        """Lay out the queue for a session with this seed (what ``resume`` judged left out)."""
        ...

    def recorded(self, settings: SessionSettings) -> SessionSettings:
        """``settings`` completed with what this source adds to the session's row."""
        ...

    def next_battle(self, draw: Draw, prompt: Prompt | None = None) -> Battle | None:
        """The next battle (on ``prompt``, a judge's own, when given), or None when the queue is done."""
        ...

    def answer(self, current: Round, side: Side, cancel: threading.Event, on_chunk: ChunkCallback) -> SideAnswer:
        """One side's answer to ``current``, streamed to ``on_chunk`` as it comes (on the caller's thread)."""
        ...

    def again_later(self, taken_back: Round) -> bool:
        """Queue the battle of a vote taken back once more, at the end; False where it cannot come again."""
        ...

    def loaded_info(self, label: str) -> tuple[LoadedInfo | None, str | None]:
        """What the contestant ran as (None when unknown) and why it is unknown, where there is a reason."""
        ...


class LiveSource:
    """Loaded models answer each prompt of a set now, in the seed's order; a judge may also ask their own."""

    unit = "prompt"
    description: str | None = None
    generation_refused: str | None = None

    def __init__(
        self,
        contestants: Sequence[Contestant],
        prompts: Sequence[Prompt],
        params: GenerationParams,
        *,
        pool: ModelPool | None = None,
        shuffle: bool = True,
        system: str | None = None,
    ) -> None:
        """``pool`` holds the loaded models ``answer`` streams from (a session opened without it can be
        driven, not answered); ``shuffle`` orders the prompts by the session seed (else as given);
        ``system``: the system message a judge's own prompt gets (``--system``; the set's prompts have it)."""
        if len(contestants) < 2:
            raise ValueError("arena play needs at least two contestants")
        self.contestants = list(contestants)
        self.prompts = list(prompts)
        self.params = params
        self.pool = pool
        self.shuffle = shuffle
        self.system = system.strip() if system is not None else None
        self.queue: list[Prompt] = list(prompts)
        self.order: tuple[str, ...] = ()
        """The prompts' order for this session's seed (recorded with the session)."""
        self.total = 0
        self.position = 0
        self.judged_before = 0

    @property
    def sampled(self) -> bool:
        return any(capabilities_of(contestant.backend).sampled for contestant in self.contestants)

    def start(self, store: Store, *, seed: int, judge: str | None, resume: Resume | None) -> None:
        self.queue = list(self.prompts)
        if self.shuffle:
            random.Random(seed).shuffle(self.queue)
        writes.register(store, self.contestants, self.queue)
        self.order = tuple(prompt.uid for prompt in self.queue)
        if resume is not None:  # the same order, without what was judged
            self.judged_before = sum(1 for prompt in self.queue if prompt.uid in resume.judged)
            self.queue = [prompt for prompt in self.queue if prompt.uid not in resume.judged]
        self.total = len(self.queue)

    def recorded(self, settings: SessionSettings) -> SessionSettings:
        return replace(settings, prompt_order=self.order)

    def next_battle(self, draw: Draw, prompt: Prompt | None = None) -> Battle | None:
        if prompt is None:
            if self.position >= len(self.queue):
                return None
            prompt = self.queue[self.position]
            self.position += 1
        else:
            if self.system is not None:
                prompt = replace(prompt, system=self.system)
            writes.register(draw.store, [], [prompt])
        params = replace(self.params, seed=draw.seed)
        standing = draw.standing() if draw.pairing == "uncertain" else None
        return new_battle(prompt, self.contestants, queries.battle_counts(draw.store), params, draw.rng, standing)

    def answer(self, current: Round, side: Side, cancel: threading.Event, on_chunk: ChunkCallback) -> SideAnswer:
        if self.pool is None:
            raise RuntimeError("this session was opened without its models: no pool to stream from")
        return SideAnswer(run_job(current.battle.job(side, self.pool, cancel=cancel, on_chunk=on_chunk)))

    def again_later(self, taken_back: Round) -> bool:
        if taken_back.battle.prompt.set == "custom":  # a judge's own prompt is not queued
            return False
        self.queue.append(taken_back.battle.prompt)
        self.total += 1
        return True

    def loaded_info(self, label: str) -> tuple[LoadedInfo | None, str | None]:
        if self.pool is None:
            return None, None
        try:
            return self.pool[label].info(), None
        except Exception as exc:  # a backend's info() is a nicety: never let it cost the reveal
            return None, type(exc).__name__
