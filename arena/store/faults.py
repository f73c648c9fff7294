"""What can be wrong with a database file, said in one line a user can act on.

Owns ``StoreError``, the translation of SQLite's exceptions (disk full, read-only, busy, damaged) into it,
and the schema check that refuses a file this version must not touch: another program's database, or one
a newer vibe-arena has migrated. Every failure here is the user's environment, not a bug, so the CLI
prints the line and exits 2 and the TUI shows it; the transaction that failed is rolled back, and every
write that returned before it stays stored.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import arena
from arena.errors import ArenaError


class StoreError(ArenaError):
    """The database could not be opened, read or written; the message names the file and what to do."""


def describe(exc: sqlite3.Error, path: Path, busy_timeout_s: float, *, writing: bool = True) -> str:
    """One line for a SQLite failure on ``path``; ``writing`` says whether the failed statement wrote (a
    reading command on a full disk must not say a write was lost)."""
    text = " ".join(str(exc).split())  # quick_check lists problems on several lines
    lowered = text.lower()
    if "database or disk is full" in lowered or "disk i/o error" in lowered:
        if not writing:
            return f"{path}: the disk is full or failing ({text}); reading failed, nothing was written"
        return f"{path}: the disk is full or failing ({text}); this write was not stored, earlier ones are safe"
    if "readonly" in lowered or "read-only" in lowered:
        return f"{path}: the file is read-only; pass --db with a writable path (reading commands still work)"
    if "locked" in lowered or "busy" in lowered:
        return (
            f"{path}: busy: another process held its write lock for over {busy_timeout_s:g} s; "
            "try again when it has finished (ARENA_BUSY_TIMEOUT sets the wait in seconds)"
        )
    if "file is not a database" in lowered:
        return f"{path}: not a SQLite database (another kind of file?); pass --db with an arena file or a new path"
    if "malformed" in lowered or "corrupt" in lowered:
        return (
            f"{path}: the database file is damaged ({text}); nothing more is written to it. "
            f"`sqlite3 {path} .recover` can rescue what is readable"
        )
    if "unable to open" in lowered:
        return f"{path}: cannot open the database file ({text})"
    return f"{path}: database error ({text})"


@contextmanager
def translated(path: Path, busy_timeout_s: float, *, writing: bool = True) -> Iterator[None]:
    """Run a block, turning any SQLite failure into a ``StoreError`` that says what happened to ``path``
    (``writing``: whether the block writes)."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(describe(exc, path, busy_timeout_s, writing=writing)) from exc


def check_file(conn: sqlite3.Connection, known: list[str], path: Path) -> set[str]:
    """Refuse another program's database or one a newer version migrated (its schema is unknown here),
    before anything is read or written, and return the migrations the file records. ``known`` are this
    version's migration names."""
    tables = [row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")]
    _refuse_code(conn, path)
    if "_migrations" not in tables:
        foreign = [name for name in tables if not name.startswith("sqlite_")]
        if foreign:
            shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
            raise StoreError(
                f"{path}: not an arena database (it holds tables {shown}); pass --db with an arena file or a new path"
            )
        return set()
    applied = {row[0] for row in conn.execute("select name from _migrations")}
    newer = sorted(applied - set(known))
    if newer:
        raise StoreError(
            f"{path}: written by a newer vibe-arena (schema {newer[-1]}); "
            f"upgrade vibe-arena (this is {arena.__version__}) to use this file"
        )
    return applied


def _refuse_code(conn: sqlite3.Connection, path: Path) -> None:
    """A file carrying triggers or views is refused: the arena makes neither, a trigger would run on its
    writes (one rewrote every vote of an import) and a view named like a table can hang its reads."""
    found = conn.execute(
        "select type, name from sqlite_master where type in ('trigger', 'view') order by name"
    ).fetchall()
    if found:
        named = ", ".join(f"{kind} {name}" for kind, name in found[:3]) + (", ..." if len(found) > 3 else "")
        raise StoreError(
            f"{path}: holds {named}, which the arena never makes (a trigger would run on its writes); "
            "drop them with sqlite3 or use another file"
        )


def verify(conn: sqlite3.Connection, tables: Sequence[str] | None = None) -> None:
    """SQLite's quick check (0.4 s on a 300 MB file): without it, a damaged page that a query happens not
    to touch gives a report quietly built on part of the data, and a run keeps writing into a broken file.
    ``tables``: check only these tables and their indexes, for a report that reads nothing else (the
    leaderboard reads the votes, 5% of a file that keeps its answers: 0.04 s instead of 0.4 s); None, or
    a SQLite before 3.33 (which checks whole files only), checks the whole file.
    Raises ``sqlite3.DatabaseError`` (which ``describe`` turns into the "damaged" line)."""
    if tables is None or sqlite3.sqlite_version_info < (3, 33, 0):
        checks = ["PRAGMA quick_check(1)"]
    else:  # a table's name cannot be a pragma's parameter: the names are the arena's own, quoted anyway
        present = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
        checks = ['PRAGMA quick_check("{}")'.format(table.replace('"', '""')) for table in tables if table in present]
    for check in checks:
        problem = conn.execute(check).fetchone()[0]
        if problem != "ok":
            raise sqlite3.DatabaseError(f"database disk image is malformed: {problem}")
