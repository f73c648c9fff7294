"""A reward model as an automatic judge (``arena autojudge --judge reward:hf:PATH``), end to end on a tiny
reward model built here from the tiny llama: each answer scored once, the verdict and its probability stored,
then its report card in ``arena judges`` and the board it assists (``arena leaderboard --assisted-by``)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from arena.demo.tinymodels import TinyModels
from arena.store import Store, writes
from tests.support.helpers import EXAMPLES, assert_one_line_error, run


@pytest.fixture(scope="module")
def reward_model(tiny: TinyModels, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny llama with a one-output score head (seeded): a reward model as transformers saves one."""
    import torch
    from transformers import AutoConfig, AutoTokenizer, LlamaForSequenceClassification

    torch.manual_seed(0)
    config = AutoConfig.from_pretrained(tiny.hf)
    config.num_labels = 1
    config.pad_token_id = config.eos_token_id
    model = LlamaForSequenceClassification.from_pretrained(tiny.hf, config=config, dtype=torch.float32)
    target = tmp_path_factory.mktemp("reward") / "tiny-reward"
    model.save_pretrained(target)
    AutoTokenizer.from_pretrained(tiny.hf).save_pretrained(target)
    return target


def _score(path: Path, messages: list[dict[str, str]]) -> float:
    """The reward as transformers gives it, computed here independently of the arena's code."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, dtype=torch.float32)
    ids = tokenizer(
        tokenizer.apply_chat_template(messages, tokenize=False), return_tensors="pt", add_special_tokens=False
    )
    with torch.inference_mode():
        return float(model(**ids).logits[0, 0])


def test_a_reward_model_judges_a_batch_and_assists_the_board(reward_model: Path, tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    models = ["--model", f"replay:{EXAMPLES / 'steady.jsonl'}", "--model", f"replay:{EXAMPLES / 'loopy.jsonl'}"]
    batch = json.loads(run("batch", "--db", str(db), "--samples", "3", "--json", *models).stdout)
    answers: dict[tuple[str, int], dict[str, int]] = {}
    for generation in batch["generations"]:
        answers.setdefault((generation["prompt"], generation["sample"]), {})[generation["contestant"]] = generation[
            "id"
        ]
    with Store(db) as store:  # a person votes on every stored pair, as `arena play --from-batch` records it
        session = writes.start_session(store, "play", judge="ana")
        for index, ((prompt, _sample), ids) in enumerate(sorted(answers.items())):
            left, right = ("steady", "loopy") if index % 2 else ("loopy", "steady")
            writes.record_battle(
                store, session=session, prompt=prompt, left_generation=ids[left], right_generation=ids[right],
                left_contestant=left, right_contestant=right, verdict="left" if left == "steady" else "right",
                judge="ana", vote_s=1.0,
            )  # fmt: skip
    judged = run("autojudge", "--judge", f"reward:hf:{reward_model}?device=cpu", "--label", "rm", "--batch",
                 str(batch["session"]), "--db", str(db), "--json")  # fmt: skip
    assert judged.exit_code == 0, judged.output
    verdicts = json.loads(judged.stdout)["verdicts"]
    assert len(verdicts) == len(answers) == 24
    first = verdicts[0]
    assert first["consistent"] is True  # one score per answer: no order to disagree with
    probability = first["left_as_a"]["probabilities"]["A"]
    with Store(db) as store:
        sent = store.query("select messages_json, output from generations where id = ?", [first["left_generation"]])
        other = store.query("select messages_json, output from generations where id = ?", [first["right_generation"]])
    left_messages = [*json.loads(sent[0]["messages_json"]), {"role": "assistant", "content": sent[0]["output"]}]
    right_messages = [*json.loads(other[0]["messages_json"]), {"role": "assistant", "content": other[0]["output"]}]
    expected = 1 / (1 + math.exp(_score(reward_model, right_messages) - _score(reward_model, left_messages)))
    assert probability == pytest.approx(expected, abs=1e-4)
    assert first["verdict"] == ("left" if expected > 0.5 else "right")
    report = json.loads(run("judges", "--db", str(db), "--json").stdout)
    card = next(row for row in report["versus_humans"] if row["judge"] == "auto:rm")
    assert card["items"] == 24 and card["brier"] is not None and card["effective_human_votes"] is not None
    board = run("leaderboard", "--db", str(db), "--json", "--rounds", "100", "--assisted-by", "auto:rm")
    assert board.exit_code == 0, board.output
    assert json.loads(board.stdout)[0]["shared_battles"] == 24


def test_a_backend_without_reward_models_is_refused_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "n.db"
    run("batch", "--db", str(db), "--limit", "1", "--model", f"replay:{EXAMPLES / 'steady.jsonl'}",
        "--model", f"replay:{EXAMPLES / 'loopy.jsonl'}")  # fmt: skip
    found = run("autojudge", "--judge", f"reward:replay:{EXAMPLES / 'steady.jsonl'}", "--batch", "1", "--db", str(db))
    assert_one_line_error(found, "the replay backend loads no reward models")
