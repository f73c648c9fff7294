"""Contestant labels and imported judge names are bounded at every entry (the hostile review's RC8: a
20,000-character label took ``report --html`` to a MemoryError, 10,000 to 13.7 GB): ``--label``, FastChat
imports, merges. What is stored already is never touched by a refusal."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from arena.vocab import LABEL_MAX
from tests.support.helpers import EXAMPLES, assert_one_line_error, run
from tests.support.votes import add_votes

LONG = "L" * (LABEL_MAX + 1)


def test_a_long_label_is_refused_in_one_line(tmp_path: Path) -> None:
    result = run(
        "batch", "--db", str(tmp_path / "b.db"), "-m", f"replay:{EXAMPLES / 'steady.jsonl'}", "--label", LONG,
        "-m", f"replay:{EXAMPLES / 'loopy.jsonl'}", "--limit", "1",
    )  # fmt: skip
    assert_one_line_error(result, f"at most {LABEL_MAX}", "--label")
    assert not (tmp_path / "b.db").exists() or _count(tmp_path / "b.db", "generations") == 0
    fine = run(
        "batch", "--db", str(tmp_path / "b.db"), "-m", f"replay:{EXAMPLES / 'steady.jsonl'}",
        "--label", "L" * LABEL_MAX, "-m", f"replay:{EXAMPLES / 'loopy.jsonl'}", "--limit", "1",
    )  # fmt: skip
    assert fine.exit_code == 0, fine.output  # the bound itself is allowed


def test_an_imported_record_with_a_long_name_is_skipped_with_its_reason(tmp_path: Path) -> None:
    records = [
        {"model_a": "a", "model_b": "b", "winner": "model_a", "question_id": "q1"},
        {"model_a": LONG, "model_b": "b", "winner": "model_a", "question_id": "q2"},
        {"model_a": "a", "model_b": "b", "winner": "tie", "question_id": "q3", "judge": "J" * (LABEL_MAX + 1)},
    ]
    path = tmp_path / "in.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    result = run("import", str(path), "--db", str(tmp_path / "i.db"))
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert f"model_a is {LABEL_MAX + 1} characters long; at most {LABEL_MAX}" in said
    assert f"judge is {LABEL_MAX + 1} characters long" in said
    assert _count(tmp_path / "i.db", "battles") == 1


def test_a_merge_with_a_long_name_is_refused_and_merges_nothing(tmp_path: Path) -> None:
    target, other = tmp_path / "t.db", tmp_path / "o.db"
    add_votes(target, [("a", "b", "left")] * 2)
    add_votes(other, [("c", "d", "left")] * 3)
    with sqlite3.connect(other) as conn:
        conn.execute("update battles set left_contestant = ? where id = 1", [LONG])
    before = _count(target, "battles")
    assert_one_line_error(run("merge", str(other), "--into", str(target)), f"at most {LABEL_MAX}", "nothing was merged")
    assert _count(target, "battles") == before


def _count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(f"select count(*) from {table}").fetchone()[0])
