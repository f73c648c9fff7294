"""Streaming chat completions over HTTP (server-sent events) with clear errors.

Connection refused, timeouts, 4xx / 5xx answers and malformed streams each become a one-line
``BackendError``. Token counts come from the server's usage block when it sends one
(``stream_options.include_usage``), else each content delta counts as one token, which is what vLLM,
TGI and llama.cpp's server send.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from arena.backend import BackendError, Chunk, FinishReason, GenerationParams, LoadedInfo, Message, RenderedPrompt

if TYPE_CHECKING:
    from arena.backend import Contestant


def _describe(exc: httpx.HTTPError, url: str) -> str:
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to {url}: connection refused or host unreachable (is the server running?)"
    if isinstance(exc, httpx.TimeoutException):
        return f"{url} did not answer in time ({type(exc).__name__})"
    return f"{url}: {type(exc).__name__}: {exc}"


class OpenAIModel:
    def __init__(self, contestant: Contestant, client: httpx.Client, base_url: str, model: str) -> None:
        self.contestant = contestant
        self.client = client
        self.base_url = base_url
        self.model = model

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
        timeout = float(options.get("timeout", 60.0))
        client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)))
        url = f"{base_url}/models"
        try:
            response = client.get(url)
        except httpx.HTTPError as exc:
            client.close()
            raise BackendError(_describe(exc, url)) from None
        if response.status_code >= 400:
            client.close()
            raise BackendError(f"{url} answered {response.status_code}: {response.text[:200].strip()}")
        try:
            listed = [item["id"] for item in response.json().get("data", [])]
        except (ValueError, KeyError, TypeError, AttributeError):
            client.close()
            raise BackendError(f"{url} did not answer with an OpenAI model list") from None
        model = str(options["model"]) if "model" in options else (listed[0] if listed else "")
        if not model:
            client.close()
            raise BackendError(f"{base_url} lists no models; pass ?model=NAME")
        return cls(contestant, client, base_url, model)

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
        body: dict[str, Any] = {
            "model": self.model,
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
        url = f"{self.base_url}/chat/completions"
        reason: FinishReason | None = None
        counted = 0
        usage_tokens: int | None = None
        try:
            with self.client.stream("POST", url, json=body) as response:
                if response.status_code >= 400:
                    detail = response.read().decode("utf-8", errors="replace")[:300].strip()
                    raise BackendError(f"{url} answered {response.status_code}: {detail}")
                for line in response.iter_lines():
                    if cancel.is_set():
                        return
                    if not line.strip() or line.startswith(":"):
                        continue
                    if not line.startswith("data:"):
                        raise BackendError(f"malformed stream from {url}: expected 'data:' lines, got {line[:80]!r}")
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    try:
                        event = json.loads(data)
                    except json.JSONDecodeError:
                        raise BackendError(f"malformed stream from {url}: not JSON: {data[:80]!r}") from None
                    if not isinstance(event, dict):
                        raise BackendError(f"malformed stream from {url}: expected objects, got {data[:80]!r}")
                    if "error" in event:
                        raise BackendError(f"{url} reported an error: {str(event['error'])[:200]}")
                    usage = event.get("usage")
                    if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
                        usage_tokens = usage["completion_tokens"]
                    for choice in event.get("choices") or []:
                        text = (choice.get("delta") or {}).get("content") or ""
                        if text:
                            counted += 1
                            yield Chunk(text, n_tokens=1)
                        if choice.get("finish_reason") in ("stop", "length"):
                            reason = choice["finish_reason"]
        except httpx.HTTPError as exc:
            raise BackendError(_describe(exc, url)) from None
        if usage_tokens is not None and usage_tokens != counted:
            # the server's own count is exact: account for tokens that carried no text (e.g. EOS)
            yield Chunk("", n_tokens=usage_tokens - counted)
        yield Chunk("", n_tokens=0, finish_reason=reason or "stop")

    def info(self) -> LoadedInfo:
        return LoadedInfo(backend="openai", target=self.base_url, extra={"model": self.model})

    def peak_memory_bytes(self) -> int | None:
        return None  # the server's memory is not ours to see

    def close(self) -> None:
        self.client.close()
