"""A word-level Markov chain as a vibe-arena backend: ``markov:corpus.txt?order=2``.

The whole contract in one small file (see docs/backends.md): a ``BackendBase`` subclass that names itself,
declares its options and capabilities and loads a model; a ``LoadedBase`` subclass that renders the prompt,
streams chunks, honours ``max_tokens``, stop strings, the seed and cancel, and says what it is. Everything
it does not declare (core sharing, parallel requests, a custom label) keeps the contract's default.
"""

from __future__ import annotations

import random
import re
import threading
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from arena.backend import (
    BackendBase,
    BackendError,
    Capabilities,
    Chunk,
    Contestant,
    GenerationParams,
    LoadedBase,
    LoadedInfo,
    Message,
    Option,
    RenderedPrompt,
)
from arena.backend.helpers import StopStringFilter, raw_completion_prompt

_WORD = re.compile(r"\S+")


class MarkovModel(LoadedBase):
    """Which word follows each run of ``order`` words in the corpus, and how often."""

    def __init__(self, path: Path, order: int) -> None:
        words = _WORD.findall(path.read_text(encoding="utf-8", errors="replace"))
        if len(words) <= order:
            raise BackendError(f"{path}: {len(words)} words, too few for a chain of order {order}")
        self.path = path
        self.order = order
        self.follows: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for index in range(len(words) - order):
            self.follows[tuple(words[index : index + order])].append(words[index + order])
        self.starts = list(self.follows)

    def render(self, messages: Sequence[Message]) -> RenderedPrompt:
        # no chat template: the arena flags the raw completion prompt (``no_chat_template``)
        return raw_completion_prompt(messages)

    def stream(
        self,
        messages: Sequence[Message],
        params: GenerationParams,
        cancel: threading.Event,
        prompt_id: str | None = None,
    ) -> Iterator[Chunk]:
        rng = random.Random(params.seed)  # per call, never process-global: two contestants stay reproducible
        prompt_words = _WORD.findall(messages[-1]["content"]) if messages else []
        state = tuple(prompt_words[-self.order :])
        if state not in self.follows:
            state = rng.choice(self.starts)
        stops = StopStringFilter(params.stop)
        for produced in range(params.max_tokens):
            if cancel.is_set():
                return
            word = rng.choice(self.follows.get(state) or self.follows[rng.choice(self.starts)])
            state = (*state[1:], word)
            text = stops.feed(("" if produced == 0 else " ") + word)
            if text:
                yield Chunk(text)
            if stops.stopped:
                yield Chunk(stops.finish(), n_tokens=0, finish_reason="stop")
                return
        yield Chunk(stops.finish(), n_tokens=0, finish_reason="length")

    def info(self) -> LoadedInfo:
        return LoadedInfo(backend="markov", target=str(self.path), chat_template=False, extra={"order": self.order})


class MarkovBackend(BackendBase):
    """Registered as ``markov`` (entry point group ``arena.backends``)."""

    name = "markov"
    description = "a word-level Markov chain trained on a text file (a worked third-party backend)"
    options: ClassVar[Mapping[str, Option]] = {"order": Option(int, "words of context per step (default 2)")}
    capabilities = Capabilities(sampled=True)  # the seed changes its answers; everything else: the defaults

    def load(self, contestant: Contestant) -> MarkovModel:
        order = int(contestant.options.get("order", 2))
        if not 1 <= order <= 8:
            raise BackendError(f"order must be between 1 and 8, got {order}")
        path = Path(contestant.target).expanduser()
        if not path.is_file():
            raise BackendError(f"{path}: no such file")
        return MarkovModel(path, order)

    def default_label(self, target: str, options: Mapping[str, Any]) -> str | None:
        return f"markov-{Path(target).stem}"
