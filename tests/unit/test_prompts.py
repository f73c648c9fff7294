"""Prompt sets: the shipped ones are complete and valid; a user's bad file is reported precisely."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from arena.analysis.flags.constraints import CONSTRAINT_KINDS
from arena.errors import ArenaError
from arena.prompts import load_prompt_set, shipped_set_names


def test_shipped_sets_have_the_promised_sizes() -> None:
    assert shipped_set_names() == ["constraints", "everyday"]
    assert len(load_prompt_set("everyday")) == 8
    assert len(load_prompt_set("constraints")) == 30


def test_everyday_covers_eight_distinct_kinds() -> None:
    everyday = load_prompt_set("everyday")
    assert len({p.category for p in everyday.prompts}) == 8


def test_constraints_set_spans_the_four_areas_and_every_prompt_is_checkable() -> None:
    constraints = load_prompt_set("constraints")
    assert set(constraints.categories) == {"code", "creative", "reasoning", "instruction"}
    for prompt in constraints.prompts:
        assert prompt.constraints, prompt.uid
        for constraint in prompt.constraints:
            assert constraint["kind"] in CONSTRAINT_KINDS
    used = {c["kind"] for p in constraints.prompts for c in p.constraints}
    assert {"sentences", "words", "docstring", "handles_empty", "lowercase", "json", "python_parses"} <= used


def test_prompt_uid_and_messages() -> None:
    prompt = load_prompt_set("everyday").prompts[0]
    assert prompt.uid == f"everyday/{prompt.id}"
    assert prompt.messages() == [{"role": "user", "content": prompt.text}]


def _write(tmp_path: Path, body: str, name: str = "mine.toml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def test_user_toml_set_loads_by_path(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
name = "mine"
[[prompts]]
id = "one"
category = "misc"
system = "Be brief."
text = "Say hi."
constraints = [{kind = "words", max = 3}]
""",
    )
    loaded = load_prompt_set(str(path))
    assert loaded.name == "mine"
    assert loaded.prompts[0].messages()[0] == {"role": "system", "content": "Be brief."}
    assert loaded.prompts[0].constraints == ({"kind": "words", "max": 3},)


def test_user_jsonl_set_is_named_after_the_file(tmp_path: Path) -> None:
    path = tmp_path / "quick.jsonl"
    path.write_text(
        json.dumps({"id": "a", "category": "c", "text": "A?"})
        + "\n\n"
        + json.dumps({"id": "b", "category": "c", "text": "B?"}),
        encoding="utf-8",
    )
    loaded = load_prompt_set(str(path))
    assert loaded.name == "quick"
    assert [p.uid for p in loaded.prompts] == ["quick/a", "quick/b"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('[[prompts]]\nid = "x"\ncategory = "c"\n', "(id 'x').text: missing or empty"),
        ('[[prompts]]\ncategory = "c"\ntext = "t"\n', "prompts[0].id: missing or invalid"),
        (
            '[[prompts]]\nid = "x"\ncategory = "c"\ntext = "t"\nconstraints = [{kind = "sentence", exact = 3}]\n',
            "(id 'x').constraints[0].kind: unknown constraint kind 'sentence'",
        ),
        (
            '[[prompts]]\nid = "x"\ncategory = "c"\ntext = "t"\nconstraints = [{kind = "sentences", exact = "3"}]\n',
            "(id 'x').constraints[0].exact: expected int",
        ),
        (
            '[[prompts]]\nid = "x"\ncategory = "c"\ntext = "t"\nconstraints = [{kind = "words"}]\n',
            "'words' needs one of exact, max, min",
        ),
        (
            '[[prompts]]\nid = "x"\ncategory = "c"\ntext = "t"\nconstraints = [{kind = "regex", pattern = "("}]\n',
            "(id 'x').constraints[0].pattern: invalid regular expression",
        ),
        (
            '[[prompts]]\nid = "x"\ncategory = "c"\ntext = "t"\nconstraints = [{kind = "words", min = 9, max = 2}]\n',
            "min 9 is above max 2",
        ),
        ('[[prompts]]\nid = "x"\ncategory = "c"\ntext = "t"\ncolour = "red"\n', "unknown field 'colour'"),
        (
            '[[prompts]]\nid = "x"\ncategory = "c"\ntext = "t"\n[[prompts]]\nid = "x"\ncategory = "c"\ntext = "u"\n',
            "prompts[1].id: duplicate prompt id 'x'",
        ),
        ('name = "mine"\n', "prompts: missing"),
        ("[[prompts]\n", "invalid TOML"),
    ],
)
def test_validation_errors_name_file_prompt_and_field(tmp_path: Path, body: str, expected: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(ArenaError) as info:
        load_prompt_set(str(path))
    message = str(info.value)
    assert str(path) in message
    assert expected in message
    assert "\n" not in message


def test_jsonl_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "category": "c", "text": "t"}\n{"id": "b", "category": \n', encoding="utf-8")
    with pytest.raises(ArenaError, match=r"bad\.jsonl: line 2: invalid JSON"):
        load_prompt_set(str(path))


def test_unknown_set_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ArenaError, match=r"unknown prompt set 'nope'.*constraints, everyday"):
        load_prompt_set("nope")


def test_missing_prompt_file() -> None:
    with pytest.raises(ArenaError, match=re.escape("prompt file not found: missing.toml")):
        load_prompt_set("missing.toml")
