"""A loaded GGUF model streaming token by token, with exact counts, per-call seed and cancel.

Facts this relies on (verified, see DESIGN.md): a GGUF without ``tokenizer.chat_template`` silently gets
llama-2 formatting from llama-cpp-python's chat API, so the arena renders prompts itself from the GGUF's
own template and falls back to a raw completion prompt (flagged) when there is none. ``verbose=False``
redirects file descriptors 1 and 2 while loading, which blanks a running terminal UI, so llama.cpp's log
goes to a callback instead and is shown when loading fails. Tokens are decoded with an incremental UTF-8
decoder that replaces invalid bytes, so one bad byte cannot hold the stream back until the end.
"""

from __future__ import annotations

import codecs
import contextlib
import ctypes
import io
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import llama_cpp
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

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
from arena.backend.helpers import StopStringFilter, common_prefix, process_rss, raw_completion_prompt
from arena_gguf.templates import chat_template

_LOG: deque[str] = deque(maxlen=200)
_LOG_LOCK = threading.Lock()


@llama_cpp.llama_log_callback
def _log_callback(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    with _LOG_LOCK:
        _LOG.append(text.decode("utf-8", errors="replace").rstrip("\n"))


llama_cpp.llama_log_set(_log_callback, ctypes.c_void_p(0))


def recent_log(lines: int = 6) -> str:
    with _LOG_LOCK:
        kept = [line for line in _LOG if line.strip()][-lines:]
    return " | ".join(kept)


def file_type_name(file_type: object) -> str | None:
    """GGUF's ``general.file_type`` (an enum stored as a number: 15) as its quantization's name
    (``Q4_K_M``), by llama.cpp's own constants; an unknown number stays a number."""
    if file_type is None:
        return None
    names = {
        value: name.removeprefix("LLAMA_FTYPE_").removeprefix("MOSTLY_").removeprefix("ALL_")
        for name, value in vars(llama_cpp).items()
        if name.startswith("LLAMA_FTYPE_") and isinstance(value, int)
    }
    try:
        return names.get(int(str(file_type)), str(file_type))
    except ValueError:
        return str(file_type)


def quantized(file_type: str | None) -> str | None:
    """The quantization a file type means; None for plain float weights (F32, F16, BF16)."""
    return None if file_type in (None, "F32", "F16", "BF16") else file_type


DEFAULT_CONTEXT = 4096
"""The context a GGUF model gets unless ``n_ctx`` says otherwise (or less, where the model was trained on
less): a battle's prompt, its answer budget and a few follow-up turns, and an automatic judge's two answers,
fit with room to spare. The model's own window (8k-32k) tripled the memory the reveal showed for a 270M model
(875 MiB against 331 MiB at 2k) at the same speed, so memory compared models' windows, not the models."""


WARM_UP_PROMPT = b"Hello! Please answer in one short sentence: why is the sky blue on a clear day?"


def _warm_up(llama: Any) -> None:
    """Two tokens from a short question, then a clean context: the weights are paged in and llama.cpp's buffers made
    here, not during the first battle (whose speed figures were those of a cold start, 4x slower, and go
    into the medians), and the memory measured at load includes the pages a generation touches."""
    try:
        prompt = llama.tokenize(WARM_UP_PROMPT, add_bos=True, special=False)
        for _position, _token in zip(range(2), llama.generate(prompt, temp=0.0), strict=False):
            pass
        llama.reset()
    except Exception:  # a warm-up is for measuring only: a model that cannot do it still loads
        llama.reset()


class GGUFModel(LoadedBase):
    shares_cores = True
    """llama.cpp decodes on this machine's cores and changes its thread count between decode calls."""

    def __init__(self, contestant: Contestant, llama: Any, load_growth: int | None = None) -> None:
        self.contestant = contestant
        self.threads_by_hand = contestant.options.get("n_threads")
        self.llama = llama
        self.load_growth = load_growth
        """How much the process grew while llama.cpp built this model (weights, KV cache, compute buffers,
        allocator overhead), where it could be read; None: see ``model_memory_bytes``."""
        self.template_in_file: str | None = llama.metadata.get("tokenizer.chat_template")
        use_template = bool(contestant.options.get("template", True))
        self.template: str | None = self.template_in_file if use_template else None
        self.template_given: str | None = None
        """How the chat template given with ``?chat_template=`` is named (None: the file's own is used)."""
        given = contestant.options.get("chat_template")
        if given is not None:
            if not use_template:
                raise BackendError("template=false and chat_template ask for opposite things: choose one")
            self.template, self.template_given = chat_template(str(given))
            try:
                Jinja2ChatFormatter(self.template, eos_token="", bos_token="")
            except Exception as exc:  # a Jinja syntax error: one line, at load
                said = (str(exc).splitlines() or [type(exc).__name__])[0]
                raise BackendError(f"chat_template={given}: not a valid template ({said})") from None
        self.bos_text = self._token_text(llama.token_bos())
        self.eos_text = self._token_text(llama.token_eos())
        self.lock = threading.Lock()
        self.scored: list[int] = []
        """The tokens the context's cache holds from the last scoring call (empty after a generation)."""

    def is_end(self, token: int) -> bool:
        """EOS or any other end-of-generation token the vocab declares (EOT, <|im_end|>, ...)."""
        return bool(llama_cpp.llama_vocab_is_eog(self.llama._model.vocab, token))

    def set_threads(self, threads: int) -> None:
        """Use ``threads`` from the next decode call on (``arena.engine.cores`` shares the cores between the
        models generating at once); a count set by hand in the spec (``n_threads``) is kept."""
        if self.threads_by_hand is not None:
            return
        llama_cpp.llama_set_n_threads(self.llama._ctx.ctx, threads, threads)

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return bytes(self.llama.detokenize([token], special=True)).decode("utf-8", errors="replace")

    @classmethod
    def load(cls, contestant: Contestant) -> GGUFModel:
        options = contestant.options
        asked = options.get("n_ctx")
        kwargs: dict[str, Any] = {
            "n_gpu_layers": int(options.get("n_gpu_layers", 0)),
            "n_ctx": DEFAULT_CONTEXT if asked is None else int(asked),
            "verbose": True,  # see the module docstring: False would redirect fds 1 and 2
        }
        if "n_threads" in options:
            kwargs["n_threads"] = int(options["n_threads"])
        target = contestant.target
        path = Path(target).expanduser()
        captured = io.StringIO()  # llama-cpp-python's own Python-side chatter (metadata dumps)
        before = process_rss()  # models load one at a time: the growth is this one's
        try:
            with contextlib.redirect_stderr(captured):
                if "filename" in options:
                    llama = llama_cpp.Llama.from_pretrained(repo_id=target, filename=str(options["filename"]), **kwargs)
                else:
                    if not path.is_file():
                        raise BackendError(f"GGUF file not found: {target}")
                    llama = llama_cpp.Llama(model_path=str(path), **kwargs)
                if (
                    asked is None and llama_cpp.llama_model_n_ctx_train(llama._model.model) < DEFAULT_CONTEXT
                ):  # a model trained on less: its own
                    kwargs["n_ctx"] = 0
                    llama.close()
                    llama = (
                        llama_cpp.Llama.from_pretrained(repo_id=target, filename=str(options["filename"]), **kwargs)
                        if "filename" in options
                        else llama_cpp.Llama(model_path=str(path), **kwargs)
                    )
        except BackendError:
            raise
        except Exception as exc:
            detail = recent_log()
            raise BackendError(f"cannot load {target}: {exc}" + (f" (llama.cpp: {detail})" if detail else "")) from exc
        _warm_up(llama)
        after = process_rss()
        llama.verbose = False  # past loading, verbose only prints to stderr (no fd redirection is left)
        grown = after - before if before is not None and after is not None and after > before else None
        return cls(contestant, llama, load_growth=grown)

    # -- the Loaded protocol

    def render(self, messages: Sequence[Message]) -> RenderedPrompt:
        if self.template:
            formatter = Jinja2ChatFormatter(self.template, eos_token=self.eos_text, bos_token=self.bos_text)
            return RenderedPrompt(formatter(messages=list(messages)).prompt, chat_template=True)  # type: ignore[arg-type]
        return raw_completion_prompt(messages)

    def _tokens(self, rendered: RenderedPrompt) -> list[int]:
        """Prompt tokens without a second BOS: when the template already wrote one, llama.cpp must not add it.

        Otherwise ``add_bos=True`` lets the vocab decide, as llama.cpp does for a raw completion.
        """
        add_bos = not (self.bos_text and rendered.text.startswith(self.bos_text))
        return list(self.llama.tokenize(rendered.text.encode("utf-8"), add_bos=add_bos, special=True))

    def stream(
        self,
        messages: Sequence[Message],
        params: GenerationParams,
        cancel: threading.Event,
        prompt_id: str | None = None,
    ) -> Iterator[Chunk]:
        tokens = self._tokens(self.render(messages))
        room = self.llama.n_ctx() - len(tokens)
        if room <= 0:
            raise BackendError(
                f"the prompt has {len(tokens)} tokens; the context holds {self.llama.n_ctx()} (raise n_ctx)"
            )
        budget = min(params.max_tokens, room)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        stops = StopStringFilter(params.stop)
        generated = 0
        reason: FinishReason = "stop"
        with self.lock:  # one llama context cannot serve two generations at once
            self.scored = []  # the generation below rewrites the cache
            self.llama.set_seed(params.seed)
            for token in self.llama.generate(
                tokens,
                temp=params.temperature,
                top_p=params.top_p,
                top_k=0,
                min_p=0.0,
                repeat_penalty=1.0,
            ):
                generated += 1
                if self.is_end(token):  # counted like any generated token, as transformers does
                    yield Chunk("", n_tokens=1, token_ids=(token,))
                    break
                piece = bytes(self.llama.detokenize([token], prev_tokens=None, special=False))
                shown = stops.feed(decoder.decode(piece))
                yield Chunk(shown, n_tokens=1, token_ids=(token,))
                if stops.stopped or cancel.is_set():
                    break
                if generated >= budget:
                    reason = "length"
                    break
        tail = stops.feed(decoder.decode(b"", final=True)) + stops.finish()
        if tail:
            yield Chunk(tail, n_tokens=0)
        yield Chunk("", n_tokens=0, finish_reason=reason)

    # -- the TokenScorer protocol (arena fidelity)

    def prompt_token_ids(self, messages: Sequence[Message]) -> list[int]:
        return self._tokens(self.render(messages))

    def vocabulary(self) -> list[str]:
        vocab = self.llama._model.vocab
        return [
            bytes(llama_cpp.llama_vocab_get_text(vocab, token)).decode("utf-8", errors="replace")
            for token in range(self.llama.n_vocab())
        ]

    def token_text(self, token_id: int) -> str:
        return self._token_text(token_id)

    def next_token_logprobs(self, prompt_ids: Sequence[int], continuation_ids: Sequence[int]) -> Any:
        """Decode prompt + continuation in batches, asking llama.cpp for the logits of only the rows that
        predict the continuation (the output layer is the costly part of a long prompt: 49k x 576 per
        position for SmolLM2). ``Llama(logits_all=True)`` would allocate n_ctx x vocabulary floats up front
        (1.6 GB at an 8k context).

        What the cache already holds from the previous scoring call is kept up to the first token that
        differs: ``arena autojudge`` asks twice with the same instructions and question and the answers
        swapped, and ``arena fidelity`` scores several continuations of one prompt. A generation in between
        invalidates it (``stream`` forgets it). Uses llama-cpp-python's batch and context objects as its own
        ``eval`` does (0.3.x)."""
        import numpy as np

        tokens = [*prompt_ids, *continuation_ids]
        if not prompt_ids:
            raise BackendError("scoring needs at least one prompt token")
        if len(tokens) > self.llama.n_ctx():
            raise BackendError(f"{len(tokens)} tokens to score; the context holds {self.llama.n_ctx()} (raise n_ctx)")
        n_vocab = self.llama.n_vocab()
        start = len(prompt_ids) - 1
        kept = np.empty((len(continuation_ids), n_vocab), dtype=np.float32)
        with self.lock:
            llama = self.llama
            llama.reset()
            reused = min(common_prefix(self.scored, tokens), start)  # rows kept are decoded now
            self.scored = []
            llama._ctx.kv_cache_seq_rm(-1, reused, -1)
            for begin in range(reused, len(tokens), llama.n_batch):
                batch = tokens[begin : begin + llama.n_batch]
                llama._batch.set_batch(batch=batch, n_past=begin, logits_all=False)
                first = max(start, begin)
                last = min(start + len(continuation_ids), begin + len(batch))
                for index in range(len(batch)):
                    llama._batch.batch.logits[index] = first <= begin + index < last
                llama._ctx.decode(llama._batch)
                if first < last:
                    rows = last - first
                    logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(rows * n_vocab,))
                    kept[first - start : last - start] = logits.reshape(rows, n_vocab)
            self.scored = tokens  # in the cache now; llama's own eval clears it before a generation
        shifted = kept.astype(np.float64) - kept.max(axis=1, keepdims=True)
        return (shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))).astype(np.float32)

    def info(self) -> LoadedInfo:
        metadata = self.llama.metadata
        return LoadedInfo(
            backend="gguf",
            target=self.contestant.target,
            device="gpu" if int(self.contestant.options.get("n_gpu_layers", 0)) != 0 else "cpu",
            dtype=file_type_name(metadata.get("general.file_type")),
            quant=quantized(file_type_name(metadata.get("general.file_type"))),
            chat_template=bool(self.template),
            n_params=int(llama_cpp.llama_model_n_params(self.llama._model.model)),
            memory_bytes=self.memory()[0],
            extra={
                "n_ctx": self.llama.n_ctx(),
                "memory": self.memory()[1],
                "architecture": metadata.get("general.architecture"),
                **({"template_ignored": True} if self.template_in_file and not self.template else {}),
                **({"chat_template_given": self.template_given} if self.template_given else {}),
            },
        )

    def model_memory_bytes(self) -> int:
        """This model's own memory: its weights plus the KV cache llama.cpp allocates for the context.

        The cache is computed from the shape (layers x context x K and V heads x head size, f16), which is
        what llama.cpp allocates by default; process RSS would count the other contestant too.
        """
        model = self.llama._model.model
        weights = int(llama_cpp.llama_model_size(model))
        layers = int(llama_cpp.llama_model_n_layer(model))
        heads = max(int(llama_cpp.llama_model_n_head(model)), 1)
        head_size = int(llama_cpp.llama_model_n_embd(model)) // heads
        kv_heads = int(llama_cpp.llama_model_n_head_kv(model))
        cache = layers * int(self.llama.n_ctx()) * 2 * kv_heads * head_size * 2
        return weights + cache

    def memory(self) -> tuple[int, str]:
        """What this model costs the process, and how that was found: the growth measured at load (within
        a few percent of the growth after generating, tested), else weights + KV cache computed from the
        shapes (which leaves out compute buffers and allocator overhead: 8-14% under, measured)."""
        if self.load_growth is not None:
            return self.load_growth, "measured"
        return self.model_memory_bytes(), "computed"

    def peak_memory_bytes(self) -> int | None:
        return self.memory()[0]

    def close(self) -> None:
        self.llama.close()
