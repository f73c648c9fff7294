"""Judging a batch's stored answers (``arena play --from-batch``, ``arena serve --from-batch``): battles are
pairs of contestants on one prompt and sample, sides placed by the seed, never a pair the judge voted on;
votes point at the batch's generations and nothing new is generated or loaded.

The batch is a real ``arena batch`` run (replay contestants) into a real SQLite file; the judging runs
through a ``PlaySession`` on a ``StoredSource``, the Textual app (Pilot, in a fresh interpreter so what it imported can be
checked) and the CLI.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from arena.judging.session import PlaySession
from arena.judging.stored import NOTHING_GENERATES, StoredBatch, StoredSource, load_batch, resolve_batch, unjudged
from arena.store import Store
from tests.support.helpers import EXAMPLES, REPO, assert_one_line_error, run, write_replay

STEADY = EXAMPLES / "steady.jsonl"
LOOPY = EXAMPLES / "loopy.jsonl"


def stored_session(store: Store, batch: StoredBatch, **options: Any) -> PlaySession:
    """A judging session on a batch's stored answers, as ``arena play --from-batch`` opens one."""
    return PlaySession(store, StoredSource(batch), **options)


def stored_rounds(session: PlaySession) -> dict[int, Any]:
    """The stored battle each round of ``session`` showed, by round number."""
    assert isinstance(session.source, StoredSource)
    return session.source.stored_rounds


def make_batch(tmp_path: Path, *extra: str, limit: int = 2, models: int = 2) -> Path:
    """An ``arena batch`` of ``models`` replay contestants over the first ``limit`` everyday prompts."""
    db = tmp_path / "batch.db"
    specs = [f"replay:{STEADY}", f"replay:{LOOPY}", f"replay:{write_replay(tmp_path / 'third.jsonl', _third())}"]
    args = ["batch", "--db", str(db), "--limit", str(limit), "--json", *extra]
    for spec, label in list(zip(specs, ("steady", "loopy", "third"), strict=True))[:models]:
        args += ["--model", spec, "--label", label]
    result = run(*args)
    assert result.exit_code == 0, result.output
    return db


def _third() -> dict[str, str]:
    """A third contestant's answers to the everyday prompts the steady one answers."""
    ids = [json.loads(line)["prompt_id"] for line in STEADY.read_text(encoding="utf-8").splitlines()]
    return {prompt_id: f"A third answer to {prompt_id}." for prompt_id in ids}


def generation_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("select count(*) from generations").fetchone()[0])


def test_every_pair_on_every_prompt_and_sample_is_one_battle(tmp_path: Path) -> None:
    db = make_batch(tmp_path, "--samples", "2", limit=2, models=3)
    with Store(db) as store:
        batch = load_batch(store, resolve_batch(store, "latest"))
    assert [c.label for c in batch.contestants] == ["steady", "loopy", "third"]
    assert len(batch.battles) == 2 * 2 * 3  # prompts x samples x pairs
    keys = {(b.prompt.uid, b.sample, b.labels) for b in batch.battles}
    assert len(keys) == 12
    with sqlite3.connect(db) as conn:
        stored = {
            gid: (c, p, s) for gid, c, p, s in conn.execute("select id, contestant, prompt, sample from generations")
        }
    for battle in batch.battles:
        for answer in (battle.first, battle.second):
            assert stored[answer.generation_id] == (answer.contestant, battle.prompt.uid, battle.sample)
        assert battle.first.contestant != battle.second.contestant


def test_a_judge_never_gets_a_pair_twice_and_votes_point_at_the_batch(tmp_path: Path) -> None:
    db = make_batch(tmp_path, limit=3)
    before = generation_count(db)
    with Store(db) as store:
        batch = load_batch(store, resolve_batch(store, "1"))
        session = stored_session(store, batch, judge="ann", seed=5)
        assert session.remaining == 3 and session.progress == "0/3"
        current = session.next_round()
        assert current is not None
        texts = {}
        for side in ("left", "right"):
            chunks: list[str] = []
            answer = session.run_side(current, side, None, lambda chunk, kept=chunks: kept.append(chunk.text))  # type: ignore[arg-type]
            texts[side] = "".join(chunks)
            assert texts[side] == answer.result.text and answer.contestant == current.battle.contestant(side).label
        for action in ("follow_up", "regenerate", "custom"):
            assert session.allows(action) == NOTHING_GENERATES.format(batch=1)  # type: ignore[arg-type]
        battle_id = session.vote(current, "left")
        reveal = session.reveal(current)
        assert reveal["left"].info is not None and reveal["left"].info.backend == "replay"  # the batch recorded it
        session.close()
        again = stored_session(store, batch, judge="ann", seed=5)  # a new session: the judged pair stays out
        assert again.remaining == 2 and again.judged_before == 1
        seen = set()
        while (next_round := again.next_round()) is not None:
            stored = stored_rounds(again)[next_round.number]
            seen.add(stored.pair)
            for side in ("left", "right"):
                again.run_side(next_round, side, None, lambda _chunk: None)  # type: ignore[arg-type]
            again.vote(next_round, "tie")
        assert len(seen) == 2 and stored_rounds(session)[1].pair not in seen
        assert unjudged(store, batch, "ann") == 0 and unjudged(store, batch, "bob") == 3
        again.close()
    assert generation_count(db) == before  # nothing generated, nothing copied
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "select b.left_contestant, g.contestant, b.left_generation, b.right_generation, b.prompt, g.prompt, g.session "
            "from battles b join generations g on g.id = b.left_generation where b.id = ?",
            [battle_id],
        ).fetchone()
        settings = json.loads(conn.execute("select settings_json from sessions where id = 2").fetchone()[0])
    assert row[0] == row[1] and row[4] == row[5] and row[6] == 1  # the left answer is the left contestant's
    assert settings["from_batch"] == 1


def test_sides_and_order_follow_the_seed(tmp_path: Path) -> None:
    db = make_batch(tmp_path, limit=4)

    def order(judge: str, seed: int) -> list[tuple[str, str, str]]:
        with Store(db) as store:
            session = stored_session(store, load_batch(store, 1), judge=judge, seed=seed)
            found = []
            while (current := session.next_round()) is not None:
                found.append((current.battle.prompt.uid, current.battle.left.label, current.battle.right.label))
            session.close()
            return found

    first = order("a", 11)
    assert first == order("b", 11)  # the same seed: the same battles, the same sides
    seeds = [order(f"j{seed}", seed) for seed in range(12)]
    assert len({tuple(found) for found in seeds}) > 1
    assert {left for found in seeds for _, left, _ in found} == {"steady", "loopy"}  # both sides seen on the left


def test_a_vote_taken_back_brings_its_battle_back(tmp_path: Path) -> None:
    db = make_batch(tmp_path, limit=2)
    with Store(db) as store:
        session = stored_session(store, load_batch(store, 1), judge="ann", seed=3)
        current = session.next_round()
        assert current is not None
        for side in ("left", "right"):
            session.run_side(current, side, None, lambda _chunk: None)  # type: ignore[arg-type]
        session.vote(current, "right")
        taken = session.undo()
        assert taken is current and session.remaining == 2
        pairs = []
        while (again := session.next_round()) is not None:
            pairs.append(stored_rounds(session)[again.number].pair)
        assert stored_rounds(session)[1].pair in pairs
        session.close()


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--from-batch", "9"], ["has no session 9"]),
        (["--from-batch", "soon"], ["expected a session number or 'latest'"]),
        (["--from-batch", "latest", "--model", "replay:x.jsonl"], ["leave out --model"]),
        (["--from-batch", "latest", "--prompts", "coding"], ["leave out --prompts"]),
        (["--from-batch", "latest", "--temperature", "0"], ["leave out --temperature"]),
    ],
)
def test_play_from_batch_refuses_bad_input_in_one_line(tmp_path: Path, args: list[str], fragments: list[str]) -> None:
    db = make_batch(tmp_path, limit=1)
    assert_one_line_error(run("play", "--db", str(db), *args), *fragments)


def test_play_from_batch_refuses_a_play_session_and_an_empty_file(tmp_path: Path) -> None:
    db = make_batch(tmp_path, limit=1)
    with Store(db) as store:
        session = stored_session(store, load_batch(store, 1), judge="ann", seed=1)
        session.close()
    assert_one_line_error(run("play", "--db", str(db), "--from-batch", "2"), "is an `arena play` session, not a batch")
    assert_one_line_error(run("play", "--db", str(tmp_path / "empty.db"), "--from-batch", "latest"), "no batch session")


PILOT_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path
    from arena.judging.open import PlayOptions, stored_opener
    from arena.store import Store
    from arena.tui.app import ArenaApp

    async def main() -> None:
        store = Store(Path(sys.argv[1]))
        options = PlayOptions(contestants=(), prompt_set="", params=None, db_path=Path(sys.argv[1]),
                              judge="pilot", from_batch="latest")
        app = ArenaApp(stored_opener(options, store), judge="pilot")
        screens = []
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(200):
                current = app.session.current
                if current is not None and current.both_done:
                    break
                await pilot.pause(0.05)
            screens.append(app.battle.query_one("#settings").content.plain)
            await pilot.press("f")  # off: nothing can generate
            await pilot.pause(0.1)
            await pilot.press("a")
            await pilot.pause(0.1)
            screens.append(app.battle.pane("left").reveal_text)
        app.session.close()
        store.close()
        heavy = sorted(name for name in ("torch", "transformers", "llama_cpp") if name in sys.modules)
        print(json.dumps({"screens": screens, "heavy": heavy, "generations": [len(r.finished) for r in app.session.rounds]}))

    asyncio.run(main())
    """
)


def test_the_app_judges_stored_answers_without_importing_a_model_library(tmp_path: Path) -> None:
    """Pilot in a fresh interpreter: the whole judging loop on stored answers, then what it imported."""
    db = make_batch(tmp_path, limit=2)
    before = generation_count(db)
    script = tmp_path / "pilot.py"
    script.write_text(PILOT_SCRIPT, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), str(db)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["heavy"] == []
    assert found["screens"][0].startswith("stored answers of batch session 1")
    assert "ran as: replay" in found["screens"][1]  # the reveal shows what the batch recorded
    with sqlite3.connect(db) as conn:
        votes = conn.execute(
            "select b.verdict, b.judge, gl.session, gr.session, gl.contestant = b.left_contestant "
            "from battles b join generations gl on gl.id = b.left_generation "
            "join generations gr on gr.id = b.right_generation"
        ).fetchall()
    assert votes == [("left", "pilot", 1, 1, 1)]
    assert generation_count(db) == before


def _rss_mib(proc: Path) -> float:
    for line in (proc / "status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_several_browser_judges_judge_stored_answers_at_once(tmp_path: Path) -> None:
    """``arena serve --from-batch latest``: three judges in headless Chromium at once, each voting twice on
    the batch's answers; each judge's process loads no model and stays small."""
    from tests.support.browser import (
        CHROMIUM_FLAGS,
        chromium_or_skip,
        judge_processes,
        open_judge,
        serving_args,
        session_of,
        wait_until,
    )

    chromium = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    db = make_batch(tmp_path, limit=3, models=3)  # 9 battles
    before = generation_count(db)
    judges = ("ann", "bob", "cem")
    sizes: list[float] = []
    with serving_args(tmp_path, db, ["--from-batch", "latest"], max_judges=3) as (url, _db, log):
        assert "batch session 1: 9 battles" in log.read_text()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            try:
                pages = {judge: open_judge(browser, url, judge) for judge in judges}
                sessions = {judge: session_of(db, judge) for judge in judges}
                for judge, key in zip(judges, ("a", "b", "t"), strict=True):
                    page = pages[judge]
                    for battle in (1, 2):
                        wait_until(
                            lambda session=sessions[judge], battle=battle: _votes(db, session) >= battle,
                            60,
                            f"{judge}'s vote {battle}",
                            poke=lambda page=page, key=key: (page.keyboard.press("n"), page.keyboard.press(key)),
                            pause=lambda seconds, page=page: page.wait_for_timeout(seconds * 1000),
                        )
                processes = judge_processes(db)
                assert len(processes) == 3
                sizes = [_rss_mib(proc) for proc in processes]
                for proc in processes:
                    maps = (proc / "maps").read_text()
                    assert "torch" not in maps and "llama" not in maps  # no model library in a judge
            finally:
                browser.close()
    assert max(sizes) < 250, sizes  # each judge's process, measured while judging (MiB)
    print(f"judge processes on stored answers: {', '.join(f'{size:.0f}' for size in sizes)} MiB resident")
    with sqlite3.connect(db) as conn:
        votes = conn.execute(
            "select s.judge, b.verdict, gl.session, gr.session from battles b join sessions s on s.id = b.session "
            "join generations gl on gl.id = b.left_generation join generations gr on gr.id = b.right_generation "
            "order by s.judge, b.id"
        ).fetchall()
        pairs = conn.execute(
            "select judge, count(distinct min(left_generation, right_generation) || '-' || "
            "max(left_generation, right_generation)) from battles group by judge"
        ).fetchall()
    assert [(judge, verdict) for judge, verdict, _, _ in votes] == [
        ("ann", "left"), ("ann", "left"), ("bob", "right"), ("bob", "right"), ("cem", "tie"), ("cem", "tie")
    ]  # fmt: skip
    assert all(left == right == 1 for _, _, left, right in votes)  # every vote on the batch's answers
    assert sorted(pairs) == [("ann", 2), ("bob", 2), ("cem", 2)]  # two different battles each
    assert generation_count(db) == before


def _votes(db: Path, session: int) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("select count(*) from battles where session = ?", [session]).fetchone()[0])


def test_resume_continues_the_judges_session_on_the_batch(tmp_path: Path) -> None:
    from arena.errors import ArenaError
    from arena.judging.open import PlayOptions, stored_opener

    db = make_batch(tmp_path, limit=3)
    options = PlayOptions(
        contestants=(),
        prompt_set="",
        params=None,
        db_path=db,
        judge="ann",
        from_batch="1",
        resume=True,  # type: ignore[arg-type]
    )
    with Store(db) as store:
        with pytest.raises(ArenaError, match="no earlier session by judge 'ann'"):
            stored_opener(options, store)
        first = stored_session(store, load_batch(store, 1), judge="ann", seed=9)
        current = first.next_round()
        assert current is not None
        for side in ("left", "right"):
            first.run_side(current, side, None, lambda _chunk: None)  # type: ignore[arg-type]
        first.vote(current, "left")
        first.close()
        resumed = stored_opener(options, store)("ann")
        assert resumed.session_id == first.session_id and resumed.seed == 9
        assert resumed.progress == "1/3" and resumed.battle_seed(1) == first.battle_seed(2)
        resumed.close()


def test_the_closing_line_counts_votes_as_the_end_screen_does(tmp_path: Path) -> None:
    """The newcomer's demo: the end screen said "9 votes, 1 skipped", the terminal "11 votes stored". Both
    count votes the same way now, and the closing line says what else is stored (skips, votes taken back)."""
    from arena.judging.summary import stored_line, summarize

    db = make_batch(tmp_path, "--samples", "2", limit=2)
    with Store(db) as store:
        session = stored_session(store, load_batch(store, 1), judge="ann", seed=1)
        for verdict in ("left", "skip", "right", "tie"):
            current = session.next_round()
            assert current is not None
            for side in ("left", "right"):
                session.run_side(current, side, None, lambda _chunk: None)  # type: ignore[arg-type]
            session.vote(current, verdict)
        session.undo()  # the tie is taken back
        summary = summarize(session)
        line = stored_line(session)
        session.close()
    assert (summary.votes, summary.skipped) == (2, 1)
    assert line == f"2 votes (1 skipped, 1 taken back) stored in {db}"
