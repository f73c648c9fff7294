"""Write battles out: CSV, JSON (with vote tallies), JSONL, FastChat battles, DPO preference pairs, and
the pair data of lmarena's ``arena-rank``.

Every format starts from the same ``battle_rows`` query, so a filter means the same thing everywhere.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from arena.analysis.ratings import outcomes_from_rows, tally
from arena.analysis.ratings import tallies as count_tallies
from arena.formats.fastchat import to_fastchat
from arena.store.queries import BattleRow, decode_json, message_list
from arena.untrusted import json_text
from arena.vocab import RATED_VERDICTS


class TextSink(Protocol):
    """Where an export goes: a file, stdout, or a wrapper that makes hidden characters visible."""

    def write(self, text: str, /) -> int: ...


CSV_COLUMNS = (
    "uid",
    "created",
    "judge",
    "prompt_id",
    "prompt_set",
    "category",
    "prompt_text",
    "left_contestant",
    "right_contestant",
    "verdict",
    "winner",
    "vote_s",
    "left_output",
    "right_output",
    "left_flags",
    "right_flags",
    "left_reasons",
    "right_reasons",
    "note",
    "params",
)


def winner_label(row: BattleRow) -> str:
    """The winning contestant's label, or the verdict itself for tie / both_bad / skip."""
    if row["verdict"] == "left":
        return str(row["left_contestant"])
    if row["verdict"] == "right":
        return str(row["right_contestant"])
    return str(row["verdict"])


def asked_text(row: BattleRow) -> str | None:
    """The prompt as the models actually received it: the last user message a generation stored, else the
    prompt table's text. A prompt file edited later (same set and id, new text) changes the latter, never
    what an earlier battle was about."""
    for messages_json in (row["left_messages_json"], row["right_messages_json"]):
        messages = message_list(messages_json)
        asked = [m.get("content") for m in messages if m.get("role") == "user"]
        if asked and isinstance(asked[-1], str):
            return asked[-1]
    text = row.get("prompt_text")
    return None if text is None else str(text)


def battle_record(row: BattleRow) -> dict[str, Any]:
    """One battle as a flat, self-describing record (JSON, JSONL and, joined, CSV)."""
    return {
        "uid": row["uid"],
        "created": row["created"],
        "judge": row["judge"],
        "prompt_id": row["prompt_id"],
        "prompt_set": row["prompt_set"],
        "category": row["category"],
        "prompt_text": asked_text(row),
        "left_contestant": row["left_contestant"],
        "right_contestant": row["right_contestant"],
        "verdict": row["verdict"],
        "winner": winner_label(row),
        "vote_s": row["vote_s"],
        "left_output": row["left_output"],
        "right_output": row["right_output"],
        "left_flags": row["left_flags"],
        "right_flags": row["right_flags"],
        "left_reasons": row.get("left_reasons", []),
        "right_reasons": row.get("right_reasons", []),
        "note": row.get("note"),
        "params": decode_json(row["params_json"], None),
    }


def dpo_pairs(rows: Iterable[BattleRow]) -> Iterator[dict[str, Any]]:
    """Chosen / rejected pairs from decided battles whose two outputs are both stored."""
    for row in rows:
        if row["verdict"] not in ("left", "right") or row["left_output"] is None or row["right_output"] is None:
            continue
        left = (row["left_output"], row["left_contestant"])
        right = (row["right_output"], row["right_contestant"])
        (chosen, chosen_model), (rejected, rejected_model) = (
            (left, right) if row["verdict"] == "left" else (right, left)
        )
        yield {
            "prompt": asked_text(row),
            "chosen": chosen,
            "rejected": rejected,
            "chosen_model": chosen_model,
            "rejected_model": rejected_model,
            "prompt_id": row["prompt_id"],
            "battle_uid": row["uid"],
        }


def tallies(rows: Sequence[BattleRow]) -> list[dict[str, Any]]:
    """Per-contestant vote counts, by label: counted from the votes (no fit: exports are quick and exact)."""
    counted = tally(
        outcome
        for outcome in outcomes_from_rows(rows)
        if outcome.verdict in RATED_VERDICTS and outcome.left != outcome.right
    )
    labels = sorted({key[0] for key in counted} | {key[1] for key in counted})
    return [
        {
            "contestant": label,
            "battles": sum(counts),
            "wins": counts[0],
            "ties": counts[1],
            "losses": counts[2],
            "both_bad": counts[3],
        }
        for label, counts in count_tallies(counted, labels).items()
    ]


SKIP_FREE_FORMATS = ("fastchat", "dpo", "arena-rank")
"""Formats with no place for a skip: FastChat's winners are model_a / model_b / tie / tie (bothbad),
arena-rank's the same with ``both_bad``, and a DPO pair needs a preferred answer. Every other format keeps
skips, with verdict ``skip``."""
ARENA_RANK_WINNER = {"left": "model_a", "right": "model_b", "tie": "tie", "both_bad": "both_bad"}
"""A verdict as arena-rank's ``default_outcome_map`` reads it (both ties count half a win to each side)."""


def arena_rank_record(row: BattleRow) -> dict[str, Any]:
    """One vote as a row of arena-rank's pair data: the two sides and the winner it reads, with the prompt,
    its category and the judge beside (columns it ignores, there to filter or cluster by)."""
    return {
        "model_a": row["left_contestant"],
        "model_b": row["right_contestant"],
        "winner": ARENA_RANK_WINNER[row["verdict"]],
        "prompt_id": row["prompt_id"],
        "category": row.get("category"),
        "judge": row["judge"],
    }


@dataclass
class Written:
    """What an export wrote: records, and skip votes its format had no place for (the CLI says so)."""

    records: int = 0
    skips_left_out: int = 0


def _exportable(rows: Iterable[BattleRow], fmt: str, written: Written) -> Iterator[BattleRow]:
    """The rows ``fmt`` can hold, counting the skip votes it leaves out in ``written``."""
    for row in rows:
        if fmt in SKIP_FREE_FORMATS and row["verdict"] == "skip":
            written.skips_left_out += 1
        else:
            yield row


def _write_json_list(records: Iterable[dict[str, Any]], out: TextSink, written: Written) -> None:
    """A JSON list written record by record, one record a line, so a large export never holds every record
    and its whole text at once (a 100,000-battle export held 1.3 GB), and each record is encoded by json's C
    encoder (indenting runs its pure-Python one: 6 of an export's 10 seconds)."""
    for record in records:
        out.write(("[\n" if written.records == 0 else ",\n") + json_text(record, indent=None))
        written.records += 1
    out.write("\n]\n" if written.records else "[]\n")


def write(rows: Iterable[BattleRow], fmt: str, out: TextSink) -> Written:
    """Write ``rows`` in ``fmt`` to ``out`` as they come (skips only where the format has a place for them):
    every format but ``json``, whose tallies come before its battles, holds one record at a time."""
    written = Written()
    kept = _exportable(rows, fmt, written)
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in kept:
            record = battle_record(row)
            record["left_flags"] = ";".join(record["left_flags"])
            record["right_flags"] = ";".join(record["right_flags"])
            record["params"] = json.dumps(record["params"]) if record["params"] is not None else ""
            writer.writerow(record)
            written.records += 1
        return written
    if fmt == "json":
        held = list(kept)
        payload = {"tallies": tallies(held), "battles": [battle_record(row) for row in held]}
        out.write(json_text(payload) + "\n")
        written.records = len(held)
        return written
    records: Iterable[dict[str, Any]]
    if fmt == "jsonl":
        records = (battle_record(row) for row in kept)
    elif fmt == "fastchat":
        _write_json_list((to_fastchat(row) for row in kept), out, written)
        return written
    elif fmt == "dpo":
        records = dpo_pairs(kept)
    elif fmt == "arena-rank":  # a self-battle teaches a rating nothing: the board leaves it out too
        records = (arena_rank_record(row) for row in kept if row["left_contestant"] != row["right_contestant"])
    else:
        raise ValueError(f"unknown format {fmt!r}")
    for record in records:
        out.write(json_text(record, indent=None) + "\n")
        written.records += 1
    return written
