"""A judge's process ends when its ``arena serve`` is gone, however the server ended (kill -9 included).

Each browser's ``arena play --ask-judge`` is the server's child (``play_command`` execs it in the shell's
place). A server that is killed cannot stop its children, and they would live on with their own copy of the
models (about 1 GB each for the demo) and nobody to talk to. So the judge watches its parent: when it
changes (the child was handed to init or a subreaper), the app is asked to quit the ordinary way (every vote
is already stored), and if it has not ended within ``GRACE_S`` the process exits anyway.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

POLL_S = 1.0
GRACE_S = 10.0
SERVER_PID = "ARENA_SERVE_PID"
"""Set by the server for its children: the process whose end ends the judge."""


def watch_server(quit_app: Callable[[], None]) -> threading.Thread | None:
    """Start watching for the server's end, if this process was started by ``arena serve`` (``SERVER_PID``
    names its parent); ``quit_app`` is called once, from the watching thread, when the server is gone."""
    expected = os.environ.get(SERVER_PID)
    if not expected or not expected.isdigit() or int(expected) != os.getppid():
        return None  # not a judge of a live arena serve (or the server is already gone: see below)
    thread = threading.Thread(target=_watch, args=(int(expected), quit_app), name="arena-serve-watch", daemon=True)
    thread.start()
    return thread


def _watch(server: int, quit_app: Callable[[], None]) -> None:
    while os.getppid() == server:
        time.sleep(POLL_S)
    quit_app()
    time.sleep(GRACE_S)
    os._exit(0)  # the app did not end in time; the store's transactions keep the database whole
