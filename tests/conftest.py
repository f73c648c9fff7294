"""Shared fixtures. Every test gets its own ARENA_HOME and working directory, so no test reads or writes
the user's real data dir or an arena.toml lying around."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pytest

from arena.tinymodels import TinyModels

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "arena" / "examples"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "arena-home"
    monkeypatch.setenv("ARENA_HOME", str(home))
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    return home


WriteReplay = Callable[..., Path]


@pytest.fixture
def write_replay(tmp_path: Path) -> WriteReplay:
    """Write a replay JSONL from {prompt_id: output} (or full records) and return its path."""

    def write(name: str, outputs: Mapping[str, str] | Iterable[Mapping[str, object]]) -> Path:
        path = tmp_path / f"{name}.jsonl"
        if isinstance(outputs, Mapping):
            records: Iterable[Mapping[str, object]] = [
                {"prompt_id": key, "output": value} for key, value in outputs.items()
            ]
        else:
            records = outputs
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    """One tiny llama family per test session: HF checkpoint, its GGUF twin, and copies without template."""
    from arena.tinymodels import TinySpec, build_family

    return build_family(tmp_path_factory.mktemp("tiny"), TinySpec())
