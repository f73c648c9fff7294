"""The aiohttp + textual-serve server behind ``arena serve``: textual-serve's ``Server`` with our page, a cap
on concurrent judges, a quick stop, and the guards of ``arena.web.guard`` (hosts, origins, sizes, message
shapes, one-line logs). Imported only when serving: aiohttp and textual-serve are the ``[serve]`` extra.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
import shutil
import signal
import socket
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from arena.untrusted import visible
from arena.web.guard import (
    MAX_MESSAGE_BYTES,
    Focus,
    Origins,
    Ping,
    Resize,
    Stdin,
    query_size,
    quiet_logging,
    read_envelope,
)
from arena.web.orphan import SERVER_PID
from arena.wording import counted

TITLE = "vibe-arena"
PAGE_TEMPLATES = Path(__file__).parent / "page"
"""Our page (``app_index.html``): textual-serve's own loads Google's web fonts into every judge's browser."""
ACCESS_LOG = '%a "%r" %s %b'
"""The access log without User-Agent and Referer: what a client sends there is theirs to choose."""

log = logging.getLogger("arena.serve")
CLOSE_TIMEOUT_S = 1.0
"""How long a closing socket waits for the page's answer (aiohttp's 10 s made every Ctrl-C take 10 s)."""
JUDGE_STOP_S = 5.0
"""How long a judge's app gets to quit when the server stops; then its process is killed (votes are stored
as they are cast, so nothing is lost either way)."""


def full_page(max_judges: int) -> str:
    """What a browser gets while ``max_judges`` judges are judging: a plain page, and a way to try again."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>vibe-arena is full</title></head>'
        '<body style="background:#0c181f;color:#eee;font-family:monospace;text-align:center;padding-top:20vh">'
        f"<p>The arena is full: {counted(max_judges, 'judge')} are judging right now.</p>"
        "<p>Every judge runs their own copy of the models, so their number is capped (--max-judges).</p>"
        '<p><button onclick="location.reload()">Try again</button></p></body></html>'
    )


class ArenaServer(Server):
    """One ``arena play --ask-judge`` process per judge's browser, at most ``max_judges`` at once."""

    def __init__(self, command: str, *, host: str, port: int, public_url: str, max_judges: int) -> None:
        self.errors = Path(tempfile.mkdtemp(prefix="arena-judges-"))
        """Each judge's stderr, one file per process (``$$`` is the judge's pid after ``exec``): read when the
        process ends, for the one line that says why, then deleted; textual-serve would otherwise copy it raw
        to the operator's terminal."""
        command = f"{command} 2>{shlex.quote(str(self.errors))}/$$.err"
        super().__init__(
            command, host=host, port=port, title=TITLE, public_url=public_url, templates_path=PAGE_TEMPLATES
        )
        self.max_judges = max_judges
        self.active = 0
        self.origins = Origins.of(public_url, host, port, socket.gethostname())
        self.sessions: set[asyncio.Task[object]] = set()
        """The handlers of the judges' open websockets."""

    def initialize_logging(self) -> None:
        quiet_logging()

    async def on_startup(self, app: web.Application) -> None:
        """Nothing: textual-serve's banner printed the judges' internal command line (``arena serve`` has
        said where judges connect and where votes go)."""

    def serve(self, debug: bool = False) -> None:
        """textual-serve's ``serve`` with our access log (no User-Agent, no Referer)."""
        self.initialize_logging()
        os.environ[SERVER_PID] = str(os.getpid())  # each judge's process ends when this one is gone
        loop = asyncio.new_event_loop()
        loop.add_signal_handler(signal.SIGINT, self.request_exit)
        loop.add_signal_handler(signal.SIGTERM, self.request_exit)
        web.run_app(
            self._make_app(),
            host=self.host,
            port=self.port,
            handle_signals=False,
            loop=loop,
            print=lambda *args: None,
            access_log_format=ACCESS_LOG,
        )
        shutil.rmtree(self.errors, ignore_errors=True)

    async def _make_app(self) -> web.Application:
        """textual-serve's routes (the page, the socket, its static files and downloads) behind one guard:
        every request, whatever its path, is answered only under a Host the arena answers to."""
        app = await super()._make_app()
        app.middlewares.append(self._only_our_hosts)
        return app

    @web.middleware
    async def _only_our_hosts(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not self.origins.host_allowed(request.headers.get("Host")):
            return self.refused(request, "unknown Host")
        return await handler(request)

    def refused(self, request: web.Request, why: str) -> web.Response:
        log.info(f"refused {request.method} {request.path} from {request.remote}: {why}")
        page = f"This arena answers at {self.public_url}: open that address. ({why})"
        return web.Response(text=page, status=403)

    async def on_shutdown(self, app: web.Application) -> None:
        """Ctrl-C: end every judge's session now (each app quits; its votes are already stored), where
        aiohttp would otherwise wait for the open websockets before it gives up on them."""
        for task in list(self.sessions):
            task.cancel()

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        if self.active >= self.max_judges:  # say so at once (the websocket is refused too, for races)
            return web.Response(text=full_page(self.max_judges), content_type="text/html", status=503)
        response: web.StreamResponse = await super().handle_index(request)
        return response

    async def handle_websocket(  # type: ignore[override]  # a refusal is a plain HTTP answer
        self, request: web.Request
    ) -> web.StreamResponse:
        """A judge's socket, checked before any process starts (after the Host, ``_only_our_hosts``): our
        page's Origin, a real websocket upgrade, a free slot."""
        if not self.origins.origin_allowed(request.headers.get("Origin")):
            return self.refused(request, "not from the arena's page (Origin)")
        websocket = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_MESSAGE_BYTES, timeout=CLOSE_TIMEOUT_S)
        if not websocket.can_prepare(request).ok:
            log.info(f"refused {request.path} from {request.remote}: not a websocket upgrade")
            return web.Response(text="a websocket upgrade is expected here", status=400)
        await websocket.prepare(request)
        if self.active >= self.max_judges:
            await websocket.close(code=1013, message=b"the arena is full")  # 1013: try again later
            return websocket
        self.active += 1
        handler = asyncio.current_task()
        if handler is not None:
            self.sessions.add(handler)
        try:
            await self._run_judge(websocket, request)
        finally:
            self.active -= 1
            self.sessions.discard(handler)
        return websocket

    async def _run_judge(self, websocket: web.WebSocketResponse, request: web.Request) -> None:
        width, height = query_size(request.query.get("width"), request.query.get("height"))

        async def close() -> None:
            """textual-serve's call when the judge's process has ended: the page is told why (its own quit
            closes normally; a failure says so, and one log line says it too)."""
            process = getattr(service, "_process", None)
            why = await process_end(process, self.errors)
            if why == SESSION_ENDED:
                await websocket.close()
                return
            log.info(f"a judge's process from {request.remote} ended: {why}")
            await websocket.close(code=1011, message=close_reason(why))

        service = AppService(
            self.command,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=close,
            download_manager=self.download_manager,
            debug=False,
        )
        try:
            await service.start(width, height)
            relay = asyncio.create_task(self._relay(websocket, service, request))
            process_ended = getattr(service, "_task", None)  # textual-serve's reader of the judge's output
            watched = {relay, process_ended} if isinstance(process_ended, asyncio.Task) else {relay}
            try:
                done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
            finally:
                relay.cancel()
            if relay not in done and not websocket.closed:
                # the judge's process ended on its own (a crash, the OOM killer's kill -9) without textual-serve
                # closing the page: close it, so the slot is free instead of a frozen page that holds it
                await close()
        except asyncio.CancelledError:  # the server stops: the judge quits and the page closes, at once
            await asyncio.gather(websocket.close(), self._stop(service))
        except Exception as exc:  # one line for the operator, never a traceback with locals
            log.info(f"a judge's session from {request.remote} ended: {type(exc).__name__}: {exc}")
        finally:
            await self._stop(service)

    async def _stop(self, service: AppService) -> None:
        """The judge's app quits (bounded by ``JUDGE_STOP_S``); a process that does not is killed. Its stderr
        file goes too (a page closed by its judge never read it: kept, they would pile up while serving)."""
        process = getattr(service, "_process", None)
        try:
            await asyncio.wait_for(asyncio.shield(service.stop()), JUDGE_STOP_S)
        except (TimeoutError, asyncio.TimeoutError):
            if process is not None and process.returncode is None:
                log.info("a judge's process did not quit in time: killed (its votes are stored)")
                process.kill()
        except (ConnectionResetError, BrokenPipeError):  # the process is already gone
            pass
        if process is not None:
            (self.errors / f"{process.pid}.err").unlink(missing_ok=True)

    async def _relay(self, websocket: web.WebSocketResponse, service: AppService, request: web.Request) -> None:
        """The page's messages to the judge's process, in the shapes ``read_envelope`` accepts."""
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            envelope = read_envelope(message.data)
            if isinstance(envelope, Stdin):
                await service.send_bytes(envelope.data)
            elif isinstance(envelope, Resize):
                await service.set_terminal_size(envelope.width, envelope.height)
            elif isinstance(envelope, Ping):
                await websocket.send_json(["pong", envelope.data])
            elif isinstance(envelope, Focus):
                await (service.focus() if envelope.focused else service.blur())
            else:
                log.info(f"closed a judge's socket from {request.remote}: a message the arena's page never sends")
                await websocket.close(code=1003, message=b"unexpected message")
                return


PROCESS_END_WAIT_S = 2.0
"""How long a judge's ended process is waited for, for its exit status."""
SESSION_ENDED = "the session ended"


async def process_end(process: asyncio.subprocess.Process | None, errors: Path) -> str:
    """Why a judge's process ended, in one line: it quit, or its exit status and the last line it wrote to
    stderr (a traceback's last line names the error), made visible. Its stderr file is deleted."""
    if process is None:
        return "its process is gone"
    try:
        status = await asyncio.wait_for(process.wait(), PROCESS_END_WAIT_S)
    except (TimeoutError, asyncio.TimeoutError):
        return "its process stopped answering"
    said = _tail(errors / f"{process.pid}.err")
    if status == 0:
        return SESSION_ENDED
    lines = [line.strip() for line in said.splitlines() if line.strip()]
    last = visible(lines[-1])[:200] if lines else "it wrote nothing"
    how = f"killed by signal {-status}" if status < 0 else f"exit status {status}"
    return f"the arena could not go on ({how}): {last}"


def _tail(path: Path, size: int = 4096) -> str:
    """The last ``size`` bytes of ``path`` as text (empty when there is none), and the file deleted."""
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - size))
            found = handle.read(size)
        path.unlink()
    except OSError:
        return ""
    return found.decode("utf-8", "replace")


def close_reason(why: str) -> bytes:
    """``why`` as a websocket close reason (at most 123 bytes, cut on a character boundary)."""
    encoded = why.encode("utf-8")
    if len(encoded) <= 123:
        return encoded
    return encoded[:120].decode("utf-8", "ignore").encode("utf-8") + b"..."
