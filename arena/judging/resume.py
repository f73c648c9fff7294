"""Continuing a judge's earlier session: ``arena play --resume``, and a browser judge who comes back.

The earlier session's id and seed come back, so the prompt order and sides are the ones it had, its judged
prompts are skipped, and new battles get seeds after its old ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from arena.errors import ArenaError
from arena.store import Store
from arena.store.queries import judged_prompts, last_play_session


@dataclass(frozen=True)
class Resume:
    """Where an earlier session stopped: its id and seed, its prompts already judged, its battle count."""

    session: int
    seed: int
    judged: frozenset[str]
    battles: int


def find_resume(store: Store, judge: str | None, contestant_specs: Sequence[str], prompt_set: str) -> Resume:
    """The judge's latest play session, if it ran these contestants (in this order) on this prompt set;
    ``ArenaError`` saying what differs otherwise."""
    last = last_play_session(store, judge)
    if last is None:
        raise ArenaError(f"--resume: no earlier arena session by judge {judge!r} in this database")
    session, settings = last
    if settings.specs != list(contestant_specs) or settings.prompt_set != prompt_set:
        raise ArenaError(
            f"--resume: your last session ({session}) judged other contestants or another prompt set; "
            "run it with the same --model and --prompts, or start a new session without --resume"
        )
    if settings.seed is None:
        raise ArenaError(f"--resume: session {session} recorded no seed to continue from")
    judged, battles = judged_prompts(store, session)
    return Resume(session=session, seed=settings.seed, judged=frozenset(judged), battles=battles)


def resume_if_any(store: Store, judge: str, contestant_specs: Sequence[str], prompt_set: str) -> Resume | None:
    """The judge's last session when it ran these contestants on this prompt set, else None: a judge who
    comes back to a browser (``arena serve``) continues where they left off without being asked."""
    try:
        return find_resume(store, judge, contestant_specs, prompt_set)
    except ArenaError:  # no earlier session, or one on other contestants: a fresh one
        return None
