"""Commands over stored votes: ``leaderboard``, ``export``, ``import`` and ``merge``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from arena.cli.common import (
    console,
    db_option,
    echo_json,
    existing_store,
    filter_options,
    open_store,
    passing_bar,
    say,
)
from arena.errors import ArenaError
from arena.vocab import CLUSTERS, EXPORT_FORMATS, RATING_METHODS, Cluster, RatingMethod, labelled_pair
from arena.wording import counted

if TYPE_CHECKING:
    from arena.formats.export import TextSink
    from arena.reports.leaderboard import BoardResult
    from arena.store.queries import BattleFilter, BattleRow


class VisibleWriter:
    """A text stream that makes hidden characters visible on their way to a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        from arena.untrusted import visible

        return self.stream.write(visible(text))


_VOTE_TABLES = ("battles", "prompts", "flags")
BOARD_READS: dict[str, tuple[str, ...]] = {"bt": _VOTE_TABLES, "style": _VOTE_TABLES}
"""The tables a board fitted by each method reads, all that the file's quick check covers at first (a damaged
answer the board never reads cannot change it; a style board that counts answers without stored counts
checks them before, ``queries.style_from_texts``); a method not named here checks the whole file."""


@click.command()
@db_option
@filter_options
@click.option("--anchor", metavar="LABEL=RATING", help="Pin one contestant's rating (default: mean 1000).")
@click.option(
    "--rounds",
    type=click.IntRange(0, 100_000),
    default=1000,
    show_default=True,
    help="Bootstrap rounds (0: no intervals).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option(
    "--cluster",
    type=click.Choice(CLUSTERS),
    default="prompt",
    show_default=True,
    help="What the bootstrap resamples: whole prompts (votes on one prompt are not independent) or single "
    "battles (as if they were).",
)
@click.option(
    "--k",
    "k_factor",
    type=click.FloatRange(min=0, max=1000, min_open=True),
    default=32.0,
    show_default=True,
    help="Elo K (the online Elo column only; the ratings are a Bradley-Terry fit).",
)
@click.option("--matrix", "show_matrix", is_flag=True, help="Also print win-rate and battle-count matrices.")
@click.option(
    "--method",
    type=click.Choice(RATING_METHODS),
    default="bt",
    show_default=True,
    help="How ratings are fitted: bt (Bradley-Terry), style (with answer length and markdown taken out) or "
    "assisted (with an automatic judge's help: see --assisted-by).",
)
@click.option("--style-control", is_flag=True, help="The same as --method style.")
@click.option(
    "--assisted-by",
    metavar="auto:LABEL",
    help="The humans' ratings assisted by an automatic judge's verdicts (--method assisted): rectified by its "
    "errors where both judged, so the judge can narrow the intervals but not bias them.",
)
@click.option(
    "--coefficients",
    "show_coefficients",
    is_flag=True,
    help="With --method style: print how much each style feature swayed the judges.",
)
@click.option(
    "--pairs",
    "show_pairs",
    is_flag=True,
    help="Print, for each neighbouring pair, whether its order is decided (a call that stays true however often "
    "you look) and, if not, how many more votes a decision should take.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the ratings (or with --pairs, the pairs) as JSON.")
def leaderboard(
    db_path: Path,
    battle_filter: BattleFilter,
    anchor: str | None,
    rounds: int,
    seed: int,
    cluster: Cluster,
    k_factor: float,
    show_matrix: bool,
    method: RatingMethod,
    style_control: bool,
    assisted_by: str | None,
    show_coefficients: bool,
    show_pairs: bool,
    as_json: bool,
) -> None:
    """Ratings with bootstrap intervals (Bradley-Terry, or --method style), Elo, tallies and head-to-head
    records."""
    from arena.store.queries import auto_vote_count, has_votes

    if style_control:
        if method not in ("bt", "style"):
            raise ArenaError(f"--style-control is --method style: it cannot go with --method {method}")
        method = "style"
    if assisted_by is not None:
        if method not in ("bt", "assisted"):
            raise ArenaError(f"--assisted-by is --method assisted: it cannot go with --method {method}")
        method = "assisted"
    elif method == "assisted":
        raise ArenaError("--method assisted needs the judge: --assisted-by auto:LABEL")
    if show_coefficients and method != "style":
        raise ArenaError("--coefficients are the style-control fit's: add --method style (or --style-control)")
    with existing_store(db_path, reads=BOARD_READS.get(method)) as store:
        if not has_votes(store, battle_filter):  # said before numpy and the fit are even imported
            _no_votes(as_json, auto_vote_count(store) if battle_filter.judge is None else 0)
            return
        from arena.analysis.ratings import parse_anchor
        from arena.reports.leaderboard import board_for, with_drawn

        try:
            pinned = parse_anchor(anchor) if anchor else None
            with passing_bar(counted=False) as progress:
                stage = progress.add_task("the leaderboard", total=None)
                found_board = board_for(
                    store,
                    battle_filter,
                    method=method,
                    assisted_by=assisted_by,
                    rounds=rounds,
                    seed=seed,
                    anchor=pinned,
                    k=k_factor,
                    cluster=cluster,
                    on_stage=lambda doing: progress.update(stage, description=doing),
                )
            found_board = with_drawn(store, found_board, battle_filter)
        except ValueError as exc:
            raise ArenaError(str(exc)) from None
    _show_board(found_board, show_coefficients, show_pairs, show_matrix, as_json)


def _show_board(found: BoardResult, coefficients: bool, pairs: bool, matrix: bool, as_json: bool) -> None:
    """The board as asked: the style coefficients, the neighbouring pairs, or the ratings (as JSON or a
    table with its notes and, with ``matrix``, the win-rate and battle-count matrices)."""
    board = found.board
    covered = {
        "ci_resamples": board.cluster if board.rounds else None,
        "prompts_on_board": board.prompts,
        "judges": found.judges,
        "method": board.method,
        **(board.facts.to_dict() if board.facts is not None else {}),
        "auto_verdicts_left_out": found.auto_left_out,
        "drawn_votes_unweighted": found.drawn,
    }
    if coefficients:
        from arena.analysis.style import describe, style_provisional

        if as_json:
            provisional = style_provisional(board.battles, board.prompts)
            echo_json([{**c.to_dict(), "provisional": provisional} for c in board.style or []])
        else:
            console().print(describe(board.style or [], board.battles, board.prompts))
        return
    if pairs:
        if as_json:
            echo_json([{**neighbour.to_dict(), **covered} for neighbour in board.neighbours])
        else:
            for neighbour in board.neighbours:
                console().print(neighbour.describe())
        return
    if as_json:
        echo_json([{**rating.to_dict(), **covered} for rating in board.ratings])
        return
    from arena.analysis.ratings import matrix_rows
    from arena.present.leaderboard import leaderboard_notes, leaderboard_table, matrix_table

    if not board.ratings:  # votes that make no rating (none rated under style control, say)
        _no_votes(False, found.auto_left_out)
        return
    out = console()
    from arena.reports.methods import METHODS

    title = "leaderboard" if board.method == "bt" else f"leaderboard ({METHODS[board.method].title})"  # type: ignore[index]
    out.print(leaderboard_table(board, width=out.width, title=title))
    for line in leaderboard_notes(board, found.leaked, found.judges, found.auto_left_out, found.drawn):
        out.print(line)
    if matrix:
        out.print(matrix_table("win rate (row vs column)", matrix_rows(board.win_matrix)))
        out.print(matrix_table("battles", matrix_rows(board.count_matrix)))


@click.command()
@db_option
@filter_options
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), required=True)
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False), help="File (default: stdout).")
def export(db_path: Path, battle_filter: BattleFilter, fmt: str, out_path: Path | None) -> None:
    """Export battles with prompts, outputs, flags and params.

    fastchat writes Chatbot Arena battles; dpo writes chosen/rejected pairs from decided battles; arena-rank
    writes the votes as lmarena's arena-rank reads them (pandas.read_json(PATH, lines=True)).
    """
    from arena.formats import export as exporter
    from arena.store.queries import battle_count, battle_rows

    chosen = replace(battle_filter, include_skips=True)
    try:
        with existing_store(db_path) as store, ExitStack() as outputs:
            total = battle_count(store, chosen)
            store.wait_for_check()  # the records are written as they are read: never from a damaged file
            if out_path is None:
                # a terminal gets every hidden character spelled out (CSV cells hold raw model output); a pipe
                # or a file gets the exact data (JSON formats escape hidden characters either way)
                sink: TextSink = VisibleWriter(sys.stdout) if sys.stdout.isatty() else sys.stdout
            else:
                sink = outputs.enter_context(_opened(out_path))
            progress = outputs.enter_context(passing_bar())
            task = progress.add_task("exporting battles", total=total)
            rows = _counting(battle_rows(store, chosen), lambda done: progress.update(task, completed=done))
            written = exporter.write(rows, fmt, sink)
    except OSError as exc:
        raise ArenaError(f"--out {out_path}: cannot write: {exc}") from None
    if written.skips_left_out:
        say(f"left out {counted(written.skips_left_out, 'skip vote')}: {fmt} has no place for a skip", err=True)
    if out_path is not None:
        say(f"wrote {counted(written.records, 'record')} to {out_path}", err=True)


def _opened(path: Path) -> TextIO:
    try:
        return path.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise ArenaError(f"--out {path}: cannot write: {exc}") from None


def _counting(rows: Iterator[BattleRow], on_count: Callable[[int], None], every: int = 1000) -> Iterator[BattleRow]:
    """``rows`` as they come, telling ``on_count`` how many have passed every ``every`` rows and at the end."""
    done = 0
    for done, row in enumerate(rows, start=1):  # ``done`` is read after the loop
        yield row
        if done % every == 0:
            on_count(done)
    on_count(done)


MAX_REASONS_SHOWN = 10
"""A file with thousands of distinct bad values gets the ten most common reasons, not one giant line."""


def _no_votes(as_json: bool, auto_verdicts: int) -> None:
    """What the leaderboard says when no rated vote matches: an empty list, or one line saying what to do."""
    if as_json:
        echo_json([])
        return
    more = f"; {counted(auto_verdicts, 'verdict')} of automatic judges: --judge auto:LABEL" if auto_verdicts else ""
    console().print(
        f"no battles match (skips are not counted){more}; vote in `arena play` or `arena import` some",
        soft_wrap=True,
        markup=False,
    )


@click.command("import")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@db_option
def import_(path: Path, db_path: Path) -> None:
    """Import battles in the FastChat cleaned-battle shape (JSON list or JSONL)."""
    from arena.formats.fastchat import read_fastchat

    if not path.is_file():
        raise ArenaError(f"file not found: {path}")
    with passing_bar() as progress:
        reading = progress.add_task(f"reading {path.name}", total=None)
        report = read_fastchat(path, on_progress=lambda done: progress.update(reading, completed=done))
    if not report.battles and report.skipped:
        raise ArenaError(
            f"{path}: no valid battle records ({sum(report.skipped.values())} malformed, e.g. {report.examples[0]})"
        )
    with open_store(db_path) as store, passing_bar() as progress:
        task = progress.add_task("importing battles", total=len(report.battles))
        from arena.store import writes

        added = writes.import_battles(
            store, report.battles, source=str(path), on_progress=lambda done: progress.update(task, completed=done)
        )
        duplicates = len(report.battles) - added
    say(
        f"imported {counted(added, 'battle')} into {store.path}"
        + (f"; {duplicates} already there" if duplicates else "")
    )
    if report.skipped:
        shown = report.skipped.most_common(MAX_REASONS_SHOWN)
        reasons = ", ".join(f"{count} {reason}" for reason, count in shown)
        if len(report.skipped) > MAX_REASONS_SHOWN:
            others = sum(report.skipped.values()) - sum(count for _, count in shown)
            reasons += f", and {others} for {counted(len(report.skipped) - MAX_REASONS_SHOWN, 'other reason')}"
        say(f"skipped {sum(report.skipped.values())} malformed records: {reasons}", err=True)
        for example in report.examples:
            say(f"  {example}", err=True)


@click.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--into", "into", required=True, type=click.Path(path_type=Path, dir_okay=False), help="Target database.")
@click.option(
    "--relabel",
    "relabels",
    multiple=True,
    metavar="OLD=NEW",
    help="Store the sources' contestant OLD as NEW (one model known by two labels); repeatable.",
)
def merge(sources: tuple[Path, ...], into: Path, relabels: tuple[str, ...]) -> None:
    """Combine databases (e.g. several judges) into one; nothing is added twice."""
    from arena.store.merge import merge_into, same_model_labels

    relabel = _relabel_map(relabels)
    with open_store(into) as target:
        for source in sources:
            if source.resolve() == into.resolve():
                raise ArenaError(f"merge: {source} is the target itself")
            added = merge_into(target, source, relabel)
            summary = ", ".join(f"{added[name]} {name}" for name in ("battles", "generations", "sessions")) or "nothing"
            say(f"{source}: added {summary}")
        for spec, labels in same_model_labels(target):
            shown = " and ".join(labels)
            say(
                f"note: {shown} run the same model ({spec}) and are rated apart; to count them as one: "
                f"arena merge ... --relabel {labels[-1]}={labels[0]} into a new file",
                err=True,
            )


def _relabel_map(relabels: Sequence[str]) -> dict[str, str]:
    """``--relabel OLD=NEW`` values as a map; one line for a malformed or too long one."""
    pairs = [
        labelled_pair(given, "--relabel", "OLD=NEW (two contestant labels)", label_first=False) for given in relabels
    ]
    return dict(pairs)
