"""vibe-arena: blind side-by-side comparison of language models in the terminal.

The core (battle, flags, ratings, store, prompts, backend) imports neither textual, torch nor llama_cpp,
so it can be used from scripts and tests without the heavy extras.
"""

from __future__ import annotations

from functools import cache


@cache
def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415 (30-50 ms, only when asked)

    try:
        return version("vibe-arena")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0"


def __getattr__(name: str) -> str:
    """``arena.__version__``, read from the installed metadata when first asked for: importlib.metadata
    costs 30-50 ms, which every command (``arena --help`` included) paid before."""
    if name == "__version__":
        return _installed_version()
    raise AttributeError(f"module 'arena' has no attribute {name!r}")
