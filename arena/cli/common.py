"""What every ``arena`` command shares: the error-to-exit-status rule, option bundles, store and console
helpers, and loading models under a spinner.

Option bundles hand commands the core's own objects (``GenerationParams``, ``BattleFilter``), so no
command rebuilds them from loose flags. Only click is imported at module level: ``arena --help`` must not
pay for rich, sqlite-utils or any backend.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from arena.errors import ArenaError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from arena.backend import Contestant, GenerationParams
    from arena.engine.pool import ModelPool
    from arena.store import Store

F = TypeVar("F", bound=Callable[..., Any])


class UserError(click.ClickException):
    """Shown as one line; status 2 like click's own usage errors."""

    exit_code = 2


class ArenaGroup(click.Group):
    """The ``arena`` group: commands imported on first use, and ``ArenaError`` as one line, status 2.

    ``lazy_commands`` maps a command's name to ``module:attribute``; only the command that runs is imported
    (``--help`` imports them all, for their short help). Every command module imports only click at its
    top, but together they cost a small command tens of milliseconds."""

    def __init__(self, *args: Any, lazy_commands: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            module_name, attribute = self.lazy_commands[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.lazy_commands[cmd_name]} is not a click command")
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ArenaError as exc:
            # the message may quote a server body, a file name or a label: never let it drive the terminal
            from arena.untrusted import visible

            raise UserError(visible(str(exc))) from exc


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="arena.toml with named [contestants.NAME] (default: ./arena.toml, then the data dir).",
)
trust_remote_code_option = click.option(
    "--trust-remote-code",
    is_flag=True,
    help="Allow arena.toml contestants that set trust_remote_code (runs the checkpoint's own code).",
)


def contestant_options(func: F) -> F:
    """--model / --label / --config, handed to the command as ``contestants: list[Contestant]``, resolved
    (arena.toml names, labels checked distinct) before any model loads."""

    @functools.wraps(func)
    def with_contestants(
        *args: Any,
        specs: tuple[str, ...],
        labels: tuple[str, ...],
        config_path: Path | None,
        trust_remote_code: bool,
        **kwargs: Any,
    ) -> Any:
        from arena.engine.contestants import resolve_contestants

        if kwargs.get("from_batch") is not None:  # stored answers: the batch's contestants, none to resolve
            return func(*args, contestants=[], **kwargs)
        contestants = resolve_contestants(specs, labels, config_path, trust_config_code=trust_remote_code)
        return func(*args, contestants=contestants, **kwargs)

    decorated: Callable[..., Any] = with_contestants
    for decorator in reversed(
        [
            click.option(
                "--model",
                "-m",
                "specs",
                multiple=True,
                metavar="SPEC",
                help="BACKEND:TARGET[?key=val&...] (e.g. replay:outputs.jsonl?tps=30; see `arena backends`), "
                "or a contestant name from arena.toml. Repeat for each contestant.",
            ),
            click.option(
                "--label",
                "labels",
                multiple=True,
                help="Label for the --model at the same position (the contestant's identity in ratings).",
            ),
            config_option,
            trust_remote_code_option,
        ]
    ):
        decorated = decorator(decorated)
    return decorated  # type: ignore[return-value]


def sampling_params(
    temperature: float, top_p: float, max_tokens: int, seed: int | None, stops: Sequence[str]
) -> GenerationParams:
    """The sampling flags as the core's ``GenerationParams`` (which refuses impossible values)."""
    from arena.backend import GenerationParams

    return GenerationParams(
        temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed or 0, stop=tuple(stops)
    )


SESSION_NUMBER = click.IntRange(1, 2**63 - 1)
"""A session's number as SQLite can hold it (a 30-digit number is one line, not an OverflowError)."""

session_seed_option = click.option(
    "--seed",
    type=click.IntRange(0, 2**31 - 1),
    default=None,
    help="Session seed: prompt order, sides and sampling (default: a fresh random one, shown and "
    "stored; give it again to replay a session).",
)
"""``--seed`` of a judging session (``arena play``, ``arena demo``)."""


def sampling_options(*, session_seed: bool = False) -> Callable[[F], F]:
    """Sampling flags, handed to the command as one ``params: GenerationParams`` (the same for everyone).

    With ``session_seed`` (``arena play``), ``--seed`` is the session seed and defaults to a fresh random
    one: the command also gets ``seed: int | None`` and ``params.seed`` is left for the session to set.
    Otherwise (``arena batch``) ``--seed`` is the sampling seed and defaults to a fresh random one too, so a
    second batch never repeats the first one's samples; the command shows and stores it.
    """

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def with_params(
            *args: Any,
            temperature: float,
            top_p: float,
            max_tokens: int,
            seed: int | None,
            stops: tuple[str, ...],
            **kwargs: Any,
        ) -> Any:
            if session_seed:
                kwargs["seed"] = seed
            elif seed is None:
                import secrets

                seed = secrets.randbelow(2**31)
            params = sampling_params(temperature, top_p, max_tokens, seed, stops)
            return func(*args, params=params, **kwargs)

        seed_option = (
            session_seed_option
            if session_seed
            else click.option(
                "--seed",
                type=click.IntRange(0, 2**31 - 1),
                default=None,
                help="Sampling seed (default: a fresh random one, shown and stored; give it again to repeat a batch).",
            )
        )
        decorated: Callable[..., Any] = with_params
        for decorator in reversed(
            [
                click.option("--temperature", type=float, default=0.7, show_default=True, help="0 means greedy."),
                click.option("--top-p", type=float, default=0.9, show_default=True),
                click.option("--max-tokens", type=int, default=200, show_default=True),
                seed_option,
                click.option("--stop", "stops", multiple=True, metavar="TEXT", help="Stop string; repeatable."),
            ]
        ):
            decorated = decorator(decorated)
        return decorated  # type: ignore[return-value]

    return decorate


def filter_options(func: F) -> F:
    """Which battles to count, handed to the command as one ``battle_filter: BattleFilter``."""

    @functools.wraps(func)
    def with_filter(
        *args: Any,
        prompt_set: str | None,
        category: str | None,
        judge: str | None,
        since: str | None,
        until: str | None,
        exclude_leaks: bool,
        **kwargs: Any,
    ) -> Any:
        from arena.store.queries import BattleFilter

        battle_filter = BattleFilter(
            prompt_set=prompt_set,
            category=category,
            judge=judge,
            since=since,
            until=until,
            exclude_leaks=exclude_leaks,
        )
        return func(*args, battle_filter=battle_filter, **kwargs)

    decorated: Callable[..., Any] = with_filter
    for decorator in reversed(
        [
            click.option("--prompt-set", help="Only battles on prompts of this set."),
            click.option("--category", help="Only battles on prompts of this category."),
            click.option("--judge", help="Only votes by this judge."),
            click.option("--since", metavar="DATE", help="Only votes at or after DATE (ISO, UTC)."),
            click.option("--until", metavar="DATE", help="Only votes before DATE (ISO, UTC)."),
            click.option(
                "--exclude-leaks",
                is_flag=True,
                help="Leave out battles where either answer named itself (the identity flag): the judge was not blind.",
            ),
        ]
    ):
        decorated = decorator(decorated)
    return decorated  # type: ignore[return-value]


def _db_path(_ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path:
    from arena.config import default_db_path

    return value if value is not None else default_db_path()


def db_option(func: F) -> F:
    """``--db``, handed to the command as a resolved ``db_path: Path`` (the default one when not given)."""
    return click.option(
        "--db",
        "db_path",
        type=click.Path(path_type=Path),
        callback=_db_path,
        help="SQLite file (default: arena.db in the data dir; ARENA_HOME moves the data dir).",
    )(func)


def say(message: str, *, err: bool = False) -> None:
    """One plain line (names, paths and reasons in it made visible: they may come from files or servers)."""
    from arena.untrusted import visible

    click.echo(visible(message), err=err)


def echo_json(value: Any) -> None:
    """Machine-readable output: exact data, hidden characters as JSON escapes (``arena.untrusted``)."""
    from arena.untrusted import json_text

    click.echo(json_text(value))


def check_db_file(path: Path, *, must_exist: bool) -> None:
    """One line, before SQLite is asked, for a --db that cannot be a database file: a directory, a FIFO or
    device (SQLite would block on it), a name too long for the file system; or, for reading commands, none."""
    import stat

    shown = str(path) if len(str(path)) <= 120 else f"{str(path)[:80]}...{str(path)[-30:]}"
    try:
        found = path.stat()
    except FileNotFoundError:
        if must_exist:
            raise ArenaError(f"no database at {shown} (run `arena batch` first, or pass --db PATH)") from None
        return
    except OSError as exc:
        raise ArenaError(f"--db {shown}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(found.st_mode):
        raise ArenaError(f"--db {shown}: is a directory, expected a database file")
    if not stat.S_ISREG(found.st_mode):
        raise ArenaError(f"--db {shown}: is not a regular file (a pipe or a device), expected a database file")


def open_store(db_path: Path) -> Store:
    from arena.store import Store

    check_db_file(db_path, must_exist=False)
    return Store(db_path)


def existing_store(path: Path, reads: Sequence[str] | None = None) -> Store:
    """Open a database that must already exist, read-only: reports never create, migrate or convert a file
    (an older arena schema is upgraded in memory; another program's file is refused). ``reads``: the only
    tables the command reads, which are then all the file's quick check covers (None: every table)."""
    from arena.store import Store

    check_db_file(path, must_exist=True)
    return Store(path, read_only=True, checked_tables=reads)


def console(stderr: bool = False) -> Console:
    """The CLI's console: markup off and untrusted characters made visible (``arena.present.terminal``)."""
    from arena.present.terminal import SafeConsole

    return SafeConsole(stderr=stderr)


class _NoProgress:
    """What ``passing_bar`` gives where a bar has no one to show it to (stderr is a pipe or a file): the
    calls those commands make, nothing drawn, and rich's progress module not even imported (a leaderboard
    read by a script takes a fraction of a second)."""

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def add_task(self, description: str, **fields: Any) -> int:
        return 0

    def update(self, task: int, **fields: Any) -> None:
        return None

    def advance(self, task: int, advance: float = 1) -> None:
        return None


def passing_bar(*, counted: bool = True) -> Progress:
    """A transient ``progress_bar`` where stderr is a terminal, else nothing at all: the bar of every step
    that only shows progress (imports, exports, the leaderboard's and report's stages, fidelity), in
    commands that scripts run too."""
    if sys.stderr.isatty():
        return progress_bar(transient=True, counted=counted)
    return cast("Progress", _NoProgress())  # the part of a Progress those commands call


def progress_bar(*, tokens: bool = False, transient: bool = False, eta: bool = False, counted: bool = True) -> Progress:
    """The one progress bar of long commands, on stderr: what runs, a bar, done of total, (tokens,) time
    (and, with ``eta``, the time left); without ``counted``, no done of total (stages that count nothing).
    A transient bar is drawn only on a terminal: into a pipe or a file it
    would leave nothing but a blank line behind."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [
        TextColumn("{task.description}", style="progress.description", markup=False),
        BarColumn(),
        *([MofNCompleteColumn()] if counted else []),
        *([TextColumn("{task.fields[tokens]} tokens", markup=False)] if tokens else []),
        TimeElapsedColumn(),
        *([TimeRemainingColumn()] if eta else []),
    ]
    shown_on = console(stderr=True)
    return Progress(*columns, console=shown_on, transient=transient, disable=transient and not shown_on.is_terminal)


def load_models(pool: ModelPool, contestants: Sequence[Contestant], describe: Callable[[Contestant], str]) -> None:
    """Load the contestants one at a time (peak memory = one load spike), each under a spinner on stderr
    that leaves no line behind and counts ("1 of 2"). ``describe`` says what the spinner shows (blind
    commands hide the label).

    The console is pinned to the real stderr: a library that swaps ``sys.stderr`` to hide its own bars
    (transformers' GGUF reader) must not hide the spinner for the minutes a first conversion takes."""
    from arena.backend.registry import load_note
    from arena.present.terminal import literal

    err = console(stderr=True)
    err.file = sys.stderr
    for number, contestant in enumerate(contestants, 1):
        what = describe(contestant) + (f", {number} of {len(contestants)}" if len(contestants) > 1 else "")
        note = load_note(contestant)
        if note:
            what += f" ({note})"
        with err.status(literal(what)):  # a str would be parsed as markup by the spinner
            pool.load_all([contestant])
