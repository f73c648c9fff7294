"""The openai backend against a real OpenAI-compatible server (llama-cpp-python's, serving a tiny GGUF),
and against a deliberately broken local server for the error paths a real engine will not produce on cue."""

from __future__ import annotations

import http.server
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from arena.backend import BackendError, GenerationParams
from arena.demo.tinymodels import TinyModels
from arena.engine.contestants import parse_spec
from arena.engine.generation import generate
from arena.engine.pool import ModelPool
from tests.support.browser import free_port
from tests.support.engine_server import llama_server, send_body
from tests.support.helpers import assert_one_line_error, run

MESSAGES = [{"role": "user", "content": "Why are there two high tides a day?"}]


@pytest.fixture(scope="module")
def server(tiny: TinyModels) -> Iterator[str]:
    with llama_server(tiny.gguf, "tiny", "--n_ctx", "512") as url:
        yield url


def test_batch_through_the_server(server: str, tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    result = run(
        "batch",
        "--model",
        f"openai:{server}?model=tiny",
        "--limit",
        "2",
        "--max-tokens",
        "16",
        "--temperature",
        "0",
        "--db",
        str(db),
    )
    assert result.exit_code == 0, result.output
    rows = (
        sqlite3.connect(db)
        .execute("select contestant, n_tokens, finish_reason, output, rendered_prompt from generations")
        .fetchall()
    )
    assert len(rows) == 2
    for contestant, n_tokens, reason, output, rendered in rows:
        assert contestant == "tiny" and 0 < n_tokens <= 16 and reason in ("stop", "length") and output
        assert json.loads(rendered)[0]["role"] == "user"


def test_streaming_counts_and_cancel(server: str) -> None:
    with ModelPool() as pool:
        pool.load_all([parse_spec(f"openai:{server}")])
        [label] = ["openai@" + server.split("//")[1].split("/")[0]]
        model = pool[label]
        full = generate(model, MESSAGES, GenerationParams(temperature=0, max_tokens=12), threading.Event())  # type: ignore[arg-type]
        assert full.n_tokens == 12 and full.finish_reason == "length"
        cancel = threading.Event()
        stopped = generate(
            model, MESSAGES, GenerationParams(temperature=0, max_tokens=40), cancel, on_chunk=lambda c: cancel.set()
        )  # type: ignore[arg-type]
        assert stopped.finish_reason == "cancelled" and stopped.n_tokens == 1
        assert full.text.startswith(stopped.text)


def test_server_that_is_down_exits_2() -> None:
    assert_one_line_error(
        run("batch", "--model", f"openai:http://127.0.0.1:{free_port()}/v1"),
        "cannot connect to",
        "is the server running?",
    )


def test_not_a_url() -> None:
    assert_one_line_error(run("batch", "--model", "openai:localhost:8000"), "must be a URL")


class BrokenServer(http.server.BaseHTTPRequestHandler):
    """/ok/v1 lists a model; its chat endpoint misbehaves according to the path prefix."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.endswith("/models") and not self.path.startswith("/missing"):
            send_body(self, 200, "application/json", json.dumps({"data": [{"id": "m"}]}).encode())
        else:
            send_body(self, 404, "text/plain", b"no such route")

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.startswith("/reject"):
            send_body(self, 400, "application/json", b'{"error": {"message": "max_tokens is too large"}}')
        elif self.path.startswith("/garbled"):
            send_body(
                self, 200, "text/event-stream", b'data: {"choices": [{"delta": {"content": "Hi"}}]}\n\ndata: {oops\n\n'
            )
        elif self.path.startswith("/html"):
            send_body(self, 200, "text/html", b"<html>maintenance</html>\n")
        else:
            body = b'data: {"choices": [{"delta": {"content": "Hi"}}]}\n\ndata: {"choices": [{"delta": {}, "finish_reason": "stop"}], "usage": {"completion_tokens": 2}}\n\ndata: [DONE]\n\n'
            send_body(self, 200, "text/event-stream", body)


@pytest.fixture(scope="module")
def broken() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), BrokenServer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("reject", 'answered 400: {"error": {"message": "max_tokens is too large"}}'),
        ("garbled", "malformed stream"),
        ("html", "malformed stream"),
    ],
)
def test_error_answers_become_error_results(broken: str, prefix: str, expected: str) -> None:
    with ModelPool() as pool:
        pool.load_all([parse_spec(f"openai:{broken}/{prefix}/v1", label="x")])
        result = generate(pool["x"], MESSAGES, GenerationParams(), threading.Event())  # type: ignore[arg-type]
    assert result.finish_reason == "error"
    assert result.error is not None and expected in result.error


def test_usage_block_gives_the_exact_token_count(broken: str) -> None:
    with ModelPool() as pool:
        pool.load_all([parse_spec(f"openai:{broken}/ok/v1", label="x")])
        result = generate(pool["x"], MESSAGES, GenerationParams(), threading.Event())  # type: ignore[arg-type]
    assert (result.text, result.n_tokens, result.finish_reason) == ("Hi", 2, "stop")


def test_a_404_at_load_time_is_a_user_error(broken: str) -> None:
    with pytest.raises(BackendError, match="answered 404"):
        ModelPool().load_all([parse_spec(f"openai:{broken}/missing/v1", label="x")])


def _batch_rows(url: str, db: Path, parallel: str) -> list[tuple[str, str, str, str | None, str | None]]:
    result = run(
        "batch", "--model", f"openai:{url}?model=tiny", "--limit", "4", "--max-tokens", "12",
        "--temperature", "0", "--parallel", parallel, "--db", str(db),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    query = "select prompt, output, finish_reason, error, served_json from generations order by id"
    return sqlite3.connect(db).execute(query).fetchall()


def test_parallel_requests_to_a_real_server(server: str, tiny: TinyModels, tmp_path: Path) -> None:
    """``--parallel 3`` against llama-cpp-python's server. By default it ends a streaming answer when the next
    request arrives, with ``[DONE]`` and no finish reason: each cut answer is stored as an error saying so (it
    was stored as an empty, finished answer before). Started with ``--interrupt_requests false`` it queues
    them: the same greedy answers as one request at a time, in prompt order, each with the model it named."""
    one_at_a_time = _batch_rows(server, tmp_path / "p1.db", "1")
    assert len(one_at_a_time) == 4 and all(reason in ("stop", "length") for _, _, reason, _, _ in one_at_a_time)
    assert {json.loads(served)["model"] for *_, served in one_at_a_time} == {"tiny"}
    interrupted = _batch_rows(server, tmp_path / "cut.db", "3")
    cut = [error for _, _, reason, error, _ in interrupted if reason == "error"]
    assert cut and all("without a finish reason" in error and "--interrupt_requests false" in error for error in cut)
    with llama_server(tiny.gguf, "tiny", "--n_ctx", "512", "--interrupt_requests", "false") as queued:
        parallel = _batch_rows(queued, tmp_path / "p3.db", "3")
    assert [(prompt, output) for prompt, output, *_ in parallel] == [(p, o) for p, o, *_ in one_at_a_time]
    assert {json.loads(served)["model"] for *_, served in parallel} == {"tiny"}
