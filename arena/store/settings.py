"""The one shape of ``sessions.settings_json``: what a play, batch or import session was run with.

Written by ``arena play`` and ``arena batch`` (through ``Store.start_session``), read back by ``--resume`` and
by the reports that name a batch's contestants. Older files hold three shapes under ``contestants`` (play:
spec strings; batch: ``{"label", "spec"}`` tables; the earliest batches: a table keyed by label, order lost);
``from_json`` reads each of them once, here, so no reader has to know.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ContestantRef:
    """A contestant as a session recorded it: its spec string, and its label where the session kept it."""

    spec: str
    label: str | None = None

    def to_json(self) -> str | dict[str, str]:
        """A bare spec string without a label (as play sessions have always stored it), else a table."""
        return self.spec if self.label is None else {"label": self.label, "spec": self.spec}


@dataclass(frozen=True)
class SessionSettings:
    """What a session ran with. Every field is optional in a stored file: a missing one reads as empty."""

    prompt_set: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    contestants: tuple[ContestantRef, ...] = ()
    """In ``--model`` order."""
    seed: int | None = None
    pace: str | None = None
    pairing: str | None = None
    pairing_judge: str | None = None
    """Pairing ``judge-uncertain``: the automatic judge whose doubt chose the battles."""
    prompt_order: tuple[str, ...] = ()
    """Play: the prompts' uids in the order the session's seed gave them."""
    sequential: bool | None = None
    """Batch: the contestants ran one after another."""
    samples: int | None = None
    """Batch: answers per contestant and prompt, each with its own seed (``--samples``)."""
    source: str | None = None
    """Import: the file the battles came from."""
    parallel: int | None = None
    """Batch: requests in flight per server contestant (``--parallel``); speeds were measured under it."""
    from_batch: int | None = None
    """Play on stored answers (``--from-batch``): the batch session whose answers are judged."""
    loaded: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Batch: what each contestant ran as (its ``LoadedInfo`` fields, by label), for the reveal of
    ``--from-batch`` battles judged later, maybe on another machine."""

    @property
    def specs(self) -> list[str]:
        return [contestant.spec for contestant in self.contestants]

    @property
    def labels(self) -> list[str]:
        """The contestants' labels where recorded (batch sessions), in order."""
        return [contestant.label for contestant in self.contestants if contestant.label is not None]

    def to_json(self) -> dict[str, Any]:
        """The stored form: empty fields left out."""
        stored: dict[str, Any] = {}
        if self.prompt_set is not None:
            stored["prompt_set"] = self.prompt_set
        if self.params:
            stored["params"] = dict(self.params)
        if self.contestants:
            stored["contestants"] = [contestant.to_json() for contestant in self.contestants]
        scalars = (
            "seed",
            "pace",
            "pairing",
            "pairing_judge",
            "sequential",
            "source",
            "samples",
            "parallel",
            "from_batch",
        )
        for name in scalars:
            value = getattr(self, name)
            if value is not None:
                stored[name] = value
        if self.prompt_order:
            stored["prompt_order"] = list(self.prompt_order)
        if self.loaded:
            stored["loaded"] = {label: dict(info) for label, info in self.loaded.items()}
        return stored

    @classmethod
    def from_json(cls, text: str | None) -> SessionSettings:
        """Any stored shape (or unreadable text: empty settings, never an exception)."""
        try:
            raw = json.loads(text) if text else {}
        except (ValueError, RecursionError):
            raw = {}
        if not isinstance(raw, dict):
            return cls()
        params = raw.get("params")
        seed = raw.get("seed")
        order = raw.get("prompt_order")
        return cls(
            prompt_set=_text(raw.get("prompt_set")),
            params=params if isinstance(params, dict) else {},
            contestants=_contestants(raw.get("contestants")),
            seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
            pace=_text(raw.get("pace")),
            pairing=_text(raw.get("pairing")),
            pairing_judge=_text(raw.get("pairing_judge")),
            prompt_order=tuple(str(uid) for uid in order) if isinstance(order, list) else (),
            sequential=raw["sequential"] if isinstance(raw.get("sequential"), bool) else None,
            samples=_count(raw.get("samples")),
            source=_text(raw.get("source")),
            parallel=_count(raw.get("parallel")),
            from_batch=_count(raw.get("from_batch")),
            loaded=_tables(raw.get("loaded")),
        )


_SCALARS = ("seed", "pace", "pairing", "pairing_judge", "sequential", "source", "samples", "parallel", "from_batch")
"""The fields stored as they are, when set."""


def _tables(value: object) -> dict[str, dict[str, Any]]:
    """A stored ``{label: {...}}`` map; entries that are not tables are left out."""
    if not isinstance(value, dict):
        return {}
    return {str(label): table for label, table in value.items() if isinstance(table, dict)}


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _contestants(value: object) -> tuple[ContestantRef, ...]:
    """The three stored shapes: spec strings (play), ``{"label", "spec"}`` tables (batch), or a table keyed by
    label (the earliest batches; its order is lost, so it reads as no contestants)."""
    if not isinstance(value, list):
        return ()
    found = []
    for entry in value:
        if isinstance(entry, str):
            found.append(ContestantRef(spec=entry))
        elif isinstance(entry, dict) and isinstance(entry.get("spec"), str):
            label = entry.get("label")
            found.append(ContestantRef(spec=entry["spec"], label=label if isinstance(label, str) else None))
    return tuple(found)
