"""Sharing the machine's cores between the models generating at this moment (issue 26).

Two contestants at once used to get a fixed thread count each (llama.cpp's default: half the cores), so
when the faster one finished, its cores sat idle while the slower one decoded on one thread. Here every
model that can change its thread count between tokens (``set_threads``: llama.cpp's ``llama_set_n_threads``
between decode calls; torch's ``set_num_threads`` in the thread that generates, a per-thread setting with
torch's OpenMP backend) is registered while it generates, and the cores are split between those
generating now: one model alone gets all of them, two get half each, and when one stops the other takes
its share at its next token. Never more threads in total than cores: a llama.cpp thread that waits for a
core stalls its whole team at every barrier.

Which models take part is what each declares (``Loaded.shares_cores``, ``Loaded.threads_by_hand``; the
backend's ``Capabilities.thread_option`` names the spec option), never a backend's name. Models whose thread
count was set by hand keep it and the others share what is left; ``oversubscribed`` says when such settings
add up to more threads than cores.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from arena.backend import Contestant, Loaded
from arena.backend.registry import capabilities_of


def machine_cores() -> int:
    """The cores this process may run on (its affinity where the OS says, else the CPU count)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):  # no affinity on this OS
        return max(os.cpu_count() or 1, 1)


class _Active(NamedTuple):
    model: Loaded
    running: int
    """How many of its generations run now."""
    by_hand: int | None
    """Its thread count when set by hand (kept, and held back from the others' share), else None."""


class CoreShare:
    """The models generating now and the threads each may use."""

    def __init__(self, cores: int | None = None) -> None:
        self.cores = cores or machine_cores()
        self.lock = threading.Lock()
        self.active: dict[int, _Active] = {}
        """id(model) -> the model, its running generations, its thread count if set by hand."""

    @contextlib.contextmanager
    def generating(self, loaded: Loaded) -> Iterator[None]:
        """While ``loaded`` generates, it has its share of the cores. Models that cannot change their thread
        count, or need no cores (``shares_cores`` false: an hf model on a GPU), are not counted; a model whose
        count was set by hand keeps it, and those threads are not given to the others."""
        if not loaded.shares_cores:
            yield
            return
        key = id(loaded)
        by_hand = loaded.threads_by_hand
        with self.lock:
            running = self.active[key].running if key in self.active else 0
            self.active[key] = _Active(loaded, running + 1, by_hand)
            self._rebalance()
        try:
            yield
        finally:
            with self.lock:
                running = self.active[key].running
                if running <= 1:
                    del self.active[key]
                else:
                    self.active[key] = _Active(loaded, running - 1, by_hand)
                self._rebalance()

    def plan(self) -> list[int]:
        """Threads per model sharing the cores (not set by hand), in registration order: the cores left by
        the counts set by hand, split as evenly as they go, at least one each."""
        count = sum(1 for active in self.active.values() if active.by_hand is None)
        if not count:
            return []
        reserved = sum(active.by_hand or 0 for active in self.active.values())
        share, extra = divmod(max(self.cores - reserved, count), count)
        return [share + (1 if index < extra else 0) for index in range(count)]

    def _rebalance(self) -> None:
        sharing = [active.model for active in self.active.values() if active.by_hand is None]
        for model, threads in zip(sharing, self.plan(), strict=True):
            with contextlib.suppress(Exception):  # a model's thread change is a speed nicety, never a failure
                model.set_threads(threads)


SHARE = CoreShare()
"""The process's one share: every generation in this process runs on the same cores."""


def threads_by_hand(contestant: Contestant) -> int | None:
    """The thread count a contestant's spec sets by hand (its backend's ``Capabilities.thread_option``), if any."""
    option = capabilities_of(contestant.backend).thread_option
    value = contestant.options.get(option) if option is not None else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


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
        "wait for each other at every token; leave the thread counts out to share the cores, or use --sequential"
    )
