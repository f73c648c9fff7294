"""An answer's markdown counts and the one formula of a style difference, without numpy.

Split from ``arena.analysis.style`` (the style-controlled fit, which needs numpy) because an import counts
every answer it stores and fills every vote's style differences: that path should not pay for importing
numpy (a tenth of a second), and both paths must count and compare alike.
"""

from __future__ import annotations

import re
from typing import TypeVar

FENCED = re.compile(r"^[ \t]*(```|~~~).*?(?:^[ \t]*\1[ \t]*$|\Z)", re.DOTALL | re.MULTILINE)
_HEADER = re.compile(r"\n[ \t]{0,3}#{1,6}[ \t]+\S")
_LIST_ITEM = re.compile(r"\n[ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+\S")
"""A header and a list item at a line's start, found as a newline and what follows it (in the text with a
newline put first): the regex engine then jumps from newline to newline instead of trying every position
for a multiline ``^`` (four times faster on an import's answers, the same matches)."""
_BOLD = re.compile(r"\*\*(?=\S)[^*\n]+?\*\*|__(?=\S)[^_\n]+?__")

Number = TypeVar("Number")


def markdown_counts(text: str | None) -> tuple[int, int, int]:
    """(headers, list items, bold spans) outside fenced code: ``style_counts`` without the length, for
    counting many stored answers whose length is counted elsewhere."""
    text = text or ""
    return markdown(FENCED.sub("\n", text) if "```" in text or "~~~" in text else text)


def markdown(prose: str) -> tuple[int, int, int]:
    """The counts of text without fenced code; a pattern whose marker character is absent is not run (a
    quarter of an import's time went to these scans, most of them on answers without the marker)."""
    lines = "\n" + prose
    headers = len(_HEADER.findall(lines)) if "#" in prose else 0
    bold = len(_BOLD.findall(prose)) if "**" in prose or "__" in prose else 0
    return headers, len(_LIST_ITEM.findall(lines)), bold


def style_difference(left: Number, right: Number) -> Number:
    """(f_A - f_B) / (f_A + f_B + 1): the one formula of a style difference, on two counts or on two
    arrays of them alike (the same float operations either way)."""
    return (left - right) / (left + right + 1.0)  # type: ignore[operator,no-any-return]
