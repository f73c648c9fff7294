"""Judging in a real headless Chromium (Playwright) against ``arena serve``: used by the browser test and by
``docs/screenshot.py``, which makes the README's picture the same way.

The page draws the terminal on a canvas, so nothing on it can be read as text. What the app sends over its
websocket can, and the SQLite file says what the judge's keys did: those are what these helpers wait on.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.helpers import REPO, write_replay

CHROMIUM_FLAGS = [  # a closed network: no background connections, no first-run or sync traffic
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def chromium_or_skip() -> str:
    """The path of Chromium for a browser test, with playwright importable; a skip (a failure under
    ARENA_REQUIRE_BROWSER) naming what is missing otherwise."""
    chromium = find_chromium()
    missing = []
    if chromium is None:
        missing.append("chromium (Debian: apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (pip install -e '.[test]')")
    if missing:
        why = "the browser test needs " + " and ".join(missing)
        if os.environ.get("ARENA_REQUIRE_BROWSER"):
            pytest.fail(why)
        pytest.skip(why)
    assert chromium is not None
    return chromium


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def judge_processes(db: Path) -> list[Path]:
    """The /proc folders of the running ``arena play --ask-judge`` processes on ``db`` (one per browser)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:  # ended meanwhile
            continue
        if b"--ask-judge" in argv and str(db).encode() in argv:
            found.append(cmdline.parent)
    return found


def wait_until(
    condition: Callable[[], Any],
    timeout: float,
    what: str,
    poke: Callable[[], None] | None = None,
    pause: Callable[[float], None] = time.sleep,
) -> Any:
    """Poll ``condition`` until it returns something truthy; ``poke`` is called every second meanwhile.
    ``pause`` waits between polls: Playwright's sync API delivers page events only inside its own calls,
    so a browser wait pauses with ``page.wait_for_timeout``."""
    deadline = time.monotonic() + timeout
    next_poke = time.monotonic() + 1
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        if poke is not None and time.monotonic() >= next_poke:
            poke()
            next_poke = time.monotonic() + 1
        pause(0.05)


def _scalar(db: Path, sql: str, *args: object) -> Any:
    with sqlite3.connect(db) as conn:
        row = conn.execute(sql, args).fetchone()
    return None if row is None else row[0]


def open_judge(browser: Any, url: str, judge: str, timeout: float = 60) -> Any:
    """A new page on ``url`` whose judge has typed their name, once the name screen has arrived."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    received: list[bytes] = []
    page.on(
        "websocket",
        lambda ws: ws.on("framereceived", lambda data: received.append(data if isinstance(data, bytes) else b"")),
    )
    page.goto(url)
    wait_until(
        lambda: b"Who is judging?" in b"".join(received),
        timeout,
        f"{judge}'s name screen",
        pause=lambda seconds: page.wait_for_timeout(seconds * 1000),
    )
    page.locator(".xterm-screen").click()
    page.keyboard.type(judge)
    page.keyboard.press("Enter")
    return page


def session_of(db: Path, judge: str, timeout: float = 60) -> int:
    """The id of the play session the named judge's browser opened."""
    found = wait_until(
        lambda: _scalar(db, "select id from sessions where judge = ?", judge), timeout, f"{judge}'s session"
    )
    return int(found)


def vote_when_answered(page: Any, db: Path, session: int, key: str, timeout: float = 120, battle: int = 1) -> None:
    """Press ``key`` once both answers of the session's ``battle``-th battle are stored, until its vote is.

    A key pressed between the answers' write and the app seeing both stop is refused ("wait for both
    answers"), so the key is pressed again each second; a second press after the vote changes nothing.
    """

    def pause(seconds: float) -> None:
        page.wait_for_timeout(seconds * 1000)

    wait_until(
        lambda: _scalar(db, "select count(*) from generations where session = ?", session) == 2 * battle,
        timeout,
        f"both answers of battle {battle} in session {session}",
        pause=pause,
    )
    wait_until(
        lambda: _scalar(db, "select count(*) from battles where session = ?", session) >= battle,
        timeout,
        f"the vote on battle {battle} in session {session}",
        poke=lambda: page.keyboard.press(key),
        pause=pause,
    )


@contextmanager
def serving(
    tmp_path: Path, answers: dict[str, str], other_answers: dict[str, str], max_judges: int = 2
) -> Iterator[tuple[str, Path, Path]]:
    """``arena serve`` as a process on a free port with two replay models (their answers by prompt id,
    ``t/...``), a prompt set of those ids; (url, database, the server's log)."""
    db = tmp_path / "team.db"
    steady = write_replay(tmp_path / "steady.jsonl", answers)
    other = write_replay(tmp_path / "other.jsonl", other_answers)
    prompts = tmp_path / "t.toml"
    prompts.write_text(
        'name = "t"\n'
        + "".join(f'[[prompts]]\nid = "{key[2:]}"\ntext = "Prompt {key}"\ncategory = "misc"\n' for key in answers),
        encoding="utf-8",
    )
    play_args = [
        "--model", f"replay:{steady}?tps=400", "--label", "steady",
        "--model", f"replay:{other}?tps=400", "--label", "other",
        "--prompts", str(prompts),
    ]  # fmt: skip
    with serving_args(tmp_path, db, play_args, max_judges) as served:
        yield served


@contextmanager
def serving_args(
    tmp_path: Path, db: Path, play_args: list[str], max_judges: int = 2
) -> Iterator[tuple[str, Path, Path]]:
    """``arena serve PLAY_ARGS --db DB`` as a process on a free port; (url, database, the server's log)."""
    port = free_port()
    command = [
        sys.executable, "-m", "arena", "serve", "--port", str(port), "--max-judges", str(max_judges),
        *play_args, "--db", str(db),
    ]  # fmt: skip
    log_path = tmp_path / "serve.log"
    log = log_path.open("wb")
    server = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"

    def listening() -> bool:
        assert server.poll() is None, log_path.read_text(errors="replace")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    try:
        wait_until(listening, 60, "arena serve to listen")
        yield url, db, log_path
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
