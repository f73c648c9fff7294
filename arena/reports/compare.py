"""Before and after: two sessions over the same prompts (a base and its fine-tune, a model before and after
quantizing), and per prompt which checks flipped between them (``arena report --compare``).

A check is a problem flag (loops, garbage, empty, cut off, names itself) or a prompt's constraint; it
*fails* where it hit. A regression is a check that passed in the first session and fails in the second;
a fix the reverse. One answer per prompt and side is compared (the first that was not stopped), so a flip
can be chance where the models sample: the report says so, and ``arena batch --samples K`` with
``arena report``'s flips says how often each prompt flips within one session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from arena.analysis.flags import CONSTRAINT_PREFIX, RATED_FLAGS
from arena.errors import ArenaError
from arena.store import Store
from arena.store.queries import SessionAnswer, session_answers, session_exists


@dataclass(frozen=True)
class Side:
    """One side of the comparison: a session, and the contestant in it (the only one, or the one named)."""

    session: int
    contestant: str

    @property
    def name(self) -> str:
        return f"session {self.session} ({self.contestant})"


@dataclass(frozen=True)
class Flip:
    prompt: str
    check: str
    kind: str
    """"regression" (passed, then failed) or "fix" (failed, then passed)."""
    before: str
    after: str
    """The two answers, as stored."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "check": self.check,
            "kind": self.kind,
            "before": self.before,
            "after": self.after,
        }


@dataclass(frozen=True)
class Comparison:
    before: Side
    after: Side
    prompts: int
    """Prompts both sides answered (and did not stop)."""
    only_one_side: int
    flips: list[Flip] = field(default_factory=list)

    def prompts_with(self, kind: str) -> int:
        return len({flip.prompt for flip in self.flips if flip.kind == kind})

    def to_dict(self) -> dict[str, Any]:
        return {
            "before": {"session": self.before.session, "contestant": self.before.contestant},
            "after": {"session": self.after.session, "contestant": self.after.contestant},
            "prompts_compared": self.prompts,
            "prompts_on_one_side_only": self.only_one_side,
            "regressions": {"prompts": self.prompts_with("regression"), "checks": self._count("regression")},
            "fixes": {"prompts": self.prompts_with("fix"), "checks": self._count("fix")},
            "flips": [flip.to_dict() for flip in self.flips],
        }

    def _count(self, kind: str) -> int:
        return sum(1 for flip in self.flips if flip.kind == kind)


def parse_side(text: str) -> tuple[int, str | None]:
    """``12`` or ``12:label`` (for a session of several contestants)."""
    number, _, label = text.partition(":")
    if not number.isdigit():
        raise ArenaError(f"--compare {text!r}: expected a session number, or SESSION:LABEL")
    if not 1 <= int(number) < 2**63:  # SQLite's integers: a longer number is no session, not an OverflowError
        raise ArenaError(f"--compare: no session {number} in this database")
    return int(number), label or None


def compare_sessions(store: Store, before: str, after: str) -> Comparison:
    sides = []
    answers = []
    for text in (before, after):
        session, label = parse_side(text)
        if not session_exists(store, session):
            raise ArenaError(f"--compare: no session {session} in this database")
        rows = session_answers(store, session)
        labels = list(dict.fromkeys(row.contestant for row in rows))
        if label is None:
            if len(labels) != 1:
                named = ", ".join(labels) or "none"
                raise ArenaError(
                    f"--compare: session {session} has {len(labels)} contestants ({named}); name one as {session}:LABEL"
                )
            label = labels[0]
        elif label not in labels:
            raise ArenaError(f"--compare: session {session} has no answers by {label!r}")
        sides.append(Side(session, label))
        answers.append(_first_answer_per_prompt(rows, label))
    first, second = answers
    shared = [prompt for prompt in first if prompt in second]
    flips = []
    for prompt in shared:
        a, b = first[prompt], second[prompt]
        for check in sorted(set(a.checks) & set(b.checks)):
            if not (check in RATED_FLAGS or check.startswith(CONSTRAINT_PREFIX)):
                continue
            failed_before, failed_after = a.checks[check], b.checks[check]
            if failed_before != failed_after:
                kind = "regression" if failed_after else "fix"
                flips.append(Flip(prompt, check, kind, str(a.output), str(b.output)))
    only = len(set(first) ^ set(second))
    return Comparison(sides[0], sides[1], len(shared), only, flips)


def _first_answer_per_prompt(rows: list[SessionAnswer], label: str) -> dict[str, SessionAnswer]:
    """The contestant's first answer to each prompt that was not stopped (the lowest sample)."""
    chosen: dict[str, SessionAnswer] = {}
    for row in rows:
        if row.contestant == label and row.finish_reason != "cancelled" and row.prompt not in chosen:
            chosen[row.prompt] = row
    return chosen
