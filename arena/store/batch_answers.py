"""Reading a batch session's stored answers back for judging (``arena play --from-batch``): the answers
with their flags and counts, the prompts and contestants they belong to, and which pairs of answers a judge
has already voted on.

Rows come back as plain dicts; ``arena.judging.stored`` turns them into battles. Everything read here may
come from another machine (``arena merge``), so callers treat every value as untrusted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from arena.store.connection import Store
from arena.store.settings import SessionSettings

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


def answers(store: Store, session: int) -> list[dict[str, Any]]:
    """The session's stored answers (regenerated ones left out), oldest first."""
    return store.query(
        f"select {ANSWER_COLUMNS} from generations "
        "where session = ? and (discarded is null or discarded = 0) order by id",
        [session],
    )


def flags_of(store: Store, generation_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Each generation's stored flags (name, hit, score, evidence_json, error), by generation id."""
    rows = store.rows_in(
        "select generation, name, hit, score, evidence_json, error from flags "
        "where generation in ({marks}) order by id",
        list(generation_ids),
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for generation, name, hit, score, evidence, error in rows:
        found.setdefault(int(generation), []).append(
            {"name": name, "hit": hit, "score": score, "evidence_json": evidence, "error": error}
        )
    return found


def prompts(store: Store, uids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The prompts' rows (id, set, category, text, system, constraints_json), by uid."""
    rows = store.rows_in(
        'select id, "set", category, text, system, constraints_json from prompts where id in ({marks})',
        list(uids),
    )
    names = ("uid", "set", "category", "text", "system", "constraints_json")
    return {str(row[0]): dict(zip(names, row, strict=True)) for row in rows}


def contestants(store: Store, labels: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The contestants' rows (label, backend, target, options_json), by label."""
    rows = store.rows_in(
        "select label, backend, target, options_json from contestants where label in ({marks})", list(labels)
    )
    return {str(row[0]): {"label": row[0], "backend": row[1], "target": row[2], "options_json": row[3]} for row in rows}


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
