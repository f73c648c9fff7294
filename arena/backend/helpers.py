"""What several backends share: the raw completion prompt, stop strings, the model cache, JSONL reading.

Backends import only ``arena.backend``, so a helper two of them need lives here rather than being written twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from arena.backend import Message, RenderedPrompt


def raw_completion_prompt(messages: Sequence[Message]) -> RenderedPrompt:
    """What a model without a chat template gets: the whole conversation as one plain text, no markers.

    The layout is the conversation as the model lived it: system and user texts separated by a blank
    line, the prompt ending in a newline, and each of the model's own answers appended exactly where it
    was generated, followed by a blank line and the next user text. So turn 1 is ``system\n\nuser\n``
    and turn 2 starts with turn 1's prompt and answer, byte for byte: a follow-up is judged on the same
    conversation the judge saw, and the earlier turns are a prefix the engine can reuse.

    Marked ``chat_template=False`` so the arena flags it: a chat model prompted like this is not being
    judged on its own terms.
    """
    text = ""
    for message in messages:
        if message["role"] == "assistant":
            text += "\n" + message["content"]
        else:
            text += ("\n\n" if text else "") + message["content"]
    ends_with_answer = bool(messages) and messages[-1]["role"] == "assistant"
    return RenderedPrompt(text if ends_with_answer else text + "\n", chat_template=False)


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
    import platformdirs  # noqa: PLC0415  # only where no ARENA_CACHE is set

    return Path(platformdirs.user_cache_dir("vibe-arena", appauthor=False))


@dataclass(frozen=True)
class BadJson:
    """A JSONL line that does not parse: what ``jsonl_records`` yields in its place, so the reader decides
    whether one bad line stops the file (prompts, replays) or is counted and skipped (imports)."""

    reason: str


def read_text(path: Path, *, name: str, error: type[Exception], missing: str | None = None) -> str:
    """A file's UTF-8 text, or ``error`` with one line naming it (``missing`` for a file that is not there).
    A byte-order mark (as Notepad, Excel and PowerShell write) is dropped."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise error(missing or f"{name}: cannot read: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{name}: cannot read: {exc}") from None


class NonFiniteNumber(ValueError):
    """NaN or Infinity in JSON text: Python reads them, but nothing written back from them would be JSON."""


def _refuse_non_finite(name: str) -> float:
    raise NonFiniteNumber("holds NaN or Infinity, which JSON does not allow")


def jsonl_records(text: str, *, finite: bool = False) -> Iterator[tuple[int, object]]:
    """(line number, parsed value or ``BadJson``) for each non-blank line of untrusted JSONL text.

    A 5000-digit number or nesting deeper than Python recurses is a ``BadJson`` too, never a traceback;
    with ``finite``, so is a line holding NaN or Infinity (refused while parsing: no second pass).
    """
    constant = _refuse_non_finite if finite else None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line, parse_constant=constant)
        except NonFiniteNumber as exc:
            yield number, BadJson(str(exc))
        except json.JSONDecodeError as exc:
            yield number, BadJson(f"invalid JSON: {exc.msg}")
        except (ValueError, RecursionError) as exc:
            yield number, BadJson(f"unreadable JSON ({type(exc).__name__})")


def process_rss() -> int | None:
    """This process's resident memory now, in bytes (Linux: ``/proc/self/statm``); None where it cannot be
    read. A backend reads it just before and after building a model, one load at a time, to report what the
    model really costs the process: weights, caches, compute buffers and allocator overhead together."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def common_prefix(first: Sequence[int], second: Sequence[int]) -> int:
    """How many leading tokens two sequences share: what a scoring call can keep of the previous one's
    cache (an automatic judge's second order departs from its first where the answers swap)."""
    shared = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        shared += 1
    return shared
