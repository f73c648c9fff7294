"""Commands that judge text without running a model: ``flags`` (one text) and ``report`` (stored runs)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from arena.cli.common import SESSION_NUMBER, console, db_option, echo_json, existing_store, passing_bar, say
from arena.errors import ArenaError
from arena.vocab import FINISH_REASONS

if TYPE_CHECKING:
    from arena.reports.vibe_check import ReportRow


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True))
@click.option(
    "--prompt", "prompt_uid", metavar="SET/ID", help="Judge against this prompt (its constraints, its words)."
)
@click.option(
    "--finish-reason",
    type=click.Choice(FINISH_REASONS),
    help="How generation ended.",
)
@click.option("--json", "as_json", is_flag=True, help='Print {"flags": [...], "counts": {...}}.')
def flags(file: Path, prompt_uid: str | None, finish_reason: str | None, as_json: bool) -> None:
    """Analyze a text file (or - for stdin) for loops, garbage, emptiness and broken constraints."""
    from arena.analysis.flags import PROMPT_SIDE_FLAGS, analyze, count
    from arena.present.info import flags_table
    from arena.prompts import find_prompt
    from arena.wording import counted

    if str(file) == "-":
        text = sys.stdin.read()
    else:
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ArenaError(f"file not found: {file}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ArenaError(f"{file}: cannot read: {exc}") from None
    prompt = find_prompt(prompt_uid) if prompt_uid else None
    found = analyze(
        text,
        prompt=prompt.text if prompt else None,
        constraints=prompt.constraints if prompt else (),
        finish_reason=finish_reason,
    )
    # what the model was sent (its chat template, its rendered prompt) is not in a text file: not checked
    found = [flag for flag in found if flag.name not in PROMPT_SIDE_FLAGS]
    counts = count(text)
    if as_json:
        echo_json({"flags": [f.to_dict() for f in found], "counts": counts.to_dict()})
        return
    out = console()
    out.print(flags_table(found))
    out.print(
        f"not checked on a file (they need the prompt the model was sent): {', '.join(PROMPT_SIDE_FLAGS)}", style="dim"
    )
    out.print(
        ", ".join(
            counted(n, noun)
            for n, noun in ((counts.words, "word"), (counts.sentences, "sentence"), (counts.characters, "character"))
        ),
        style="dim",
    )


@click.command()
@db_option
@click.option("--session", type=SESSION_NUMBER, help="Report on this session (default: the latest batch).")
@click.option("--all", "all_sessions", is_flag=True, help="Report on every generation in the database.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable rows.")
@click.option("--markdown", "as_markdown", is_flag=True, help="Print a markdown table for a write-up.")
@click.option(
    "--reference", metavar="LABEL", help="Show fidelity measured against this reference (default: the newest)."
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write one self-contained page (plots and tables, offline) of the whole database's results to FILE.",
)
@click.option(
    "--assisted-by",
    metavar="auto:LABEL",
    help="With --html: add the humans' ratings assisted by this automatic judge (arena leaderboard --assisted-by).",
)
@click.option(
    "--compare",
    nargs=2,
    metavar="BEFORE AFTER",
    default=None,
    help="Two sessions (N or N:LABEL) over the same prompts: which checks flipped per prompt, with both answers.",
)
def report(
    db_path: Path,
    session: int | None,
    all_sessions: bool,
    as_json: bool,
    as_markdown: bool,
    reference: str | None,
    compare: tuple[str, str] | None,
    html_path: Path | None,
    assisted_by: str | None,
) -> None:
    """Per-contestant flag rates and constraint adherence with 95% intervals, speed and memory, and
    fidelity to a reference model where `arena fidelity` measured it.

    --compare BEFORE AFTER sets two sessions over the same prompts side by side (a base and its fine-tune,
    a model before and after quantizing): per prompt, which checks flipped from pass to fail (regressions)
    and back (fixes), with both answers. A session of several contestants is named as SESSION:LABEL.
    """
    from arena.reports.vibe_check import build_report
    from arena.store.queries import latest_batch_session

    if assisted_by is not None and html_path is None:
        raise ArenaError("--assisted-by adds a board to the HTML report: give --html FILE too")
    if html_path is not None:
        _html(db_path, html_path, assisted_by)
        return
    if compare:
        if as_markdown or session is not None or all_sessions:
            raise ArenaError("--compare takes its two sessions itself: leave out --session, --all and --markdown")
        _compare(db_path, *compare, as_json=as_json)
        return
    with existing_store(db_path) as store, passing_bar(counted=False) as progress:
        chosen = None if all_sessions else (session if session is not None else latest_batch_session(store))
        progress.add_task("reading the answers, their flags and checks", total=None)
        rows = build_report(store, chosen, reference)
    if not rows:
        raise ArenaError("no generations to report on" + (f" in session {chosen}" if chosen is not None else ""))
    print_report(
        rows,
        as_json=as_json,
        as_markdown=as_markdown,
        title=f"vibe check - session {chosen}" if chosen is not None else "vibe check - all sessions",
    )


def _html(db_path: Path, html_path: Path, assisted_by: str | None) -> None:
    from arena.present.html_report import render_page
    from arena.reports.page import collect_page

    with existing_store(db_path) as store, console(stderr=True).status("computing the report"):
        page = render_page(collect_page(store, assisted_by=assisted_by), source=str(db_path))
    _write_whole(html_path, page)
    say(f"wrote {html_path} ({len(page.encode()) / 1024:.0f} KB): open it in a browser; it loads nothing else")


def _write_whole(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all: into a file beside it, then renamed over it, so a disk
    that fills up midway leaves the page that was there (and no half-written one)."""
    import os

    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ArenaError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _compare(db_path: Path, before: str, after: str, *, as_json: bool) -> None:
    from arena.present.compare import comparison_view
    from arena.reports.compare import compare_sessions

    with existing_store(db_path) as store:
        comparison = compare_sessions(store, before, after)
    if as_json:
        echo_json(comparison.to_dict())
        return
    out = console()
    out.print(comparison_view(comparison, out.width))


def print_report(rows: list[ReportRow], *, as_json: bool, as_markdown: bool, title: str) -> None:
    from arena.present.report_format import markdown
    from arena.present.runs import report_table

    if as_json:
        echo_json([row.to_dict() for row in rows])
    elif as_markdown:
        from arena.untrusted import visible

        click.echo(visible(markdown(rows)), nl=False)
    else:
        out = console()
        out.print(report_table(rows, title=title, width=out.width))
