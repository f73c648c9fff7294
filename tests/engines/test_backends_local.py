"""transformers and llama.cpp on tiny models built in the test session: real loading, real streaming."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from arena.backend import BackendError, GenerationParams
from arena.demo.tinymodels import TinyModels
from arena.engine.contestants import parse_spec
from arena.engine.generation import StreamJob, generate, run_streams
from arena.engine.pool import ModelPool
from arena.present.info import describe_loaded
from arena.prompts import load_prompt_set
from tests.support.helpers import assert_one_line_error, run

PROMPT = load_prompt_set("everyday").prompts[0]


@pytest.fixture(scope="module")
def pool(tiny: TinyModels) -> ModelPool:
    models = ModelPool()
    models.load_all(
        [
            parse_spec(f"hf:{tiny.hf}", label="hf"),
            parse_spec(f"gguf:{tiny.gguf}?n_threads=1", label="gguf"),
            parse_spec(f"hf:{tiny.hf_no_template}", label="hf-raw"),
            parse_spec(f"gguf:{tiny.gguf_no_template}?n_threads=1", label="gguf-raw"),
        ]
    )
    return models


def test_batch_stores_both_backends_with_stats_and_template_markers(tiny: TinyModels, tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    result = run(
        "batch",
        "--model",
        f"hf:{tiny.hf}",
        "--model",
        f"gguf:{tiny.gguf}",
        "--temperature",
        "0",
        "--limit",
        "2",
        "--max-tokens",
        "24",
        "--db",
        str(db),
    )
    assert result.exit_code == 0, result.output
    rows = (
        sqlite3.connect(db)
        .execute(
            "select contestant, n_tokens, ttft_s, tokens_per_s, rendered_prompt, chat_template, finish_reason from generations"
        )
        .fetchall()
    )
    assert len(rows) == 4
    for _label, n_tokens, ttft, tps, rendered, template, reason in rows:
        assert n_tokens > 0 and ttft is not None and ttft > 0
        assert tps is None or tps > 0
        assert rendered.startswith("<s><|user|>\n") and rendered.endswith("<|assistant|>\n")
        assert template == 1 and reason in ("stop", "length")
    assert {row[0] for row in rows} == {"hf", "tiny-f32"}


def test_parity_of_hf_and_its_gguf_is_identical(tiny: TinyModels) -> None:
    result = run("parity", f"hf:{tiny.hf}", f"gguf:{tiny.gguf}", "--limit", "3", "--max-tokens", "32", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    assert len(rows) == 3
    for row in rows:
        assert row["identical"] and row["compared_by"] == "tokens" and row["same_rendered_prompt"]
        assert row["tokens"][0] == row["tokens"][1] > 0


def test_parity_exposes_a_missing_chat_template(tiny: TinyModels) -> None:
    result = run("parity", f"hf:{tiny.hf}", f"gguf:{tiny.gguf_no_template}", "--limit", "1", "--max-tokens", "16")
    assert result.exit_code == 1
    assert "DIFFERENT" in result.stdout
    [row] = json.loads(
        run("parity", f"hf:{tiny.hf}", f"gguf:{tiny.gguf_no_template}", "--limit", "1", "--json").stdout
    )["rows"]
    assert not row["identical"] and not row["same_rendered_prompt"]
    templated, raw = row["rendered_prompts"]
    assert templated.startswith("<s><|user|>") and raw == PROMPT.text + "\n"


def test_raw_prompt_is_marked_no_chat_template(pool: ModelPool, tmp_path: Path, tiny: TinyModels) -> None:
    for label in ("hf-raw", "gguf-raw"):
        result = generate(
            pool[label], PROMPT.messages(), GenerationParams(temperature=0, max_tokens=8), threading.Event()
        )
        assert result.chat_template is False
        assert result.rendered_prompt == PROMPT.text + "\n"
    db = tmp_path / "raw.db"
    run("batch", "--model", f"hf:{tiny.hf_no_template}", "--limit", "1", "--max-tokens", "8", "--db", str(db))
    hit = sqlite3.connect(db).execute("select hit from flags where name = 'no_chat_template'").fetchone()
    assert hit == (1,)


@pytest.mark.parametrize("label", ["hf-raw", "gguf-raw", "hf", "gguf"])
def test_a_follow_ups_rendered_prompt_holds_the_sides_own_earlier_answer(pool: ModelPool, label: str) -> None:
    """Turn 2 is judged on the conversation the judge saw: with or without a chat template, the model's
    own turn-1 answer is in the prompt it is given (without a template, turn 1 is a byte-exact prefix)."""
    params = GenerationParams(temperature=0, max_tokens=8, seed=1)
    first = generate(pool[label], PROMPT.messages(), params, threading.Event())
    assert first.text.strip(), "the tiny model must say something for this test to mean anything"
    conversation = [
        *PROMPT.messages(),
        {"role": "assistant", "content": first.text},
        {"role": "user", "content": "Shorter."},
    ]
    second = generate(pool[label], conversation, params, threading.Event())  # type: ignore[arg-type]
    rendered = second.rendered_prompt
    assert first.text in rendered and rendered.index(first.text) < rendered.rindex("Shorter.")
    if label.endswith("-raw"):
        assert second.rendered_prompt == first.rendered_prompt + first.text + "\n\nShorter.\n"


def test_no_double_bos(pool: ModelPool) -> None:
    hf = pool["hf"]
    rendered = hf.render(PROMPT.messages())  # type: ignore[attr-defined]
    ids = hf._input_ids(rendered)[0].tolist()  # type: ignore[attr-defined]
    bos = hf.tokenizer.bos_token_id  # type: ignore[attr-defined]
    assert ids[0] == bos and ids.count(bos) == 1
    gguf = pool["gguf"]
    tokens = gguf._tokens(gguf.render(PROMPT.messages()))  # type: ignore[attr-defined]
    assert tokens == ids


@pytest.mark.parametrize("label", ["hf", "gguf"])
def test_max_tokens_stop_strings_and_cancel(pool: ModelPool, label: str) -> None:
    model = pool[label]
    greedy = generate(model, PROMPT.messages(), GenerationParams(temperature=0, max_tokens=12), threading.Event())
    assert greedy.n_tokens == 12 and greedy.finish_reason == "length" and greedy.text
    start = next(i for i, ch in enumerate(greedy.text) if i > 0 and not ch.isspace())
    stop = greedy.text[start : start + 2]
    stopped = generate(
        model, PROMPT.messages(), GenerationParams(temperature=0, max_tokens=12, stop=(stop,)), threading.Event()
    )
    assert stopped.finish_reason == "stop"
    assert stopped.text == greedy.text[: greedy.text.find(stop)]
    cancel = threading.Event()
    seen: list[str] = []

    def on_chunk(chunk: object) -> None:
        seen.append("x")
        if len(seen) == 2:
            cancel.set()

    cancelled = generate(
        model, PROMPT.messages(), GenerationParams(temperature=0, max_tokens=40), cancel, on_chunk=on_chunk
    )
    assert cancelled.finish_reason == "cancelled" and cancelled.n_tokens <= 3


@pytest.mark.parametrize("label", ["hf", "gguf"])
def test_sampling_is_reproducible_per_seed(pool: ModelPool, label: str) -> None:
    params = GenerationParams(temperature=1.0, top_p=0.95, max_tokens=24, seed=11)
    first = generate(pool[label], PROMPT.messages(), params, threading.Event())
    second = generate(pool[label], PROMPT.messages(), params, threading.Event())
    other = generate(
        pool[label],
        PROMPT.messages(),
        GenerationParams(temperature=1.0, top_p=0.95, max_tokens=24, seed=12),
        threading.Event(),
    )
    assert first.token_ids == second.token_ids
    assert first.token_ids != other.token_ids


def test_two_models_streaming_at_once_keep_independent_reproducible_sampling(tiny: TinyModels) -> None:
    """Two HF models sample concurrently in two threads; each gives what it gives alone."""
    with ModelPool() as models:
        models.load_all([parse_spec(f"hf:{tiny.hf}", label="one"), parse_spec(f"hf:{tiny.hf}", label="two")])
        one = GenerationParams(temperature=1.0, top_p=0.9, max_tokens=32, seed=1)
        two = GenerationParams(temperature=1.0, top_p=0.9, max_tokens=32, seed=2)
        alone = [
            generate(models[label], PROMPT.messages(), params, threading.Event())
            for label, params in (("one", one), ("two", two))
        ]
        together = run_streams(
            [StreamJob(models["one"], PROMPT.messages(), one), StreamJob(models["two"], PROMPT.messages(), two)]
        )
    assert [r.finish_reason for r in together] == [r.finish_reason for r in alone]
    assert [r.token_ids for r in together] == [r.token_ids for r in alone]
    assert together[0].token_ids != together[1].token_ids


def test_contestants_differing_only_in_prompting_share_one_copy_of_the_weights(tiny: TinyModels) -> None:
    chat, raw, greedy = (
        parse_spec(f"hf:{tiny.hf}", label="chat"),
        parse_spec(f"hf:{tiny.hf}?template=false", label="raw"),
        GenerationParams(temperature=0.0, max_tokens=24),
    )
    with ModelPool() as models:
        models.load_all([chat])
        chat_alone = generate(models["chat"], PROMPT.messages(), greedy, threading.Event())
    with ModelPool() as models:
        models.load_all([raw])
        raw_alone = generate(models["raw"], PROMPT.messages(), greedy, threading.Event())
    from arena_hf.model import _SHARED

    def users(key: object) -> int:  # contestants on these weights (another test's pool may hold them too)
        return _SHARED[key].users if key in _SHARED else 0  # type: ignore[index]

    with ModelPool() as models:
        models.load_all([chat, raw, parse_spec(f"hf:{tiny.hf}?dtype=bfloat16", label="bf16")])
        key = models["chat"].weights_key  # type: ignore[attr-defined]
        users_before = users(key) - 2
        assert models["chat"].model is models["raw"].model  # type: ignore[attr-defined]
        assert models["bf16"].model is not models["chat"].model  # type: ignore[attr-defined]
        assert models["chat"].info().extra.get("weights_shared") and "MiB shared" in describe_loaded(
            models["raw"].info()
        )
        assert not models["bf16"].info().extra.get("weights_shared")
        together = run_streams(
            [StreamJob(models["chat"], PROMPT.messages(), greedy), StreamJob(models["raw"], PROMPT.messages(), greedy)]
        )
        assert models["chat"].render(PROMPT.messages()).chat_template
        assert not models["raw"].render(PROMPT.messages()).chat_template
    # on one copy, at once, each side gives exactly what it gives loaded alone
    assert [r.token_ids for r in together] == [chat_alone.token_ids, raw_alone.token_ids]
    assert chat_alone.token_ids != raw_alone.token_ids
    assert users(key) == users_before  # closing let go of them (the last one to close frees them)


@pytest.mark.parametrize("quant", ["nf4", "int8"])
def test_bitsandbytes_quantization_on_cpu(tiny: TinyModels, tmp_path: Path, quant: str) -> None:
    db = tmp_path / f"{quant}.db"
    result = run(
        "batch",
        "--model",
        f"hf:{tiny.hf}?quant={quant}&device=cpu",
        "--limit",
        "1",
        "--max-tokens",
        "8",
        "--temperature",
        "0",
        "--db",
        str(db),
    )
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(db)
    label, options = conn.execute("select label, options_json from contestants").fetchone()
    assert label == f"hf?quant={quant}" and json.loads(options)["quant"] == quant
    n_tokens, error = conn.execute("select n_tokens, error from generations").fetchone()
    assert error is None and n_tokens > 0


def test_user_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    assert_one_line_error(run("batch", "--model", f"hf:{tmp_path / 'missing'}"), "model directory not found")
    assert_one_line_error(run("batch", "--model", f"gguf:{tmp_path / 'missing.gguf'}"), "GGUF file not found")
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF" + bytes(range(256)) * 8)
    assert_one_line_error(run("batch", "--model", f"gguf:{corrupt}"), "cannot load", "llama.cpp:")
    assert_one_line_error(run("batch", "--model", "hf:x?quant=q3"), "expected one of none, int8, nf4, fp4")


def test_remote_code_never_runs_unless_asked(tmp_path: Path, tiny: TinyModels) -> None:
    import shutil

    checkpoint = tmp_path / "custom"
    checkpoint.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(tiny.hf / name, checkpoint / name)
    marker = tmp_path / "executed"
    (checkpoint / "config.json").write_text(
        json.dumps(
            {
                "model_type": "arena_custom",
                "auto_map": {"AutoConfig": "custom_code.Config", "AutoModelForCausalLM": "custom_code.Model"},
            }
        )
    )
    (checkpoint / "custom_code.py").write_text(f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n")
    result = run("batch", "--model", f"hf:{checkpoint}", "--limit", "1")
    assert result.exit_code == 2
    assert "trust_remote_code" in result.stderr
    assert not marker.exists()


def test_info_reports_what_was_resolved(pool: ModelPool) -> None:
    info = pool["hf"].info()
    assert (info.backend, info.device, info.dtype, info.quant, info.chat_template) == (
        "hf",
        "cpu",
        "float32",
        None,
        True,
    )
    assert info.n_params and info.n_params > 10_000
    assert pool["gguf"].info().chat_template is True and pool["gguf-raw"].info().chat_template is False
    gguf = pool["gguf"].info()
    assert (gguf.dtype, gguf.quant) == ("F32", None)  # the file type's name, not general.file_type's number


def test_a_gguf_context_is_what_a_battle_needs_unless_asked(pool: ModelPool, smollm2: Path) -> None:
    """The newcomer's report: the model's own window (8k for SmolLM2) made memory at the reveal compare
    windows, not models. The default is 4096, or less where the model was trained on less (the tiny model:
    512); ``n_ctx=0`` asks for the model's own, any other number for itself."""
    assert pool["gguf"].info().extra["n_ctx"] == 512
    found = {}
    for asked in ("", "?n_ctx=0", "?n_ctx=2048"):
        with ModelPool() as models:
            contestant = parse_spec(f"gguf:{smollm2}{asked}", label="smol")
            models.load_all([contestant])
            found[asked] = models["smol"].info().extra["n_ctx"]
    assert found == {"": 4096, "?n_ctx=0": 8192, "?n_ctx=2048": 2048}


def test_backends_command_sees_all_four() -> None:
    rows = {row["name"]: row["status"] for row in json.loads(run("backends", "--json").stdout)}
    assert rows == {"gguf": "ok", "hf": "ok", "openai": "ok", "replay": "ok"}


def test_loading_a_device_torch_cannot_see_is_an_error() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    from arena_hf.model import resolve_device

    with pytest.raises(BackendError, match="sees no CUDA GPU"):
        resolve_device("cuda")


def test_a_gguf_in_transformers_is_converted_once_per_content_not_per_path(tiny: TinyModels, tmp_path: Path) -> None:
    """The same bytes at a second path reuse the float32 copy; other bytes get their own."""
    import shutil

    from arena_hf.gguf_copy import copy_dir_for

    elsewhere = tmp_path / "renamed.gguf"
    shutil.copyfile(tiny.gguf, elsewhere)
    assert copy_dir_for(elsewhere) == copy_dir_for(tiny.gguf)
    with elsewhere.open("ab") as handle:
        handle.write(b"\0")
    assert copy_dir_for(elsewhere) != copy_dir_for(tiny.gguf)


def test_nf4_on_the_cpu_that_cannot_run_a_model_is_one_line(tmp_path: Path) -> None:
    """The newcomer's ``arena fidelity``: bitsandbytes 0.50's 4-bit CPU kernels fail on a layer whose size is
    not a multiple of their block (a reshape error or an assertion, as a traceback). One line says why and
    what to do; int8 runs the same model."""
    from arena.demo.tinymodels import TinySpec, build_family

    odd = build_family(
        tmp_path / "odd", TinySpec(hidden=40, intermediate=90, vocab=300, train_steps=5), with_gguf=False
    )
    reference, nf4 = f"hf:{odd.hf}?device=cpu", f"hf:{odd.hf}?device=cpu&quant=nf4"
    result = run("fidelity", reference, nf4, "--limit", "1", "--max-tokens", "8", "--db", str(tmp_path / "f.db"))
    assert_one_line_error(result, "bitsandbytes nf4 on the CPU cannot run this model", "quant=int8")
    int8 = run("fidelity", reference, f"hf:{odd.hf}?device=cpu&quant=int8", "--limit", "1", "--max-tokens", "8",
               "--db", str(tmp_path / "f.db"))  # fmt: skip
    assert int8.exit_code == 0, int8.output


def test_a_gguf_without_a_template_can_be_given_one(tiny: TinyModels, tmp_path: Path) -> None:
    """The newcomer's second model had no ``tokenizer.chat_template`` and no way to supply one: a raw
    completion prompt was all it could get. ``?chat_template=chatml`` (or a Jinja file) gives it one."""
    from arena.present.info import describe_loaded

    jinja = tmp_path / "mine.jinja"
    jinja.write_text(
        "{% for m in messages %}<<{{ m['role'] }}>> {{ m['content'] }}\n{% endfor %}<<assistant>>", "utf-8"
    )
    with ModelPool() as models:
        given = [
            parse_spec(f"gguf:{tiny.gguf_no_template}?chat_template=chatml&n_threads=1", label="chatml"),
            parse_spec(f"gguf:{tiny.gguf_no_template}?chat_template={jinja}&n_threads=1", label="file"),
        ]
        models.load_all(given)
        rendered = {label: models[label].render(PROMPT.messages()) for label in ("chatml", "file")}
        info = models["chatml"].info()
    assert rendered["chatml"].chat_template and rendered["chatml"].text.startswith("<|im_start|>user\n")
    assert rendered["file"].text.startswith("<<user>> ") and rendered["file"].chat_template
    assert "chat template given: chatml" in describe_loaded(info) and info.chat_template is True
    bad = tmp_path / "bad.jinja"
    bad.write_text("{% for m in messages %}{{ m['content'] }", "utf-8")
    for spec, said in (
        (f"gguf:{tiny.gguf_no_template}?chat_template={bad}", "not a valid template"),
        (f"gguf:{tiny.gguf_no_template}?chat_template=vicuna9", "neither a format"),
        (f"gguf:{tiny.gguf}?chat_template=chatml&template=false", "choose one"),
    ):
        assert_one_line_error(run("batch", "--model", spec, "--limit", "1", "--db", str(tmp_path / "x.db")), said)
