"""The vocabulary of a vote: which pane a model sat in (``Side``) and what the judge said (``Verdict``).

Owns the one definition of both, so the store, the ratings, the exports and the TUI cannot drift apart on
what a verdict may be. No dependencies: every layer may import it.
"""

from __future__ import annotations

from typing import Literal

Side = Literal["left", "right"]
SIDES: tuple[Side, Side] = ("left", "right")

Verdict = Literal["left", "right", "tie", "both_bad", "skip"]
VERDICTS: tuple[Verdict, ...] = ("left", "right", "tie", "both_bad", "skip")
RATED_VERDICTS: tuple[Verdict, ...] = ("left", "right", "tie", "both_bad")
"""Verdicts that count in the ratings; a skip costs a prompt but says nothing about either model."""

VERDICT_DESCRIPTIONS: dict[Verdict, str] = {
    "left": "A is better",
    "right": "B is better",
    "tie": "tie",
    "both_bad": "both bad",
    "skip": "skip",
}
"""How a verdict reads to the judge, who sees panes "A" and "B", never "left" and "right"."""


def as_verdict(value: str) -> Verdict:
    """``value`` as a Verdict, or ValueError naming the allowed ones (for text read from files and keys)."""
    if value not in VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, got {value!r}")
    return value
