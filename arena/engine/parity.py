"""Parity: do two contestants that should be the same model (an HF checkpoint and its GGUF, two servers)
produce the same greedy tokens? Where they part, and whether they were even given the same prompt string,
is usually the whole story of a format mismatch (a missing chat template, a doubled BOS).

Owns ``ParityRow`` (the comparison of two greedy results) and ``run_parity``; the streams run through
``arena.engine.generation`` like every other generation.
"""

from __future__ import annotations

import os.path
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from arena.backend import Contestant, GenerationParams, GenerationResult
from arena.backend.scoring import can_score
from arena.engine.generation import StreamJob, run_streams
from arena.engine.pool import ModelPool
from arena.prompts import Prompt


@dataclass(frozen=True)
class ParityRow:
    prompt: str
    a: GenerationResult
    b: GenerationResult
    prompt_ids: tuple[list[int], list[int]] | None = None
    """Each side's prompt token ids, where both backends can tell (hf, gguf)."""
    prompt_tokens: tuple[str, str] | None = None
    """The two tokens where the prompt ids first differ, as text (None when they agree or are unknown)."""

    @property
    def prompt_ids_differ_at(self) -> int | None:
        """Index of the first differing prompt token id: same prompt text, different tokens is a tokenizer
        conversion bug (a merge lost, a special token split); None when they agree or are unknown."""
        if self.prompt_ids is None:
            return None
        left, right = self.prompt_ids
        for index, (x, y) in enumerate(zip(left, right, strict=False)):
            if x != y:
                return index
        return None if len(left) == len(right) else min(len(left), len(right))

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
        """Same tokens from the same prompt string and prompt ids: equal outputs from different prompts are
        luck, not parity."""
        return (
            self.diverge_at is None
            and self.a.error is None
            and self.b.error is None
            and self.same_prompt
            and self.prompt_ids_differ_at is None
        )

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
            "prompt_ids_differ_at": self.prompt_ids_differ_at,
            "prompt_tokens_at_difference": None if self.prompt_tokens is None else list(self.prompt_tokens),
            "texts": [self.a.text, self.b.text],
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
        row = ParityRow(prompt.uid, result_a, result_b, prompt_ids=_prompt_ids(pool, a, b, prompt))
        at = row.prompt_ids_differ_at
        if at is not None and row.prompt_ids is not None:
            row = replace(row, prompt_tokens=_tokens_at(pool, a, b, row.prompt_ids, at))
        rows.append(row)
    return rows


def _prompt_ids(pool: ModelPool, a: Contestant, b: Contestant, prompt: Prompt) -> tuple[list[int], list[int]] | None:
    loaded_a, loaded_b = pool[a.label], pool[b.label]
    if not (can_score(loaded_a) and can_score(loaded_b)):
        return None
    messages = prompt.messages()
    return (
        loaded_a.prompt_token_ids(messages),  # type: ignore[attr-defined]
        loaded_b.prompt_token_ids(messages),  # type: ignore[attr-defined]
    )


def _tokens_at(
    pool: ModelPool, a: Contestant, b: Contestant, ids: tuple[list[int], list[int]], at: int
) -> tuple[str, str]:
    """Each side's token at the first difference, as text ('(end)' where one prompt is shorter)."""
    spelled = []
    for contestant, side in zip((a, b), ids, strict=True):
        loaded = pool[contestant.label]
        spelled.append(repr(loaded.token_text(side[at])) if at < len(side) else "(end)")  # type: ignore[attr-defined]
    return spelled[0], spelled[1]
