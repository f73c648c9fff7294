"""``arena serve``: the arena in judges' browsers (textual-serve), every vote into one SQLite file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from arena.cli.common import load_models, open_store, say
from arena.errors import ArenaError

if TYPE_CHECKING:
    from arena.backend import Contestant

REFUSED_PLAY_OPTIONS = {
    "judge": "--judge: each browser's judge types their own name on the first screen",
    "resume": "--resume: a browser judge who comes back under the same name continues their session anyway",
    "ask_judge": "--ask-judge: arena serve always asks the judge's name",
    "named": "--named shows who is who: one person's debugging view in a terminal (arena play --named), not for judges",
}


@click.command(context_settings={"ignore_unknown_options": True})
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every network).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--public-url",
    metavar="URL",
    help="The address judges open, where it differs from http://HOST:PORT (behind a proxy, a DNS name).",
)
@click.option(
    "--max-judges",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Browser sessions at once (each loads its own copy of the models).",
)
@click.option("--no-check", is_flag=True, help="Serve without first loading each model once to check it.")
@click.option(
    "--hide-board",
    is_flag=True,
    help="Judges see no leaderboard (not with l, not at the end): standings seen mid-session sway votes; "
    "read it with `arena leaderboard --db ...`.",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Serve the demo's contestants (SmolLM2-135M-Instruct with and without its chat template, as in `arena demo`).",
)
@click.argument("play_args", nargs=-1, type=click.UNPROCESSED, metavar="[PLAY OPTIONS]...")
def serve(
    host: str,
    port: int,
    public_url: str | None,
    max_judges: int,
    no_check: bool,
    hide_board: bool,
    demo: bool,
    play_args: tuple[str, ...],
) -> None:
    """Judges in a browser: the arena on http://HOST:PORT, for colleagues without a Python setup.

    \b
    PLAY OPTIONS are `arena play`'s (--model, --prompts, --db, sampling, --pace, --from-batch...):
      arena serve --model hf:./ckpt-a --model hf:./ckpt-b --db team.db
      arena serve --from-batch latest --db team.db    (judge stored answers: no model loads)
    Each browser gets its own arena (own session and seed, own copy of the models), asks its judge's
    name first, and votes into the one --db file. Anyone who can reach the address can judge: the
    default listens on this machine only.
    """
    from arena.web.guard import WILDCARD_HOSTS
    from arena.web.serve import check_listen, play_command, public_url_for, require_textual_serve
    from arena.web.serve import serve as run_server

    require_textual_serve()
    check_listen(host, port)  # a taken port or a bad address is one line now, before any model loads

    if demo and any(arg in ("--model", "-m") or arg.startswith("--model=") for arg in play_args):
        raise ArenaError("--demo serves the demo's two contestants: leave out --model")
    if demo and any(arg == "--from-batch" or arg.startswith("--from-batch=") for arg in play_args):
        raise ArenaError("--demo serves live models and --from-batch stored answers: choose one")
    forwarded, db_path, contestants = _checked_play_args((*_demo_args(), *play_args) if demo else play_args)
    if not no_check:
        from arena.engine.pool import ModelPool

        with ModelPool() as pool:
            load_models(pool, contestants, lambda c: f"checking that {c.label} loads")
    url = public_url or public_url_for(host, port)
    say(f"Judges open {url} (at most {max_judges} at once); votes go to {db_path}. Ctrl-C stops.", err=True)
    if hide_board:
        say(f"the board is hidden from the judges: arena leaderboard --db {db_path} shows it", err=True)
    if host in WILDCARD_HOSTS:
        say(
            f"listening on every network interface ({host or 'all'}): anyone who can reach this machine can "
            "start judge processes and vote",
            err=True,
        )
    try:
        command = play_command([*forwarded, *(["--hide-board"] if hide_board else [])])
        run_server(command, host=host, port=port, public_url=url, max_judges=max_judges)
    except OSError as exc:  # taken meanwhile, or an address this machine does not have
        raise ArenaError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def _demo_args() -> list[str]:
    """``arena play`` options for the demo's contestants and sampling (options given after them win)."""
    from arena.cli.common import console
    from arena.config import data_dir
    from arena.demo import DEMO_PARAMS, demo_contestants
    from arena.present.terminal import literal

    with console(stderr=True).status(literal("preparing the demo models (first run only; cached afterwards)")):
        contestants, _intro = demo_contestants(data_dir() / "demo-models", tiny=False)
    args: list[str] = []
    for contestant in contestants:
        args += ["--model", contestant.spec, "--label", contestant.label]
    args += ["--temperature", str(DEMO_PARAMS.temperature), "--top-p", str(DEMO_PARAMS.top_p)]
    return [*args, "--max-tokens", str(DEMO_PARAMS.max_tokens)]


def _checked_play_args(play_args: tuple[str, ...]) -> tuple[list[str], Path, list[Contestant]]:
    """``play_args`` parsed and checked by ``arena play`` itself (a mistake is one line now, not a dead
    browser tab later), with the database made absolute and created or upgraded once, before judges race to
    open it."""
    from arena.cli.run import parse_play_options

    options = parse_play_options(play_args)
    refused = {
        "judge": options.judge,
        "resume": options.resume,
        "ask_judge": options.ask_judge,
        "named": options.named,
    }
    for name, given in refused.items():
        if given:
            raise ArenaError(REFUSED_PLAY_OPTIONS[name])
    options.check("arena serve")
    db_path = options.db_path.resolve()
    forwarded = [*without_option(play_args, "--db"), "--db", str(db_path)]
    with open_store(db_path) as store:
        if options.from_batch is not None:  # every judge gets the same batch, even if a newer one lands
            from arena.judging.stored import load_batch, resolve_batch

            batch = load_batch(store, resolve_batch(store, options.from_batch))
            forwarded = [*without_option(forwarded, "--from-batch"), "--from-batch", str(batch.session)]
            say(
                f"judging the stored answers of batch session {batch.session}: {len(batch.battles)} battles, "
                f"{len(batch.contestants)} contestants, no model loads",
                err=True,
            )
    return forwarded, db_path, list(options.contestants)


def without_option(args: Sequence[str], name: str) -> list[str]:
    """``args`` without ``name`` and its value (``--db X`` or ``--db=X``): the served command names the
    resolved database once, not the user's spelling of it and then the absolute path."""
    kept: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == name:
            skip = True
        elif not arg.startswith(f"{name}="):
            kept.append(arg)
    return kept
