"""Every detector and every constraint checker returns on any text, for every prompt of every shipped set.

Real models write things the hand-made cases never did (inline code with no code lines crashed the Python
checkers on a real answer). Hypothesis builds texts from the pieces that trip parsers: code fences open and
closed, inline code, brackets, list markers, unicode controls, mojibake, lone surrogates, JSON fragments.
The guarded ``analyze`` would hide a crash as a flag error, so these tests also call each function bare.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from arena.analysis.flags import Flag, analyze, count, guarded
from arena.analysis.flags.constraints import check
from arena.analysis.flags.garbage import detect_garbage
from arena.analysis.flags.repetition import detect_repetition
from arena.prompts import Prompt, load_prompt_set, shipped_set_names

PROMPTS: list[Prompt] = [prompt for name in shipped_set_names() for prompt in load_prompt_set(name).prompts]
CONSTRAINTS: list[dict[str, Any]] = [dict(c) for prompt in PROMPTS for c in prompt.constraints]

PIECES = [
    "```python\n",
    "```\n",
    "```py\n",
    "```json\n",
    "~~~\n",
    "`",
    "``",
    "`dedupe(items)`",
    "Call `dedupe(items)` on it.",
    "def f(x):\n",
    "    return x\n",
    "def average(numbers):\n    '''Mean.'''\n    if not numbers:\n        return 0\n",
    '"""doc"""',
    "class A:\n",
    "if x:\n",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "};",
    '{"a": 1}',
    "[1, 2",
    "\n",
    "\n\n",
    " ",
    "\t",
    "\r\n",
    "- ",
    "* ",
    "1. ",
    "a) ",
    "# ",
    "...",
    "e.g.",
    "Dr.",
    "3.14",
    "!",
    "?",
    "\u202e",
    "\u200b",
    "\x1b[2J",
    "\x00",
    "é",
    "Ã©",
    "🙂",
    "\ud800",
    "PersonX",
    "TrainStationFactory",
    "<|im_end|>",
    "]]>",
    "The answer is 4. ",
    "x" * 300,
]

texts = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=12)), max_size=40).map("".join)
PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(text=texts)
@example(text="Call `dedupe(items)` on it.")
@example(text="")
@example(text="```python\n")
@example(text="`a` `b`\n  `c`")
def test_detectors_return_on_any_text(text: str) -> None:
    repetition = detect_repetition(text)
    assert 0.0 <= repetition.score <= 1.0
    garbage = detect_garbage(text, PROMPTS[0].text)
    assert 0.0 <= garbage.score <= 1.0
    counts = count(text)
    assert counts.characters == len(text)


@PROPERTY
@given(text=texts)
@example(text="Call `dedupe(items)` on it.")
@example(text="x = [\n")
@example(text="```\n```\n`x`\n")
@example(text="```python\n\ud800")  # found by this test: ast.parse raised UnicodeEncodeError
@example(text="```python\nprint(1)\x00\n```")
@example(text="[" * 5000)
@example(text="```python\n" + "(" * 5000 + "\n```")
def test_every_shipped_constraint_checker_returns_on_any_text(text: str) -> None:
    for constraint in CONSTRAINTS:
        result = check(text, constraint)
        assert isinstance(result.passed, bool)
        assert isinstance(result.reason, str) and result.reason


@pytest.mark.parametrize("prompt", PROMPTS, ids=[p.uid for p in PROMPTS])
def test_inline_code_without_code_lines_is_judged_not_crashed(prompt: Prompt) -> None:
    """The real answer that crashed ``arena play`` at battle 3: every prompt's flags compute, none errors."""
    flags = analyze(
        "Call `dedupe(items)` on it.", prompt=prompt.text, constraints=prompt.constraints, finish_reason="stop"
    )
    assert [f.name for f in flags if f.error] == []
    for flag in flags:
        if flag.name in ("constraint:python_parses", "constraint:docstring", "constraint:handles_empty"):
            assert flag.hit, flag  # inline code is not a program: the code constraints are broken, not crashed


def test_a_failing_detector_becomes_a_flag_error_and_the_others_still_run() -> None:
    def broken() -> Flag:
        raise IndexError("list index out of range")

    flag = guarded("constraint:docstring", broken)
    assert flag.hit is False and flag.error == "IndexError: list index out of range"
    flags = analyze("fine text.", constraints=[{"kind": "sentences", "exact": 1}, {"kind": "nosuchkind"}])
    by_name = {f.name: f for f in flags}
    assert by_name["constraint:sentences"].error is None and by_name["constraint:sentences"].hit is False
    assert by_name["constraint:nosuchkind"].error is not None  # an unknown kind is a recorded failure
    assert by_name["repetitive"].error is None


MARKDOWN_TEXT = st.lists(st.sampled_from([*"ab1 \t\n\r#-*+.)_’'é2", "**", "__", "```", "12."]), max_size=120).map(
    "".join
)
"""Text made of the characters the word and markdown patterns turn on (and a few they must not)."""


@given(MARKDOWN_TEXT)
@settings(max_examples=400, deadline=None)
@example("# a\n- b\n  1. c\n#x\n-y")
@example("don't 3.14 a-b é-b a’b a__b")
def test_the_fast_counts_find_what_the_plain_patterns_find(text: str) -> None:
    """Words on ASCII text and markdown at line starts are counted by faster patterns (an import counts
    every answer); these are the patterns they stand for, and the counts must be theirs."""
    import re

    from arena.analysis.flags.text import words
    from arena.analysis.style_counts import markdown_counts

    word = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*", re.UNICODE)
    header = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+\S", re.MULTILINE)
    item = re.compile(r"^[ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+\S", re.MULTILINE)
    assert words(text) == word.findall(text)
    if "```" not in text and "~~~" not in text:
        headers, items, _bold = markdown_counts(text)
        assert (headers, items) == (len(header.findall(text)), len(item.findall(text)))
