"""Text structure shared by the detectors and the constraint checks: code blocks, lines, sentences, words.

Model output mixes prose, markdown and code. Counting sentences inside a code block, or calling an
identifier in code "garbage", are the classic false alarms, so everything here first separates code from
prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE = re.compile(r"^[ \t]*(```|~~~)[ \t]*([\w+.-]*)[^\n]*\n(.*?)(?:^[ \t]*\1[ \t]*$|\Z)", re.DOTALL | re.MULTILINE)
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_CODE_LINE = re.compile(
    r"^\s*(def |class |import |from \S+ import |return\b|for .+:\s*$|while .+:\s*$|if .+:\s*$|elif |else:|try:|"
    r"except\b|with .+:\s*$|raise |assert |print\(|@\w|#include|public |private |function |const |let |var )"
)
# < and > are left out: they are also HTML tags, which in prose are garbage, not code
_CODE_PUNCT = re.compile(r"[(){}\[\];=]")
_JSON_MEMBER = re.compile(r'^\s*"[^"\n]*"\s*:\s*(?:["{\[\d\-]|true|false|null)')
_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*", re.UNICODE)
_ASCII_WORD = re.compile(r"[A-Za-z0-9]+(?:['.-][A-Za-z0-9]+)*", re.ASCII)
"""``_WORD`` on ASCII text, where a letter or digit is one of these 62 (a quarter faster: imports count
every answer's words)."""
_BULLET = re.compile(r"^\s*(?:[-*•+]|\d{1,3}[.)]|[a-zA-Z][.)])\s+\S")

# Abbreviations whose period does not end a sentence (lowercased, without the final period).
_ABBREVIATIONS = frozenset(
    (
        "e.g i.e etc vs mr mrs ms dr prof sr jr st no fig eq approx ca cf al dept est inc ltd co corp "
        "jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun "
        "km kg cm mm min max h p pp vol ed u.s u.k a.m p.m"
    ).split()
)


@dataclass(frozen=True)
class CodeBlock:
    language: str
    code: str
    start: int
    end: int


def code_blocks(text: str) -> list[CodeBlock]:
    """Fenced blocks (an unclosed fence runs to the end, as truncated outputs often leave it)."""
    return [
        CodeBlock(match.group(2).lower(), match.group(3), match.start(), match.end()) for match in _FENCE.finditer(text)
    ]


def looks_like_code(line: str) -> bool:
    """An unfenced line of code: a statement keyword, dense code punctuation, or a lone bracket line."""
    if _CODE_LINE.match(line) or _JSON_MEMBER.match(line):
        return True
    stripped = line.strip()
    if not stripped:
        return False
    if set(stripped) <= set("{}[]();,"):
        return True
    punctuation = len(_CODE_PUNCT.findall(stripped))
    words = len(stripped.split())
    return punctuation >= 3 and punctuation >= words and ("(" in stripped or "=" in stripped or ";" in stripped)


def _blank_out_fences(text: str) -> str:
    """``text`` with every fenced block replaced by as many newlines as it spans, so line numbers hold."""
    parts: list[str] = []
    position = 0
    for block in code_blocks(text):
        parts.append(text[position : block.start])
        parts.append("\n" * text.count("\n", block.start, block.end))
        position = block.end
    parts.append(text[position:])
    return "".join(parts)


def unfenced_code_line_numbers(text: str) -> list[int]:
    """Indices (into ``text.split("\\n")``) of lines that look like code outside any fence.

    Inline code (`` `x` ``) is not a code line: it sits inside prose.
    """
    masked = _INLINE_CODE.sub(" ", _blank_out_fences(text))
    return [number for number, line in enumerate(masked.split("\n")) if looks_like_code(line)]


def split_code(text: str, inline_placeholder: str = " ") -> tuple[str, list[str]]:
    """(prose, code pieces): fenced blocks, inline code and unfenced code lines are moved out of the prose.

    Removed code is replaced by a newline so words on either side do not run together; inline code by
    ``inline_placeholder`` (the garbage detector passes a word, so "(`x`)," leaves no bare brackets).
    """
    pieces: list[str] = []
    prose_parts: list[str] = []
    position = 0
    for block in code_blocks(text):
        prose_parts.append(text[position : block.start])
        pieces.append(block.code)
        prose_parts.append("\n")
        position = block.end
    prose_parts.append(text[position:])
    prose = "".join(prose_parts)
    pieces.extend(match.group(0).strip("`") for match in _INLINE_CODE.finditer(prose))
    prose = _INLINE_CODE.sub(inline_placeholder, prose)
    kept_lines = []
    for line in prose.split("\n"):
        if looks_like_code(line):
            pieces.append(line)
            kept_lines.append("")
        else:
            kept_lines.append(line)
    return "\n".join(kept_lines), pieces


def words(text: str) -> list[str]:
    """Word-like tokens (letters or digits, with inner apostrophes, hyphens and periods: 3.14, don't)."""
    return (_ASCII_WORD if text.isascii() else _WORD).findall(text)


def paragraphs(text: str) -> list[str]:
    """Blocks separated by blank lines; a fenced code block counts as part of its paragraph."""
    return [block for block in re.split(r"\n[ \t]*\n", text.strip()) if block.strip()]


def bullet_lines(text: str) -> list[str]:
    """List items: lines starting with -, *, •, + or 1. / 1) / a) markers (outside code blocks)."""
    prose, _ = split_code(text)
    return [line for line in prose.splitlines() if _BULLET.match(line)]


_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s|$)")
_LIST_MARKER = re.compile(r"^\s*(?:[-*•+]|\d{1,3}[.)]|[a-zA-Z][.)])\s+")
_HEADING = re.compile(r"^\s*#{1,6}\s")
_EQUATION = re.compile(r"\S\s*[=≈]\s*\S")


def _ends_sentence(text: str, end: int) -> bool:
    """Whether the terminal punctuation ending at ``end`` really ends a sentence (not "e.g." or "Dr.").
    Reads back only to the word's start (re-splitting everything before each full stop made one long
    paragraph quadratic: 1 MB of prose took 205 s)."""
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    token = text[start:end].rstrip("\"'”’)]")
    if not token.endswith("."):
        return True  # ! ? and … always end a sentence
    core = token.rstrip(".").lstrip("(\"'“‘").lower()
    return not (core in _ABBREVIATIONS or (len(core) == 1 and core.isalpha()))


def sentences(text: str) -> list[str]:
    """Sentences of the prose (code excluded): abbreviations, decimals and list markers do not split.

    Each list item or heading line is its own unit; inside a paragraph a line without terminal
    punctuation continues into the next line (verse and wrapped prose).
    """
    prose, _ = split_code(text)
    units: list[str] = []
    for paragraph in paragraphs(prose):
        buffer = ""
        for raw_line in paragraph.splitlines():
            line = raw_line.strip()
            if not line:
                continue
            # list items, headings and equations are units of their own, never joined to the next line
            if _LIST_MARKER.match(line) or _HEADING.match(line) or _EQUATION.search(line):
                if buffer:
                    units.extend(_split_line(buffer))
                    buffer = ""
                units.extend(_split_line(_LIST_MARKER.sub("", _HEADING.sub("", line), count=1)))
                continue
            buffer = f"{buffer} {line}".strip()
        if buffer:
            units.extend(_split_line(buffer))
    return [unit for unit in units if words(unit)]


def _split_line(text: str) -> list[str]:
    parts = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if not _ends_sentence(text, end):
            continue
        parts.append(text[start:end].strip())
        start = end
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return [part for part in parts if part]
