"""Contestant specs: parsing ``BACKEND:TARGET?key=val`` strings and arena.toml tables into ``Contestant``.

Owns spec parsing, option validation against a backend's declared options, default labels and the
arena.toml contestant tables. The ``Contestant`` type itself lives in ``arena.backend``, beside the protocol
that consumes it.

On the command line a contestant is a spec string ``BACKEND:TARGET?key=val&key=val`` (for example
``hf:Qwen/Qwen2.5-1.5B-Instruct?quant=nf4``); in ``arena.toml`` it is a named table. The label is the
identity used in ratings, so the same weights at two quantizations must get two labels, and the default
label keeps every output-affecting option for that reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from arena.backend import Backend, Contestant, format_option_value
from arena.backend.registry import get_backend
from arena.config import find_config, read_toml
from arena.errors import ArenaError
from arena.vocab import label_problem

_BACKEND_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_STRIPPED_SUFFIXES = (".jsonl", ".json", ".gguf", ".safetensors", ".bin")


def validate_options(backend: Backend, raw_options: Mapping[str, object]) -> dict[str, Any]:
    """Check option names against what the backend declares and convert values to their types."""
    options: dict[str, Any] = {}
    for key, raw in raw_options.items():
        option = backend.options.get(key)
        if option is None:
            known = ", ".join(sorted(backend.options)) or "none"
            raise ArenaError(f"unknown option {key!r} for backend {backend.name!r} (known: {known})")
        options[key] = option.parse(key, raw)
    return options


def default_label(backend: Backend, target: str, options: Mapping[str, Any]) -> str:
    """A readable label: the target's last path part (or the backend's own choice), plus output-changing options."""
    chosen = backend.default_label(target, options)
    name = chosen or target.rstrip("/").rsplit("/", 1)[-1] or target
    for suffix in _STRIPPED_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    shown = {
        key: format_option_value(value) for key, value in sorted(options.items()) if backend.options[key].affects_output
    }
    return name + (f"?{urlencode(shown)}" if shown else "")


def parse_spec(spec: str, label: str | None = None) -> Contestant:
    """Parse ``BACKEND:TARGET?key=val&...`` into a validated Contestant, or raise ArenaError."""
    backend_name, sep, rest = spec.partition(":")
    if not sep or not _BACKEND_NAME.match(backend_name):
        raise ArenaError(f"bad model spec {spec!r}: expected BACKEND:TARGET[?key=value&...]")
    target, _, query = rest.partition("?")
    if not target:
        raise ArenaError(f"bad model spec {spec!r}: the target after {backend_name!r}: is empty")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True) if query else []
    except ValueError:
        raise ArenaError(f"bad model spec {spec!r}: options must look like key=value&key=value") from None
    raw_options: dict[str, str] = {}
    for key, value in pairs:
        if key in raw_options:
            raise ArenaError(f"bad model spec {spec!r}: option {key!r} given twice")
        raw_options[key] = value
    backend = get_backend(backend_name)
    try:
        options = validate_options(backend, raw_options)
    except ArenaError as exc:
        raise ArenaError(f"bad model spec {spec!r}: {exc}") from None
    return Contestant(
        label=label or default_label(backend, target, options),
        backend=backend_name,
        target=target,
        options=options,
    )


def load_config_contestants(path: Path) -> dict[str, Contestant]:
    """Named contestants from an arena.toml ``[contestants.NAME]`` table.

    Each table holds either ``spec = "BACKEND:TARGET?..."`` or ``backend`` and ``target`` with the options
    as further keys; ``label`` defaults to the table name. Relative file targets are resolved against the
    config file's directory, so an arena.toml keeps working from any working directory.
    """
    document = read_toml(path)
    tables = document.get("contestants", {})
    if not isinstance(tables, dict):
        raise ArenaError(f"{path}: 'contestants' must be a table of named contestants")
    contestants: dict[str, Contestant] = {}
    for name, table in tables.items():
        where = f"{path}: contestants.{name}"
        if not isinstance(table, dict):
            raise ArenaError(f"{where}: must be a table")
        table = dict(table)
        label = str(table.pop("label", name))
        try:
            if "spec" in table:
                spec = table.pop("spec")
                if table:
                    raise ArenaError(f"unexpected keys beside 'spec': {', '.join(sorted(table))}")
                contestant = parse_spec(str(spec), label=label)
            else:
                backend_name = table.pop("backend", None)
                target = table.pop("target", None)
                if not backend_name or not target:
                    raise ArenaError("needs 'spec', or 'backend' and 'target'")
                backend = get_backend(str(backend_name))
                contestant = Contestant(
                    label=label,
                    backend=str(backend_name),
                    target=str(target),
                    options=validate_options(backend, table),
                )
        except ArenaError as exc:
            raise ArenaError(f"{where}: {exc}") from None
        relative = path.parent / contestant.target
        if not Path(contestant.target).is_absolute() and relative.exists():
            contestant = Contestant(contestant.label, contestant.backend, str(relative), contestant.options)
        contestants[name] = contestant
    return contestants


def _refuse_config_remote_code(
    contestants: Sequence[Contestant], specs: Sequence[str], named: Mapping[str, Contestant], config: Path | None
) -> None:
    """A contestant taken from arena.toml (all of them without specs, else those named by a spec) may not
    turn on ``trust_remote_code`` by itself."""
    from_config = [True] * len(contestants) if not specs else [":" not in spec for spec in specs]
    for contestant, configured in zip(contestants, from_config, strict=True):
        if configured and contestant.options.get("trust_remote_code"):
            raise ArenaError(
                f"{config}: contestant {contestant.label!r} sets trust_remote_code, which runs the checkpoint's "
                "own Python code; pass --trust-remote-code to allow it"
            )


def resolve_contestants(
    specs: Sequence[str],
    labels: Sequence[str] = (),
    config_path: Path | None = None,
    *,
    trust_config_code: bool = False,
) -> list[Contestant]:
    """The contestants for a run: ``--model`` specs or names from arena.toml, labelled and de-duplicated.

    ``labels[i]`` labels ``specs[i]``. With no specs, every contestant in arena.toml takes part. An
    arena.toml is found in the working directory, so it may come with a checkout nobody reviewed: a
    contestant it defines with ``trust_remote_code`` runs only when ``trust_config_code`` (the command
    line's ``--trust-remote-code``) says so.
    """
    if len(labels) > len(specs):
        raise ArenaError(f"{len(labels)} --label given for {len(specs)} --model; give one label per model")
    # arena.toml is read only when it is needed (no --model, or a --model that names a table): a broken file
    # lying around must not break a run whose contestants are all given as specs
    needs_config = config_path is not None or not specs or any(":" not in spec for spec in specs)
    config = find_config(config_path) if needs_config else None
    named = load_config_contestants(config) if config else {}
    if not specs:
        if not named:
            raise ArenaError(
                "no contestants: pass --model BACKEND:TARGET (e.g. --model replay:outputs.jsonl) "
                "or define [contestants.NAME] tables in arena.toml"
            )
        contestants = list(named.values())
    else:
        contestants = []
        for index, spec in enumerate(specs):
            label = labels[index] if index < len(labels) else None
            if ":" not in spec and spec in named:
                chosen = named[spec]
                contestants.append(Contestant(label or chosen.label, chosen.backend, chosen.target, chosen.options))
            elif ":" not in spec:
                known = f" (arena.toml defines: {', '.join(named)})" if named else ""
                raise ArenaError(f"bad model spec {spec!r}: expected BACKEND:TARGET or a contestant name{known}")
            else:
                contestants.append(parse_spec(spec, label))
    if not trust_config_code:
        _refuse_config_remote_code(contestants, specs, named, config)
    seen: set[str] = set()
    for contestant in contestants:
        problem = label_problem(contestant.label)
        if problem is not None:
            raise ArenaError(f"contestant {contestant.label[:40]!r}...: {problem} (give a shorter --label)")
        if contestant.label in seen:
            raise ArenaError(f"two contestants share the label {contestant.label!r}; give each a distinct --label")
        seen.add(contestant.label)
    return contestants
