"""The ``arena`` command: parse arguments, call the core, print. No logic lives here.

Imports of rich and of the core modules happen inside the commands, so ``arena --help`` loads only click.
A user mistake (``ArenaError``) becomes one ``Error:`` line and exit status 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from arena.errors import ArenaError

if TYPE_CHECKING:
    from rich.console import Console

    from arena.backend import GenerationParams
    from arena.contestants import Contestant
    from arena.prompts import Prompt
    from arena.report import ReportRow
    from arena.store import Store

F = TypeVar("F", bound=Callable[..., Any])


class UserError(click.ClickException):
    """Shown as one line; status 2 like click's own usage errors."""

    exit_code = 2


class ArenaGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ArenaError as exc:
            raise UserError(str(exc)) from exc


def contestant_options(func: F) -> F:
    """--model / --label / --config, shared by every command that runs models."""
    func = click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        help="arena.toml with named [contestants.NAME] (default: ./arena.toml, then the data dir).",
    )(func)
    func = click.option(
        "--label",
        "labels",
        multiple=True,
        help="Label for the --model at the same position (the contestant's identity in ratings).",
    )(func)
    func = click.option(
        "--model",
        "-m",
        "specs",
        multiple=True,
        metavar="SPEC",
        help="BACKEND:TARGET[?key=val&...] (e.g. replay:outputs.jsonl?tps=30; see `arena backends`), "
        "or a contestant name from arena.toml. Repeat for each contestant.",
    )(func)
    return func


def sampling_options(func: F) -> F:
    """Sampling flags; every contestant gets the same values."""
    for decorator in reversed(
        [
            click.option("--temperature", type=float, default=0.7, show_default=True, help="0 means greedy."),
            click.option("--top-p", type=float, default=0.9, show_default=True),
            click.option("--max-tokens", type=int, default=200, show_default=True),
            click.option("--seed", type=int, default=0, show_default=True, help="Per-call seed (not global)."),
            click.option("--stop", "stops", multiple=True, metavar="TEXT", help="Stop string; repeatable."),
        ]
    ):
        func = decorator(func)
    return func


def db_option(func: F) -> F:
    return click.option(
        "--db",
        "db_path",
        type=click.Path(path_type=Path),
        help="SQLite file (default: arena.db in the data dir; ARENA_HOME moves the data dir).",
    )(func)


def _params(temperature: float, top_p: float, max_tokens: int, seed: int, stops: Sequence[str]) -> GenerationParams:
    from arena.backend import GenerationParams

    return GenerationParams(temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed, stop=tuple(stops))


def _open_store(db_path: Path | None) -> Store:
    from arena.config import default_db_path
    from arena.store import Store

    return Store(db_path or default_db_path())


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


@click.group(cls=ArenaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vibe-arena", prog_name="arena")
def cli() -> None:
    """Blind side-by-side arena for language models: two anonymous models answer the same prompt,
    you judge, and the verdicts become ratings with confidence intervals.

    \b
    Start here (two tiny models built locally, nothing downloaded):
      arena demo
    Compare your own checkpoints, quantizations or servers:
      arena play --model hf:./my-checkpoint --model 'hf:./my-checkpoint?quant=nf4'
      arena play --model gguf:./model-Q4_K_M.gguf --model 'openai:http://127.0.0.1:8000/v1?model=NAME'
    Then: arena leaderboard, arena report, arena export.
    """


# --------------------------------------------------------------------------------------------- batch


@cli.command()
@click.option(
    "--prompts",
    "prompt_set",
    default="everyday",
    show_default=True,
    help="Prompt set name or .toml/.jsonl path.",
)
@contestant_options
@sampling_options
@db_option
@click.option("--sequential", is_flag=True, help="Run contestants one after another (clean speed numbers).")
@click.option("--limit", type=click.IntRange(min=1), help="Only the first N prompts of the set.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable results instead of a table.")
def batch(
    prompt_set: str,
    specs: tuple[str, ...],
    labels: tuple[str, ...],
    config_path: Path | None,
    temperature: float,
    top_p: float,
    max_tokens: int,
    seed: int,
    stops: tuple[str, ...],
    db_path: Path | None,
    sequential: bool,
    limit: int | None,
    as_json: bool,
) -> None:
    """Run every contestant over a prompt set headlessly and store the generations."""
    import threading

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from arena.batch import BatchRecord, run_batch, summarize
    from arena.contestants import resolve_contestants
    from arena.pool import ModelPool
    from arena.prompts import load_prompt_set
    from arena.report import build_report

    params = _params(temperature, top_p, max_tokens, seed, stops)
    prompts = load_prompt_set(prompt_set)
    selected = prompts.prompts[:limit] if limit else prompts.prompts
    contestants = resolve_contestants(specs, labels, config_path)
    err = _console(stderr=True)
    store = _open_store(db_path)
    with store, ModelPool() as pool:
        for contestant in contestants:  # one at a time, with a spinner that leaves no line behind
            with err.status(f"loading {contestant.label} ({contestant.backend})"):
                pool.load_all([contestant])
        store.register(contestants, selected)
        session = store.start_session(
            "batch",
            judge=None,
            settings={
                "prompt_set": prompts.name,
                "params": params.to_dict(),
                "contestants": {c.label: c.spec for c in contestants},
                "sequential": sequential,
            },
        )
        tokens = {"n": 0}
        cancel = threading.Event()
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[tokens]} tokens"),
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
            "generations": [
                {
                    "id": record.generation_id,
                    "contestant": record.contestant,
                    "prompt": record.prompt,
                    "output": record.result.text,
                    "n_tokens": record.result.n_tokens,
                    "finish_reason": record.result.finish_reason,
                    "ttft_s": record.result.ttft_s,
                    "tokens_per_s": record.result.tokens_per_s,
                    "wall_s": record.result.wall_s,
                    "error": record.result.error,
                }
                for record in records
            ],
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    from arena.views import batch_summary_table

    out = _console()
    out.print(batch_summary_table(summaries, title=f"{prompts.name} - {len(selected)} prompts"))
    _print_report(report_rows, as_json=False, as_markdown=False, title=f"vibe check - session {session}")
    out.print(f"{len(records)} generations stored in {store.path} (session {session})", style="dim")
    for summary in summaries:
        for error in summary.errors:
            out.print(f"{summary.contestant}: error: {error}", style="red", markup=False, soft_wrap=True)


# --------------------------------------------------------------------------------------------- play / demo


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
    show_speed: bool,
    sequential: bool,
    intro: str | None = None,
) -> None:
    """Load every model (one at a time, before the screen opens), then run the TUI over a play session."""
    import random

    from arena.play import PlaySession
    from arena.pool import ModelPool
    from arena.prompts import load_prompt_set

    if len(contestants) < 2:
        raise ArenaError("arena play needs at least two contestants (--model twice, or two in arena.toml)")
    prompts = load_prompt_set(prompt_set)
    err = _console(stderr=True)
    store = _open_store(db_path)
    with store, ModelPool() as pool:
        for contestant in contestants:
            with err.status(f"loading a model ({contestant.backend})"):  # no label: the judge must stay blind
                pool.load_all([contestant])
        session = PlaySession(
            store,
            contestants,
            prompts.prompts,
            params,
            judge=judge,
            settings={
                "prompt_set": prompts.name,
                "params": params.to_dict(),
                "contestants": [c.spec for c in contestants],
            },
            rng=random.Random(),
        )
        from arena.tui.app import ArenaApp

        ArenaApp(session, pool, show_speed=show_speed, sequential=sequential, intro=intro).run()
        votes = sum(1 for current in session.rounds if current.voted)
    noun = "vote" if votes == 1 else "votes"
    err.print(f"{votes} {noun} stored in {store.path}. Ratings: arena leaderboard --db {store.path}")


@cli.command()
@click.option(
    "--prompts", "prompt_set", default="everyday", show_default=True, help="Prompt set name or .toml/.jsonl path."
)
@contestant_options
@sampling_options
@db_option
@click.option("--judge", default=None, help="Your name, stored with every vote (default: your user name).")
@click.option("--show-speed", is_flag=True, help="Show tokens/s while generating (hidden until the vote by default).")
@click.option("--sequential", is_flag=True, help="Generate one side after the other instead of at once.")
def play(
    prompt_set: str,
    specs: tuple[str, ...],
    labels: tuple[str, ...],
    config_path: Path | None,
    temperature: float,
    top_p: float,
    max_tokens: int,
    seed: int,
    stops: tuple[str, ...],
    db_path: Path | None,
    judge: str | None,
    show_speed: bool,
    sequential: bool,
) -> None:
    """Judge two anonymous models side by side in the terminal; votes go to SQLite."""
    from arena.contestants import resolve_contestants

    params = _params(temperature, top_p, max_tokens, seed, stops)
    contestants = resolve_contestants(specs, labels, config_path)
    _run_arena(
        contestants,
        prompt_set,
        params,
        db_path,
        judge=judge or _default_judge(),
        show_speed=show_speed,
        sequential=sequential,
    )


@cli.command()
@db_option
@click.option("--judge", default=None, help="Your name, stored with every vote (default: your user name).")
def demo(db_path: Path | None, judge: str | None) -> None:
    """The arena on two tiny local models built on first use (no download), over the everyday prompts."""
    from arena.config import data_dir, default_db_path
    from arena.demo import DEMO_INTRO, DEMO_PARAMS, build_demo

    err = _console(stderr=True)
    home = data_dir() / "demo-models"
    with err.status(f"building the demo models (first run only; cached in {home})"):
        contestants = build_demo(home)
    path = db_path or default_db_path()
    _run_arena(
        contestants,
        "everyday",
        DEMO_PARAMS,
        path,
        judge=judge or _default_judge(),
        show_speed=False,
        sequential=False,
        intro=DEMO_INTRO.format(db=path),
    )


# --------------------------------------------------------------------------------------------- prompts


@cli.command()
@click.argument("name_or_path", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable output.")
def prompts(name_or_path: str | None, as_json: bool) -> None:
    """List the shipped prompt sets, or show (and validate) one set or file."""
    from arena.prompts import load_prompt_set, shipped_set_names
    from arena.views import prompt_set_table, prompt_sets_table

    if name_or_path is None:
        sets = [load_prompt_set(name) for name in shipped_set_names()]
        if as_json:
            rows = [
                {"name": s.name, "prompts": len(s), "categories": s.categories, "description": s.description}
                for s in sets
            ]
            click.echo(json.dumps(rows, indent=2))
        else:
            _console().print(prompt_sets_table(sets))
        return
    prompt_set = load_prompt_set(name_or_path)
    if as_json:
        rows = [
            {
                "id": p.id,
                "category": p.category,
                "text": p.text,
                "system": p.system,
                "constraints": [dict(c) for c in p.constraints],
            }
            for p in prompt_set.prompts
        ]
        click.echo(json.dumps({"name": prompt_set.name, "prompts": rows}, indent=2, ensure_ascii=False))
    else:
        _console().print(prompt_set_table(prompt_set))


# --------------------------------------------------------------------------------------------- backends


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable output.")
def backends(as_json: bool) -> None:
    """List installed backends and whether their libraries import."""
    from arena.backend import backend_entry_points, get_backend, missing_requirements
    from arena.views import backends_table

    rows: list[dict[str, Any]] = []
    for name, entry_point in sorted(backend_entry_points().items()):
        row: dict[str, Any] = {"name": name, "entry_point": entry_point.value}
        try:
            backend = get_backend(name)
        except ArenaError as exc:
            row.update(description="", options=[], missing=[], status=f"broken: {exc}")
        else:
            missing = missing_requirements(backend)
            row.update(
                description=backend.description,
                options=sorted(backend.options),
                missing=missing,
                status="ok" if not missing else "missing: " + ", ".join(missing),
            )
        rows.append(row)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        _console().print(backends_table(rows))


# --------------------------------------------------------------------------------------------- doctor


@cli.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable output.")
def doctor(db_path: Path | None, as_json: bool) -> None:
    """Report Python, devices (CUDA, MPS), optional libraries, data dir and database."""
    from arena.diagnostics import collect
    from arena.views import doctor_table

    report = collect(db_path)
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
    else:
        _console().print(doctor_table(report))


# --------------------------------------------------------------------------------------------- flags / report


def _find_prompt(uid: str) -> Prompt:
    from arena.prompts import load_prompt_set

    set_name, sep, prompt_id = uid.rpartition("/")
    if not sep:
        raise ArenaError(f"--prompt {uid!r}: expected SET/ID, e.g. everyday/child-photosynthesis")
    prompt_set = load_prompt_set(set_name)
    for prompt in prompt_set.prompts:
        if prompt.id == prompt_id:
            return prompt
    raise ArenaError(f"--prompt {uid!r}: no prompt {prompt_id!r} in set {prompt_set.name!r}")


@cli.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True))
@click.option(
    "--prompt", "prompt_uid", metavar="SET/ID", help="Judge against this prompt (its constraints, its words)."
)
@click.option(
    "--finish-reason",
    type=click.Choice(["stop", "length", "cancelled", "error"]),
    help="How generation ended.",
)
@click.option("--json", "as_json", is_flag=True, help='Print {"flags": [...], "counts": {...}}.')
def flags(file: Path, prompt_uid: str | None, finish_reason: str | None, as_json: bool) -> None:
    """Analyze a text file (or - for stdin) for loops, garbage, emptiness and broken constraints."""
    from arena.flags import analyze, count
    from arena.views import flags_table

    if str(file) == "-":
        text = sys.stdin.read()
    else:
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ArenaError(f"file not found: {file}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ArenaError(f"{file}: cannot read: {exc}") from None
    prompt = _find_prompt(prompt_uid) if prompt_uid else None
    found = analyze(
        text,
        prompt=prompt.text if prompt else None,
        constraints=prompt.constraints if prompt else (),
        finish_reason=finish_reason,
    )
    counts = count(text)
    if as_json:
        click.echo(
            json.dumps(
                {"flags": [f.to_dict() for f in found], "counts": counts.to_dict()},
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    out = _console()
    out.print(flags_table(found))
    out.print(f"{counts.words} words, {counts.sentences} sentences, {counts.characters} characters", style="dim")


@cli.command()
@db_option
@click.option("--session", type=int, help="Report on this session (default: the latest batch).")
@click.option("--all", "all_sessions", is_flag=True, help="Report on every generation in the database.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable rows.")
@click.option("--markdown", "as_markdown", is_flag=True, help="Print a markdown table for a write-up.")
def report(db_path: Path | None, session: int | None, all_sessions: bool, as_json: bool, as_markdown: bool) -> None:
    """Per-contestant flag rates and constraint adherence with 95% intervals, speed and memory."""
    from arena.report import build_report, latest_batch_session

    with _existing_store(db_path) as store:
        chosen = None if all_sessions else (session if session is not None else latest_batch_session(store))
        rows = build_report(store, chosen)
    if not rows:
        raise ArenaError("no generations to report on" + (f" in session {chosen}" if chosen is not None else ""))
    _print_report(
        rows,
        as_json=as_json,
        as_markdown=as_markdown,
        title=f"vibe check - session {chosen}" if chosen is not None else "vibe check - all sessions",
    )


def _print_report(rows: list[ReportRow], *, as_json: bool, as_markdown: bool, title: str) -> None:
    from arena.report import markdown
    from arena.views import report_table

    if as_json:
        click.echo(json.dumps([row.to_dict() for row in rows], indent=2))
    elif as_markdown:
        click.echo(markdown(rows), nl=False)
    else:
        _console().print(report_table(rows, title=title))


@cli.command()
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
    err = _console(stderr=True)
    with ModelPool() as pool:
        for contestant, spec in ((a, spec_a), (b, spec_b)):
            with err.status(f"loading {spec}"):
                pool.load_all([contestant])
        rows = run_parity(a, b, selected, pool, max_tokens)
    if as_json:
        click.echo(json.dumps({"a": spec_a, "b": spec_b, "rows": [row.to_dict() for row in rows]}, indent=2))
    else:
        out = _console()
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


def filter_options(func: F) -> F:
    """Which battles to count: by prompt set, category, judge and date."""
    for decorator in reversed(
        [
            click.option("--prompt-set", help="Only battles on prompts of this set."),
            click.option("--category", help="Only battles on prompts of this category."),
            click.option("--judge", help="Only votes by this judge."),
            click.option("--since", metavar="DATE", help="Only votes at or after DATE (ISO, UTC)."),
            click.option("--until", metavar="DATE", help="Only votes before DATE (ISO, UTC)."),
        ]
    ):
        func = decorator(func)
    return func


def _existing_store(db_path: Path | None) -> Store:
    """Open a database that must already exist (reports never create an empty file by accident)."""
    from arena.config import default_db_path

    path = db_path or default_db_path()
    if not path.exists():
        raise ArenaError(f"no database at {path} (run `arena batch` first, or pass --db PATH)")
    return _open_store(path)


def _battles(
    db_path: Path | None,
    prompt_set: str | None,
    category: str | None,
    judge: str | None,
    since: str | None,
    until: str | None,
) -> list[dict[str, Any]]:
    from arena.store.queries import BattleFilter, battle_rows

    battle_filter = BattleFilter(prompt_set=prompt_set, category=category, judge=judge, since=since, until=until)
    with _existing_store(db_path) as store:
        return battle_rows(store, battle_filter)


# --------------------------------------------------------------------------------------------- ratings


@cli.command()
@db_option
@filter_options
@click.option("--anchor", metavar="LABEL=RATING", help="Pin one contestant's rating (default: mean 1000).")
@click.option("--rounds", type=click.IntRange(min=0), default=1000, show_default=True, help="Bootstrap rounds.")
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option(
    "--k",
    "k_factor",
    type=click.FloatRange(min=0, min_open=True),
    default=32.0,
    show_default=True,
    help="Elo K.",
)
@click.option("--matrix", "show_matrix", is_flag=True, help="Also print win-rate and battle-count matrices.")
@click.option("--json", "as_json", is_flag=True, help="Print the ratings as a JSON list.")
def leaderboard(
    db_path: Path | None,
    prompt_set: str | None,
    category: str | None,
    judge: str | None,
    since: str | None,
    until: str | None,
    anchor: str | None,
    rounds: int,
    seed: int,
    k_factor: float,
    show_matrix: bool,
    as_json: bool,
) -> None:
    """Bradley-Terry ratings with bootstrap intervals, Elo, tallies and head-to-head records."""
    from arena.ratings import Outcome, compute_leaderboard, matrix_rows, parse_anchor
    from arena.views import leaderboard_notes, leaderboard_table, matrix_table

    rows = _battles(db_path, prompt_set, category, judge, since, until)
    outcomes = [Outcome(r["left_contestant"], r["right_contestant"], r["verdict"]) for r in rows]
    try:
        pinned = parse_anchor(anchor) if anchor else None
        board = compute_leaderboard(outcomes, rounds=rounds, seed=seed, anchor=pinned, k=k_factor)
    except ValueError as exc:
        raise ArenaError(str(exc)) from None
    if as_json:
        click.echo(json.dumps([rating.to_dict() for rating in board.ratings], indent=2))
        return
    out = _console()
    if not board.ratings:
        out.print("no battles match (skips are not counted); vote in `arena play` or `arena import` some")
        return
    out.print(leaderboard_table(board))
    for line in leaderboard_notes(board):
        out.print(line)
    if show_matrix:
        out.print(matrix_table("win rate (row vs column)", matrix_rows(board.win_matrix)))
        out.print(matrix_table("battles", matrix_rows(board.count_matrix)))


# ------------------------------------------------------------------------------------ export / import


@cli.command()
@db_option
@filter_options
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "jsonl", "fastchat", "dpo"]), required=True)
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False), help="File (default: stdout).")
def export(
    db_path: Path | None,
    prompt_set: str | None,
    category: str | None,
    judge: str | None,
    since: str | None,
    until: str | None,
    fmt: str,
    out_path: Path | None,
) -> None:
    """Export battles with prompts, outputs, flags and params.

    fastchat writes Chatbot Arena battles; dpo writes chosen/rejected pairs from decided battles.
    """
    from arena import export as exporter

    rows = _battles(db_path, prompt_set, category, judge, since, until)
    if out_path is None:
        exporter.write(rows, fmt, sys.stdout)
        return
    try:
        with out_path.open("w", encoding="utf-8", newline="") as handle:
            count = exporter.write(rows, fmt, handle)
    except OSError as exc:
        raise ArenaError(f"--out {out_path}: cannot write: {exc}") from None
    click.echo(f"wrote {count} records to {out_path}", err=True)


@cli.command("import")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@db_option
def import_(path: Path, db_path: Path | None) -> None:
    """Import battles in the FastChat cleaned-battle shape (JSON list or JSONL)."""
    from arena.fastchat import read_fastchat, store_battle

    if not path.is_file():
        raise ArenaError(f"file not found: {path}")
    report = read_fastchat(path)
    if not report.battles and report.skipped:
        raise ArenaError(
            f"{path}: no valid battle records ({sum(report.skipped.values())} malformed, e.g. {report.examples[0]})"
        )
    with _open_store(db_path) as store:
        session = store.start_session("import", judge=None, settings={"source": str(path)})
        added = sum(store_battle(store, b, session=session, source=str(path)) for b in report.battles)
        duplicates = len(report.battles) - added
    click.echo(f"imported {added} battles into {store.path}" + (f"; {duplicates} already there" if duplicates else ""))
    if report.skipped:
        reasons = ", ".join(f"{count} {reason}" for reason, count in report.skipped.most_common())
        click.echo(f"skipped {sum(report.skipped.values())} malformed records: {reasons}", err=True)
        for example in report.examples:
            click.echo(f"  {example}", err=True)


@cli.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--into", "into", required=True, type=click.Path(path_type=Path, dir_okay=False), help="Target database.")
def merge(sources: tuple[Path, ...], into: Path) -> None:
    """Combine databases (e.g. several judges) into one; nothing is added twice."""
    from arena.store.merge import merge_into

    with _open_store(into) as target:
        for source in sources:
            if source.resolve() == into.resolve():
                raise ArenaError(f"merge: {source} is the target itself")
            added = merge_into(target, source)
            summary = ", ".join(f"{added[name]} {name}" for name in ("battles", "generations", "sessions")) or "nothing"
            click.echo(f"{source}: added {summary}")


def main() -> None:
    cli(prog_name="arena")
