"""What the judge learns about each side after the vote: who it was, what ran where, how faithful it is."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from arena.backend import LoadedInfo
from arena.judging.answers import AnalyzedAnswer
from arena.judging.round import Round
from arena.reports.vibe_check import Fidelity
from arena.vocab import SIDES, Side


@dataclass(frozen=True)
class Reveal:
    """One side after the vote: its label, backend, answer, what it ran as, and its fidelity numbers."""

    label: str
    backend: str
    answer: AnalyzedAnswer
    info: LoadedInfo | None
    """As the backend resolved it at load, or as a batch recorded it (None when unknown)."""
    info_error: str | None
    fidelity: Fidelity | None
    earlier: tuple[AnalyzedAnswer, ...] = ()
    """This side's answers in the conversation's earlier turns, oldest first."""


def reveal_sides(
    current: Round,
    loaded_info: Callable[[str], tuple[LoadedInfo | None, str | None]],
    fidelity: Mapping[str, Fidelity],
) -> dict[Side, Reveal]:
    """Both sides of a voted round. ``fidelity`` is read at each reveal: a measurement made in another
    terminal during the session shows up at the next vote."""
    revealed = {}
    for side in SIDES:
        contestant = current.battle.contestant(side)
        info, error = loaded_info(contestant.label)
        revealed[side] = Reveal(
            label=contestant.label,
            backend=contestant.backend,
            answer=current.finished[side],
            info=info,
            info_error=error,
            fidelity=fidelity.get(contestant.label),
            earlier=tuple(turn[side] for turn in current.earlier if side in turn),
        )
    return revealed
