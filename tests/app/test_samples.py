"""Several samples per prompt (``arena batch --samples K``) and the report's prompt-clustered intervals:
K answers per contestant and prompt, each with its own seed, stored with their index; the report counts a
prompt's answers as one cluster and says how often they disagree on a check ("flips")."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from arena.analysis.flags import Flag
from arena.analysis.stats import clustered_interval, wilson_interval
from arena.backend import Contestant, GenerationParams, GenerationResult
from arena.prompts import Prompt
from arena.reports.vibe_check import build_report
from arena.store import Store, writes
from tests.support.helpers import EXAMPLES, run

PROMPTS = [Prompt(set="t", id=name, category="misc", text=f"Question {name}?") for name in ("a", "b", "c")]


def test_batch_samples_store_k_answers_with_distinct_seeds(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    result = run(
        "batch", "--db", str(db), "--samples", "3", "--limit", "2", "--seed", "10", "--json",
        "--model", f"replay:{EXAMPLES / 'steady.jsonl'}", "--model", f"replay:{EXAMPLES / 'loopy.jsonl'}",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["samples"] == 3 and len(payload["generations"]) == 2 * 2 * 3
    assert sorted({(g["sample"], g["seed"]) for g in payload["generations"]}) == [(0, 10), (1, 11), (2, 12)]
    with sqlite3.connect(db) as conn:
        rows = conn.execute("select contestant, prompt, sample, params_json from generations").fetchall()
        settings = json.loads(conn.execute("select settings_json from sessions").fetchone()[0])
    assert settings["samples"] == 3
    by_answer: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for contestant, prompt, sample, params_json in rows:
        by_answer.setdefault((contestant, prompt), []).append((sample, json.loads(params_json)["seed"]))
    assert len(by_answer) == 4
    assert all(sorted(found) == [(0, 10), (1, 11), (2, 12)] for found in by_answer.values())


def test_the_flip_figure_and_clustered_rates_on_a_hand_made_case(tmp_path: Path) -> None:
    """Prompt a: three answers, the second loops (1 flip of 2 checks: repetitive flips, garbage does not);
    prompt b: two answers, both loop (no flip); prompt c: one answer (no pair to compare)."""
    answers = {
        "a": [
            {"repetitive": False, "garbage": False},
            {"repetitive": True, "garbage": False},
            {"repetitive": False, "garbage": False},
        ],
        "b": [{"repetitive": True, "garbage": False}, {"repetitive": True, "garbage": False}],
        "c": [{"repetitive": False, "garbage": True}],
    }
    with Store(tmp_path / "f.db") as store:
        writes.register(store, [Contestant("m", "replay", "m.jsonl")], PROMPTS)
        session = writes.start_session(store, "batch", None)
        for prompt in PROMPTS:
            for sample, checks in enumerate(answers[prompt.id]):
                writes.record_generation(
                    store,
                    session=session,
                    contestant="m",
                    prompt=prompt.uid,
                    messages=prompt.messages(),
                    params=GenerationParams(seed=sample),
                    result=GenerationResult(text="x", n_tokens=1, finish_reason="stop"),
                    flags=[Flag(name, hit) for name, hit in checks.items()],
                    sample=sample,
                )
        (row,) = build_report(store, session)
    assert row.flips is not None and (row.flips.hits, row.flips.n) == (1, 4)  # a: 1 of 2 checks, b: 0 of 2
    assert row.flippiest == ("t/a",)
    loops = row.rates["repetitive"]
    assert (loops.hits, loops.n) == (3, 6)
    assert (loops.low, loops.high) == clustered_interval([(1, 3), (2, 2), (0, 1)])
    assert loops.high - loops.low > wilson_interval(3, 6)[1] - wilson_interval(3, 6)[0]  # prompts lean: wider


def test_the_clustered_interval_is_wilson_when_answers_do_not_repeat_and_wider_when_they_lean() -> None:
    assert clustered_interval([(1, 1), (0, 1), (1, 1), (0, 1)]) == wilson_interval(2, 4)
    assert clustered_interval([(3, 7)]) == wilson_interval(3, 7)  # one cluster: nothing to correct with
    leaning = clustered_interval([(10, 10), (0, 10), (10, 10), (0, 10)])
    independent = clustered_interval([(5, 10), (5, 10), (5, 10), (5, 10)])
    assert leaning[1] - leaning[0] > 2 * (independent[1] - independent[0])
    assert independent == wilson_interval(20, 40)  # no more spread than binomial: never narrower than Wilson
    assert clustered_interval([(3, 3), (3, 3), (3, 3)]) == wilson_interval(3, 3)  # all hits: a prompt counts once


def test_the_report_shows_flips_only_where_a_prompt_has_several_answers(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    models = ["--model", f"replay:{EXAMPLES / 'steady.jsonl'}", "--model", f"replay:{EXAMPLES / 'loopy.jsonl'}"]
    assert run("batch", "--db", str(db), "--limit", "2", *models).exit_code == 0
    single = json.loads(run("report", "--db", str(db), "--json").stdout)
    assert all(row["flips"] is None for row in single)
    assert "flips (samples disagree)" not in run("report", "--db", str(db), "--markdown").stdout
    assert run("batch", "--db", str(db), "--limit", "2", "--samples", "2", *models).exit_code == 0
    several = json.loads(run("report", "--db", str(db), "--json").stdout)
    assert all(row["flips"]["n"] > 0 and row["flips"]["hits"] == 0 for row in several)  # replays never flip
    assert "flips (samples disagree)" in run("report", "--db", str(db), "--markdown").stdout


def test_each_batch_samples_with_a_fresh_seed_unless_given_one(tmp_path: Path) -> None:
    """Without --seed a second batch must not repeat the first one's samples: each gets a fresh seed, shown
    and stored; --seed N repeats a batch."""
    db = tmp_path / "f.db"
    models = ["--model", f"replay:{EXAMPLES / 'steady.jsonl'}", "--model", f"replay:{EXAMPLES / 'loopy.jsonl'}"]
    seeds = []
    for _ in range(2):
        done = run("batch", "--db", str(db), "--limit", "1", "--json", *models)
        assert done.exit_code == 0, done.output
        seeds.append(json.loads(done.stdout)["params"]["seed"])
    given = json.loads(run("batch", "--db", str(db), "--limit", "1", "--seed", "5", "--json", *models).stdout)
    assert seeds[0] != seeds[1] and given["params"]["seed"] == 5
    with sqlite3.connect(db) as conn:
        stored = [json.loads(row[0])["params"]["seed"] for row in conn.execute("select settings_json from sessions")]
    assert stored == [*seeds, 5]
    text = run("batch", "--db", str(db), "--limit", "1", "--seed", "9", *models).stdout
    assert "sampling seed 9: --seed 9 repeats it" in " ".join(text.split())
