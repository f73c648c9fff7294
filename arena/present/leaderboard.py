"""The leaderboard as rich renderables: the table with interval bars, its notes, and the matrices."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich import box
from rich.table import Table
from rich.text import Text

from arena.analysis.ratings import PROVISIONAL_BELOW, Leaderboard
from arena.analysis.ratings.board import FEW_PROMPTS
from arena.analysis.style import describe
from arena.present.tables import Column, fitted_table
from arena.present.terminal import literal
from arena.wording import counted

if TYPE_CHECKING:
    pass


def interval_bar(low: float, point: float, high: float, lo: float, hi: float, width: int = 30) -> Text:
    """One contestant's interval on a shared axis: ``├───●──┤``, so overlaps are visible at a glance."""
    span = (hi - lo) or 1.0

    def column(value: float) -> int:
        return max(0, min(width - 1, round((value - lo) / span * (width - 1))))

    cells = [" "] * width
    start, end, mid = column(low), column(high), column(point)
    for position in range(start, end + 1):
        cells[position] = "─"
    cells[start], cells[end] = "├", "┤"
    cells[mid] = "●"
    return literal("".join(cells), style="cyan")


def leaderboard_table(board: Leaderboard, width: int, title: str = "leaderboard") -> Table:
    """Ratings with 95% intervals, Rank(UB), Elo, tallies, and the unicode interval plot.

    A provisional contestant (too few battles) gets no rank: its interval does not mean much yet.
    """
    columns = [
        Column("#", priority=90),
        Column("contestant", "name", 100),
        Column("rating", priority=95),
        Column("95% CI", priority=85),
        Column("interval", priority=70, justify="left"),  # overlap at a glance: kept at 80 columns
        Column("elo", priority=30),
        Column("W-T-L-B", priority=60),
        Column("win% (CI)", priority=50),
    ]
    rows: list[list[str | Text]] = []
    if board.ratings:
        lo = min(r.ci_low for r in board.ratings)
        hi = max(r.ci_high for r in board.ratings)
        for rating in board.ratings:
            rows.append(
                [
                    "?" if rating.provisional else str(rating.rank_ub),
                    rating.contestant,
                    f"{rating.rating:.0f}",
                    "too few" if rating.provisional else f"{rating.ci_low:.0f}-{rating.ci_high:.0f}",
                    interval_bar(rating.ci_low, rating.rating, rating.ci_high, lo, hi, width=14),
                    f"{rating.elo:.0f}",
                    f"{rating.wins}-{rating.ties}-{rating.losses}-{rating.both_bad}",
                    f"{rating.win_rate * 100:.0f} ({rating.win_rate_low * 100:.0f}-{rating.win_rate_high * 100:.0f})",
                ]
            )
    caption = "W-T-L-B: wins, ties, losses, both bad; # is Rank(UB)"
    if any(r.provisional for r in board.ratings):
        caption += f"; ? = provisional: fewer than {PROVISIONAL_BELOW} battles, not ranked yet"
    return fitted_table(
        columns,
        rows,
        width,
        caption=caption,
        title=literal(f"{title} - {counted(board.battles, 'battle')}, {board.rounds} bootstrap rounds"),
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )


def coverage_note(board: Leaderboard) -> Text:
    """What the numbers cover and what the intervals resample: 'N battles on M prompts; ...'."""
    covered = f"{counted(board.battles, 'battle')} on {counted(board.prompts, 'prompt')}; "
    if board.rounds == 0:
        return literal(covered + "no bootstrap (--rounds 0): no intervals", style="dim")
    if board.cluster == "prompt":
        how = "intervals resample prompts (all of a prompt's battles together)"
    elif board.cluster_asked == "prompt":
        how = (
            f"intervals resample battles: fewer than {board.prompts_needed} prompts are too few to resample, "
            "so they hold for these prompts only"
        )
    else:
        how = "intervals resample battles (--cluster battle: as if every vote were independent)"
    return literal(covered + how, style="dim")


def leaderboard_notes(
    board: Leaderboard, leaked: int = 0, judges: str = "people", auto_left_out: int = 0, drawn: int = 0
) -> list[Text]:
    """Lines under the table: whose votes, noise, bounds, comparability, position bias, head-to-head records,
    how many counted battles had an answer that named itself (``leaked``) and how many votes were drawn where
    an automatic judge was unsure (``drawn``), which this board counts as they are."""
    lines = [coverage_note(board), *_whose_votes(judges, auto_left_out)]
    if board.prompts and board.prompts < FEW_PROMPTS:
        lines.append(
            literal(
                f"only {counted(board.prompts, 'prompt')}: these ratings describe these prompts, not prompts in "
                "general; to generalize, add prompts (more votes on the same ones cannot)",
                style="yellow",
            )
        )
    if leaked:
        lines.append(
            literal(
                f"{counted(leaked, 'battle')} where an answer named itself (the judge was not blind); "
                "--exclude-leaks leaves them out",
                style="yellow",
            )
        )
    if drawn:
        lines.append(_drawn_note(drawn))
    reversed_elo = _elo_disagrees(board)
    if reversed_elo is not None:
        lines.append(literal(reversed_elo, style="dim"))
    if board.style is not None:
        lines.append(literal(describe(board.style, board.battles, board.prompts), style="cyan"))
    if board.facts is not None:
        lines.extend(literal(line, style="cyan") for line in board.facts.lines())
    if len(board.groups) > 1:
        groups = " | ".join("{" + ", ".join(group) + "}" for group in board.groups)
        lines.append(literal(f"not comparable across groups (no battles connect them): {groups}", style="yellow"))
    said_pairs: set[frozenset[str]] = set()
    for rating in board.ratings:
        unsaid = [other for other in rating.within_noise if frozenset((rating.contestant, other)) not in said_pairs]
        if unsaid:  # each pair once: "a within noise of b" already says "b within noise of a"
            said_pairs.update(frozenset((rating.contestant, other)) for other in unsaid)
            lines.append(literal(f"{rating.contestant}: within noise of {', '.join(unsaid)}", style="dim"))
        if rating.never_lost:
            lines.append(literal(f"{rating.contestant}: never lost, so its rating is a lower bound", style="dim"))
        if rating.never_won:
            lines.append(literal(f"{rating.contestant}: never won, so its rating is an upper bound", style="dim"))
    bias = board.position_bias
    if bias.decided:
        verdict = "left pane favoured beyond noise" if bias.significant else "no position bias beyond noise"
        lines.append(
            literal(
                f"left pane won {bias.left_wins}/{bias.decided} decided battles "
                f"({bias.share:.0%}, 95% CI {bias.ci_low:.0%}-{bias.ci_high:.0%}): {verdict}",
                style="yellow" if bias.significant else "dim",
            )
        )
    if board.neighbours:
        decided = sum(1 for neighbour in board.neighbours if neighbour.decided)
        lines.append(
            literal(
                f"which neighbours are decided ({decided} of {len(board.neighbours)}; a decided pair stays true "
                "however often you look at this board, the intervals above are the spread for these votes):"
            )
        )
    for neighbour in board.neighbours:
        lines.append(literal("  " + neighbour.describe(), style="green" if neighbour.decided else ""))
    if board.pairs:
        lines.append(literal("head to head:"))
    for pair in board.pairs:
        lines.append(literal("  " + pair.describe()))
    return lines


def _whose_votes(judges: str, auto_left_out: int) -> list[Text]:
    """Whose votes the board counts: an automatic judge's own, or people's with the verdicts left out."""
    if judges != "people":
        return [literal(f"votes of the automatic judge {judges} only, not of people", style="yellow")]
    if auto_left_out:
        return [
            literal(
                f"votes of people only: {counted(auto_left_out, 'verdict')} of automatic judges left out "
                "(--judge auto:LABEL shows one's own board)",
                style="dim",
            )
        ]
    return []


def _elo_disagrees(board: Leaderboard) -> str | None:
    """A line when the elo column orders two contestants the other way round from the ratings: elo follows
    the votes in the order they came (the latest weigh most), the ratings weigh every vote alike."""
    ratings = board.ratings
    for higher, lower in itertools.pairwise(ratings):
        if lower.elo > higher.elo:
            return (
                f"elo puts {lower.contestant} above {higher.contestant}: it follows the votes in the order they came "
                "(the latest weigh most); the rating, which weighs every vote alike, is the board's order"
            )
    return None


def _drawn_note(drawn: int) -> Text:
    return literal(
        f"{counted(drawn, 'vote')} drawn where an automatic judge was unsure (--pairing judge-uncertain): "
        "close battles are over-represented among them, which pulls these ratings together; "
        "--assisted-by auto:LABEL weighs each by how it was drawn",
        style="yellow",
    )


def matrix_table(title: str, rows: Sequence[Sequence[str]]) -> Table:
    table = Table(title=literal(title))
    for header in rows[0]:
        table.add_column(literal(header), justify="right")
    for row in rows[1:]:
        table.add_row(*(literal(cell) for cell in row))
    return table
