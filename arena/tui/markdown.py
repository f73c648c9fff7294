"""An answer rendered as markdown, under the untrusted-text rule (``arena.tui.text``).

Chat arenas render answers (headers, lists, bold, highlighted code); the arena does too, by default, with
what the model wrote kept in view: the text goes through the one sanitizer first (control characters are
spelled out, never sent to the terminal), raw HTML stays visible as text instead of vanishing (markdown-it
would drop a tag or a comment the judge never sees), and a link shows its target and is never a terminal
hyperlink, so nothing opens from a click. ``v`` on the battle screen shows the exact text instead.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from rich.markdown import Markdown

from arena.untrusted import visible

_PARSER = MarkdownIt("commonmark", {"html": False}).enable("strikethrough").enable("table")


class AnswerMarkdown(Markdown):
    """rich's ``Markdown`` over sanitized text, parsed with raw HTML as text and hyperlinks off."""

    def __init__(self, answer: str) -> None:
        super().__init__("", hyperlinks=False, code_theme="ansi_dark")
        self.markup = visible(answer)
        self.parsed = _PARSER.parse(self.markup)
