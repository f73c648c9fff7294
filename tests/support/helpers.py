"""What many test files share: the repo paths, running the CLI in-process, the one-line-error check, and
writing replay files. Tests import from here; bench/ may too, never the other way round."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from arena.cli import cli

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "arena" / "examples"

WriteReplay = Callable[..., Path]


def run(*args: str, input: str | None = None) -> Result:
    """``arena ARGS`` in-process, exceptions propagated (a traceback is a failed test, not an exit code)."""
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def assert_one_line_error(result: Result, *fragments: str) -> None:
    """A user mistake: exit status 2, exactly one ``Error:`` line holding every fragment, no traceback."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.output


def write_replay(
    path: Path, outputs: Mapping[str, str | Mapping[str, object]] | Iterable[Mapping[str, object]]
) -> Path:
    """A replay JSONL at ``path``: from {prompt_id: output or record fields}, or from full records."""
    if isinstance(outputs, Mapping):
        records: Iterable[Mapping[str, object]] = [
            {"prompt_id": prompt_id, **({"output": value} if isinstance(value, str) else value)}
            for prompt_id, value in outputs.items()
        ]
    else:
        records = outputs
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def needs(*modules: str) -> None:
    """Skip the test, naming what it needs, where a heavy extra is not installed (the engines tier)."""
    for module in modules:
        pytest.importorskip(module, reason=f"needs {module}: pip install -e '.[test]' (the engines tier)")
