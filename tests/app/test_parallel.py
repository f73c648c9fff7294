"""``arena batch --parallel N``: up to N requests in flight per server contestant, never more, every answer
stored in prompt order with what the server said it ran; models in this process keep one at a time."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from arena.backend import Contestant
from arena.judging.batch import lanes
from arena.prompts import load_prompt_set
from tests.support.engine_server import EngineLog, answer_to, engine
from tests.support.helpers import run


def test_parallel_requests_stay_within_n_and_are_stored_in_order(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    prompts = [prompt.text for prompt in load_prompt_set("everyday").prompts[:6]]
    with engine(token_delay_s=0.005, gather=3) as (url, log):  # each waits until 3 of its model are in flight
        result = run(
            "batch", "--db", str(db), "--limit", "6", "--parallel", "3", "--max-tokens", "400", "--json",
            "--model", f"openai:{url}?model=alpha", "--model", f"openai:{url}?model=beta",
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert log.most == {"alpha": 3, "beta": 3}  # three at once per contestant, never four
    assert sorted(message for _, message in log.arrived) == sorted(prompts * 2)
    payload = json.loads(result.stdout)
    assert payload["parallel"] == 3
    assert [(g["contestant"], g["output"]) for g in payload["generations"]] == [
        (label, answer_to(text)) for text in prompts for label in ("alpha", "beta")
    ]
    with sqlite3.connect(db) as conn:
        stored = conn.execute("select contestant, prompt, output, served_json from generations order by id").fetchall()
        settings = json.loads(conn.execute("select settings_json from sessions").fetchone()[0])
    uids = [prompt.uid for prompt in load_prompt_set("everyday").prompts[:6]]
    for label in ("alpha", "beta"):
        own = [row for row in stored if row[0] == label]
        assert [row[1] for row in own] == uids  # in prompt order, whichever finished first
        assert [row[2] for row in own] == [answer_to(text) for text in prompts]
        assert {json.loads(row[3])["model"] for row in own} == {f"{label}-build-7"}
        assert {json.loads(row[3])["system_fingerprint"] for row in own} == {"fp_engine"}
    assert settings["parallel"] == 3
    assert settings["loaded"]["alpha"]["extra"] == {"model": "alpha"}


def test_without_parallel_one_request_at_a_time_per_contestant(tmp_path: Path) -> None:
    with engine(gather=2, gather_timeout_s=0.2) as (url, log):
        result = run(
            "batch", "--db", str(tmp_path / "s.db"), "--limit", "3", "--max-tokens", "400",
            "--model", f"openai:{url}?model=alpha", "--model", f"openai:{url}?model=beta",
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert log.most == {"alpha": 1, "beta": 1}


def test_at_once_each_contestant_goes_at_its_own_pace(tmp_path: Path) -> None:
    """Issue 26: without --parallel the contestants still do not move in lockstep. beta's first answer is
    held until alpha has asked for all three prompts; prompt by prompt, alpha's second request would wait
    for beta's first answer, and the hold would run out."""

    def after_alphas_three(log: EngineLog, model: str) -> bool:
        return model != "beta" or sum(1 for asked, _ in log.arrived if asked == "alpha") >= 3

    db = tmp_path / "pace.db"
    with engine(hold=after_alphas_three, gather_timeout_s=20) as (url, log):
        result = run(
            "batch", "--db", str(db), "--limit", "3", "--max-tokens", "400",
            "--model", f"openai:{url}?model=alpha", "--model", f"openai:{url}?model=beta",
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert log.held_too_long == []  # alpha asked for all three while beta's first answer waited
    assert log.most == {"alpha": 1, "beta": 1}  # still one request at a time per contestant
    with sqlite3.connect(db) as conn:
        stored = conn.execute("select contestant, prompt from generations order by id").fetchall()
    uids = [prompt.uid for prompt in load_prompt_set("everyday").prompts[:3]]
    assert [prompt for label, prompt in stored if label == "alpha"] == uids
    assert [prompt for label, prompt in stored if label == "beta"] == uids


def test_sequential_goes_prompt_by_prompt_one_model_after_the_other(tmp_path: Path) -> None:
    from tests.support.helpers import EXAMPLES

    db = tmp_path / "seq.db"
    result = run(
        "batch", "--db", str(db), "--limit", "2", "--sequential",
        "--model", f"replay:{EXAMPLES / 'steady.jsonl'}", "--model", f"replay:{EXAMPLES / 'loopy.jsonl'}",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db) as conn:
        stored = conn.execute("select contestant, prompt from generations order by id").fetchall()
    uids = [prompt.uid for prompt in load_prompt_set("everyday").prompts[:2]]
    assert stored == [(label, uid) for uid in uids for label in ("steady", "loopy")]


def test_local_models_keep_one_generation_at_a_time() -> None:
    assert lanes(Contestant("m", "gguf", "m.gguf"), 8) == 1
    assert lanes(Contestant("m", "hf", "org/m"), 8) == 1
    assert lanes(Contestant("s", "openai", "http://x/v1"), 8) == 8


def test_parallel_with_local_models_says_it_does_not_apply(tmp_path: Path) -> None:
    from tests.support.helpers import EXAMPLES

    result = run(
        "batch", "--db", str(tmp_path / "l.db"), "--limit", "2", "--parallel", "4",
        "--model", f"replay:{EXAMPLES / 'steady.jsonl'}", "--model", f"replay:{EXAMPLES / 'loopy.jsonl'}",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "no contestant's backend serves requests in parallel" in result.stderr
    with sqlite3.connect(tmp_path / "l.db") as conn:
        assert conn.execute("select count(*) from generations").fetchone()[0] == 4
