"""Imports in bulk (hostile review item 24, issue 27): chunked transactions that keep every record exactly
once across chunk boundaries and repeats, the answers counted and the votes' style differences stored at
import as for recorded votes, and older files counted once when a writing command opens them."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest

from arena.analysis.ratings import StyleControlled
from arena.reports.methods import METHODS, MethodOptions
from arena.store import Store, queries, writes
from arena.store.migrations import STYLE_COLUMNS
from tests.support.helpers import run

ANSWERS = [
    "## Tides\nThe Moon pulls the water.\n- **near** side\n- far side",
    "Water water water.",
    "Two bulges:\n1. near\n2. far\n\n```python\nprint('not prose')\n```",
    "",
]


def records(n: int, seed: int = 0) -> list[dict[str, object]]:
    rng = random.Random(seed)
    found = []
    for number in range(n):
        a, b = rng.sample(["m1", "m2", "m3", "m4"], 2)
        question = f"question {number % 7}"
        found.append(
            {
                "question_id": f"q{number % 7}",
                "model_a": a,
                "model_b": b,
                "winner": rng.choice(["model_a", "model_b", "tie", "tie (bothbad)"]),
                "judge": "j",
                "tstamp": 1.7e9 + number,
                "conversation_a": [
                    {"role": "user", "content": question},
                    {"role": "assistant", "content": rng.choice(ANSWERS)},
                ],
                "conversation_b": [
                    {"role": "user", "content": question},
                    {"role": "assistant", "content": rng.choice(ANSWERS)},
                ],
            }
        )
    return found


def test_chunks_keep_each_record_once_across_boundaries_and_repeats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writes, "IMPORT_CHUNK", 4)
    batch = records(11)
    source = tmp_path / "b.jsonl"
    with_repeats = [*batch, batch[2], batch[9], batch[2]]  # repeated records, in and across chunks
    source.write_text("".join(json.dumps(record) + "\n" for record in with_repeats))
    db = tmp_path / "i.db"
    first = run("import", str(source), "--db", str(db))
    assert first.exit_code == 0, first.output
    assert "imported 11 battles" in first.stdout and "3 already there" in first.stdout
    again = run("import", str(source), "--db", str(db))
    assert "imported 0 battles" in again.stdout and "14 already there" in again.stdout
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*), count(distinct uid) from battles").fetchone() == (11, 11)
        assert conn.execute("select count(*) from generations").fetchone() == (22,)
        assert conn.execute("select count(*) from sessions where kind = 'import'").fetchone() == (1,)
        assert conn.execute("pragma foreign_key_check").fetchall() == []
    exported = json.loads(run("export", "--db", str(db), "--format", "fastchat").stdout)
    assert exported == batch  # in order, each once, bit for bit


def test_imported_answers_are_counted_and_their_style_stored_as_for_recorded_votes(tmp_path: Path) -> None:
    """Style control reads the stored differences (the fast path), and they are the ones the slow path
    would count from the texts."""
    source = tmp_path / "b.json"
    source.write_text(json.dumps(records(40)))
    db = tmp_path / "i.db"
    assert run("import", str(source), "--db", str(db)).exit_code == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from generations where n_words is null or n_bold is null").fetchone() == (
            0,
        )
        missing = " or ".join(f"{column} is null" for column in STYLE_COLUMNS if column != "style_tokens")
        assert conn.execute(f"select count(*) from battles where {missing}").fetchone() == (0,)
    with Store(db, read_only=True) as store:
        assert queries.style_from_texts(store) == {}  # the import stored every vote's differences
        model = METHODS["style"].read(store, None, MethodOptions()).model
        assert isinstance(model, StyleControlled)
        stored = [tuple(row) for row in model.columns.raw.tolist()]  # what the board fits
        counted = queries.style_from_texts(store, missing_only=False)
        ids = [row[-1] for row in queries.styled_vote_rows(store, with_ids=True)]
        from_texts = [counted[battle][1:] for battle in ids]  # imports have no token counts: words
    assert len(stored) == 40
    assert stored == pytest.approx(from_texts)  # one formula, whether stored at import or counted now


def test_a_file_imported_before_counts_were_stored_is_counted_once_by_a_writing_command(tmp_path: Path) -> None:
    source = tmp_path / "b.json"
    source.write_text(json.dumps(records(12)))
    db = tmp_path / "old.db"
    run("import", str(source), "--db", str(db))
    with sqlite3.connect(db) as conn:  # what an import by an older version left
        conn.execute(
            "update generations set n_words = null, n_chars = null, n_headers = null, n_list_items = null, n_bold = null"
        )
        conn.execute("update battles set " + ", ".join(f"{column} = null" for column in STYLE_COLUMNS))
        conn.execute("delete from _migrations where name = '0012_counted_imports'")
    with Store(db, read_only=True) as store:  # a reading command changes nothing in the file
        assert len(queries.styled_vote_rows(store)) == 12  # the counts, in the in-memory copy
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from generations where n_words is null").fetchone() == (24,)
    Store(db).close()  # a writing command opens it: the migration counts them, once
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from generations where n_words is null").fetchone() == (0,)
        assert conn.execute("select count(*) from battles where style_words is null").fetchone() == (0,)
        assert conn.execute("select count(*) from _migrations where name = '0012_counted_imports'").fetchone() == (1,)


def test_the_import_reports_its_progress_chunk_by_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from arena.formats.fastchat import parse_record

    monkeypatch.setattr(writes, "IMPORT_CHUNK", 5)
    seen: list[int] = []
    with Store(tmp_path / "p.db") as store:
        added = writes.import_battles(
            store, [parse_record(r) for r in records(12)], source="x", on_progress=seen.append
        )
    assert added == 12 and seen == [5, 10, 12]


def test_a_merge_counts_answers_that_came_without_counts_and_computes_their_style(tmp_path: Path) -> None:
    """A file whose answers were stored without counts (an older import, another tool) merged into another:
    the target counts them and computes the votes' style by the one formula, never trusting the source's."""
    source = tmp_path / "b.json"
    source.write_text(json.dumps(records(9)))
    other = tmp_path / "other.db"
    run("import", str(source), "--db", str(other))
    with sqlite3.connect(other) as conn:
        conn.execute(
            "update generations set n_words = null, n_chars = null, n_headers = null, n_list_items = null, n_bold = null"
        )
        conn.execute(
            "update battles set style_words = 'lots', style_headers = 1e999, style_lists = null, style_bold = null"
        )
    target = tmp_path / "team.db"
    assert run("merge", str(other), "--into", str(target)).exit_code == 0
    with sqlite3.connect(target) as conn:
        assert conn.execute("select count(*) from generations where n_words is null").fetchone() == (0,)
        styles = conn.execute("select style_words, style_headers from battles").fetchall()
    assert len(styles) == 9 and all(isinstance(w, float) and abs(h) <= 1 for w, h in styles)


def test_an_import_stores_the_style_the_stored_counts_give(tmp_path: Path) -> None:
    """The import computes its votes' style differences from the counts in hand (the answers it counted, and
    the stored answers a record attached to) instead of reading them back: the values must be what
    ``fill_battle_style`` computes from the file. A second file's records on the first file's pairs (an
    automatic judge's verdicts exported apart) attach to stored answers."""
    from arena.store.migrations import fill_battle_style

    first = records(30, seed=4)
    second = [{**record, "judge": "auto:other"} for record in first[:10]]
    db = tmp_path / "style.db"
    answers = []
    for number, batch in enumerate((first, second)):
        source = tmp_path / f"{number}.jsonl"
        source.write_text("".join(json.dumps(record) + "\n" for record in batch))
        assert run("import", str(source), "--db", str(db)).exit_code == 0
        with sqlite3.connect(db) as conn:
            answers.append(conn.execute("select count(*) from generations").fetchone()[0])
    assert answers[0] == answers[1]  # the second file's votes are on answers already stored
    columns = ", ".join(STYLE_COLUMNS)
    with sqlite3.connect(db) as conn:
        stored = conn.execute(f"select id, {columns} from battles order by id").fetchall()
        assert len(stored) == 40
        conn.execute("update battles set " + ", ".join(f"{column} = null" for column in STYLE_COLUMNS))
        fill_battle_style(conn)
        assert conn.execute(f"select id, {columns} from battles order by id").fetchall() == stored
    assert any(row[2] not in (None, 0.0) for row in stored) and all(row[1] is None for row in stored)
