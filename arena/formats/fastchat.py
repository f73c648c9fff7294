"""Battles in the Chatbot Arena (FastChat) cleaned-battle shape, both ways; LMArena's newer public sets
(``arena.formats.lmarena``, parquet too) and Open WebUI's feedback export (``arena.formats.open_webui``)
are read through it.

Export writes records FastChat's rating analysis reads (``model_a``, ``model_b``, ``winner`` in
``model_a | model_b | tie | tie (bothbad)``, ``tstamp``, conversations). Import reads such records so battles
collected elsewhere can be ranked here. Fields the arena has no column for are kept in ``extra_json`` and
written back on export, so an import followed by an export gives the same records. A battle is recognised
on a second import by its uid: the hash of an imported record, or ``arena_uid``, which export adds where
the hash would not match (the arena's own battles), so export-then-import never counts a vote twice.

Owns the translation only (records <-> ``ImportedBattle`` / battle rows); it never touches the database.
``Store.import_battles`` writes what this module parsed.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arena.backend import Message
from arena.backend.helpers import BadJson, jsonl_records, read_text
from arena.errors import ArenaError
from arena.formats.lmarena import lmarena_category, message_text, parquet_records, timestamp_seconds
from arena.formats.open_webui import feedback_battles, is_open_webui_feedback
from arena.store.queries import decode_json, message_list
from arena.vocab import Verdict, label_problem

if TYPE_CHECKING:
    from arena.store.queries import BattleRow

WINNER_OF_VERDICT: dict[Verdict, str] = {
    "left": "model_a",
    "right": "model_b",
    "tie": "tie",
    "both_bad": "tie (bothbad)",
}
VERDICT_OF_WINNER: dict[str, Verdict] = {
    **{winner: verdict for verdict, winner in WINNER_OF_VERDICT.items()},
    "both_bad": "both_bad",  # LMArena's newer sets (and arena-rank) spell it so
}
KNOWN_FIELDS = (
    "arena_uid",
    "question_id",
    "model_a",
    "model_b",
    "winner",
    "judge",
    "tstamp",
    "conversation_a",
    "conversation_b",
    "shown_probability",
)
NATIVE_EXTRAS = {"turn": 1, "anony": True}
CSV_EXPORT_START = "uid,created,judge,"
"""How ``arena export --format csv`` begins: such a file given to ``arena import`` is said to be CSV."""
LATEST_TSTAMP = 253_402_300_800.0
"""Year 10000: the first time Python's datetime (and so the ``created`` column) cannot hold."""
_UID_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def record_uid(record: Mapping[str, Any]) -> str:
    """The uid of a battle record that carries none: a hash of the exact record (``arena_uid`` aside), so
    the same record imported twice is recognised."""
    content = {key: value for key, value in record.items() if key != "arena_uid"}
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return "fastchat-" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class ImportedBattle:
    """One valid FastChat record, ready to store."""

    uid: str
    question_id: str
    model_a: str
    model_b: str
    verdict: Verdict
    judge: str | None
    tstamp: float | None
    conversation_a: tuple[Message, ...] | None
    conversation_b: tuple[Message, ...] | None
    extra: dict[str, Any] = field(default_factory=dict)
    shown_probability: float | None = None
    """The chance the judge's session showed this battle (an arena export of a ``judge-uncertain`` session)."""
    category: str | None = None
    """The prompt's category: the record's ``category``, else one read from LMArena's tags; None: neither."""

    @property
    def prompt_text(self) -> str:
        for conversation in (self.conversation_a, self.conversation_b):
            for message in conversation or ():
                if message["role"] == "user":
                    return message["content"]
        return ""


@dataclass
class ImportReport:
    """What a parse kept and what it skipped, with a reason per skipped record."""

    battles: list[ImportedBattle] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def skip(self, where: str, reason: str) -> None:
        self.skipped[reason] += 1
        if len(self.examples) < 5:
            self.examples.append(f"{where}: {reason}")


def _conversation(value: object, name: str) -> tuple[Message, ...]:
    """A record's conversation as messages: each one's role and text (LMArena's lists of content parts as
    their text; its other keys, such as ``num_tokens``, stay in the record as it was)."""
    if not isinstance(value, list) or not value:
        raise ValueError(f"{name} must be a non-empty list of messages")
    messages: list[Message] = []
    for message in value:
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise ValueError(f"{name} has a message without a role")
        text = message_text(message.get("content"))
        if text is None:
            raise ValueError(f"{name} has a message whose content is not text or a list of text parts")
        messages.append({"role": message["role"], "content": text})
    if messages[-1]["role"] != "assistant":
        raise ValueError(f"{name} must end with the assistant's answer")
    return tuple(messages)


def _finite(value: object, depth: int = 0) -> bool:
    """No NaN or infinity anywhere in a parsed record (nested structures checked to a sane depth)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if depth > 50:
        return True  # deeper than any battle record: left to the other checks
    if isinstance(value, dict):
        return all(_finite(item, depth + 1) for item in value.values())
    if isinstance(value, list):
        return all(_finite(item, depth + 1) for item in value)
    return True


def parse_record(record: object) -> ImportedBattle:
    """Validate one record; raise ValueError with a short reason (used to group skipped records)."""
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    for key in ("model_a", "model_b"):
        if not isinstance(record.get(key), str) or not record[key].strip():
            raise ValueError(f"missing {key}")
    for key in ("model_a", "model_b"):
        problem = label_problem(record[key], key)
        if problem is not None:
            raise ValueError(problem)
    if record["model_a"] == record["model_b"]:
        raise ValueError("model_a and model_b are the same")
    winner = record.get("winner")
    if not isinstance(winner, str) or winner not in VERDICT_OF_WINNER:  # a list or object is not hashable
        raise ValueError(f"unknown winner {str(winner)[:40]!r}")
    tstamp = record.get("tstamp")
    if tstamp is not None and (isinstance(tstamp, bool) or not isinstance(tstamp, (int, float))):
        raise ValueError("tstamp is not a number")
    if tstamp is None and record.get("timestamp") is not None:  # LMArena's newer sets: ISO text
        tstamp = timestamp_seconds(record["timestamp"])
        if tstamp is None:
            raise ValueError("timestamp is not a time (ISO 8601 text or seconds)")
    if tstamp is not None and not (0 <= tstamp < LATEST_TSTAMP):  # NaN fails both comparisons
        raise ValueError("tstamp out of range (seconds since 1970, before the year 10000)")
    judge = record.get("judge")
    if judge is not None and not isinstance(judge, str):
        raise ValueError("judge is not a string")
    if judge is not None and (problem := label_problem(judge, "judge")) is not None:
        raise ValueError(problem)
    conversations = [
        None if record.get(name) is None else _conversation(record[name], name)
        for name in ("conversation_a", "conversation_b")
    ]
    uid = record_uid(record)
    given_uid = record.get("arena_uid")
    if given_uid is not None:
        if not isinstance(given_uid, str) or not 0 < len(given_uid) <= 64 or not set(given_uid) <= _UID_CHARACTERS:
            raise ValueError("arena_uid is not an id")
        uid = given_uid
    question_id = record.get("question_id")
    if question_id is None:
        question_id = f"import-{uid.removeprefix('fastchat-')[:12]}"
    elif not isinstance(question_id, str) or not question_id:
        raise ValueError("question_id is not a string")
    extra = {key: value for key, value in record.items() if key not in KNOWN_FIELDS}
    category = record.get("category")
    if category is not None and (not isinstance(category, str) or not category.strip()):
        raise ValueError("category is not text")
    if isinstance(tstamp, int) and "tstamp" in record:
        extra["tstamp"] = tstamp  # the stored column is a float; this keeps an integer one an integer on export
    shown = record.get("shown_probability")
    if shown is not None and (isinstance(shown, bool) or not isinstance(shown, (int, float)) or not 0 < shown <= 1):
        raise ValueError("shown_probability is not a probability above 0")
    return ImportedBattle(
        uid=uid,
        question_id=question_id,
        model_a=record["model_a"],
        model_b=record["model_b"],
        verdict=VERDICT_OF_WINNER[winner],
        judge=judge,
        tstamp=None if tstamp is None else float(tstamp),
        conversation_a=conversations[0],
        conversation_b=conversations[1],
        extra=extra,
        shown_probability=None if shown is None else float(shown),
        category=category.strip()[:100] if category else lmarena_category(record),
    )


NON_FINITE = "holds NaN or Infinity, which JSON does not allow"


def _reason(bad: BadJson) -> str:
    """Why a JSONL line was skipped, grouped by cause: the non-finite numbers as such, the rest as JSON."""
    return NON_FINITE if bad.reason == NON_FINITE else "invalid JSON"


def _raw_records(path: Path) -> Iterator[tuple[str, object]]:
    """(where, record) from a JSON list, a JSONL or a parquet file; a broken JSONL line is yielded as an
    error. Open WebUI's feedback export is read as the battles each feedback counts as."""
    if path.suffix.lower() == ".parquet":
        yield from parquet_records(path)
        return
    text = read_text(path, name=str(path), error=ArenaError)
    stripped = text.lstrip()
    if path.suffix.lower() == ".csv" or stripped.startswith(CSV_EXPORT_START):
        raise ArenaError(
            f"{path}: CSV is an export-only format (for spreadsheets); arena import reads FastChat JSON or JSONL "
            "(arena export --format fastchat writes it)"
        )
    if stripped.startswith("["):
        constants: list[str] = []  # NaN / Infinity met while parsing: only then is each record checked for them

        def constant(name: str) -> float:
            constants.append(name)
            return float(name.lower())

        try:
            records = json.loads(text, parse_constant=constant)
        except json.JSONDecodeError as exc:
            raise ArenaError(f"{path}: invalid JSON: {exc.msg} (line {exc.lineno})") from None
        except (ValueError, RecursionError) as exc:  # a 5000-digit number; nesting deeper than Python recurses
            raise ArenaError(f"{path}: unreadable JSON ({type(exc).__name__}: {str(exc)[:80]})") from None
        if not isinstance(records, list):
            raise ArenaError(f"{path}: expected a JSON list of battles")
        feedback = bool(records) and is_open_webui_feedback(records[0])
        for index, record in enumerate(records):  # NaN and Infinity: read by Python, not JSON when written back
            if constants and not _finite(record):
                yield f"record {index}", ValueError(NON_FINITE)
            elif feedback:
                yield from _feedback_records(f"feedback {index}", record)
            else:
                yield f"record {index}", record
        return
    for number, record in jsonl_records(text, finite=True):  # NaN and Infinity refused as the line parses
        yield f"line {number}", ValueError(_reason(record)) if isinstance(record, BadJson) else record


def _feedback_records(where: str, record: object) -> Iterator[tuple[str, object]]:
    try:
        battles = feedback_battles(record)
    except ValueError as exc:
        yield where, exc
        return
    for battle in battles:
        yield where, battle


def read_fastchat(path: Path, on_progress: Callable[[int], None] | None = None) -> ImportReport:
    """Every record of the file, parsed and validated; ``on_progress`` hears how many were read, every
    ``PROGRESS_EVERY`` records (1,000,000 take a quarter of a minute)."""
    report = ImportReport()
    for number, (where, raw) in enumerate(_raw_records(path), start=1):
        if on_progress is not None and number % PROGRESS_EVERY == 0:
            on_progress(number)
        if isinstance(raw, ValueError):
            report.skip(where, str(raw))
            continue
        try:
            report.battles.append(parse_record(raw))
        except ValueError as exc:
            report.skip(where, str(exc))
    return report


PROGRESS_EVERY = 5000


def to_fastchat(row: BattleRow) -> dict[str, Any]:
    """A ``battle_rows`` row as a FastChat cleaned-battle record."""
    extra_json = row.get("extra_json")
    extra = decode_json(extra_json, None)
    record: dict[str, Any] = extra if isinstance(extra, dict) else dict(NATIVE_EXTRAS)
    record.update(
        question_id=row["prompt_id"],
        model_a=row["left_contestant"],
        model_b=row["right_contestant"],
        winner=WINNER_OF_VERDICT[row["verdict"]],
    )
    if row.get("judge") is not None:
        record["judge"] = row["judge"]
    if row.get("shown_probability") is not None:
        record["shown_probability"] = row["shown_probability"]
    stamp = row.get("tstamp")
    if stamp is not None and not (isinstance(record.get("tstamp"), int) and record["tstamp"] == stamp):
        record["tstamp"] = stamp
    sides = (
        ("conversation_a", row["left_generation"], row["left_messages_json"], row["left_output"]),
        ("conversation_b", row["right_generation"], row["right_messages_json"], row["right_output"]),
    )
    for name, generation, messages_json, output in sides:
        if generation is None:
            continue
        messages: Sequence[Message] = message_list(messages_json)  # type: ignore[assignment]
        record[name] = [*messages, {"role": "assistant", "content": output}]
        if not extra_json:  # the arena's own battle: a follow-up conversation has several turns
            record["turn"] = max(1, sum(1 for message in messages if message.get("role") == "user"))
    if row.get("uid") and record_uid(record) != row["uid"]:
        record["arena_uid"] = row["uid"]  # a native battle (or an inexact record): importing it back adds nothing
    return record
