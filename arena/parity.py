"""Parity: do two contestants that should be the same model (an HF checkpoint and its GGUF, two servers)
produce the same greedy tokens? Where they part, and whether they were even given the same prompt string,
is usually the whole story of a format mismatch (a missing chat template, a doubled BOS).

Owns ``ParityRow`` (the comparison of two greedy results) and ``run_parity``; the streams run through
``arena.generation`` like every other generation.
"""

from __future__ import annotations

import os.path
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from arena.backend import Contestant, GenerationParams, GenerationResult
from arena.generation import StreamJob, run_streams
from arena.pool import ModelPool
from arena.prompts import Prompt


@dataclass(frozen=True)
class ParityRow:
    prompt: str
    a: GenerationResult
    b: GenerationResult

    @property
    def compared_by(self) -> str:
        return "tokens" if self.a.token_ids is not None and self.b.token_ids is not None else "text"

    @property
    def diverge_at(self) -> int | None:
        """Index of the first differing token (or character, without token ids); None when identical."""
        left: Sequence[Any] = self.a.token_ids if self.compared_by == "tokens" else self.a.text  # type: ignore[assignment]
        right: Sequence[Any] = self.b.token_ids if self.compared_by == "tokens" else self.b.text  # type: ignore[assignment]
        for index, (x, y) in enumerate(zip(left, right, strict=False)):  # unequal lengths: the tail is the split
            if x != y:
                return index
        return None if len(left) == len(right) else min(len(left), len(right))

    @property
    def identical(self) -> bool:
        """Same tokens from the same prompt string: equal outputs from different prompts are luck, not parity."""
        return self.diverge_at is None and self.a.error is None and self.b.error is None and self.same_prompt

    @property
    def same_prompt(self) -> bool:
        """Equal rendered prompts; a server that renders its own (template unknown) cannot be compared."""
        if self.a.chat_template is None or self.b.chat_template is None:
            return True
        return self.a.rendered_prompt == self.b.rendered_prompt

    def continuations(self, width: int = 24) -> tuple[str, str, str]:
        """(shared text just before the split, how A goes on, how B goes on)."""
        common = os.path.commonprefix([self.a.text, self.b.text])  # noqa: RUF071 - characters are what is shown
        cut = len(common)
        return common[-width:], self.a.text[cut : cut + width], self.b.text[cut : cut + width]

    def to_dict(self) -> dict[str, Any]:
        shared, a_next, b_next = self.continuations()
        return {
            "prompt": self.prompt,
            "identical": self.identical,
            "compared_by": self.compared_by,
            "diverge_at": self.diverge_at,
            "tokens": [self.a.n_tokens, self.b.n_tokens],
            "errors": [self.a.error, self.b.error],
            "same_rendered_prompt": self.same_prompt,
            "rendered_prompts": [self.a.rendered_prompt, self.b.rendered_prompt],
            "shared_before_split": shared,
            "continuations": [a_next, b_next],
        }


def run_parity(
    a: Contestant, b: Contestant, prompts: Sequence[Prompt], pool: ModelPool, max_tokens: int
) -> list[ParityRow]:
    """Greedy, one model after the other (no contention), same prompt, same budget."""
    params = GenerationParams(temperature=0.0, top_p=1.0, max_tokens=max_tokens, seed=0)
    rows = []
    for prompt in prompts:
        jobs = [StreamJob(pool[c.label], prompt.messages(), params, prompt_id=prompt.uid) for c in (a, b)]
        result_a, result_b = run_streams(jobs, sequential=True)
        rows.append(ParityRow(prompt.uid, result_a, result_b))
    return rows
