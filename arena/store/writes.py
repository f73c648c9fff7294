"""Every write to the arena's database, each in its own transaction: sessions, contestants and prompts,
generations with their flags, votes with their style differences, reasons and notes, imported battles and
fidelity measurements.

Free functions over a ``Store`` (the connection), as ``arena.store.queries`` is for reads: the handle stays
small, and a reading command never imports the write path. A vote or a generation is one transaction:
after a crash or ``kill -9`` the file holds every write that returned, and nothing half-written.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any, NamedTuple

import arena
from arena.store import migrations
from arena.store.connection import Store, new_uid, utc_now
from arena.store.queries import message_list
from arena.store.settings import SessionSettings
from arena.vocab import IMPORT_BACKEND, Verdict, as_verdict

if TYPE_CHECKING:
    import sqlite_utils

    from arena.analysis.flags import Counts, Flag
    from arena.backend import Contestant, GenerationParams, GenerationResult, Message
    from arena.engine.fidelity import FidelityRow
    from arena.formats.fastchat import ImportedBattle
    from arena.prompts import Prompt


def _last_id(table: sqlite_utils.db.Table) -> int:
    """The integer primary key of the row just inserted into ``table``."""
    assert table.last_pk is not None
    return int(table.last_pk)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _keep_prompt_version(db: sqlite_utils.Database, prompt: Mapping[str, Any]) -> None:
    """Remember this text of the prompt (a no-op when this exact version is already stored)."""
    db.table("prompt_versions").insert(
        {
            "prompt": prompt["id"],
            "digest": migrations.prompt_digest(prompt["text"], prompt["system"], prompt["constraints_json"]),
            "text": prompt["text"],
            "system": prompt["system"],
            "constraints_json": prompt["constraints_json"],
            "first_seen": utc_now(),
        },
        ignore=True,
    )


def _insert_session(db: sqlite_utils.Database, kind: str, judge: str | None, settings: SessionSettings) -> int:
    table = db.table("sessions")
    table.insert(
        {
            "kind": kind,
            "judge": judge,
            "settings_json": _json(settings.to_json()),
            "app_version": arena.__version__,
            "started": utc_now(),
            "uid": new_uid(),
        }
    )
    return _last_id(table)


def start_session(store: Store, kind: str, judge: str | None, settings: SessionSettings | None = None) -> int:
    """A run of ``arena batch`` or ``arena play``; generations and battles point to it."""
    with store.transaction() as db:
        return _insert_session(db, kind, judge, settings or SessionSettings())


def register(store: Store, contestants: Sequence[Contestant], prompts: Sequence[Prompt]) -> None:
    """Record the contestants and prompts of a run, keeping each contestant's first-seen time."""
    with store.transaction() as db:
        seen = {row["label"] for row in db.query("select label from contestants")}
        for contestant in contestants:
            row = {
                "label": contestant.label,
                "backend": contestant.backend,
                "target": contestant.target,
                "options_json": _json(dict(contestant.options)),
            }
            if contestant.label in seen:
                db.table("contestants").update(contestant.label, row)
            else:
                db.table("contestants").insert({**row, "first_seen": utc_now()})
        prompt_rows = [
            {
                "id": prompt.uid,
                "set": prompt.set,
                "category": prompt.category,
                "text": prompt.text,
                "system": prompt.system,
                "constraints_json": _json([dict(c) for c in prompt.constraints]),
            }
            for prompt in prompts
        ]
        db.table("prompts").upsert_all(prompt_rows, pk="id")
        for prompt_row in prompt_rows:
            _keep_prompt_version(db, prompt_row)


def record_generation(
    store: Store,
    *,
    session: int | None,
    contestant: str,
    prompt: str,
    messages: Sequence[Message],
    params: GenerationParams,
    result: GenerationResult,
    flags: Sequence[Flag] = (),
    counts: Counts | None = None,
    sample: int | None = None,
    recorded: Mapping[str, Any] | None = None,
) -> int:
    """Store one generation and its flags in one transaction and return its id. ``sample`` is its index
    among a batch's answers to the same prompt (``--samples``); ``recorded`` what the tool that made an
    imported answer recorded beside it (scores, its own sampling arguments)."""
    with store.transaction() as db:
        table = db.table("generations")
        table.insert(
            {
                "session": session,
                "contestant": contestant,
                "prompt": prompt,
                "messages_json": _json(list(messages)),
                "rendered_prompt": result.rendered_prompt,
                "chat_template": None if result.chat_template is None else int(result.chat_template),
                "params_json": _json(params.to_dict()),
                "output": result.text,
                "n_tokens": result.n_tokens,
                "finish_reason": result.finish_reason,
                "ttft_s": result.ttft_s,
                "tokens_per_s": result.tokens_per_s,
                "wall_s": result.wall_s,
                "peak_mem_bytes": result.peak_mem_bytes,
                "error": result.error,
                "created": utc_now(),
                "uid": new_uid(),
                "n_words": counts.words if counts else None,
                "n_chars": counts.characters if counts else None,
                "n_sentences": counts.sentences if counts else None,
                "n_headers": counts.headers if counts else None,
                "n_list_items": counts.list_items if counts else None,
                "n_bold": counts.bold if counts else None,
                "sample": sample,
                "served_json": _json(dict(result.served)) if result.served else None,
                "recorded_json": _json(dict(recorded)) if recorded else None,
            }
        )
        generation = _last_id(table)
        db.table("flags").insert_all(
            {
                "generation": generation,
                "name": flag.name,
                "hit": int(flag.hit),
                "score": flag.score,
                "evidence_json": _json(flag.evidence),
                "error": flag.error,
            }
            for flag in flags
        )
        return generation


def record_battle(
    store: Store,
    *,
    session: int | None,
    prompt: str,
    left_generation: int | None,
    right_generation: int | None,
    left_contestant: str,
    right_contestant: str,
    verdict: Verdict,
    judge: str | None,
    vote_s: float | None,
    auto: AutoVerdictRow | None = None,
    shown_probability: float | None = None,
) -> int:
    """Store one vote in its own transaction; it is durable once this returns. An automatic judge's vote
    (``auto:LABEL``) brings ``auto``, what each order said, stored in the same transaction;
    ``shown_probability``: the chance the session's design showed this battle (None: it shows every one)."""
    verdict = as_verdict(verdict)
    tstamp = time.time()
    with store.transaction() as db:
        table = db.table("battles")
        table.insert(
            {
                "session": session,
                "prompt": prompt,
                "left_generation": left_generation,
                "right_generation": right_generation,
                "left_contestant": left_contestant,
                "right_contestant": right_contestant,
                "verdict": verdict,
                "judge": judge,
                "vote_s": vote_s,
                "created": utc_now(tstamp),
                "tstamp": tstamp,
                "uid": new_uid(),
                "shown_probability": shown_probability,
            }
        )
        battle = _last_id(table)
        if auto is not None:
            db.table("auto_verdicts").insert(
                {
                    "battle": battle,
                    "judge_spec": auto.judge_spec,
                    "prompt_version": auto.prompt_version,
                    "consistent": int(auto.consistent),
                    "first_json": _json(dict(auto.first)),
                    "second_json": _json(dict(auto.second)),
                }
            )
        migrations.fill_battle_style(db.conn, [battle])
        return battle


class AutoVerdictRow(NamedTuple):
    """What an automatic judge's vote stores beside it (``auto_verdicts``): the judge's spec, the judge
    prompt's version, whether both orders agreed, and what each order said (``first``: the battle's left
    answer shown as A; ``second``: swapped)."""

    judge_spec: str
    prompt_version: str
    consistent: bool
    first: Mapping[str, Any]
    second: Mapping[str, Any]


def discard_generations(store: Store, generation_ids: Sequence[int]) -> None:
    """Mark answers the judge regenerated before voting: kept for the record, never in a battle."""
    with store.transaction() as db:
        db.conn.executemany("update generations set discarded = 1 where id = ?", [[i] for i in generation_ids])


def toggle_reason(store: Store, battle: int, contestant: str, reason: str) -> bool:
    """Add the reason to the battle for that contestant, or take it back if it is there; True when it
    is set afterwards. One transaction each, like a vote."""
    with store.transaction() as db:
        key = [battle, contestant, reason]
        present = db.execute(
            "select 1 from battle_reasons where battle = ? and contestant = ? and reason = ?", key
        ).fetchone()
        if present:
            db.execute("delete from battle_reasons where battle = ? and contestant = ? and reason = ?", key)
            return False
        db.table("battle_reasons").insert({"battle": battle, "contestant": contestant, "reason": reason})
        return True


def take_back(store: Store, battle: int, judge: str | None) -> None:
    """The judge takes their vote back: it stays stored, marked with when and by whom, and no longer counts."""
    with store.transaction() as db:
        db.execute(
            "update battles set taken_back_at = ?, taken_back_by = ? where id = ? and taken_back_at is null",
            [time.time(), judge, battle],
        )


def set_note(store: Store, battle: int, note: str | None) -> None:
    """The judge's free note on a battle (None clears it)."""
    with store.transaction() as db:
        db.execute("update battles set note = ? where id = ?", [note, battle])


IMPORT_CHUNK = 10_000
"""Battles written per transaction by an import: a crash loses at most one chunk, which importing the same
file again restores exactly (uids). Each commit writes every index page it touched to the write-ahead log,
and uids are random: at 2,000 a chunk a 200,000-battle vote-only import wrote 4 pages per battle; 10,000 a
chunk with ``IMPORT_CACHE_KIB`` took 26% less CPU (8.4 to 6.2 s)."""
IMPORT_CACHE_KIB = 262_144
"""SQLite's page cache while an import writes (its default is 2 MiB): the indexes on random uids of a large
file do not fit the default, and pages evicted were read back (3.5 page reads per battle at 200,000)."""


def import_battles(
    store: Store,
    battles: Sequence[ImportedBattle],
    *,
    source: str,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Write imported battles and return how many were new; ``on_progress`` gets the count read so far.

    A battle whose uid is already stored (the same record, or an exported arena battle) is skipped. The
    import's session is created with the first new battle, so an import that adds nothing leaves no
    empty session behind. Each chunk of ``IMPORT_CHUNK`` battles is one transaction of bulk statements, and
    the answers are counted and the votes' style differences filled in it, as for a recorded vote.
    """
    with _page_cache(store, IMPORT_CACHE_KIB):
        return _import_chunks(store, battles, source, on_progress)


@contextmanager
def _page_cache(store: Store, kib: int) -> Iterator[None]:
    """SQLite's page cache at ``kib`` for the block, then as it was (set through ``Store.rows``, under the
    store's lock)."""
    before = int(store.rows("PRAGMA cache_size")[0][0])
    store.rows(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        store.rows(f"PRAGMA cache_size = {before}")


def _import_chunks(
    store: Store, battles: Sequence[ImportedBattle], source: str, on_progress: Callable[[int], None] | None
) -> int:
    """``import_battles``, a chunk per transaction."""
    session: int | None = None
    added = 0
    seen: set[str] = set()
    known: _KnownPairs | None = None
    for start in range(0, len(battles), IMPORT_CHUNK):
        chunk = battles[start : start + IMPORT_CHUNK]
        with store.transaction() as db:
            uids = [battle.uid for battle in chunk]
            marks = ", ".join("?" for _ in uids)
            seen.update(row[0] for row in db.execute(f"select uid from battles where uid in ({marks})", uids))
            new = []
            for battle in chunk:
                if battle.uid not in seen:
                    seen.add(battle.uid)
                    new.append(battle)
            if new:
                if session is None:
                    session = _insert_session(db, "import", None, SessionSettings(source=source))
                if known is None:  # what the file held before, read once, before the import writes
                    known = _KnownPairs.read(db.conn, battles)
                _write_imported(db.conn, new, session=session, source=source, known=known)
                added += len(new)
        if on_progress is not None:
            on_progress(start + len(chunk))
    return added


def _write_imported(
    conn: sqlite3.Connection, battles: Sequence[ImportedBattle], *, session: int, source: str, known: _KnownPairs
) -> None:
    """Contestants, prompts, answers and votes of these imported battles, in bulk (inside a transaction)."""
    now = utc_now()
    _register_imported(conn, battles, source, now)
    answers = [
        [
            session,
            label,
            battle.question_id,
            _sent(conversation[:-1]),
            conversation[-1]["content"],
            now,
            f"{battle.uid}-{suffix}",
        ]
        for battle in battles
        for suffix, label, conversation in (
            ("a", battle.model_a, battle.conversation_a),
            ("b", battle.model_b, battle.conversation_b),
        )
        if conversation is not None
    ]
    keys = {str(answer[-1]): (str(answer[1]), str(answer[2]), str(answer[3]), str(answer[4])) for answer in answers}
    new, same_as, fresh = _attached(answers, known, keys)
    counted = {str(answer[-1]): migrations.answer_counts(str(answer[4])) for answer in new}
    conn.executemany(  # counted in hand and stored with the answers, as a recorded answer's are
        "insert into generations (session, contestant, prompt, messages_json, rendered_prompt, params_json, "
        "output, n_tokens, finish_reason, created, uid, n_words, n_chars, n_headers, n_list_items, n_bold) "
        "values (?, ?, ?, ?, '', '{}', ?, 0, 'stop', ?, ?, ?, ?, ?, ?, ?)",
        [[*answer, *counted[str(answer[-1])]] for answer in new],
    )
    inserted = _ids_by_uid(conn, "generations", [str(answer[-1]) for answer in new])
    generation_of = {uid: found if isinstance(found, int) else inserted[found] for uid, found in same_as.items()}
    known.remember(fresh, inserted)
    counts: dict[int, Sequence[object]] = {
        inserted[uid]: (None, words, headers, lists, bold)  # no token counts: imported answers have none
        for uid, (words, _chars, headers, lists, bold) in counted.items()
    }
    sides = [(generation_of.get(f"{battle.uid}-a"), generation_of.get(f"{battle.uid}-b")) for battle in battles]
    styles = _imported_styles(conn, sides, counts)
    conn.executemany(
        "insert into battles (session, prompt, left_generation, right_generation, left_contestant, "
        "right_contestant, verdict, judge, vote_s, created, tstamp, extra_json, uid, shown_probability, "
        f"{', '.join(migrations.STYLE_COLUMNS)}) values (?, ?, ?, ?, ?, ?, ?, ?, null, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                session,
                battle.question_id,
                left,
                right,
                battle.model_a,
                battle.model_b,
                battle.verdict,
                battle.judge,
                utc_now(battle.tstamp) if battle.tstamp is not None else now,
                battle.tstamp,
                json.dumps(battle.extra, ensure_ascii=False) if battle.extra else "{}",
                battle.uid,
                battle.shown_probability,
                *style,
            ]
            for battle, (left, right), style in zip(battles, sides, styles, strict=True)
        ],
    )


def _register_imported(conn: sqlite3.Connection, battles: Sequence[ImportedBattle], source: str, now: str) -> None:
    """The contestants and prompts (with their versions) of imported battles that the file lacks."""
    labels = dict.fromkeys(label for battle in battles for label in (battle.model_a, battle.model_b))
    conn.executemany(
        "insert or ignore into contestants (label, backend, target, options_json, first_seen) "
        "values (?, ?, ?, '{}', ?)",
        [[label, IMPORT_BACKEND, source, now] for label in labels],
    )
    prompts = {}
    for battle in battles:
        if battle.question_id not in prompts:
            category = battle.category or "imported"
            prompts[battle.question_id] = (category, battle.prompt_text)
    conn.executemany(
        'insert or ignore into prompts (id, "set", category, text, system, constraints_json) '
        "values (?, 'import', ?, ?, null, '[]')",
        [[prompt, category, text] for prompt, (category, text) in prompts.items()],
    )
    conn.executemany(
        "insert or ignore into prompt_versions (prompt, digest, text, system, constraints_json, first_seen) "
        "values (?, ?, ?, null, '[]', ?)",
        [[prompt, migrations.prompt_digest(text, None, "[]"), text, now] for prompt, (_, text) in prompts.items()],
    )


def _imported_styles(
    conn: sqlite3.Connection, sides: Sequence[tuple[int | None, int | None]], counts: dict[int, Sequence[object]]
) -> list[Sequence[float | None]]:
    """Each imported battle's style columns, from its answers' counts: those this import counted in hand,
    the rest (answers a record attached to) read from the file; all None where a side has no answer."""
    stored = {generation for pair in sides for generation in pair if generation is not None} - counts.keys()
    counted_here = not stored
    if stored:
        query = "select id, n_tokens, n_words, n_headers, n_list_items, n_bold from generations where id in ({marks})"
        counts = {**counts, **{row[0]: row[1:] for row in migrations.rows_in(conn, query, sorted(stored))}}
    paired = [
        (index, left, right) for index, (left, right) in enumerate(sides) if left is not None and right is not None
    ]
    values = migrations.style_values(
        [(counts[left], counts[right]) for _index, left, right in paired], counted_here=counted_here
    )
    styles: list[Sequence[float | None]] = [(None,) * len(migrations.STYLE_COLUMNS)] * len(sides)
    for (index, _left, _right), value in zip(paired, values, strict=True):
        styles[index] = value
    return styles


def _sent(messages: Sequence[Mapping[str, Any]]) -> str:
    """What an answer was sent, in the one form answers are compared in (role, then content; as an import
    stores its ``messages_json``, so an imported answer's key reuses that text instead of encoding twice)."""
    quoted = encode_basestring  # json.dumps's own text (its separators, ensure_ascii off), 4x faster here
    return (
        "["
        + ", ".join(
            f'{{"role": {quoted(str(m.get("role")))}, "content": {quoted(str(m.get("content")))}}}' for m in messages
        )
        + "]"
    )


def _answer_key(contestant: object, prompt: object, messages_json: object, output: object) -> AnswerKey:
    """What makes two stored answers the same answer: contestant, prompt, what it was sent, what it said."""
    stored = message_list(messages_json if isinstance(messages_json, str) else None)
    return str(contestant), str(prompt), _sent(stored), str(output)


AnswerKey = tuple[str, str, str, str]
"""What makes two stored answers the same answer (``_answer_key``)."""


@dataclass
class _KnownPairs:
    """Answer pairs stored as one battle's, by their two answers' keys, with the answers' generation ids:
    those in the file before the import, read once, and those the import stores, added as it goes (reading
    the stored conversations again for every chunk made a large import quadratic)."""

    pairs: dict[frozenset[AnswerKey], dict[AnswerKey, int]]

    @classmethod
    def read(cls, conn: sqlite3.Connection, battles: Sequence[ImportedBattle]) -> _KnownPairs:
        prompts = sorted({battle.question_id for battle in battles})
        said = {
            (label, battle.question_id, conversation[-1]["content"])
            for battle in battles
            for label, conversation in (
                (battle.model_a, battle.conversation_a),
                (battle.model_b, battle.conversation_b),
            )
            if conversation
        }
        keys: dict[int, AnswerKey] = {  # the full key only where contestant, prompt and text match
            int(row[4]): _answer_key(*row[:4])
            for row in migrations.rows_in(
                conn,
                "select contestant, prompt, messages_json, output, id from generations where prompt in ({marks})",
                prompts,
            )
            if (str(row[0]), str(row[1]), str(row[3])) in said
        }
        pairs: dict[frozenset[AnswerKey], dict[AnswerKey, int]] = {}
        for left, right in migrations.rows_in(
            conn,
            "select left_generation, right_generation from battles where prompt in ({marks}) "
            "and left_generation is not null and right_generation is not null",
            prompts,
        ):
            if left in keys and right in keys:
                pairs.setdefault(frozenset((keys[left], keys[right])), {keys[left]: int(left), keys[right]: int(right)})
        return cls(pairs)

    def remember(self, fresh: dict[frozenset[AnswerKey], dict[AnswerKey, str]], ids: dict[str, int]) -> None:
        """The pairs a chunk stored, by their new answers' generation ids (``ids``: by uid)."""
        for keyset, by_key in fresh.items():
            self.pairs.setdefault(keyset, {key: ids[uid] for key, uid in by_key.items()})


def _attached(
    answers: Sequence[list[object]], known: _KnownPairs, keys: dict[str, AnswerKey]
) -> tuple[list[list[object]], dict[str, int | str], dict[frozenset[AnswerKey], dict[AnswerKey, str]]]:
    """The imported answers to store, for each answer's uid the stored generation it is (an id) or the new
    one it is the same as (that one's uid), and the pairs this chunk adds. A record whose two answers (same
    contestants, prompt, conversations) are a pair already stored as one battle's, or an earlier record's in
    this import (a person's vote and an automatic judge's verdict exported apart), attaches to that pair: one
    battle judged twice, not two copies of the answers. Answers that merely repeat (a model answering the
    same question the same way in two battles) stay two samples."""
    new: list[list[object]] = []
    same_as: dict[str, int | str] = {}
    fresh: dict[frozenset[AnswerKey], dict[AnswerKey, str]] = {}
    by_record: dict[str, list[list[object]]] = {}
    for answer in answers:
        by_record.setdefault(str(answer[-1]).rsplit("-", 1)[0], []).append(answer)
    for record in by_record.values():
        record_keys = [keys[str(answer[-1])] for answer in record]
        keyset = frozenset(record_keys)
        pair = len(record) == 2 and len(keyset) == 2
        stored = known.pairs.get(keyset) if pair else None
        if stored is not None:
            for key, answer in zip(record_keys, record, strict=True):
                same_as[str(answer[-1])] = stored[key]
            continue
        earlier = fresh.get(keyset) if pair else None
        if earlier is None:
            new.extend(record)
            earlier = {key: str(answer[-1]) for key, answer in zip(record_keys, record, strict=True)}
            if pair:
                fresh[keyset] = earlier
        for key, answer in zip(record_keys, record, strict=True):
            same_as[str(answer[-1])] = earlier[key]
    return new, same_as, fresh


def _ids_by_uid(conn: sqlite3.Connection, table: str, uids: Sequence[str]) -> dict[str, int]:
    """The row ids of ``uids`` in ``table`` (uid is unique and indexed there)."""
    return dict(migrations.rows_in(conn, f"select uid, id from {table} where uid in ({{marks}})", uids))


def record_fidelity(
    store: Store,
    row: FidelityRow,
    *,
    reference_spec: str,
    contestant_spec: str,
    prompt_set: str,
    prompts: int,
    max_tokens: int,
) -> int:
    """Store one candidate's fidelity to a reference (per-prompt numbers and worst positions as JSON)."""
    with store.transaction() as db:
        table = db.table("fidelity")
        table.insert(
            {
                "created": utc_now(),
                "reference": row.reference,
                "reference_spec": reference_spec,
                "contestant": row.contestant,
                "contestant_spec": contestant_spec,
                "prompt_set": prompt_set,
                "prompts": prompts,
                "max_tokens": max_tokens,
                "tokens": row.tokens,
                "top1_agreement": row.top1_agreement,
                "mean_kld": row.mean_kld,
                "p99_kld": row.p99_kld,
                "max_kld": row.max_kld,
                "reference_ppl": row.reference_ppl,
                "candidate_ppl": row.candidate_ppl,
                "seconds": row.seconds,
                "details_json": _json({key: row.to_dict()[key] for key in ("per_prompt", "worst")}),
                "uid": new_uid(),
            }
        )
        return _last_id(table)
