"""No silent data changes: FastChat round trips are exact and never count a vote twice, bad records are
skipped and reported (never a traceback half way through), an edited prompt never rewrites what earlier
battles were asked, and out-of-range numbers anywhere are one line and exit 2."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from arena.prompts import Prompt
from arena.store import Store, writes
from tests.support.helpers import EXAMPLES, assert_one_line_error, run
from tests.support.votes import PROMPTS, add_votes

VOTES = [("a", "b", "left"), ("b", "a", "right"), ("a", "b", "tie"), ("b", "a", "both_bad")]
FOREIGN = [
    {"model_a": "x", "model_b": "y", "winner": "model_a", "tstamp": 1700000000, "judge": None},
    {"question_id": "q2", "model_a": "y", "model_b": "x", "winner": "tie", "tstamp": 1700000001.25, "language": "de"},
]


def export_fastchat(db: Path) -> list[dict[str, object]]:
    result = run("export", "--db", str(db), "--format", "fastchat")
    assert result.exit_code == 0, result.output
    records: list[dict[str, object]] = json.loads(result.stdout)
    return records


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(f"select count(*) from {table}").fetchone()[0])


def test_exporting_and_importing_into_the_same_file_adds_nothing(tmp_path: Path) -> None:
    db = tmp_path / "own.db"
    add_votes(db, VOTES)
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps(FOREIGN))
    assert run("import", str(foreign), "--db", str(db)).exit_code == 0
    exported = tmp_path / "exported.json"
    exported.write_text(json.dumps(export_fastchat(db)))
    sessions = count(db, "sessions")
    again = run("import", str(exported), "--db", str(db))
    assert again.exit_code == 0, again.output
    assert "imported 0 battles" in again.stdout and "6 already there" in again.stdout
    assert count(db, "battles") == 6
    assert count(db, "sessions") == sessions  # an import that adds nothing leaves no empty session


def test_a_round_trip_through_a_new_file_is_exact(tmp_path: Path) -> None:
    db = tmp_path / "own.db"
    add_votes(db, VOTES)
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps(FOREIGN))
    run("import", str(foreign), "--db", str(db))
    first = export_fastchat(db)
    copy = tmp_path / "copy.db"
    exported = tmp_path / "exported.json"
    exported.write_text(json.dumps(first))
    assert run("import", str(exported), "--db", str(copy)).exit_code == 0
    second = export_fastchat(copy)
    assert json.dumps(second, sort_keys=True) == json.dumps(first, sort_keys=True)  # types too: 1700000000 stays int
    imported = [record for record in first if record["model_a"] in ("x", "y")]
    assert [r["tstamp"] for r in imported] == [1700000000, 1700000001.25]
    assert isinstance(imported[0]["tstamp"], int)
    native = [record for record in first if record["model_a"] in ("a", "b")]
    assert all(isinstance(record.get("arena_uid"), str) for record in native)
    assert imported[1] == FOREIGN[1]  # an exact foreign record comes back exactly as it was
    assert "arena_uid" in imported[0]  # its "judge": null is not kept, so the uid travels along


@pytest.mark.parametrize(
    ("tstamp", "reason"),
    [("1e20", "tstamp out of range"), ("NaN", "NaN or Infinity"), ("Infinity", "NaN or Infinity"),
     ("-5", "tstamp out of range"), ("253402300800", "tstamp out of range")],
)  # fmt: skip
def test_an_impossible_timestamp_is_skipped_and_the_rest_imported(tmp_path: Path, tstamp: str, reason: str) -> None:
    good = json.dumps(FOREIGN[1])
    bad = '{"model_a": "p", "model_b": "q", "winner": "tie", "tstamp": ' + tstamp + "}"
    source = tmp_path / "mixed.jsonl"
    source.write_text(f"{good}\n{bad}\n")
    db = tmp_path / "t.db"
    result = run("import", str(source), "--db", str(db))
    assert result.exit_code == 0, result.output
    assert "imported 1 battle" in result.stdout and reason in result.stderr
    assert count(db, "battles") == 1


def test_json_too_deep_or_numbers_too_long_are_one_line(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    long_number = "9" * 5000
    listing = tmp_path / "deep.json"
    listing.write_text(deep)
    assert_one_line_error(run("import", str(listing), "--db", str(tmp_path / "d.db")), "unreadable JSON")
    lines = tmp_path / "lines.jsonl"
    lines.write_text(json.dumps(FOREIGN[1]) + "\n" + deep + "\n" + '{"tstamp": ' + long_number + "}\n")
    result = run("import", str(lines), "--db", str(tmp_path / "d.db"))
    assert result.exit_code == 0 and "skipped 2 malformed records: 2 invalid JSON" in result.stderr
    replay = tmp_path / "replay.jsonl"
    replay.write_text('{"prompt_id": "everyday/science-tides", "output": "x", "n": ' + long_number + "}\n")
    steady = f"replay:{EXAMPLES / 'steady.jsonl'}"
    assert_one_line_error(run("batch", "--limit", "1", "-m", f"replay:{replay}", "-m", steady), "unreadable JSON")
    prompts = tmp_path / "mine.jsonl"
    prompts.write_text(deep + "\n")
    assert_one_line_error(run("batch", "--prompts", str(prompts), "-m", steady), "unreadable JSON")
    toml = tmp_path / "mine.toml"
    toml.write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert_one_line_error(run("batch", "--prompts", str(toml), "-m", steady), "nested too deeply")


def test_an_edited_prompt_never_rewrites_earlier_battles(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    add_votes(db, [("a", "b", "left")])  # asked PROMPTS[0]: "Write a function."
    edited = Prompt(set=PROMPTS[0].set, id=PROMPTS[0].id, category="code", text="Write a class instead.")
    with Store(db) as store:
        writes.register(store, [], [edited])
        versions = store.query("select text from prompt_versions where prompt = ? order by first_seen", [edited.uid])
    assert [row["text"] for row in versions] == ["Write a function.", "Write a class instead."]
    [record] = json.loads(run("export", "--db", str(db), "--format", "json").stdout)["battles"]
    assert record["prompt_text"] == "Write a function."
    [pair] = [json.loads(line) for line in run("export", "--db", str(db), "--format", "dpo").stdout.splitlines()]
    assert pair["prompt"] == "Write a function."


def test_prompt_versions_travel_with_merge(tmp_path: Path) -> None:
    source = tmp_path / "judge.db"
    add_votes(source, [("a", "b", "left")])
    with Store(source) as store:
        writes.register(store, [], [Prompt(set=PROMPTS[0].set, id=PROMPTS[0].id, category="code", text="v2")])
    target = tmp_path / "all.db"
    assert run("merge", str(source), "--into", str(target)).exit_code == 0
    with sqlite3.connect(target) as conn:
        texts = sorted(row[0] for row in conn.execute("select text from prompt_versions where prompt = 'demo/p1'"))
    assert texts == ["Write a function.", "v2"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["leaderboard", "--anchor", "a=nan"], "--anchor"),
        (["leaderboard", "--anchor", "a=1e308"], "--anchor"),
        (["leaderboard", "--k", "1e308"], "--k"),
        (["batch", "--temperature", "nan", "-m", f"replay:{EXAMPLES / 'steady.jsonl'}"], "temperature"),
        (["batch", "--top-p", "inf", "-m", f"replay:{EXAMPLES / 'steady.jsonl'}"], "top"),
        (["batch", "-m", f"replay:{EXAMPLES / 'steady.jsonl'}?ttft=inf"], "finite"),
        (["batch", "-m", f"replay:{EXAMPLES / 'steady.jsonl'}?tps=1e-300"], "tps must be at least"),
    ],
)
def test_out_of_range_numbers_are_one_line(tmp_path: Path, args: list[str], fragment: str) -> None:
    db = tmp_path / "n.db"
    add_votes(db, VOTES)
    result = run(*args, "--db", str(db))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and fragment in result.stderr


def test_trust_remote_code_from_arena_toml_needs_the_command_line(tmp_path: Path) -> None:
    Path("arena.toml").write_text(  # the working directory of the test: an unreviewed checkout
        '[contestants.sneaky]\nspec = "hf:./not-here?trust_remote_code=true"\n'
    )
    refused = run("batch", "--limit", "1", "--db", str(tmp_path / "r.db"))
    assert_one_line_error(refused, "sneaky", "trust_remote_code", "--trust-remote-code")
    allowed = run("batch", "--limit", "1", "--trust-remote-code", "--db", str(tmp_path / "r.db"))
    assert allowed.exit_code == 2 and "--trust-remote-code" not in allowed.stderr  # now it fails on the path
    own = run("batch", "--limit", "1", "-m", "hf:./not-here?trust_remote_code=true", "--db", str(tmp_path / "r.db"))
    assert "--trust-remote-code" not in own.stderr  # said on the command line already
