"""A transformers judge scores its second order from the first order's kept cache (issue 37 item 4): the
log-probabilities must be the ones a plain forward pass over every token gives, and the second call must
run only the tokens after the shared prefix."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from arena.demo.tinymodels import TinyModels
from arena.engine.contestants import parse_spec
from arena.engine.pool import ModelPool


@pytest.mark.filterwarnings("error::FutureWarning")  # the cache under the name this transformers wants
def test_a_kept_prefix_scores_as_a_plain_forward_pass(tiny: TinyModels) -> None:
    import torch
    from arena_hf.scoring import PrefixScorer

    with ModelPool() as pool:
        pool.load_all([parse_spec(f"hf:{tiny.hf}?device=cpu", label="judge")])
        loaded: Any = pool["judge"]
        shared = loaded.prompt_token_ids([{"role": "user", "content": "Which answer is better, A or B? " * 4}])
        first, second = [*shared, 5, 6, 7, 8, 9], [*shared, 9, 8, 7]
        plain = PrefixScorer(loaded.model)
        plain.reuse = False
        ran: list[int] = []
        forward = loaded.model.forward

        def counting(*args: Any, **kwargs: Any) -> Any:
            ran.append(int(kwargs["input_ids"].shape[1]))
            return forward(*args, **kwargs)

        loaded.model.forward = counting
        try:
            kept = [loaded.next_token_logprobs(ids[:-2], ids[-2:]) for ids in (first, second)]
        finally:
            loaded.model.forward = forward
        with torch.inference_mode():
            expected = [
                torch.log_softmax(plain.logits(ids[:-2], ids[-2:])[:, : len(loaded.tokenizer)].float(), -1).numpy()
                for ids in (first, second)
            ]
    for got, want in zip(kept, expected, strict=True):
        assert got.shape == want.shape == (2, len(loaded.tokenizer))
        np.testing.assert_allclose(got, want, atol=2e-4)
    assert ran == [len(first), len(second) - len(shared)]  # the second order runs only what departs
