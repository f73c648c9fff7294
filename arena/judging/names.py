"""The rule for a judge's name: typed in a browser by anyone who has the address, or given as ``--judge``."""

from __future__ import annotations

import unicodedata

from arena.untrusted import visible
from arena.vocab import AUTO_PREFIX, NAMED_PREFIX

JUDGE_NAME_MAX = 40
RESERVED_PREFIXES = (AUTO_PREFIX, "baseline:", NAMED_PREFIX)
"""What a person's name may not start with: votes under ``auto:NAME`` count as an automatic judge's, and
``baseline:`` names the free baselines ``arena judges`` compares with."""


def judge_name(typed: str) -> str:
    """The name as stored: NFC-normalized, so ``jose`` + a combining accent and ``josé`` are one judge."""
    return unicodedata.normalize("NFC", typed)


def judge_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a judge's name, or None.

    Names group votes in ``arena judges``, so they must be non-empty and readable as typed: hidden
    characters (controls, bidi overrides, zero-width) would make two names that look the same differ.
    """
    name = judge_name(name)
    if not name.strip():
        return "Type a name: it is stored with your votes."
    if len(name) > JUDGE_NAME_MAX:
        return f"At most {JUDGE_NAME_MAX} characters, please."
    if visible(name) != name or "\n" in name or "\t" in name:
        return "Printable characters only (no control, zero-width or direction characters)."
    reserved = next((prefix for prefix in RESERVED_PREFIXES if name.strip().lower().startswith(prefix)), None)
    if reserved is not None:
        return (
            f"Names starting with {reserved!r} belong to the arena's own judges (automatic, baselines): choose another."
        )
    return None
