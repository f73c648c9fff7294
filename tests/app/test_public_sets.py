"""Votes collected elsewhere, imported as battles (issue 38, item 2): LMArena's public battle sets and Open
WebUI's evaluation feedback.

Neither can be fetched here (no hub, no Open WebUI server), so the files are written in the shapes those
projects publish: LMArena's ``arena-human-preference-140k`` parquet schema (nested content parts, ``both_bad``,
``timestamp``, ``category_tag`` with its four classifier groups, ``is_code``, ``language``), its ``-100k`` JSON
shape (``tie (bothbad)``, ``num_tokens`` on each message, ``judge_hash``), and Open WebUI's feedback export
(``FeedbackModel`` of ``open_webui/models/feedbacks.py``: ``data.rating``, ``model_id``,
``sibling_model_ids``, ``meta.message_id``, the chat's ``snapshot``).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.helpers import REPO, assert_one_line_error, run

CATEGORY_OF_TAG = {
    "code": "coding",
    "math": "math",
    "if": "instruction-following",
    "creative": "creative-writing",
    "hard": "hard",
    "none": "general",
}
CRITERIA = ("complexity", "creativity", "domain_knowledge", "problem_solving", "real_world", "specificity",
            "technical_accuracy")  # fmt: skip


def lmarena_row(index: int, tag: str, winner: str, rng: random.Random) -> dict[str, Any]:
    """One battle in the 140k set's shape, with exactly the tags that make ``tag`` its category."""
    models = rng.sample(["gemma-3-27b", "qwen3-8b", "llama-4-scout", "smollm2-q4"], 2)
    question = f"question {index}: {'write a sort' if tag == 'code' else 'tell me something'}"

    def conversation(model: str) -> list[dict[str, Any]]:
        return [
            {"role": "user", "content": [{"type": "text", "text": question, "image": None, "mimeType": None}]},
            {"role": "assistant", "content": [{"type": "text", "text": f"{model} says ", "image": None,
                                               "mimeType": None},
                                              {"type": "text", "text": f"answer {index}", "image": None,
                                               "mimeType": None}]},
        ]  # fmt: skip

    return {
        "id": f"{index:08x}-0000-4000-8000-000000000000",
        "model_a": models[0],
        "model_b": models[1],
        "winner": winner,
        "evaluation_order": 1,
        "conversation_a": conversation(models[0]),
        "conversation_b": conversation(models[1]),
        "category_tag": {
            "criteria_v0.1": {name: tag == "hard" or (tag != "none" and name == "complexity") for name in CRITERIA},
            "if_v0.1": {"if": tag == "if", "score": 4 if tag == "if" else 1},
            "math_v0.1": {"math": tag == "math"},
            "creative_writing_v0.1": {"creative_writing": tag == "creative", "score": "no"},
        },
        "language": rng.choice(["English", "German", "Chinese"]),
        "is_code": tag == "code",
        "timestamp": dt.datetime(2025, 4, 2, 18, 13, 57) + dt.timedelta(minutes=index),
    }


def write_parquet(path: Path, rows: list[dict[str, Any]]) -> Path:
    pa = pytest.importorskip("pyarrow", reason="needs pyarrow: pip install -e '.[test]'")
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def table(db: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(query).fetchall()


def test_an_lmarena_parquet_set_imports_with_its_categories(tmp_path: Path) -> None:
    rng = random.Random(7)
    tags = list(CATEGORY_OF_TAG)
    winners = ["model_a", "model_b", "tie", "both_bad"]
    rows = [lmarena_row(index, tags[index % len(tags)], winners[index % 4], rng) for index in range(48)]
    source = write_parquet(tmp_path / "train-00000-of-00001.parquet", rows)
    db = tmp_path / "lmarena.db"
    imported = run("import", str(source), "--db", str(db))
    assert imported.exit_code == 0, imported.output
    assert "imported 48 battles" in imported.output
    stored = table(
        db,
        "select b.left_contestant, b.verdict, b.tstamp, p.category, p.text, gl.output from battles b "
        "join prompts p on p.id = b.prompt join generations gl on gl.id = b.left_generation order by b.id",
    )
    verdicts = {"model_a": "left", "model_b": "right", "tie": "tie", "both_bad": "both_bad"}
    for row, (model, verdict, tstamp, category, prompt, answer) in zip(rows, stored, strict=True):
        assert (model, verdict) == (row["model_a"], verdicts[row["winner"]])
        assert category == CATEGORY_OF_TAG[tags[rows.index(row) % len(tags)]]
        assert tstamp == row["timestamp"].replace(tzinfo=dt.timezone.utc).timestamp()
        assert prompt == row["conversation_a"][0]["content"][0]["text"]
        assert answer == "".join(part["text"] for part in row["conversation_a"][1]["content"])  # the parts joined
    board = run("leaderboard", "--category", "math", "--db", str(db), "--json", "--rounds", "0")
    assert board.exit_code == 0, board.output
    assert sum(entry["battles"] for entry in json.loads(board.stdout)) == 2 * 8  # the math battles only
    again = run("import", str(source), "--db", str(db))
    assert "imported 0 battles" in again.output and "48 already there" in again.output
    exported = tmp_path / "out.json"
    assert run("export", "--format", "fastchat", "--out", str(exported), "--db", str(db)).exit_code == 0
    records = json.loads(exported.read_text(encoding="utf-8"))
    assert records[0]["language"] == rows[0]["language"] and records[0]["category_tag"] == rows[0]["category_tag"]
    copy = tmp_path / "copy.db"
    assert run("import", str(exported), "--db", str(copy)).exit_code == 0
    assert table(copy, "select p.category, count(*) from battles b join prompts p on p.id = b.prompt group by 1") == (
        table(db, "select p.category, count(*) from battles b join prompts p on p.id = b.prompt group by 1")
    )


def test_the_older_lmarena_json_shape_imports_too(tmp_path: Path) -> None:
    """The 100k set: FastChat's fields, with ``num_tokens`` on each message and LMArena's extra columns."""
    record = {
        "question_id": "a1b2c3",
        "model_a": "gpt-4o-mini",
        "model_b": "llama-3.1-8b",
        "winner": "tie (bothbad)",
        "judge_hash": "9f8e7d",
        "conversation_a": [{"role": "user", "content": "Hi", "num_tokens": 1},
                           {"role": "assistant", "content": "Hello!", "num_tokens": 2}],
        "conversation_b": [{"role": "user", "content": "Hi", "num_tokens": 1},
                           {"role": "assistant", "content": "Hey.", "num_tokens": 2}],
        "turn": 1, "anony": True, "language": "English", "tstamp": 1719000000.5, "is_code": False,
        "category_tag": {"math_v0.1": {"math": False}, "if_v0.1": {"if": True, "score": 3}},
    }  # fmt: skip
    source = tmp_path / "arena-100k.jsonl"
    source.write_text(json.dumps(record) + "\n", encoding="utf-8")
    db = tmp_path / "older.db"
    assert "imported 1 battle" in run("import", str(source), "--db", str(db)).output
    assert table(db, "select b.verdict, p.category from battles b join prompts p on p.id = b.prompt") == [
        ("both_bad", "instruction-following")
    ]


def test_a_parquet_file_without_pyarrow_is_one_line(tmp_path: Path) -> None:
    source = tmp_path / "battles.parquet"
    source.write_bytes(b"PAR1 not really")
    blocked = "import sys; sys.modules['pyarrow'] = None; sys.modules['pyarrow.parquet'] = None; "
    done = subprocess.run(
        [sys.executable, "-c", blocked + "from arena.cli import main; main()", "import", str(source),
         "--db", str(tmp_path / "x.db")],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"Error: {source}: reading parquet needs pyarrow: pip install 'vibe-arena[parquet]' (or convert the file "
        "to JSONL)"
    ]
    if __import__("importlib").util.find_spec("pyarrow") is not None:
        assert_one_line_error(run("import", str(source), "--db", str(tmp_path / "x.db")), "not a readable parquet")


def feedback(
    feedback_id: str, rated: str, siblings: list[str], rating: int | str, user: str, *, both_answers: bool
) -> dict[str, Any]:
    """One entry of Open WebUI's "Export All Feedbacks": a rating of ``rated``'s answer in a chat where
    ``siblings`` answered beside it (``both_answers``: their answers are in the snapshot, as in a chat with
    several models; else arena mode, where the person saw one answer)."""
    messages: dict[str, Any] = {
        "u1": {"id": "u1", "parentId": None, "childrenIds": ["a1"], "role": "user", "content": f"question {feedback_id}",
               "timestamp": 1733500000},
        "a1": {"id": "a1", "parentId": "u1", "childrenIds": [], "role": "assistant", "model": rated,
               "content": f"{rated} answers {feedback_id}", "done": True},
    }  # fmt: skip
    if both_answers:
        for number, sibling in enumerate(siblings, 2):
            messages[f"a{number}"] = {"id": f"a{number}", "parentId": "u1", "childrenIds": [], "role": "assistant",
                                      "model": sibling, "content": f"{sibling} answers {feedback_id}"}  # fmt: skip
    return {
        "id": feedback_id,
        "user_id": user,
        "version": 0,
        "type": "rating",
        "data": {"rating": rating, "model_id": rated, "sibling_model_ids": siblings, "reason": "Accurate information",
                 "comment": "clear <b>and</b> short", "tags": ["science"], "details": {"rating": 8}},
        "meta": {"arena": not both_answers, "chat_id": f"chat-{feedback_id}", "message_id": "a1",
                 "tags": ["science"]},
        "snapshot": {"chat": {"id": f"chat-{feedback_id}", "user_id": user, "title": "t",
                              "chat": {"models": [rated, *siblings], "history": {"currentId": "a1",
                                                                                  "messages": messages}}}},
        "created_at": 1733500100,
        "updated_at": 1733500100,
    }  # fmt: skip


def test_open_webui_feedback_counts_as_open_webui_counts_it(tmp_path: Path) -> None:
    entries = [
        feedback("f1", "qwen3:8b", ["gemma3:4b"], 1, "user-1", both_answers=True),
        feedback("f2", "gemma3:4b", ["qwen3:8b"], "-1", "user-2", both_answers=True),
        feedback("f3", "qwen3:8b", ["gemma3:4b", "llama3.2:3b"], 1, "user-1", both_answers=False),
        feedback("f4", "llama3.2:3b", [], 1, "user-2", both_answers=False),  # a thumbs alone: no comparison
    ]
    source = tmp_path / "feedback-history-export.json"
    source.write_text(json.dumps(entries), encoding="utf-8")
    db = tmp_path / "owui.db"
    result = run("import", str(source), "--db", str(db))
    assert result.exit_code == 0, result.output
    assert "imported 4 battles" in result.output  # f1, f2, and f3 against each of its two siblings
    assert "1 a rating of one model with no other beside it (not a comparison)" in result.stderr
    battles = table(
        db,
        "select b.left_contestant, b.right_contestant, b.verdict, b.judge, gl.output, gr.output from battles b "
        "left join generations gl on gl.id = b.left_generation left join generations gr on gr.id = b.right_generation "
        "order by b.id",
    )
    assert battles == [
        ("qwen3:8b", "gemma3:4b", "left", "user-1", "qwen3:8b answers f1", "gemma3:4b answers f1"),
        ("gemma3:4b", "qwen3:8b", "right", "user-2", "gemma3:4b answers f2", "qwen3:8b answers f2"),
        ("qwen3:8b", "gemma3:4b", "left", "user-1", "qwen3:8b answers f3", None),  # arena mode: one answer seen
        ("qwen3:8b", "llama3.2:3b", "left", "user-1", "qwen3:8b answers f3", None),
    ]
    board = {entry["contestant"]: entry for entry in json.loads(run("leaderboard", "--db", str(db), "--json").stdout)}
    assert (board["qwen3:8b"]["wins"], board["qwen3:8b"]["losses"]) == (4, 0)  # Open WebUI's own win/loss count
    exported = json.loads(run("export", "--format", "fastchat", "--db", str(db)).stdout)
    assert exported[0]["open_webui"]["comment"] == "clear <b>and</b> short" and exported[0]["category"] == "science"
    assert "imported 0 battles" in run("import", str(source), "--db", str(db)).output
