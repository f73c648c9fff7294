"""A GGUF file as a transformers checkpoint: dequantized once, then cached as safetensors.

transformers reads GGUF (``from_pretrained(dir, gguf_file=NAME)``) but dequantizes every tensor on every
load (about 30 s for a 135M Q4_1 on two cores), and ``save_pretrained`` refuses a model loaded that way.
So the weights are loaded into a plain model built from the same config and saved once, in float32 (the
dequantized values exactly), under the model cache; later loads take well under a second, at any dtype or
bitsandbytes quantization. The copy is keyed by the file's content (its size and a hash of its first and
last 8 MiB: the header with every tensor's name, type and offset, and the tail of the weights), not its
path: the same file at a second path, or copied to another machine, reuses the copy instead of adding
another 0.5-1 GB to the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from arena.backend import BackendError
from arena.backend.helpers import model_cache_dir
from arena_hf import first_line

MARKER = "arena-gguf-source.txt"


SAMPLED_BYTES = 8 * 2**20


def content_key(gguf: Path) -> str:
    """A key of the file's content, read in well under a second however large the file."""
    size = gguf.stat().st_size
    digest = hashlib.sha256(f"{size}:".encode())
    with gguf.open("rb") as handle:
        digest.update(handle.read(SAMPLED_BYTES))
        if size > SAMPLED_BYTES:
            handle.seek(max(SAMPLED_BYTES, size - SAMPLED_BYTES))
            digest.update(handle.read(SAMPLED_BYTES))
    return digest.hexdigest()[:16]


def copy_dir_for(gguf: Path) -> Path:
    return model_cache_dir() / "hf-from-gguf" / content_key(gguf)  # the source path is in MARKER


def dequantized_checkpoint(gguf: Path) -> Path:
    """The cached transformers copy of ``gguf``, made now if it is missing."""
    if not gguf.is_file():
        raise BackendError(f"GGUF file not found: {gguf}")
    target = copy_dir_for(gguf)
    if (target / MARKER).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(dir=target.parent, prefix=".partial-"))
    try:
        _write_copy(gguf, partial)
        try:
            partial.rename(target)
        except OSError:
            if not (target / MARKER).is_file():  # not simply another process finishing first
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


def _write_copy(gguf: Path, into: Path) -> None:
    try:
        # transformers' GGUF reader draws a plain tqdm bar on stderr; the CLI's spinner already says what happens
        with contextlib.redirect_stderr(io.StringIO()):
            tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
            loaded: Any = AutoModelForCausalLM.from_pretrained(
                str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
            )
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise BackendError(f"transformers cannot read {gguf.name}: {first_line(exc)}") from exc
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the copy is plain float32; bitsandbytes may quantize it again
    plain: Any = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(loaded.state_dict())
    plain.generation_config = loaded.generation_config
    plain.save_pretrained(into)
    tokenizer.save_pretrained(into)
    (into / MARKER).write_text(f"{gguf.resolve()}\n", encoding="utf-8")
