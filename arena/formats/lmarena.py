"""LMArena's public battle sets (``arena-human-preference-100k``, ``-140k``) as ``arena import`` reads them.

They are FastChat's cleaned battles grown up: the newer sets write ``winner`` ``both_bad``, a message's
``content`` as a list of parts (``{"type": "text", "text": ...}``, images beside), messages with more keys
than a role and content (``num_tokens``), a ``timestamp`` instead of ``tstamp``, and a ``category_tag`` of
classifier verdicts (math, instruction following, creative writing, the seven "hard prompt" criteria) with
``is_code`` and ``language``. This module turns those into what ``arena.formats.fastchat`` stores: the text
of each message, the time in seconds, and one category per prompt for ``--category`` (every tag is kept as
the record had it). They ship as parquet: read with ``pyarrow`` (the ``[parquet]`` extra) where installed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from arena.errors import ArenaError

HARD_CRITERIA = 6
"""LMArena's "hard prompt": at least six of the seven ``criteria_v0.1`` tags hold."""
BATCH_ROWS = 10_000
"""Rows read from a parquet file at a time (a 140k-battle file is not held twice as Arrow and Python)."""


def message_text(content: object) -> str | None:
    """A message's text: a string as it is, a list of content parts as its text parts joined (an image part
    is not text); None for anything else."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [part.get("text") for part in content if isinstance(part, dict) and part.get("type", "text") == "text"]
        return "".join(text for text in texts if isinstance(text, str))
    return None


def timestamp_seconds(value: object) -> float | None:
    """``timestamp`` (ISO text, a datetime read from parquet, or seconds) as seconds since 1970, in UTC where
    it names no zone; None where it is none of these."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).timestamp()
    return None


def lmarena_category(record: Mapping[str, Any]) -> str | None:
    """One category for a battle from LMArena's tags, the first that holds of coding, math, instruction
    following, creative writing and hard; "general" for a tagged battle none holds of; None untagged."""
    tags = record.get("category_tag")
    if not isinstance(tags, Mapping) and "is_code" not in record:
        return None
    tags = tags if isinstance(tags, Mapping) else {}

    def tag(group: str, name: str) -> bool:
        found = tags.get(group)
        return isinstance(found, Mapping) and found.get(name) is True

    if record.get("is_code") is True:
        return "coding"
    if tag("math_v0.1", "math"):
        return "math"
    if tag("if_v0.1", "if"):
        return "instruction-following"
    if tag("creative_writing_v0.1", "creative_writing"):
        return "creative-writing"
    criteria = tags.get("criteria_v0.1")
    if isinstance(criteria, Mapping) and sum(value is True for value in criteria.values()) >= HARD_CRITERIA:
        return "hard"
    return "general"


def parquet_records(path: Path) -> Iterator[tuple[str, object]]:
    """(where, record) for each row of a parquet file, its values as JSON would hold them (a datetime as ISO
    text); one line where ``pyarrow`` is not installed or the file is no parquet."""
    try:
        import pyarrow.parquet as pq  # type: ignore[import-not-found,import-untyped,unused-ignore]  # noqa: PLC0415
    except ImportError:
        raise ArenaError(
            f"{path}: reading parquet needs pyarrow: pip install 'vibe-arena[parquet]' (or convert the file to JSONL)"
        ) from None
    try:
        source = pq.ParquetFile(path)
        row = 0
        for batch in source.iter_batches(batch_size=BATCH_ROWS):
            for record in batch.to_pylist():
                yield f"row {row}", _as_json(record)
                row += 1
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError; ArrowIOError an OSError
        raise ArenaError(f"{path}: not a readable parquet file ({type(exc).__name__}: {str(exc)[:100]})") from None


def _as_json(value: object) -> object:
    """A parquet value as its JSON counterpart: datetimes as ISO text, NaN as null, bytes dropped (an
    image's data)."""
    if isinstance(value, dict):
        return {key: _as_json(item) for key, item in value.items() if not isinstance(item, (bytes, bytearray))}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # a missing number in a parquet column; JSON holds no NaN
    return value
