"""A reward model through transformers: a sequence-classification checkpoint (one output) that scores a
conversation ending in an answer, for an automatic judge (``arena autojudge --judge reward:hf:PATH``).

The answer is rendered with the checkpoint's own chat template (its last message the assistant's), as
reward models are trained; without a template, the plain layout the arena uses for raw prompts. One forward
pass per answer, no generation.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from arena.backend import BackendError, Contestant, Message
from arena.backend.helpers import raw_completion_prompt
from arena_hf import first_line
from arena_hf.model import _DTYPES, default_dtype, resolve_device


class RewardModel:
    """One loaded reward model (an ``arena.backend.scoring.AnswerScorer``)."""

    def __init__(self, model: Any, tokenizer: Any, device: str) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.template = bool(getattr(tokenizer, "chat_template", None))

    @classmethod
    def load(cls, contestant: Contestant) -> RewardModel:
        options = contestant.options
        if str(options.get("quant", "none")) != "none":
            raise BackendError("a reward model loads unquantized here: leave out quant=")
        local = Path(contestant.target).expanduser()
        looks_local = contestant.target.startswith((".", "/", "~")) or local.exists()
        if looks_local and not local.is_dir():
            raise BackendError(f"reward model directory not found: {contestant.target}")
        source = str(local) if looks_local else contestant.target
        device = resolve_device(str(options.get("device", "auto")))
        dtype_name = str(options.get("dtype", "auto"))
        kwargs: dict[str, Any] = {
            "dtype": default_dtype(device) if dtype_name == "auto" else _DTYPES[dtype_name],
            "trust_remote_code": bool(options.get("trust_remote_code", False)),
        }
        if "revision" in options:
            kwargs["revision"] = options["revision"]
        try:
            tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
            model = AutoModelForSequenceClassification.from_pretrained(source, **kwargs).to(device)
        except (OSError, ValueError) as exc:
            raise BackendError(f"cannot load the reward model {contestant.target}: {first_line(exc)}") from None
        if int(getattr(model.config, "num_labels", 1)) != 1:
            raise BackendError(
                f"{contestant.target} is a classifier with {model.config.num_labels} outputs, not a reward model (1)"
            )
        if model.config.pad_token_id is None:  # a batch of one needs no padding, but transformers asks for it
            model.config.pad_token_id = tokenizer.eos_token_id
        model.eval()
        return cls(model, tokenizer, device)

    def render(self, messages: Sequence[Message]) -> str:
        if self.template:
            return str(self.tokenizer.apply_chat_template(list(messages), tokenize=False))
        return raw_completion_prompt(messages).text

    def score(self, messages: Sequence[Message]) -> float:
        inputs = self.tokenizer(self.render(messages), return_tensors="pt", add_special_tokens=not self.template)
        with torch.inference_mode():
            logits = self.model(**{key: value.to(self.device) for key, value in inputs.items()}).logits
        return float(logits[0, 0].float())

    def close(self) -> None:
        del self.model
