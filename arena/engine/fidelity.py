"""Fidelity: how closely a candidate (a quantization, another engine) reproduces a reference model's
next-token distributions on the reference's own text.

Owns ``measure_fidelity`` and its result rows. The method is llama.cpp's ``llama-perplexity
--kl-divergence``: the reference answers each prompt greedily; then every model scores that exact token
sequence by teacher forcing (the reference's prompt ids and continuation for all, so every model sees the
same tokens), and per position the arena compares the two distributions: KL(reference || candidate), and
whether the most likely next token is the same ("top-1 agreement"). Votes need hundreds of battles to see
a small quantization loss; these numbers see it on a few prompts.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from arena.backend import Contestant, GenerationParams
from arena.backend.scoring import TokenScorer, can_score
from arena.engine.generation import generate
from arena.engine.pool import ModelPool
from arena.errors import ArenaError
from arena.prompts import Prompt

FloatArray = npt.NDArray[np.float64]
WORST_KEPT = 5
LOGPROB_FLOOR = -100.0
"""Log-probabilities are clipped here, so a token one model rules out entirely gives a large, finite KL."""


@dataclass(frozen=True)
class WorstPosition:
    """One position where the candidate's distribution is furthest from the reference's."""

    prompt: str
    position: int
    token: str
    kld: float
    reference_top: str
    candidate_top: str


@dataclass(frozen=True)
class PromptFidelity:
    prompt: str
    tokens: int
    top1_agreement: float
    mean_kld: float
    max_kld: float


@dataclass
class FidelityRow:
    """One candidate against the reference over all prompts."""

    contestant: str
    reference: str
    tokens: int
    top1_agreement: float
    mean_kld: float
    p99_kld: float
    max_kld: float
    reference_ppl: float
    candidate_ppl: float
    seconds: float
    per_prompt: list[PromptFidelity] = field(default_factory=list)
    worst: list[WorstPosition] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Comparison:
    """Per-position numbers for one prompt: KL, agreement of the top choices, each model's NLL of the text."""

    kld: FloatArray
    agree: npt.NDArray[np.bool_]
    reference_nll: FloatArray
    candidate_nll: FloatArray
    reference_top: npt.NDArray[np.int64]
    candidate_top: npt.NDArray[np.int64]


def compare(reference: Any, candidate: Any, continuation: Sequence[int]) -> Comparison:
    """Compare two (positions x vocabulary) log-probability arrays on the tokens that actually came next."""
    ref = np.maximum(np.asarray(reference, dtype=np.float64), LOGPROB_FLOOR)
    cand = np.maximum(np.asarray(candidate, dtype=np.float64), LOGPROB_FLOOR)
    if ref.shape != cand.shape or ref.shape[0] != len(continuation):
        raise ArenaError(f"scoring shapes differ: reference {ref.shape}, candidate {cand.shape}")
    kld = np.maximum((np.exp(ref) * (ref - cand)).sum(axis=1), 0.0)  # rounding can dip a hair below 0
    rows = np.arange(len(continuation))
    tokens = np.asarray(continuation, dtype=np.int64)
    return Comparison(
        kld=kld,
        agree=ref.argmax(axis=1) == cand.argmax(axis=1),
        reference_nll=-ref[rows, tokens],
        candidate_nll=-cand[rows, tokens],
        reference_top=ref.argmax(axis=1),
        candidate_top=cand.argmax(axis=1),
    )


def check_same_vocabulary(mine: Sequence[str], candidate: TokenScorer, label: str) -> None:
    """Teacher forcing feeds the reference's token ids to the candidate: they must spell the same text."""
    theirs = list(candidate.vocabulary())
    if list(mine) == theirs:
        return
    if len(mine) != len(theirs):
        raise ArenaError(
            f"{label} has a different tokenizer ({len(theirs)} tokens, the reference {len(mine)}); "
            "fidelity compares token by token, so it needs the same vocabulary"
        )
    first = next(index for index, (a, b) in enumerate(zip(mine, theirs, strict=True)) if a != b)
    raise ArenaError(
        f"{label} has a different tokenizer (token {first} is {theirs[first]!r}, the reference's {mine[first]!r}); "
        "fidelity compares token by token, so it needs the same vocabulary"
    )


def scorer(pool: ModelPool, contestant: Contestant) -> TokenScorer:
    loaded = pool[contestant.label]
    if not can_score(loaded):
        raise ArenaError(
            f"{contestant.label}: the {contestant.backend} backend cannot score tokens "
            "(fidelity needs hf or gguf: it reads every next-token distribution)"
        )
    return loaded  # type: ignore[return-value]


class _Tally:
    """Everything one candidate accumulates over the prompts."""

    def __init__(self) -> None:
        self.kld: list[FloatArray] = []
        self.agree = 0
        self.reference_nll = 0.0
        self.candidate_nll = 0.0
        self.per_prompt: list[PromptFidelity] = []
        self.worst: list[WorstPosition] = []
        self.seconds = 0.0

    def add(self, prompt: str, comparison: Comparison, spell: Callable[[int], str], tokens: Sequence[int]) -> None:
        self.kld.append(comparison.kld)
        self.agree += int(comparison.agree.sum())
        self.reference_nll += float(comparison.reference_nll.sum())
        self.candidate_nll += float(comparison.candidate_nll.sum())
        self.per_prompt.append(
            PromptFidelity(
                prompt=prompt,
                tokens=len(tokens),
                top1_agreement=float(comparison.agree.mean()),
                mean_kld=float(comparison.kld.mean()),
                max_kld=float(comparison.kld.max()),
            )
        )
        for position in np.argsort(-comparison.kld)[:WORST_KEPT]:
            self.worst.append(
                WorstPosition(
                    prompt=prompt,
                    position=int(position),
                    token=spell(int(tokens[position])),
                    kld=float(comparison.kld[position]),
                    reference_top=spell(int(comparison.reference_top[position])),
                    candidate_top=spell(int(comparison.candidate_top[position])),
                )
            )
        self.worst = sorted(self.worst, key=lambda worst: -worst.kld)[:WORST_KEPT]

    def row(self, contestant: str, reference: str) -> FidelityRow:
        every = np.concatenate(self.kld) if self.kld else np.zeros(0)
        count = len(every)
        return FidelityRow(
            contestant=contestant,
            reference=reference,
            tokens=count,
            top1_agreement=self.agree / count if count else math.nan,
            mean_kld=float(every.mean()) if count else math.nan,
            p99_kld=float(np.percentile(every, 99)) if count else math.nan,
            max_kld=float(every.max()) if count else math.nan,
            reference_ppl=math.exp(self.reference_nll / count) if count else math.nan,
            candidate_ppl=math.exp(min(self.candidate_nll / count, 700.0)) if count else math.nan,
            seconds=self.seconds,
            per_prompt=self.per_prompt,
            worst=self.worst,
        )


def measure_fidelity(
    reference: Contestant,
    candidates: Sequence[Contestant],
    prompts: Sequence[Prompt],
    pool: ModelPool,
    *,
    max_tokens: int,
    on_prompt: Callable[[Prompt], None] | None = None,
) -> list[FidelityRow]:
    """One row per candidate: top-1 agreement, KL(reference || candidate) mean / p99 / max, both
    perplexities on the reference's text, per prompt and the worst positions."""
    ref = scorer(pool, reference)
    scorers = {candidate.label: scorer(pool, candidate) for candidate in candidates}
    vocabulary = list(ref.vocabulary())  # read once: a GGUF's takes one call per token
    for label, candidate in scorers.items():
        check_same_vocabulary(vocabulary, candidate, label)
    size = len(vocabulary)

    def spell(token: int) -> str:
        return repr(ref.token_text(token)) if 0 <= token < size else f"<{token}>"

    tallies = {label: _Tally() for label in scorers}
    greedy = GenerationParams(temperature=0.0, top_p=1.0, max_tokens=max_tokens, seed=0)
    for prompt in prompts:
        messages = prompt.messages()
        prompt_ids = ref.prompt_token_ids(messages)
        answer = generate(pool[reference.label], messages, greedy, threading.Event(), prompt_id=prompt.uid)
        if answer.error:
            raise ArenaError(f"the reference failed on {prompt.uid}: {answer.error}")
        continuation = list(answer.token_ids or ())
        if not continuation:
            continue
        reference_logprobs = ref.next_token_logprobs(prompt_ids, continuation)
        for label, candidate in scorers.items():
            started = time.perf_counter()
            candidate_logprobs = candidate.next_token_logprobs(prompt_ids, continuation)
            tallies[label].seconds += time.perf_counter() - started
            comparison = compare(reference_logprobs, candidate_logprobs, continuation)
            tallies[label].add(prompt.uid, comparison, spell, continuation)
        if on_prompt is not None:
            on_prompt(prompt)
    return [tallies[label].row(label, reference.label) for label in scorers]
