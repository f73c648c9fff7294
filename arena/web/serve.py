"""Judges in a browser: ``arena serve`` publishes ``arena play`` through textual-serve.

textual-serve runs one process per browser connection, talking to it over a websocket, so every judge gets
their own ``arena play`` (own session, own models, own seed) and all of them write to one SQLite file,
which WAL mode and ``BEGIN IMMEDIATE`` writes (``arena.store``) make safe for concurrent processes. Each
process asks its judge's name on the first screen (``play --ask-judge``).

Only ``arena.web.server`` (imported when serving) and ``arena.cli.serve``'s check import textual-serve (the
optional ``serve`` extra).
"""

from __future__ import annotations

import shlex
import socket
import sys
from collections.abc import Sequence

from arena.errors import ArenaError
from arena.web.guard import WILDCARD_HOSTS


def play_command(play_args: Sequence[str]) -> str:
    """The shell command each browser connection runs (textual-serve starts it through a shell, so every
    argument is quoted): this interpreter's ``arena play``, asking for the judge's name. ``exec`` puts the
    judge's process in the shell's place, so the server's child is the judge itself: stopping it stops the
    judge, and the judge sees the server go (``arena.web.orphan``)."""
    return "exec " + shlex.join([sys.executable, "-c", LAUNCH, "play", "--ask-judge", *play_args])


LAUNCH = "import sys; sys.path.pop(0); import runpy; runpy.run_module('arena', run_name='__main__', alter_sys=True)"
"""How a judge's process starts arena: as ``python -m arena`` would, but without the working directory on the
import path (``-m`` and ``-c`` put it first), so an ``arena`` folder beside a checkout cannot shadow the
installed package."""


def public_url_for(host: str, port: int) -> str:
    """The address browsers are told to connect to. A wildcard bind address is not one a browser can open,
    so it becomes this machine's name."""
    name = socket.gethostname() if host in WILDCARD_HOSTS else host
    if ":" in name:  # an IPv6 literal
        name = f"[{name}]"
    return f"http://{name}:{port}"


def check_listen(host: str, port: int) -> None:
    """``ArenaError`` when ``host:port`` cannot be listened on (taken, not this machine's, not an address)."""
    try:
        with socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET):
            pass
    except OSError as exc:  # socket.gaierror included
        reason = str(exc.strerror or exc).split(" (while attempting")[0]
        raise ArenaError(f"cannot listen on {host}:{port}: {reason}") from None


def require_textual_serve() -> None:
    """``ArenaError`` naming the extra to install, before anything is checked, loaded or printed."""
    try:
        import textual_serve.server  # noqa: F401, PLC0415  # the check itself
    except ImportError as exc:
        raise ArenaError("arena serve needs textual-serve: pip install 'vibe-arena[serve]'") from exc


def serve(command: str, *, host: str, port: int, public_url: str, max_judges: int) -> None:
    """Serve ``command`` to browsers until Ctrl-C; at most ``max_judges`` sessions at once (each loads its
    own copy of the models, so this bounds memory). The caller has run ``require_textual_serve``."""
    from arena.web.server import ArenaServer  # noqa: PLC0415  # aiohttp and textual-serve: only when serving

    ArenaServer(command, host=host, port=port, public_url=public_url, max_judges=max_judges).serve()
