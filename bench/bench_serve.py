"""``arena serve --demo`` as judges meet it: real SmolLM2-135M-Instruct (both demo contestants in
transformers, float32, CPU), judged from headless Chromium, one judge and then two at once.

Per judge: seconds from opening the page to the name screen (the ``arena play`` process starting; the
models load behind that screen), from the name (typed at once) to both answers of the first battle stored
(the models' loading, then both answers), and the judge process's resident memory. These say what
``--max-judges`` costs: every judge is a process with its own models.
"""

from __future__ import annotations

import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from tests.support.browser import (
    CHROMIUM_FLAGS,
    find_chromium,
    free_port,
    judge_processes,
    open_judge,
    session_of,
    wait_until,
)


def _judge_rss_mib(db: Path) -> list[float]:
    """Resident memory of each running judge process on ``db``."""
    sizes = []
    for process in judge_processes(db):
        try:
            status = (process / "status").read_text()
        except OSError:  # ended meanwhile
            continue
        rss_kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        sizes.append(rss_kib / 1024)
    return sizes


def _answered(db: Path, session: int) -> bool:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return bool(conn.execute("select count(*) from generations where session = ?", (session,)).fetchone()[0] >= 2)


def _pause_in(page: Any) -> Callable[[float], None]:
    """A pause that lets Playwright deliver the page's events meanwhile."""
    return lambda seconds: page.wait_for_timeout(seconds * 1000)


def _judges(browser: Any, url: str, db: Path, names: list[str]) -> list[tuple[float, float]]:
    """Open a page per name at once; (seconds to the name screen, seconds from the name to both answers)."""
    opened: dict[str, tuple[Any, float, float]] = {}
    for name in names:  # one after the other: the first judge's models answer while the next one loads
        started = time.perf_counter()
        page = open_judge(browser, url, name, timeout=300)
        opened[name] = (page, time.perf_counter(), time.perf_counter() - started)
    timings = []
    for name, (page, named_at, to_name_screen) in opened.items():
        session = session_of(db, name, timeout=120)
        wait_until(partial(_answered, db, session), 600, f"{name}'s answers", pause=_pause_in(page))
        timings.append((to_name_screen, time.perf_counter() - named_at))
    return timings


def run() -> str:
    chromium = find_chromium()
    if chromium is None:
        return "## Judges in a browser: `arena serve --demo`\n\nNot run: chromium is not installed.\n"
    from playwright.sync_api import sync_playwright

    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        db = Path(workdir) / "serve.db"
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        server = subprocess.Popen(
            [sys.executable, "-m", "arena", "serve", "--demo", "--port", str(port), "--db", str(db)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            start = time.perf_counter()
            wait_until(lambda: _listening(port), 600, "arena serve to listen")
            ready = time.perf_counter() - start
            with sync_playwright() as playwright:
                for count in (1, 2):
                    browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
                    try:
                        names = [f"judge{count}-{index}" for index in range(count)]
                        timings = _judges(browser, url, db, names)
                        rss = _judge_rss_mib(db)
                    finally:
                        browser.close()
                    wait_until(lambda: not _judge_rss_mib(db), 60, "the judges' processes to end")
                    rows.append(
                        f"| {count} | {statistics.median(t[0] for t in timings):.1f} | "
                        f"{max(t[0] for t in timings):.1f} | {statistics.median(t[1] for t in timings):.1f} | "
                        f"{statistics.median(rss):.0f} |"
                    )
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
    return "\n".join(
        [
            "## Judges in a browser: `arena serve --demo` (SmolLM2-135M-Instruct, transformers fp32, CPU)",
            "",
            f"`arena serve --demo` checks both models load and listens after {ready:.1f} s (models cached).",
            "Each judge's page starts its own `arena play` process, which loads both contestants itself, behind",
            "the name screen; the bench names its judge at once, so the 'name to both answers' column includes",
            "that loading. It also varies from run to run: each session draws its own first prompt, and the",
            "answers run anywhere up to 160 tokens at about 12 tok/s.",
            "",
            "| judges at once | page to name screen, median s | worst s | name to both answers, median s "
            "| memory per judge process, MiB |",
            "| --- | --- | --- | --- | --- |",
            *rows,
            "",
        ]
    )


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False
