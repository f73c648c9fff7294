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
from arena.backend.registry import capabilities_of
from arena.engine.generation import INTERRUPT_GRACE_S, StreamJob, run_job, run_streams
from arena.engine.pool import ModelPool
from arena.judging.answers import record_answer
from arena.prompts import Prompt
from arena.store import Store, writes
from arena.store.settings import ContestantRef, SessionSettings


@dataclass(frozen=True)
class BatchPlan:
    """What a batch runs: every contestant on every prompt, ``samples`` answers each (the k-th with seed
    ``params.seed + k``), at once or ``sequential``, with up to ``parallel`` requests in flight for a backend
    that serves them concurrently."""

    contestants: Sequence[Contestant]
    prompts: Sequence[Prompt]
    params: GenerationParams
    prompt_set: str = ""
    samples: int = 1
    parallel: int = 1
    sequential: bool = False

    @property
    def answers(self) -> int:
        """How many answers the batch generates."""
        return len(self.prompts) * len(self.contestants) * self.samples

    @property
    def items(self) -> list[tuple[Prompt, int]]:
        """(prompt, sample) in the order each contestant answers them."""
        return [(prompt, sample) for prompt in self.prompts for sample in range(self.samples)]


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
            "served": dict(self.result.served) if self.result.served else None,
        }


def start_batch_session(store: Store, plan: BatchPlan, loaded: Mapping[str, LoadedInfo] | None = None) -> int:
    """Register the run's contestants and prompts and open its session; returns the session id. ``loaded``
    (what each contestant ran as, by label) is kept with the session for the reveal of battles judged later
    on these answers (``arena play --from-batch``)."""
    writes.register(store, plan.contestants, plan.prompts)
    settings = SessionSettings(
        prompt_set=plan.prompt_set,
        params=plan.params.to_dict(),
        contestants=tuple(ContestantRef(spec=c.spec, label=c.label) for c in plan.contestants),  # --model order
        sequential=plan.sequential,
        samples=plan.samples if plan.samples > 1 else None,
        loaded=loaded_settings(loaded or {}),
        parallel=plan.parallel if plan.parallel > 1 else None,
    )
    return writes.start_session(store, "batch", judge=None, settings=settings)


def loaded_settings(infos: Mapping[str, LoadedInfo]) -> dict[str, dict[str, Any]]:
    """What each contestant ran as, by label, as a session's settings keep it (for the reveal later)."""
    return {label: _plain(asdict(info)) for label, info in infos.items()}


def _plain(info: dict[str, Any]) -> dict[str, Any]:
    """``info`` as plain JSON values (a backend's ``extra`` may hold a path or an enum: kept as its text)."""
    plain: dict[str, Any] = json.loads(json.dumps(info, default=str))
    return plain


@dataclass(frozen=True)
class BatchHooks:
    """What a batch tells its caller as it goes: tokens as they stream (by label), each stored answer."""

    on_tokens: Callable[[str, int], None] | None = None
    on_done: Callable[[BatchRecord], None] | None = None


def run_batch(
    plan: BatchPlan,
    pool: ModelPool,
    store: Store,
    *,
    session: int,
    hooks: BatchHooks = BatchHooks(),
    cancel: threading.Event | None = None,
) -> list[BatchRecord]:
    """Generate and store every answer of ``plan``.

    At once (the default), every contestant goes through the prompts at its own pace (``lanes``): a model
    that finishes an answer starts its next one instead of waiting for the slower one, and the cores are
    shared between the models generating (``arena.engine.cores``), so no core idles until the last model's
    last answer. With ``parallel`` N > 1, each contestant whose backend serves concurrent requests keeps up
    to N in flight. ``sequential`` runs one model at a time: prompt by prompt, or with ``parallel``, one
    contestant's lanes after the other's."""
    stop_all = cancel or threading.Event()
    if not plan.sequential or plan.parallel > 1:
        return _run_in_lanes(plan, pool, store, session, hooks, stop_all)
    records: list[BatchRecord] = []  # --sequential: prompt by prompt, one model after the other
    for prompt, sample in plan.items:
        if stop_all.is_set():
            break
        sampled = _sampled(plan.params, sample)
        jobs = [
            StreamJob(
                loaded=pool[contestant.label],
                messages=prompt.messages(),
                params=sampled,
                prompt_id=prompt.uid,
                cancel=stop_all,
                on_chunk=_token_counter(hooks.on_tokens, contestant.label),
            )
            for contestant in plan.contestants
        ]
        records.extend(
            _answer_one_by_one(jobs, plan.contestants, prompt, sampled, store, session, hooks.on_done, sample)
        )
    return records


def _answer_one_by_one(
    jobs: Sequence[StreamJob],
    contestants: Sequence[Contestant],
    prompt: Prompt,
    params: GenerationParams,
    store: Store,
    session: int,
    on_done: Callable[[BatchRecord], None] | None,
    sample: int = 0,
) -> list[BatchRecord]:
    """One prompt's streams, one model after the other (``--sequential``); each answer is stored the moment
    it finishes, so Ctrl-C during the next one loses nothing that was done. Records come back in contestant
    order."""
    finished: dict[int, BatchRecord] = {}

    def store_one(index: int, result: GenerationResult) -> None:
        finished[index] = _store(store, session, contestants[index].label, prompt, sample, params, result, on_done)

    run_streams(jobs, sequential=True, on_result=store_one)
    return [finished[index] for index in sorted(finished)]


def _store(
    store: Store,
    session: int,
    label: str,
    prompt: Prompt,
    sample: int,
    params: GenerationParams,
    result: GenerationResult,
    on_done: Callable[[BatchRecord], None] | None,
) -> BatchRecord:
    """Analyze and store one finished answer (its own transaction), then tell ``on_done``: both batch paths."""
    answer = record_answer(
        store, session=session, contestant=label, prompt=prompt, params=params, result=result, sample=sample
    )
    record = BatchRecord(answer.generation_id, label, prompt.uid, result, sample, params.seed)
    if on_done is not None:
        on_done(record)
    return record


def lanes(contestant: Contestant, parallel: int) -> int:
    """Answers one contestant generates at once: ``parallel`` for a backend that serves concurrent requests
    (``Capabilities.concurrent_requests``: a server), one for a model in this process (two generations in one
    llama.cpp or torch model would only share its cores)."""
    return parallel if capabilities_of(contestant.backend).concurrent_requests else 1


def _run_in_lanes(
    plan: BatchPlan, pool: ModelPool, store: Store, session: int, hooks: BatchHooks, cancel: threading.Event
) -> list[BatchRecord]:
    """Each contestant works through the (prompt, sample) list with ``lanes`` threads of its own; answers
    are stored in list order per contestant (an answer that finishes early waits for the ones before it,
    so the file reads in prompt order), each in its own transaction. Ctrl-C cancels what is in flight and
    stores it, like the prompt-by-prompt path; a failed write stops the run and is raised."""
    items = plan.items
    contestants = plan.contestants
    writers = [_InOrder(c.label, items, plan.params, store, session, hooks.on_done) for c in contestants]
    failures: list[Exception] = []

    def work(
        contestant: Contestant, writer: _InOrder, next_item: Callable[[], int | None], finished: threading.Event
    ) -> None:
        try:
            while not cancel.is_set() and (index := next_item()) is not None:
                prompt, sample = items[index]
                job = StreamJob(
                    loaded=pool[contestant.label],
                    messages=prompt.messages(),
                    params=_sampled(plan.params, sample),
                    prompt_id=prompt.uid,
                    cancel=cancel,
                    on_chunk=_token_counter(hooks.on_tokens, contestant.label),
                )
                writer.done(index, run_job(job))
        except Exception as exc:  # the database refused a write: stop everyone, raise it in the caller
            failures.append(exc)
            cancel.set()
        finally:
            finished.set()

    groups = [[index] for index in range(len(contestants))] if plan.sequential else [list(range(len(contestants)))]
    for group in groups:
        finished: list[threading.Event] = []
        for index in group:
            taken = _Counter(len(items))
            for lane in range(lanes(contestants[index], plan.parallel)):
                finished.append(threading.Event())
                threading.Thread(
                    target=work,
                    args=(contestants[index], writers[index], taken.next, finished[-1]),
                    name=f"arena-lane-{index}-{lane}",
                    daemon=True,
                ).start()
        _wait_all(finished, cancel)
        if failures:
            raise failures[0]
    return sorted((record for writer in writers for record in writer.records), key=_record_order(items, contestants))


def _token_counter(on_tokens: Callable[[str, int], None] | None, label: str) -> Callable[[Chunk], None] | None:
    """The chunk callback that counts ``label``'s tokens into ``on_tokens`` (None: nothing counts)."""
    if on_tokens is None:
        return None
    callback = on_tokens
    return lambda chunk: callback(label, chunk.n_tokens)


def _sampled(params: GenerationParams, sample: int) -> GenerationParams:
    return replace(params, seed=params.seed + sample) if sample else params


def _record_order(
    items: Sequence[tuple[Prompt, int]], contestants: Sequence[Contestant]
) -> Callable[[BatchRecord], tuple[int, int]]:
    """Records in (prompt, sample) order, then ``--model`` order: what the prompt-by-prompt path returns."""
    position = {(prompt.uid, sample): index for index, (prompt, sample) in enumerate(items)}
    order = {contestant.label: index for index, contestant in enumerate(contestants)}
    return lambda record: (position[(record.prompt, record.sample)], order[record.contestant])


def _wait_all(finished: Sequence[threading.Event], cancel: threading.Event) -> None:
    """Wait for the lanes; on Ctrl-C cancel them and give them the grace to store what they have.

    Waits on each lane's event, not ``Thread.join``: a join interrupted by Ctrl-C can mark a live thread as
    stopped (CPython's bpo-45274 repair), and the grace wait would then return at once and lose the answer
    still streaming (``engine.generation.run_streams`` waits the same way)."""
    try:
        for event in finished:
            while not event.wait(timeout=0.2):  # short waits: Ctrl-C reaches this thread between them
                pass
    except KeyboardInterrupt:
        cancel.set()
        for event in finished:
            event.wait(timeout=INTERRUPT_GRACE_S)
        raise


class _Counter:
    """The next item a contestant's lanes take, shared between them."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.taken = 0
        self.lock = threading.Lock()

    def next(self) -> int | None:
        with self.lock:
            if self.taken >= self.total:
                return None
            self.taken += 1
            return self.taken - 1


class _InOrder:
    """One contestant's finished answers, stored in item order as soon as all before them are done."""

    def __init__(
        self,
        label: str,
        items: Sequence[tuple[Prompt, int]],
        params: GenerationParams,
        store: Store,
        session: int,
        on_done: Callable[[BatchRecord], None] | None,
    ) -> None:
        self.label = label
        self.items = items
        self.params = params
        self.store = store
        self.session = session
        self.on_done = on_done
        self.waiting: dict[int, GenerationResult] = {}
        self.next_index = 0
        self.records: list[BatchRecord] = []
        self.lock = threading.Lock()

    def done(self, index: int, result: GenerationResult) -> None:
        with self.lock:
            self.waiting[index] = result
            while self.next_index in self.waiting:
                prompt, sample = self.items[self.next_index]
                ready = self.waiting.pop(self.next_index)
                sampled = _sampled(self.params, sample)
                self.records.append(
                    _store(self.store, self.session, self.label, prompt, sample, sampled, ready, self.on_done)
                )
                self.next_index += 1


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
