"""``arena fidelity``: the objective half of "which quantization should I run?" (see ``arena.engine.fidelity``)."""

from __future__ import annotations

from pathlib import Path

import click

from arena.cli.common import (
    config_option,
    console,
    db_option,
    echo_json,
    load_models,
    open_store,
    passing_bar,
    trust_remote_code_option,
)
from arena.errors import ArenaError

SHOW_WORST_FROM = 0.01
"""A candidate whose largest KL is below this matches the reference everywhere; its 'worst' is noise."""


@click.command()
@click.argument("reference")
@click.argument("candidates", nargs=-1, required=True)
@click.option(
    "--prompts", "prompt_set", default="everyday", show_default=True, help="Prompt set name or .toml/.jsonl path."
)
@click.option("--limit", type=click.IntRange(min=1), help="Only the first N prompts.")
@click.option(
    "--max-tokens",
    type=click.IntRange(min=1, max=4096),
    default=128,
    show_default=True,
    help="Length of the reference's greedy answer that every model scores.",
)
@click.option("--label", "labels", multiple=True, help="Labels for REFERENCE and each CANDIDATE, in order.")
@config_option
@trust_remote_code_option
@db_option
@click.option("--no-store", is_flag=True, help="Do not write the results to the database.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of rows, one per candidate.")
def fidelity(
    reference: str,
    candidates: tuple[str, ...],
    prompt_set: str,
    limit: int | None,
    max_tokens: int,
    labels: tuple[str, ...],
    config_path: Path | None,
    trust_remote_code: bool,
    db_path: Path,
    no_store: bool,
    as_json: bool,
) -> None:
    """How closely each CANDIDATE reproduces REFERENCE's next-token distributions.

    REFERENCE (e.g. the full-precision checkpoint) answers every prompt greedily; then each model scores
    that exact token sequence, and per candidate the arena reports top-1 agreement, KL(reference ||
    candidate) mean / p99 / max, both perplexities on the reference's text, and the worst positions.
    Works with hf and gguf contestants that share one tokenizer. Results are stored beside the votes
    (the report and the arena's reveal show them) unless --no-store.

    \b
      arena fidelity hf:./ckpt 'hf:./ckpt?quant=int8' 'hf:./ckpt?quant=nf4' gguf:./ckpt-Q4_K_M.gguf
    """
    from arena.engine.contestants import resolve_contestants
    from arena.engine.fidelity import measure_fidelity
    from arena.engine.pool import ModelPool
    from arena.present.runs import fidelity_table, fidelity_worst_table
    from arena.prompts import load_prompt_set

    specs = [reference, *candidates]
    contestants = resolve_contestants(specs, labels, config_path, trust_config_code=trust_remote_code)
    prompts = load_prompt_set(prompt_set)
    selected = prompts.prompts[:limit] if limit else prompts.prompts
    store = None if no_store else open_store(db_path)  # a bad --db fails before any model loads
    with ModelPool() as pool:
        load_models(pool, contestants, lambda c: f"loading {c.label} ({c.backend})")
        with passing_bar() as progress:
            task = progress.add_task(f"scoring {len(candidates)} against {contestants[0].label}", total=len(selected))
            rows = measure_fidelity(
                contestants[0],
                contestants[1:],
                selected,
                pool,
                max_tokens=max_tokens,
                on_prompt=lambda _prompt: progress.advance(task),
            )
    if not rows or rows[0].tokens == 0:
        raise ArenaError("the reference produced no tokens to score on these prompts")
    if store is not None:
        from arena.store import writes

        with store:
            for row, contestant in zip(rows, contestants[1:], strict=True):
                writes.record_fidelity(
                    store,
                    row,
                    reference_spec=contestants[0].spec,
                    contestant_spec=contestant.spec,
                    prompt_set=prompts.name,
                    prompts=len(selected),
                    max_tokens=max_tokens,
                )
    if as_json:
        echo_json([row.to_dict() for row in rows])
        return
    out = console()
    out.print(fidelity_table(rows, out.width))
    for row in rows:
        if row.worst and row.max_kld >= SHOW_WORST_FROM:
            out.print(fidelity_worst_table(row, out.width))
    if store is not None:
        out.print(f"stored in {store.path}; `arena report` shows it beside the votes", style="dim")
