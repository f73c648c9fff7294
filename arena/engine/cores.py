"""Sharing the machine's cores between the models generating at this moment (issue 26).

Two contestants at once used to get a fixed thread count each (llama.cpp's default: half the cores), so
when the faster one finished, its cores sat idle while the slower one decoded on one thread. Here every
model that can change its thread count between decode calls (``set_threads``: llama.cpp's
``llama_set_n_threads``) is registered while it generates, and the cores are split between those
generating now: one model alone gets all of them, two get half each, and when one stops the other takes
its share at its next token. Never more threads in total than cores: a llama.cpp thread that waits for a
core stalls its whole team at every barrier.

Models whose thread count was set by hand (``n_threads=``) are left alone (``threads_by_hand``);
``oversubscribed`` says when such settings add up to more threads than cores.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from arena.backend import Contestant


def machine_cores() -> int:
    """The cores this process may run on (its affinity where the OS says, else the CPU count)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):  # no affinity on this OS
        return max(os.cpu_count() or 1, 1)


class CoreShare:
    """The models generating now and the threads each may use."""

    def __init__(self, cores: int | None = None) -> None:
        self.cores = cores or machine_cores()
        self.lock = threading.Lock()
        self.active: dict[int, tuple[Any, int]] = {}
        """id(model) -> (the model, how many of its generations run now)."""

    @contextlib.contextmanager
    def generating(self, loaded: object) -> Iterator[None]:
        """While ``loaded`` generates, it has its share of the cores (models that cannot change their thread
        count are not counted: they do not take part)."""
        if not callable(getattr(loaded, "set_threads", None)):
            yield
            return
        key = id(loaded)
        with self.lock:
            model, running = self.active.get(key, (loaded, 0))
            self.active[key] = (model, running + 1)
            self._rebalance()
        try:
            yield
        finally:
            with self.lock:
                model, running = self.active[key]
                if running <= 1:
                    del self.active[key]
                else:
                    self.active[key] = (model, running - 1)
                self._rebalance()

    def plan(self) -> list[int]:
        """Threads per active model, in registration order: the cores split as evenly as they go, at
        least one each."""
        count = len(self.active)
        if not count:
            return []
        share, extra = divmod(self.cores, count)
        return [max(share + (1 if index < extra else 0), 1) for index in range(count)]

    def _rebalance(self) -> None:
        for (model, _), threads in zip(self.active.values(), self.plan(), strict=True):
            with contextlib.suppress(Exception):  # a model's thread change is a speed nicety, never a failure
                model.set_threads(threads)


SHARE = CoreShare()
"""The process's one share: every generation in this process runs on the same cores."""


def threads_by_hand(contestant: Contestant) -> int | None:
    """The thread count a contestant's spec sets (``n_threads`` for gguf, ``threads`` for hf), if any."""
    for name in ("n_threads", "threads"):
        value = contestant.options.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def oversubscribed(contestants: Sequence[Contestant], cores: int | None = None) -> str | None:
    """A warning when thread counts set by hand add up to more than the cores (for models that generate at
    the same time), else None."""
    available = cores or machine_cores()
    counts = [(c.label, n) for c in contestants if (n := threads_by_hand(c)) is not None]
    total = sum(n for _, n in counts)
    if len(counts) < 2 or total <= available:
        return None
    listed = ", ".join(f"{label} {n}" for label, n in counts)
    return (
        f"threads set by hand add up to {total} on {available} cores ({listed}): generating at once they will "
        "wait for each other at every token; leave n_threads out to share the cores, or use --sequential"
    )
