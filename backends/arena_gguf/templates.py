"""Chat templates a user can give a GGUF that has none, or whose own is wrong: ``?chat_template=chatml``,
``llama3``, or the path of a Jinja file. A GGUF without ``tokenizer.chat_template`` otherwise gets a raw
completion prompt (flagged "no template"); small fine-tunes often ship that way.

The template is rendered by llama-cpp-python's formatter, in Jinja's immutable sandbox: a template file is the
user's own input, like a prompt file, but nothing in it runs outside the sandbox either way.
"""

from __future__ import annotations

from pathlib import Path

from arena.backend import BackendError

NAMED: dict[str, str] = {
    "chatml": (
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
        "'<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
    ),
    "llama3": (
        "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "
        "'<|end_header_id|>\\n\\n' + message['content'] + '<|eot_id|>' }}{% endfor %}{% if add_generation_prompt %}"
        "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
    ),
}
"""Formats by name (ChatML: Qwen, SmolLM2, many fine-tunes; Llama 3)."""
FILE_MAX_BYTES = 100_000


def chat_template(given: str) -> tuple[str, str]:
    """(the Jinja template, how to name it at the reveal) for ``?chat_template=``'s value."""
    if given.lower() in NAMED:
        return NAMED[given.lower()], given.lower()
    path = Path(given).expanduser()
    if not path.is_file():
        named = ", ".join(NAMED)
        raise BackendError(f"chat_template={given}: neither a format ({named}) nor a template file")
    if path.stat().st_size > FILE_MAX_BYTES:
        raise BackendError(f"chat_template={given}: over {FILE_MAX_BYTES // 1000} KB, not a chat template")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BackendError(f"chat_template={given}: cannot read it ({exc})") from None
    if "messages" not in text:
        raise BackendError(f"chat_template={given}: a chat template loops over `messages`; this file never names it")
    return text, f"file {path.name}"
