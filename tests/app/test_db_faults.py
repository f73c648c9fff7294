"""Database files that are not what the arena expects: another program's, a newer version's, damaged,
busy, full or read-only. Each gives one line and exit 2 (CLI) or a visible message (TUI); reading commands
never change the file; nothing already stored is lost."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from arena.store import Store, migrations, queries, writes
from arena.store.faults import StoreError
from tests.support.helpers import EXAMPLES, assert_one_line_error, run
from tests.support.tui_helpers import make_app, screen_text, wait_for

READERS = (["report"], ["leaderboard"], ["export", "--format", "csv"], ["export", "--format", "dpo"])
STEADY = {"t/one": "The Moon pulls. Two bulges.", "t/two": "2 + 2 = 4.", "t/three": "Rain."}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def batch(db: Path) -> object:
    return run(
        "batch", "--limit", "1", "-m", f"replay:{EXAMPLES / 'steady.jsonl'}", "--label", "S",
        "-m", f"replay:{EXAMPLES / 'loopy.jsonl'}", "--label", "L", "--db", str(db),
    )  # fmt: skip


@pytest.fixture
def arena_db(tmp_path: Path) -> Path:
    path = tmp_path / "arena.db"
    assert batch(path).exit_code == 0  # type: ignore[attr-defined]
    return path


def test_reading_commands_refuse_another_programs_database_and_leave_it_untouched(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    conn = sqlite3.connect(path)
    conn.execute("create table customers (name text)")
    conn.commit()
    conn.close()
    before = digest(path)
    for command in READERS:
        result = run(*command, "--db", str(path))
        assert_one_line_error(result, "not an arena database", "customers")
    assert_one_line_error(batch(path), "not an arena database")  # type: ignore[arg-type]
    assert digest(path) == before
    assert not list(tmp_path.glob("shop.db-*"))  # no -wal, no -shm: never opened for writing


def test_an_older_arena_file_is_read_without_being_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)  # what the first release wrote: its one migration only
    old.table("_migrations").create({"name": str, "applied": str}, pk="name")
    first_name, first_migration = migrations.MIGRATIONS[0]
    first_migration(old)
    old.table("_migrations").insert({"name": first_name, "applied": "2026-01-01"})
    old.conn.commit()
    old.close()
    before = digest(path)
    assert run("leaderboard", "--db", str(path)).exit_code == 0
    with Store(path, read_only=True) as reader:
        assert "error" in reader.db.table("flags").columns_dict  # migrated in the private copy
        with pytest.raises(StoreError, match="read-only"):
            writes.start_session(reader, "batch", None)
    assert digest(path) == before
    with sqlite3.connect(path) as check:
        assert {row[0] for row in check.execute("select name from _migrations")} == {first_name}


def test_a_file_from_a_newer_version_is_refused_by_readers_and_writers(arena_db: Path) -> None:
    with sqlite3.connect(arena_db) as conn:
        conn.execute("insert into _migrations values ('9999_from_the_future', 'x')")
    for command in (["report"], ["leaderboard"]):
        assert_one_line_error(run(*command, "--db", str(arena_db)), "newer vibe-arena", "9999_from_the_future")
    assert_one_line_error(batch(arena_db), "newer vibe-arena")  # type: ignore[arg-type]


def test_a_file_carrying_a_trigger_or_a_view_is_refused_before_anything_runs(arena_db: Path, tmp_path: Path) -> None:
    """The hostile review's RC11: a trigger in a --db file rewrote every vote an import added; a view over an
    endless recursive query hung the leaderboard, the report and a merge reading it."""
    with sqlite3.connect(arena_db) as conn:
        conn.execute(
            "create trigger evil after insert on battles begin update battles set verdict = 'left', judge = 'mallory'; end"
        )
    record = tmp_path / "one.json"
    record.write_text('[{"model_a": "x", "model_b": "y", "winner": "model_b"}]', encoding="utf-8")
    before = digest(arena_db)
    assert_one_line_error(run("import", str(record), "--db", str(arena_db)), "trigger evil", "never makes")
    assert digest(arena_db) == before
    other = tmp_path / "view.db"
    assert batch(other).exit_code == 0  # type: ignore[attr-defined]
    with sqlite3.connect(other) as conn:
        conn.execute(
            "create view endless as with recursive n(i) as (select 1 union all select i + 1 from n) select i from n"
        )
    for command in (["leaderboard"], ["report"], ["merge", str(other), "--into", str(tmp_path / "t.db")]):
        args = command if command[0] == "merge" else [*command, "--db", str(other)]
        assert_one_line_error(run(*args), "view endless")


def damage(path: Path) -> None:
    """Overwrite pages in the middle of the file (a disk error or a half-copied file)."""
    with sqlite3.connect(path) as conn:
        conn.execute("pragma wal_checkpoint(truncate)")
        page_size = conn.execute("pragma page_size").fetchone()[0]
        pages = conn.execute("pragma page_count").fetchone()[0]
    assert pages > 6
    with path.open("r+b") as handle:
        handle.seek(page_size * 3)
        handle.write(b"\xff" * page_size * 2)


def test_a_damaged_file_is_refused_and_doctor_says_so(arena_db: Path) -> None:
    damage(arena_db)
    for command in (["report"], ["export", "--format", "csv"]):
        assert_one_line_error(run(*command, "--db", str(arena_db)), "damaged", ".recover")
    size = arena_db.stat().st_size
    assert_one_line_error(batch(arena_db), "damaged")  # type: ignore[arg-type]
    assert arena_db.stat().st_size == size  # batch wrote nothing into it
    doctor = run("doctor", "--json", "--db", str(arena_db))
    assert doctor.exit_code == 2
    assert "damaged" in doctor.output and "Traceback" not in doctor.output


def test_a_healthy_file_passes_doctor(arena_db: Path) -> None:
    doctor = run("doctor", "--json", "--db", str(arena_db))
    assert doctor.exit_code == 0, doctor.output
    assert '"integrity": "ok"' in doctor.output


def test_a_write_lock_held_too_long_is_reported_as_busy(arena_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARENA_BUSY_TIMEOUT", "0.3")
    holder = sqlite3.connect(arena_db, isolation_level=None)
    holder.execute("begin immediate")  # another process in the middle of a long write
    try:
        assert_one_line_error(batch(arena_db), "busy", "ARENA_BUSY_TIMEOUT")  # type: ignore[arg-type]
        assert run("report", "--db", str(arena_db)).exit_code == 0  # readers are not blocked by a writer (WAL)
    finally:
        holder.execute("rollback")
        holder.close()
    assert batch(arena_db).exit_code == 0  # type: ignore[attr-defined]


def test_a_bad_busy_timeout_is_one_line(arena_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARENA_BUSY_TIMEOUT", "nan")
    assert_one_line_error(run("report", "--db", str(arena_db)), "ARENA_BUSY_TIMEOUT")


def fill_disk(store: Store) -> None:
    """The file may not grow any more: SQLite answers SQLITE_FULL exactly as on a full disk."""
    pages = store.db.execute("pragma page_count").fetchone()[0]
    store.db.execute(f"pragma max_page_count = {pages}")


def test_a_full_disk_is_worded_for_what_failed_a_read_or_a_write(tmp_path: Path) -> None:
    """Hostile item 27: a reading command on a full disk must not say a write was lost."""
    from arena.store.faults import describe

    full = sqlite3.OperationalError("disk I/O error")
    read = describe(full, tmp_path / "x.db", 5, writing=False)
    written = describe(full, tmp_path / "x.db", 5)
    assert "reading failed, nothing was written" in read and "not stored" not in read
    assert "this write was not stored, earlier ones are safe" in written


def test_a_full_disk_loses_no_earlier_vote(tmp_path: Path) -> None:
    store = Store(tmp_path / "full.db")
    session = writes.start_session(store, "play", "judge")
    store.db.execute("pragma journal_mode = delete")  # every page lands in the main file at once
    fill_disk(store)
    with pytest.raises(StoreError, match="disk is full"):
        writes.start_session(store, "play", "j" * 50_000)  # needs new pages
    assert [row["id"] for row in store.query("select id from sessions")] == [session]


async def test_the_tui_shows_a_refused_vote_and_stores_it_on_retry(tmp_path: Path) -> None:
    app = make_app(tmp_path, STEADY, STEADY)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.session.current is not None and app.session.current.both_done)
        store = app.session.store
        store.db.execute("pragma journal_mode = delete")
        app.session.judge = "j" * 50_000  # the vote row needs pages the full disk cannot give
        fill_disk(store)
        await pilot.press("a")
        await pilot.pause()
        assert "NOT stored" in screen_text(app)
        assert any("disk is full" in n.message for n in app._notifications)
        assert store.query("select count(*) as n from battles")[0]["n"] == 0
        assert app.session.write_failures
        store.db.execute("pragma max_page_count = 1073741823")  # space freed
        await pilot.press("a")
        await wait_for(pilot, lambda: store.query("select count(*) as n from battles")[0]["n"] == 1)
        assert "vote stored" in screen_text(app)


def test_a_read_only_store_never_writes(arena_db: Path) -> None:
    before = digest(arena_db)
    with Store(arena_db, read_only=True) as reader:
        assert queries.table_counts(reader)["generations"] == 2
        with pytest.raises(StoreError, match="read-only"):
            writes.start_session(reader, "batch", None)
    assert digest(arena_db) == before


def _damage_page_of(path: Path, table: str) -> None:
    """Overwrite one leaf page of ``table`` (found through SQLite's dbstat table)."""
    with sqlite3.connect(path) as conn:
        conn.execute("pragma wal_checkpoint(truncate)")
        page_size = conn.execute("pragma page_size").fetchone()[0]
        try:
            page = conn.execute(
                "select pageno from dbstat where name = ? and pagetype = 'leaf' order by pageno limit 1 offset 1",
                [table],
            ).fetchone()[0]
        except sqlite3.OperationalError:
            pytest.skip("this SQLite has no dbstat table to find a table's pages with")
    with path.open("r+b") as handle:
        handle.seek(page_size * (page - 1))
        handle.write(b"\xff" * page_size)


def test_a_board_checks_the_tables_it_reads_and_refuses_them_damaged(tmp_path: Path) -> None:
    """The leaderboard's quick check covers the tables it reads (the votes, their prompts and flags: 5% of a
    file that keeps its answers, a tenth of the board's time at 100,000 battles); damage there is refused
    in one line. Damage in the answers' table (here in an index no query of the board uses), which a board
    never reads while the votes keep their style differences, leaves it as it was; a command that reads the
    answers, or a style board that must count them, checks them first and refuses the file."""
    from tests.support.votes import add_votes

    votes = [("a", "b", "left"), ("b", "c", "right"), ("c", "a", "tie")] * 150
    clean = tmp_path / "clean.db"
    add_votes(clean, votes)
    conn = sqlite3.connect(clean)  # differences as a recorded vote stores them (this helper stores none)
    conn.execute("update battles set style_words = (id % 5) / 5.0, style_headers = 0, style_lists = 0, style_bold = 0")
    conn.commit()
    conn.execute("pragma wal_checkpoint(truncate)")  # into the file the copies below are made of
    conn.close()
    expected = run("leaderboard", "--json", "--db", str(clean))
    assert expected.exit_code == 0
    answers_damaged = tmp_path / "answers.db"
    answers_damaged.write_bytes(clean.read_bytes())
    _damage_page_of(answers_damaged, "idx_generations_uid")  # where even counting the answers never reads
    board = run("leaderboard", "--json", "--db", str(answers_damaged))
    assert board.exit_code == 0, board.output
    assert json.loads(board.output) == json.loads(expected.output)
    styled = run("leaderboard", "--json", "--style-control", "--db", str(answers_damaged))
    assert styled.exit_code == 0, styled.output  # the votes keep their style differences: no answer is read
    assert json.loads(styled.output) == json.loads(
        run("leaderboard", "--json", "--style-control", "--db", str(clean)).output
    )
    assert_one_line_error(run("report", "--db", str(answers_damaged)), "damaged")
    with sqlite3.connect(answers_damaged) as conn:  # votes without stored differences: the answers are counted
        conn.execute("update battles set style_words = null")
    assert_one_line_error(run("leaderboard", "--style-control", "--db", str(answers_damaged)), "damaged")
    votes_damaged = tmp_path / "votes.db"
    votes_damaged.write_bytes(clean.read_bytes())
    _damage_page_of(votes_damaged, "battles")
    assert_one_line_error(run("leaderboard", "--db", str(votes_damaged)), "damaged", ".recover")
