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
from dataclasses import dataclass, field, fields, replace
from typing import Any, Protocol, TypeVar

from arena.analysis.flags import Counts, Flag
from arena.analysis.ratings.bt import INITIAL_RATING
from arena.backend import Chunk, Contestant, GenerationParams, GenerationResult, LoadedInfo
from arena.engine.battle import Battle, assign_sides, uncertainty
from arena.engine.generation import ChunkCallback, checked_served
from arena.errors import ArenaError
from arena.judging.answers import AnalyzedAnswer
from arena.judging.resume import Resume
from arena.judging.round import Round
from arena.judging.sources import Draw, SideAnswer
from arena.prompts import Prompt
from arena.store import Store, batch_answers, queries
from arena.store.settings import ContestantRef, SessionSettings
from arena.untrusted import valid_text
from arena.vocab import FINISH_REASONS, FinishReason, Side

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


def resolve_batch(store: Store, which: str) -> int:
    """``--from-batch``'s value (a session number or ``latest``) as a batch session id; one line otherwise."""
    if which.strip().lower() == "latest":
        latest = queries.latest_batch_session(store)
        if latest is None:
            raise ArenaError(
                f"--from-batch latest: {store.path} holds no batch session with answers; run `arena batch` first"
            )
        return latest
    try:
        session = int(which)
    except ValueError:
        raise ArenaError(f"--from-batch: expected a session number or 'latest', got {which!r}") from None
    found = batch_answers.session_kind(store, session)
    if found is None:
        raise ArenaError(f"--from-batch {session}: {store.path} has no session {session}")
    if found[0] != "batch":
        raise ArenaError(
            f"--from-batch {session}: session {session} is an `arena {found[0]}` session, not a batch; "
            "`arena runs` lists the batches"
        )
    return session


def load_batch(store: Store, session: int) -> StoredBatch:
    """The battles a batch session's stored answers make; ``ArenaError`` when they make none."""
    kind = batch_answers.session_kind(store, session)
    settings = kind[1] if kind is not None else SessionSettings()
    rows = batch_answers.answers(store, session)
    latest: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}
    order: list[str] = list(settings.labels)
    for row in rows:  # oldest first: a label answering the same prompt and sample again keeps its newest
        label = str(row["contestant"])
        latest.setdefault((str(row["prompt"]), int(row["sample"] or 0)), {})[label] = row
        if label not in order:
            order.append(label)
    contestants = _contestants(store, order)
    if len({label for answers in latest.values() for label in answers}) < 2:
        raise ArenaError(
            f"--from-batch {session}: the batch holds answers of fewer than two contestants: nothing to compare"
        )
    flags = batch_answers.flags_of(store, [row["id"] for answers in latest.values() for row in answers.values()])
    prompt_rows = batch_answers.prompts(store, sorted({uid for uid, _ in latest}))
    default_params = _params(settings.params, GenerationParams())
    battles = []
    for (uid, sample), answers in latest.items():
        present = [label for label in order if label in answers]
        if len(present) < 2:
            continue
        prompt = _prompt(uid, prompt_rows.get(uid), answers[present[0]])
        for first, second in itertools.combinations(present, 2):
            battles.append(
                StoredBattle(
                    prompt=prompt,
                    sample=sample,
                    first=_answer(answers[first], flags),
                    second=_answer(answers[second], flags),
                    params=_params(queries.decode_json(answers[first]["params_json"], {}), default_params),
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
        loaded={label: info for label, raw in settings.loaded.items() if (info := _loaded_info(raw)) is not None},
    )


def _contestants(store: Store, labels: Sequence[str]) -> dict[str, Contestant]:
    """Labels as contestants, from their stored rows (a label without one: an unknown backend)."""
    rows = batch_answers.contestants(store, labels)
    found = {}
    for label in labels:
        row = rows.get(label, {})
        options = queries.decode_json(row.get("options_json"), {})
        found[label] = Contestant(
            label=label,
            backend=str(row.get("backend") or "unknown"),
            target=str(row.get("target") or ""),
            options=options if isinstance(options, dict) else {},
        )
    return found


def _prompt(uid: str, row: Mapping[str, Any] | None, answer: Mapping[str, Any]) -> Prompt:
    """The prompt as the batch sent it (its messages), with the category and constraints of its stored row."""
    row = row or {}
    prompt_set = str(row.get("set") or uid.partition("/")[0])
    messages = queries.message_list(answer.get("messages_json"))
    system = next((str(m.get("content")) for m in messages if m.get("role") == "system"), row.get("system"))
    users = [str(m.get("content")) for m in messages if m.get("role") == "user"]
    constraints = queries.decode_json(row.get("constraints_json"), [])
    return Prompt(
        set=prompt_set,
        id=uid[len(prompt_set) + 1 :] if uid.startswith(prompt_set + "/") else uid,
        category=str(row.get("category") or "uncategorized"),
        text=valid_text(users[-1] if users else str(row.get("text") or "")),
        system=valid_text(system) if isinstance(system, str) else None,
        constraints=tuple(c for c in constraints if isinstance(c, dict)) if isinstance(constraints, list) else (),
    )


def _params(raw: Mapping[str, Any], default: GenerationParams) -> GenerationParams:
    """Stored sampling settings (``default`` where they do not make valid ones)."""
    known = {f.name for f in fields(GenerationParams)}
    try:
        values = {key: value for key, value in raw.items() if key in known}
        if "stop" in values:
            values["stop"] = tuple(str(stop) for stop in values["stop"])
        return GenerationParams(**values)
    except (ArenaError, TypeError, ValueError):
        return default


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _count(value: object) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _answer(row: Mapping[str, Any], flags: Mapping[int, list[dict[str, Any]]]) -> AnalyzedAnswer:
    """One stored generation as the answer the judge sees and the reveal describes."""
    reason = row.get("finish_reason")
    finish: FinishReason = reason if reason in FINISH_REASONS else "stop"
    template = row.get("chat_template")
    result = GenerationResult(
        text=valid_text(str(row.get("output") or "")),
        n_tokens=max(_count(row.get("n_tokens")) or 0, 0),
        finish_reason=finish,
        ttft_s=_number(row.get("ttft_s")),
        tokens_per_s=_number(row.get("tokens_per_s")),
        wall_s=_number(row.get("wall_s")) or 0.0,
        peak_mem_bytes=_count(row.get("peak_mem_bytes")),
        rendered_prompt=valid_text(str(row.get("rendered_prompt") or "")),
        chat_template=None if template is None else bool(template),
        error=valid_text(str(row["error"])) if row.get("error") else None,
        served=checked_served(queries.decode_json(row.get("served_json"), None)),
    )
    words = _count(row.get("n_words"))
    counts = None
    if words is not None:
        counts = Counts(
            words=words,
            characters=_count(row.get("n_chars")) or 0,
            sentences=_count(row.get("n_sentences")) or 0,
            tokens=result.n_tokens,
            headers=_count(row.get("n_headers")),
            list_items=_count(row.get("n_list_items")),
            bold=_count(row.get("n_bold")),
        )
    stored_flags = [_flag(flag) for flag in flags.get(int(row["id"]), [])]
    return AnalyzedAnswer(str(row["contestant"]), result, stored_flags, counts, int(row["id"]))


def _flag(row: Mapping[str, Any]) -> Flag:
    evidence = queries.decode_json(row.get("evidence_json"), [])
    return Flag(
        name=str(row.get("name")),
        hit=bool(row.get("hit")),
        score=_number(row.get("score")),
        evidence=[valid_text(str(item)) for item in evidence] if isinstance(evidence, list) else [],
        error=str(row["error"]) if row.get("error") else None,
    )


def _loaded_info(raw: Mapping[str, Any]) -> LoadedInfo | None:
    """A stored ``LoadedInfo`` (None when it is not one: a merged file may hold anything)."""
    if not isinstance(raw.get("backend"), str) or not isinstance(raw.get("target"), str):
        return None

    def text(name: str) -> str | None:
        value = raw.get(name)
        return value if isinstance(value, str) else None

    extra = raw.get("extra")
    template = raw.get("chat_template")
    return LoadedInfo(
        backend=raw["backend"],
        target=raw["target"],
        device=text("device"),
        dtype=text("dtype"),
        quant=text("quant"),
        chat_template=template if isinstance(template, bool) else None,
        n_params=_count(raw.get("n_params")),
        memory_bytes=_count(raw.get("memory_bytes")),
        extra=dict(extra) if isinstance(extra, dict) else {},
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
    least often, then the seed's order. Nothing generates; each answer arrives whole at once."""

    unit = "battle"

    def __init__(self, batch: StoredBatch) -> None:
        self.batch = batch
        self.contestants = list(batch.contestants)
        self.params = batch.params
        self.description: str | None = f"stored answers of batch session {batch.session}"
        self.generation_refused: str | None = NOTHING_GENERATES.format(batch=batch.session)
        self.sampled = False
        self.pending: list[StoredBattle] = []
        self.total = 0
        self.position = 0
        self.judged_before = 0
        self.stored_rounds: dict[int, StoredBattle] = {}
        """The stored battle each round shows, by round number."""

    def start(self, store: Store, *, seed: int, judge: str | None, resume: Resume | None) -> None:
        self.pending = not_judged_by(store, judge, self.batch.battles)
        random.Random(seed).shuffle(self.pending)
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
        if self.position >= len(self.pending):
            return None
        counts = queries.battle_counts(draw.store)
        ratings = draw.ratings() if draw.pairing == "uncertain" else {}
        shown: dict[str, int] = {}
        for done in self.pending[: self.position]:
            shown[done.prompt.uid] = shown.get(done.prompt.uid, 0) + 1

        def priority(index: int) -> tuple[float, int, int]:
            battle = self.pending[index]
            met = counts.get(battle.labels, 0)
            need = float(met)
            if draw.pairing == "uncertain":
                a, b = (ratings.get(label, INITIAL_RATING) for label in sorted(battle.labels))
                need = -uncertainty(a, b, met)
            return need, shown.get(battle.prompt.uid, 0), index

        chosen = min(range(self.position, len(self.pending)), key=priority)
        pending = self.pending
        pending[self.position], pending[chosen] = pending[chosen], pending[self.position]
        stored = pending[self.position]
        self.position += 1
        by_label = {c.label: c for c in self.contestants}
        left, right = assign_sides((by_label[stored.first.contestant], by_label[stored.second.contestant]), draw.rng)
        self.stored_rounds[draw.number] = stored
        return Battle(prompt=stored.prompt, left=left, right=right, params=stored.params)

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
