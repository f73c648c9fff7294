"""Every constraint kind the prompt sets use, passing and failing, with reasons; nothing is executed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arena.analysis.flags.constraints import check
from arena.prompts import load_prompt_set

DEDUPE_DOC = (
    '```python\ndef dedupe(items):\n    """Keep the first of each."""\n    return list(dict.fromkeys(items))\n```'
)
AVERAGE_CHECKED = "```python\ndef average(numbers):\n    if not numbers:\n        return None\n    return sum(numbers) / len(numbers)\n```"
AVERAGE_LEN = "def average(xs):\n    if len(xs) == 0:\n        return None\n    return sum(xs) / len(xs)"
AVERAGE_UNCHECKED = "```python\ndef average(numbers):\n    return sum(numbers) / len(numbers)\n```"


@pytest.mark.parametrize(
    ("constraint", "text", "passed", "reason"),
    [
        ({"kind": "sentences", "exact": 3}, "One. Two! Three?", True, "3 sentences"),
        (
            {"kind": "sentences", "exact": 3},
            "Dr. Who met Mr. Smith at 3.30 p.m. today. Then they left.",
            False,
            "2 sentences (wanted exactly 3)",
        ),
        ({"kind": "sentences", "max": 2}, "One. Two. Three.", False, "3 sentences (wanted at most 2)"),
        ({"kind": "sentences", "exact": 1}, "J. R. R. Tolkien wrote it.", True, "1 sentence ("),
        ({"kind": "words", "max": 5}, "one two three four five", True, "5 words"),
        ({"kind": "words", "exact": 1}, "Ottawa.", True, "1 word ("),
        ({"kind": "words", "min": 3, "max": 4}, "too short", False, "2 words (wanted at least 3 and at most 4)"),
        ({"kind": "paragraphs", "exact": 2}, "First para.\n\nSecond para.", True, "2 paragraphs"),
        ({"kind": "paragraphs", "exact": 2}, "Only one.", False, "1 paragraph ("),
        ({"kind": "bullets", "exact": 3}, "- a\n- b\n- c", True, "3 bullets"),
        ({"kind": "bullets", "exact": 5}, "1. a\n2. b\n3) c\n* d\n• e", True, "5 bullets"),
        ({"kind": "bullets", "exact": 3}, "Intro:\n- a\n- b", False, "2 bullets"),
        ({"kind": "characters", "max": 10}, "short one", True, "9 characters"),
        ({"kind": "include", "phrases": ["Ottawa"]}, "It is ottawa.", True, "all phrases present"),
        ({"kind": "include", "phrases": ["75", "minutes"]}, "It takes 175 minutes.", False, "missing: 75"),
        (
            {"kind": "exclude", "phrases": ["cat", "sun"]},
            "The kitten naps; it will catch a sunbeam.",
            True,
            "none of the phrases",
        ),
        ({"kind": "exclude", "phrases": ["max("]}, "return max(values)", False, "contains: max("),
        ({"kind": "include", "phrases": ["Yes"], "case_sensitive": True}, "yes", False, "missing: Yes"),
        ({"kind": "regex", "pattern": r"Answer:\s*14\s*$"}, "Working...\nAnswer: 14\n", True, "matches"),
        ({"kind": "regex", "pattern": r"^\s*12:35\s*$"}, "It ends at 12:35.", False, "no match"),
        ({"kind": "lowercase"}, "fog on the bay\nthe lighthouse hums", True, "0 of"),
        ({"kind": "lowercase"}, "Fog on the bay", False, "1 of 11 letters are not lowercase"),
        ({"kind": "uppercase"}, "CITY ON TITAN: 2099", True, "0 of"),
        ({"kind": "starts_with", "text": "Once upon a time"}, '"once upon a time, a fox..."', True, "starts with"),
        ({"kind": "starts_with", "text": "Yes"}, "No, because...", False, "starts with 'No, because...'"),
        ({"kind": "ends_with", "text": "That is all."}, "Rayleigh scattering. That is all.\n", True, "ends with"),
        (
            {"kind": "json", "keys": ["host", "port"]},
            '{"host": "x", "port": 80, "debug": false}',
            True,
            "valid JSON with keys host, port",
        ),
        ({"kind": "json", "keys": ["host", "port"]}, '{"host": "x"}', False, "missing keys: port"),
        ({"kind": "json"}, '```json\n{"a": 1}\n```', False, "only inside a code fence"),
        ({"kind": "json"}, "{'a': 1}", False, "not valid JSON"),
        ({"kind": "json", "keys": ["colors"]}, '["red"]', False, "a list, not an object"),
        ({"kind": "python_parses"}, DEDUPE_DOC, True, "1 code block(s) parse"),
        ({"kind": "python_parses"}, "```python\ndef f(:\n    pass\n```", False, "SyntaxError"),
        ({"kind": "python_parses"}, "I would use a set.", False, "no Python code found"),
        # SmolLM2's answer: a complete function, then an example cut off by max tokens (demo generation 38)
        (
            {"kind": "python_parses"},
            DEDUPE_DOC + "\nExample usage:\n```python\nprint(dedupe([1, 2, 3,",
            True,
            "left out",
        ),
        ({"kind": "docstring", "function": "dedupe"}, DEDUPE_DOC + "\n```python\nprint(dedupe([1,", True, "docstring"),
        # a broken block that was closed is the answer's own code: it still fails
        ({"kind": "python_parses"}, DEDUPE_DOC + "\n```python\nprint(dedupe([1,\n```\n", False, "SyntaxError"),
        ({"kind": "python_parses"}, "def f(x):\n    return x + 1\n\nThat is it.", True, "parse"),
        ({"kind": "docstring", "function": "dedupe"}, DEDUPE_DOC, True, "dedupe() has a docstring"),
        (
            {"kind": "docstring", "function": "dedupe"},
            "```python\ndef dedupe(items):\n    return items\n```",
            False,
            "has no docstring",
        ),
        (
            {"kind": "docstring", "function": "dedupe"},
            "```python\ndef unique(items):\n    '''Doc.'''\n```",
            False,
            "no function named 'dedupe'",
        ),
        ({"kind": "handles_empty", "function": "average"}, AVERAGE_CHECKED, True, "checks for empty input (line 2)"),
        ({"kind": "handles_empty", "function": "average"}, AVERAGE_LEN, True, "checks for empty input"),
        (
            {"kind": "handles_empty", "function": "average"},
            AVERAGE_UNCHECKED,
            False,
            "no explicit check for empty input",
        ),
        (
            {"kind": "handles_empty"},
            "```python\ndef largest(values):\n    return max(values, default=None)\n```",
            True,
            "passes a default",
        ),
        (
            {"kind": "handles_empty"},
            "```python\ndef mean(xs):\n    try:\n        return sum(xs) / len(xs)\n    except ZeroDivisionError:\n        return None\n```",
            True,
            "catches ZeroDivisionError",
        ),
        (
            {"kind": "handles_empty"},
            '```python\ndef count(text):\n    """Count words.\n\n    >>> count("")\n    {}\n    """\n    return {}\n```',
            True,
            "documents a test of the empty case",
        ),
    ],
)
def test_checkers(constraint: dict[str, Any], text: str, passed: bool, reason: str) -> None:
    result = check(text, constraint)
    assert result.passed is passed, result.reason
    assert reason in result.reason


def test_counts_read_as_english() -> None:
    from arena.wording import counted

    assert [counted(n, "sentence") for n in (0, 1, 2)] == ["0 sentences", "1 sentence", "2 sentences"]
    assert check("One.", {"kind": "sentences", "exact": 3}).reason == "1 sentence (wanted exactly 3)"


def test_checking_code_never_runs_it(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    code = f"```python\nimport pathlib\npathlib.Path({str(marker)!r}).write_text('x')\ndef f(x):\n    '''d'''\n    if not x:\n        return 0\n```"
    for kind in ("python_parses", "docstring", "handles_empty"):
        check(code, {"kind": kind})
    assert not marker.exists()


def test_every_shipped_constraint_is_checkable_on_a_plain_answer() -> None:
    for set_name in ("everyday", "constraints"):
        for prompt in load_prompt_set(set_name).prompts:
            for constraint in prompt.constraints:
                result = check("A plain answer.", constraint)
                assert isinstance(result.passed, bool) and result.reason


@given(st.integers(min_value=0, max_value=30))
def test_word_count_matches_construction(n: int) -> None:
    text = " ".join(["word"] * n)
    assert check(text, {"kind": "words", "exact": n}).passed
    assert not check(text, {"kind": "words", "exact": n + 1}).passed


@given(st.integers(min_value=1, max_value=12))
def test_sentence_count_matches_construction(n: int) -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(n))
    assert check(text, {"kind": "sentences", "exact": n}).passed


def test_a_catastrophic_regex_from_a_prompt_file_is_stopped_not_run_forever() -> None:
    """A prompt file's pattern is untrusted. `(a+)+$` (minutes with Python's re) is instant in the regex
    engine; `(a|aa)+$` backtracks there too, and the checker gives up after 1 s instead of hanging batch."""
    quick = check("a" * 40 + "b", {"kind": "regex", "pattern": "(a+)+$"})
    assert quick.passed is False and quick.reason == "no match for /(a+)+$/"
    slow = check("a" * 60 + "b", {"kind": "regex", "pattern": "(a|aa)+$"})
    assert slow.passed is False and "took over 1 s" in slow.reason


def test_long_runs_without_spaces_are_judged_without_regexes() -> None:
    """A 200,000-character run used to take minutes (regexes per token); it is now one run-on token."""
    from arena.analysis.flags.garbage import classify

    assert classify("x" * 200_000, frozenset()) == "run-on"
    assert classify("https://example.com/" + "a" * 300, frozenset()) is None
