"""The openai client against a hostile server on 127.0.0.1: streams cut off, redirects, ignored max_tokens,
impossible usage counts, endless lines, a one-byte drip and a silent server. Each ends in bounded time
with an honest result: an error, a cut at max_tokens, or a stop the judge asked for."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time
from collections.abc import Iterator

import pytest

from arena.backend import GenerationParams, GenerationResult
from arena.engine.contestants import parse_spec
from arena.engine.generation import generate
from arena.engine.pool import ModelPool
from tests.support.engine_server import send_body
from tests.support.helpers import assert_one_line_error, run

MESSAGES = [{"role": "user", "content": "Say hi."}]
SERVER_STOP = threading.Event()


def delta(text: str) -> bytes:
    return b"data: " + json.dumps({"choices": [{"delta": {"content": text}}]}).encode() + b"\n\n"


class HostileServer(http.server.BaseHTTPRequestHandler):
    """GET */models lists one model; POST misbehaves according to the first path segment."""

    protocol_version = "HTTP/1.0"  # the body ends when the connection closes: a cut is just a close

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        send_body(self, 200, "application/json", json.dumps({"data": [{"id": "m"}]}).encode())

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        kind = self.path.strip("/").split("/")[0]
        if kind == "redirect":
            self.send_response(302)
            self.send_header("Location", "http://198.51.100.7/steal-the-key")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client hung up, as it should
            getattr(self, f"stream_{kind}")()

    def stream_cut(self) -> None:
        self.wfile.write(delta("Half an") + delta(" answer"))

    def stream_flood(self) -> None:
        self.wfile.write(b"".join(delta(f" w{i}") for i in range(500)))
        self.wfile.write(b'data: {"choices": [{"delta": {}, "finish_reason": "stop"}]}\n\ndata: [DONE]\n\n')

    def stream_negative(self) -> None:
        self.wfile.write(delta("Hi") + delta(" there"))
        usage = {"choices": [{"delta": {}, "finish_reason": "stop"}], "usage": {"completion_tokens": -50}}
        self.wfile.write(b"data: " + json.dumps(usage).encode() + b"\n\ndata: [DONE]\n\n")

    def stream_megabytes(self) -> None:
        """Deltas of ~1 MB each (under the line bound), 40 of them, then a stop: a server that ignores max_tokens."""
        for _ in range(40):
            self.wfile.write(delta("y" * 1_000_000))
        self.wfile.write(b'data: {"choices": [{"delta": {}, "finish_reason": "stop"}]}\n\ndata: [DONE]\n\n')

    def stream_huge(self) -> None:
        self.wfile.write(delta("ok"))
        self.wfile.write(b'data: {"choices": [{"delta": {"content": "' + b"x" * (3 << 20))

    def stream_drip(self) -> None:
        self.wfile.write(b"data: ")
        while not SERVER_STOP.is_set():
            self.wfile.write(b"x")
            self.wfile.flush()
            SERVER_STOP.wait(0.05)

    def stream_silent(self) -> None:
        self.wfile.flush()
        SERVER_STOP.wait(30)


@pytest.fixture(scope="module")
def hostile() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HostileServer)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    SERVER_STOP.set()
    httpd.shutdown()


def answer(url: str, params: GenerationParams | None = None, cancel: threading.Event | None = None) -> GenerationResult:
    with ModelPool() as pool:
        pool.load_all([parse_spec(url, label="x")])
        return generate(pool["x"], MESSAGES, params or GenerationParams(), cancel or threading.Event())  # type: ignore[arg-type]


def test_a_stream_cut_off_is_an_error_not_a_normal_stop(hostile: str) -> None:
    result = answer(f"openai:{hostile}/cut/v1")
    assert result.finish_reason == "error"
    assert result.error is not None and "cut the stream off" in result.error
    assert result.text == "Half an answer"  # what arrived is kept, and marked


def test_a_redirect_is_an_error_and_is_not_followed(hostile: str) -> None:
    result = answer(f"openai:{hostile}/redirect/v1")
    assert result.finish_reason == "error"
    assert result.error is not None and "302" in result.error and "redirect" in result.error


def test_max_tokens_holds_when_the_server_ignores_it(hostile: str) -> None:
    result = answer(f"openai:{hostile}/flood/v1", GenerationParams(max_tokens=10))
    assert (result.n_tokens, result.finish_reason) == (10, "length")
    assert result.text == "".join(f" w{i}" for i in range(10))


def test_megabyte_deltas_are_cut_at_the_character_limit(hostile: str) -> None:
    """The hostile review's RC5: 40 one-megabyte deltas under max_tokens 200 stored 40 MB. The answer is cut
    at the limit its token budget allows (64 characters a token, at least 16,384), said as a cut like a token
    budget's."""
    for budget, limit in ((200, 16_384), (1000, 64_000)):
        result = answer(f"openai:{hostile}/megabytes/v1", GenerationParams(max_tokens=budget))
        assert result.finish_reason == "length" and result.text == "y" * limit


def test_an_impossible_usage_count_is_ignored(hostile: str) -> None:
    result = answer(f"openai:{hostile}/negative/v1")
    assert (result.text, result.n_tokens, result.finish_reason) == ("Hi there", 2, "stop")
    assert result.tokens_per_s is None or result.tokens_per_s >= 0


def test_an_endless_line_is_refused_without_holding_it(hostile: str) -> None:
    result = answer(f"openai:{hostile}/huge/v1")
    assert result.finish_reason == "error"
    assert result.error is not None and "a line of over" in result.error
    assert result.text == "ok"


def test_a_drip_feed_stops_at_the_deadline(hostile: str) -> None:
    started = time.monotonic()
    result = answer(f"openai:{hostile}/drip/v1?deadline=0.5&timeout=20")
    assert result.finish_reason == "error"
    assert result.error is not None and "within 0.5 s" in result.error
    assert time.monotonic() - started < 15  # a bound, far below the per-read timeout it used to wait for


def test_cancel_interrupts_a_silent_server(hostile: str) -> None:
    cancel = threading.Event()
    results: list[GenerationResult] = []
    worker = threading.Thread(
        target=lambda: results.append(answer(f"openai:{hostile}/silent/v1?timeout=60", cancel=cancel))
    )
    worker.start()
    time.sleep(0.3)  # let the request reach the server; not a timing assertion
    cancel.set()
    worker.join(timeout=15)  # well under the 60 s read timeout the client would otherwise wait
    assert not worker.is_alive()
    assert results[0].finish_reason == "cancelled"


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("openai:http://[::1", "not a valid URL"),
        ("openai:http://127.0.0.1:9/v1?timeout=nan", "timeout"),
        ("openai:http://127.0.0.1:9/v1?timeout=-1", "timeout"),
        ("openai:http://127.0.0.1:9/v1?deadline=inf", "deadline"),
    ],
)
def test_bad_urls_and_timeouts_are_one_line(spec: str, fragment: str) -> None:
    assert_one_line_error(run("batch", "--limit", "1", "--model", spec), fragment)
