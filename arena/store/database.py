"""The arena's SQLite file: opening it safely and writing to it one transaction at a time.

Owns the connection, migrations on open, and every write (sessions, contestants, prompts, generations with
their flags, battles, imported battles). Read queries live in ``arena.store.queries``, merging in
``arena.store.merge``; no SQL is written outside ``arena/store/``.

WAL mode lets a reader (Datasette, ``arena report``) look while the arena writes. Every write takes the
write lock up front (``BEGIN IMMEDIATE``), so two processes appending to one file wait for each other
instead of failing with "database is locked" when a read lock cannot be upgraded. Each vote or generation
is one transaction: after a crash or ``kill -9`` the file holds every write that returned, and nothing
half-written.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arena import __version__
from arena.store import migrations
from arena.store.faults import StoreError, check_file, describe, translated, verify
from arena.verdicts import Verdict, as_verdict

if TYPE_CHECKING:  # annotations only: reading commands must not pay for importing the flags or prompts
    import sqlite_utils

    from arena.backend import Contestant, GenerationParams, GenerationResult, Message
    from arena.fastchat import ImportedBattle
    from arena.fidelity import FidelityRow
    from arena.flags import Counts, Flag
    from arena.prompts import Prompt

BUSY_TIMEOUT_S = 30.0


def busy_timeout() -> float:
    """How long a write waits for another process's lock: ``ARENA_BUSY_TIMEOUT`` seconds, else 30."""
    text = os.environ.get("ARENA_BUSY_TIMEOUT")
    if not text:
        return BUSY_TIMEOUT_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 86_400:
        raise StoreError(f"ARENA_BUSY_TIMEOUT={text!r}: expected seconds between 0 and 86400")
    return seconds


def utc_now(tstamp: float | None = None) -> str:
    """An ISO 8601 UTC time (now, or of a Unix timestamp) as stored in ``created`` columns."""
    moment = datetime.now(timezone.utc) if tstamp is None else datetime.fromtimestamp(tstamp, timezone.utc)
    return moment.isoformat(timespec="microseconds")


def new_uid() -> str:
    return uuid.uuid4().hex


def _retry_while_locked(step: Callable[[], None], deadline_s: float = BUSY_TIMEOUT_S) -> None:
    """Run ``step``, retrying while another process holds the database.

    Switching a fresh file to WAL needs an exclusive lock, and SQLite may answer "database is locked" there
    at once instead of calling the busy handler, so two processes opening a new file together need this.
    """
    deadline = time.monotonic() + deadline_s
    pause = 0.01
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            locked = "locked" in str(exc) or "busy" in str(exc)
            if not locked or time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.5)


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


def _insert_session(db: sqlite_utils.Database, kind: str, judge: str | None, settings: Mapping[str, Any]) -> int:
    table = db.table("sessions")
    table.insert(
        {
            "kind": kind,
            "judge": judge,
            "settings_json": _json(settings),
            "app_version": __version__,
            "started": utc_now(),
            "uid": new_uid(),
        }
    )
    return _last_id(table)


class Store:
    """One open arena database. Safe to share between threads: writes and reads are serialized.

    ``read_only`` opens the file without ever writing to it (reports, exports, the leaderboard): a file
    an older version wrote is migrated in a private in-memory copy, never in place.
    """

    def __init__(self, path: Path | str, *, read_only: bool = False, busy_timeout_s: float | None = None) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.busy_timeout_s = busy_timeout() if busy_timeout_s is None else busy_timeout_s
        self._lock = threading.RLock()
        self._db: sqlite_utils.Database | None = None
        self._check: threading.Thread | None = None
        self._damage: str | None = None
        if read_only:
            self._open_read_only()
        else:
            self._open_for_writing()

    @property
    def db(self) -> sqlite_utils.Database:
        """The sqlite-utils view of the connection, made on first use: reading commands that only query
        never pay for importing sqlite-utils (a tenth of a second)."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    def _open_for_writing(self) -> None:
        if str(self.path) != ":memory:":
            if self.path.is_dir():
                raise StoreError(f"--db {self.path}: is a directory, expected a database file")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"--db {self.path}: cannot create its directory: {exc}") from None
            if self.path.exists() and not os.access(self.path, os.W_OK):
                raise StoreError(describe(sqlite3.OperationalError("readonly"), self.path, self.busy_timeout_s))
        with translated(self.path, self.busy_timeout_s):
            conn = sqlite3.connect(str(self.path), timeout=self.busy_timeout_s, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
            check_file(conn, migrations.names(), self.path)
            verify(conn)  # before anything is written into a damaged file
            self.conn = conn
            _retry_while_locked(lambda: self._prepare(conn), self.busy_timeout_s)

    def _open_read_only(self) -> None:
        """Open without writing: ``mode=ro``, or ``immutable`` where even the WAL index cannot be created
        (a read-only directory). Known-old schemas are migrated in an in-memory copy.

        The file's quick check runs on a second connection in a thread, beside the caller's queries (it
        costs 0.2 s on a 250 MB file, a fifth of a leaderboard); ``close`` waits for it and raises
        ``StoreError`` if the file is damaged, so a reading command never prints results from one.
        """
        uri = self.path.resolve().as_uri()
        conn: sqlite3.Connection | None = None
        with translated(self.path, self.busy_timeout_s):
            for mode in ("mode=ro", "immutable=1"):
                try:
                    conn = sqlite3.connect(f"{uri}?{mode}", uri=True, check_same_thread=False)
                    conn.execute("select count(*) from sqlite_master").fetchone()
                    break
                except sqlite3.OperationalError as exc:
                    if "unable to open" not in str(exc) and "readonly" not in str(exc):
                        raise
                    conn = None
            if conn is None:
                raise sqlite3.OperationalError("unable to open database file")
            applied = check_file(conn, migrations.names(), self.path)
            self._check = threading.Thread(target=self._verify_copy, args=(f"{uri}?{mode}",), daemon=True)
            self._check.start()
            self.conn = conn
            if set(migrations.names()) - applied:
                self.conn = sqlite3.connect(":memory:", check_same_thread=False)
                conn.backup(self.conn)
                conn.close()
                with self.transaction():
                    migrations.apply(self.db)
            self.conn.execute("PRAGMA query_only = ON")

    def _verify_copy(self, uri: str) -> None:
        """The quick check of a read-only file, on its own connection (see ``_open_read_only``)."""
        try:
            checker = sqlite3.connect(uri, uri=True)
            try:
                verify(checker)
            finally:
                checker.close()
        except sqlite3.Error as exc:
            self._damage = describe(exc, self.path, self.busy_timeout_s)

    def _prepare(self, conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        with self.transaction():
            migrations.apply(self.db)

    def close(self) -> None:
        """Close the file; for a read-only store, first wait for its quick check and raise ``StoreError``
        if it found the file damaged."""
        with self._lock:
            self.conn.close()
        if self._check is not None:
            self._check.join()
            self._check = None
            if self._damage is not None:
                raise StoreError(self._damage)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """One write transaction holding the write lock from its start; sqlite-utils calls nest inside.

        A SQLite failure inside (disk full, busy, damaged) rolls it back and raises ``StoreError``.
        """
        with self._lock, translated(self.path, self.busy_timeout_s):
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def rows(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read query as plain tuples: for reads of 100,000 rows, where building a dict per row
        costs more than the query itself."""
        with self._lock, translated(self.path, self.busy_timeout_s):
            return self.conn.execute(sql, params).fetchall()

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[dict[str, Any]]:
        """Rows of a read query as dicts."""
        with self._lock, translated(self.path, self.busy_timeout_s):
            cursor = self.conn.execute(sql, dict(params) if isinstance(params, Mapping) else params)
            names = [column[0] for column in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # ------------------------------------------------------------------ writes

    def start_session(self, kind: str, judge: str | None, settings: Mapping[str, Any]) -> int:
        """A run of ``arena batch`` or ``arena play``; generations and battles point to it."""
        with self.transaction() as db:
            return _insert_session(db, kind, judge, settings)

    def register(self, contestants: Sequence[Contestant], prompts: Sequence[Prompt]) -> None:
        """Record the contestants and prompts of a run, keeping each contestant's first-seen time."""
        with self.transaction() as db:
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
        self,
        *,
        session: int | None,
        contestant: str,
        prompt: str,
        messages: Sequence[Message],
        params: GenerationParams,
        result: GenerationResult,
        flags: Sequence[Flag] = (),
        counts: Counts | None = None,
    ) -> int:
        """Store one generation and its flags in one transaction and return its id."""
        with self.transaction() as db:
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
        self,
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
    ) -> int:
        """Store one vote in its own transaction; it is durable once this returns."""
        verdict = as_verdict(verdict)
        tstamp = time.time()
        with self.transaction() as db:
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
                }
            )
            battle = _last_id(table)
            db.execute(migrations.BATTLE_STYLE_SQL + " where id = ?", [battle])
            return battle

    def discard_generations(self, generation_ids: Sequence[int]) -> None:
        """Mark answers the judge regenerated before voting: kept for the record, never in a battle."""
        with self.transaction() as db:
            db.conn.executemany("update generations set discarded = 1 where id = ?", [[i] for i in generation_ids])

    def toggle_reason(self, battle: int, contestant: str, reason: str) -> bool:
        """Add the reason to the battle for that contestant, or take it back if it is there; True when it
        is set afterwards. One transaction each, like a vote."""
        with self.transaction() as db:
            key = [battle, contestant, reason]
            present = db.execute(
                "select 1 from battle_reasons where battle = ? and contestant = ? and reason = ?", key
            ).fetchone()
            if present:
                db.execute("delete from battle_reasons where battle = ? and contestant = ? and reason = ?", key)
                return False
            db.table("battle_reasons").insert({"battle": battle, "contestant": contestant, "reason": reason})
            return True

    def set_note(self, battle: int, note: str | None) -> None:
        """The judge's free note on a battle (None clears it)."""
        with self.transaction() as db:
            db.execute("update battles set note = ? where id = ?", [note, battle])

    def import_battles(self, battles: Sequence[ImportedBattle], *, source: str) -> int:
        """Write imported battles, each in its own transaction, and return how many were new.

        A battle whose uid is already stored (the same record, or an exported arena battle) is skipped. The
        import's session is created with the first new battle, so an import that adds nothing leaves no
        empty session behind.
        """
        session: int | None = None
        added = 0
        for battle in battles:
            with self.transaction() as db:
                if db.execute("select 1 from battles where uid = ?", [battle.uid]).fetchone():
                    continue
                if session is None:
                    session = _insert_session(db, "import", None, {"source": source})
                self._write_imported(db, battle, session=session, source=source)
                added += 1
        return added

    def _write_imported(self, db: sqlite_utils.Database, battle: ImportedBattle, *, session: int, source: str) -> None:
        """Contestants, prompt, both generations and the vote of one imported battle (inside a transaction)."""
        now = utc_now()
        for label in (battle.model_a, battle.model_b):
            db.table("contestants").insert(
                {"label": label, "backend": "import", "target": source, "options_json": "{}", "first_seen": now},
                ignore=True,
            )
        prompt = {
            "id": battle.question_id,
            "set": "import",
            "category": str(battle.extra.get("category", "imported")),
            "text": battle.prompt_text,
            "system": None,
            "constraints_json": "[]",
        }
        db.table("prompts").insert(prompt, ignore=True)
        _keep_prompt_version(db, prompt)
        generation_ids: list[int | None] = []
        for suffix, label, conversation in (
            ("a", battle.model_a, battle.conversation_a),
            ("b", battle.model_b, battle.conversation_b),
        ):
            if conversation is None:
                generation_ids.append(None)
                continue
            table = db.table("generations")
            table.insert(
                {
                    "session": session,
                    "contestant": label,
                    "prompt": battle.question_id,
                    "messages_json": json.dumps(list(conversation[:-1]), ensure_ascii=False),
                    "rendered_prompt": "",
                    "params_json": "{}",
                    "output": conversation[-1]["content"],
                    "n_tokens": 0,
                    "finish_reason": "stop",
                    "created": now,
                    "uid": f"{battle.uid}-{suffix}",
                }
            )
            generation_ids.append(_last_id(table))
        db.table("battles").insert(
            {
                "session": session,
                "prompt": battle.question_id,
                "left_generation": generation_ids[0],
                "right_generation": generation_ids[1],
                "left_contestant": battle.model_a,
                "right_contestant": battle.model_b,
                "verdict": battle.verdict,
                "judge": battle.judge,
                "vote_s": None,
                "created": utc_now(battle.tstamp) if battle.tstamp is not None else now,
                "tstamp": battle.tstamp,
                "extra_json": json.dumps(battle.extra, ensure_ascii=False),
                "uid": battle.uid,
            }
        )

    def record_fidelity(
        self,
        row: FidelityRow,
        *,
        reference_spec: str,
        contestant_spec: str,
        prompt_set: str,
        prompts: int,
        max_tokens: int,
    ) -> int:
        """Store one candidate's fidelity to a reference (per-prompt numbers and worst positions as JSON)."""
        with self.transaction() as db:
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

    # ------------------------------------------------------------------ reads

    def battle_counts(self) -> dict[frozenset[str], int]:
        """How often each unordered pair of contestants has met (skips included: they cost a prompt)."""
        counts: dict[frozenset[str], int] = {}
        for row in self.query(
            "select left_contestant as a, right_contestant as b, count(*) as n from battles group by a, b"
        ):
            pair = frozenset((row["a"], row["b"]))
            counts[pair] = counts.get(pair, 0) + int(row["n"])
        return counts

    def integrity(self) -> str:
        """SQLite's full integrity check: "ok", or the first problems it lists (for ``arena doctor``)."""
        problems = [row["integrity_check"] for row in self.query("PRAGMA integrity_check(5)")]
        return "ok" if problems == ["ok"] else "; ".join(problems)

    def table_counts(self) -> dict[str, int]:
        names = ("contestants", "prompts", "sessions", "generations", "flags", "battles", "battle_reasons", "fidelity")
        return {name: int(self.query(f"select count(*) as n from {name}")[0]["n"]) for name in names}
