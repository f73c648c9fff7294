"""`arena leaderboard`, `export`, `import` and `merge` (arena/cli/votes.py) on real database files."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
from pathlib import Path

import pytest

from tests.support.helpers import assert_one_line_error, run
from tests.support.votes import add_votes

VOTES = [("a", "b", "right")] * 5 + [
    ("b", "a", "right"),
    ("a", "b", "tie"),
    ("b", "a", "both_bad"),
    ("a", "c", "left"),
    ("c", "b", "skip"),
]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "votes.db"
    add_votes(path, VOTES, flags=True)
    return path


def test_leaderboard_json_is_sorted_with_the_promised_keys(db: Path) -> None:
    result = run("leaderboard", "--db", str(db), "--json", "--rounds", "200")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows[0]["contestant"] == "b"
    assert [row["rating"] for row in rows] == sorted((row["rating"] for row in rows), reverse=True)
    keys = {
        "contestant",
        "rating",
        "ci_low",
        "ci_high",
        "rank_ub",
        "battles",
        "wins",
        "ties",
        "losses",
        "both_bad",
        "elo",
    }
    assert keys <= set(rows[0])
    by_label = {row["contestant"]: row for row in rows}
    tally = ("battles", "wins", "ties", "losses", "both_bad")
    assert tuple(by_label["b"][key] for key in tally) == (8, 5, 1, 1, 1)
    assert tuple(by_label["a"][key] for key in tally) == (9, 2, 1, 5, 1)
    assert tuple(by_label["c"][key] for key in tally) == (1, 0, 0, 1, 0)  # the c/b skip is not counted


def test_leaderboard_table_shows_plot_scoreboard_and_bias(db: Path) -> None:
    result = run("leaderboard", "--db", str(db), "--rounds", "100", "--matrix")
    assert result.exit_code == 0, result.output
    assert "●" in result.stdout and "├" in result.stdout
    assert "b beats a 5-1, 1 tie, 1 both bad" in result.stdout
    assert "left pane won" in result.stdout
    assert "win rate (row vs column)" in result.stdout


def test_leaderboard_filters(db: Path, tmp_path: Path) -> None:
    add_votes(db, [("x", "y", "left")] * 3, judge="bo")
    by_bo = json.loads(run("leaderboard", "--db", str(db), "--json", "--judge", "bo", "--rounds", "10").stdout)
    assert {row["contestant"]: row["wins"] for row in by_bo} == {"x": 3, "y": 0}
    poems = json.loads(run("leaderboard", "--db", str(db), "--json", "--category", "poem", "--rounds", "10").stdout)
    # odd-numbered votes are on the poem prompt: ana's 1, 3, 5, 7 (9 is the skip) and bo's 1
    assert sum(row["battles"] for row in poems) == 2 * 5
    future = json.loads(run("leaderboard", "--db", str(db), "--json", "--since", "2999-01-01").stdout)
    assert future == []
    # x and y never met a, b or c: the full board says so, ana's board alone does not need to
    assert "not comparable across groups" in run("leaderboard", "--db", str(db), "--rounds", "10").stdout
    assert "not comparable" not in run("leaderboard", "--db", str(db), "--judge", "ana", "--rounds", "10").stdout


def test_leaderboard_errors_are_one_line(db: Path, tmp_path: Path) -> None:
    assert_one_line_error(run("leaderboard", "--db", str(tmp_path / "none.db")), "no database at")
    assert_one_line_error(run("leaderboard", "--db", str(db), "--anchor", "zed=1000"), "anchor 'zed' has no battles")
    assert_one_line_error(run("leaderboard", "--db", str(db), "--since", "yesterday"), "--since 'yesterday'")


def test_export_csv_json_jsonl(db: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(run("export", "--db", str(db), "--format", "csv").stdout)))
    assert len(rows) == 10  # the skip vote is exported too, as verdict skip
    assert rows[-1]["verdict"] == rows[-1]["winner"] == "skip"
    assert rows[0]["winner"] == "b" and rows[0]["left_flags"] == "repetitive"
    assert json.loads(rows[0]["params"])["temperature"] == 0.0
    payload = json.loads(run("export", "--db", str(db), "--format", "json").stdout)
    assert {t["contestant"]: t["wins"] for t in payload["tallies"]} == {"a": 2, "b": 5, "c": 0}
    assert payload["battles"][0]["prompt_text"] == "Write a function."
    lines = run("export", "--db", str(db), "--format", "jsonl").stdout.splitlines()
    assert (
        len(lines) == 10 and json.loads(lines[-2])["verdict"] == "left" and json.loads(lines[-1])["verdict"] == "skip"
    )


def test_export_dpo_pairs_from_decided_battles(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    result = run("export", "--db", str(db), "--format", "dpo", "--out", str(out))
    assert result.exit_code == 0
    pairs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(pairs) == 7  # 5 + 1 decided a/b battles + 1 a/c
    first = pairs[0]
    assert first["chosen_model"] == "b" and first["chosen"].startswith("b answers")
    assert first["rejected"].startswith("a answers") and first["prompt"] == "Write a function."


def test_fastchat_export_shape(db: Path) -> None:
    result = run("export", "--db", str(db), "--format", "fastchat")
    records = json.loads(result.stdout)
    assert len(records) == 9
    assert "left out 1 skip vote: fastchat has no place for a skip" in result.stderr
    first = records[0]
    assert (first["model_a"], first["model_b"], first["winner"]) == ("a", "b", "model_b")
    assert {r["winner"] for r in records} == {"model_a", "model_b", "tie", "tie (bothbad)"}
    assert first["conversation_a"][-1] == {"role": "assistant", "content": "a answers p1 #0"}
    assert first["conversation_a"][0] == {"role": "user", "content": "Write a function."}
    assert isinstance(first["tstamp"], float) and first["anony"] is True and first["turn"] == 1


FASTCHAT = [
    {
        "question_id": "q1",
        "model_a": "llama-13b",
        "model_b": "vicuna-13b",
        "winner": "model_b",
        "judge": "arena_user_1",
        "conversation_a": [
            {"role": "user", "content": "Hi [bold]"},
            {"role": "assistant", "content": "Hello."},
        ],
        "conversation_b": [
            {"role": "user", "content": "Hi [bold]"},
            {"role": "assistant", "content": "Hey!"},
        ],
        "turn": 1,
        "anony": True,
        "language": "English",
        "tstamp": 1682351591.1322,
    },
    {
        "question_id": "q2",
        "model_a": "vicuna-13b",
        "model_b": "alpaca-13b",
        "winner": "tie (bothbad)",
        "judge": "arena_user_2",
        "turn": 2,
        "anony": False,
        "language": "German",
        "tstamp": 1682351600.5,
    },
    {
        "question_id": "q3",
        "model_a": "alpaca-13b",
        "model_b": "llama-13b",
        "winner": "tie",
        "tstamp": 1682351700,
    },
]


def test_import_then_export_round_trips_exactly(tmp_path: Path) -> None:
    source = tmp_path / "battles.json"
    source.write_text(json.dumps(FASTCHAT))
    db = tmp_path / "imported.db"
    result = run("import", str(source), "--db", str(db))
    assert result.exit_code == 0, result.output
    assert "imported 3 battles" in result.stdout
    exported = json.loads(run("export", "--db", str(db), "--format", "fastchat").stdout)
    assert exported == FASTCHAT
    ratings = json.loads(run("leaderboard", "--db", str(db), "--json", "--rounds", "10").stdout)
    assert {row["contestant"] for row in ratings} == {"llama-13b", "vicuna-13b", "alpaca-13b"}


def test_importing_twice_adds_nothing(tmp_path: Path) -> None:
    source = tmp_path / "battles.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in FASTCHAT))
    db = tmp_path / "i.db"
    run("import", str(source), "--db", str(db))
    again = run("import", str(source), "--db", str(db))
    assert "imported 0 battles" in again.stdout and "3 already there" in again.stdout
    assert sqlite3.connect(db).execute("select count(*) from battles").fetchone()[0] == 3


def test_import_skips_malformed_records_with_reasons(tmp_path: Path) -> None:
    source = tmp_path / "mixed.jsonl"
    lines = [
        json.dumps(FASTCHAT[0]),
        json.dumps({"model_a": "x", "winner": "model_a"}),
        json.dumps({"model_a": "x", "model_b": "y", "winner": "draw"}),
        "{not json",
        json.dumps(
            {
                "model_a": "x",
                "model_b": "y",
                "winner": "tie",
                "conversation_a": [{"role": "user", "content": "q"}],
            }
        ),
    ]
    source.write_text("\n".join(lines))
    result = run("import", str(source), "--db", str(tmp_path / "m.db"))
    assert result.exit_code == 0
    assert "imported 1 battle into" in result.stdout
    assert "skipped 4 malformed records" in result.stderr
    for reason in (
        "missing model_b",
        "unknown winner 'draw'",
        "invalid JSON",
        "conversation_a must end with the assistant",
    ):
        assert reason in result.stderr


def test_import_of_nothing_valid_exits_2(tmp_path: Path) -> None:
    source = tmp_path / "bad.json"
    source.write_text(json.dumps([{"model_a": "x"}]))
    assert_one_line_error(run("import", str(source), "--db", str(tmp_path / "x.db")), "no valid battle records")
    assert_one_line_error(run("import", str(tmp_path / "absent.json")), "file not found")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_merge_combines_judges_without_duplicates(tmp_path: Path) -> None:
    ana, bo, into = tmp_path / "ana.db", tmp_path / "bo.db", tmp_path / "all.db"
    add_votes(ana, [("a", "b", "left")] * 4, judge="ana", flags=True)
    add_votes(bo, [("a", "b", "right")] * 3, judge="bo")
    before = _digest(ana), _digest(bo)
    result = run("merge", str(ana), str(bo), "--into", str(into))
    assert result.exit_code == 0, result.output
    assert "added 4 battles" in result.stdout and "added 3 battles" in result.stdout
    again = run("merge", str(ana), str(bo), "--into", str(into))
    assert again.stdout.count("added 0 battles") == 2
    assert (_digest(ana), _digest(bo)) == before
    conn = sqlite3.connect(into)
    assert dict(conn.execute("select judge, count(*) from battles group by judge").fetchall()) == {
        "ana": 4,
        "bo": 3,
    }
    assert conn.execute("select count(*) from generations").fetchone()[0] == 14
    assert conn.execute("select count(*) from flags").fetchone()[0] == 4
    # every battle points at generations of its own contestants in the merged file
    mismatched = conn.execute(
        "select count(*) from battles b join generations g on g.id = b.left_generation where g.contestant != b.left_contestant"
    ).fetchone()[0]
    assert mismatched == 0
    assert conn.execute("pragma foreign_key_check").fetchall() == []


def test_merge_errors(tmp_path: Path) -> None:
    assert_one_line_error(
        run("merge", str(tmp_path / "nope.db"), "--into", str(tmp_path / "x.db")), "database not found"
    )
    target = tmp_path / "t.db"
    add_votes(target, [("a", "b", "left")])
    assert_one_line_error(run("merge", str(target), "--into", str(target)), "is the target itself")


def test_an_export_read_a_few_battles_at_a_time_is_the_same_export(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``battle_rows`` reads a chunk at a time (a 1,000,000-battle export held 1.9 GB at once): flags and
    tagged reasons must land on their battles across chunk boundaries, and every format read two battles at
    a time must be the export read in one chunk."""
    from arena.store import queries

    with sqlite3.connect(db) as conn:
        conn.executemany(
            "insert into battle_reasons (battle, contestant, reason) values (?, ?, ?)",
            [(2, "a", "wrong"), (7, "b", "verbose"), (7, "a", "refused")],
        )
    whole = {fmt: run("export", "--format", fmt, "--db", str(db)).output for fmt in ("csv", "jsonl", "fastchat", "dpo")}
    assert '"verbose"' in whole["jsonl"] and "repetitive" in whole["csv"]
    monkeypatch.setattr(queries, "EXPORT_CHUNK", 2)
    for fmt, text in whole.items():
        assert run("export", "--format", fmt, "--db", str(db)).output == text, fmt


def test_an_export_of_a_damaged_file_writes_nothing(db: Path, tmp_path: Path) -> None:
    """An export writes records as it reads them, so it waits for the file's quick check first: from a
    damaged file no half-export is left behind."""
    from tests.app.test_db_faults import damage

    damage(db)
    out = tmp_path / "out.jsonl"
    assert_one_line_error(run("export", "--format", "jsonl", "--out", str(out), "--db", str(db)), "damaged")
    assert not out.exists()


def test_a_style_controlled_table_says_so_in_its_title(db: Path) -> None:
    """The numbers of a style-controlled board differ from the raw board's: its title says which it is,
    as the arena's leaderboard screen does."""
    styled = run("leaderboard", "--style-control", "--db", str(db))
    assert styled.exit_code == 0, styled.output
    assert "leaderboard (style-controlled) - " in styled.output
    assert "leaderboard - " in run("leaderboard", "--db", str(db)).output
