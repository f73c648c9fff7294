"""One side's answer once its stream has stopped: analyzed by the flags and stored, in that order.

Owns ``AnalyzedAnswer`` and ``record_answer``, the single path from a ``GenerationResult`` to a stored
generation with its flags and counts. ``arena batch`` and ``arena play`` both call it, so an answer is
judged and written the same way wherever it came from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from arena.analysis.flags import Counts, Flag, analyze_result, failed_flag
from arena.backend import GenerationParams, GenerationResult, Message
from arena.engine.battle import Battle
from arena.prompts import Prompt
from arena.store import Store, writes
from arena.vocab import Side, Verdict


@dataclass(frozen=True)
class AnalyzedAnswer:
    """One contestant's finished answer to one prompt, what the flags found in it, and its row id."""

    contestant: str
    result: GenerationResult
    flags: list[Flag]
    counts: Counts | None
    generation_id: int


def record_answer(
    store: Store,
    *,
    session: int | None,
    contestant: str,
    prompt: Prompt,
    params: GenerationParams,
    result: GenerationResult,
    messages: Sequence[Message] | None = None,
    sample: int | None = None,
    recorded: Mapping[str, Any] | None = None,
) -> AnalyzedAnswer:
    """Analyze ``result`` and store it with its flags in one transaction (``recorded``: what the tool that
    made an imported answer recorded beside it). ``messages`` is what the model was sent when it was more
    than the prompt (a follow-up turn): stored as such, and analyzed against its last message, without the
    prompt's constraints (they were about the first answer).

    Detectors are failure-isolated one by one inside ``analyze_result``; this last guard keeps the answer
    even if analysis as a whole breaks, recording why.
    """
    counts: Counts | None
    sent = list(messages) if messages is not None else prompt.messages()
    analyzed = prompt
    if messages is not None:
        analyzed = replace(prompt, text=str(sent[-1]["content"]), constraints=())
    try:
        flags, counts = analyze_result(analyzed, result, contestant, sent)
    except Exception as exc:
        flags, counts = [failed_flag("analysis", exc)], None
    generation_id = writes.record_generation(
        store,
        session=session,
        contestant=contestant,
        prompt=prompt.uid,
        messages=sent,
        params=params,
        result=result,
        flags=flags,
        counts=counts,
        sample=sample,
        recorded=recorded,
    )
    return AnalyzedAnswer(contestant, result, flags, counts, generation_id)


def record_side(store: Store, session: int, battle: Battle, side: Side, result: GenerationResult) -> AnalyzedAnswer:
    """One side's answer to a battle, analyzed and stored (a follow-up turn with its conversation)."""
    return record_answer(
        store,
        session=session,
        contestant=battle.contestant(side).label,
        prompt=battle.prompt,
        params=battle.params,
        result=result,
        messages=battle.messages(side) if battle.history is not None else None,
    )


def record_verdict(
    store: Store,
    session: int,
    battle: Battle,
    answers: Mapping[Side, AnalyzedAnswer],
    verdict: Verdict,
    *,
    judge: str | None,
    vote_s: float,
) -> int:
    """A judge's verdict on a battle's two stored answers, durable when this returns; its battle id."""
    return writes.record_battle(
        store,
        session=session,
        prompt=battle.prompt.uid,
        left_generation=answers["left"].generation_id,
        right_generation=answers["right"].generation_id,
        left_contestant=battle.left.label,
        right_contestant=battle.right.label,
        verdict=verdict,
        judge=judge,
        vote_s=vote_s,
        shown_probability=battle.shown_probability,
    )
