"""Inspect (UK AISI's ``inspect_ai``) eval logs as one contestant's answer set (``arena import-answers``).

A log is one task run against one model: each sample's final answer is an answer, its epoch the sample
index, the task and sample id what matches it to the same prompt in another run of the task. ``.json`` logs
are read here; ``.eval`` logs (a zip archive, zstd-compressed by recent versions) with Inspect's own reader
where ``inspect_ai`` is installed, else with the standard library where their compression allows.

Kept from the log: the messages the model was sent (system and earlier turns), the generation config as the
sampling, the model's name, how each generation ended (cut at the token limit or not), and the scores
Inspect's scorers gave, beside the answer.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from arena.answer_sets import AnswerSet, ImportedAnswer
from arena.backend import Message
from arena.backend.helpers import read_text
from arena.errors import ArenaError
from arena.formats.conversation import conversation_parts
from arena.vocab import FinishReason

ZIP_ZSTD = 93
"""The zip compression method number of Zstandard, which Python's ``zipfile`` reads only from 3.14."""
LENGTH_STOPS = frozenset({"max_tokens", "model_length"})
"""Inspect's ``stop_reason`` values for a generation cut at a token limit."""
_ROLES = ("system", "user", "assistant")


def is_inspect_log(document: object) -> bool:
    """Whether a parsed JSON document is an Inspect eval log (its ``eval`` header beside ``samples``)."""
    return isinstance(document, dict) and isinstance(document.get("eval"), dict) and "samples" in document


def read_inspect_log(path: Path, label: str | None, document: object = None) -> AnswerSet:
    """The answers of the log at ``path`` (``document``: its JSON already parsed), under ``label`` or the
    model's name; ``ArenaError`` in one line for a log that holds none."""
    log = document if document is not None else _load(path)
    if not is_inspect_log(log):
        raise ArenaError(f"{path}: not an Inspect eval log (no 'eval' header with 'samples')")
    assert isinstance(log, dict)
    header: dict[str, Any] = log["eval"]
    samples = log.get("samples")
    if not isinstance(samples, list) or not samples:
        raise ArenaError(f"{path}: the log holds no samples (was it written with --no-log-samples?)")
    task = str(header.get("task") or "inspect")
    model = header.get("model") if isinstance(header.get("model"), str) else None
    params = header.get("model_generate_config")
    version = (header.get("packages") or {}).get("inspect_ai") if isinstance(header.get("packages"), dict) else None
    answers = []
    for index, sample in enumerate(samples):
        try:
            answers.append(_answer(sample, task, model, params if isinstance(params, dict) else {}, version))
        except ValueError as exc:
            raise ArenaError(f"{path} sample {index}: {exc}; nothing was imported") from None
    chosen = label or model
    if not chosen:
        raise ArenaError(f"{path}: the log names no model; give it a label: --from LABEL={path}")
    return AnswerSet(chosen, path, tuple(answers))


def _load(path: Path) -> object:
    if path.suffix.lower() != ".eval":
        text = read_text(path, name=str(path), error=ArenaError)
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise ArenaError(f"{path}: not JSON ({type(exc).__name__}: {str(exc)[:80]})") from None
    return _load_eval(path)


def _load_eval(path: Path) -> object:
    """An ``.eval`` archive as the JSON log's dict: by Inspect where installed (it reads every version and
    compression it writes), else the header and samples read from the zip directly."""
    try:
        from inspect_ai.log import read_eval_log  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415
    except ImportError:
        return _load_eval_zip(path)
    try:
        return read_eval_log(str(path)).model_dump(mode="json", exclude_none=True)  # as its JSON logs are
    except Exception as exc:  # Inspect's own errors, of any kind: one line
        raise ArenaError(f"{path}: Inspect could not read it: {type(exc).__name__}: {str(exc)[:120]}") from None


def _load_eval_zip(path: Path) -> object:
    """An ``.eval`` archive read with the standard library (its compression permitting)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if any(member.compress_type == ZIP_ZSTD for member in members):
                raise ArenaError(
                    f"{path}: compressed with zstd, which only Inspect's reader reads here: pip install inspect-ai, "
                    f"or convert it: inspect log convert {path} --to json --output-dir DIR"
                )
            header = json.loads(archive.read("header.json"))
            names = sorted(member.filename for member in members if member.filename.startswith("samples/"))
            samples = [json.loads(archive.read(name)) for name in names]
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, RecursionError) as exc:
        raise ArenaError(f"{path}: not a readable Inspect .eval log ({type(exc).__name__}: {str(exc)[:80]})") from None
    if isinstance(header, dict):
        header["samples"] = sorted(samples, key=_sample_order)
    return header


def _sample_order(sample: object) -> tuple[int, str]:
    if not isinstance(sample, dict):
        return (0, "")
    epoch = sample.get("epoch")
    return (epoch if isinstance(epoch, int) else 0, str(sample.get("id")))


def _answer(
    sample: object, task: str, model: str | None, params: Mapping[str, Any], version: str | None
) -> ImportedAnswer:
    if not isinstance(sample, dict):
        raise ValueError("not a JSON object")
    sample_id = sample.get("id")
    if not isinstance(sample_id, (str, int)) or isinstance(sample_id, bool):
        raise ValueError("no sample 'id'")
    epoch = sample.get("epoch", 1)
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not 1 <= epoch <= 10_000:
        raise ValueError("'epoch' is not a count from 1")
    prompt, system, messages = conversation_parts(_sent(sample))
    if not prompt.strip():
        raise ValueError("no user message in the sample's input")
    output, stop_reason = _output(sample.get("output"))
    recorded: dict[str, Any] = {"tool": f"inspect_ai {version}" if version else "inspect_ai"}
    scores = sample.get("scores")
    if isinstance(scores, dict) and scores:
        recorded["scores"] = {
            str(name): score.get("value") if isinstance(score, dict) else score for name, score in scores.items()
        }
    finish: FinishReason | None = "length" if stop_reason in LENGTH_STOPS else ("stop" if stop_reason else None)
    error = sample.get("error")
    if error:
        finish = "error"
        recorded["error"] = str(error.get("message") if isinstance(error, dict) else error)[:500]
    return ImportedAnswer(
        key=f"{task}:{sample_id}",
        prompt=prompt.strip(),
        output=output,
        sample=epoch - 1,
        category=task,
        system=system,
        messages=messages,
        params={key: value for key, value in params.items() if value is not None},
        finish_reason=finish,
        model=model,
        recorded=recorded,
    )


def _sent(sample: dict[str, Any]) -> list[Message]:
    """What the model was sent: the sample's messages up to its last user message (the input, with any
    system message a solver added), as text."""
    raw = sample.get("messages")
    if not isinstance(raw, list) or not raw:
        raw = sample.get("input")
        raw = [{"role": "user", "content": raw}] if isinstance(raw, str) else raw
    if not isinstance(raw, list):
        raise ValueError("no 'input' or 'messages'")
    messages: list[Message] = [
        {"role": message["role"], "content": _text(message.get("content"))}
        for message in raw
        if isinstance(message, dict) and message.get("role") in _ROLES
    ]
    last_user = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=None)
    if last_user is None:
        raise ValueError("no user message in the sample's input")
    return messages[: last_user + 1]


def _output(output: object) -> tuple[str, str | None]:
    """The answer's text and Inspect's stop reason from a sample's ``output``."""
    if not isinstance(output, dict):
        return "", None
    choices = output.get("choices")
    first = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
    stop_reason = first.get("stop_reason") if isinstance(first.get("stop_reason"), str) else None
    completion = output.get("completion")
    if isinstance(completion, str):
        return completion, stop_reason
    message = first.get("message")
    return (_text(message.get("content")) if isinstance(message, dict) else ""), stop_reason


def _text(content: object) -> str:
    """A message's text: a string as it is, a list of content parts as its text parts joined (images,
    reasoning and tool parts are not the answer)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)
        )
    return ""
