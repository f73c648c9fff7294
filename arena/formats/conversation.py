"""What a conversation another tool sent a model means for an imported answer: the prompt (its last user
message), the system message it opened with, and the messages themselves where there was more than one
turn (a single turn is the prompt and system alone). Shared by the Inspect and promptfoo readers."""

from __future__ import annotations

from collections.abc import Sequence

from arena.backend import Message


def conversation_parts(sent: Sequence[Message]) -> tuple[str, str | None, tuple[Message, ...] | None]:
    """(the last user message's text, the leading system message's, the messages where more than one
    non-system turn was sent); "" for the prompt where no user message was sent."""
    prompt = next((str(m["content"]) for m in reversed(sent) if m["role"] == "user"), "")
    system = str(sent[0]["content"]) if sent and sent[0]["role"] == "system" else None
    turns = [m for m in sent if m["role"] != "system"]
    return prompt, system, tuple(sent) if len(turns) > 1 else None
