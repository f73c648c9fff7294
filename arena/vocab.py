"""The arena's fixed words: which pane a model sat in (``Side``), what the judge said (``Verdict``) and what
it scores, and the choice lists the command line offers (paces, pairings, finish reasons, export formats).

Owns the one definition of each, so the store, the ratings, the exports, the TUI and the CLI cannot drift
apart. No dependencies and nothing heavy: every layer may import it, and the CLI does at start-up (its
``--help`` stays fast) instead of copying the lists.
"""

from __future__ import annotations

from typing import Literal

from arena.errors import ArenaError

Side = Literal["left", "right"]
SIDES: tuple[Side, Side] = ("left", "right")

Verdict = Literal["left", "right", "tie", "both_bad", "skip"]
VERDICTS: tuple[Verdict, ...] = ("left", "right", "tie", "both_bad", "skip")
RATED_VERDICTS: tuple[Verdict, ...] = ("left", "right", "tie", "both_bad")
"""Verdicts that count in the ratings; a skip costs a prompt but says nothing about either model."""

SCORE: dict[Verdict, float] = {"left": 1.0, "right": 0.0, "tie": 0.5, "both_bad": 0.5}
"""What a rated verdict scores for the left contestant (the right one scores 1 minus it): a tie is half a win
each, and ``both_bad`` counts as a tie for the ratings (its own rate is reported apart)."""

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


def other_side(side: Side) -> Side:
    """The pane facing ``side``."""
    return "right" if side == "left" else "left"


def reason_targets(verdict: Verdict, praise: bool, chosen: Side | None = None) -> tuple[Side, ...]:
    """Which side(s) a reason is about: a praise explains why the winner won, a complaint why the loser
    lost; after a tie or both-bad vote, the side the judge chose (the focused answer), else both."""
    if verdict in ("left", "right"):
        return (verdict,) if praise else (other_side(verdict),)
    return (chosen,) if chosen is not None else SIDES


FinishReason = Literal["stop", "length", "cancelled", "error"]
FINISH_REASONS: tuple[FinishReason, ...] = ("stop", "length", "cancelled", "error")
"""How a generation ended (``arena.backend.GenerationResult.finish_reason``)."""

Pace = Literal["live", "even", "together"]
PACES: tuple[Pace, ...] = ("live", "even", "together")
"""How the two answers reach the judge's screen (``arena.tui.pacing``)."""

Pairing = Literal["least-met", "uncertain", "judge-uncertain"]
PAIRINGS: tuple[Pairing, ...] = ("least-met", "uncertain", "judge-uncertain")
"""Which pair answers next: every pair in turn, the pair whose order the votes leave least certain, or (stored
answers an automatic judge judged) the battles where the judge's verdict is most in doubt, drawn by chance."""

Cluster = Literal["prompt", "battle"]
CLUSTERS: tuple[Cluster, ...] = ("prompt", "battle")
"""What a rating bootstrap resamples: whole prompts (all of a prompt's battles together) or single battles."""

RatingMethod = Literal["bt", "style", "assisted"]
RATING_METHODS: tuple[RatingMethod, ...] = ("bt", "style", "assisted")
"""How the board fits ratings to votes (``arena.reports.methods`` registers each): plain Bradley-Terry,
Bradley-Terry with the answers' style (length, markdown) taken out, or the humans' Bradley-Terry assisted by
an automatic judge's verdicts (``--assisted-by auto:LABEL``)."""

ExportFormat = Literal["csv", "json", "jsonl", "fastchat", "dpo", "arena-rank"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("csv", "json", "jsonl", "fastchat", "dpo", "arena-rank")
"""``arena-rank``: one JSON line per rated vote as lmarena's ``arena-rank`` reads it (``PairDataset.from_pandas``
of ``pandas.read_json(PATH, lines=True)``)."""

AUTO_PREFIX = "auto:"
"""How an automatic judge's name starts (``arena autojudge`` votes as ``auto:LABEL``): what tells its votes
from people's everywhere they are counted."""


def auto_judge(label: str) -> str:
    """The judge name an automatic judge's verdicts are stored under."""
    return AUTO_PREFIX + label


NAMED_PREFIX = "named:"
"""How a vote cast in the named side-by-side mode (``arena play --named``) names its judge: the judge saw
which model was which, so the vote is kept out of every rating and every statistic of people."""


def is_auto_judge(judge: str | None) -> bool:
    return judge is not None and judge.startswith(AUTO_PREFIX)


LABEL_MAX = 200
"""The longest contestant label or imported judge name, in characters, at every entry (``--label``, arena.toml,
imports, merges): a label is a name on a board, and a 20,000-character one took ``report --html`` to a
MemoryError."""


def label_problem(label: str, what: str = "label") -> str | None:
    """Why ``label`` cannot name a contestant (or an imported judge), or None."""
    if len(label) > LABEL_MAX:
        return f"{what} is {len(label):,} characters long; at most {LABEL_MAX}"
    return None


def labelled_pair(given: str, option: str, shape: str, *, label_first: bool) -> tuple[str, str]:
    """An option's ``A=B`` value (``--from LABEL=PATH``, ``--relabel OLD=NEW``) as its two stripped parts,
    the label among them (the first, or with ``label_first`` False the second) checked by ``label_problem``;
    ``ArenaError`` in one line otherwise."""
    first, sep, second = (part.strip() for part in given.partition("="))
    if not sep or not first or not second:
        raise ArenaError(f"{option} {given!r}: expected {shape}")
    problem = label_problem(first if label_first else second)
    if problem is not None:
        raise ArenaError(f"{option}: the {problem}")
    return first, second


IMPORT_BACKEND = "import"
"""The backend an imported contestant is registered under (FastChat battles, answer sets made elsewhere):
nothing loads it; it only says the answers came from a file."""
