"""``arena autojudge``: a model judges the stored answer pairs, in both orders; its verdicts are votes by
``auto:LABEL``, kept apart from the humans'."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from arena.cli.common import (
    SESSION_NUMBER,
    check_db_file,
    config_option,
    console,
    db_option,
    echo_json,
    load_models,
    open_store,
    progress_bar,
    trust_remote_code_option,
)
from arena.errors import ArenaError
from arena.vocab import auto_judge
from arena.wording import counted

if TYPE_CHECKING:
    from arena.backend import Contestant
    from arena.backend.scoring import AnswerScorer
    from arena.judging.autojudge import AutojudgeRun, AutoVerdict, Judge, JudgeItem, RewardJudge


@click.command()
@click.option(
    "--judge",
    "judge_spec",
    required=True,
    metavar="SPEC",
    help="The judging model, as a contestant spec; reward:SPEC (reward:hf:PATH) for a reward model, which "
    "scores each answer on its own.",
)
@click.option("--label", help="Its name: verdicts are stored as judge auto:LABEL (default: the spec's label).")
@db_option
@click.option("--session", type=SESSION_NUMBER, help="Only the battles voted in this session.")
@click.option(
    "--batch", "batch_session", type=SESSION_NUMBER, help="Judge the pairs of this batch session's answers instead."
)
@click.option("--limit", type=click.IntRange(min=1), help="At most N pairs (those not judged yet, oldest first).")
@click.option(
    "--judge-prompt",
    "prompt_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A judge prompt of your own (placeholders {question}, {answer_a}, {answer_b}, {verdict_format}).",
)
@config_option
@trust_remote_code_option
@click.option("--json", "as_json", is_flag=True, help="Print each verdict (both orders) as JSON.")
def autojudge(
    judge_spec: str,
    label: str | None,
    db_path: Path,
    session: int | None,
    batch_session: int | None,
    limit: int | None,
    prompt_file: Path | None,
    config_path: Path | None,
    trust_remote_code: bool,
    as_json: bool,
) -> None:
    """A model judges the answer pairs people voted on (or a batch's pairs), each in both orders.

    A local model (hf, gguf) answers with the next-token probabilities of A, B and C (tie); any other
    (openai) generates a verdict in [[A]] / [[B]] / [[C]] form. A verdict counts only where both orders
    agree, otherwise it is a tie marked inconsistent. Verdicts are stored as votes by auto:LABEL and left
    out of the humans' leaderboard, report and judges statistics; `arena judges` shows how far the judge
    agrees with the humans, beside what "always the longer answer" gets.
    """
    from arena.engine.contestants import resolve_contestants
    from arena.engine.pool import ModelPool
    from arena.judging.autojudge import (
        DEFAULT_PROMPT,
        RewardJudge,
        check_template,
        items_to_judge,
        judge_for,
        run_autojudge,
    )

    if session is not None and batch_session is not None:
        raise ArenaError("--session and --batch choose what is judged: give one")
    template = check_template(_read_prompt(prompt_file)) if prompt_file is not None else DEFAULT_PROMPT
    reward = judge_spec.startswith(REWARD_PREFIX)
    if reward:
        judge_spec = judge_spec[len(REWARD_PREFIX) :]
    (contestant,) = resolve_contestants(
        [judge_spec], [label] if label else [], config_path, trust_config_code=trust_remote_code
    )
    judge = auto_judge(label or contestant.label)
    check_db_file(db_path, must_exist=True)
    err = console(stderr=True)
    with open_store(db_path) as store, ModelPool() as pool:
        items, before = items_to_judge(store, judge=judge, session=session, batch=batch_session, limit=limit)
        if not items:
            if before:
                err.print(f"all {counted(before, 'pair')} are judged by {judge} already", markup=False)
                return
            raise ArenaError(
                "nothing to judge: no battle with both answers stored"
                + (f" in session {session}" if session is not None else "")
                + " (votes on imported battles without conversations have none; try --batch N)"
            )
        if reward:
            scorer = _load_reward(contestant)
            judging: Judge | RewardJudge = RewardJudge(scorer)
        else:
            load_models(pool, [contestant], lambda c: f"loading the judge {c.label} ({c.backend})")
            judging = judge_for(pool[contestant.label])
        with progress_bar(eta=True, transient=as_json) as progress:
            task = progress.add_task(f"{judge}: {counted(len(items), 'pair')}, both orders", total=len(items))

            def judged(item: JudgeItem, outcome: AutoVerdict | ArenaError) -> None:
                if isinstance(outcome, ArenaError):
                    progress.console.print(f"{item.prompt}: not judged: {outcome}", markup=False, highlight=False)
                progress.advance(task)

            run = run_autojudge(
                store,
                judging,
                items,
                judge=judge,
                judge_contestant=contestant,
                template=template,
                on_item=judged,
            )
    _report(run, store.path, as_json)


REWARD_PREFIX = "reward:"


def _load_reward(contestant: Contestant) -> AnswerScorer:
    """The reward model, from a backend that declares it can load one; one line otherwise."""
    from arena.backend import BackendError
    from arena.backend.registry import get_backend

    backend = get_backend(contestant.backend)
    if not backend.capabilities.reward_models:
        raise ArenaError(f"--judge reward:{contestant.spec}: the {backend.name} backend loads no reward models")
    with console(stderr=True).status(f"loading the reward model {contestant.label}"):
        try:
            return backend.load_reward(contestant)
        except BackendError as exc:
            raise ArenaError(f"cannot load the reward model {contestant.label!r}: {exc}") from exc
        except ImportError as exc:
            raise ArenaError(f"the reward model needs {exc.name}: pip install 'vibe-arena[hf]'") from exc


def _report(run: AutojudgeRun, db: Path, as_json: bool) -> None:
    """What the run stored, and where to look next (or, interrupted, what was kept: exit status 130)."""
    from arena.judging.autojudge import verdict_record

    if run.interrupted:
        console(stderr=True).print(
            f"interrupted: {counted(len(run.done), 'verdict')} by {run.judge} stored in {db}", markup=False
        )
        sys.exit(130)
    if as_json:
        verdicts = [verdict_record(*done) for done in run.done]
        echo_json(
            {"judge": run.judge, "prompt_version": run.prompt_version, "failed": run.failures, "verdicts": verdicts}
        )
        return
    out = console()
    out.print(
        f"{counted(len(run.done), 'verdict')} by {run.judge} stored in {db} ({run.inconsistent} inconsistent between "
        f"the two orders, counted as ties; {run.seconds_per_pair:.1f} s per pair)"
        + (f"; {run.failures} not judged (see above)" if run.failures else ""),
        markup=False,
        highlight=False,
    )
    out.print(f"Agreement with the humans: arena judges --db {db}", markup=False, highlight=False)
    out.print(f"The judge's own board: arena leaderboard --judge {run.judge} --db {db}", markup=False, highlight=False)


MAX_PROMPT_BYTES = 200_000
"""A judge prompt is a page or two; more is a wrong file (and /dev/zero never ends)."""


def _read_prompt(path: Path) -> str:
    """The judge prompt file: a regular file of at most ``MAX_PROMPT_BYTES`` (a FIFO or a device would block
    or never end), as UTF-8 text; one line otherwise."""
    try:
        if not path.is_file():
            raise ArenaError(f"--judge-prompt {path}: not a regular file")
        if path.stat().st_size > MAX_PROMPT_BYTES:
            raise ArenaError(f"--judge-prompt {path}: over {MAX_PROMPT_BYTES:,} bytes: is it the right file?")
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ArenaError(f"--judge-prompt {path}: cannot read it ({exc})") from None
