"""Drive backend streams and measure them: time to first token, decode speed, wall time, finish reason.

Owns the one way a stream is run (``generate`` for one, ``StreamJob`` + ``run_job`` / ``run_streams`` for
one or several at once). Batch, the TUI and parity all go through here, so every backend is timed and
failure-isolated the same way whoever asks.

Measuring here rather than in each backend means every backend is timed the same way, and a backend that
raises mid-stream still yields a result (its partial text, ``finish_reason="error"`` and the message), so
one failing model never takes the other side of a battle down with it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from arena.backend import BackendError, Chunk, FinishReason, GenerationParams, GenerationResult, Loaded, Message
from arena.engine.cores import SHARE
from arena.untrusted import checked_served, valid_text

ChunkCallback = Callable[[Chunk], None]

CHARACTERS_PER_TOKEN = 64
"""An answer is cut (``finish_reason="length"``) past this many characters per token of its budget: real
tokens average about 4 characters and the longest (runs of spaces) a few dozen, but a server that ignores
``max_tokens`` may send a megabyte in one delta (a hostile probe stored 40 MB in a 200-token answer)."""
MIN_CHARACTERS = 16_384
"""The cut never comes before this many characters, however small the token budget."""


def character_limit(params: GenerationParams) -> int:
    """The most characters an answer with these parameters may have (see ``CHARACTERS_PER_TOKEN``)."""
    return max(MIN_CHARACTERS, params.max_tokens * CHARACTERS_PER_TOKEN)


@dataclass
class _Measured:
    """What a stream has delivered so far, and when: the text, token counts and ids, the first and last
    chunk's times, the finish reason and what the engine said it ran."""

    pieces: list[str] = field(default_factory=list)
    characters: int = 0
    token_ids: list[int] = field(default_factory=list)
    n_tokens: int = 0
    first_chunk_tokens: int = 0
    t_first: float | None = None
    t_last: float | None = None
    reason: FinishReason | None = None
    served: Mapping[str, str] | None = None

    def take(self, chunk: Chunk, now: float) -> bool:
        """Count one checked chunk; whether it carried text or tokens (and so was shown)."""
        if chunk.served is not None:
            self.served = chunk.served
        if chunk.finish_reason is not None:
            self.reason = chunk.finish_reason
        if not (chunk.text or chunk.n_tokens):
            return False
        if self.t_first is None:
            self.t_first = now
            self.first_chunk_tokens = chunk.n_tokens
        self.t_last = now
        self.pieces.append(chunk.text)
        self.characters += len(chunk.text)
        self.token_ids.extend(chunk.token_ids)
        self.n_tokens += chunk.n_tokens
        return True

    def tokens_per_s(self) -> float | None:
        """Decode speed: the tokens after the first chunk over the time after it, so prompt processing
        (which time-to-first-token already shows) does not dilute it."""
        if self.t_first is None or self.t_last is None or self.t_last <= self.t_first:
            return None
        return (self.n_tokens - self.first_chunk_tokens) / (self.t_last - self.t_first)


def generate(
    loaded: Loaded,
    messages: Sequence[Message],
    params: GenerationParams,
    cancel: threading.Event,
    *,
    prompt_id: str | None = None,
    on_chunk: ChunkCallback | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> GenerationResult:
    """Run ``loaded.stream`` to the end (or cancel, or error) and return the measured result."""
    measured = _Measured()
    limit = character_limit(params)
    error: str | None = None
    start = clock()
    rendered_text = ""
    chat_template: bool | None = None
    try:
        rendered = loaded.render(messages)
        rendered_text, chat_template = valid_text(str(rendered.text)), rendered.chat_template
        stream = loaded.stream(messages, params, cancel, prompt_id=prompt_id)
        with SHARE.generating(loaded):  # its share of the cores while it streams (``arena.engine.cores``)
            try:
                for raw_chunk in stream:
                    chunk = checked_chunk(raw_chunk)
                    if measured.characters + len(chunk.text) > limit:  # cut like a token budget, said the same way
                        chunk = replace(chunk, text=chunk.text[: limit - measured.characters], finish_reason="length")
                    if measured.take(chunk, clock()) and on_chunk is not None:
                        on_chunk(chunk)
                    if cancel.is_set() or measured.reason is not None:
                        break
            finally:
                close = getattr(stream, "close", None)  # a generator's: an Iterator need not have one
                if close is not None:
                    close()
    except Exception as exc:  # any backend failure becomes an error result, never a dead battle
        error = valid_text(str(exc) or type(exc).__name__)
    wall_s = clock() - start
    try:
        peak = loaded.peak_memory_bytes()
    except Exception:  # memory is a nice-to-have; never lose a generation over it
        peak = None
    at_limit = measured.n_tokens >= params.max_tokens
    return GenerationResult(
        text="".join(measured.pieces),
        n_tokens=measured.n_tokens,
        finish_reason=_finish_reason(error, cancel.is_set(), measured.reason, at_limit),
        ttft_s=None if measured.t_first is None else measured.t_first - start,
        # a model may say its timing means nothing (a replay with no pace streams as fast as the loop runs)
        tokens_per_s=measured.tokens_per_s() if loaded.timed else None,
        wall_s=wall_s,
        peak_mem_bytes=peak,
        rendered_prompt=rendered_text,
        chat_template=chat_template,
        error=error,
        token_ids=tuple(measured.token_ids) if measured.token_ids else None,
        served=measured.served,
    )


def _finish_reason(error: str | None, cancelled: bool, reported: FinishReason | None, at_limit: bool) -> FinishReason:
    """Why a stream ended, most telling first: it failed, the judge stopped it, the backend said, the budget."""
    if error is not None:
        return "error"
    if cancelled:
        return "cancelled"
    if reported is not None:
        return reported
    return "length" if at_limit else "stop"


MAX_TOKENS_PER_CHUNK = 1_000_000


def checked_chunk(chunk: Chunk) -> Chunk:
    """A chunk the core can store: valid text (lone surrogates replaced) and a sane token count.

    A backend's stream is untrusted input (a server's JSON may hold "\\ud800", a non-string content, or a
    usage count of 10^23): what can be repaired is, what cannot fails this one generation with a clear
    error, and the other side and the rest of the run go on.
    """
    if not isinstance(chunk.text, str):
        raise BackendError(f"the backend sent {type(chunk.text).__name__} where text was expected")
    count = chunk.n_tokens
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_TOKENS_PER_CHUNK:
        raise BackendError(f"the backend reported an impossible token count: {str(count)[:40]}")
    text = valid_text(chunk.text)
    if chunk.served is not None:
        return replace(chunk, text=text, served=checked_served(chunk.served))
    return chunk if text is chunk.text else replace(chunk, text=text)


def failed_result(error: str, *, wall_s: float = 0.0) -> GenerationResult:
    """A generation that never produced anything: the shape a crash outside the backend is stored in."""
    return GenerationResult(text="", n_tokens=0, finish_reason="error", wall_s=wall_s, error=error)


INTERRUPT_GRACE_S = 10.0
"""How long Ctrl-C waits for cancelled streams to stop and be stored (each backend checks cancel per token)."""


@dataclass
class StreamJob:
    """One model answering one prompt, with its own cancel switch."""

    loaded: Loaded
    messages: Sequence[Message]
    params: GenerationParams
    prompt_id: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    on_chunk: ChunkCallback | None = None


def run_job(job: StreamJob) -> GenerationResult:
    """Run one job to its result. Never raises for an ``Exception``: a bug in measuring or in a callback
    becomes an error result for this side only, so the other side and the vote survive it."""
    try:
        return generate(
            job.loaded, job.messages, job.params, job.cancel, prompt_id=job.prompt_id, on_chunk=job.on_chunk
        )
    except Exception as exc:
        return failed_result(f"internal error: {type(exc).__name__}: {exc}")


def run_streams(
    jobs: Sequence[StreamJob],
    *,
    sequential: bool = False,
    on_result: Callable[[int, GenerationResult], None] | None = None,
) -> list[GenerationResult]:
    """Run the jobs at once (one thread each) or one after the other, and return results in job order.

    Concurrent is what a judge wants to watch; sequential gives clean speed numbers, because two models
    never compete for the same cores or memory bandwidth. ``on_result(index, result)`` runs as each job
    finishes (in its thread), so a caller can store a finished side before the other one is done. On
    Ctrl-C the running jobs are cancelled and given a moment to hand in what they have, then the
    interrupt goes on.
    """
    if sequential or len(jobs) == 1:
        results = []
        for index, job in enumerate(jobs):
            results.append(run_job(job))
            if on_result is not None:
                on_result(index, results[-1])
        return results
    collected: list[GenerationResult | None] = [None] * len(jobs)
    failures: list[Exception] = []
    # Waiting on events, not Thread.join: an interrupted join() can mark a live thread as stopped
    # (CPython's bpo-45274 repair releases the lock the running thread holds), and then the grace wait
    # below would return at once and lose the side still streaming.
    finished = [threading.Event() for _ in jobs]

    def worker(index: int, job: StreamJob) -> None:
        try:
            result = collected[index] = run_job(job)
            if on_result is not None:
                on_result(index, result)
        except Exception as exc:  # e.g. the database refused the write: raised in the caller's thread
            failures.append(exc)
        finally:
            finished[index].set()

    try:
        for index, job in enumerate(jobs):
            threading.Thread(target=worker, args=(index, job), name=f"arena-stream-{index}", daemon=True).start()
        for event in finished:
            event.wait()
    except KeyboardInterrupt:
        for job in jobs:
            job.cancel.set()
        for event in finished:
            event.wait(timeout=INTERRUPT_GRACE_S)
        raise
    if failures:
        raise failures[0]
    return [
        result if result is not None else failed_result("stream thread ended without a result") for result in collected
    ]
