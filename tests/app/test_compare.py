"""``arena report --compare``: two batch sessions over the same prompts, and which checks flipped."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.support.helpers import WriteReplay, assert_one_line_error, run

PROMPTS = """name = "c"
[[prompts]]
id = "three-sentences"
text = "Tell a story in exactly three sentences."
category = "writing"
constraints = [{kind = "sentences", exact = 3}]
[[prompts]]
id = "lowercase-only"
text = "Describe rain in lowercase only."
category = "writing"
constraints = [{kind = "lowercase"}]
"""
GOOD = {"c/three-sentences": "One. Two. Three.", "c/lowercase-only": "all lowercase here."}
WORSE = {"c/three-sentences": "One. Two. Three. Four. Five.", "c/lowercase-only": "all lowercase here."}


def _batch(db: Path, replay: Path, label: str) -> None:
    prompts = db.parent / "c.toml"
    prompts.write_text(PROMPTS)
    result = run("batch", "--prompts", str(prompts), "-m", f"replay:{replay}", "--label", label, "--db", str(db))
    assert result.exit_code == 0, result.output


def test_a_regression_and_a_fix_are_counted_per_prompt_with_both_answers(
    tmp_path: Path, write_replay: WriteReplay
) -> None:
    db = tmp_path / "c.db"
    _batch(db, write_replay("base", GOOD), "base")
    _batch(db, write_replay("tuned", WORSE), "tuned")
    sessions = [row[0] for row in sqlite3.connect(db).execute("select id from sessions order by id")]
    result = run("report", "--db", str(db), "--compare", str(sessions[0]), str(sessions[1]), "--json")
    assert result.exit_code == 0, result.output
    compared = json.loads(result.stdout)
    assert compared["before"]["contestant"] == "base" and compared["after"]["contestant"] == "tuned"
    regressions = [flip for flip in compared["flips"] if flip["kind"] == "regression"]
    assert [(flip["prompt"], flip["check"]) for flip in regressions] == [("c/three-sentences", "constraint:sentences")]
    assert regressions[0]["before"] == GOOD["c/three-sentences"]
    assert regressions[0]["after"] == WORSE["c/three-sentences"]
    assert compared["regressions"] == {"prompts": 1, "checks": 1} and compared["fixes"] == {"prompts": 0, "checks": 0}
    backwards = json.loads(
        run("report", "--db", str(db), "--compare", str(sessions[1]), str(sessions[0]), "--json").stdout
    )
    assert backwards["fixes"]["prompts"] == 1 and backwards["regressions"]["prompts"] == 0
    table = run("report", "--db", str(db), "--compare", str(sessions[0]), str(sessions[1])).stdout
    words = " ".join(table.split())  # the answers fold within their columns at 80 columns
    assert "regressions on 1 prompt" in words and "Four. Five." in words and "not shown at this width" not in words


def test_compare_refusals_are_one_line(tmp_path: Path, write_replay: WriteReplay) -> None:
    db = tmp_path / "c.db"
    (tmp_path / "c.toml").write_text(PROMPTS)
    two = run(
        "batch", "--prompts", str(tmp_path / "c.toml"), "-m", f"replay:{write_replay('a', GOOD)}", "-m",
        f"replay:{write_replay('b', WORSE)}", "--db", str(db),
    )  # fmt: skip
    assert two.exit_code == 0, two.output
    assert_one_line_error(run("report", "--db", str(db), "--compare", "1:a", "9"), "no session 9")
    assert_one_line_error(run("report", "--db", str(db), "--compare", "1", "1"), "name one as 1:LABEL")
    assert_one_line_error(run("report", "--db", str(db), "--compare", "x", "1"), "expected a session number")
    assert run("report", "--db", str(db), "--compare", "1:a", "1:b", "--json").exit_code == 0


def test_a_prompt_with_several_flips_shows_its_answers_once(tmp_path: Path, write_replay: WriteReplay) -> None:
    """The newcomer's compare was 313 lines for 8 prompts: both answers again for every check that flipped."""
    db = tmp_path / "c.db"
    prompts = db.parent / "c.toml"
    prompts.write_text(
        'name = "c"\n[[prompts]]\nid = "rain"\ntext = "Three lowercase sentences on rain."\ncategory = "w"\n'
        'constraints = [{kind = "sentences", exact = 3}, {kind = "lowercase"}]\n'
    )
    for label, answer in (
        ("base", "rain falls. it drips. it stops."),
        ("tuned", "Rain Falls. A. B. C. Drip-drop-end."),
    ):
        replay = write_replay(label, {"c/rain": answer})
        assert (
            run(
                "batch", "--prompts", str(prompts), "-m", f"replay:{replay}", "--label", label, "--db", str(db)
            ).exit_code
            == 0
        )
    compared = json.loads(run("report", "--db", str(db), "--compare", "1", "2", "--json").stdout)
    assert compared["regressions"] == {"prompts": 1, "checks": 2}
    table = run("report", "--db", str(db), "--compare", "1", "2").stdout
    words = " ".join(table.split())
    assert words.count("Drip-drop-end.") == 1 and "lowercase" in words and "sentences" in words
