"""Which play sessions are being judged right now, across processes: one lock per (database, session).

Two browser tabs under one name both continue that judge's last session (``arena serve`` resumes a returning
judge), and with one queue and one seed they would judge the same prompt twice in one session. The process
that judges a session holds an advisory lock on a small file for as long as it runs; the operating system
releases it when the process ends however it ends (kill -9 included), so a stale lock cannot outlive its
judge. Where advisory locks are unavailable (no ``fcntl``), every lock is granted: the old behaviour.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import IO

from arena.config import data_dir
from arena.errors import ArenaError

try:
    import fcntl
except ImportError:  # pragma: no cover  # Windows
    fcntl = None  # type: ignore[assignment]


class SessionBusy(ArenaError):
    """The session is being judged by another live arena process."""


def lock_path(db_path: Path, session: int) -> Path:
    """The lock file of ``session`` in ``db_path``: in the data dir, named by the database's resolved path."""
    key = hashlib.sha256(str(Path(db_path).resolve()).encode()).hexdigest()[:16]
    return data_dir() / "locks" / f"{key}-session-{session}.lock"


class SessionLock:
    """Held by the process that judges the session; released when it closes or the process ends."""

    def __init__(self, db_path: Path, session: int) -> None:
        self.path = lock_path(db_path, session)
        self.session = session
        self._handle: IO[bytes] | None = None

    def acquire(self) -> bool:
        """True when this process now holds the lock (or locks are unavailable here); False when another
        live process holds it."""
        if fcntl is None:
            return True
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("ab")
        except OSError:  # an unwritable data dir must not stop judging: no lock, the old behaviour
            return True
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        os.set_inheritable(handle.fileno(), False)  # a child process must not keep it after this one ends
        self._handle = handle
        return True

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the file releases the lock
            self._handle = None


def hold_session(db_path: Path, session: int) -> SessionLock:
    """The session's lock, taken; ``SessionBusy`` when another arena judges the session right now."""
    lock = SessionLock(db_path, session)
    if not lock.acquire():
        raise SessionBusy(
            f"session {session} is being judged in another arena right now (another tab or terminal under this "
            "name); finish there, or start a new session without --resume"
        )
    return lock


def session_busy(db_path: Path, session: int) -> bool:
    """Whether another live process is judging ``session`` now (checked by taking and dropping the lock)."""
    probe = SessionLock(db_path, session)
    if not probe.acquire():
        return True
    probe.release()
    return False
