"""`arena fidelity` on real tiny models (transformers and llama.cpp, the same weights), the fidelity
numbers beside the votes, and the two things `arena parity` learned: prompt token ids that differ under an
identical prompt string, and an answer that ends inside a UTF-8 sequence."""

from __future__ import annotations

import codecs
import json
import math
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from arena.demo.tinymodels import TinyModels, TinySpec, build_family, write_gguf
from arena.engine.fidelity import compare
from arena.store import writes
from tests.support.helpers import EXAMPLES, assert_one_line_error, run

PROMPTS = ("--limit", "3", "--max-tokens", "48")


def fidelity_rows(*args: str) -> list[dict[str, Any]]:
    result = run("fidelity", *args, *PROMPTS, "--json")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def test_kl_and_agreement_on_known_distributions() -> None:
    same = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]))
    other = np.log(np.array([[0.2, 0.7, 0.1], [0.1, 0.1, 0.8]]))
    comparison = compare(same, other, [0, 2])
    expected = 0.7 * math.log(0.7 / 0.2) + 0.2 * math.log(0.2 / 0.7)
    assert comparison.kld == pytest.approx([expected, 0.0])
    assert list(comparison.agree) == [False, True]
    assert comparison.reference_nll == pytest.approx([-math.log(0.7), -math.log(0.8)])
    assert comparison.candidate_nll == pytest.approx([-math.log(0.2), -math.log(0.8)])
    assert compare(same, same, [0, 2]).kld == pytest.approx([0.0, 0.0])


def test_the_same_f32_weights_in_both_engines_agree(tiny: TinyModels, tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    [row] = fidelity_rows(f"hf:{tiny.hf}?device=cpu", f"gguf:{tiny.gguf}", "--db", str(db))
    assert {"contestant", "top1_agreement", "mean_kld", "p99_kld", "tokens"} <= set(row)
    assert row["top1_agreement"] >= 0.99
    assert row["mean_kld"] < 1e-4 and row["p99_kld"] < 1e-3
    assert row["tokens"] > 48  # three prompts' greedy answers were scored
    assert row["reference_ppl"] == pytest.approx(row["candidate_ppl"], rel=1e-3)
    with sqlite3.connect(db) as conn:
        stored = conn.execute("select contestant, reference, tokens from fidelity").fetchall()
    assert stored == [(row["contestant"], row["reference"], row["tokens"])]


def test_nf4_drifts_more_than_int8(tiny: TinyModels) -> None:
    rows = fidelity_rows(
        f"hf:{tiny.hf}?device=cpu",
        f"hf:{tiny.hf}?device=cpu&quant=int8",
        f"hf:{tiny.hf}?device=cpu&quant=nf4",
        "--no-store",
    )
    int8, nf4 = rows
    assert nf4["mean_kld"] > 5 * int8["mean_kld"] > 0
    assert nf4["top1_agreement"] < int8["top1_agreement"] <= 1.0
    assert nf4["per_prompt"] and nf4["worst"][0]["kld"] == nf4["max_kld"]


def test_a_different_tokenizer_or_a_backend_that_cannot_score_is_one_line(tiny: TinyModels, tmp_path: Path) -> None:
    other = build_family(tmp_path / "other", TinySpec(vocab=300, train_steps=2, layers=1), with_gguf=False)
    refused = run(
        "fidelity",
        f"hf:{tiny.hf}?device=cpu",
        f"hf:{other.hf}?device=cpu",
        "--label",
        "a",
        "--label",
        "b",
        "--no-store",
    )
    assert_one_line_error(refused, "different tokenizer", "300 tokens")
    replay = run("fidelity", f"hf:{tiny.hf}?device=cpu", f"replay:{EXAMPLES / 'steady.jsonl'}", "--no-store")
    assert_one_line_error(replay, "cannot score tokens")


def test_the_report_shows_fidelity_beside_the_flags(tiny: TinyModels, tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    ref, cand = f"hf:{tiny.hf}?device=cpu", f"hf:{tiny.hf}?device=cpu&quant=nf4"
    labels = ("--label", "ref", "--label", "nf4")
    assert run("fidelity", ref, cand, *labels, "--db", str(db), *PROMPTS).exit_code == 0
    assert run("batch", "-m", ref, "-m", cand, *labels, "--db", str(db), "--limit", "2").exit_code == 0
    rows = {row["contestant"]: row for row in json.loads(run("report", "--db", str(db), "--json").stdout)}
    assert rows["ref"]["fidelity"] is None
    assert rows["nf4"]["fidelity"]["reference"] == "ref" and 0 < rows["nf4"]["fidelity"]["top1_agreement"] < 1
    markdown = run("report", "--db", str(db), "--markdown").stdout
    assert "| fidelity |" in markdown and "top-1 · KL" in markdown and "vs ref" in markdown


class DroppedMerges:
    """A tokenizer whose GGUF conversion lost half its merges: same vocabulary, other token ids."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        state = json.loads(tokenizer.backend_tokenizer.to_str())
        state["model"]["merges"] = state["model"]["merges"][: len(state["model"]["merges"]) // 2]
        self.backend_tokenizer = type("Backend", (), {"to_str": staticmethod(lambda: json.dumps(state))})()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tokenizer, name)

    def __len__(self) -> int:
        return len(self.tokenizer)


def test_parity_names_the_first_prompt_token_that_differs(tiny: TinyModels, tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    broken = tmp_path / "broken.gguf"
    tokenizer = AutoTokenizer.from_pretrained(tiny.hf)
    write_gguf(AutoModelForCausalLM.from_pretrained(tiny.hf), DroppedMerges(tokenizer), broken)
    result = run("parity", f"hf:{tiny.hf}", f"gguf:{broken}", "--limit", "1", "--max-tokens", "8", "--json")
    [row] = json.loads(result.stdout)["rows"]
    assert row["same_rendered_prompt"] is True and row["identical"] is False
    assert isinstance(row["prompt_ids_differ_at"], int)
    assert len(row["prompt_tokens_at_difference"]) == 2
    table = run("parity", f"hf:{tiny.hf}", f"gguf:{broken}", "--limit", "1", "--max-tokens", "8")
    assert "different prompt tokens" in " ".join(table.stdout.split()) and result.exit_code == 1
    same = run("parity", f"hf:{tiny.hf}", f"gguf:{tiny.gguf}", "--limit", "1", "--max-tokens", "8", "--json")
    assert json.loads(same.stdout)["rows"][0]["prompt_ids_differ_at"] is None


def test_an_answer_cut_inside_a_utf8_sequence_reads_the_same_in_both_engines(tiny: TinyModels) -> None:
    import torch
    from arena_hf.model import _CountingStreamer
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny.hf)
    ids = tokenizer("é", add_special_tokens=False)["input_ids"]
    first_byte = tokenizer.convert_tokens_to_ids(tokenizer.convert_ids_to_tokens(ids)[0][0])
    streamer = _CountingStreamer(tokenizer)
    streamer.put(torch.tensor([[1, 2]]))  # the prompt
    streamer.put(torch.tensor([first_byte]))
    streamer.end()
    pieces = []
    while (item := streamer.queue.get()) is not None:
        pieces.append(item[0])
    llama_cpp_text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode("é".encode()[:1], final=True)
    assert "".join(pieces) == llama_cpp_text == "\ufffd"


async def test_the_reveal_shows_a_measured_contestants_fidelity(tmp_path: Path) -> None:
    from arena.engine.fidelity import FidelityRow
    from arena.store import Store
    from tests.support.tui_helpers import make_app, screen_text, wait_for

    db = tmp_path / "arena.db"
    with Store(db) as store:
        measured = FidelityRow("loopy", "full", 300, 0.912, 0.0421, 0.3, 1.2, 1.7, 1.9, 2.0)
        writes.record_fidelity(
            store, measured, reference_spec="hf:x", contestant_spec="hf:x?q", prompt_set="s", prompts=3, max_tokens=100
        )
    app = make_app(tmp_path, {"t/one": "Fine."}, {"t/one": "Also fine."}, db=db)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.session.current is not None and app.session.current.both_done)
        await pilot.press("t")
        await wait_for(pilot, lambda: "fidelity:" in screen_text(app))
        assert "fidelity: 91.2% top-1 · KL 0.0421 vs full" in screen_text(app)
        assert screen_text(app).count("fidelity:") == 1  # only the measured side
