"""Loaded models for one run: each contestant is loaded once, one at a time, and closed at the end.

Owns ``ModelPool``. A backend whose library is missing is reported as one line naming the extra to
install, never as a ``ModuleNotFoundError`` traceback.

Loading one at a time keeps peak memory at one model's load spike, and loading before any prompt means a
bad spec fails before the user has spent time judging.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from types import TracebackType

from arena.backend import LOADED_MEMBERS, Backend, BackendError, Contestant, Loaded, LoadedInfo, missing_members
from arena.backend.registry import get_backend


def missing_library_message(backend: Backend, contestant: Contestant, exc: ImportError) -> str:
    """One line: which library is missing and the pip command that installs it."""
    library = exc.name or str(exc)
    fix = f"pip install 'vibe-arena[{backend.extra}]'" if backend.extra else f"pip install {library}"
    return (
        f"cannot load {contestant.label!r}: the {backend.name} backend needs {library}, which is not installed ({fix})"
    )


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
                loaded = backend.load(contestant)
            except BackendError as exc:
                raise BackendError(f"cannot load {contestant.label!r}: {exc}") from exc
            except ImportError as exc:
                raise BackendError(missing_library_message(backend, contestant, exc)) from exc
            lacking = missing_members(loaded, LOADED_MEMBERS)
            if lacking:
                with contextlib.suppress(Exception):
                    loaded.close()
                raise BackendError(
                    f"cannot use {contestant.label!r}: the {backend.name} backend's model lacks {', '.join(lacking)} "
                    "(its class should derive from arena.backend.LoadedBase)"
                )
            self._loaded[contestant.label] = loaded

    def __getitem__(self, label: str) -> Loaded:
        return self._loaded[label]

    def __contains__(self, label: object) -> bool:
        return label in self._loaded

    def infos(self) -> dict[str, LoadedInfo]:
        """What each loaded model resolved to, by label; a backend whose ``info()`` fails is left out (it is
        a nicety: it must not cost the run)."""
        found = {}
        for label, loaded in self._loaded.items():
            with contextlib.suppress(Exception):
                found[label] = loaded.info()
        return found

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
