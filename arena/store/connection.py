"""The arena's SQLite file: opening it safely, one transaction at a time, and reading rows from it.

Owns the connection (``Store``), migrations on open, transactions and the two ways rows come back. Writes
live in ``arena.store.writes``, reads in ``arena.store.queries``, merging in ``arena.store.merge``; no SQL is
written outside ``arena/store/``.

WAL mode lets a reader (Datasette, ``arena report``) look while the arena writes. Every write takes the
write lock up front (``BEGIN IMMEDIATE``), so two processes appending to one file wait for each other
instead of failing with "database is locked" when a read lock cannot be upgraded. Each vote or generation
is one transaction: after a crash or ``kill -9`` the file holds every write that returned, and nothing
half-written.
"""

from __future__ import annotations

import gc
import os
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from arena.store import migrations
from arena.store.faults import StoreError, check_file, describe, translated, verify

if TYPE_CHECKING:  # reading commands never import sqlite-utils
    import sqlite_utils

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


def _sqlite_utils() -> ModuleType:
    """sqlite-utils, imported without pandas and numpy: it imports both at import time wherever they are
    installed (as they are beside most model tooling: 0.3-0.5 s for pandas, 0.1 s for numpy on every command
    that writes), only to map their scalar types to column types when it creates a table from values. The
    arena creates its tables from Python types, and a command that needs numpy imports it itself."""
    if "sqlite_utils" in sys.modules:
        return sys.modules["sqlite_utils"]
    blocked = [name for name in ("pandas", "numpy") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # importing it now raises ImportError
    try:
        import sqlite_utils  # noqa: PLC0415  # reading commands never import sqlite-utils

        return sqlite_utils
    finally:
        for name in blocked:
            del sys.modules[name]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the block (and back on after, if it was on): rows are
    tuples of strings and numbers, which hold no cycles."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


class Store:
    """One open arena database. Safe to share between threads: writes and reads are serialized.

    ``read_only`` opens the file without ever writing to it (reports, exports, the leaderboard): a file
    an older version wrote is migrated in a private in-memory copy, never in place.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        read_only: bool = False,
        busy_timeout_s: float | None = None,
        checked_tables: Sequence[str] | None = None,
    ) -> None:
        """``checked_tables``: for a read-only store, the tables the caller reads, which are all its quick check
        covers (``faults.verify``); None checks the whole file."""
        self.path = Path(path)
        self.checked_tables = checked_tables
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
            self._db = _sqlite_utils().Database(self.conn)
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
        with translated(self.path, self.busy_timeout_s, writing=False):
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
                verify(checker, self.checked_tables)
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
        self.wait_for_check()

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

    def check_tables(self, tables: Sequence[str]) -> None:
        """Quick-check ``tables`` now, where this read-only store's check left them out (``checked_tables``):
        a reader that turns to a table it did not name first (a style board counting answers whose counts
        were never stored) checks it before reading. ``StoreError`` if it is damaged."""
        if not self.read_only or self.checked_tables is None:
            return
        wanted = [table for table in tables if table not in self.checked_tables]
        if wanted:
            with self._lock, translated(self.path, self.busy_timeout_s, writing=False):
                verify(self.conn, wanted)
            self.checked_tables = (*self.checked_tables, *wanted)

    @contextmanager
    def cursor(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Iterator[sqlite3.Cursor]:
        """A read query's cursor, for reads too large to hold at once (``fetchmany``); the store's lock is
        held until the block ends, so other threads' reads and writes wait for it."""
        with self._lock, translated(self.path, self.busy_timeout_s, writing=False):
            cursor = self.conn.execute(sql, params)
            try:
                yield cursor
            finally:
                cursor.close()

    def wait_for_check(self) -> None:
        """Wait for a read-only store's quick check and raise ``StoreError`` if it found the file damaged:
        what a command that writes its results as it reads (an export) calls before its first write."""
        if self._check is not None:
            self._check.join()
            self._check = None
        if self._damage is not None:
            damage, self._damage = self._damage, None  # said once, not again by ``close``
            raise StoreError(damage)

    def rows(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read query as plain tuples: for reads of 100,000 rows, where building a dict per row
        costs more than the query itself. The cyclic garbage collector waits while they are built: 100,000
        new tuples would start it a hundred times over, to find nothing (a fifth of the read)."""
        with self._lock, translated(self.path, self.busy_timeout_s, writing=False), collector_paused():
            return self.conn.execute(sql, params).fetchall()

    def rows_in(self, sql: str, values: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` for ``values``, its ``{marks}`` becoming an ``in`` list (``migrations.rows_in``)."""
        with self._lock, translated(self.path, self.busy_timeout_s, writing=False):
            found: list[tuple[Any, ...]] = migrations.rows_in(self.conn, sql, values)
            return found

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[dict[str, Any]]:
        """Rows of a read query as dicts."""
        with self._lock, translated(self.path, self.busy_timeout_s, writing=False):
            cursor = self.conn.execute(sql, dict(params) if isinstance(params, Mapping) else params)
            names = [column[0] for column in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
