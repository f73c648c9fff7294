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


REASONS: dict[str, tuple[str, bool]] = {
    "1": ("correct", True),
    "2": ("followed instructions", True),
    "3": ("concise", True),
    "4": ("well formatted", True),
    "5": ("hallucinated", False),
    "6": ("looped", False),
    "7": ("wrong language", False),
    "8": ("unsafe", False),
}
"""Why a judge voted as they did: key -> (reason, praise). A praise is about the winner, a complaint about
the loser; after a tie or both-bad vote, about both sides."""


def reason_targets(verdict: Verdict, praise: bool) -> tuple[Side, ...]:
    """Which side(s) a reason is about: a praise explains why the winner won, a complaint why the loser
    lost; a tie or both-bad vote says it of both."""
    if verdict in ("left", "right"):
        loser: Side = "right" if verdict == "left" else "left"
        return (verdict,) if praise else (loser,)
    return SIDES
