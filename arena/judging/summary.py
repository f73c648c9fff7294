"""What one judging session amounted to, for its end: when the prompts run out or the judge quits.

Plain data from the session's own rounds (this session's votes, not the database's), plus the board as
the whole database has it now; the TUI and the terminal each lay it out.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field

from arena.judging.round import Round
from arena.judging.session import PlaySession
from arena.reports.leaderboard import board_for
from arena.vocab import SIDES
from arena.wording import counted


@dataclass
class Record:
    """One contestant's results in this session's decided votes (a tie counts for both; both bad too)."""

    wins: int = 0
    ties: int = 0
    losses: int = 0
    both_bad: int = 0


@dataclass(frozen=True)
class SessionSummary:
    votes: int
    """Votes cast, skips not counted."""
    skipped: int
    records: dict[str, Record]
    median_vote_s: float | None
    """Seconds from a battle's start to its vote, median over the votes."""
    leaks: int
    """Answers in this session that named their model or maker (the identity flag)."""
    board: list[tuple[str, float, int, bool]] = field(default_factory=list)
    """(contestant, rating, battles, provisional) over every vote in the database now, best first."""
    calls: list[str] = field(default_factory=list)
    """Each neighbouring pair on that board: decided (true however often the board is read) or open, with
    what a decision would take."""


def summarize(session: PlaySession) -> SessionSummary:
    records: dict[str, Record] = {contestant.label: Record() for contestant in session.contestants}
    times: list[float] = []
    votes = skipped = leaks = 0
    for current in session.rounds:
        for answer in current.finished.values():
            if any(flag.name == "identity" and flag.hit for flag in answer.flags):
                leaks += 1
        kind = _vote_kind(current)
        if kind == "skip":
            skipped += 1
        if kind != "vote":  # a skip, a vote taken back or none: not counted
            continue
        votes += 1
        if current.vote_s is not None:
            times.append(current.vote_s)
        for side in SIDES:
            record = records.setdefault(current.battle.contestant(side).label, Record())
            if current.verdict == "tie":
                record.ties += 1
            elif current.verdict == "both_bad":
                record.both_bad += 1
            elif current.verdict == side:
                record.wins += 1
            else:
                record.losses += 1
    board = board_for(session.store, rounds=0).board
    ranked = [(rating.contestant, rating.rating, rating.battles, rating.provisional) for rating in board.ratings]
    return SessionSummary(
        votes=votes,
        skipped=skipped,
        records=records,
        median_vote_s=statistics.median(times) if times else None,
        leaks=leaks,
        board=ranked,
        calls=[neighbour.describe() for neighbour in board.neighbours],
    )


def _vote_kind(current: Round) -> str | None:
    """What a round's verdict is for the counts: "vote", "skip", "taken back", or None (no verdict yet)."""
    if current.verdict is None:
        return None
    if current.taken_back:
        return "taken back"
    return "skip" if current.verdict == "skip" else "vote"


def done_line(session: PlaySession) -> str:
    """What the session says once its queue is done ("All 8 prompts judged.")."""
    judged = counted(session.total + session.judged_before, session.source.unit)
    return f"All {judged} judged" + (f" ({session.description})." if session.description else ".")


def stored_line(session: PlaySession) -> str:
    """What the terminal says when the arena closes, counted as the end screen counts: votes (skips and
    votes taken back apart: they are stored, and never count)."""
    kinds = Counter(_vote_kind(current) for current in session.rounds)
    votes, skipped, taken_back = kinds["vote"], kinds["skip"], kinds["taken back"]
    apart = [f"{skipped} skipped"] if skipped else []
    apart += [f"{taken_back} taken back"] if taken_back else []
    return (
        f"{counted(votes, 'vote')}" + (f" ({', '.join(apart)})" if apart else "") + f" stored in {session.store.path}"
    )


def summary_lines(summary: SessionSummary) -> list[str]:
    """The summary as plain lines (untrusted labels included: the caller shows them literally)."""
    vote_time = f", {summary.median_vote_s:.0f} s per vote (median)" if summary.median_vote_s is not None else ""
    skipped = f", {summary.skipped} skipped" if summary.skipped else ""
    lines = [f"This session: {counted(summary.votes, 'vote')}{skipped}{vote_time}."]
    if summary.votes:
        width = max(len(label) for label in summary.records)
        lines.append("this session's results (wins-ties-losses-both bad):")
        for label, record in summary.records.items():
            lines.append(f"  {label.ljust(width)}  {record.wins}-{record.ties}-{record.losses}-{record.both_bad}")
    if summary.leaks:
        lines.append(f"answers that named their model or maker: {summary.leaks} (the identity flag)")
    if summary.board:
        lines.append("the board now, every vote in the database (point ratings; `arena leaderboard` for intervals):")
        width = max(len(label) for label, *_ in summary.board)
        for rank, (label, rating, battles, provisional) in enumerate(summary.board, 1):
            note = ", provisional: too few to rank" if provisional else ""
            lines.append(f"  {rank}. {label.ljust(width)}  {rating:5.0f}  ({counted(battles, 'battle')}{note})")
    if summary.calls:
        lines.append("which neighbours are decided (a decided pair stays true however often you look):")
        lines.extend(f"  {call}" for call in summary.calls)
    return lines
