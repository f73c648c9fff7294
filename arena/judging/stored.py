"""Judging stored answers: ``arena play --from-batch`` and ``arena serve --from-batch``.

A batch session (``arena batch``, run on whatever machine has the GPU or against an engine) holds every
contestant's answer to every prompt. Here those answers become battles: each pair of contestants on the same
prompt (and the same sample index when the batch took several), sides placed by the session seed, never two
answers the judge has already voted on. Nothing generates, so no model is loaded and the judge's process
stays small; the vote points at the stored generations, and the reveal shows what the batch recorded.

``StoredSource`` is the source of a ``PlaySession`` whose battles come from that list instead of from live
streams: the phase rules, the vote, reasons, notes, undo and the summary are the session's, the same code.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol, TypeVar

from arena.analysis.ratings.active import show_probability
from arena.backend import Chunk, Contestant, GenerationParams, LoadedInfo, Message
from arena.engine.battle import Battle, assign_sides
from arena.engine.generation import ChunkCallback
from arena.errors import ArenaError
from arena.judging.answers import AnalyzedAnswer
from arena.judging.guide import JudgeGuide
from arena.judging.resume import Resume
from arena.judging.round import Round
from arena.judging.sources import Draw, SideAnswer
from arena.prompts import Prompt
from arena.store import Store, batch_answers, queries
from arena.store.settings import ContestantRef, SessionSettings
from arena.vocab import Side

NOTHING_GENERATES = "These are stored answers (batch session {batch}): nothing can generate here."
"""Why follow-ups, regenerating and prompts of one's own are off in a ``--from-batch`` session."""


@dataclass(frozen=True)
class StoredBattle:
    """Two contestants' stored answers to one prompt (one sample index), in ``--model`` order."""

    prompt: Prompt
    sample: int
    first: AnalyzedAnswer
    second: AnalyzedAnswer
    params: GenerationParams

    @property
    def pair(self) -> frozenset[int]:
        """The two answers' generation ids: what "already judged" is about."""
        return frozenset((self.first.generation_id, self.second.generation_id))

    @property
    def labels(self) -> frozenset[str]:
        return frozenset((self.first.contestant, self.second.contestant))


@dataclass(frozen=True)
class StoredBatch:
    """A batch session's answers as battles, with its contestants and what each ran as."""

    session: int
    contestants: tuple[Contestant, ...]
    battles: tuple[StoredBattle, ...]
    params: GenerationParams
    prompt_set: str | None
    loaded: Mapping[str, LoadedInfo] = field(default_factory=dict)


def resolve_batch(store: Store, which: str, option: str = "--from-batch") -> int:
    """``option``'s value (a session number or ``latest``) as a batch session id; one line otherwise."""
    if which.strip().lower() == "latest":
        latest = queries.latest_batch_session(store)
        if latest is None:
            raise ArenaError(
                f"{option} latest: {store.path} holds no batch session with answers; run `arena batch` first"
            )
        return latest
    try:
        session = int(which)
    except ValueError:
        raise ArenaError(f"{option}: expected a session number or 'latest', got {which!r}") from None
    if not 1 <= session < 2**63:
        raise ArenaError(f"{option} {which}: {store.path} has no session {which}")
    found = batch_answers.session_kind(store, session)
    if found is None:
        raise ArenaError(f"{option} {session}: {store.path} has no session {session}")
    if found[0] != "batch":
        raise ArenaError(
            f"{option} {session}: session {session} is an `arena {found[0]}` session, not a batch; "
            "`arena runs` lists the batches"
        )
    return session


def load_batch(store: Store, session: int, option: str = "--from-batch") -> StoredBatch:
    """The battles a batch session's stored answers make; ``ArenaError`` (naming ``option``) when they make none."""
    kind = batch_answers.session_kind(store, session)
    settings = kind[1] if kind is not None else SessionSettings()
    latest: dict[tuple[str, int], dict[str, batch_answers.StoredAnswer]] = {}
    order: list[str] = list(settings.labels)
    for stored in batch_answers.answers(store, session):  # oldest first: a label answering again keeps its newest
        latest.setdefault((stored.prompt, stored.sample), {})[stored.contestant] = stored
        if stored.contestant not in order:
            order.append(stored.contestant)
    contestants = batch_answers.contestants(store, order)
    if len({label for answers in latest.values() for label in answers}) < 2:
        raise ArenaError(
            f"{option} {session}: the batch holds answers of fewer than two contestants: nothing to compare"
        )
    prompt_rows = batch_answers.prompts(store, sorted({uid for uid, _ in latest}))
    default_params = batch_answers.stored_params(settings.params) or GenerationParams()
    battles = []
    for (uid, sample), answers in latest.items():
        present = [label for label in order if label in answers]
        if len(present) < 2:
            continue
        prompt = _prompt(uid, prompt_rows.get(uid), answers[present[0]].messages)
        for first, second in itertools.combinations(present, 2):
            battles.append(
                StoredBattle(
                    prompt=prompt,
                    sample=sample,
                    first=_analyzed(answers[first]),
                    second=_analyzed(answers[second]),
                    params=answers[first].params or default_params,
                )
            )
    if not battles:
        raise ArenaError(f"--from-batch {session}: no prompt has answers from two contestants")
    return StoredBatch(
        session=session,
        contestants=tuple(contestants[label] for label in order),
        battles=tuple(battles),
        params=default_params,
        prompt_set=settings.prompt_set,
        loaded=batch_answers.loaded_infos(settings),
    )


def _analyzed(stored: batch_answers.StoredAnswer) -> AnalyzedAnswer:
    return AnalyzedAnswer(stored.contestant, stored.result, stored.flags, stored.counts, stored.generation_id)


def _prompt(uid: str, row: batch_answers.StoredPrompt | None, messages: Sequence[Message]) -> Prompt:
    """The prompt as the batch sent it (its messages), with the category and constraints of its stored row."""
    prompt_set = (row.set if row is not None else None) or uid.partition("/")[0]
    system = next((m["content"] for m in messages if m["role"] == "system"), row.system if row else None)
    users = [m["content"] for m in messages if m["role"] == "user"]
    return Prompt(
        set=prompt_set,
        id=uid[len(prompt_set) + 1 :] if uid.startswith(prompt_set + "/") else uid,
        category=(row.category if row is not None else None) or "uncategorized",
        text=users[-1] if users else (row.text if row is not None else ""),
        system=system,
        constraints=row.constraints if row is not None else (),
    )


class Paired(Protocol):
    """Two stored answers, by their generation ids: a stored battle, an automatic judge's item."""

    @property
    def pair(self) -> frozenset[int]: ...


PairedT = TypeVar("PairedT", bound=Paired)


def not_judged_by(store: Store, judge: str | None, items: Sequence[PairedT]) -> list[PairedT]:
    """The items whose two answers ``judge`` has no counting vote on, in any session (skips count: they
    were seen), in their order: a judge, person or model, never gets the same two answers twice."""
    judged = batch_answers.judged_pairs(store, judge)
    return [item for item in items if item.pair not in judged]


def unjudged(store: Store, batch: StoredBatch, judge: str | None) -> int:
    """How many of the batch's battles ``judge`` has no vote on yet (in any session)."""
    return len(not_judged_by(store, judge, batch.battles))


def find_stored_resume(store: Store, judge: str | None, batch: int) -> Resume | None:
    """The judge's latest session on ``batch``'s answers, if any (and if it recorded its seed)."""
    found = batch_answers.last_stored_session(store, judge, batch)
    if found is None or found[1].seed is None:
        return None
    session, settings, battles = found
    assert settings.seed is not None
    return Resume(session=session, seed=settings.seed, judged=frozenset(), battles=battles)


class StoredSource:
    """A batch's stored answers as battles: of those the judge has not voted on (in any session), the pair
    that met least (or, pairing ``uncertain``, whose order is least certain), a prompt this session showed
    least often, then the seed's order. Nothing generates; each answer arrives whole at once.

    With a ``guide`` (pairing ``judge-uncertain``) the battles come in the seed's order instead, and each is
    shown with the chance the automatic judge's doubt gives it (``arena.analysis.ratings.active``), stored
    with the vote; the others are passed over. Choosing by a fixed rank instead would leave the battles the
    judge is sure of unmeasured and bias the assisted board."""

    unit = "battle"

    def __init__(self, batch: StoredBatch, guide: JudgeGuide | None = None) -> None:
        self.batch = batch
        self.guide = guide
        self.contestants = list(batch.contestants)
        self.params = batch.params
        self.passed = 0
        """Battles a guided session passed over (the judge was sure of them and the draw said no)."""
        self.shown_with: dict[frozenset[int], float] = {}
        """Each battle a guided session showed: the chance it had (a battle queued again keeps it)."""
        self.show_draws = random.Random()
        self.generation_refused: str | None = NOTHING_GENERATES.format(batch=batch.session)
        self.sampled = False
        self.pending: list[StoredBattle] = []
        self.total = 0
        self.position = 0
        self.judged_before = 0
        self.stored_rounds: dict[int, StoredBattle] = {}
        """The stored battle each round shows, by round number."""

    @property
    def description(self) -> str:
        said = f"stored answers of batch session {self.batch.session}"
        if self.guide is None:
            return said
        return (
            f"{said}; drawn where {self.guide.judge} is least sure ({self.passed} it was sure of passed over, "
            "weighted back on the assisted board)"
        )

    def start(self, store: Store, *, seed: int, judge: str | None, resume: Resume | None) -> None:
        self.pending = not_judged_by(store, judge, self.batch.battles)
        random.Random(seed).shuffle(self.pending)
        self.show_draws = random.Random(f"{seed}:shown")
        self.judged_before = len(self.batch.battles) - len(self.pending)
        self.total = len(self.pending)

    def recorded(self, settings: SessionSettings) -> SessionSettings:
        batch = self.batch
        return replace(
            settings,
            prompt_set=batch.prompt_set,
            params=batch.params.to_dict(),
            contestants=tuple(ContestantRef(spec=c.spec, label=c.label) for c in batch.contestants),
            from_batch=batch.session,
        )

    def next_battle(self, draw: Draw, prompt: Prompt | None = None) -> Battle | None:
        if prompt is not None:
            raise ArenaError(NOTHING_GENERATES.format(batch=self.batch.session))
        if self.guide is not None:
            return self._guided(draw, self.guide)
        if self.position >= len(self.pending):
            return None
        counts = queries.battle_counts(draw.store)
        standing = draw.standing() if draw.pairing == "uncertain" else None
        adjacent = standing.adjacent([c.label for c in self.contestants]) if standing is not None else set()
        shown: dict[str, int] = {}
        for done in self.pending[: self.position]:
            shown[done.prompt.uid] = shown.get(done.prompt.uid, 0) + 1

        def priority(index: int) -> tuple[tuple[int, float], int, int]:
            battle = self.pending[index]
            met = counts.get(battle.labels, 0)
            need = (0, float(met)) if standing is None else standing.need(battle.labels, met, adjacent)
            return need, shown.get(battle.prompt.uid, 0), index

        chosen = min(range(self.position, len(self.pending)), key=priority)
        pending = self.pending
        pending[self.position], pending[chosen] = pending[chosen], pending[self.position]
        stored = pending[self.position]
        self.position += 1
        return self._battle(draw, stored, None)

    def _battle(self, draw: Draw, stored: StoredBattle, shown_probability: float | None) -> Battle:
        by_label = {c.label: c for c in self.contestants}
        left, right = assign_sides((by_label[stored.first.contestant], by_label[stored.second.contestant]), draw.rng)
        self.stored_rounds[draw.number] = stored
        return Battle(
            prompt=stored.prompt, left=left, right=right, params=stored.params, shown_probability=shown_probability
        )

    def _guided(self, draw: Draw, guide: JudgeGuide) -> Battle | None:
        """The next battle in the seed's order that its draw shows (see the class)."""
        standing = draw.standing()

        def error(battle: StoredBattle) -> float | None:
            labels = (battle.first.contestant, battle.second.contestant)
            return guide.error(battle.pair, battle.first.generation_id, labels, standing)

        errors = {id(battle): error(battle) for battle in self.pending[self.position :]}
        largest = max((e for e in errors.values() if e is not None), default=0.0)  # as the votes so far say
        while self.position < len(self.pending):
            stored = self.pending[self.position]
            self.position += 1
            chance = self.shown_with.get(stored.pair)  # a vote taken back: its battle comes again, as drawn
            if chance is None:
                own = errors[id(stored)]
                if own is None:  # the judge has not judged it: shown, and nothing to weigh
                    return self._battle(draw, stored, None)
                chance = show_probability(own, largest)
                if self.show_draws.random() >= chance:
                    self.passed += 1
                    continue
                self.shown_with[stored.pair] = chance
            return self._battle(draw, stored, chance)
        return None

    def stored_answer(self, current: Round, side: Side) -> AnalyzedAnswer:
        """The stored answer on ``side`` of ``current``."""
        stored = self.stored_rounds[current.number]
        label = current.battle.contestant(side).label
        return stored.first if stored.first.contestant == label else stored.second

    def answer(self, current: Round, side: Side, cancel: threading.Event, on_chunk: ChunkCallback) -> SideAnswer:
        """The stored answer, whole at once (both sides alike: neither can look faster); nothing is written."""
        answer = self.stored_answer(current, side)
        on_chunk(Chunk(text=answer.result.text, n_tokens=answer.result.n_tokens))
        return SideAnswer(answer.result, stored=answer)

    def again_later(self, taken_back: Round) -> bool:
        """A vote taken back: its battle comes again at the end (it cannot get new answers; it is judged again)."""
        self.pending.append(self.stored_rounds[taken_back.number])
        self.total += 1
        return True

    def loaded_info(self, label: str) -> tuple[LoadedInfo | None, str | None]:
        info = self.batch.loaded.get(label)
        return (info, None) if info is not None else (None, "not recorded by the batch")
