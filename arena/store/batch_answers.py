"""Reading a batch session's stored answers back for judging (``arena play --from-batch``): the answers
with their flags and counts, the prompts and contestants they belong to, and which pairs of answers a judge
has already voted on.

Rows come back as typed values, decoded here beside the SQL that names the columns; ``arena.judging.stored``
turns them into battles. Everything read here may come from another machine (``arena merge``): a value that
is not what its column should hold is replaced by a safe default, and text is made valid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any, NamedTuple

from arena.analysis.flags import Counts, Flag
from arena.backend import Contestant, GenerationParams, GenerationResult, LoadedInfo, Message
from arena.errors import ArenaError
from arena.store.connection import Store
from arena.store.queries import decode_json, stored_messages
from arena.store.settings import SessionSettings
from arena.untrusted import checked_served, valid_text
from arena.vocab import FINISH_REASONS, FinishReason

ANSWER_COLUMNS = (
    "id, contestant, prompt, sample, messages_json, params_json, output, n_tokens, finish_reason, ttft_s, "
    "tokens_per_s, wall_s, peak_mem_bytes, rendered_prompt, chat_template, error, n_words, n_chars, "
    "n_sentences, n_headers, n_list_items, n_bold, served_json"
)


def session_kind(store: Store, session: int) -> tuple[str, SessionSettings] | None:
    """A session's kind ("batch", "play", "import") and settings; None when there is no such session."""
    rows = store.rows("select kind, settings_json from sessions where id = ?", [session])
    if not rows:
        return None
    return str(rows[0][0]), SessionSettings.from_json(rows[0][1])


class StoredAnswer(NamedTuple):
    """One stored generation as a judge sees it and the reveal describes it."""

    generation_id: int
    contestant: str
    prompt: str
    """The prompt's uid ("set/id")."""
    sample: int
    messages: list[Message]
    """What the model was sent."""
    params: GenerationParams | None
    """Its sampling settings (None where the stored ones do not make valid settings)."""
    result: GenerationResult
    counts: Counts | None
    flags: list[Flag]


class StoredPrompt(NamedTuple):
    """A prompt's stored row."""

    uid: str
    set: str | None
    category: str | None
    text: str
    system: str | None
    constraints: tuple[dict[str, Any], ...]


def answers(store: Store, session: int) -> list[StoredAnswer]:
    """The session's stored answers (regenerated ones left out) with their flags, oldest first."""
    rows = store.query(
        f"select {ANSWER_COLUMNS} from generations "
        "where session = ? and (discarded is null or discarded = 0) order by id",
        [session],
    )
    flags = _flags_of(store, [int(row["id"]) for row in rows])
    return [_answer(row, flags.get(int(row["id"]), [])) for row in rows]


def _answer(row: Mapping[str, Any], flags: list[Flag]) -> StoredAnswer:
    reason = row.get("finish_reason")
    finish: FinishReason = reason if reason in FINISH_REASONS else "stop"
    template = row.get("chat_template")
    result = GenerationResult(
        text=valid_text(str(row.get("output") or "")),
        n_tokens=max(_count(row.get("n_tokens")) or 0, 0),
        finish_reason=finish,
        ttft_s=_number(row.get("ttft_s")),
        tokens_per_s=_number(row.get("tokens_per_s")),
        wall_s=_number(row.get("wall_s")) or 0.0,
        peak_mem_bytes=_count(row.get("peak_mem_bytes")),
        rendered_prompt=valid_text(str(row.get("rendered_prompt") or "")),
        chat_template=None if template is None else bool(template),
        error=valid_text(str(row["error"])) if row.get("error") else None,
        served=checked_served(decode_json(row.get("served_json"), None)),
    )
    words = _count(row.get("n_words"))
    counts = None
    if words is not None:
        counts = Counts(
            words=words,
            characters=_count(row.get("n_chars")) or 0,
            sentences=_count(row.get("n_sentences")) or 0,
            tokens=result.n_tokens,
            headers=_count(row.get("n_headers")),
            list_items=_count(row.get("n_list_items")),
            bold=_count(row.get("n_bold")),
        )
    return StoredAnswer(
        generation_id=int(row["id"]),
        contestant=str(row["contestant"]),
        prompt=str(row["prompt"]),
        sample=_count(row.get("sample")) or 0,
        messages=stored_messages(row.get("messages_json")),
        params=stored_params(decode_json(row.get("params_json"), {})),
        result=result,
        counts=counts,
        flags=flags,
    )


def stored_params(raw: object) -> GenerationParams | None:
    """Stored sampling settings, or None where they do not make valid ones."""
    if not isinstance(raw, Mapping):
        return None
    known = {f.name for f in fields(GenerationParams)}
    try:
        values = {key: value for key, value in raw.items() if key in known}
        if "stop" in values:
            values["stop"] = tuple(str(stop) for stop in values["stop"])
        return GenerationParams(**values)
    except (ArenaError, TypeError, ValueError):
        return None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _count(value: object) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _flags_of(store: Store, generation_ids: Sequence[int]) -> dict[int, list[Flag]]:
    """Each generation's stored flags, by generation id."""
    rows = store.rows_in(
        "select generation, name, hit, score, evidence_json, error from flags "
        "where generation in ({marks}) order by id",
        list(generation_ids),
    )
    found: dict[int, list[Flag]] = {}
    for generation, name, hit, score, evidence_json, error in rows:
        evidence = decode_json(evidence_json, [])
        flag = Flag(
            name=str(name),
            hit=bool(hit),
            score=_number(score),
            evidence=[valid_text(str(item)) for item in evidence] if isinstance(evidence, list) else [],
            error=str(error) if error else None,
        )
        found.setdefault(int(generation), []).append(flag)
    return found


def prompts(store: Store, uids: Sequence[str]) -> dict[str, StoredPrompt]:
    """The prompts' stored rows, by uid."""
    rows = store.rows_in(
        'select id, "set", category, text, system, constraints_json from prompts where id in ({marks})',
        list(uids),
    )
    found = {}
    for uid, prompt_set, category, text, system, constraints_json in rows:
        constraints = decode_json(constraints_json, [])
        kept = tuple(c for c in constraints if isinstance(c, dict)) if isinstance(constraints, list) else ()
        found[str(uid)] = StoredPrompt(
            str(uid),
            str(prompt_set) if prompt_set else None,
            str(category) if category else None,
            valid_text(str(text or "")),
            valid_text(system) if isinstance(system, str) else None,
            kept,
        )
    return found


def contestants(store: Store, labels: Sequence[str]) -> dict[str, Contestant]:
    """The labels as contestants, from their stored rows (a label without one: an unknown backend)."""
    rows = store.rows_in(
        "select label, backend, target, options_json from contestants where label in ({marks})", list(labels)
    )
    by_label = {str(row[0]): row for row in rows}
    found = {}
    for label in labels:
        _, backend, target, options_json = by_label.get(label, (label, None, None, None))
        options = decode_json(options_json, {})
        found[label] = Contestant(
            label=label,
            backend=str(backend or "unknown"),
            target=str(target or ""),
            options=options if isinstance(options, dict) else {},
        )
    return found


def loaded_infos(settings: SessionSettings) -> dict[str, LoadedInfo]:
    """What each contestant of a batch ran as, as the batch recorded it (what is not a ``LoadedInfo`` is
    left out: a merged file may hold anything)."""
    return {label: info for label, raw in settings.loaded.items() if (info := _loaded_info(raw)) is not None}


def _loaded_info(raw: Mapping[str, Any]) -> LoadedInfo | None:
    if not isinstance(raw.get("backend"), str) or not isinstance(raw.get("target"), str):
        return None

    def text(name: str) -> str | None:
        value = raw.get(name)
        return value if isinstance(value, str) else None

    extra = raw.get("extra")
    template = raw.get("chat_template")
    return LoadedInfo(
        backend=raw["backend"],
        target=raw["target"],
        device=text("device"),
        dtype=text("dtype"),
        quant=text("quant"),
        chat_template=template if isinstance(template, bool) else None,
        n_params=_count(raw.get("n_params")),
        memory_bytes=_count(raw.get("memory_bytes")),
        extra=dict(extra) if isinstance(extra, dict) else {},
    )


def judged_pairs(store: Store, judge: str | None) -> set[frozenset[int]]:
    """The pairs of answers (generation ids) ``judge`` has a vote on that counts, skips included (they have
    seen them), in any session: a judge never gets the same two answers twice."""
    rows = store.rows(
        "select left_generation, right_generation from battles where judge is ? and taken_back_at is null "
        "and left_generation is not null and right_generation is not null",
        [judge],
    )
    return {frozenset((int(left), int(right))) for left, right in rows}


def last_stored_session(store: Store, judge: str | None, batch: int) -> tuple[int, SessionSettings, int] | None:
    """The judge's newest play session on ``batch``'s stored answers: its id, settings and battle count."""
    for session, settings_json in store.rows(
        "select id, settings_json from sessions where kind = 'play' and judge is ? order by id desc", [judge]
    ):
        settings = SessionSettings.from_json(settings_json)
        if settings.from_batch == batch:
            battles = store.rows("select count(*) from battles where session = ?", [session])[0][0]
            return int(session), settings, int(battles)
    return None
