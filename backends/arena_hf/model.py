"""A loaded transformers model that streams with exact token counts, a private sampler and cancel.

Facts this relies on (verified, see DESIGN.md): ``generate`` ignores temperature / top_p unless
``do_sample=True`` and its global seed is shared by every thread, so sampling is done here by a logits
processor that owns a ``torch.Generator`` and leaves exactly one token possible, with ``do_sample=False``;
two models sampling at once in two threads stay reproducible. A streamer's first ``put`` is the prompt.
If ``generate`` raises in its thread the streamer must still be ended or the reader blocks forever.
"""

from __future__ import annotations

import logging
import math
import os
import queue
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LogitsProcessor, LogitsProcessorList, StoppingCriteria
from transformers.generation.streamers import BaseStreamer

from arena.backend import (
    BackendError,
    Chunk,
    Contestant,
    FinishReason,
    GenerationParams,
    LoadedBase,
    LoadedInfo,
    Message,
    RenderedPrompt,
)
from arena.backend.helpers import StopStringFilter, process_rss, raw_completion_prompt
from arena_hf import first_line
from arena_hf.scoring import PrefixScorer

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def resolve_device(requested: str) -> str:
    """auto: CUDA, then MPS, then CPU. An explicit device that torch cannot see is an error, not a fallback."""
    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise BackendError(f"device={requested} but torch sees no CUDA GPU (try device=cpu)")
    if requested == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise BackendError("device=mps but MPS is not available on this machine")
    if requested not in ("cpu", "mps") and not requested.startswith("cuda"):
        raise BackendError(f"unknown device {requested!r} (auto, cpu, cuda, cuda:N, mps)")
    return requested


def default_dtype(device: str) -> torch.dtype:
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32


def parameter_count(model: Any) -> int:
    """The model's parameters as the checkpoint counts them. bitsandbytes packs two 4-bit weights in each
    byte of a ``Params4bit`` tensor, whose ``numel`` is then half the weights (135M showed as 81.4M);
    its ``quant_state.shape`` keeps the unpacked shape."""
    total = 0
    for parameter in model.parameters():
        shape = getattr(getattr(parameter, "quant_state", None), "shape", None)
        total += int(math.prod(shape)) if shape is not None else parameter.numel()
    return total


class SeededSampler(LogitsProcessor):
    """Temperature + top-p sampling from a private generator; every other token gets -inf."""

    def __init__(self, temperature: float, top_p: float, seed: int) -> None:
        self.temperature = temperature
        self.top_p = top_p
        self.generator = torch.Generator(device="cpu").manual_seed(seed)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        logits = scores.float().cpu() / self.temperature
        probs = torch.softmax(logits, dim=-1)
        if self.top_p < 1.0:
            sorted_probs, order = torch.sort(probs, descending=True, dim=-1)
            cumulative = torch.cumsum(sorted_probs, dim=-1)
            drop = cumulative - sorted_probs > self.top_p  # keep the smallest set reaching top_p
            sorted_probs[drop] = 0.0
            probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
        choice = torch.multinomial(probs / probs.sum(dim=-1, keepdim=True), 1, generator=self.generator)
        forced = torch.full_like(scores, float("-inf"))
        forced.scatter_(-1, choice.to(scores.device), 0.0)
        return forced  # type: ignore[return-value]


class _Stop(StoppingCriteria):
    """Ends ``generate`` when ``halt`` is set; ``each_step`` runs at every token, in the generating thread."""

    def __init__(self, halt: threading.Event, each_step: Callable[[], None] | None = None) -> None:
        self.halt = halt
        self.each_step = each_step

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any) -> torch.BoolTensor:
        if self.each_step is not None:
            self.each_step()
        return torch.full((input_ids.shape[0],), self.halt.is_set(), dtype=torch.bool, device=input_ids.device)  # type: ignore[return-value]


class _CountingStreamer(BaseStreamer):
    """Receives token ids from ``generate``; hands (new text, tokens in it, ids) to the reader.

    Detokenizes incrementally: only the ids since the last shown text (plus the few before them, for
    context) are decoded each step, so the cost per token stays flat however long the answer gets.
    """

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.queue: queue.Queue[tuple[str, int, list[int]] | None] = queue.Queue()
        self.ids: list[int] = []
        self.prefix_offset = 0  # start of the decode window
        self.read_offset = 0  # ids before this index are already shown
        self.pending: list[int] = []
        self.prompt_seen = False

    def _decode(self, ids: list[int]) -> str:
        return str(self.tokenizer.decode(ids, skip_special_tokens=True))

    def put(self, value: torch.Tensor) -> None:
        if not self.prompt_seen:
            self.prompt_seen = True
            return
        new_ids = [int(token) for token in value.reshape(-1).tolist()]
        self.ids.extend(new_ids)
        self.pending.extend(new_ids)
        shown = self._decode(self.ids[self.prefix_offset : self.read_offset])
        window = self._decode(self.ids[self.prefix_offset :])
        if window.endswith("\ufffd") and len(self.pending) < 4:
            return  # an incomplete UTF-8 sequence: wait for its next byte (but never for long)
        self.queue.put((window[len(shown) :], len(self.pending), self.pending))
        self.prefix_offset = self.read_offset
        self.read_offset = len(self.ids)
        self.pending = []

    def end(self) -> None:
        if self.pending:
            # the answer ends inside a UTF-8 sequence: show it as U+FFFD, as llama.cpp's decoder does, so
            # the same tokens give the same text in both engines
            shown = self._decode(self.ids[self.prefix_offset : self.read_offset])
            window = self._decode(self.ids[self.prefix_offset :])
            self.queue.put((window[len(shown) :], len(self.pending), self.pending))
            self.pending = []
        self.queue.put(None)


@dataclass
class _Weights:
    """A loaded checkpoint and its tokenizer, and how many contestants use it."""

    model: Any
    tokenizer: Any
    users: int = 1
    grown: int | None = None
    """On the CPU: how much the process grew loading these weights and generating 4 warm-up tokens (the
    weights are paged in and the buffers allocated only then); None elsewhere or where it cannot be read."""


_SHARED: dict[tuple[object, ...], _Weights] = {}
_SHARED_LOCK = threading.Lock()
"""Contestants that differ only in how they are prompted (``template``) share one copy of the weights: the
demo (SmolLM2 with and without its template) and every "same checkpoint, other chat format" comparison
would otherwise hold the model twice. ``generate`` keeps no state on the model between calls (each call
has its own cache, sampler and streamer), so two threads generating on one copy give what each gives
alone; ``test_backends_local`` checks exactly that."""


_BNB_BLOCK_SHAPE = re.compile(r"shape '\[\d+, \d+\]' is invalid|must be divisible by block")


@contextmanager
def bnb_failures(quant: str, device: str) -> Iterator[None]:
    """bitsandbytes' 4-bit CPU kernels (0.50) fail with a bare reshape error on a layer whose weight count
    is not a multiple of their block size: said in one line with what to do, not as a traceback."""
    try:
        yield
    except (RuntimeError, AssertionError) as exc:
        if quant in ("nf4", "fp4") and device == "cpu" and _BNB_BLOCK_SHAPE.search(str(exc)):
            raise BackendError(
                f"bitsandbytes {quant} on the CPU cannot run this model ({exc}): its 4-bit CPU kernels need every "
                "layer's weight count to be a multiple of their block size (64); use quant=int8, or a GPU"
            ) from exc
        raise


class HFModel(LoadedBase):
    """One checkpoint on one device (its weights possibly shared with another contestant, see ``_SHARED``)."""

    def __init__(
        self, contestant: Contestant, model: Any, tokenizer: Any, device: str, quant: str, *, use_template: bool = True
    ) -> None:
        self.contestant = contestant
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.quant = quant
        self.template_in_tokenizer = bool(getattr(tokenizer, "chat_template", None))
        self.has_template = self.template_in_tokenizer and use_template
        self.gguf_source: Path | None = None
        eos = tokenizer.eos_token_id
        generation_eos = getattr(model.generation_config, "eos_token_id", None)
        ids = {eos} if isinstance(eos, int) else set()
        ids.update(
            generation_eos
            if isinstance(generation_eos, list)
            else [generation_eos]
            if generation_eos is not None
            else []
        )
        self.eos_ids = sorted(ids)
        self._peak: int | None = None
        self.shared_threads: int | None = None
        """This model's share of the cores now (``set_threads``), applied by the thread that generates."""
        self.weights_key: tuple[object, ...] | None = None  # its entry in ``_SHARED`` when loaded by ``load``
        self.grown: int | None = None  # the process's growth for these weights on the CPU (``_Weights.grown``)
        self.scorer = PrefixScorer(model)  # what the last scoring call left in the cache, for the next

    @classmethod
    def load(cls, contestant: Contestant) -> HFModel:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        options = contestant.options
        target = contestant.target
        local = Path(target).expanduser()
        gguf_source: Path | None = None
        if local.suffix.lower() == ".gguf":
            from arena_hf.gguf_copy import dequantized_checkpoint

            gguf_source = local
            local = dequantized_checkpoint(local)  # transformers dequantizes it once; later loads are fast
        looks_local = gguf_source is not None or target.startswith((".", "/", "~")) or local.exists()
        if looks_local and not local.is_dir():
            raise BackendError(f"model directory not found: {target}")
        source = str(local) if looks_local else target
        device = resolve_device(str(options.get("device", "auto")))
        quant = str(options.get("quant", "none"))
        dtype_name = str(options.get("dtype", "auto"))
        dtype = default_dtype(device) if dtype_name == "auto" else _DTYPES[dtype_name]
        if "threads" in options:
            torch.set_num_threads(int(options["threads"]))
        trust = bool(options.get("trust_remote_code", False))
        kwargs: dict[str, Any] = {"dtype": dtype, "trust_remote_code": trust}
        if "revision" in options:
            kwargs["revision"] = options["revision"]
        if quant != "none":
            if device == "mps":
                raise BackendError(f"quant={quant} needs CUDA or the CPU; bitsandbytes does not run on MPS")
            kwargs["quantization_config"] = _bnb_config(quant, options, dtype)
            kwargs["device_map"] = {"": device}
        # kwargs already hold the dtype, trust_remote_code, revision and bitsandbytes settings; not the template
        weights_key = (source, device, *sorted((key, str(value)) for key, value in kwargs.items()))
        with _SHARED_LOCK:  # one load at a time per key; a second contestant on the same weights reuses them
            weights = _SHARED.get(weights_key)
            if weights is not None:
                weights.users += 1
            else:
                before = process_rss() if device == "cpu" else None
                weights = _Weights(*_load_weights(target, source, kwargs, quant, device, trust))
                if before is not None:
                    weights.grown = _grown_with_warm_up(weights.model, weights.tokenizer, before)
                _SHARED[weights_key] = weights
        use_template = bool(options.get("template", True))
        loaded = cls(contestant, weights.model, weights.tokenizer, device, quant, use_template=use_template)
        loaded.gguf_source = gguf_source
        loaded.weights_key = weights_key
        loaded.grown = weights.grown
        return loaded

    # -- sharing the cores (``arena.engine.cores``)

    @property
    def shares_cores(self) -> bool:  # type: ignore[override]  # follows the device
        """On the CPU torch's threads do the work, so the model takes its share; on a GPU it needs none."""
        return self.device == "cpu"

    @property
    def threads_by_hand(self) -> int | None:  # type: ignore[override]  # read from the spec, never assigned
        by_hand = self.contestant.options.get("threads")
        return int(by_hand) if by_hand is not None else None

    def set_threads(self, threads: int) -> None:
        """Use ``threads`` from the next token on. torch's thread count belongs to the OS thread that sets it
        (with its OpenMP backend, OpenMP's and MKL's per-thread settings), so two contestants generating at
        once can have different counts, but only the thread running ``generate`` can change its own: it reads
        this at every step (``_follow_threads``). A count set by hand (``threads``) is kept."""
        if self.threads_by_hand is None:
            self.shared_threads = threads

    def _follow_threads(self) -> Callable[[], None]:
        """For the generating thread: applies the count set by hand, or the current share, when it changed."""
        applied: list[int] = []
        by_hand = self.threads_by_hand

        def follow() -> None:
            wanted = by_hand if by_hand is not None else self.shared_threads
            if wanted is None or (applied and applied[-1] == wanted):
                return
            if not applied:
                torch.get_num_threads()  # torch's first use in a thread sets the process default: get it done first
            torch.set_num_threads(wanted)
            applied.append(wanted)

        return follow

    # -- the Loaded protocol

    def render(self, messages: Sequence[Message]) -> RenderedPrompt:
        """The chat template when the tokenizer has one; else a raw completion prompt (flagged by the arena)."""
        if self.has_template:
            text = self.tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)
            return RenderedPrompt(str(text), chat_template=True)
        return raw_completion_prompt(messages)

    def _input_ids(self, rendered: RenderedPrompt) -> torch.Tensor:
        # The template already holds BOS where the model wants it: adding special tokens again doubles it.
        encoded = self.tokenizer(rendered.text, add_special_tokens=not rendered.chat_template, return_tensors="pt")
        return cast(torch.Tensor, encoded["input_ids"].to(self.model.device))

    def stream(
        self,
        messages: Sequence[Message],
        params: GenerationParams,
        cancel: threading.Event,
        prompt_id: str | None = None,
    ) -> Iterator[Chunk]:
        input_ids = self._input_ids(self.render(messages))
        halt = threading.Event()
        follow_threads = self._follow_threads() if self.shares_cores else None
        streamer = _CountingStreamer(self.tokenizer)
        stops = StopStringFilter(params.stop)
        processors = LogitsProcessorList()
        if not params.greedy:
            processors.append(SeededSampler(params.temperature, params.top_p, params.seed))
        generate_kwargs: dict[str, Any] = {
            "input_ids": input_ids,
            "attention_mask": torch.ones_like(input_ids),
            "max_new_tokens": params.max_tokens,
            "do_sample": False,
            "temperature": None,
            "top_p": None,
            "top_k": None,
            "logits_processor": processors,
            "stopping_criteria": [_Stop(halt, follow_threads)],
            "streamer": streamer,
            "pad_token_id": self.tokenizer.pad_token_id
            if self.tokenizer.pad_token_id is not None
            else self.eos_ids[0]
            if self.eos_ids
            else 0,
            "eos_token_id": self.eos_ids or None,
        }
        failure: list[BaseException] = []

        def run() -> None:
            try:
                if follow_threads is not None:
                    follow_threads()  # before the prompt's forward pass: its share, in this thread
                with torch.inference_mode(), bnb_failures(self.quant, self.device):
                    self.model.generate(**generate_kwargs)
            except BaseException as exc:
                failure.append(exc)
            finally:
                streamer.end()

        if self.device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats(self.device)
        worker = threading.Thread(target=run, name=f"hf-generate-{self.contestant.label}", daemon=True)
        worker.start()
        generated = 0
        last_id: int | None = None
        try:
            while True:
                item = streamer.queue.get()
                if item is None:
                    break
                text, count, ids = item
                generated += count
                last_id = ids[-1] if ids else last_id
                shown = stops.feed(text)
                if stops.stopped or cancel.is_set():
                    halt.set()
                yield Chunk(shown, n_tokens=count, token_ids=tuple(ids))
            tail = stops.finish()
            if tail:
                yield Chunk(tail, n_tokens=0)
        finally:
            halt.set()
            worker.join()
            self._peak = self._measure_peak()
        if failure:
            raise BackendError(f"generation failed: {first_line(failure[0])}")
        reason: FinishReason = "stop"
        if not stops.stopped and generated >= params.max_tokens and last_id not in self.eos_ids:
            reason = "length"
        yield Chunk("", n_tokens=0, finish_reason=reason)

    # -- the TokenScorer protocol (arena fidelity)

    def prompt_token_ids(self, messages: Sequence[Message]) -> list[int]:
        return [int(token) for token in self._input_ids(self.render(messages))[0].tolist()]

    def vocabulary(self) -> list[str]:
        return [str(token) for token in self.tokenizer.convert_ids_to_tokens(list(range(len(self.tokenizer))))]

    def token_text(self, token_id: int) -> str:
        return str(self.tokenizer.decode([token_id], skip_special_tokens=False))

    def next_token_logprobs(self, prompt_ids: Sequence[int], continuation_ids: Sequence[int]) -> Any:
        """One forward pass over what the previous scoring call's cache does not hold of prompt +
        continuation (``scoring.PrefixScorer``: a judge's second order reruns only from where the answers
        swap). The logits are cut to the tokenizer's vocabulary (checkpoints pad the output layer to a round
        size) and renormalized there."""
        if not prompt_ids:
            raise BackendError("scoring needs at least one prompt token")
        with torch.inference_mode(), bnb_failures(self.quant, self.device):
            logits = self.scorer.logits(prompt_ids, continuation_ids)
            rows = logits[:, : len(self.tokenizer)].float()
            return torch.log_softmax(rows, dim=-1).cpu().numpy()

    def _measure_peak(self) -> int | None:
        """The CUDA allocator's peak during this generation; elsewhere this model's own weights and buffers
        (process RSS would count the other contestant and the app too)."""
        if self.device.startswith("cuda"):
            return int(torch.cuda.max_memory_allocated(self.device))
        if self.device == "mps":
            return int(torch.mps.current_allocated_memory())
        return self.grown if self.grown is not None else int(self.model.get_memory_footprint())

    def info(self) -> LoadedInfo:
        return LoadedInfo(
            backend="hf",
            target=self.contestant.target,
            device=self.device,
            dtype=str(self.model.dtype).replace("torch.", ""),
            quant=None if self.quant == "none" else self.quant,
            chat_template=self.has_template,
            n_params=parameter_count(self.model),
            memory_bytes=self.grown if self.grown is not None else int(self.model.get_memory_footprint()),
            extra={
                **({"gguf_file": str(self.gguf_source), "dequantized": True} if self.gguf_source else {}),
                **({"template_ignored": True} if self.template_in_tokenizer and not self.has_template else {}),
                **({"weights_shared": True} if self._sharers() > 1 else {}),
                "memory": "measured" if self.grown is not None else "weights",
            },
        )

    def peak_memory_bytes(self) -> int | None:
        return self._peak

    def _sharers(self) -> int:
        """How many loaded contestants use this model's weights (1: its own)."""
        with _SHARED_LOCK:
            weights = _SHARED.get(self.weights_key) if self.weights_key is not None else None
            return weights.users if weights is not None else 1

    def close(self) -> None:
        """Let go of the weights; the last contestant using them frees them."""
        with _SHARED_LOCK:
            weights = _SHARED.get(self.weights_key) if self.weights_key is not None else None
            if weights is not None and weights.model is self.model:
                weights.users -= 1
                if weights.users == 0:
                    del _SHARED[self.weights_key]  # type: ignore[arg-type]
            self.weights_key = None
        del self.model
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _load_weights(
    target: str, source: str, kwargs: dict[str, Any], quant: str, device: str, trust: bool
) -> tuple[Any, Any]:
    """(model, tokenizer) from ``source``, on ``device``, in eval mode."""
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=trust, revision=kwargs.get("revision"))
        model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    except (OSError, ValueError, RuntimeError, ImportError) as exc:
        if "trust_remote_code" in str(exc) and not trust:
            raise BackendError(
                f"{target} ships its own Python code, which runs only with ?trust_remote_code=true "
                "(read it first; it runs with your permissions)"
            ) from exc
        raise BackendError(f"cannot load {target}: {first_line(exc)}") from exc
    if quant == "none":
        model = cast(Any, model).to(device)
    model.eval()
    return model, tokenizer


def _grown_with_warm_up(model: Any, tokenizer: Any, before: int) -> int | None:
    """The process's growth since ``before`` once the model has generated 4 tokens: loading alone leaves the
    weights mapped but not paged in (SmolLM2 fp32: 182 MiB at load, 693 after 4 tokens, 709 after 128).
    None when the warm-up fails (the weights' size is shown instead)."""
    try:
        encoded = tokenizer("Hello", return_tensors="pt")
        with torch.inference_mode():
            model.generate(**encoded.to(model.device), max_new_tokens=4, do_sample=False, pad_token_id=0)
    except Exception:  # a warm-up is for measuring only: a model that cannot do it still loads
        return None
    after = process_rss()
    return after - before if after is not None and after > before else None


def _bnb_config(quant: str, options: Any, dtype: torch.dtype) -> Any:
    try:
        import bitsandbytes  # noqa: F401
    except Exception as exc:
        raise BackendError(
            f"quant={quant} needs bitsandbytes: pip install 'vibe-arena[bnb]' ({first_line(exc)})"
        ) from exc
    from transformers import BitsAndBytesConfig

    if quant == "int8":
        return BitsAndBytesConfig(load_in_8bit=True)
    compute = _DTYPES[str(options["compute_dtype"])] if "compute_dtype" in options else dtype
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type=quant,
        bnb_4bit_compute_dtype=compute,
        bnb_4bit_use_double_quant=bool(options.get("double_quant", False)),
    )


os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# bitsandbytes int8 logs a warning on every matmul when inputs are cast; printed mid-stream it would
# scribble over the arena's screen, and the cast is expected (the dtype is shown at the reveal)
logging.getLogger("bitsandbytes.autograd._functions").addFilter(
    lambda record: "inputs will be cast" not in record.getMessage()
)
# bitsandbytes' CPU 4-bit path tries to fetch a faster kernel from the hub (no network here, and remote code
# the arena never runs) and says so on stderr: the slower built-in kernel it falls back to is what runs
logging.getLogger("bitsandbytes.backends.cpu.ops").addFilter(
    lambda record: "kernels-community" not in record.getMessage()
)
