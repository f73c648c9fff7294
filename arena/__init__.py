"""vibe-arena: blind side-by-side comparison of language models in the terminal.

The core (battle, flags, ratings, store, prompts, backend) imports neither textual, torch nor llama_cpp,
so it can be used from scripts and tests without the heavy extras.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vibe-arena")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
