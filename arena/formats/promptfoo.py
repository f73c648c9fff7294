"""promptfoo's ``results.json`` (``promptfoo eval -o results.json``) as answer sets (``arena import-answers``).

One file holds every provider's answers to every test: each provider becomes a contestant (under its
``label``, else its id), each rendered prompt a prompt, matched across providers and files by its text (as
the plain JSONL format matches answers that carry no id). ``--repeat`` runs are samples, in file order.

Kept: the prompt as promptfoo rendered it (a chat prompt's messages where it rendered a JSON list of them),
the provider's sampling settings, whether the generation was cut at its token limit, and promptfoo's own
score, pass and named scores beside each answer. Its API keys and URLs are never read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from arena.answer_sets import AnswerSet, ImportedAnswer, text_key
from arena.backend import Message
from arena.errors import ArenaError
from arena.formats.conversation import conversation_parts
from arena.vocab import FinishReason

SAMPLING_KEYS = (
    "temperature",
    "top_p",
    "top_k",
    "max_tokens",
    "max_completion_tokens",
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "stop",
)
"""The provider settings kept as an answer's sampling (never ``apiKey``, URLs or headers)."""


def is_promptfoo_results(document: object) -> bool:
    """Whether a parsed JSON document is promptfoo's output (``results`` holding a ``results`` list)."""
    results = document.get("results") if isinstance(document, dict) else None
    return isinstance(results, dict) and isinstance(results.get("results"), list)


def read_promptfoo(path: Path, label: str | None, document: object) -> list[AnswerSet]:
    """Each provider's answers in ``document`` (the parsed ``results.json``); with ``label`` the file must
    hold one provider, which takes it."""
    if not is_promptfoo_results(document):
        raise ArenaError(f"{path}: not promptfoo's results.json (no 'results' with a 'results' list)")
    assert isinstance(document, dict)
    metadata = document.get("metadata")
    version = metadata.get("promptfooVersion") if isinstance(metadata, dict) else None
    settings = _provider_settings(document.get("config"))
    by_provider: dict[str, list[ImportedAnswer]] = {}
    for index, result in enumerate(document["results"]["results"]):
        try:
            name, answer = _answer(result, settings, version)
        except ValueError as exc:
            raise ArenaError(f"{path} result {index}: {exc}; nothing was imported") from None
        by_provider.setdefault(name, []).append(answer)
    if not by_provider:
        raise ArenaError(f"{path}: no results in it")
    if label is not None:
        if len(by_provider) > 1:
            raise ArenaError(
                f"{path} holds {len(by_provider)} providers ({', '.join(by_provider)}): give it without a label "
                f"(--from {path}), and each provider becomes a contestant under its own"
            )
        return [AnswerSet(label, path, tuple(next(iter(by_provider.values()))))]
    return [AnswerSet(name, path, tuple(answers)) for name, answers in by_provider.items()]


def _provider_settings(config: object) -> dict[str, dict[str, Any]]:
    """Each configured provider's sampling settings, by its label and by its id."""
    found: dict[str, dict[str, Any]] = {}
    providers = config.get("providers") if isinstance(config, dict) else None
    for provider in providers if isinstance(providers, list) else []:
        if not isinstance(provider, dict) or not isinstance(provider.get("config"), dict):
            continue
        kept = {key: provider["config"][key] for key in SAMPLING_KEYS if key in provider["config"]}
        for name in (provider.get("label"), provider.get("id")):
            if isinstance(name, str) and name not in found:
                found[name] = kept
    return found


def _answer(
    result: object, settings: Mapping[str, Mapping[str, Any]], version: str | None
) -> tuple[str, ImportedAnswer]:
    if not isinstance(result, dict):
        raise ValueError("not a JSON object")
    provider = result.get("provider")
    if isinstance(provider, dict):
        name, model = provider.get("label") or provider.get("id"), provider.get("id")
    else:
        name = model = provider
    if not isinstance(name, str) or not name.strip():
        raise ValueError("no provider")
    prompt = result.get("prompt")
    raw = prompt.get("raw") if isinstance(prompt, dict) else None
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("no rendered prompt ('prompt.raw')")
    text, system, messages = conversation_parts(_chat_messages(raw) or [{"role": "user", "content": raw}])
    found = result.get("response")
    response: dict[str, Any] = found if isinstance(found, dict) else {}
    output = response.get("output")
    if output is not None and not isinstance(output, str):
        output = json.dumps(output, ensure_ascii=False)  # a structured answer, kept as its JSON
    recorded: dict[str, Any] = {"tool": f"promptfoo {version}" if version else "promptfoo"}
    for key, value in (("score", result.get("score")), ("pass", result.get("success"))):
        if isinstance(value, (bool, int, float)):
            recorded.setdefault("scores", {})[key] = value
    if isinstance(result.get("namedScores"), dict) and result["namedScores"]:
        recorded.setdefault("scores", {}).update(result["namedScores"])
    reason = response.get("finishReason")
    finish: FinishReason | None = "length" if reason == "length" else "stop" if reason == "stop" else None
    error = result.get("error") or response.get("error")
    if error or output is None:
        finish = "error"
        recorded["error"] = str(error or "no output")[:500]
    answer = ImportedAnswer(
        key=text_key(raw),
        prompt=text.strip() or raw.strip(),
        output=output or "",
        system=system,
        messages=messages,
        params=dict(settings.get(name.strip()) or settings.get(str(model)) or {}),
        finish_reason=finish,
        model=model if isinstance(model, str) else None,
        recorded=recorded,
    )
    return name.strip(), answer


def _chat_messages(raw: str) -> list[Message] | None:
    """A chat prompt promptfoo rendered as a JSON list of messages, as messages; None for a plain prompt."""
    if not raw.lstrip().startswith("["):
        return None
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(parsed, list) or not parsed:
        return None
    messages: list[Message] = []
    for message in parsed:
        if not isinstance(message, dict) or message.get("role") not in ("system", "user", "assistant"):
            return None
        if not isinstance(message.get("content"), str):
            return None
        messages.append({"role": message["role"], "content": message["content"]})
    return messages if any(m["role"] == "user" for m in messages) else None
