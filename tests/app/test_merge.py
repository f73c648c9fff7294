"""``arena merge`` of files from other machines: rows without ids merge once, and odd values in a merged file
do not crash the commands that read it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.helpers import run


def _file_with_votes(tmp_path: Path, name: str) -> Path:
    from tests.support.votes import add_votes

    db = tmp_path / name
    add_votes(db, [("a", "b", "left"), ("b", "a", "right"), ("a", "b", "tie")] * 4)
    return db


def test_rows_without_uids_are_merged_once(tmp_path: Path) -> None:
    import sqlite3

    source = _file_with_votes(tmp_path, "judge.db")
    with sqlite3.connect(source) as conn:
        for table in ("battles", "generations", "sessions"):
            conn.execute(f"update {table} set uid = null")
    target = tmp_path / "t.db"
    for _ in range(2):
        assert run("merge", str(source), "--into", str(target)).exit_code == 0
    with sqlite3.connect(target) as conn:
        assert conn.execute("select count(*) from battles").fetchone() == (12,)
        assert conn.execute("select count(*) from generations").fetchone() == (24,)


def test_odd_values_in_a_merged_file_do_not_crash_reading_commands(tmp_path: Path) -> None:
    import sqlite3

    db = _file_with_votes(tmp_path, "odd.db")
    with sqlite3.connect(db) as conn:
        conn.execute("update generations set messages_json = '42'")
        conn.execute("update battles set extra_json = 'not json {'")
        conn.execute("update battles set style_tokens = 'abc', style_words = 1e999, style_headers = 'x'")
        conn.execute(
            "insert into fidelity(created, reference, contestant, top1_agreement, mean_kld, tokens, uid) "
            "values ('x', 'ref', 'a', null, null, 5, 'f1')"
        )
    for args in (
        ["export", "--format", "json"],
        ["export", "--format", "fastchat"],
        ["export", "--format", "dpo"],
        ["report", "--all"],
        ["leaderboard", "--style-control", "--rounds", "10"],
    ):
        result = run(*args, "--db", str(db))
        assert result.exit_code == 0, (args, result.output)
        assert "Traceback" not in result.output and "Warning" not in result.output
    exported = json.loads(run("export", "--format", "fastchat", "--db", str(db)).stdout)
    assert len(exported) == 12 and all(record["conversation_a"][-1]["role"] == "assistant" for record in exported)


def test_one_model_under_two_labels_is_said_and_relabel_makes_it_one(tmp_path: Path) -> None:
    """The newcomer merged a team file (``--label smol``) with their own (the default label) and got two
    contestants for one file, without a word."""
    import sqlite3

    from tests.support.helpers import EXAMPLES

    steady, loopy = f"replay:{EXAMPLES / 'steady.jsonl'}", f"replay:{EXAMPLES / 'loopy.jsonl'}"
    for name, label in (("team.db", "smol"), ("mine.db", "steady")):
        result = run("batch", "--db", str(tmp_path / name), "--limit", "2", "-m", steady, "--label", label, "-m", loopy)
        assert result.exit_code == 0, result.output
    sources = [str(tmp_path / "team.db"), str(tmp_path / "mine.db")]
    merged = run("merge", *sources, "--into", str(tmp_path / "m.db"))
    assert merged.exit_code == 0, merged.output
    said = " ".join(merged.stderr.split())
    assert "note: smol and steady run the same model" in said and "--relabel steady=smol" in said
    again = run("merge", *sources, "--into", str(tmp_path / "one.db"), "--relabel", "steady=smol")
    assert again.exit_code == 0 and "note:" not in again.stderr
    with sqlite3.connect(tmp_path / "one.db") as conn:
        labels = {row[0] for row in conn.execute("select distinct contestant from generations")}
    assert labels == {"smol", "loopy"}
    bad = run("merge", *sources, "--into", str(tmp_path / "x.db"), "--relabel", "steady")
    assert bad.exit_code == 2 and "expected OLD=NEW" in bad.stderr


def test_a_fastchat_round_trip_merged_back_adds_no_answers(tmp_path: Path) -> None:
    """The newcomer merged an import of the file's own FastChat export: "added 0 battles, 96 generations"."""
    source = _file_with_votes(tmp_path, "v.db")
    exported = tmp_path / "v.jsonl"
    assert run("export", "--db", str(source), "--format", "fastchat", "--out", str(exported)).exit_code == 0
    assert run("import", str(exported), "--db", str(tmp_path / "imported.db")).exit_code == 0
    target = tmp_path / "t.db"
    assert run("merge", str(source), "--into", str(target)).exit_code == 0
    again = run("merge", str(tmp_path / "imported.db"), "--into", str(target))
    assert again.exit_code == 0 and "added 0 battles, 0 generations" in again.stdout, again.stdout
