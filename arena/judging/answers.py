"""One side's answer once its stream has stopped: analyzed by the flags and stored, in that order.

Owns ``AnalyzedAnswer`` and ``record_answer``, the single path from a ``GenerationResult`` to a stored
generation with its flags and counts. ``arena batch`` and ``arena play`` both call it, so an answer is
judged and written the same way wherever it came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from arena.analysis.flags import Counts, Flag, analyze_result, failed_flag
from arena.backend import GenerationParams, GenerationResult, Message
from arena.prompts import Prompt
from arena.store import Store, writes


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
) -> AnalyzedAnswer:
    """Analyze ``result`` and store it with its flags in one transaction. ``messages`` is what the model
    was sent when it was more than the prompt (a follow-up turn): stored as such, and analyzed against its
    last message, without the prompt's constraints (they were about the first answer).

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
    )
    return AnalyzedAnswer(contestant, result, flags, counts, generation_id)
