"""Open WebUI's evaluation feedback (Admin Panel, Evaluations, "Export All Feedbacks") as battles to import.

Each feedback is a person's thumbs up (``rating`` 1) or down (-1) on one model's answer, with the other
models of that chat or arena as ``sibling_model_ids``. Open WebUI's own leaderboard counts it as a win (or
a loss) of the rated model against each sibling; so does this import, one battle per sibling, so the board
here ranks the same votes. Where the chat's snapshot holds the sibling's answer to the same message (several
models answered side by side) it is the other side's answer; in arena mode the person saw one answer only and
the other side has none. There are no ties (Open WebUI asks for none). The rating's reason, comment, tags and
1-10 detail are kept beside the battle; a feedback without siblings (a plain thumbs on one model) is no
comparison and is skipped with that reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

MAX_TURNS = 200
"""How far up a chat's message tree an answer's thread is followed (a cycle in a hostile export stops)."""


def is_open_webui_feedback(record: object) -> bool:
    """Whether a record is one of Open WebUI's feedbacks (a ``data`` object with the rated model)."""
    return isinstance(record, dict) and isinstance(record.get("data"), dict) and "model_id" in record["data"]


def feedback_battles(record: object) -> list[dict[str, Any]]:
    """The FastChat-shaped battle records of one feedback (one per sibling model); ``ValueError`` with the
    reason it is not a comparison."""
    if not is_open_webui_feedback(record):
        raise ValueError("not an Open WebUI feedback")
    assert isinstance(record, dict)
    data: dict[str, Any] = record["data"]
    if record.get("type", "rating") != "rating":
        raise ValueError(f"feedback type {str(record.get('type'))[:20]!r} is not a rating")
    rating = str(data.get("rating"))
    if rating not in ("1", "-1"):
        raise ValueError("rating is not 1 or -1")
    model = data.get("model_id")
    siblings = data.get("sibling_model_ids")
    if not isinstance(model, str) or not model.strip():
        raise ValueError("no model_id")
    if not isinstance(siblings, list) or not any(isinstance(s, str) and s.strip() for s in siblings):
        raise ValueError("a rating of one model with no other beside it (not a comparison)")
    meta = record.get("meta") if isinstance(record.get("meta"), dict) else {}
    assert isinstance(meta, dict)
    messages = _history(record.get("snapshot"))
    rated = messages.get(str(meta.get("message_id")))
    feedback_id = str(record.get("id", ""))
    kept = {key: data[key] for key in ("rating", "reason", "comment", "tags", "details") if data.get(key) is not None}
    battles = []
    for sibling in dict.fromkeys(s.strip() for s in siblings if isinstance(s, str) and s.strip()):
        if sibling == model.strip():
            continue
        battle: dict[str, Any] = {
            "arena_uid": "openwebui-" + hashlib.sha256(f"{feedback_id}|{sibling}".encode()).hexdigest()[:32],
            "model_a": model.strip(),
            "model_b": sibling,
            "winner": "model_a" if rating == "1" else "model_b",
            "open_webui": {"feedback_id": feedback_id, **kept, "arena": meta.get("arena")},
        }
        if isinstance(record.get("user_id"), str) and record["user_id"].strip():
            battle["judge"] = record["user_id"].strip()
        created = record.get("created_at")
        if isinstance(created, (int, float)) and not isinstance(created, bool):
            battle["tstamp"] = created
        tags = data.get("tags") or meta.get("tags")
        if isinstance(tags, list) and tags and isinstance(tags[0], str) and tags[0].strip():
            battle["category"] = tags[0].strip()
        if rated is not None:
            battle["question_id"] = "owui-" + str(rated.get("parentId") or feedback_id)[:60]
            battle["conversation_a"] = _thread(messages, rated)
            answer_b = _sibling_answer(messages, rated, sibling)
            if answer_b is not None:
                battle["conversation_b"] = _thread(messages, answer_b)
        battles.append(battle)
    if not battles:
        raise ValueError("the only sibling is the rated model itself")
    return battles


def _history(snapshot: object) -> dict[str, dict[str, Any]]:
    """The chat's messages by id, from the feedback's snapshot (``snapshot.chat.chat.history.messages``)."""
    found: object = snapshot
    for key in ("chat", "chat", "history", "messages"):
        found = found.get(key) if isinstance(found, Mapping) else None
    if not isinstance(found, Mapping):
        return {}
    return {str(key): value for key, value in found.items() if isinstance(value, dict)}


def _sibling_answer(
    messages: Mapping[str, dict[str, Any]], rated: Mapping[str, Any], model: str
) -> dict[str, Any] | None:
    """The sibling model's answer to the same message, where the chat holds one."""
    parent = rated.get("parentId")
    for message in messages.values():
        if message.get("parentId") == parent and message.get("role") == "assistant" and message.get("model") == model:
            return message
    return None


def _thread(messages: Mapping[str, dict[str, Any]], last: Mapping[str, Any]) -> list[dict[str, str]]:
    """The conversation that ends with ``last``: its ancestors in order, each as role and text."""
    thread = [last]
    seen = {id(last)}
    while len(thread) < MAX_TURNS:
        parent = messages.get(str(thread[-1].get("parentId")))
        if parent is None or id(parent) in seen:
            break
        seen.add(id(parent))
        thread.append(parent)
    return [{"role": str(one.get("role")), "content": _text(one.get("content"))} for one in reversed(thread)]


def _text(content: object) -> str:
    return content if isinstance(content, str) else ""
