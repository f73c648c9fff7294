"""Prompt sets: loading the shipped ones by name and the user's by path (TOML or JSONL), with validation.

Owns ``Prompt``, ``PromptSet``, the file formats and ``find_prompt``. Every prompt may declare
machine-checkable constraints (``{kind = "sentences", exact = 3}``); each is validated when the set is
loaded, against the schema that sits beside its checker in ``arena.analysis.flags.constraints``, so a typo in a
user's file is reported with the file, the prompt id and the field instead of surfacing as a wrong flag
halfway through a session.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from arena.analysis.flags.constraints import validate_constraint
from arena.backend import Message
from arena.backend.helpers import BadJson, jsonl_records, read_text
from arena.config import read_toml
from arena.errors import ArenaError

SHIPPED_PACKAGE = "arena.prompt_sets"
_PROMPT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_PROMPT_FIELDS = {"id", "category", "text", "system", "constraints"}


@dataclass(frozen=True)
class Prompt:
    """One prompt of a set. ``uid`` ("set/id") is its key in the database."""

    set: str
    id: str
    category: str
    text: str
    system: str | None = None
    constraints: tuple[Mapping[str, Any], ...] = ()

    @property
    def uid(self) -> str:
        return f"{self.set}/{self.id}"

    def messages(self) -> list[Message]:
        """The chat messages a model receives for this prompt."""
        messages: list[Message] = []
        if self.system:
            messages.append({"role": "system", "content": self.system})
        messages.append({"role": "user", "content": self.text})
        return messages


@dataclass(frozen=True)
class PromptSet:
    name: str
    description: str
    prompts: tuple[Prompt, ...]
    source: str = field(default="", compare=False)

    @property
    def categories(self) -> list[str]:
        return sorted({prompt.category for prompt in self.prompts})

    def __len__(self) -> int:
        return len(self.prompts)

    def with_system(self, system: str | None) -> PromptSet:
        """Every prompt with ``system`` as its system message (``--system``); the set itself when None."""
        if system is None:
            return self
        return replace(self, prompts=tuple(replace(prompt, system=system) for prompt in self.prompts))


SYSTEM_MAX = 20_000
"""The longest ``--system`` text, in characters: a system prompt, not a document."""


def checked_system(text: str | None) -> str | None:
    """``--system``'s text as sent (stripped), or None; ``ArenaError`` for an empty or oversized one."""
    if text is None:
        return None
    if not text.strip():
        raise ArenaError("--system is empty: give the system message, or leave the option out")
    if len(text) > SYSTEM_MAX:
        raise ArenaError(f"--system is {len(text):,} characters long; at most {SYSTEM_MAX:,}")
    return text.strip()


def custom_prompt(text: str) -> Prompt:
    """A prompt typed by the judge; its id is a hash of the text so the same question groups together."""
    digest = hashlib.sha1(text.strip().encode("utf-8")).hexdigest()[:10]
    return Prompt(set="custom", id=digest, category="custom", text=text.strip())


def _check_prompt(raw: object, set_name: str, where: str) -> Prompt:
    if not isinstance(raw, dict):
        raise ArenaError(f"{where}: each prompt must be a table/object")
    prompt_id = raw.get("id")
    if not isinstance(prompt_id, str) or not _PROMPT_ID.match(prompt_id):
        raise ArenaError(f"{where}.id: missing or invalid (letters, digits, '_', '.', '-'), got {prompt_id!r}")
    where = f"{where} (id {prompt_id!r})"
    unknown = set(raw) - _PROMPT_FIELDS
    if unknown:
        raise ArenaError(
            f"{where}: unknown field {sorted(unknown)[0]!r} (allowed: {', '.join(sorted(_PROMPT_FIELDS))})"
        )
    for name in ("category", "text"):
        value = raw.get(name)
        if not isinstance(value, str) or not value.strip():
            raise ArenaError(f"{where}.{name}: missing or empty")
    system = raw.get("system")
    if system is not None and not isinstance(system, str):
        raise ArenaError(f"{where}.system: must be a string")
    constraints_raw = raw.get("constraints", [])
    if not isinstance(constraints_raw, list):
        raise ArenaError(f"{where}.constraints: must be a list")
    constraints = tuple(
        validate_constraint(item, f"{where}.constraints[{index}]") for index, item in enumerate(constraints_raw)
    )
    return Prompt(
        set=set_name,
        id=prompt_id,
        category=raw["category"].strip(),
        text=raw["text"].strip(),
        system=system,
        constraints=constraints,
    )


def _build_set(name: str, description: str, raw_prompts: list[tuple[str, object]], source: str) -> PromptSet:
    prompts: list[Prompt] = []
    seen: set[str] = set()
    for where, raw in raw_prompts:
        prompt = _check_prompt(raw, name, where)
        if prompt.id in seen:
            raise ArenaError(f"{where}.id: duplicate prompt id {prompt.id!r}")
        seen.add(prompt.id)
        prompts.append(prompt)
    if not prompts:
        raise ArenaError(f"{source}: the prompt set has no prompts")
    return PromptSet(name=name, description=description, prompts=tuple(prompts), source=source)


def parse_toml_set(document: Mapping[str, Any], default_name: str, source: str) -> PromptSet:
    """Validate a parsed TOML prompt set: top-level ``name``, ``description`` and ``[[prompts]]``."""
    name = document.get("name", default_name)
    if not isinstance(name, str) or not _PROMPT_ID.match(name):
        raise ArenaError(f"{source}: name: must be a simple name, got {name!r}")
    description = document.get("description", "")
    if not isinstance(description, str):
        raise ArenaError(f"{source}: description: must be a string")
    raw_prompts = document.get("prompts")
    if not isinstance(raw_prompts, list):
        raise ArenaError(f"{source}: prompts: missing; add [[prompts]] tables")
    located = [(f"{source}: prompts[{index}]", raw) for index, raw in enumerate(raw_prompts)]
    return _build_set(name, description, located, source)


def load_jsonl_set(path: Path) -> PromptSet:
    """One JSON object per line with the same fields as a TOML prompt; the set is named after the file."""
    located: list[tuple[str, object]] = []
    for number, record in jsonl_records(read_text(path, name=str(path), error=ArenaError)):
        if isinstance(record, BadJson):
            raise ArenaError(f"{path}: line {number}: {record.reason}")
        located.append((f"{path}: line {number}", record))
    if not _PROMPT_ID.match(path.stem):
        raise ArenaError(f"{path}: a JSONL prompt set is named after its file; {path.stem!r} is not a simple name")
    return _build_set(path.stem, "", located, str(path))


def shipped_set_names() -> list[str]:
    files = resources.files(SHIPPED_PACKAGE)
    return sorted(entry.name[: -len(".toml")] for entry in files.iterdir() if entry.name.endswith(".toml"))


def load_prompt_set(name_or_path: str) -> PromptSet:
    """A shipped set by name (``everyday``), or a user's ``.toml`` / ``.jsonl`` file by path."""
    path = Path(name_or_path).expanduser()
    if path.suffix in (".toml", ".jsonl") or path.exists():
        if not path.is_file():
            raise ArenaError(f"prompt file not found: {path}")
        if path.suffix == ".jsonl":
            return load_jsonl_set(path)
        return parse_toml_set(read_toml(path), path.stem, str(path))
    if name_or_path not in shipped_set_names():
        raise ArenaError(
            f"unknown prompt set {name_or_path!r} (shipped: {', '.join(shipped_set_names())}; "
            "or pass a .toml/.jsonl path)"
        )
    resource = resources.files(SHIPPED_PACKAGE) / f"{name_or_path}.toml"
    with resources.as_file(resource) as shipped_path:
        return parse_toml_set(read_toml(shipped_path), name_or_path, f"{name_or_path} (shipped)")


def find_prompt(uid: str) -> Prompt:
    """The shipped (or file) prompt ``SET/ID``, e.g. ``everyday/science-tides``, or ArenaError."""
    set_name, sep, prompt_id = uid.rpartition("/")
    if not sep or not set_name or not prompt_id:
        raise ArenaError(f"prompt {uid!r}: expected SET/ID, e.g. everyday/child-photosynthesis")
    prompt_set = load_prompt_set(set_name)
    for prompt in prompt_set.prompts:
        if prompt.id == prompt_id:
            return prompt
    raise ArenaError(f"prompt {uid!r}: no prompt {prompt_id!r} in set {prompt_set.name!r}")


def check_set_name(name: str) -> None:
    """``ArenaError`` unless ``name`` can name a prompt set of stored answers: a plain name, not a shipped set's
    (its prompts and answers would mix with the set's own)."""
    if not _PROMPT_ID.match(name) or len(name) > 100:
        raise ArenaError(f"--set {name!r}: a prompt set's name is letters, digits, '-', '_' and '.'")
    if name in shipped_set_names():
        raise ArenaError(f"--set {name}: a shipped prompt set has that name; choose another")
