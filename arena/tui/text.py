"""Untrusted text as literal terminal text in the TUI: never markup, never escape sequences.

Rich ``Text`` objects are not parsed for markup, but control characters inside them would still reach the
terminal. Every widget that shows text from outside this code builds it with ``literal`` (or
``arena.tui.markdown.styled_answer``), which passes it through the one sanitizer, ``arena.untrusted.visible``;
``mark`` highlights tokens, sanitized the same way, in such text.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text

from arena.present import terminal
from arena.untrusted import visible

__all__ = ["literal", "mark", "visible"]


def literal(text: str, style: str = "") -> Text:
    """Untrusted text for a widget (no trailing newline: widgets lay out their own lines)."""
    return terminal.literal(text, style, end="")


def mark(shown: Text, tokens: Iterable[str], style: str = "bold black on yellow") -> Text:
    """``shown`` (sanitized text) with every occurrence of the given tokens highlighted in place."""
    for token in {visible(token) for token in tokens if token.strip()}:
        shown.highlight_words([token], style=style, case_sensitive=True)
    return shown
