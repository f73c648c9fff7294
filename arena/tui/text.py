"""Model output as literal terminal text: never markup, never escape sequences.

Rich ``Text`` objects are not parsed for markup, but control characters inside them would still reach the
terminal; ESC starts a sequence that can recolour, move or clear the screen. Every control character
except newline and tab is therefore shown as a visible escape (``\\x1b``), in a dim style, before it is
drawn.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rich.text import Text

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """``text`` with control characters spelled out, so the terminal only ever receives printable text."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group(0)):02x}", text)


def literal(text: str, style: str = "") -> Text:
    return Text(visible(text), style=style, end="")


def highlighted(text: str, tokens: Iterable[str], style: str = "bold black on yellow") -> Text:
    """Literal text with every occurrence of the given tokens (garbage evidence) highlighted."""
    shown = literal(text)
    for token in {visible(token) for token in tokens if token.strip()}:
        shown.highlight_words([token], style=style, case_sensitive=True)
    return shown
