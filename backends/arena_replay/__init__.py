"""Replay backend: streams recorded outputs from a JSONL file as if a model were generating them.

It serves two real needs. Outputs generated elsewhere (a rented GPU, another tool) can be judged blind in
the arena without the model being present; and tests get a deterministic model that streams, paces,
truncates at ``max_tokens``, honours cancel and can replay a recorded failure.

Each line of the file is a JSON object with ``output`` and a key to find it by: ``prompt_id`` ("set/id" or
the bare id) or ``prompt`` (the prompt text). Optional: ``chunks`` (the exact streamed pieces, each one
token), ``finish_reason`` and ``error`` (the generation failed after streaming ``output``).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from arena.backend import (
    FINISH_REASONS,
    BackendBase,
    BackendError,
    Capabilities,
    Chunk,
    Contestant,
    FinishReason,
    GenerationParams,
    LoadedBase,
    LoadedInfo,
    Message,
    Option,
    RenderedPrompt,
)
from arena.backend.helpers import BadJson, StopStringFilter, jsonl_records, read_text

_TOKEN = re.compile(r"\s*\S+|\s+")
MIN_TPS = 0.001
"""Slower pacing than one token per 1000 s is a typo; 1e-300 would overflow the sleep."""
MAX_TTFT_S = 3600.0


def split_tokens(text: str) -> list[str]:
    """Word-sized pieces with their leading whitespace; joined they give back ``text`` exactly."""
    return _TOKEN.findall(text)


@dataclass(frozen=True)
class Recording:
    """One recorded generation."""

    tokens: tuple[str, ...]
    finish_reason: FinishReason | None
    error: str | None


def _cut_at_stop(tokens: Sequence[str], stop: Sequence[str]) -> tuple[list[str], bool]:
    """Tokens up to the first stop string (dropped, as model servers do) and whether one was hit."""
    stops = StopStringFilter(stop)
    kept = [piece for piece in (stops.feed(token) for token in tokens) if piece]
    tail = stops.finish()
    return kept + ([tail] if tail else []), stops.stopped


class ReplayModel(LoadedBase):
    """A loaded replay file: recordings indexed by prompt id and by prompt text."""

    def __init__(self, path: Path, tps: float | None, ttft: float) -> None:
        self.path = path
        self.tps = tps
        self.timed = tps is not None
        """Without a pace the stream runs as fast as the loop: its tokens/s would be a meaningless figure."""
        self.ttft = ttft
        self.by_id: dict[str, Recording] = {}
        self.by_text: dict[str, Recording] = {}
        self._read()

    def _read(self) -> None:
        text = read_text(
            self.path,
            name=f"replay file {self.path}",
            error=BackendError,
            missing=f"replay file not found: {self.path}",
        )
        where_seen: dict[str, int] = {}
        for number, record in jsonl_records(text):
            where = f"replay file {self.path}: line {number}"
            if isinstance(record, BadJson):
                raise BackendError(f"{where}: {record.reason}")
            if not isinstance(record, dict):
                raise BackendError(f"{where}: expected a JSON object")
            recording = self._recording(record, where)
            keys = [("id", record.get("prompt_id")), ("text", record.get("prompt"))]
            if not any(isinstance(value, str) and value for _, value in keys):
                raise BackendError(f"{where}: needs 'prompt_id' or 'prompt' to match it to a prompt")
            for kind, value in keys:
                if not isinstance(value, str) or not value:
                    continue
                value = value.strip() if kind == "text" else value
                index = self.by_id if kind == "id" else self.by_text
                if value in index:
                    first = where_seen[value]
                    raise BackendError(f"{where}: a second output for prompt {value[:60]!r} (first at line {first})")
                index[value] = recording
                where_seen[value] = number
        if not self.by_id and not self.by_text:
            raise BackendError(f"replay file {self.path}: holds no recordings")

    @staticmethod
    def _recording(record: Any, where: str) -> Recording:
        if not isinstance(record, dict):
            raise BackendError(f"{where}: expected a JSON object")
        chunks = record.get("chunks")
        if chunks is not None:
            if not isinstance(chunks, list) or not all(isinstance(c, str) for c in chunks):
                raise BackendError(f"{where}: 'chunks' must be a list of strings")
            tokens = tuple(chunks)
        else:
            output = record.get("output")
            if not isinstance(output, str):
                raise BackendError(f"{where}: 'output' must be a string")
            tokens = tuple(split_tokens(output))
        finish_reason = record.get("finish_reason")
        if finish_reason is not None and finish_reason not in FINISH_REASONS:
            raise BackendError(f"{where}: 'finish_reason' must be one of {', '.join(FINISH_REASONS)}")
        error = record.get("error")
        if error is not None and not isinstance(error, str):
            raise BackendError(f"{where}: 'error' must be a string")
        return Recording(tokens=tokens, finish_reason=finish_reason, error=error)

    def find(self, messages: Sequence[Message], prompt_id: str | None) -> Recording:
        if prompt_id is not None:
            for key in (prompt_id, prompt_id.split("/", 1)[-1]):
                if key in self.by_id:
                    return self.by_id[key]
        user_texts = [m["content"].strip() for m in messages if m["role"] == "user"]
        if user_texts and user_texts[-1] in self.by_text:
            return self.by_text[user_texts[-1]]
        shown = prompt_id or (user_texts[-1][:60] if user_texts else "?")
        raise BackendError(f"replay file {self.path.name} has no output for prompt {shown!r}")

    # -- the Loaded protocol

    def render(self, messages: Sequence[Message]) -> RenderedPrompt:
        # A recording has no tokenizer; show the conversation it answers, marked as no known template.
        return RenderedPrompt("\n".join(f"{m['role']}: {m['content']}" for m in messages), chat_template=None)

    def stream(
        self,
        messages: Sequence[Message],
        params: GenerationParams,
        cancel: threading.Event,
        prompt_id: str | None = None,
    ) -> Iterator[Chunk]:
        recording = self.find(messages, prompt_id)
        tokens, stopped = _cut_at_stop(recording.tokens, params.stop)
        limited = tokens[: params.max_tokens]
        start = time.monotonic()
        for index, token in enumerate(limited):
            if self.tps is not None or self.ttft:
                due = start + self.ttft + (index / self.tps if self.tps else 0.0)
                delay = due - time.monotonic()
                if delay > 0 and cancel.wait(delay):
                    return
            if cancel.is_set():
                return
            yield Chunk(token)
        if recording.error is not None and len(limited) == len(tokens) and not stopped:
            raise BackendError(recording.error)
        if len(limited) < len(tokens):
            reason: FinishReason = "length"
        elif stopped:
            reason = "stop"
        else:
            reason = recording.finish_reason or "stop"
        yield Chunk("", n_tokens=0, finish_reason=reason)

    def info(self) -> LoadedInfo:
        return LoadedInfo(
            backend="replay",
            target=str(self.path),
            extra={"recordings": len(self.by_id) + len(self.by_text), "tps": self.tps},
        )

    def peak_memory_bytes(self) -> int | None:
        return None

    def close(self) -> None:
        self.by_id.clear()
        self.by_text.clear()


class ReplayBackend(BackendBase):
    """Registered as ``replay``: ``replay:outputs.jsonl?tps=40``."""

    name = "replay"
    description = "recorded outputs from a JSONL file (judge outputs generated elsewhere)"
    capabilities = Capabilities(sampled=False)
    options: ClassVar[dict[str, Option]] = {
        "tps": Option(float, "pace the stream at this many tokens per second", affects_output=False),
        "ttft": Option(float, "seconds to wait before the first token", affects_output=False),
    }

    def load(self, contestant: Contestant) -> ReplayModel:
        tps = contestant.options.get("tps")
        if tps is not None and tps < MIN_TPS:
            raise BackendError(f"{contestant.label}: tps must be at least {MIN_TPS} (tokens per second)")
        ttft = float(contestant.options.get("ttft", 0.0))
        if not 0 <= ttft <= MAX_TTFT_S:
            raise BackendError(f"{contestant.label}: ttft must be between 0 and {MAX_TTFT_S:g} seconds")
        return ReplayModel(Path(contestant.target).expanduser(), tps, ttft)
