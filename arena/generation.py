"""Drive one backend stream and measure it: time to first token, decode speed, wall time, finish reason.

Measuring here rather than in each backend means every backend is timed the same way, and a backend that
raises mid-stream still yields a result (its partial text, ``finish_reason="error"`` and the message), so
one failing model never takes the other side of a battle down with it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from arena.backend import Chunk, FinishReason, GenerationParams, GenerationResult, Loaded, Message

ChunkCallback = Callable[[Chunk], None]


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
    """Run ``loaded.stream`` to the end (or cancel, or error) and return the measured result.

    Decode speed counts the tokens after the first chunk over the time after it, so prompt processing
    (which time-to-first-token already shows) does not dilute it.
    """
    pieces: list[str] = []
    token_ids: list[int] = []
    n_tokens = 0
    first_chunk_tokens = 0
    reported_reason: FinishReason | None = None
    error: str | None = None
    t_first: float | None = None
    t_last: float | None = None
    start = clock()
    rendered_text = ""
    chat_template: bool | None = None
    try:
        rendered = loaded.render(messages)
        rendered_text, chat_template = rendered.text, rendered.chat_template
        stream = loaded.stream(messages, params, cancel, prompt_id=prompt_id)
        try:
            for chunk in stream:
                if chunk.text or chunk.n_tokens:
                    now = clock()
                    if t_first is None:
                        t_first = now
                        first_chunk_tokens = chunk.n_tokens
                    t_last = now
                    pieces.append(chunk.text)
                    token_ids.extend(chunk.token_ids)
                    n_tokens += chunk.n_tokens
                    if on_chunk is not None:
                        on_chunk(chunk)
                if chunk.finish_reason is not None:
                    reported_reason = chunk.finish_reason
                if cancel.is_set() or reported_reason is not None:
                    break
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
    except Exception as exc:  # any backend failure becomes an error result, never a dead battle
        error = str(exc) or type(exc).__name__
    wall_s = clock() - start

    finish_reason: FinishReason
    if error is not None:
        finish_reason = "error"
    elif cancel.is_set():
        finish_reason = "cancelled"
    elif reported_reason is not None:
        finish_reason = reported_reason
    elif n_tokens >= params.max_tokens:
        finish_reason = "length"
    else:
        finish_reason = "stop"

    tokens_per_s: float | None = None
    if t_first is not None and t_last is not None and t_last > t_first:
        tokens_per_s = (n_tokens - first_chunk_tokens) / (t_last - t_first)

    try:
        peak = loaded.peak_memory_bytes()
    except Exception:  # memory is a nice-to-have; never lose a generation over it
        peak = None

    return GenerationResult(
        text="".join(pieces),
        n_tokens=n_tokens,
        finish_reason=finish_reason,
        ttft_s=None if t_first is None else t_first - start,
        tokens_per_s=tokens_per_s,
        wall_s=wall_s,
        peak_mem_bytes=peak,
        rendered_prompt=rendered_text,
        chat_template=chat_template,
        error=error,
        token_ids=tuple(token_ids) if token_ids else None,
    )
