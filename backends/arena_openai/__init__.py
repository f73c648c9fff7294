"""Any OpenAI-compatible server (vLLM, TGI, SGLang, llama.cpp server, Ollama) by base URL and model name.

``openai:http://127.0.0.1:8000/v1?model=Qwen/Qwen2.5-7B-Instruct``; the API key, if the server wants one,
comes from the environment variable named by ``api_key_env`` (default ``OPENAI_API_KEY``), never from
the command line. httpx is imported at load time only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from arena.backend import BackendBase, Capabilities, Option

if TYPE_CHECKING:
    from arena.backend import Contestant
    from arena_openai.client import OpenAIModel


class OpenAIBackend(BackendBase):
    """Registered as ``openai``."""

    name = "openai"
    description = "OpenAI-compatible HTTP servers (vLLM, TGI, SGLang, llama.cpp server, Ollama)"
    extra = "openai"
    requires: tuple[str, ...] = ("httpx",)
    capabilities = Capabilities(concurrent_requests=True)
    options: ClassVar[dict[str, Option]] = {
        # the model name already is the default label, so it is not repeated as an option suffix
        "model": Option(str, "model name the server knows (default: the first it lists)", affects_output=False),
        "api_key_env": Option(str, "environment variable holding the API key", affects_output=False),
        "timeout": Option(float, "seconds to wait for the server (connect and between chunks)", affects_output=False),
        "deadline": Option(float, "seconds one whole answer may take (default 600)", affects_output=False),
    }

    def default_label(self, target: str, options: Mapping[str, Any]) -> str | None:
        """The served model's name says more than the URL; without one, the server's host and port."""
        model = options.get("model")
        if model:
            name = str(model).rstrip("/").rsplit("/", 1)[-1]
            # a server named after its GGUF file: not the same contestant as that file in llama.cpp
            return f"{name[: -len('.gguf')]}@{self.name}" if name.lower().endswith(".gguf") and len(name) > 5 else name
        try:
            host = urlsplit(target).netloc
        except ValueError:  # not a URL at all: loading says so in one line
            host = ""
        return f"openai@{host or target}"

    def load(self, contestant: Contestant) -> OpenAIModel:
        from arena_openai.client import OpenAIModel  # httpx: only when a server contestant loads

        return OpenAIModel.connect(contestant)
