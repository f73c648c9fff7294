"""``arena.untrusted``: the one sanitizer for text that did not come from this code."""

from __future__ import annotations

import json

HIDDEN_IN_NAMES = ["\u3164", "\u2800\u2800", "alice\u034f", "alice\ufe0f", "al\u00adice", "alice\U000e0041", "a\u180eb"]


def test_the_sanitizer_knows_every_format_character_and_keeps_emoji_whole() -> None:
    import sys
    import unicodedata

    from arena.untrusted import _HIDDEN, json_text, visible

    uncovered = [
        f"U+{code:04X}"
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in ("Cc", "Cf", "Cs", "Zl", "Zp")
        and chr(code) not in "\t\n"
        and not _HIDDEN.fullmatch(chr(code))
    ]
    assert uncovered == []  # the written-out spans match this Python's Unicode database
    for text in [*HIDDEN_IN_NAMES, "a\U000e0049b"]:
        shown = visible(text)
        assert (shown != text and "\\u" in shown) or "\\x" in shown or "\\U" in shown, text
        assert json.loads(json_text(text)) == text  # JSON stays exact
    for emoji in ("\U0001f469\u200d\U0001f4bb dev", "\u2764\ufe0f", "\U0001f3f3\ufe0f\u200d\U0001f308"):
        assert visible(emoji) == emoji
