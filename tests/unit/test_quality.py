"""ruff and mypy, configured in pyproject.toml, run as part of the test command so CI enforces them.

mypy's verdict on the backends that bridge to transformers and llama.cpp depends on those libraries being
installed (their partial types decide what the code may do), so it runs in the engines tier: on an install
without them it is skipped, saying so, rather than reporting errors that are not there."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.helpers import REPO, needs


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        pytest.param(["mypy"], marks=pytest.mark.engines),
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_code_quality(command: list[str]) -> None:
    if command == ["mypy"]:
        needs("torch", "transformers", "llama_cpp")
    done = subprocess.run([sys.executable, "-m", *command], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
