"""Where the arena keeps its files, and the optional ``arena.toml`` of named contestants.

``ARENA_HOME`` overrides the platform data dir so tests, CI and users with several projects can keep
separate databases and model caches.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, cast

from arena.errors import ArenaError

CONFIG_FILENAME = "arena.toml"
DB_FILENAME = "arena.db"


def data_dir() -> Path:
    """The directory for the default database and cached demo models (created on first use)."""
    home = os.environ.get("ARENA_HOME")
    if home:
        path = Path(home).expanduser()
    else:
        import platformdirs  # noqa: PLC0415  # only where no ARENA_HOME is set

        path = Path(platformdirs.user_data_dir("vibe-arena", appauthor=False))
    return path


def default_db_path() -> Path:
    return data_dir() / DB_FILENAME


def find_config(explicit: Path | None = None) -> Path | None:
    """The arena.toml to use: an explicit path, else ./arena.toml, else one in the data dir, else none."""
    if explicit is not None:
        if not explicit.is_file():
            raise ArenaError(f"config file not found: {explicit}")
        return explicit
    for candidate in (Path.cwd() / CONFIG_FILENAME, data_dir() / CONFIG_FILENAME):
        if candidate.is_file():
            return candidate
    return None


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, naming the file and the position on a syntax error. The parser is imported here:
    most commands never read TOML, and compiling its patterns costs each of them milliseconds."""
    if sys.version_info >= (3, 11):
        import tomllib  # noqa: PLC0415 - only commands that read TOML pay for it
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib  # noqa: PLC0415

    try:
        with path.open("rb") as handle:
            return cast(dict[str, Any], tomllib.load(handle))
    except FileNotFoundError:
        raise ArenaError(f"file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ArenaError(f"{path}: invalid TOML: {exc}") from None
    except (UnicodeDecodeError, IsADirectoryError, PermissionError) as exc:
        raise ArenaError(f"{path}: cannot read: {exc}") from None
    except RecursionError:  # arrays nested thousands deep
        raise ArenaError(f"{path}: invalid TOML: nested too deeply") from None
