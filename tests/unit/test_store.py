"""The SQLite store on real files: migrations, WAL, round trips, atomic writes, concurrent processes."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arena.backend import Contestant, GenerationParams, GenerationResult
from arena.config import default_db_path
from arena.errors import ArenaError
from arena.prompts import load_prompt_set
from arena.store import Store, queries, writes
from arena.store.migrations import MIGRATIONS
from arena.store.settings import SessionSettings
from tests.support.helpers import REPO

RESULT = GenerationResult(
    text="Hello [bold]world[/bold] \x1b[31m",
    n_tokens=5,
    finish_reason="length",
    ttft_s=0.12,
    tokens_per_s=33.0,
    wall_s=0.3,
    peak_mem_bytes=1234,
    rendered_prompt="<|user|>hi<|assistant|>",
    chat_template=True,
)
CONTESTANTS = [Contestant("a", "replay", "a.jsonl", {"tps": 5.0}), Contestant("b", "replay", "b.jsonl")]


def _store_with_prompts(path: Path) -> Store:
    store = Store(path)
    writes.register(store, CONTESTANTS, load_prompt_set("everyday").prompts)
    return store


def test_fresh_database_has_every_table_and_records_migrations(tmp_path: Path) -> None:
    path = tmp_path / "arena.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    tables = {row[0] for row in conn.execute("select name from sqlite_master where type='table'")}
    assert {"contestants", "prompts", "generations", "flags", "battles", "sessions", "_migrations"} <= tables
    names = [row[0] for row in conn.execute("select name from _migrations order by name")]
    assert names == [name for name, _ in MIGRATIONS]
    assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"


def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    path = tmp_path / "arena.db"
    Store(path).close()
    Store(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("select count(*) from _migrations").fetchone()[0] == len(MIGRATIONS)


def test_generation_and_battle_round_trip(tmp_path: Path) -> None:
    store = _store_with_prompts(tmp_path / "arena.db")
    session = writes.start_session(store, "play", judge="ana", settings=SessionSettings(seed=3))
    params = GenerationParams(temperature=0.0, max_tokens=5, stop=("\n\n",))
    messages = [{"role": "user", "content": "hi"}]
    left = writes.record_generation(
        store,
        session=session,
        contestant="a",
        prompt="everyday/science-tides",
        messages=messages,
        params=params,
        result=RESULT,  # type: ignore[list-item]
    )
    right = writes.record_generation(
        store,
        session=session,
        contestant="b",
        prompt="everyday/science-tides",
        messages=messages,
        params=params,
        result=RESULT,  # type: ignore[list-item]
    )
    writes.record_battle(
        store,
        session=session,
        prompt="everyday/science-tides",
        left_generation=left,
        right_generation=right,
        left_contestant="a",
        right_contestant="b",
        verdict="left",
        judge="ana",
        vote_s=4.2,
    )
    row = store.query("select * from generations where id = ?", [left])[0]
    assert row["output"] == RESULT.text
    assert row["finish_reason"] == "length"
    assert row["chat_template"] == 1
    assert row["rendered_prompt"] == "<|user|>hi<|assistant|>"
    assert json.loads(row["params_json"]) == {
        "temperature": 0.0,
        "top_p": 0.9,
        "max_tokens": 5,
        "seed": 0,
        "stop": ["\n\n"],
    }
    assert json.loads(row["messages_json"]) == messages
    battle = store.query("select * from battles")[0]
    assert (battle["verdict"], battle["left_contestant"], battle["right_contestant"]) == ("left", "a", "b")
    assert queries.battle_counts(store) == {frozenset({"a", "b"}): 1}
    contestant = store.query("select * from contestants where label = 'a'")[0]
    assert json.loads(contestant["options_json"]) == {"tps": 5.0}
    store.close()


def test_register_keeps_first_seen(tmp_path: Path) -> None:
    store = _store_with_prompts(tmp_path / "arena.db")
    first = store.query("select first_seen from contestants where label = 'a'")[0]["first_seen"]
    writes.register(store, [Contestant("a", "replay", "moved.jsonl")], [])
    row = store.query("select * from contestants where label = 'a'")[0]
    assert row["first_seen"] == first
    assert row["target"] == "moved.jsonl"


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    store = _store_with_prompts(tmp_path / "arena.db")
    with pytest.raises(RuntimeError), store.transaction() as db:
        db.table("sessions").insert({"kind": "x", "started": "now"})
        raise RuntimeError("crash mid-write")
    assert store.query("select count(*) as n from sessions")[0]["n"] == 0


def test_unknown_verdict_is_refused(tmp_path: Path) -> None:
    store = _store_with_prompts(tmp_path / "arena.db")
    with pytest.raises(ValueError, match="verdict"):
        writes.record_battle(
            store,
            session=None,
            prompt="everyday/science-tides",
            left_generation=None,
            right_generation=None,
            left_contestant="a",
            right_contestant="b",
            verdict="A",
            judge=None,
            vote_s=None,
        )


def test_a_file_that_is_not_a_database_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(ArenaError, match="not a SQLite database"):
        Store(path)
    assert path.read_text().startswith("these are my notes")


def test_a_directory_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(ArenaError, match="is a directory"):
        Store(tmp_path)


def test_default_location_follows_arena_home(isolated_home: Path) -> None:
    assert default_db_path() == isolated_home / "arena.db"
    Store(default_db_path()).close()
    assert (isolated_home / "arena.db").is_file()


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    gate = tmp_path / "gate"
    gate.mkdir()
    count = 300
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.support.store_writer", str(path), name, str(count), str(gate)], cwd=REPO
        )
        for name in ("p1", "p2")
    ]
    try:
        deadline = time.monotonic() + 120
        while not all((gate / f"ready-{name}").exists() for name in ("p1", "p2")):
            assert time.monotonic() < deadline, "writers never became ready"
            assert all(writer.poll() is None for writer in writers), "a writer died before the start"
            time.sleep(0.01)
        (gate / "go").touch()
        assert [writer.wait(timeout=240) for writer in writers] == [0, 0]
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
    conn = sqlite3.connect(path)
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    rows = dict(conn.execute("select contestant, count(*) from generations group by contestant").fetchall())
    assert rows == {"p1": count, "p2": count}
    assert conn.execute("select count(*) from battles").fetchone()[0] == 2 * count
    assert conn.execute("select count(*) from _migrations").fetchone()[0] == len(MIGRATIONS)


def test_many_processes_opening_a_fresh_file_at_once(tmp_path: Path) -> None:
    """Regression: WAL set-up on a brand-new file can answer "locked" without waiting; opening must retry."""
    path = tmp_path / "fresh.db"
    gate = tmp_path / "gate"
    gate.mkdir()
    code = (
        "import sys, time, pathlib\n"
        "from arena.store import Store\n"
        "gate = pathlib.Path(sys.argv[2])\n"
        "(gate / ('ready-' + sys.argv[3])).touch()\n"
        "deadline = time.monotonic() + 120\n"
        "while not (gate / 'go').exists() and time.monotonic() < deadline:\n"
        "    time.sleep(0.001)\n"
        "Store(sys.argv[1]).close()\n"
    )
    openers = [subprocess.Popen([sys.executable, "-c", code, str(path), str(gate), str(i)], cwd=REPO) for i in range(6)]
    try:
        deadline = time.monotonic() + 120
        while len(list(gate.glob("ready-*"))) < 6:  # every interpreter is up and waiting at the gate
            assert time.monotonic() < deadline and all(o.poll() is None for o in openers), "an opener never got ready"
            time.sleep(0.01)
        (gate / "go").touch()
        assert [opener.wait(timeout=120) for opener in openers] == [0] * 6
    finally:
        for opener in openers:
            if opener.poll() is None:
                opener.kill()
    conn = sqlite3.connect(path)
    assert conn.execute("select count(*) from _migrations").fetchone()[0] == len(MIGRATIONS)
    assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"


def test_session_settings_read_every_stored_shape_and_write_the_old_ones() -> None:
    """Play sessions stored spec strings, batches {label, spec} tables, the earliest batches a table keyed by
    label: one reader for all three; what is written is what older readers expect."""
    play = SessionSettings.from_json('{"contestants": ["replay:a.jsonl", "hf:b"], "prompt_set": "t", "seed": 7}')
    assert play.specs == ["replay:a.jsonl", "hf:b"] and play.labels == [] and play.seed == 7
    batch = SessionSettings.from_json('{"contestants": [{"label": "A", "spec": "replay:a.jsonl"}], "sequential": true}')
    assert batch.specs == ["replay:a.jsonl"] and batch.labels == ["A"] and batch.sequential is True
    earliest = SessionSettings.from_json('{"contestants": {"A": "replay:a.jsonl"}}')
    assert earliest.contestants == ()
    for broken in ("", "not json", "[1, 2]", '{"seed": true, "prompt_order": 3, "params": []}', "[" * 5000):
        assert SessionSettings.from_json(broken) == SessionSettings(), broken
    assert play.to_json() == {"contestants": ["replay:a.jsonl", "hf:b"], "prompt_set": "t", "seed": 7}
    assert batch.to_json()["contestants"] == [{"label": "A", "spec": "replay:a.jsonl"}]
    assert SessionSettings.from_json(json.dumps(batch.to_json())) == batch


@given(st.lists(st.fixed_dictionaries({"role": st.text(max_size=8), "content": st.text(max_size=40)}), max_size=4))
@settings(max_examples=300, deadline=None)
def test_an_imported_answers_messages_are_written_as_json_dumps_writes_them(messages: list[dict[str, str]]) -> None:
    """Imports write what each answer was sent with a faster hand-joined form of ``json.dumps`` (an import
    writes one per answer); answers are compared by this text, so it must be exactly json.dumps's."""
    from arena.store.writes import _sent

    expected = json.dumps([{"role": m["role"], "content": m["content"]} for m in messages], ensure_ascii=False)
    assert _sent(messages) == expected


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)


@given(st.lists(st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=4), max_size=4))
@settings(max_examples=200, deadline=None)
def test_a_streamed_export_is_the_text_of_the_whole_list(records: list[dict[str, object]]) -> None:
    """``arena export --format fastchat`` writes its JSON list record by record, one a line (a
    100,000-battle export held 1.3 GB at once): the text must read back as the whole list, one line each."""
    import io

    from arena.formats.export import Written, _write_json_list
    from arena.untrusted import json_text

    written = io.StringIO()
    counted = Written()
    _write_json_list(iter(records), written, counted)
    assert counted.records == len(records)
    assert json.loads(written.getvalue()) == json.loads(json_text(records))
    assert written.getvalue().count("\n") == len(records) + 1 + (len(records) > 0)  # "[", one line each, "]"
