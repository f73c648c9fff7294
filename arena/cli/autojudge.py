"""``arena autojudge``: a model judges the stored answer pairs, in both orders; its verdicts are votes by
``auto:LABEL``, kept apart from the humans'."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from arena.cli.common import (
    _check_db_file,
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
    from arena.judging.autojudge import AutoVerdict, JudgeItem


@click.command()
@click.option("--judge", "judge_spec", required=True, metavar="SPEC", help="The judging model, as a contestant spec.")
@click.option("--label", help="Its name: verdicts are stored as judge auto:LABEL (default: the spec's label).")
@db_option
@click.option("--session", type=int, help="Only the battles voted in this session.")
@click.option("--batch", "batch_session", type=int, help="Judge the pairs of this batch session's answers instead.")
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
        check_template,
        items_to_judge,
        judge_for,
        judge_item,
        prompt_version,
    )
    from arena.store import writes
    from arena.store.settings import ContestantRef, SessionSettings

    if session is not None and batch_session is not None:
        raise ArenaError("--session and --batch choose what is judged: give one")
    template = check_template(_read_prompt(prompt_file)) if prompt_file is not None else DEFAULT_PROMPT
    (contestant,) = resolve_contestants(
        [judge_spec], [label] if label else [], config_path, trust_config_code=trust_remote_code
    )
    judge = auto_judge(label or contestant.label)
    _check_db_file(db_path, must_exist=True)
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
        load_models(pool, [contestant], lambda c: f"loading the judge {c.label} ({c.backend})")
        judging = judge_for(pool[contestant.label])
        version = prompt_version(template)
        run = writes.start_session(
            store,
            "autojudge",
            judge=judge,
            settings=SessionSettings(
                contestants=(ContestantRef(spec=contestant.spec, label=contestant.label),),
                source=f"judge prompt {version}",
            ),
        )
        done: list[tuple[JudgeItem, AutoVerdict]] = []
        failures = 0
        with progress_bar(eta=True, transient=as_json) as progress:
            task = progress.add_task(f"{judge}: {counted(len(items), 'pair')}, both orders", total=len(items))
            try:
                for item in items:
                    try:
                        verdict = judge_item(judging, template, item)
                    except ArenaError as exc:  # a backend's failure too (BackendError): one line, the run goes on
                        failures += 1
                        progress.console.print(f"{item.prompt}: not judged: {exc}", markup=False, highlight=False)
                        progress.advance(task)
                        continue
                    writes.record_battle(
                        store,
                        session=run,
                        prompt=item.prompt,
                        left_generation=item.left_generation,
                        right_generation=item.right_generation,
                        left_contestant=item.left_label,
                        right_contestant=item.right_label,
                        verdict=verdict.verdict,
                        judge=judge,
                        vote_s=verdict.seconds,
                        auto=writes.AutoVerdictRow(
                            contestant.spec,
                            version,
                            verdict.consistent,
                            verdict.first.to_dict(),
                            verdict.second.to_dict(),
                        ),
                    )
                    done.append((item, verdict))
                    progress.advance(task)
            except KeyboardInterrupt:
                progress.stop()
                err.print(
                    f"interrupted: {counted(len(done), 'verdict')} by {judge} stored in {store.path}", markup=False
                )
                sys.exit(130)
    if as_json:
        echo_json(
            {"judge": judge, "prompt_version": version, "failed": failures, "verdicts": [_as_dict(*d) for d in done]}
        )
        return
    inconsistent = sum(1 for _, verdict in done if not verdict.consistent)
    seconds = sum(verdict.seconds for _, verdict in done) / len(done) if done else 0.0
    out = console()
    out.print(
        f"{counted(len(done), 'verdict')} by {judge} stored in {store.path} ({inconsistent} inconsistent between the "
        f"two orders, counted as ties; {seconds:.1f} s per pair)"
        + (f"; {failures} not judged (see above)" if failures else ""),
        markup=False,
        highlight=False,
    )
    out.print(f"Agreement with the humans: arena judges --db {store.path}", markup=False, highlight=False)
    out.print(
        f"The judge's own board: arena leaderboard --judge {judge} --db {store.path}", markup=False, highlight=False
    )


def _read_prompt(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ArenaError(f"--judge-prompt {path}: cannot read it ({exc})") from None


def _as_dict(item: JudgeItem, verdict: AutoVerdict) -> dict[str, Any]:
    return {
        "prompt": item.prompt,
        "left": item.left_label,
        "right": item.right_label,
        "left_generation": item.left_generation,
        "right_generation": item.right_generation,
        "verdict": verdict.verdict,
        "consistent": verdict.consistent,
        "left_as_a": verdict.first.to_dict(),
        "left_as_b": verdict.second.to_dict(),
        "seconds": round(verdict.seconds, 3),
    }
