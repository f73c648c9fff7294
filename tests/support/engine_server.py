"""A small OpenAI-compatible server that records how many requests it serves at once, per model name: the
counterpart for ``arena batch --parallel`` (a real engine batches requests too, but cannot tell a test how
many it held at once). Used by the tests and by ``bench/bench_parallel.py`` (as a latency-bound engine).

Each answer is ``answer to: <the user's message>`` streamed word by word, ``token_delay_s`` apart; with
``gather`` N, a request waits (at most ``gather_timeout_s``) until N requests for its model are in flight,
so a test can see that N were sent at once without depending on timing; ``hold`` keeps a request waiting
until the log shows what the test expects to come first.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.browser import free_port


@dataclass
class EngineLog:
    """What the server saw: requests now in flight and the most at once, per model; the order they came in."""

    in_flight: dict[str, int] = field(default_factory=dict)
    most: dict[str, int] = field(default_factory=dict)
    arrived: list[tuple[str, str]] = field(default_factory=list)
    held_too_long: list[tuple[str, str]] = field(default_factory=list)
    """Requests whose ``hold`` was still on when ``gather_timeout_s`` ran out."""
    lock: threading.Condition = field(default_factory=threading.Condition)


def answer_to(message: str) -> str:
    return f"answer to: {message}"


Hold = Callable[[EngineLog, str], bool]
"""(the log, a request's model) -> whether the request may be answered now (checked as requests arrive)."""


def send_body(handler: http.server.BaseHTTPRequestHandler, status: int, content_type: str, body: bytes) -> None:
    """Answer with the whole ``body`` at once (a length, so the client knows where it ends): what every test
    server does where it is not streaming."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def make_handler(
    log: EngineLog,
    token_delay_s: float,
    gather: int,
    gather_timeout_s: float,
    reply: Callable[[str], str],
    hold: Hold | None = None,
) -> type:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet
            return

        def do_GET(self) -> None:
            send_body(self, 200, "application/json", json.dumps({"data": [{"id": "engine-model"}]}).encode())

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            model = str(request["model"])
            message = str(request["messages"][-1]["content"])
            with log.lock:
                log.arrived.append((model, message))
                log.in_flight[model] = log.in_flight.get(model, 0) + 1
                log.most[model] = max(log.most.get(model, 0), log.in_flight[model])
                log.lock.notify_all()
                log.lock.wait_for(lambda: log.in_flight[model] >= gather, timeout=gather_timeout_s)
                if hold is not None and not log.lock.wait_for(lambda: hold(log, model), timeout=gather_timeout_s):
                    log.held_too_long.append((model, message))
            try:
                self._stream(model, message, int(request.get("max_tokens", 200)))
            finally:
                with log.lock:
                    log.in_flight[model] -= 1

        def _stream(self, model: str, message: str, max_tokens: int) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            words = reply(message).split(" ")[:max_tokens]
            for number, word in enumerate(words):
                time.sleep(token_delay_s)
                piece = word if number == 0 else " " + word
                self._event({"model": f"{model}-build-7", "system_fingerprint": "fp_engine", "choices": [
                    {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                ]})  # fmt: skip
            self._event({"model": f"{model}-build-7", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

        def _event(self, event: dict[str, Any]) -> None:
            self.wfile.write(b"data: " + json.dumps(event).encode() + b"\n\n")
            self.wfile.flush()

    return Handler


@contextmanager
def engine(
    token_delay_s: float = 0.0,
    gather: int = 1,
    gather_timeout_s: float = 5.0,
    reply: Callable[[str], str] = answer_to,
    hold: Hold | None = None,
) -> Iterator[tuple[str, EngineLog]]:
    """The server on a free port, in threads; (its base URL ending in /v1, its log). ``reply`` makes the
    answer from the user's last message (default: ``answer to: <message>``); ``hold`` keeps a request waiting
    (at most ``gather_timeout_s``) until it says go."""
    log = EngineLog()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), make_handler(log, token_delay_s, gather, gather_timeout_s, reply, hold)
    )
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", log
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def llama_server(model: Path, alias: str, *extra: str) -> Iterator[str]:
    """llama-cpp-python's own OpenAI-compatible server on ``model`` under the name ``alias``, on a free port,
    once it lists its models (at most 120 s); its /v1 URL. ``extra``: the server's options."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--model_alias",
            alias,
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    try:
        while True:
            assert process.poll() is None, "llama_cpp.server exited during start-up"
            assert time.monotonic() < deadline, "llama_cpp.server did not come up in 120 s"
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
