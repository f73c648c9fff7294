"""Judges in a browser: ``arena serve`` publishes ``arena play`` through textual-serve.

textual-serve runs one process per browser connection, talking to it over a websocket, so every judge gets
their own ``arena play`` (own session, own models, own seed) and all of them write to one SQLite file,
which WAL mode and ``BEGIN IMMEDIATE`` writes (``arena.store``) make safe for concurrent processes. Each
process asks its judge's name on the first screen (``play --ask-judge``).

Only this module and ``arena.cli.serve`` import textual-serve (the optional ``serve`` extra).
"""

from __future__ import annotations

import asyncio
import shlex
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from arena.errors import ArenaError
from arena.wording import counted

if TYPE_CHECKING:
    from aiohttp import web  # the [serve] extra: only when serving

PAGE_TEMPLATES = Path(__file__).parent / "page"
"""Our page (``app_index.html``): textual-serve's own loads Google's web fonts into every judge's browser."""

TITLE = "vibe-arena"
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def play_command(play_args: Sequence[str]) -> str:
    """The shell command each browser connection runs (textual-serve starts it through a shell, so every
    argument is quoted): this interpreter's ``arena play``, asking for the judge's name."""
    return shlex.join([sys.executable, "-m", "arena", "play", "--ask-judge", *play_args])


def public_url_for(host: str, port: int) -> str:
    """The address browsers are told to connect to. A wildcard bind address is not one a browser can open,
    so it becomes this machine's name."""
    name = socket.gethostname() if host in WILDCARD_HOSTS else host
    if ":" in name:  # an IPv6 literal
        name = f"[{name}]"
    return f"http://{name}:{port}"


def full_page(max_judges: int) -> str:
    """What a browser gets while ``max_judges`` judges are judging: a plain page, and a way to try again."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>vibe-arena is full</title></head>'
        '<body style="background:#0c181f;color:#eee;font-family:monospace;text-align:center;padding-top:20vh">'
        f"<p>The arena is full: {counted(max_judges, 'judge')} are judging right now.</p>"
        "<p>Every judge runs their own copy of the models, so their number is capped (--max-judges).</p>"
        '<p><button onclick="location.reload()">Try again</button></p></body></html>'
    )


def require_textual_serve() -> None:
    """``ArenaError`` naming the extra to install, before anything is checked, loaded or printed."""
    try:
        import textual_serve.server  # noqa: F401, PLC0415  # the check itself
    except ImportError as exc:
        raise ArenaError("arena serve needs textual-serve: pip install 'vibe-arena[serve]'") from exc


def serve(command: str, *, host: str, port: int, public_url: str, max_judges: int) -> None:
    """Serve ``command`` to browsers until Ctrl-C; at most ``max_judges`` sessions at once (each loads its
    own copy of the models, so this bounds memory). The caller has run ``require_textual_serve``."""
    from aiohttp import web  # noqa: PLC0415  # the [serve] extra: only when serving
    from textual_serve.server import Server  # noqa: PLC0415  # the [serve] extra: only when serving

    sessions: set[asyncio.Task[object]] = set()  # the handlers of the judges' open websockets

    class ArenaServer(Server):
        """textual-serve's server with our page, a cap on concurrent sessions, and a quick stop."""

        active = 0

        async def on_shutdown(self, app: web.Application) -> None:
            """Ctrl-C: end every judge's session now (each app quits; its votes are already stored), where
            aiohttp would otherwise wait for the open websockets before it gives up on them."""
            for task in list(sessions):
                task.cancel()

        async def handle_index(self, request: web.Request) -> web.StreamResponse:
            if self.active >= max_judges:  # say so at once (the websocket is refused too, for races)
                return web.Response(text=full_page(max_judges), content_type="text/html", status=503)
            response: web.StreamResponse = await super().handle_index(request)
            return response

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            if self.active >= max_judges:
                refused = web.WebSocketResponse()
                await refused.prepare(request)
                await refused.close(code=1013, message=b"the arena is full")  # 1013: try again later
                return refused
            self.active += 1
            handler = asyncio.current_task()
            if handler is not None:
                sessions.add(handler)
            try:
                return await super().handle_websocket(request)
            finally:
                self.active -= 1
                sessions.discard(handler)

    server = ArenaServer(
        command, host=host, port=port, title=TITLE, public_url=public_url, templates_path=PAGE_TEMPLATES
    )
    server.serve()
