"""The contract every model backend follows, and the registry that finds backends by entry point.

Owns: ``Contestant`` (the data type a backend loads), ``Backend`` / ``Loaded`` (the protocol),
``GenerationParams``, ``Chunk``, ``GenerationResult`` and ``BackendError``. Backends import only this module
from ``arena``, so a third-party backend depends on one small, stable surface.

Backends are synchronous generators, like llm's ``Model.execute``: the battle engine runs each in a thread
and cancels it with a ``threading.Event``. Built-in backends register under the entry-point group
``arena.backends`` exactly like third-party ones, so there is one discovery path and it is always tested.
Heavy libraries (torch, transformers, llama_cpp) are imported inside ``load()``, never at module import.
"""

from __future__ import annotations

import importlib
import math
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, Literal, Protocol, TypedDict
from urllib.parse import urlencode

from arena.errors import ArenaError

ENTRY_POINT_GROUP = "arena.backends"

FinishReason = Literal["stop", "length", "cancelled", "error"]
FINISH_REASONS: tuple[FinishReason, ...] = ("stop", "length", "cancelled", "error")


class Message(TypedDict):
    """One chat message, in the OpenAI shape every backend understands."""

    role: str
    content: str


@dataclass(frozen=True)
class Contestant:
    """One model under comparison: which backend loads it, from where, with which options, under which label.

    The label is the identity in ratings, so the same weights at two quantizations are two contestants.
    Options are already validated and typed by the backend (``arena.contestants`` parses spec strings and
    arena.toml into this type; backends receive it in ``load``).
    """

    label: str
    backend: str
    target: str
    options: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @property
    def spec(self) -> str:
        """The spec string that recreates this contestant (label aside)."""
        query = urlencode({key: format_option_value(value) for key, value in sorted(self.options.items())})
        return f"{self.backend}:{self.target}" + (f"?{query}" if query else "")


def format_option_value(value: Any) -> str:
    """An option value as it is written in a spec string (``true``/``false`` for booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class BackendError(ArenaError):
    """A backend could not load or generate: missing weights, a corrupt file, a server that is down."""


@dataclass(frozen=True)
class GenerationParams:
    """Sampling settings; both sides of a battle always get the same ones.

    ``temperature == 0`` means greedy decoding. ``seed`` is per call, never process-global, so two models
    sampling at once in two threads stay reproducible.
    """

    temperature: float = 0.7
    top_p: float = 0.9
    max_tokens: int = 200
    seed: int = 0
    stop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("temperature", "top_p"):
            if not math.isfinite(getattr(self, name)):
                raise ArenaError(f"{name} must be a finite number, got {getattr(self, name)}")
        if self.temperature < 0:
            raise ArenaError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ArenaError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.max_tokens < 1:
            raise ArenaError(f"max_tokens must be >= 1, got {self.max_tokens}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stop"] = list(self.stop)
        return data


@dataclass(frozen=True)
class RenderedPrompt:
    """The exact string a model receives, and whether it came from the model's own chat template.

    Stored with every generation, because a model prompted in the wrong format (no template, double BOS)
    looks broken for reasons that have nothing to do with its weights.
    """

    text: str
    chat_template: bool | None


@dataclass(frozen=True)
class Chunk:
    """A piece of streamed output.

    ``n_tokens`` is how many model tokens the piece holds (backends that stream word-sized text report the
    true count). The last chunk of a stream may carry ``finish_reason``; a backend that does not know it
    leaves it ``None`` and the driver infers it. An empty ``text`` with ``n_tokens == 0`` is allowed for a
    final marker.
    """

    text: str
    n_tokens: int = 1
    finish_reason: FinishReason | None = None
    token_ids: tuple[int, ...] = ()
    """The model's token ids for this piece, where the backend knows them (used by ``arena parity``)."""


@dataclass(frozen=True)
class GenerationResult:
    """Everything measured about one generation; one row of the ``generations`` table."""

    text: str
    n_tokens: int
    finish_reason: FinishReason
    ttft_s: float | None = None
    tokens_per_s: float | None = None
    wall_s: float = 0.0
    peak_mem_bytes: int | None = None
    rendered_prompt: str = ""
    chat_template: bool | None = None
    """True: the model's own chat template; False: a raw completion prompt; None: unknown (a server, a replay)."""
    error: str | None = None
    token_ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class LoadedInfo:
    """What a backend resolved at load time: shown after the vote and by ``arena doctor``-like views."""

    backend: str
    target: str
    device: str | None = None
    dtype: str | None = None
    quant: str | None = None
    chat_template: bool | None = None
    n_params: int | None = None
    memory_bytes: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def describe_loaded(info: LoadedInfo) -> str:
    """What ran where, in one line: 'gguf · cpu · Q4_1 · 135M params · ctx 8192 · 272 MiB'."""
    parts = [info.backend]
    parts += [value for value in (info.device, info.dtype) if value]
    if info.quant and info.quant != info.dtype:
        parts.append(str(info.quant))
    if info.n_params:
        parts.append(_short_count(info.n_params) + " params")
    context = info.extra.get("n_ctx")
    if context:
        parts.append(f"ctx {context}")
    if info.memory_bytes:
        shared = " shared" if info.extra.get("weights_shared") else ""  # one copy serves two contestants
        parts.append(f"{info.memory_bytes / 2**20:.0f} MiB{shared}")
    if info.chat_template is False:
        parts.append("no chat template")
    return " · ".join(str(part) for part in parts)


def _short_count(number: int) -> str:
    for divisor, suffix in ((10**9, "B"), (10**6, "M"), (10**3, "K")):
        if number >= divisor:
            return f"{number / divisor:.3g}{suffix}"
    return str(number)


class Loaded(Protocol):
    """A model ready to generate. One instance may serve many prompts; it is closed once at the end."""

    def render(self, messages: Sequence[Message]) -> RenderedPrompt:
        """The exact prompt string ``stream`` will send for these messages."""
        ...

    def stream(
        self,
        messages: Sequence[Message],
        params: GenerationParams,
        cancel: threading.Event,
        prompt_id: str | None = None,
    ) -> Iterator[Chunk]:
        """Yield output chunks until done, ``max_tokens`` is reached or ``cancel`` is set.

        ``prompt_id`` ("set/id") lets backends that look outputs up by prompt (replay) find theirs; model
        backends ignore it. Raise ``BackendError`` on failure: text already yielded is kept.
        """
        ...

    def info(self) -> LoadedInfo: ...

    def peak_memory_bytes(self) -> int | None:
        """Memory of this model for the last generation, if measurable: the CUDA peak, MPS allocation, or the
        model's own weights (+ cache); never process-wide RSS, which would count the other contestant."""
        ...

    def close(self) -> None: ...


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


def can_score(loaded: object) -> bool:
    """Whether a loaded model implements ``TokenScorer``."""
    return all(
        callable(getattr(loaded, name, None)) for name in ("prompt_token_ids", "vocabulary", "next_token_logprobs")
    )


@dataclass(frozen=True)
class Option:
    """A ``key=value`` option a backend accepts in a contestant spec, with its type and a help line."""

    type: type[Any]
    help: str
    choices: tuple[str, ...] = ()
    affects_output: bool = True
    """False for options like pacing or thread count that change speed, not text (kept out of labels)."""

    def parse(self, key: str, raw: object) -> Any:
        """Convert a spec string (or a TOML value) to this option's type, or raise ArenaError."""
        value: Any
        if self.type is bool:
            if isinstance(raw, bool):
                value = raw
            elif str(raw).lower() in ("1", "true", "yes", "on"):
                value = True
            elif str(raw).lower() in ("0", "false", "no", "off"):
                value = False
            else:
                raise ArenaError(f"option {key}={raw!r}: expected true or false")
        else:
            try:
                value = self.type(raw)
            except (TypeError, ValueError):
                raise ArenaError(f"option {key}={raw!r}: expected {self.type.__name__}") from None
            if self.type is float and not math.isfinite(value):
                raise ArenaError(f"option {key}={raw!r}: expected a finite number")
        if self.choices and value not in self.choices:
            raise ArenaError(f"option {key}={raw!r}: expected one of {', '.join(self.choices)}")
        return value


class Backend(Protocol):
    """A kind of model source (replay file, transformers, GGUF, HTTP server)."""

    name: str
    description: str
    requires: tuple[str, ...]
    """Import names of the optional libraries ``load`` needs; ``arena backends`` checks they import."""
    options: Mapping[str, Option]

    def load(self, contestant: Contestant) -> Loaded: ...


def backend_entry_points() -> dict[str, EntryPoint]:
    """Installed backends by name, without importing any of them."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def get_backend(name: str) -> Backend:
    """Load the backend registered as ``name``, or raise ArenaError naming the installed ones."""
    found = backend_entry_points()
    if name not in found:
        installed = ", ".join(sorted(found)) or "none"
        raise ArenaError(f"unknown backend {name!r} (installed: {installed})")
    try:
        backend_class = found[name].load()
    except Exception as exc:  # a broken third-party plugin must not take the CLI down with a traceback
        raise ArenaError(f"backend {name!r} failed to import: {exc}") from exc
    backend: Backend = backend_class()
    return backend


def missing_requirements(backend: Backend) -> list[str]:
    """The backend's optional libraries that fail to import (imports them: only for diagnostics)."""
    missing = []
    for module in backend.requires:
        try:
            importlib.import_module(module)
        except Exception:
            missing.append(module)
    return missing


def raw_completion_prompt(messages: Sequence[Message]) -> RenderedPrompt:
    """What a model without a chat template gets: the system text and the user text, no markers.

    Marked ``chat_template=False`` so the arena flags it: a chat model prompted like this is not being
    judged on its own terms.
    """
    parts = [m["content"] for m in messages if m["role"] == "system"] + [
        m["content"] for m in messages if m["role"] == "user"
    ]
    return RenderedPrompt("\n\n".join(parts) + "\n", chat_template=False)


class StopStringFilter:
    """Cuts a stream at the first stop string, holding back only text that could start one.

    Backends feed decoded text as it arrives; ``feed`` returns what is safe to show now, ``finish`` the
    rest. Once a stop string is seen, ``stopped`` is True and nothing after it is ever returned.
    """

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = [stop for stop in stops if stop]
        self.hold = max((len(stop) for stop in self.stops), default=1) - 1
        self.pending = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        if self.stopped:
            return ""
        self.pending += text
        if not self.stops:
            out, self.pending = self.pending, ""
            return out
        cut = min((pos for pos in (self.pending.find(stop) for stop in self.stops) if pos >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            out, self.pending = self.pending[:cut], ""
            return out
        safe = len(self.pending) - self.hold
        if safe <= 0:
            return ""
        out, self.pending = self.pending[:safe], self.pending[safe:]
        return out

    def finish(self) -> str:
        out, self.pending = ("" if self.stopped else self.pending), ""
        return out


def model_cache_dir() -> Path:
    """Where backends keep files derived from models (a GGUF dequantized for transformers, a fetched model).

    ``ARENA_CACHE`` overrides the platform's user cache dir. Kept apart from the data dir (``ARENA_HOME``) so
    several databases, and every test, share one cache.
    """
    override = os.environ.get("ARENA_CACHE")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("vibe-arena", appauthor=False))
