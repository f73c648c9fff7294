"""Loaded models for one run: each contestant is loaded once, one at a time, and closed at the end.

Loading one at a time keeps peak memory at one model's load spike, and loading before any prompt means a
bad spec fails before the user has spent time judging.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from types import TracebackType

from arena.backend import BackendError, Loaded, get_backend
from arena.contestants import Contestant


class ModelPool:
    """Maps contestant labels to loaded models."""

    def __init__(self) -> None:
        self._loaded: dict[str, Loaded] = {}

    def load_all(self, contestants: Sequence[Contestant]) -> None:
        for contestant in contestants:
            if contestant.label in self._loaded:
                continue
            backend = get_backend(contestant.backend)
            try:
                self._loaded[contestant.label] = backend.load(contestant)
            except BackendError as exc:
                raise BackendError(f"cannot load {contestant.label!r}: {exc}") from exc

    def __getitem__(self, label: str) -> Loaded:
        return self._loaded[label]

    def __contains__(self, label: object) -> bool:
        return label in self._loaded

    def close(self) -> None:
        for loaded in self._loaded.values():
            # closing is best effort; one model's cleanup must not skip the others
            with contextlib.suppress(Exception):
                loaded.close()
        self._loaded.clear()

    def __enter__(self) -> ModelPool:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
