"""Text that did not come from this code, made safe to show on a terminal: the one sanitizer.

Owns the rule for every place where model output, server bodies and errors, imported names, prompt files
or labels meet a terminal (CLI tables and lines, TUI widgets, CSV written to a tty): nothing in them is
interpreted as an escape sequence or shown invisibly. Spelled out as visible escapes instead:

- control characters except newline and tab (ESC starts sequences that recolour, move or clear the
  screen, set the title or the clipboard), DEL and the C1 range;
- bidirectional overrides, embeddings, isolates and marks (U+202E can make text read backwards);
- zero-width and invisible formatting characters (U+200B, U+2060, U+FEFF, ...);
- lone surrogates (valid in JSON, not encodable to the terminal).

Markup is a separate matter: strings are never parsed as Rich markup anywhere (``Text`` is literal and the
CLI's console has markup off), so ``[bold]`` prints as written.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

_FORMAT_AND_CONTROL: tuple[tuple[int, int], ...] = (
    (0x0000, 0x0008),
    (0x000B, 0x001F),
    (0x007F, 0x009F),
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xD800, 0xDFFF),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)
"""Every control (but tab and newline), format character (category Cf: bidi controls, zero-width, soft
hyphen, tag characters, ...), surrogate and line or paragraph separator, as code point spans, written out
from Unicode 14.0.0 (computing them at import would cost a tenth of a second);
``tests/app/test_hostile.py`` checks them against the running Python's Unicode database."""


def _hidden_class() -> str:
    """The regex class of what is never shown as is: ``_FORMAT_AND_CONTROL``, and the characters that draw
    nothing although they are letters or symbols (``_DRAW_NOTHING``, the variation selectors)."""
    spans = sorted([*_FORMAT_AND_CONTROL, *((code, code) for code in _DRAW_NOTHING), *_SELECTORS])
    return "[" + "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in spans) + "]"


_DRAW_NOTHING = (0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0)
"""Letters and symbols that print as nothing: a combining grapheme joiner, Hangul and Khmer fillers, the
blank braille cell."""
_SELECTORS = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF))
"""The variation selectors, as spans: a class of 256 single code points takes milliseconds to compile, on
every command that shows untrusted text."""
_JOINS_EMOJI = ("\u200d", "\ufe0e", "\ufe0f")
"""The zero-width joiner and the text / emoji presentation selectors are part of an emoji after a symbol
(``👩‍💻``, ``❤️``): kept there, spelled out anywhere else."""
_HIDDEN = re.compile(_hidden_class())


def _after_symbol(text: str, position: int) -> bool:
    """Whether ``text[position]`` follows a symbol (an emoji), looking past one presentation selector:
    the joiner in ``🏳️‍🌈`` comes after U+FE0F, which comes after the flag."""
    before = position - 1
    if before > 0 and text[before] in "\ufe0e\ufe0f":
        before -= 1
    return before >= 0 and unicodedata.category(text[before]) in ("So", "Sk")


def _spelled(spell: Callable[[int], str]) -> Callable[[re.Match[str]], str]:
    """The substitution of a hidden character by ``spell`` of its code point, keeping an emoji's joiners:
    the one rule behind the terminal's and JSON's spellings."""

    def replace(match: re.Match[str]) -> str:
        char = match.group(0)
        if char in _JOINS_EMOJI and _after_symbol(match.string, match.start()):
            return char
        return spell(ord(char))

    return replace


def _terminal_spelling(code: int) -> str:
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _json_spelling(code: int) -> str:
    """``\\uXXXX``, or a surrogate pair beyond the BMP, as JSON spells a character."""
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


_escape = _spelled(_terminal_spelling)
_json_escape = _spelled(_json_spelling)


def visible(text: str) -> str:
    """``text`` with every control, bidi, invisible and surrogate character spelled out (``\\x1b``,
    ``\\u202e``), so the terminal only ever receives printable text, newlines and tabs."""
    return _HIDDEN.sub(_escape, text)


def valid_text(text: str) -> str:
    """``text`` as valid Unicode for storage: lone surrogates become U+FFFD, pairs are joined.

    A backend's JSON may carry ``"\\ud800"``: a legal JSON string, but not encodable as UTF-8, so SQLite
    and every terminal would refuse it.
    """
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


_SURROGATE = re.compile("[\ud800-\udfff]")


def json_text(value: Any, *, indent: int | None = 2) -> str:
    """JSON for a terminal or a file: readable UTF-8, but every hidden character (controls, C1, bidi,
    zero-width, lone surrogates) as a ``\\uXXXX`` escape, so the data stays exact and ``cat`` stays safe."""
    text = json.dumps(value, indent=indent, ensure_ascii=False, default=str)
    if text.isascii() and "\x7f" not in text:  # JSON escapes every other ASCII control: nothing hidden
        return text
    return _HIDDEN.sub(_json_escape, text)


SERVED_KEYS = ("model", "system_fingerprint")
SERVED_MAX_CHARS = 200


def checked_served(served: object) -> dict[str, str] | None:
    """What a server said it ran, kept only where it is short text under a known key (a server's JSON is
    untrusted: a number, a list or a megabyte is dropped, not stored)."""
    if not isinstance(served, Mapping):
        return None
    kept = {
        key: valid_text(value)
        for key in SERVED_KEYS
        if isinstance(value := served.get(key), str) and 0 < len(value) <= SERVED_MAX_CHARS
    }
    return kept or None
