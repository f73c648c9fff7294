"""The optional protocol of a loaded model that can score given tokens (teacher forcing, ``arena fidelity``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from arena.backend import Message


class TokenScorer(Protocol):
    """A loaded model that can also score a given token sequence, for ``arena fidelity``.

    Optional: a ``Loaded`` with these three methods can be measured against another; ``can_score`` tells.
    Teacher forcing needs the same token ids to mean the same text in both models, hence ``vocabulary``.
    """

    def prompt_token_ids(self, messages: Sequence[Message]) -> list[int]:
        """The exact ids ``stream`` feeds the model for these messages (rendered prompt, BOS rule applied)."""
        ...

    def vocabulary(self) -> Sequence[str]:
        """Each token id's text as the tokenizer spells it (``Ġthe``, ``<0x0A>``), in id order."""
        ...

    def token_text(self, token_id: int) -> str:
        """One token as the text it stands for (`` the``), for showing where two models part."""
        ...

    def next_token_logprobs(self, prompt_ids: Sequence[int], continuation_ids: Sequence[int]) -> Any:
        """A float32 array of shape (len(continuation_ids), len(vocabulary())): row i is the log-probability
        of every token coming next after ``prompt_ids + continuation_ids[:i]``, from one teacher-forced pass."""
        ...


class AnswerScorer(Protocol):
    """A reward model: one score per conversation that ends in an answer, higher for a better answer.

    Loaded by a backend that declares ``Capabilities.reward_models`` (``Backend.load_reward``); an automatic
    judge built on it scores each side once, so it has no position bias (``arena autojudge --judge
    reward:hf:PATH``)."""

    def score(self, messages: Sequence[Message]) -> float:
        """The reward of the last (assistant) message, given the conversation before it."""
        ...

    def close(self) -> None: ...


def can_score(loaded: object) -> bool:
    """Whether a loaded model implements ``TokenScorer``."""
    return all(
        callable(getattr(loaded, name, None)) for name in ("prompt_token_ids", "vocabulary", "next_token_logprobs")
    )
