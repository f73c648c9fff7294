"""A third-party backend, installed as a real package (``docs/examples/arena-markov``, the worked example of
``docs/backends.md``), meets the arena the way a user's would: found by its entry point in a fresh
interpreter, listed, loaded from a spec, run in a batch, judged, and treated by what it declares. A plugin
that does not follow the contract is refused in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.helpers import REPO

EXAMPLE = REPO / "docs" / "examples" / "arena-markov"
BROKEN = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "arena-broken"
        version = "0.1.0"

        [project.entry-points."arena.backends"]
        broken = "arena_broken:Broken"

        [tool.setuptools]
        packages = ["arena_broken"]
        """,
    "arena_broken/__init__.py": """
        class Broken:  # written before the contract had capabilities: not derived from BackendBase
            name = "broken"
            description = "an old plugin"
            requires = ()
            options = {}

            def load(self, contestant):
                raise AssertionError("never loaded: refused before")
        """,
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both plugins installed with pip into a folder of their own (their dist-info holds the entry points)."""
    root = tmp_path_factory.mktemp("plugins")
    broken = root / "arena-broken"
    for name, text in BROKEN.items():
        (broken / name).parent.mkdir(parents=True, exist_ok=True)
        (broken / name).write_text(textwrap.dedent(text), encoding="utf-8")
    target = root / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(target), str(EXAMPLE), str(broken)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert (target / "arena_markov").is_dir() and list(target.glob("arena_markov-*.dist-info"))
    return target


def arena(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed ``arena`` command in a fresh interpreter that sees the plugins' folder."""
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run(
        [sys.executable, "-m", "arena", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_an_installed_backend_is_found_loaded_run_and_judged(site: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text((REPO / "README.md").read_text(encoding="utf-8")[:6000], encoding="utf-8")
    listed = json.loads(arena(site, tmp_path, "backends", "--json").stdout)
    markov = next(row for row in listed if row["name"] == "markov")
    assert "order" in markov["options"] and "Markov chain" in markov["description"]
    expected = {"concurrent_requests": False, "sampled": True, "thread_option": None, "reward_models": False}
    assert markov["capabilities"] == expected
    openai = next(row for row in listed if row["name"] == "openai")
    assert openai["capabilities"]["concurrent_requests"] is True  # the built-in declares it the same way
    db = tmp_path / "m.db"
    done = arena(
        site, tmp_path, "batch", "--db", str(db), "--limit", "3", "--max-tokens", "24", "--parallel", "4",
        "--model", f"markov:{corpus}", "--model", f"markov:{corpus}?order=1", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert [c["label"] for c in payload["contestants"]] == ["markov-corpus", "markov-corpus?order=1"]
    outputs = [g["output"] for g in payload["generations"]]
    assert len(outputs) == 6 and all(len(text.split()) == 24 for text in outputs)  # max_tokens held
    assert {g["finish_reason"] for g in payload["generations"]} == {"length"}
    # declared, not guessed from a name: no concurrent requests, so --parallel says it changes nothing
    assert "no contestant's backend serves requests in parallel" in done.stderr
    report = json.loads(arena(site, tmp_path, "report", "--db", str(db), "--json").stdout)
    assert {row["contestant"] for row in report} == {"markov-corpus", "markov-corpus?order=1"}
    again = arena(
        site, tmp_path, "batch", "--db", str(db), "--limit", "3", "--max-tokens", "24", "--seed", "7",
        "--model", f"markov:{corpus}", "--model", f"markov:{corpus}?order=1", "--json",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert [g["output"] for g in json.loads(again.stdout)["generations"]] != outputs  # the seed reaches it


def test_a_plugin_outside_the_contract_is_refused_in_one_line(site: Path, tmp_path: Path) -> None:
    done = arena(site, tmp_path, "batch", "--db", str(tmp_path / "b.db"), "--model", "broken:x", "--model", "broken:y")
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert "backend 'broken' lacks extra, capabilities, default_label, load_note" in lines[0]
    assert "arena.backend.BackendBase" in lines[0]
