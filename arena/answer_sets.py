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


@dataclass(frozen=True)
class AnswerSet:
    """One contestant's answers (``--from LABEL=PATH``)."""

    label: str
    path: Path
    answers: tuple[ImportedAnswer, ...]


def prompt_id_of(key: str) -> str:
    """The stored prompt id for a matching key: the key itself where it is a safe id, else a digest of it."""
    return key if _SAFE_ID.match(key) else "id-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
