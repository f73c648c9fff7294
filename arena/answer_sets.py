"""Answer sets made by other tools, between reading them (``arena.formats.answers``) and storing them as a
batch (``arena.judging.imported``): the shapes both sides share, with no behaviour of either."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arena.backend import Message
from arena.vocab import FinishReason

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


@dataclass(frozen=True)
class ImportedAnswer:
    """One answer of one contestant, as the file recorded it."""

    key: str
    """What matches it to the same prompt in the other files: the prompt id, else a digest of the text."""
    prompt: str
    output: str
    sample: int | None = None
    category: str | None = None
    system: str | None = None
    messages: tuple[Message, ...] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    """The sampling arguments, under the tool's own names (read into the arena's where they fit)."""
    finish_reason: FinishReason | None = None
    """How the tool said the generation ended ("length": cut at its token limit); None where it did not say."""
    model: str | None = None
    """The model the tool said answered (kept as what its engine said it ran)."""
    recorded: Mapping[str, Any] = field(default_factory=dict)
    """What else the tool recorded beside the answer that the arena has no column for (its scores, its
    version), stored as such."""


@dataclass(frozen=True)
class AnswerSet:
    """One contestant's answers (``--from LABEL=PATH``)."""

    label: str
    path: Path
    answers: tuple[ImportedAnswer, ...]


def text_key(prompt: str) -> str:
    """The matching key of a prompt that carries no id: a digest of its text (the same text in any tool's
    file matches)."""
    return "text-" + hashlib.sha256(prompt.strip().encode("utf-8")).hexdigest()[:12]


def prompt_id_of(key: str) -> str:
    """The stored prompt id for a matching key: the key itself where it is a safe id (a tool's ``TASK:ID`` as
    ``TASK.ID``), else a digest of it."""
    readable = key.replace(":", ".")
    return readable if _SAFE_ID.match(readable) else digest_id(key)


def digest_id(key: str) -> str:
    """A prompt id made from a digest of its key: for keys that are no safe id, or whose readable form
    another key took."""
    return "id-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
