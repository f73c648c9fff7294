"""Items of the third hostile review (``shared/reviews/hostile-2026-11.md``) beyond the browser's security: each
test is a reproduction from the report that failed on 8f461b8."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from arena.analysis.judges import MAX_EVIDENCE, Vote, judge_report
from tests.helpers import EXAMPLES, assert_one_line_error, run

MODELS = ["--model", f"replay:{EXAMPLES / 'steady.jsonl'}", "--model", f"replay:{EXAMPLES / 'loopy.jsonl'}"]


def test_item_8_an_unhashable_winner_is_skipped_and_the_valid_records_are_imported(tmp_path: Path) -> None:
    battles = tmp_path / "w.json"
    valid = {"model_a": "a", "model_b": "b", "winner": "model_a", "question_id": "q1"}
    records = [{**valid, "winner": ["model_a"]}, valid, {**valid, "winner": {"x": 1}, "question_id": "q2"}]
    battles.write_text(json.dumps(records), encoding="utf-8")
    result = run("import", str(battles), "--db", str(tmp_path / "x.db"))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    board = json.loads(run("leaderboard", "--db", str(tmp_path / "x.db"), "--json", "--rounds", "0").stdout)
    assert sum(row["battles"] for row in board) == 2  # the one valid battle, seen from both sides


def test_item_11_a_contrarian_against_a_large_crowd_gives_finite_json() -> None:
    crowd = [Vote("crowd", f"q{n}", "a", "b", "left") for n in range(1000)]
    contrarian = [Vote("x", f"q{n}", "a", "b", "right") for n in range(300)]
    report = judge_report(crowd + contrarian)
    found = {judge.judge: judge for judge in report.judges}
    assert found["x"].flagged and found["x"].evidence == MAX_EVIDENCE
    text = json.dumps(report.to_dict(), allow_nan=False)  # raises on Infinity or NaN
    assert "Infinity" not in text


def test_item_12_judges_scale_with_the_votes_not_the_judges_squared() -> None:
    """3,000 judges with two votes each: only pairs that judged an item in common are compared."""
    votes = [Vote(f"j{n // 2}", f"q{n % 50}", "a", "b", "left" if n % 3 else "right") for n in range(6000)]
    report = judge_report(votes)
    assert len(report.judges) == 3000
    assert all(pair.shared > 0 for pair in report.pairs)
    assert len(report.pairs) < 3000 * 2999 // 2 // 10  # not every pair of judges


def test_item_26_rounds_have_an_upper_bound(tmp_path: Path) -> None:
    result = run("leaderboard", "--db", str(tmp_path / "x.db"), "--rounds", "100000000")
    assert result.exit_code == 2 and "100000000" in result.output and "Traceback" not in result.output


def test_item_17_a_taken_port_is_one_line_before_any_model_loads(tmp_path: Path) -> None:
    pytest.importorskip("textual_serve")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        result = run("serve", "--port", str(port), *MODELS, "--db", str(tmp_path / "s.db"))
    assert_one_line_error(result, f"cannot listen on 127.0.0.1:{port}")
    assert time.monotonic() - started < 30
    bad = run("serve", "--host", "999.1.1.1", *MODELS, "--db", str(tmp_path / "s.db"))
    assert_one_line_error(bad, "cannot listen on 999.1.1.1")


def test_item_18_listening_everywhere_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("textual_serve")
    monkeypatch.setattr("arena.web.serve.serve", lambda *args, **kwargs: None)  # do not actually listen
    monkeypatch.setattr("arena.web.serve.check_listen", lambda host, port: None)
    result = run("serve", "--host", "0.0.0.0", "--no-check", *MODELS, "--db", str(tmp_path / "s.db"))
    assert result.exit_code == 0, result.output
    assert "every network interface" in result.stderr and "anyone who can reach this machine" in result.stderr
    local = run("serve", "--no-check", *MODELS, "--db", str(tmp_path / "s.db"))
    assert "every network interface" not in local.stderr


def _file_with_votes(tmp_path: Path, name: str) -> Path:
    from tests.votes import add_votes

    db = tmp_path / name
    add_votes(db, [("a", "b", "left"), ("b", "a", "right"), ("a", "b", "tie")] * 4)
    return db


def test_item_9_rows_without_uids_are_merged_once(tmp_path: Path) -> None:
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


def test_item_10_odd_values_in_a_merged_file_do_not_crash_reading_commands(tmp_path: Path) -> None:
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


def test_item_24_a_byte_order_mark_is_not_a_broken_file(tmp_path: Path) -> None:
    bom = tmp_path / "bom.json"
    bom.write_bytes(b'\xef\xbb\xbf[{"model_a":"a","model_b":"b","winner":"tie","question_id":"q"}]')
    result = run("import", str(bom), "--db", str(tmp_path / "x.db"))
    assert result.exit_code == 0, result.output
    lines = tmp_path / "bom.jsonl"
    lines.write_bytes(b'\xef\xbb\xbf{"model_a":"a","model_b":"b","winner":"model_a","question_id":"q2"}\n')
    assert run("import", str(lines), "--db", str(tmp_path / "x.db")).exit_code == 0
    board = json.loads(run("leaderboard", "--db", str(tmp_path / "x.db"), "--json", "--rounds", "0").stdout)
    assert sum(row["battles"] for row in board) == 4


HIDDEN_IN_NAMES = ["\u3164", "\u2800\u2800", "alice\u034f", "alice\ufe0f", "al\u00adice", "alice\U000e0041", "a\u180eb"]


def test_items_13_14_the_sanitizer_knows_every_format_character_and_keeps_emoji_whole() -> None:
    import sys
    import unicodedata

    from arena.untrusted import _HIDDEN, json_text, visible

    uncovered = [
        f"U+{code:04X}"
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in ("Cc", "Cf", "Cs", "Zl", "Zp")
        and chr(code) not in "\t\n"
        and not _HIDDEN.fullmatch(chr(code))
    ]
    assert uncovered == []  # the written-out spans match this Python's Unicode database
    for text in [*HIDDEN_IN_NAMES, "a\U000e0049b"]:
        shown = visible(text)
        assert (shown != text and "\\u" in shown) or "\\x" in shown or "\\U" in shown, text
        assert json.loads(json_text(text)) == text  # JSON stays exact
    for emoji in ("\U0001f469\u200d\U0001f4bb dev", "\u2764\ufe0f", "\U0001f3f3\ufe0f\u200d\U0001f308"):
        assert visible(emoji) == emoji


def test_items_13_14_judge_names_are_normalized_and_blank_ones_refused(tmp_path: Path) -> None:
    from arena.judging.names import judge_name, judge_name_problem

    for hidden in HIDDEN_IN_NAMES:
        assert judge_name_problem(hidden) is not None, hidden
    assert judge_name_problem("\U0001f469\u200d\U0001f4bb dev") is None  # a ZWJ emoji is a fine name
    assert judge_name("jose\u0301") == "jos\u00e9"
    result = run("play", *MODELS, "--db", str(tmp_path / "p.db"), "--judge", "\u3164")
    assert_one_line_error(result, "Printable characters only", "\\u3164")
    assert not (tmp_path / "p.db").exists()


def test_item_24_nan_in_an_imported_record_is_skipped_so_exports_stay_json(tmp_path: Path) -> None:
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


def test_item_27_odd_db_paths_are_one_line(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "f.db"
    os.mkfifo(fifo)
    started = time.monotonic()
    assert_one_line_error(run("leaderboard", "--db", str(fifo)), "not a regular file")
    assert_one_line_error(run("batch", *MODELS, "--db", str(fifo)), "not a regular file")
    assert time.monotonic() - started < 30  # refused at once, not blocked on the pipe
    long = tmp_path / ("x" * 5000 + ".db")
    assert_one_line_error(run("leaderboard", "--db", str(long)), "--db")
    assert_one_line_error(run("batch", *MODELS, "--db", str(long)), "--db")


async def test_item_7_ending_the_app_stops_the_streams(tmp_path: Path) -> None:
    """ctrl+q (or a browser tab closed under arena serve) ends the app without the arena's own q: the answers
    must stop too, not keep generating (and keep the judge's slot) until they are done."""
    from tests.tui_helpers import make_app, wait_for

    endless = {"t/one": "word " * 400, "t/two": "x", "t/three": "y"}
    app = make_app(tmp_path, endless, endless, tps=20)  # 20 s of answer
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.session.current is not None)
        await pilot.pause(0.3)
        await pilot.press("ctrl+q")
    current = app.opened.current if app.opened is not None else None
    assert current is not None
    deadline = time.monotonic() + 20
    while len(current.finished) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert {answer.result.finish_reason for answer in current.finished.values()} == {"cancelled"}


def test_item_24_thousands_of_distinct_bad_values_give_a_short_summary(tmp_path: Path) -> None:
    battles = tmp_path / "many.jsonl"
    lines = [json.dumps({"model_a": "a", "model_b": "b", "winner": f"w{n}"}) for n in range(2000)]
    lines.append(json.dumps({"model_a": "a", "model_b": "b", "winner": "tie", "question_id": "q"}))
    battles.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("import", str(battles), "--db", str(tmp_path / "x.db"))
    assert result.exit_code == 0
    summary = next(line for line in result.stderr.splitlines() if line.startswith("skipped"))
    assert len(summary) < 600 and "and 1990 for 1990 other reasons" in summary
