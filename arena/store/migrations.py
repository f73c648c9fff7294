"""Named schema migrations, applied in order on every open and recorded in ``_migrations``.

Append new migrations at the end; never edit or reorder one that has shipped, because databases in the
wild remember them by name.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite_utils

Migration = tuple[str, Callable[["sqlite_utils.Database"], None]]


def _initial_schema(db: sqlite_utils.Database) -> None:
    """``0001_initial``: contestants, prompts, sessions, generations with their flags, battles."""
    db.table("contestants").create(
        {"label": str, "backend": str, "target": str, "options_json": str, "first_seen": str},
        pk="label",
    )
    db.table("prompts").create(
        {"id": str, "set": str, "category": str, "text": str, "system": str, "constraints_json": str},
        pk="id",
    )
    db.table("sessions").create(
        {
            "id": int,
            "kind": str,
            "judge": str,
            "settings_json": str,
            "app_version": str,
            "started": str,
        },
        pk="id",
    )
    _initial_generations(db)
    _initial_battles(db)


def _initial_generations(db: sqlite_utils.Database) -> None:
    """Part of ``0001_initial``: the answers and their flags."""
    db.table("generations").create(
        {
            "id": int,
            "session": int,
            "contestant": str,
            "prompt": str,
            "messages_json": str,
            "rendered_prompt": str,
            "chat_template": int,
            "params_json": str,
            "output": str,
            "n_tokens": int,
            "finish_reason": str,
            "ttft_s": float,
            "tokens_per_s": float,
            "wall_s": float,
            "peak_mem_bytes": int,
            "error": str,
            "created": str,
        },
        pk="id",
        foreign_keys=[
            ("session", "sessions", "id"),
            ("contestant", "contestants", "label"),
            ("prompt", "prompts", "id"),
        ],
        not_null={"contestant", "prompt", "output", "n_tokens", "finish_reason", "created"},
    )
    db.table("generations").create_index(["contestant", "prompt"])
    db.table("generations").create_index(["session"])
    db.table("flags").create(
        {"id": int, "generation": int, "name": str, "hit": int, "score": float, "evidence_json": str},
        pk="id",
        foreign_keys=[("generation", "generations", "id")],
        not_null={"generation", "name", "hit"},
    )
    db.table("flags").create_index(["generation"])
    db.table("flags").create_index(["name", "hit"])


def _initial_battles(db: sqlite_utils.Database) -> None:
    """Part of ``0001_initial``: the votes."""
    db.table("battles").create(
        {
            "id": int,
            "session": int,
            "prompt": str,
            "left_generation": int,
            "right_generation": int,
            "left_contestant": str,
            "right_contestant": str,
            "verdict": str,
            "judge": str,
            "vote_s": float,
            "created": str,
        },
        pk="id",
        foreign_keys=[
            ("session", "sessions", "id"),
            ("prompt", "prompts", "id"),
            ("left_generation", "generations", "id"),
            ("right_generation", "generations", "id"),
            ("left_contestant", "contestants", "label"),
            ("right_contestant", "contestants", "label"),
        ],
        not_null={"left_contestant", "right_contestant", "verdict", "created"},
    )
    db.table("battles").create_index(["left_contestant", "right_contestant"])


def _uids_and_timestamps(db: sqlite_utils.Database) -> None:
    """Stable ids so databases can be merged and imports repeated without duplicates; exact vote times.

    ``uid`` identifies a session, generation or battle across files. ``tstamp`` (Unix seconds) keeps a
    FastChat battle's timestamp bit-exact through import and export. ``extra_json`` keeps fields of an
    imported record that the arena has no column for, so exporting it again loses nothing.
    """
    for name in ("sessions", "generations", "battles"):
        table = db.table(name)
        table.add_column("uid", str)
        db.execute(f"update [{name}] set uid = lower(hex(randomblob(16))) where uid is null")
        table.create_index(["uid"], unique=True)
    battles = db.table("battles")
    battles.add_column("tstamp", float)
    battles.add_column("extra_json", str)
    db.execute("update battles set tstamp = (julianday(created) - 2440587.5) * 86400.0 where tstamp is null")
    battles.create_index(["tstamp"])


def _generation_counts(db: sqlite_utils.Database) -> None:
    """Words, characters and sentences beside the token count, for length constraints and reports."""
    table = db.table("generations")
    for column in ("n_words", "n_chars", "n_sentences"):
        table.add_column(column, int)


def _flag_errors(db: sqlite_utils.Database) -> None:
    """A detector or checker that raised is stored as a flag with its error, never as a lost answer."""
    db.table("flags").add_column("error", str)


def _prompt_versions(db: sqlite_utils.Database) -> None:
    """Every text a prompt id has had, keyed by a hash of its content: editing a prompt file (or importing
    another text under the same id) updates ``prompts`` but never loses what earlier battles were asked."""
    db.table("prompt_versions").create(
        {"prompt": str, "digest": str, "text": str, "system": str, "constraints_json": str, "first_seen": str},
        pk=("prompt", "digest"),
    )
    for row in list(db.query("select id, text, system, constraints_json from prompts")):
        db.table("prompt_versions").insert(
            {
                "prompt": row["id"],
                "digest": prompt_digest(row["text"], row["system"], row["constraints_json"]),
                "text": row["text"],
                "system": row["system"],
                "constraints_json": row["constraints_json"],
                "first_seen": datetime.now(timezone.utc).isoformat(),
            },
            ignore=True,
        )


def _fidelity(db: sqlite_utils.Database) -> None:
    """``arena fidelity`` results: one row per candidate per run, beside the votes for the same labels."""
    db.table("fidelity").create(
        {
            "id": int,
            "created": str,
            "reference": str,
            "reference_spec": str,
            "contestant": str,
            "contestant_spec": str,
            "prompt_set": str,
            "prompts": int,
            "max_tokens": int,
            "tokens": int,
            "top1_agreement": float,
            "mean_kld": float,
            "p99_kld": float,
            "max_kld": float,
            "reference_ppl": float,
            "candidate_ppl": float,
            "seconds": float,
            "details_json": str,
            "uid": str,
        },
        pk="id",
    )
    db.table("fidelity").create_index(["contestant", "reference"])
    db.table("fidelity").create_index(["uid"], unique=True)


def _style_counts(db: sqlite_utils.Database) -> None:
    """Markdown headers, list items and bold spans per generation, for style control without re-reading
    every output (older rows stay NULL and are counted from their text when needed)."""
    table = db.table("generations")
    for column in ("n_headers", "n_list_items", "n_bold"):
        table.add_column(column, int)


def _reasons(db: sqlite_utils.Database) -> None:
    """Why a judge voted as they did (one-key tags after the vote, per contestant) and a free note."""
    db.table("battle_reasons").create(
        {"battle": int, "contestant": str, "reason": str},
        pk=("battle", "contestant", "reason"),
        foreign_keys=[("battle", "battles", "id")],
    )
    db.table("battles").add_column("note", str)


def _discarded(db: sqlite_utils.Database) -> None:
    """Answers the judge asked to regenerate before voting: kept, marked, never part of a vote."""
    db.table("generations").add_column("discarded", int)


STYLE_COLUMNS = ("style_tokens", "style_words", "style_headers", "style_lists", "style_bold")
"""A battle's raw style differences (left - right) / (left + right + 1), fixed at the vote: length in
tokens (NULL unless both answers have token counts) and in words, headers, list items, bold spans."""


_STYLE_COUNTS = (
    "select b.id, gl.n_tokens, gr.n_tokens, gl.n_words, gr.n_words, gl.n_headers, gr.n_headers, "
    "gl.n_list_items, gr.n_list_items, gl.n_bold, gr.n_bold from battles b "
    "join generations gl on gl.id = b.left_generation join generations gr on gr.id = b.right_generation"
)


IN_BATCH = 500
"""Values bound per ``in (...)`` list: well within SQLite's limit on bound parameters."""


def rows_in(conn: sqlite3.Connection, sql: str, values: Sequence[Any]) -> list[Any]:
    """The rows of ``sql`` for ``values``, whose ``{marks}`` placeholder becomes an ``in`` list, in batches."""
    found: list[Any] = []
    listed = list(values)
    for start in range(0, len(listed), IN_BATCH):
        part = listed[start : start + IN_BATCH]
        found += conn.execute(sql.format(marks=", ".join("?" for _ in part)), part).fetchall()
    return found


def _count(value: object) -> float:
    """A stored count as a float; NaN (no count) for NULL or what a merged file put there (text, negatives,
    infinities)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return float("nan")
    return float(value)


def fill_battle_style(conn: sqlite3.Connection, battle_ids: Sequence[int] | None = None) -> None:
    """Fill the style columns of these battles (all, when None) from their two answers' stored counts (see
    ``style_values``). Inside the caller's transaction."""
    if battle_ids is None:
        rows = conn.execute(_STYLE_COUNTS).fetchall()
    else:
        rows = rows_in(conn, _STYLE_COUNTS + " where b.id in ({marks})", battle_ids)
    if not rows:
        return
    values = style_values([(counts[0::2], counts[1::2]) for _battle, *counts in rows])
    conn.executemany(
        "update battles set " + ", ".join(f"{column} = ?" for column in STYLE_COLUMNS) + " where id = ?",
        [[*row, battle] for row, (battle, *_counts) in zip(values, rows, strict=True)],
    )


AnswerCounts = Sequence[object]
"""One answer's (tokens, words, headers, list items, bold spans), as stored (NULL, or anything a merged file
put there, is no count)."""


def style_values(
    pairs: Sequence[tuple[AnswerCounts, AnswerCounts]], *, counted_here: bool = False
) -> list[list[float | None]]:
    """The style columns of battles from their (left, right) answers' counts, with
    ``arena.analysis.style_counts.style_difference``, the one formula: None where a count is missing, and
    the token length only where both answers have a token count. ``counted_here``: every count is an int or
    None that this code counted (an import's), read as it is instead of checked one by one as a file's are.
    Plain floats, no numpy: an import fills every vote's style and should not pay for importing it."""
    from arena.analysis.style_counts import style_difference  # noqa: PLC0415

    values = []
    for left_counts, right_counts in pairs:
        if counted_here:
            a = [math.nan if value is None else float(value) for value in left_counts]  # type: ignore[arg-type]
            b = [math.nan if value is None else float(value) for value in right_counts]  # type: ignore[arg-type]
        else:
            a, b = [_count(value) for value in left_counts], [_count(value) for value in right_counts]
        if not (a[0] > 0 and b[0] > 0):  # tokens unknown (or 0) on a side: no token length
            a[0] = b[0] = math.nan
        row = [style_difference(x, y) for x, y in zip(a, b, strict=True)]
        values.append([None if value != value else value for value in row])
    return values


def _battle_style(db: sqlite_utils.Database) -> None:
    """Style differences stored with each vote, so style control reads them with the votes (no join)."""
    table = db.table("battles")
    for column in STYLE_COLUMNS:
        table.add_column(column, float)
    fill_battle_style(db.conn)


def _samples(db: sqlite_utils.Database) -> None:
    """Which of a batch's K answers per contestant and prompt a generation is (``arena batch --samples``)."""
    db.table("generations").add_column("sample", int)


_UNCOUNTED = "select id, output from generations where n_headers is null and output is not null"


def fill_answer_counts(conn: sqlite3.Connection, generation_ids: Sequence[int] | None = None) -> list[int]:
    """Count the answers stored without their counts (imported, merged from such a file, or older than the
    counts): words, characters, headers, list items, bold spans, by the rules a recorded answer is counted
    with (``analysis.flags.count``), so style control reads numbers instead of re-reading every text on
    every run. Sentences stay uncounted (NULL): nothing reads them for an answer that was not generated
    here, and they would double the cost. ``generation_ids`` limits it to those rows (None: every
    uncounted one). Inside the caller's transaction; returns the ids counted."""
    if generation_ids is None:
        rows = conn.execute(_UNCOUNTED).fetchall()
    else:
        rows = rows_in(conn, _UNCOUNTED + " and id in ({marks})", generation_ids)
    store_answer_counts(conn, rows)
    return [row[0] for row in rows]


def store_answer_counts(conn: sqlite3.Connection, answers: Sequence[tuple[int, object]]) -> None:
    """Count (generation id, text) pairs and store the counts (``fill_answer_counts``' rules)."""
    updates = [[*answer_counts(str(output)), generation] for generation, output in answers]
    conn.executemany(
        "update generations set n_words = ?, n_chars = ?, n_headers = ?, n_list_items = ?, n_bold = ? where id = ?",
        updates,
    )


def answer_counts(text: str) -> tuple[int, int, int, int, int]:
    """An answer's stored counts: (words, characters, headers, list items, bold spans), the columns
    ``n_words, n_chars, n_headers, n_list_items, n_bold``; an import counts the texts it has in hand and
    stores them with the answers."""
    from arena.analysis.flags.text import words  # noqa: PLC0415  # the text rules: only where answers are counted
    from arena.analysis.style_counts import markdown_counts  # noqa: PLC0415

    return (len(words(text)), len(text), *markdown_counts(text))


def _counted_imports(db: sqlite_utils.Database) -> None:
    """Once per file: count the answers that were stored without counts (imports before this version), and
    fill their battles' style differences, so style control on imported battles is as fast as on recorded
    ones (it re-read every text on every run: 10x slower)."""
    fill_answer_counts(db.conn)
    fill_battle_style(db.conn, _battles_without_style(db.conn))


def _battles_without_style(conn: sqlite3.Connection) -> list[int]:
    return [
        row[0]
        for row in conn.execute(
            "select id from battles where style_words is null and left_generation is not null "
            "and right_generation is not null"
        )
    ]


def _taken_back(db: sqlite_utils.Database) -> None:
    """A vote its judge took back (``u``): kept, with when and by whom, and left out of every reading of the
    votes (ratings, judges, exports), so the latest word of the judge counts and nothing is lost."""
    table = db.table("battles")
    table.add_column("taken_back_at", float)
    table.add_column("taken_back_by", str)


def _served(db: sqlite_utils.Database) -> None:
    """What an engine said it ran for each answer (model id, ``system_fingerprint``), as JSON: answers made on
    several machines and merged say which build made them (issue 22)."""
    db.table("generations").add_column("served_json", str)


def _auto_verdicts(db: sqlite_utils.Database) -> None:
    """An automatic judge's verdict in both orders (``arena autojudge``), beside its vote in ``battles``
    (judge ``auto:LABEL``): the probabilities or the reply of each order, whether they agreed, and the judge
    prompt's version."""
    db.table("auto_verdicts").create(
        {
            "battle": int,
            "judge_spec": str,
            "prompt_version": str,
            "consistent": int,
            "first_json": str,
            "second_json": str,
        },
        pk="battle",
        foreign_keys=[("battle", "battles", "id")],
    )


def _shown_probability(db: sqlite_utils.Database) -> None:
    """The chance a person's session showed this battle (``--pairing judge-uncertain`` shows the battles an
    automatic judge is sure of less often): the assisted board weighs the vote by one over it. Null: every
    battle of its session was shown."""
    db.table("battles").add_column("shown_probability", float)


def _recorded(db: sqlite_utils.Database) -> None:
    """What the tool that made an imported answer recorded beside it, as JSON (``arena import-answers``):
    the scores it gave, its sampling arguments as it named them, its version. Null for the arena's own."""
    db.table("generations").add_column("recorded_json", str)


def prompt_digest(text: str | None, system: str | None, constraints_json: str | None) -> str:
    """What identifies one version of a prompt: its text, system prompt and constraints."""
    content = json.dumps([text, system, constraints_json], ensure_ascii=False)
    return hashlib.sha256(content.encode()).hexdigest()[:16]


MIGRATIONS: list[Migration] = [
    ("0001_initial", _initial_schema),
    ("0002_uids_and_timestamps", _uids_and_timestamps),
    ("0003_generation_counts", _generation_counts),
    ("0004_flag_errors", _flag_errors),
    ("0005_prompt_versions", _prompt_versions),
    ("0006_fidelity", _fidelity),
    ("0007_style_counts", _style_counts),
    ("0008_reasons", _reasons),
    ("0009_discarded", _discarded),
    ("0010_battle_style", _battle_style),
    ("0011_samples", _samples),
    ("0012_counted_imports", _counted_imports),
    ("0013_taken_back", _taken_back),
    ("0014_served", _served),
    ("0015_auto_verdicts", _auto_verdicts),
    ("0016_shown_probability", _shown_probability),
    ("0017_recorded", _recorded),
]


def names() -> list[str]:
    """This version's migrations, oldest first: a file recording any other name was written by a newer one."""
    return [name for name, _ in MIGRATIONS]


def pending(db: sqlite_utils.Database) -> list[Migration]:
    if not db.table("_migrations").exists():
        return list(MIGRATIONS)
    applied = {row["name"] for row in db.table("_migrations").rows}
    return [migration for migration in MIGRATIONS if migration[0] not in applied]


def apply(db: sqlite_utils.Database) -> list[str]:
    """Apply what is missing. The caller holds a write transaction, so two processes never race here."""
    if not db.table("_migrations").exists():
        db.table("_migrations").create({"name": str, "applied": str}, pk="name")
    done = []
    for name, migrate in pending(db):
        migrate(db)
        db.table("_migrations").insert({"name": name, "applied": datetime.now(timezone.utc).isoformat()})
        done.append(name)
    return done
