"""The console every CLI line and table goes through: markup off, untrusted characters made visible.

Owns the CLI's terminal boundary. Rich's own styling and cursor codes are added after this point, so only
the text of each segment is sanitized: a label, a server's error body or a prompt holding ESC, OSC 52
(clipboard) or U+202E prints as ``\\x1b]52;...`` or ``\\u202e`` and does nothing. Markup is off, so
``[/]`` in a label or a path neither crashes (MarkupError) nor swallows text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.segment import Segment
from rich.text import Text

from arena.untrusted import visible


def literal(text: str, style: str = "", *, end: str = "\n") -> Text:
    """Untrusted text as a rich ``Text``: never parsed as markup, every hidden character made visible."""
    return Text(visible(text), style=style, end=end)


class SafeConsole(Console):
    """A rich Console whose printed text is always literal and visible."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("markup", False)
        kwargs.setdefault("highlight", False)
        kwargs.setdefault("emoji", False)
        super().__init__(**kwargs)

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        safe = (segment if segment.control else Segment(visible(segment.text), segment.style) for segment in buffer)
        return super()._render_buffer(safe)
