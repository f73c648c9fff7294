"""Streaming chat completions over HTTP (server-sent events) with clear errors.

Connection refused, timeouts, non-2xx answers (redirects included), malformed or cut-off streams and an
answer past its deadline each become a one-line ``BackendError``; esc closes the connection at once.
Token counts come from the server's usage block when it sends a plausible one
(``stream_options.include_usage``), else each content delta counts as one token, which is what vLLM,
TGI and llama.cpp's server send.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from arena.backend import (
    BackendError,
    Chunk,
    FinishReason,
    GenerationParams,
    LoadedBase,
    LoadedInfo,
    Message,
    RenderedPrompt,
)
from arena_openai.sse import LineTooLong, bounded_lines

if TYPE_CHECKING:
    from arena.backend import Contestant


def _check_status(response: httpx.Response, url: str) -> None:
    """Anything but a 2xx is an error: a redirect (not followed: it could move the API key to another
    host) would otherwise read as an empty answer."""
    if response.is_success:
        return
    if response.is_redirect:
        where = response.headers.get("location", "?")[:200]
        raise BackendError(f"{url} answered {response.status_code} (a redirect to {where}); use the final URL")
    detail = response.read()[:300].decode("utf-8", errors="replace").strip()
    raise BackendError(f"{url} answered {response.status_code}: {detail}")


def _event(line: str, url: str) -> dict[str, Any] | None:
    """One ``data:`` line as a JSON object; None for ``[DONE]``; an error event or junk raises."""
    if not line.startswith("data:"):
        raise BackendError(f"malformed stream from {url}: expected 'data:' lines, got {line[:80]!r}")
    data = line[5:].strip()
    if data == "[DONE]":
        return None
    try:
        event = json.loads(data)
    except (json.JSONDecodeError, RecursionError):
        raise BackendError(f"malformed stream from {url}: not JSON: {data[:80]!r}") from None
    if not isinstance(event, dict):
        raise BackendError(f"malformed stream from {url}: expected objects, got {data[:80]!r}")
    if "error" in event:
        raise BackendError(f"{url} reported an error: {str(event['error'])[:200]}")
    return event


def _choices(event: dict[str, Any], url: str) -> Iterator[dict[str, Any]]:
    """Each choice's text delta and finish reason, checked for shape (the text's type is checked later,
    by ``arena.engine.generation``, for every backend alike)."""
    choices = event.get("choices") or []
    if not isinstance(choices, list):
        raise BackendError(f"malformed stream from {url}: 'choices' is not a list")
    for choice in choices:
        if not isinstance(choice, dict):
            raise BackendError(f"malformed stream from {url}: a choice is not an object")
        delta = choice.get("delta") or {}
        if not isinstance(delta, dict):
            raise BackendError(f"malformed stream from {url}: a delta is not an object")
        yield {"text": delta.get("content") or "", "finish_reason": choice.get("finish_reason")}


def _plausible_count(value: object) -> int | None:
    """A usage count the arena can believe (an int, not negative); anything else is ignored."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


class _Watch:
    """Closes the connection when the judge cancels or the answer's deadline passes, so a read blocked on
    a silent (or one-byte-a-second) server returns at once instead of after the per-read timeout."""

    def __init__(self, cancel: threading.Event, deadline_s: float) -> None:
        self.cancel = cancel
        self.deadline = time.monotonic() + deadline_s
        self.done = threading.Event()
        self.fired: str | None = None
        self.thread: threading.Thread | None = None

    def start(self, response: httpx.Response) -> None:
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is None:
            return
        self.thread = threading.Thread(target=self._watch, args=(sock,), daemon=True, name="openai-watch")
        self.thread.start()

    def _watch(self, sock: socket.socket) -> None:
        while not self.done.wait(0.05):
            if self.cancel.is_set():
                self.fired = "cancel"
            elif time.monotonic() > self.deadline:
                self.fired = "deadline"
            else:
                continue
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            return

    def stop(self) -> None:
        self.done.set()
        if self.thread is not None:
            self.thread.join()


def _describe(exc: httpx.HTTPError, url: str) -> str:
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to {url}: connection refused or host unreachable (is the server running?)"
    if isinstance(exc, httpx.TimeoutException):
        return f"{url} did not answer in time ({type(exc).__name__})"
    return f"{url}: {type(exc).__name__}: {exc}"


def _seconds(options: Mapping[str, Any], name: str, default: float) -> float:
    """A positive, finite number of seconds from the spec's options (``timeout``, ``deadline``)."""
    value = float(options.get(name, default))
    if not (math.isfinite(value) and 0 < value <= 86_400):
        raise BackendError(f"openai option {name}={options.get(name)!r}: expected seconds between 0 and 86400")
    return value


def _request(model: str, messages: Sequence[Message], params: GenerationParams) -> dict[str, Any]:
    """The chat completion request's body: a stream, with the usage count asked for at its end."""
    body: dict[str, Any] = {
        "model": model,
        "messages": list(messages),
        "temperature": params.temperature,
        "top_p": params.top_p,
        "max_tokens": params.max_tokens,
        "seed": params.seed,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if params.stop:
        body["stop"] = list(params.stop)
    return body


class _Read:
    """What one answer's stream said so far: tokens with text, the finish reason, the server's usage count,
    what the engine says it ran, and whether the stream ended (``[DONE]``, or cut at ``max_tokens``)."""

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens
        self.reason: FinishReason | None = None
        self.counted = 0
        self.usage_tokens: int | None = None
        self.served: dict[str, str] = {}
        self.ended = False

    def chunks(self, response: httpx.Response, url: str, cancel: threading.Event, watch: _Watch) -> Iterator[Chunk]:
        """The answer's text as it streams, one chunk per server token."""
        for line in bounded_lines(response.iter_bytes()):
            if cancel.is_set() or watch.fired:
                return  # the watch closed the connection: what is left of the line is not the server's
            if not line.strip() or line.startswith(":"):
                continue
            event = _event(line, url)
            if event is None:
                self.ended = True
                return
            self._note(event)
            for choice in _choices(event, url):
                if choice["text"]:
                    if self.counted >= self.max_tokens:  # the server ignored max_tokens: cut here
                        self.reason, self.ended = "length", True
                        return
                    self.counted += 1
                    yield Chunk(choice["text"], n_tokens=1)
                if choice["finish_reason"] in ("stop", "length"):
                    self.reason = choice["finish_reason"]

    def _note(self, event: dict[str, Any]) -> None:
        """What the engine says it ran (checked later) and its token count, from any event."""
        for key in ("model", "system_fingerprint"):
            if isinstance(event.get(key), str) and event[key]:
                self.served[key] = event[key]
        usage = event.get("usage")
        if isinstance(usage, dict):
            self.usage_tokens = _plausible_count(usage.get("completion_tokens"))

    def ending(self, url: str) -> Iterator[Chunk]:
        """The final chunk, or why the stream is not a whole answer."""
        if not self.ended and self.reason is None:
            raise BackendError(f"{url} cut the stream off after {self.counted} tokens (no [DONE], no finish reason)")
        if self.reason is None:  # [DONE] without a finish reason: the engine ended this answer, not the model
            raise BackendError(
                f"{url} ended the stream after {self.counted} tokens without a finish reason: the server cut this "
                "answer short (llama-cpp-python's server does when another request arrives, unless started with "
                "--interrupt_requests false)"
            )
        usage = self.usage_tokens
        if usage is not None and self.counted <= usage <= max(self.max_tokens, self.counted) + 1:
            # the server's own count is exact: account for tokens that carried no text (e.g. EOS)
            yield Chunk("", n_tokens=usage - self.counted)
        yield Chunk("", n_tokens=0, finish_reason=self.reason, served=self.served or None)


class OpenAIModel(LoadedBase):
    def __init__(
        self, contestant: Contestant, client: httpx.Client, base_url: str, model: str, deadline_s: float
    ) -> None:
        self.contestant = contestant
        self.client = client
        self.base_url = base_url
        self.model = model
        self.deadline_s = deadline_s

    @classmethod
    def connect(cls, contestant: Contestant) -> OpenAIModel:
        """Open a client and ask the server for its models, so a server that is down fails at load time."""
        base_url = contestant.target.rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise BackendError(f"openai target must be a URL like http://127.0.0.1:8000/v1, got {contestant.target!r}")
        options = contestant.options
        headers = {"Accept": "application/json"}
        key_env = str(options.get("api_key_env", "OPENAI_API_KEY"))
        key = os.environ.get(key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        timeout = _seconds(options, "timeout", 60.0)
        deadline = _seconds(options, "deadline", 600.0)
        try:
            httpx.URL(base_url)
        except (httpx.InvalidURL, ValueError) as exc:
            raise BackendError(f"openai target {contestant.target!r} is not a valid URL ({exc})") from None
        client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)))
        url = f"{base_url}/models"
        try:
            response = client.get(url)
            _check_status(response, url)
        except httpx.HTTPError as exc:
            client.close()
            raise BackendError(_describe(exc, url)) from None
        except BackendError:
            client.close()
            raise
        try:
            listed = [str(item["id"]) for item in response.json().get("data", [])]
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            client.close()
            raise BackendError(f"{url} did not answer with an OpenAI model list") from None
        model = str(options["model"]) if "model" in options else (listed[0] if listed else "")
        if not model:
            client.close()
            raise BackendError(f"{base_url} lists no models; pass ?model=NAME")
        return cls(contestant, client, base_url, model, deadline)

    def render(self, messages: Sequence[Message]) -> RenderedPrompt:
        # The server applies its own template; what the arena knows for sure is the message list it sent.
        return RenderedPrompt(json.dumps(list(messages), ensure_ascii=False, indent=1), chat_template=None)

    def stream(
        self,
        messages: Sequence[Message],
        params: GenerationParams,
        cancel: threading.Event,
        prompt_id: str | None = None,
    ) -> Iterator[Chunk]:
        """Stream one answer, trusting nothing the server says: the stream must end with ``[DONE]`` or a
        finish reason (a cut is an error), ``max_tokens`` holds even if the server ignores it, a usage count
        is used only when it is plausible, lines are bounded, and the whole answer has a deadline."""
        url = f"{self.base_url}/chat/completions"
        read = _Read(params.max_tokens)
        watch = _Watch(cancel, self.deadline_s)
        try:
            with self.client.stream("POST", url, json=_request(self.model, messages, params)) as response:
                _check_status(response, url)
                watch.start(response)
                yield from read.chunks(response, url, cancel, watch)
        except httpx.HTTPError as exc:
            if watch.fired == "cancel":
                return
            if watch.fired == "deadline":
                raise BackendError(f"{url} did not finish the answer within {self.deadline_s:g} s") from None
            raise BackendError(_describe(exc, url)) from None
        except LineTooLong as exc:
            raise BackendError(f"malformed stream from {url}: a line of over {exc.args[0]:,} bytes") from None
        finally:
            watch.stop()
        if cancel.is_set():
            return
        if watch.fired == "deadline":
            raise BackendError(f"{url} did not finish the answer within {self.deadline_s:g} s")
        yield from read.ending(url)

    def info(self) -> LoadedInfo:
        return LoadedInfo(backend="openai", target=self.base_url, extra={"model": self.model})

    def peak_memory_bytes(self) -> int | None:
        return None  # the server's memory is not ours to see

    def close(self) -> None:
        self.client.close()
