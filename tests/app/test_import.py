"""``arena import`` on malformed FastChat files: what is wrong is skipped with a short summary, the rest is
imported, and exports of what was imported stay strict JSON."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.helpers import assert_one_line_error, run


def test_an_unhashable_winner_is_skipped_and_the_valid_records_are_imported(tmp_path: Path) -> None:
    battles = tmp_path / "w.json"
    valid = {"model_a": "a", "model_b": "b", "winner": "model_a", "question_id": "q1"}
    records = [{**valid, "winner": ["model_a"]}, valid, {**valid, "winner": {"x": 1}, "question_id": "q2"}]
    battles.write_text(json.dumps(records), encoding="utf-8")
    result = run("import", str(battles), "--db", str(tmp_path / "x.db"))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    board = json.loads(run("leaderboard", "--db", str(tmp_path / "x.db"), "--json", "--rounds", "0").stdout)
    assert sum(row["battles"] for row in board) == 2  # the one valid battle, seen from both sides


def test_a_byte_order_mark_is_not_a_broken_file(tmp_path: Path) -> None:
    bom = tmp_path / "bom.json"
    bom.write_bytes(b'\xef\xbb\xbf[{"model_a":"a","model_b":"b","winner":"tie","question_id":"q"}]')
    result = run("import", str(bom), "--db", str(tmp_path / "x.db"))
    assert result.exit_code == 0, result.output
    lines = tmp_path / "bom.jsonl"
    lines.write_bytes(b'\xef\xbb\xbf{"model_a":"a","model_b":"b","winner":"model_a","question_id":"q2"}\n')
    assert run("import", str(lines), "--db", str(tmp_path / "x.db")).exit_code == 0
    board = json.loads(run("leaderboard", "--db", str(tmp_path / "x.db"), "--json", "--rounds", "0").stdout)
    assert sum(row["battles"] for row in board) == 4


def test_nan_in_an_imported_record_is_skipped_so_exports_stay_json(tmp_path: Path) -> None:
    battles = tmp_path / "nan.jsonl"
    battles.write_text(
        '{"model_a":"a","model_b":"b","winner":"tie","question_id":"q1","score":NaN}\n'
        '{"model_a":"a","model_b":"b","winner":"model_a","question_id":"q2","extra":{"x":Infinity}}\n'
        '{"model_a":"a","model_b":"b","winner":"model_b","question_id":"q3","ok":1.5}\n',
        encoding="utf-8",
    )
    result = run("import", str(battles), "--db", str(tmp_path / "x.db"))
    assert result.exit_code == 0 and "NaN or Infinity" in result.output
    exported = run("export", "--format", "fastchat", "--db", str(tmp_path / "x.db")).stdout
    assert [record["question_id"] for record in json.loads(exported)] == ["q3"]  # strict JSON, parsed


def test_thousands_of_distinct_bad_values_give_a_short_summary(tmp_path: Path) -> None:
    battles = tmp_path / "many.jsonl"
    lines = [json.dumps({"model_a": "a", "model_b": "b", "winner": f"w{n}"}) for n in range(2000)]
    lines.append(json.dumps({"model_a": "a", "model_b": "b", "winner": "tie", "question_id": "q"}))
    battles.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("import", str(battles), "--db", str(tmp_path / "x.db"))
    assert result.exit_code == 0
    summary = next(line for line in result.stderr.splitlines() if line.startswith("skipped"))
    assert len(summary) < 600 and "and 1990 for 1990 other reasons" in summary


def test_a_csv_export_given_to_import_is_said_to_be_csv(tmp_path: Path) -> None:
    """The newcomer imported a CSV export and read "865 malformed, e.g. line 1: invalid JSON"."""
    from tests.support.votes import add_votes

    add_votes(tmp_path / "v.db", [("a", "b", "left")] * 3)
    for name in ("votes.csv", "votes.txt"):
        exported = tmp_path / name
        assert run("export", "--db", str(tmp_path / "v.db"), "--format", "csv", "--out", str(exported)).exit_code == 0
        assert_one_line_error(run("import", str(exported), "--db", str(tmp_path / "i.db")), "CSV is an export-only")
