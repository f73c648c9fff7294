"""The other tools run for real, then their output is judged here (issue 38, item 4): lm-evaluation-harness
on the tiny llama this test session builds, Inspect and promptfoo against llama-cpp-python's OpenAI-compatible
server on its GGUF twin. Nothing is downloaded but promptfoo itself (from the npm registry, once, into the
test cache, where Node.js is new enough; otherwise the test is skipped saying why).

Each test runs the tool twice (two "checkpoints": with and without the chat template, or two temperatures),
imports both runs with ``arena import-answers``, and judges a battle of the batch: the path a user takes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from arena.demo.tinymodels import TinyModels
from arena.judging.session import PlaySession
from arena.judging.stored import StoredSource, load_batch
from arena.store import Store
from tests.support.engine_server import llama_server
from tests.support.helpers import needs, run

QUESTIONS = ["Name a colour.", "Say hello.", "Count to three."]
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
PROMPTFOO_VERSION = "0.121.20"
"""The last promptfoo that runs on Node.js 20 (0.122 asks for 22.22)."""
PROMPTFOO_CACHE = Path.home() / ".cache" / "vibe-arena-tests" / f"promptfoo-{PROMPTFOO_VERSION}"


def judged(db: Path, *sources: str) -> tuple[int, list[str]]:
    """Import ``sources`` as one batch, play its first battle through to a vote; (battles, the two texts)."""
    result = run("import-answers", *(arg for source in sources for arg in ("--from", source)), "--db", str(db),
                 "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    session_number = json.loads(result.stdout)["session"]
    with Store(db) as store:
        batch = load_batch(store, session_number)
        session = PlaySession(store, StoredSource(batch), judge="ann", seed=0)
        current = session.next_round()
        assert current is not None
        texts = [session.run_side(current, side, None, lambda _chunk: None).result.text  # type: ignore[arg-type]
                 for side in ("left", "right")]  # fmt: skip
        session.vote(current, "left")
        return len(batch.battles), texts


def tool(*command: str, cwd: Path, env: dict[str, str] | None = None, timeout: int = 300) -> None:
    done = subprocess.run(
        command, cwd=cwd, env={**os.environ, **OFFLINE, **(env or {})}, capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-4000:])


def test_lm_evaluation_harness_runs_then_its_samples_are_judged(tiny: TinyModels, tmp_path: Path) -> None:
    needs("lm_eval")
    data = tmp_path / "questions.jsonl"
    data.write_text("".join(json.dumps({"question": q, "answer": ""}) + "\n" for q in QUESTIONS), encoding="utf-8")
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "arena_live.yaml").write_text(
        f"task: arena_live\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {data}\n"
        "test_split: test\noutput_type: generate_until\ndoc_to_text: '{{question}}'\ndoc_to_target: '{{answer}}'\n"
        "generation_kwargs:\n  until: ['\\n\\n\\n']\n  max_gen_toks: 12\n  do_sample: false\n"
        "metric_list:\n  - metric: exact_match\n",
        encoding="utf-8",
    )
    for name, template in (("chat", ["--apply_chat_template"]), ("raw", [])):
        tool(sys.executable, "-m", "lm_eval", "--model", "hf", "--model_args", f"pretrained={tiny.hf},dtype=float32",
             "--tasks", "arena_live", "--include_path", str(tmp_path / "tasks"), "--log_samples", "--output_path",
             str(tmp_path / name), "--device", "cpu", "--batch_size", "1", *template, cwd=tmp_path)  # fmt: skip
    [chat], [raw] = (sorted((tmp_path / name).rglob("samples_arena_live_*.jsonl")) for name in ("chat", "raw"))
    battles, texts = judged(tmp_path / "lm.db", f"chat={chat}", f"raw={raw}")
    assert battles == len(QUESTIONS)  # matched across the two runs by the document's hash
    recorded = {json.loads(line)["resps"][0][0] for path in (chat, raw) for line in path.read_text().splitlines()}
    assert set(texts) <= recorded


INSPECT_TASK = """
from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import includes
from inspect_ai.solver import generate


@task
def arena_live():
    return Task(dataset=[Sample(id=f"q{i}", input=q, target="") for i, q in enumerate(QUESTIONS)],
                solver=[generate()], scorer=includes())
"""


def test_inspect_runs_against_a_server_then_its_logs_are_judged(tiny: TinyModels, tmp_path: Path) -> None:
    needs("inspect_ai")
    (tmp_path / "arena_live.py").write_text(f"QUESTIONS = {QUESTIONS!r}\n{INSPECT_TASK}", encoding="utf-8")
    with llama_server(tiny.gguf, "tiny", "--n_ctx", "512") as url:
        for name, temperature in (("cold", "0"), ("warm", "1.0")):
            tool(str(Path(sys.executable).with_name("inspect")), "eval", "arena_live.py", "--model", "openai-api/local/tiny",
                 "--max-tokens", "12", "--temperature", temperature, "--epochs", "2", "--display", "plain",
                 "--log-dir", str(tmp_path / name), cwd=tmp_path,
                 env={"LOCAL_BASE_URL": url, "LOCAL_API_KEY": "none"})  # fmt: skip
    [cold], [warm] = (sorted((tmp_path / name).glob("*.eval")) for name in ("cold", "warm"))
    battles, texts = judged(tmp_path / "inspect.db", f"cold={cold}", f"warm={warm}")
    assert battles == 2 * len(QUESTIONS)  # each epoch against the same epoch
    with Store(tmp_path / "inspect.db") as store:
        rows = store.conn.execute("select served_json, recorded_json from generations").fetchall()
    assert {json.loads(row[0])["model"] for row in rows} == {"openai-api/local/tiny"}
    assert all("includes" in json.loads(row[1])["scores"] for row in rows)
    assert all(isinstance(text, str) for text in texts)


def promptfoo_command() -> list[str]:
    """promptfoo, installed once into the test cache from the npm registry; the test is skipped, saying
    why, where Node.js is missing or too old, or the registry does not answer."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("promptfoo needs Node.js and npm (not on this machine)")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    major, minor = (int(part) for part in version.lstrip("v").split(".")[:2])
    if (major, minor) < (20, 20):
        pytest.skip(f"promptfoo {PROMPTFOO_VERSION} needs Node.js 20.20 or newer (this machine has {version})")
    binary = PROMPTFOO_CACHE / "node_modules" / ".bin" / "promptfoo"
    if not binary.exists():
        PROMPTFOO_CACHE.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", f"promptfoo@{PROMPTFOO_VERSION}"],
            cwd=PROMPTFOO_CACHE, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        if done.returncode != 0 or not binary.exists():
            pytest.skip(f"npm could not install promptfoo {PROMPTFOO_VERSION}: {done.stderr.strip()[-300:]}")
    return [node, str(binary)]


def test_promptfoo_runs_against_a_server_then_its_results_are_judged(tiny: TinyModels, tmp_path: Path) -> None:
    command = promptfoo_command()
    providers = "".join(
        f"  - id: openai:chat:tiny\n    label: {label}\n    config:\n      apiBaseUrl: URL\n      apiKey: none\n"
        f"      temperature: {temperature}\n      max_tokens: 12\n"
        for label, temperature in (("cold", 0), ("warm", 1.0))
    )
    tests = "".join(f"  - vars:\n      question: {json.dumps(q)}\n" for q in QUESTIONS)
    with llama_server(tiny.gguf, "tiny", "--n_ctx", "512") as url:
        config = f"prompts:\n  - '{{{{question}}}}'\nproviders:\n{providers.replace('URL', url)}tests:\n{tests}"
        (tmp_path / "promptfooconfig.yaml").write_text(config, encoding="utf-8")
        tool(*command, "eval", "-c", "promptfooconfig.yaml", "-o", "results.json", "--no-cache",
             "--max-concurrency", "1", cwd=tmp_path,
             env={"PROMPTFOO_DISABLE_TELEMETRY": "1", "PROMPTFOO_DISABLE_UPDATE": "1",
                  "PROMPTFOO_CONFIG_DIR": str(tmp_path / "promptfoo-home")})  # fmt: skip
    battles, texts = judged(tmp_path / "promptfoo.db", str(tmp_path / "results.json"))
    assert battles == len(QUESTIONS)  # one contestant per provider, matched by the rendered prompt
    outputs = [
        r["response"]["output"] for r in json.loads((tmp_path / "results.json").read_text())["results"]["results"]
    ]
    assert set(texts) <= set(outputs)
