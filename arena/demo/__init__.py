"""``arena demo``: its contestants, sampling and intro text; ``tinymodels`` builds the local models.

Owns everything the demo needs and nothing the core depends on (the core never imports ``arena.demo``;
tests use ``arena.demo.tinymodels`` to build real models in seconds). The demo's two contestants are tiny
llamas trained locally for different lengths of time.

Built once (about a minute on two cores) and cached; only torch and transformers are needed, so the
README's first command installs no compiler-heavy extra. They differ on purpose: the longer-trained one
half-remembers sensible answers, the briefly trained one babbles, and the flags catch both.
"""

from __future__ import annotations

from pathlib import Path

from arena.backend import Contestant, GenerationParams
from arena.contestants import parse_spec
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
DEMO_PARAMS = GenerationParams(temperature=0.7, top_p=0.9, max_tokens=120, seed=0)
DEMO_INTRO = (
    "Welcome to vibe-arena.\n\n"
    "The two models you are about to judge are tiny llamas (a few hundred thousand parameters) that were just "
    "built on this machine: a tokenizer and weights trained for a few seconds on the arena's own example answers. "
    "One was trained about five times longer than the other. Neither is any good, which is the point: watch them "
    "loop, babble and break the prompts' constraints, vote blind, and see what the flags found.\n\n"
    "Your votes go to {db}. To compare real models the same way:\n\n"
    "arena play --model hf:Qwen/Qwen2.5-0.5B-Instruct --model 'hf:Qwen/Qwen2.5-0.5B-Instruct?quant=nf4'\n"
    "arena play --model gguf:./model-Q4_K_M.gguf --model 'openai:http://127.0.0.1:8000/v1?model=NAME'"
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
