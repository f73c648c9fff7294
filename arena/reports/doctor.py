"""What ``arena doctor`` reports: versions, devices, optional libraries, where the data lives.

Versions come from package metadata (no import); devices need torch itself, so it is imported here only,
and only when installed.
"""

from __future__ import annotations

import platform
import re
import sys
from importlib.metadata import PackageNotFoundError, requires, version
from pathlib import Path
from typing import Any

import arena
from arena.backend.helpers import model_cache_dir
from arena.backend.registry import backend_entry_points
from arena.config import data_dir, default_db_path, find_config
from arena.errors import ArenaError
from arena.store import Store, queries

DISTRIBUTION = "vibe-arena"
NOT_FOR_USERS = frozenset({"test", "all"})
"""Extras that install tools for the project's own tests, or everything: not what a backend needs."""
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


def optional_distributions() -> list[str]:
    """The libraries the user-facing extras install (read from the package's own metadata, so a new extra
    needs no list here), then the distributions that ship installed backends (third-party ones included),
    with textual first: the versions worth reporting when something breaks."""
    found: dict[str, None] = {"textual": None}
    try:
        requirements = requires(DISTRIBUTION) or []
    except PackageNotFoundError:  # running from a checkout that was never installed
        requirements = []
    for requirement in requirements:
        name, extra = _NAME.match(requirement), _EXTRA.search(requirement)
        if name and extra and extra.group(1) not in NOT_FOR_USERS and name.group(1) != DISTRIBUTION:
            found[name.group(1)] = None
    for entry in backend_entry_points().values():
        if entry.dist is not None and entry.dist.name != DISTRIBUTION:
            found[entry.dist.name] = None
    return list(found)


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def torch_devices() -> dict[str, Any]:
    """CUDA and MPS availability with device names; empty when torch is not installed."""
    try:
        import torch  # noqa: PLC0415  # optional and heavy
    except Exception as exc:  # torch missing or broken: report, don't fail
        return {"torch": f"unavailable ({type(exc).__name__})"}
    devices: dict[str, Any] = {"cuda": torch.cuda.is_available()}
    if devices["cuda"]:
        devices["cuda_devices"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        devices["cuda_version"] = torch.version.cuda
        devices["bf16"] = torch.cuda.is_bf16_supported()
    mps = getattr(torch.backends, "mps", None)
    devices["mps"] = bool(mps and mps.is_available())
    devices["cpu_threads"] = torch.get_num_threads()
    return devices


def _database(db_path: Path | None) -> dict[str, Any]:
    path = db_path or default_db_path()
    info: dict[str, Any] = {"path": str(path), "exists": path.exists()}
    if path.exists():
        info["size_bytes"] = path.stat().st_size
        try:
            with Store(path, read_only=True) as store:
                info.update(queries.table_counts(store))
                info["integrity"] = queries.integrity(store)
        except ArenaError as exc:
            info["error"] = str(exc)
    return info


def _model_cache() -> dict[str, Any]:
    """Where converted and fetched models accumulate (0.5-1 GB per GGUF converted for transformers), and
    how much it holds: the place to look when the disk fills."""
    path = model_cache_dir()
    size = sum(entry.stat().st_size for entry in path.rglob("*") if entry.is_file()) if path.is_dir() else 0
    return {"model_cache": str(path), "model_cache_MiB": round(size / 2**20, 1)}


def collect(db_path: Path | None = None) -> dict[str, Any]:
    try:
        config = find_config()
    except ArenaError as exc:
        config = None
        config_note = str(exc)
    else:
        config_note = str(config) if config else "none"
    return {
        "arena": arena.__version__,
        "python": f"{sys.version.split()[0]} ({sys.executable})",
        "platform": platform.platform(),
        "packages": {name: _version(name) for name in optional_distributions()},
        "devices": torch_devices() if _version("torch") != "not installed" else {"torch": "not installed"},
        "paths": {"data_dir": str(data_dir()), "config": config_note, **_model_cache()},
        "database": _database(db_path),
    }
