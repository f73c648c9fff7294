"""Identity leaks (``flags.identity``): answers that name themselves are flagged, ordinary uses are not, and
the leaderboard can leave the leaked battles out."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from arena.store import writes
from tests.support.helpers import run

SELF_NAMING = [
    "I'm SmolLM, trained by Hugging Face.",
    "As a model developed by OpenAI, I cannot browse the web.",
    "I am Gemma, an open model.",
    "I'm Llama 3, made by Meta.",
    "I'm a humble AI assistant named SmolLM, designed to help.",  # SmolLM2-135M's own words
    "I was developed by the team at Mistral AI.",
    "I'm Kira, happy to chat. You can find me at SmolLM's Spam Analytics.",  # SmolLM2-135M, mid-sentence
    "I'm Kira, SmolLM's assistant.",
    "Sure! I work for OpenAI as a helpful assistant.",
]


ORDINARY = [
    "Llamas in the Andes carry loads for farmers.",
    "A meta-analysis by Meta researchers found no effect.",
    "I think the Quest 3 headset is made by Meta.",
    "She found a gem in the sand, and I am happy for her.",
    "As a reminder, the Pixel is made by Google.",
    "I use GPT-4 at work and I like Claude for writing.",
    "My favourite philosophy is stoicism.",
    "I'm using Meta's AI glasses and I like them.",
    "I'm a fan of Google's maps; find me at the library.",
    "My team at work uses Llama models.",
]


@pytest.mark.parametrize("text", SELF_NAMING)
def test_an_answer_that_names_itself_is_flagged(text: str) -> None:
    from arena.analysis.flags import identity_flag

    flag = identity_flag(text, None)
    assert flag.hit and flag.evidence


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_uses_of_the_names_are_not(text: str) -> None:
    from arena.analysis.flags import identity_flag

    assert not identity_flag(text, None).hit


def test_the_contestants_own_label_counts_and_a_template_system_prompt_is_named() -> None:
    from arena.analysis.flags import identity_flag, identity_prompt_flag

    assert identity_flag("Hello! I am finetune-v3, happy to help.", "finetune-v3").hit
    assert not identity_flag("Hello! I am happy to help.", "finetune-v3").hit
    rendered = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
    flag = identity_prompt_flag(rendered + "<|im_start|>user\nHi<|im_end|>", ["Hi"])
    assert flag.hit and flag.evidence == ["SmolLM", "Hugging Face"]
    assert not identity_prompt_flag("<|user|>\nTell me about Meta.<|end|>", ["Tell me about Meta."]).hit


def leaky_judge_db(path: Path) -> None:
    """'leaky' is weaker than 'honest' (wins 1 in 4 on its merits), but a brand-struck judge votes for it
    every time it names itself (1 battle in 3)."""
    from arena.backend import Contestant, GenerationParams
    from arena.judging.answers import record_answer
    from arena.prompts import Prompt
    from arena.store import Store
    from tests.support.votes import result

    prompt = Prompt(set="t", id="p", category="c", text="Say something.")
    rng = random.Random(5)
    with Store(path) as store:
        writes.register(store, [Contestant("leaky", "replay", "x"), Contestant("honest", "replay", "y")], [prompt])
        session = writes.start_session(store, "play", "judge")
        for number in range(120):
            leaks = number % 3 == 0
            texts = {"leaky": "I'm SmolLM, trained by Hugging Face." if leaks else "Plain answer.", "honest": "Fine."}
            ids = {
                label: record_answer(
                    store,
                    session=session,
                    contestant=label,
                    prompt=prompt,
                    params=GenerationParams(),
                    result=result(text),
                ).generation_id
                for label, text in texts.items()
            }
            leaky_wins = leaks or rng.random() < 0.25
            writes.record_battle(store,
                session=session, prompt=prompt.uid, left_generation=ids["leaky"], right_generation=ids["honest"],
                left_contestant="leaky", right_contestant="honest", verdict="left" if leaky_wins else "right",
                judge="judge", vote_s=1.0,
            )  # fmt: skip


def test_battles_with_a_leak_can_be_left_out_and_the_report_counts_them(tmp_path: Path) -> None:
    db = tmp_path / "leaks.db"
    leaky_judge_db(db)
    every = {
        r["contestant"]: r for r in json.loads(run("leaderboard", "--db", str(db), "--json", "--rounds", "200").stdout)
    }
    blind = json.loads(run("leaderboard", "--db", str(db), "--json", "--rounds", "200", "--exclude-leaks").stdout)
    blind_by = {r["contestant"]: r for r in blind}
    assert every["leaky"]["battles"] == 120 and blind_by["leaky"]["battles"] == 80
    assert every["leaky"]["win_rate"] > 0.45  # the brand-struck votes make them look close
    assert blind_by["leaky"]["win_rate"] < 0.35 and blind_by["honest"]["rating"] > blind_by["leaky"]["rating"]
    table = run("leaderboard", "--db", str(db)).stdout
    assert "40 battles where an answer named itself" in " ".join(table.split())
    report = {r["contestant"]: r for r in json.loads(run("report", "--db", str(db), "--all", "--json").stdout)}
    assert report["leaky"]["identity"]["hits"] == 40 and report["honest"]["identity"]["hits"] == 0
