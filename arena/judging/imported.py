"""Several contestants' answer sets from other tools, stored as one batch session (``arena import-answers``).

Stored the way ``arena batch`` stores its own answers (one session of kind "batch", each answer a generation
with its sample index, analyzed by the same flags through ``record_answer``), so ``arena play --from-batch``,
``arena serve --from-batch``, ``arena autojudge --batch``, ``arena report`` and ``report --compare`` work on
them unchanged. Prompts are matched across the files by their key (``formats.answers``); a prompt that only
some contestants answered is stored, and left out of the pairs, and the caller says how many there were.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from arena.answer_sets import AnswerSet, ImportedAnswer, digest_id, prompt_id_of
from arena.backend import Contestant, GenerationParams, GenerationResult, LoadedInfo
from arena.errors import ArenaError
from arena.judging.answers import record_answer
from arena.judging.batch import loaded_settings
from arena.prompts import Prompt
from arena.store import Store, writes
from arena.store.settings import ContestantRef, SessionSettings
from arena.untrusted import checked_served
from arena.vocab import IMPORT_BACKEND


@dataclass(frozen=True)
class ImportedAnswers:
    """What an import stored."""

    session: int
    answers: int
    prompts: int
    one_sided: int
    """Prompts answered by only one contestant: stored, never paired."""


def import_answer_sets(store: Store, sets: Sequence[AnswerSet], set_name: str) -> ImportedAnswers:
    """Store ``sets`` (two or more contestants) as one batch session over a prompt set named ``set_name``."""
    labels = [answer_set.label for answer_set in sets]
    if len(sets) < 2:
        raise ArenaError(
            "import-answers needs two answer sets or more (--from LABEL=PATH twice): a battle has two sides"
        )
    shared = sorted({label for label in labels if labels.count(label) > 1})
    if shared:
        raise ArenaError(
            f"two --from share the label {shared[0]!r} (a file's own model name where no label was given); "
            "give each its own: --from LABEL=PATH"
        )
    prompts = _prompts(sets, set_name)
    contestants = [Contestant(s.label, IMPORT_BACKEND, str(s.path)) for s in sets]
    writes.register(store, contestants, list(prompts.values()))
    grouped = {answer_set.label: _samples(answer_set) for answer_set in sets}
    samples = max(len(answers) for by_key in grouped.values() for answers in by_key.values())
    infos = {s.label: LoadedInfo(backend=IMPORT_BACKEND, target=str(s.path)) for s in sets}
    settings = SessionSettings(
        prompt_set=set_name,
        contestants=tuple(ContestantRef(spec=c.spec, label=c.label) for c in contestants),
        samples=samples if samples > 1 else None,
        source=", ".join(str(s.path) for s in sets),
        loaded=loaded_settings(infos),
    )
    session = writes.start_session(store, "batch", judge=None, settings=settings)
    stored = 0
    for label, by_key in grouped.items():
        for key, answers in by_key.items():
            for sample, answer in enumerate(answers):
                _store(store, session, label, prompts[key], answer, sample)
                stored += 1
    answered = {key: sum(key in by_key for by_key in grouped.values()) for key in prompts}
    return ImportedAnswers(session, stored, len(prompts), sum(1 for count in answered.values() if count < 2))


def _prompts(sets: Sequence[AnswerSet], set_name: str) -> dict[str, Prompt]:
    """Each prompt key's prompt, as the first file that answered it recorded it."""
    found: dict[str, Prompt] = {}
    taken: set[str] = set()
    for answer_set in sets:
        for answer in answer_set.answers:
            if answer.key not in found:
                prompt_id = prompt_id_of(answer.key)
                prompt_id = digest_id(answer.key) if prompt_id in taken else prompt_id  # "a:b" beside "a.b"
                taken.add(prompt_id)
                found[answer.key] = Prompt(
                    set=set_name,
                    id=prompt_id,
                    category=answer.category or "imported",
                    text=answer.prompt,
                    system=answer.system,
                )
    return found


def _samples(answer_set: AnswerSet) -> dict[str, list[ImportedAnswer]]:
    """Each prompt's answers in sample order (a record's own ``sample``, else file order)."""
    by_key: dict[str, list[tuple[int, ImportedAnswer]]] = {}
    for position, answer in enumerate(answer_set.answers):
        by_key.setdefault(answer.key, []).append((position if answer.sample is None else answer.sample, answer))
    return {key: [answer for _, answer in sorted(answers, key=lambda pair: pair[0])] for key, answers in by_key.items()}


def _store(store: Store, session: int, label: str, prompt: Prompt, answer: ImportedAnswer, sample: int) -> None:
    result = GenerationResult(
        text=answer.output,
        n_tokens=0,
        finish_reason=answer.finish_reason or "stop",
        wall_s=0.0,
        served=checked_served({"model": answer.model}),
    )
    messages = list(answer.messages) if answer.messages is not None else None
    recorded = dict(answer.recorded)
    if answer.params:
        recorded["params"] = dict(answer.params)  # as the tool named them; GenerationParams keeps what fits
    record_answer(
        store,
        session=session,
        contestant=label,
        prompt=prompt,
        params=_params(answer),
        result=result,
        messages=messages,
        sample=sample,
        recorded=recorded,
    )


PARAM_NAMES = {
    "temperature": ("temperature",),
    "top_p": ("top_p",),
    "max_tokens": ("max_tokens", "max_new_tokens", "max_gen_toks", "max_completion_tokens"),
}
"""The recorded sampling arguments read into ``GenerationParams``, under the names tools give them."""


def _params(answer: ImportedAnswer) -> GenerationParams:
    """The sampling the tool recorded, where it fits ``GenerationParams``; the defaults for the rest, and
    for all of them when a recorded value is not one ``GenerationParams`` accepts."""
    chosen: dict[str, Any] = {}
    for name, keys in PARAM_NAMES.items():
        found = next((answer.params[key] for key in keys if key in answer.params), None)
        if found is not None:
            chosen[name] = found
    defaults = GenerationParams()
    try:
        return GenerationParams(
            temperature=float(chosen.get("temperature", defaults.temperature)),
            top_p=float(chosen.get("top_p", defaults.top_p)),
            max_tokens=int(chosen.get("max_tokens", defaults.max_tokens)),
        )
    except (TypeError, ValueError, ArenaError):
        return defaults
