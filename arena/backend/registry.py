"""Finding backends: the entry-point group ``arena.backends``, loaded by name only when asked for.

Built-in backends register exactly like third-party ones, so there is one discovery path and it is always tested.
"""

from __future__ import annotations

import importlib
from importlib.metadata import EntryPoint, entry_points

from arena.backend import BACKEND_MEMBERS, Backend, Capabilities, Contestant, missing_members
from arena.errors import ArenaError

ENTRY_POINT_GROUP = "arena.backends"


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
    try:
        backend: Backend = backend_class()
    except Exception as exc:
        raise ArenaError(f"backend {name!r} failed to start: {exc}") from exc
    lacking = missing_members(backend, BACKEND_MEMBERS)
    if lacking:
        raise ArenaError(
            f"backend {name!r} lacks {', '.join(lacking)} of the backend contract "
            "(its class should derive from arena.backend.BackendBase)"
        )
    return backend


def load_note(contestant: Contestant) -> str | None:
    """What the contestant's backend says a load may take (None when it says nothing or is not installed)."""
    try:
        return get_backend(contestant.backend).load_note(contestant)
    except ArenaError:
        return None


def capabilities_of(name: str) -> Capabilities:
    """What the backend registered as ``name`` declares it can do (the defaults for one not installed:
    an unknown name fails where the model loads, with the installed ones named)."""
    try:
        return get_backend(name).capabilities
    except ArenaError:
        return Capabilities()


def missing_requirements(backend: Backend) -> list[str]:
    """The backend's optional libraries that fail to import (imports them: only for diagnostics)."""
    missing = []
    for module in backend.requires:
        try:
            importlib.import_module(module)
        except Exception:
            missing.append(module)
    return missing
