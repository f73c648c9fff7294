"""Flags stored with every generation, `arena flags`, and the batch / `arena report` vibe check."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from arena.prompts import load_prompt_set
from tests.support.helpers import EXAMPLES, WriteReplay, assert_one_line_error, run

LOOP = " ".join(f"The answer is {n}." for n in range(40, 48))


def test_flags_on_a_loop_shows_the_span(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text(LOOP)
    result = run("flags", str(path), "--json")
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    by_name = {flag["name"]: flag for flag in payload["flags"]}
    assert by_name["repetitive"]["hit"] is True
    assert by_name["repetitive"]["evidence"] == ["The answer is 40."]
    assert set(payload["counts"]) == {"words", "characters", "sentences", "tokens", "headers", "list_items", "bold"}
    assert payload["counts"]["sentences"] == 8
    table = run("flags", str(path)).stdout
    assert "repetitive" in table and "HIT" in table and "The answer is 40." in table
    assert not {"no_chat_template", "identity_prompt"} & set(by_name)  # a text file cannot tell: not "ok"
    assert "not checked on a file" in table


def test_flags_on_clean_prose_hits_nothing(tmp_path: Path) -> None:
    path = tmp_path / "clean.txt"
    path.write_text(
        "The Moon pulls on the near side of the Earth more strongly than on the far side, so the oceans bulge "
        "towards it and away from it. As the Earth turns, a coast passes through both bulges each day."
    )
    payload = json.loads(run("flags", str(path), "--json").stdout)
    assert [flag["name"] for flag in payload["flags"] if flag["hit"]] == []


def test_flags_with_a_prompt_and_finish_reason_from_stdin() -> None:
    result = run(
        "flags",
        "-",
        "--prompt",
        "everyday/child-photosynthesis",
        "--finish-reason",
        "length",
        "--json",
        input="Plants eat light. They drink water. They breathe out air. The end.",
    )
    hit = {flag["name"]: flag for flag in json.loads(result.stdout)["flags"] if flag["hit"]}
    assert set(hit) == {"truncated", "constraint:sentences"}
    assert hit["constraint:sentences"]["evidence"] == ["4 sentences (wanted exactly 3)"]


def test_flags_errors(tmp_path: Path) -> None:
    assert_one_line_error(run("flags", str(tmp_path / "none.txt")), "file not found")
    path = tmp_path / "t.txt"
    path.write_text("hi")
    assert_one_line_error(run("flags", str(path), "--prompt", "everyday/nope"), "no prompt 'nope' in set 'everyday'")
    assert_one_line_error(run("flags", str(path), "--prompt", "justanid"), "expected SET/ID")


def _constraint_outputs(write_replay: WriteReplay) -> tuple[Path, Path]:
    """Two contestants over the constraints set: one keeps every constraint it can, one answers lazily."""
    prompts = load_prompt_set("constraints").prompts
    good = write_replay("careful", {p.uid: "yes, this is fine." for p in prompts})
    bad = write_replay("lazy", {p.uid: LOOP for p in prompts})
    return good, bad


def test_batch_over_constraints_prints_the_report_with_intervals(tmp_path: Path, write_replay: WriteReplay) -> None:
    good, bad = _constraint_outputs(write_replay)
    db = tmp_path / "c.db"
    result = run(
        "batch", "--prompts", "constraints", "--model", f"replay:{good}", "--model", f"replay:{bad}", "--db", str(db)
    )
    assert result.exit_code == 0, result.output
    assert "vibe check" in result.stdout
    assert "30/30 100%" in result.stdout  # every lazy answer loops
    assert "(89-100)" in result.stdout  # Wilson interval of 30/30
    conn = sqlite3.connect(db)
    assert conn.execute("select count(*) from flags where name = 'repetitive' and hit = 1").fetchone()[0] == 30
    per_generation = conn.execute("select count(*) from flags group by generation").fetchall()
    assert len(per_generation) == 60 and all(n >= 6 for (n,) in per_generation)  # 5 detectors + >= 1 constraint
    counts = conn.execute(
        "select n_words, n_sentences, n_chars from generations where contestant = 'lazy' limit 1"
    ).fetchone()
    assert counts == (32, 8, len(LOOP))


def test_report_json_markdown_and_noise(tmp_path: Path, write_replay: WriteReplay) -> None:
    good, bad = _constraint_outputs(write_replay)
    db = tmp_path / "r.db"
    paced = "?tps=100000"  # a replay reports a speed only when paced
    run(
        "batch",
        "--prompts",
        "constraints",
        "-m",
        f"replay:{good}{paced}",
        "-m",
        f"replay:{bad}{paced}",
        "--db",
        str(db),
    )
    rows = json.loads(run("report", "--db", str(db), "--json").stdout)
    careful, lazy = rows
    assert careful["contestant"] == "careful" and careful["repetitive"]["versus_first"] is None
    assert lazy["repetitive"]["hits"] == 30 and lazy["repetitive"]["versus_first"] == "higher"
    assert lazy["repetitive"]["ci"][0] > careful["repetitive"]["ci"][1]
    assert lazy["empty"]["versus_first"] == "≈"  # neither is ever empty: no difference at all
    assert careful["constraints"]["n"] == lazy["constraints"]["n"] > 30
    assert lazy["speed_ratio"] is not None
    markdown = run("report", "--db", str(db), "--markdown").stdout
    assert markdown.startswith("| contestant | gens | stopped | constraints met | empty | truncated | repetitive |")
    header, *lines = [line.strip("|").split(" | ") for line in markdown.splitlines() if line.startswith("| ")]
    lazy_row = next(line for line in lines if line[0].strip() == "lazy")
    assert lazy_row[header.index("repetitive")].strip() == "30/30 100% (89-100)"
    assert lazy_row[1:3] == ["30", "0"]


def test_report_on_the_example_batch_marks_small_differences_as_noise(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    run(
        "batch",
        "--model",
        f"replay:{EXAMPLES / 'steady.jsonl'}",
        "--model",
        f"replay:{EXAMPLES / 'loopy.jsonl'}",
        "--db",
        str(db),
    )
    rows = json.loads(run("report", "--db", str(db), "--json").stdout)
    loopy = rows[1]
    assert loopy["repetitive"]["hits"] >= 3
    assert loopy["repetitive"]["versus_first"] == "≈"  # 8 prompts cannot separate them
    assert rows[0]["repetitive"]["hits"] == rows[0]["garbage"]["hits"] == 0


def test_report_errors(tmp_path: Path) -> None:
    assert_one_line_error(run("report", "--db", str(tmp_path / "none.db")), "no database at")
    db = tmp_path / "empty.db"
    from arena.store import Store

    Store(db).close()
    assert_one_line_error(run("report", "--db", str(db)), "no generations to report on")


def test_report_leaves_out_stopped_answers_and_keeps_the_model_order(tmp_path: Path, write_replay: WriteReplay) -> None:
    """An answer the judge stopped with esc says nothing about loops or constraints: counted apart."""
    prompts = load_prompt_set("everyday").prompts
    zebra = write_replay("zebra", {p.uid: "A fine answer. It ends here." for p in prompts})
    records = [{"prompt_id": p.uid, "output": LOOP, "finish_reason": "cancelled"} for p in prompts[:3]]
    records += [{"prompt_id": p.uid, "output": "Short and clean."} for p in prompts[3:]]
    apple = write_replay("apple", records)
    db = tmp_path / "c.db"
    result = run("batch", "--model", f"replay:{zebra}", "--model", f"replay:{apple}", "--db", str(db))
    assert result.exit_code == 0, result.output
    rows = json.loads(run("report", "--db", str(db), "--json").stdout)
    assert [row["contestant"] for row in rows] == ["zebra", "apple"]  # the --model order, not alphabetical
    apple_row = rows[1]
    assert apple_row["generations"] == len(prompts) and apple_row["cancelled"] == 3
    assert apple_row["repetitive"]["n"] == len(prompts) - 3 and apple_row["repetitive"]["hits"] == 0
