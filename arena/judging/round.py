"""One battle in progress and the rules of its phases: what the judge may do now, and why not otherwise.

The one owner of those rules. ``PlaySession`` refuses a step its round does not allow, and every front end
asks the same ``allows`` before offering the step, so a screen and the session cannot disagree about
whether a vote, a follow-up or a reason is possible.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

from arena.backend import GenerationResult, Message
from arena.engine.battle import Battle
from arena.judging.answers import AnalyzedAnswer
from arena.vocab import SIDES, Side, Verdict

Phase = Literal["streaming", "answered", "voted", "skipped"]
"""streaming: an answer is still coming (or its analysis is); answered: both stopped, no vote yet;
voted: a verdict other than skip is stored; skipped: the judge skipped it."""

Action = Literal["vote", "follow_up", "regenerate", "reason", "note", "prompts", "next", "custom", "undo"]

MAX_TURNS = 5
"""Turns per battle (the prompt and four follow-ups): longer conversations overflow small models' contexts."""

_KEYS: dict[Action, str] = {"follow_up": "f", "regenerate": "r"}
_BEFORE_VOTE: dict[Action, str] = {"follow_up": "Follow-ups come", "regenerate": "Regenerating is"}


Turns = tuple[dict[Side, AnalyzedAnswer], ...]
"""A conversation's earlier turns: each turn's answers by side, oldest first."""


@dataclass
class Round:
    """A battle in progress: its answers as they finish, and the vote once cast."""

    number: int
    battle: Battle
    started: float = field(default_factory=time.monotonic)
    finished: dict[Side, AnalyzedAnswer] = field(default_factory=dict)
    unstored: dict[Side, GenerationResult] = field(default_factory=dict)
    """Answers that stopped but whose write the database refused: retried before the vote."""
    verdict: Verdict | None = None
    battle_id: int | None = None
    vote_s: float | None = None
    """Seconds from the round's start to its vote (as stored with the vote)."""
    taken_back: bool = False
    """The judge took this vote back (``u``): stored, marked, not counted; its prompt comes again later."""
    earlier: Turns = ()
    """The answers of this conversation's earlier turns (a follow-up's), oldest first: the vote covers them
    too, so the reveal shows what was flagged in them."""

    def conversations_after(self, text: str) -> dict[Side, list[Message]]:
        """Each side's conversation so far (its own answers, not the other side's) and the judge's next
        message ``text``: what a follow-up sends."""
        return {
            side: [
                *self.battle.messages(side),
                {"role": "assistant", "content": self.finished[side].result.text},
                {"role": "user", "content": text},
            ]
            for side in SIDES
        }

    @property
    def both_done(self) -> bool:
        return len(self.finished) == 2

    @property
    def voted(self) -> bool:
        return self.verdict is not None

    @property
    def phase(self) -> Phase:
        if self.verdict == "skip":
            return "skipped"
        if self.verdict is not None:
            return "voted"
        if len(self.finished.keys() | self.unstored.keys()) == 2:  # both stopped; a refused write is retried
            return "answered"
        return "streaming"

    def allows(self, action: Action) -> str | None:
        """None when ``action`` may happen in this phase; otherwise why not, as the judge reads it ('' for a
        key that simply does nothing now, such as a reason before any vote)."""
        phase = self.phase
        voted = phase in ("voted", "skipped")
        if self.taken_back and action in ("vote", "reason", "note", "undo"):
            return "You took this vote back; its prompt comes again later (n for the next prompt)."
        if action == "vote":
            if voted:
                return "Already voted on this one: n for the next prompt."
            if phase == "streaming":
                return "Wait for both answers to stop (esc stops them now)."
        elif action in ("follow_up", "regenerate"):
            if voted:
                return f"{_BEFORE_VOTE[action]} before the vote (n for the next prompt)."
            if phase == "streaming":
                return f"Wait for both answers to stop (esc stops them now), then {_KEYS[action]}."
            if action == "follow_up" and self.battle.turn >= MAX_TURNS:  # said before the judge types
                return f"{MAX_TURNS} turns is the limit: vote on the conversation as it is."
        elif action in ("reason", "note"):
            if phase != "voted" or self.battle_id is None:
                return ""
        elif action == "prompts":
            if not voted:
                return "The rendered prompts show after the vote (a chat template can identify a model)."
        elif action == "next":
            if phase == "streaming":
                return "Still generating: esc stops, then vote or s to skip."
            if phase == "answered":
                return "Vote first (s skips this one)."
        elif action == "custom" and not voted:
            return "Vote on (or s to skip) this battle first."
        return None
