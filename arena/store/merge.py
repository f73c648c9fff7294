"""Combine arena databases (several judges, several machines) into one, without duplicates.

Sessions, generations and battles are matched by ``uid``, contestants by label and prompts by id, so
merging the same file twice, or a file into one that already holds part of it, adds nothing twice.
A source is opened read-only (an older schema is migrated in a private in-memory copy), never modified.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from arena.errors import ArenaError
from arena.store import migrations
from arena.store.connection import Store
from arena.vocab import IMPORT_BACKEND, label_problem

_TABLES = (
    "contestants",
    "prompts",
    "prompt_versions",
    "sessions",
    "generations",
    "flags",
    "battles",
    "battle_reasons",
    "auto_verdicts",
    "fidelity",
)


def _open_source(source: Path) -> Store:
    """The source, opened read-only (an older schema is migrated in memory, never in the file)."""
    if not source.is_file():
        raise ArenaError(f"merge: database not found: {source}")
    return Store(source, read_only=True)


def _refuse_long_names(source: Path, rows: dict[str, list[dict[str, Any]]]) -> None:
    """A contestant label or judge name over ``LABEL_MAX`` in the other file: one line, nothing merged."""
    names = [row.get("label") for row in rows["contestants"]]
    for row in rows["battles"]:
        names += [row.get("left_contestant"), row.get("right_contestant"), row.get("judge")]
    for name in names:
        if isinstance(name, str) and (problem := label_problem(name, "a name")) is not None:
            raise ArenaError(f"merge: {source}: {problem} ({name[:40]!r}...); nothing was merged")


LABEL_COLUMNS: dict[str, tuple[str, ...]] = {
    "contestants": ("label",),
    "generations": ("contestant",),
    "battles": ("left_contestant", "right_contestant"),
    "battle_reasons": ("contestant",),
    "fidelity": ("contestant",),
}
"""Where a contestant's label is stored: what ``--relabel`` renames in the rows it copies."""


def _relabelled(rows: dict[str, list[dict[str, Any]]], relabel: Mapping[str, str]) -> None:
    """Rename contestants in the source's rows (in memory; the source file is never touched)."""
    for table, columns in LABEL_COLUMNS.items():
        for row in rows[table]:
            for column in columns:
                if row.get(column) in relabel:
                    row[column] = relabel[row[column]]
    seen: set[str] = set()
    kept = []
    for row in rows["contestants"]:  # two labels renamed to one: one contestant row
        if row["label"] not in seen:
            seen.add(row["label"])
            kept.append(row)
    rows["contestants"] = kept


def _copies_of_stored_battles(db: Any, rows: dict[str, list[dict[str, Any]]]) -> set[int]:
    """The source's generations that only back battles the target holds already (an import of the target's
    own export: the battles match by uid, their answers came with new uids): not copied again."""
    imports = {row["id"] for row in rows["sessions"] if row.get("kind") == "import"}
    uids = [row["uid"] for row in rows["battles"] if row.get("uid")]
    stored = {found for (found,) in migrations.rows_in(db.conn, "select uid from battles where uid in ({marks})", uids)}
    fresh_needs: set[int] = set()
    stored_needs: set[int] = set()
    for row in rows["battles"]:
        exists = row.get("uid") in stored
        for column in ("left_generation", "right_generation"):
            if row.get(column) is not None:
                (stored_needs if exists else fresh_needs).add(row[column])
    return {
        row["id"]
        for row in rows["generations"]
        if row.get("session") in imports and row["id"] in stored_needs and row["id"] not in fresh_needs
    }


def merge_into(target: Store, source: Path, relabel: Mapping[str, str] | None = None) -> Counter[str]:
    """Copy what ``source`` has and ``target`` lacks, in one transaction; returns rows added per table.
    ``relabel``: contestants of the source to store under another label (one model known by two names)."""
    added: Counter[str] = Counter()
    with _open_source(source) as reader:
        rows = {name: reader.query(f"select * from {name} order by rowid") for name in _TABLES}
    _refuse_long_names(source, rows)
    if relabel:
        _relabelled(rows, relabel)
    with target.transaction() as db:
        skipped = _copies_of_stored_battles(db, rows)
        rows["generations"] = [row for row in rows["generations"] if row["id"] not in skipped]
        for row in rows["contestants"]:
            if db.table("contestants").count_where("label = ?", [row["label"]]) == 0:
                db.table("contestants").insert(row)
                added["contestants"] += 1
        for row in rows["prompts"]:
            if db.table("prompts").count_where("id = ?", [row["id"]]) == 0:
                db.table("prompts").insert(row)
                added["prompts"] += 1
        db.table("prompt_versions").insert_all(rows["prompt_versions"], ignore=True)  # keyed (prompt, digest)
        session_ids = _copy_by_uid(db, "sessions", rows["sessions"], {}, added)
        generation_ids = _copy_by_uid(db, "generations", rows["generations"], {"session": session_ids}, added)
        for row in rows["flags"]:  # flags travel with the generations this merge added
            if row["generation"] in generation_ids.fresh:
                db.table("flags").insert({**_without_id(row), "generation": generation_ids[row["generation"]]})
                added["flags"] += 1
        battle_ids = _copy_by_uid(
            db,
            "battles",
            rows["battles"],
            {
                "session": session_ids,
                "left_generation": generation_ids,
                "right_generation": generation_ids,
            },
            added,
        )
        for table in ("battle_reasons", "auto_verdicts"):  # reasons and both orders travel with their battles
            for row in rows[table]:
                if row["battle"] in battle_ids.fresh:
                    db.table(table).insert({**row, "battle": battle_ids[row["battle"]]})
        _copy_by_uid(db, "fidelity", rows["fidelity"], {}, added)
        # answers that came without counts are counted, and the added votes' style differences are
        # computed here by the one formula, never taken from the other file (issue 27)
        migrations.fill_answer_counts(db.conn, [generation_ids[old] for old in generation_ids.fresh])
        migrations.fill_battle_style(db.conn, [battle_ids[old] for old in battle_ids.fresh])
    return added


class _IdMap(dict[int, int]):
    """Old id -> id in the target; remembers which rows were newly inserted (their flags come along)."""

    def __init__(self) -> None:
        super().__init__()
        self.fresh: set[int] = set()


def _without_id(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key != "id"}


def _content_uid(table_name: str, row: dict[str, Any]) -> str:
    """A uid for a row that has none (another tool's file, a hand edit): a digest of what it holds, so merging
    the same file again finds it instead of copying it twice."""
    content = json.dumps([table_name, sorted((key, repr(value)) for key, value in row.items() if key != "uid")])
    return "merged-" + hashlib.sha256(content.encode("utf-8")).hexdigest()[:32]


def _copy_by_uid(
    db: Any,
    table_name: str,
    rows: list[dict[str, Any]],
    remap: dict[str, dict[int, int]],
    added: Counter[str],
) -> _IdMap:
    ids = _IdMap()
    table = db.table(table_name)
    for row in rows:
        row = {**row, "uid": row.get("uid") or _content_uid(table_name, row)}
        existing = db.execute(f"select id from [{table_name}] where uid = ?", [row["uid"]]).fetchone()
        if existing is not None:
            ids[row["id"]] = existing[0]
            if table_name == "battles" and row.get("taken_back_at") is not None:  # taken back since the last merge
                db.execute(
                    "update battles set taken_back_at = ?, taken_back_by = ? where id = ? and taken_back_at is null",
                    [row["taken_back_at"], row.get("taken_back_by"), existing[0]],
                )
            continue
        values = _without_id(row)
        for column, mapping in remap.items():
            if values.get(column) is not None:
                values[column] = mapping.get(values[column])
        table.insert(values)
        ids[row["id"]] = int(table.last_pk)
        ids.fresh.add(row["id"])
        added[table_name] += 1
    return ids


def same_model_labels(store: Store) -> list[tuple[str, list[str]]]:
    """Contestants stored under several labels that run the same thing (backend, target and options):
    after a merge, one model counted as two unless one label is renamed (``arena merge --relabel``)."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for label, backend, target, options in store.rows(
        "select label, backend, target, options_json from contestants order by label"
    ):
        if backend and target and backend != IMPORT_BACKEND:
            groups.setdefault((str(backend), str(target), str(options or "")), []).append(str(label))
    return [(f"{backend}:{target}", labels) for (backend, target, _), labels in groups.items() if len(labels) > 1]
