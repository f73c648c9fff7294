"""Next-token log-probabilities for ``arena autojudge`` and ``arena fidelity`` at the cost of the tokens
that are new.

An automatic judge asks twice about one pair: the same instructions and question, then the two answers in
one order and in the other. The first call's key-value cache is kept, cut back to where the second call's
tokens depart from the first's, and only the rest is run; and the output layer (vocabulary x hidden size
per position: a tenth of a small model's work on a long prompt) runs on the rows asked for only
(``logits_to_keep``). Measured in ``bench/bench_judge_floor.py``.

A model whose cache cannot be cut back (sliding-window and hybrid caches) or whose forward takes no
``logits_to_keep`` is scored the plain way: every token, every row.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence
from typing import Any

import torch

from arena.backend.helpers import common_prefix

log = logging.getLogger(__name__)

MAX_KEPT_TOKENS = 16_384
"""A longer scoring call keeps no cache for the next (its memory is the model's to generate with)."""


def cache_argument() -> str:
    """What a model's forward calls its key-value cache: ``cache`` from transformers 5 (which warns that
    ``past_key_values``, still in its signatures, goes in 5.40), ``past_key_values`` before."""
    import transformers  # noqa: PLC0415

    major = transformers.__version__.split(".", 1)[0]
    return "cache" if major.isdigit() and int(major) >= 5 else "past_key_values"


class PrefixScorer:
    """One model's scoring calls, each reusing what the previous call's cache holds of its tokens."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.kept: tuple[list[int], Any] | None = None
        self.reuse = True
        self.keeps_logits = "logits_to_keep" in inspect.signature(model.forward).parameters
        self.cache_name = cache_argument()

    def logits(self, prompt_ids: Sequence[int], continuation_ids: Sequence[int]) -> torch.Tensor:
        """The logits of the rows that predict ``continuation_ids`` (one row each), in order."""
        tokens = [*prompt_ids, *continuation_ids]
        start = len(prompt_ids) - 1
        if self.reuse:
            try:
                return self._reusing(tokens, start, len(continuation_ids))
            except Exception as exc:  # a cache this model does not cut back, or forward kwargs it lacks
                log.info("scoring without a kept cache from now on: %s: %s", type(exc).__name__, exc)
                self.reuse, self.kept = False, None
        ids = torch.tensor([tokens], device=self.model.device)
        found: torch.Tensor = self.model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits[0]
        return found[start : start + len(continuation_ids)]

    def _reusing(self, tokens: list[int], start: int, rows: int) -> torch.Tensor:
        from transformers import DynamicCache  # noqa: PLC0415

        reused = 0
        cache: Any = DynamicCache()
        if self.kept is not None:
            reused = min(common_prefix(self.kept[0], tokens), start)  # the rows asked for are computed now
            if reused:
                cache = self.kept[1]
                surplus = cache.get_seq_length() - reused
                if surplus > 0:
                    cache.crop(-surplus)  # a count to drop: transformers 5 takes no length to keep
        self.kept = None  # cut or not, the old cache no longer says what it holds until this call ends
        ids = torch.tensor([tokens[reused:]], device=self.model.device)
        extra: dict[str, Any] = {self.cache_name: cache, "use_cache": True}
        if self.keeps_logits:
            extra["logits_to_keep"] = rows + 1
        output = self.model(input_ids=ids, **extra)
        if len(tokens) <= MAX_KEPT_TOKENS:
            self.kept = (tokens, cache)  # filled in place by the forward pass
        found: torch.Tensor = output.logits[0]
        return found[:rows] if self.keeps_logits else found[start - reused : start - reused + rows]
