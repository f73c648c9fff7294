"""The contract every model backend follows: the plugin surface.

Owns: ``Contestant`` (the data type a backend loads), ``Backend`` / ``Loaded`` (the protocol),
``GenerationParams``, ``Chunk``, ``GenerationResult`` and ``BackendError``. Backends import only this package
from ``arena`` (``registry`` finds them by entry point, ``helpers`` holds what several backends share,
``scoring`` the optional teacher-forcing protocol), so a third-party backend depends on one small, stable surface.

Backends are synchronous generators, like llm's ``Model.execute``: the battle engine runs each in a thread
and cancels it with a ``threading.Event``. Built-in backends register under the entry-point group
``arena.backends`` exactly like third-party ones, so there is one discovery path and it is always tested.
Heavy libraries (torch, transformers, llama_cpp) are imported inside ``load()``, never at module import.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypedDict
from urllib.parse import urlencode

from arena.errors import ArenaError
from arena.vocab import FINISH_REASONS, FinishReason

if TYPE_CHECKING:
    from arena.backend.scoring import AnswerScorer

__all__ = [
    "FINISH_REASONS",
    "Backend",
    "BackendBase",
    "BackendError",
    "Capabilities",
    "Chunk",
    "Contestant",
    "FinishReason",
    "GenerationParams",
    "GenerationResult",
    "Loaded",
    "LoadedBase",
    "LoadedInfo",
    "Message",
    "Option",
    "RenderedPrompt",
    "format_option_value",
]


class Message(TypedDict):
    """One chat message, in the OpenAI shape every backend understands."""

    role: str
    content: str


@dataclass(frozen=True)
class Contestant:
    """One model under comparison: which backend loads it, from where, with which options, under which label.

    The label is the identity in ratings, so the same weights at two quantizations are two contestants.
    Options are already validated and typed by the backend (``arena.engine.contestants`` parses spec strings and
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


MAX_TOKENS = 1_000_000
"""More tokens than any model here can hold in its context: a larger budget is a typo."""


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
        if not 1 <= self.max_tokens <= MAX_TOKENS:
            raise ArenaError(f"max_tokens must be between 1 and {MAX_TOKENS:,}, got {self.max_tokens}")

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
    served: Mapping[str, str] | None = None
    """What an engine said it ran (``model``, ``system_fingerprint``), where it says: the last one sent wins."""


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
    served: Mapping[str, str] | None = None
    """What the engine said it ran for this answer (its model id, ``system_fingerprint``): answers generated on
    several machines and merged stay honest about which build made them. None where nothing was said."""


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


class Loaded(Protocol):
    """A model ready to generate. One instance may serve many prompts; it is closed once at the end.

    ``LoadedBase`` gives every optional member its default: a backend's model class derives from it and
    overrides what it offers."""

    timed: bool
    """Its timing means something (False: a replay without a pace streams as fast as the loop runs, so its
    tokens/s would be a made-up figure)."""
    shares_cores: bool
    """It generates on this machine's cores and can change its thread count between tokens (``set_threads``):
    the cores are then split between the models generating at the moment (``arena.engine.cores``)."""
    threads_by_hand: int | None
    """The thread count its spec set by hand (kept, and held back from the others' share); None: shared."""

    def set_threads(self, threads: int) -> None:
        """Use ``threads`` threads from the next token on (only called where ``shares_cores``)."""
        ...

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


@dataclass(frozen=True)
class Capabilities:
    """What a backend offers beyond streaming, each with its default: a backend declares only what it has,
    and the arena gives every backend that declares a capability the same treatment, built-in or not."""

    concurrent_requests: bool = False
    """One loaded model answers several requests at once (a server batching them): ``arena batch --parallel N``
    keeps up to N in flight for it. False: one answer at a time per model."""
    sampled: bool = True
    """Its answers depend on the sampling settings and seed (False: recorded answers, replayed as they are;
    the arena then does not show a seed that changes nothing)."""
    thread_option: str | None = None
    """The spec option that sets its CPU thread count by hand (``n_threads``), where it has one: such models
    keep their count and the others share the cores left."""
    reward_models: bool = False
    """It can also load a reward model (``load_reward``): one score per answer, for an automatic judge."""


class Backend(Protocol):
    """A kind of model source (replay file, transformers, GGUF, HTTP server).

    ``BackendBase`` gives every optional member its default: a backend class derives from it."""

    name: str
    description: str
    requires: tuple[str, ...]
    """Import names of the optional libraries ``load`` needs; ``arena backends`` checks they import."""
    options: Mapping[str, Option]
    extra: str | None
    """The vibe-arena extra that installs ``requires`` (``pip install 'vibe-arena[EXTRA]'``), None for a
    backend that is its own package (its own pip name is then said)."""
    capabilities: Capabilities

    def default_label(self, target: str, options: Mapping[str, Any]) -> str | None:
        """A label for ``target`` when the user gives none, or None for the target's last path part."""
        ...

    def load_note(self, contestant: Contestant) -> str | None:
        """What to say beside "loading ..." when this load may take long (a conversion on first load)."""
        ...

    def load(self, contestant: Contestant) -> Loaded: ...

    def load_reward(self, contestant: Contestant) -> AnswerScorer:
        """A reward model (``arena.backend.scoring.AnswerScorer``), where ``capabilities.reward_models``."""
        ...


class BackendBase:
    """The defaults of every optional member of ``Backend``; a backend class derives from it."""

    name: str
    description: str
    requires: tuple[str, ...] = ()
    options: ClassVar[Mapping[str, Option]] = MappingProxyType({})
    extra: str | None = None
    capabilities: Capabilities = Capabilities()

    def default_label(self, target: str, options: Mapping[str, Any]) -> str | None:
        return None

    def load_note(self, contestant: Contestant) -> str | None:
        return None

    def load_reward(self, contestant: Contestant) -> AnswerScorer:
        raise BackendError(f"the {self.name} backend cannot load reward models (only generating ones)")


class LoadedBase:
    """The defaults of every optional member of ``Loaded``; a backend's model class derives from it."""

    timed: bool = True
    shares_cores: bool = False
    threads_by_hand: int | None = None

    def set_threads(self, threads: int) -> None:
        """Nothing to change by default: a model that does not share the cores ignores it."""

    def peak_memory_bytes(self) -> int | None:
        return None

    def close(self) -> None:
        """Nothing held by default."""


BACKEND_MEMBERS = (
    "name",
    "description",
    "requires",
    "options",
    "extra",
    "capabilities",
    "default_label",
    "load_note",
    "load_reward",
)
LOADED_MEMBERS = ("timed", "shares_cores", "threads_by_hand", "set_threads", "render", "stream", "info")
"""What a backend and its loaded model must have at run time (checked once, where a plugin enters)."""


def missing_members(found: object, members: Sequence[str]) -> list[str]:
    """The members of the contract ``found`` lacks (a plugin written before a member existed, or not
    deriving from ``BackendBase`` / ``LoadedBase``)."""
    return [name for name in members if not hasattr(found, name)]
