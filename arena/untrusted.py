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
from typing import Any

_HIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 (but \t \n), DEL, C1
    "\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\u206a-\u206f\ufeff\ufff9-\ufffb"  # bidi, zero-width, separators
    "\ud800-\udfff]"  # surrogates, only ever lone in a str that came from JSON or surrogateescape
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


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
    return _HIDDEN.sub(lambda match: f"\\u{ord(match.group(0)):04x}", text)
