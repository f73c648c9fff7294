"""Counts in words: "1 token", "2 tokens". Owns the one plural rule every message and table uses, so no
screen says "1 battles"."""

from __future__ import annotations

_IRREGULAR = {"both bad": "both bad"}


def counted(number: int, noun: str) -> str:
    """``number`` followed by ``noun``, singular for exactly one, plural (with an ``s``) otherwise."""
    if number == 1:
        return f"{number} {noun}"
    return f"{number} {_IRREGULAR.get(noun, noun + 's')}"
