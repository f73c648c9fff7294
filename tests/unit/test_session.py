"""A judging session (``arena.judging.session``) and the phase rules of its rounds (``judging.round``):
resume, regenerate, follow-ups, and what each phase allows, with and without a screen."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from arena.backend import GenerationParams, GenerationResult
from arena.engine.contestants import parse_spec
from arena.engine.pool import ModelPool
from arena.errors import ArenaError
from arena.judging.open import PlayOptions, session_opener
from arena.judging.round import Round
from arena.judging.session import PlaySession
from arena.judging.sources import LiveSource
from arena.prompts import PromptSet, custom_prompt
from arena.store import Store
from arena.store.session_lock import SessionBusy
from arena.vocab import SIDES
from tests.support.helpers import write_replay
from tests.support.tui_helpers import LOOPY_SHORT, PROMPTS, STEADY_SHORT, both_answered, make_app, screen_text, wait_for

STEADY = STEADY_SHORT
LOOPY = LOOPY_SHORT


def test_resume_skips_what_was_judged_and_brings_back_a_battle_left_mid_stream(tmp_path: Path) -> None:
    from arena.backend import GenerationParams, GenerationResult
    from arena.engine.contestants import parse_spec
    from arena.judging.resume import find_resume
    from arena.judging.session import PlaySession
    from arena.store import Store
    from arena.store.settings import ContestantRef, SessionSettings
    from tests.support.helpers import write_replay
    from tests.support.tui_helpers import PROMPTS

    contestants = [
        parse_spec(f"replay:{write_replay(tmp_path / 'a.jsonl', STEADY)}", label="a"),
        parse_spec(f"replay:{write_replay(tmp_path / 'b.jsonl', LOOPY)}", label="b"),
    ]
    specs = [c.spec for c in contestants]
    answer = GenerationResult(text="x", n_tokens=1, finish_reason="stop")
    with Store(tmp_path / "r.db") as store:
        settings = SessionSettings(prompt_set="t", contestants=tuple(ContestantRef(spec) for spec in specs))
        first = PlaySession(
            store, LiveSource(contestants, PROMPTS, GenerationParams()), judge="ana", settings=settings, seed=7
        )
        judged = first.next_round()
        assert judged is not None
        for side in ("left", "right"):
            first.finish(judged, side, answer)  # type: ignore[arg-type]
        first.vote(judged, "left")
        quit_mid_stream = first.next_round()  # the judge quit while this one streamed: no vote
        assert quit_mid_stream is not None
        resume = find_resume(store, "ana", specs, "t")
        assert resume.session == first.session_id and resume.judged == {judged.battle.prompt.uid}
        with pytest.raises(SessionBusy, match="being judged in another arena"):  # the first one still runs
            PlaySession(
                store,
                LiveSource(contestants, PROMPTS, GenerationParams()),
                judge="ana",
                settings=settings,
                resume=resume,
            )
        first.close()
        again = PlaySession(
            store, LiveSource(contestants, PROMPTS, GenerationParams()), judge="ana", settings=settings, resume=resume
        )
        assert again.session_id == first.session_id and again.total == len(PROMPTS) - 1
        upcoming = again.next_round()
        assert upcoming is not None and upcoming.battle.prompt.uid == quit_mid_stream.battle.prompt.uid
        assert upcoming.battle.params.seed != judged.battle.params.seed  # new battles, new seeds
        with pytest.raises(Exception, match="other contestants or another prompt set"):
            find_resume(store, "ana", list(reversed(specs)), "t")


def _opener_setup(tmp_path: Path) -> tuple[PlayOptions, PromptSet]:
    contestants = (
        parse_spec(f"replay:{write_replay(tmp_path / 'a.jsonl', STEADY)}", label="a"),
        parse_spec(f"replay:{write_replay(tmp_path / 'b.jsonl', LOOPY)}", label="b"),
    )
    prompts = PromptSet(name="t", description="", prompts=tuple(PROMPTS))
    return PlayOptions(contestants, "t", GenerationParams(), tmp_path / "r.db", judge="ana"), prompts


def _judge_one(session: PlaySession) -> None:
    current = session.next_round()
    assert current is not None
    for side in SIDES:
        session.finish(current, side, GenerationResult(text="x", n_tokens=1, finish_reason="stop"))
    session.vote(current, "tie")


def test_resume_counts_the_earlier_prompts_and_a_finished_session_has_nothing_to_resume(tmp_path: Path) -> None:
    """The header goes on at 2/3 (not 1/2); once every prompt is judged, --resume says so instead of
    opening an empty screen, and a browser judge who comes back gets a new session."""
    options, prompts = _opener_setup(tmp_path)
    with Store(options.db_path) as store:
        pool = ModelPool()
        first = session_opener(options, prompts, store, pool)("ana")
        _judge_one(first)
        first.close()
        resumed = session_opener(replace(options, resume=True), prompts, store, pool)("ana")
        assert resumed.next_round() is not None and resumed.progress == "2/3" and resumed.remaining == 1
        for side in SIDES:
            resumed.finish(resumed.current, side, GenerationResult(text="x", n_tokens=1, finish_reason="stop"))  # type: ignore[arg-type]
        resumed.vote(resumed.current, "tie")  # type: ignore[arg-type]
        _judge_one(resumed)
        resumed.close()
        with pytest.raises(ArenaError, match="has judged all 3 prompts of 't': nothing is left"):
            session_opener(replace(options, resume=True), prompts, store, pool)
        in_browser = session_opener(replace(options, judge=None, ask_judge=True), prompts, store, pool)("ana")
        assert in_browser.resumed is None and in_browser.progress == "0/3"


def test_two_tabs_under_one_name_never_judge_one_session_at_once(tmp_path: Path) -> None:
    """Hostile item 21: the first tab holds its session; a second tab under the same name starts its own
    (so it never shows the same queue), and --resume in a terminal says the session is busy."""
    options, prompts = _opener_setup(tmp_path)
    browser = replace(options, judge=None, ask_judge=True)
    with Store(options.db_path) as store:
        pool = ModelPool()
        first_tab = session_opener(browser, prompts, store, pool)("carol")
        _judge_one(first_tab)
        second_tab = session_opener(browser, prompts, store, pool)("carol")
        assert second_tab.resumed is None and second_tab.session_id != first_tab.session_id
        terminal = replace(options, judge="carol", resume=True)
        with pytest.raises(SessionBusy, match="being judged in another arena right now"):
            session_opener(terminal, prompts, store, pool)  # the latest session, the second tab's, is open
        second_tab.close()
        again = session_opener(browser, prompts, store, pool)("carol")
        assert again.session_id == second_tab.session_id  # once closed, the judge's latest session goes on


def test_resume_refusals_are_one_line(tmp_path: Path) -> None:
    from tests.support.helpers import assert_one_line_error, run, write_replay

    a = write_replay(tmp_path / "a.jsonl", STEADY)
    b = write_replay(tmp_path / "b.jsonl", LOOPY)
    models = ["-m", f"replay:{a}", "-m", f"replay:{b}", "--db", str(tmp_path / "n.db"), "--judge", "zoe"]
    assert_one_line_error(run("play", "--resume", *models), "no earlier arena session by judge 'zoe'")
    assert_one_line_error(run("play", "--resume", "--seed", "3", *models), "leave out --seed")


async def test_regenerate_asks_again_with_a_new_seed_and_keeps_the_old_answers_out_of_the_vote(tmp_path: Path) -> None:
    import sqlite3

    app = make_app(tmp_path, STEADY, LOOPY)
    db = tmp_path / "arena.db"
    async with app.run_test(size=(160, 48)) as pilot:
        first = await both_answered(pilot, app)
        pair = (first.battle.left.label, first.battle.right.label)
        await pilot.press("r")
        await wait_for(pilot, lambda: app.session.current is not first and app.session.current.both_done)  # type: ignore[union-attr]
        again = app.session.current
        assert again is not None and again.battle.prompt == first.battle.prompt
        assert (again.battle.left.label, again.battle.right.label) == pair  # the same sides: the judge saw them
        assert again.battle.params.seed != first.battle.params.seed
        await pilot.press("a")
        await wait_for(pilot, lambda: again.voted)
        await pilot.press("r")  # after the vote: refused
        await pilot.pause()
        assert app.session.current is again
    with sqlite3.connect(db) as conn:
        rows = conn.execute("select id, discarded from generations order by id").fetchall()
        battle = conn.execute("select left_generation, right_generation from battles").fetchall()
    assert [discarded for _, discarded in rows] == [1, 1, None, None]
    assert sorted(battle[0]) == [rows[2][0], rows[3][0]]  # the vote is on the new answers only


async def test_a_follow_up_turn_continues_each_sides_own_conversation_and_the_vote_covers_it(tmp_path: Path) -> None:
    import json
    import sqlite3

    from tests.support.helpers import run

    app = make_app(tmp_path, STEADY, LOOPY)
    db = tmp_path / "arena.db"
    async with app.run_test(size=(160, 48)) as pilot:
        first = await both_answered(pilot, app)
        await pilot.press("f")
        await pilot.pause()
        await pilot.press(*"Shorter please")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.session.current is not first and app.session.current.both_done)  # type: ignore[union-attr]
        second = app.session.current
        assert second is not None and second.battle.turn == 2
        assert "turn 2: Shorter please" in screen_text(app)
        for side in SIDES:  # each pane holds its own thread: the first prompt, its own answer, the follow-up
            earlier = app.screen.pane(side).earlier_text  # type: ignore[attr-defined]
            own = (STEADY if second.battle.contestant(side).label == "steady" else LOOPY)["t/one"]
            other = (LOOPY if second.battle.contestant(side).label == "steady" else STEADY)["t/one"]
            assert first.battle.prompt.text in earlier and own.strip() in earlier and other.strip() not in earlier
            assert earlier.rstrip().endswith("Shorter please")
        await pilot.press("a")
        await wait_for(pilot, lambda: second.voted)
    with sqlite3.connect(db) as conn:
        generations = conn.execute("select contestant, messages_json from generations order by id").fetchall()
        battle = conn.execute("select left_generation, right_generation from battles").fetchall()
    assert len(generations) == 4 and len(battle) == 1
    for contestant, messages_json in generations[2:]:
        messages = json.loads(messages_json)
        assert [m["role"] for m in messages] == ["user", "assistant", "user"]
        own_first_answer = (STEADY if contestant == "steady" else LOOPY)["t/one"]
        assert messages[1]["content"] == own_first_answer  # its own answer, never the other side's
        assert messages[2]["content"] == "Shorter please"
    [record] = json.loads(run("export", "--db", str(db), "--format", "fastchat").stdout)
    assert record["turn"] == 2 and [m["role"] for m in record["conversation_a"]] == [
        "user",
        "assistant",
        "user",
        "assistant",
    ]


def test_the_turn_limit_is_a_clear_message(tmp_path: Path) -> None:
    from arena.backend import GenerationParams, GenerationResult
    from arena.engine.contestants import parse_spec
    from arena.errors import ArenaError
    from arena.judging.session import MAX_TURNS, PlaySession
    from arena.store import Store
    from tests.support.helpers import write_replay
    from tests.support.tui_helpers import PROMPTS

    contestants = [
        parse_spec(f"replay:{write_replay(tmp_path / 'a.jsonl', STEADY)}", label="a"),
        parse_spec(f"replay:{write_replay(tmp_path / 'b.jsonl', LOOPY)}", label="b"),
    ]
    with Store(tmp_path / "t.db") as store:
        session = PlaySession(store, LiveSource(contestants, PROMPTS, GenerationParams()), judge="j", seed=1)
        current = session.next_round()
        assert current is not None
        for turn in range(MAX_TURNS):
            for side in ("left", "right"):
                session.finish(current, side, GenerationResult(text=f"answer {turn}", n_tokens=2, finish_reason="stop"))  # type: ignore[arg-type]
            if turn < MAX_TURNS - 1:
                assert current.allows("follow_up") is None
                current = session.follow_up(current, f"and then {turn}?")
        assert current.battle.turn == MAX_TURNS
        # hostile item 22: the limit is a phase rule, said before the follow-up box takes the judge's text
        assert f"{MAX_TURNS} turns is the limit" in (current.allows("follow_up") or "")
        assert current.allows("vote") is None  # the vote is still open
        with pytest.raises(ArenaError, match=f"{MAX_TURNS} turns is the limit"):
            session.follow_up(current, "one more?")


# ---------------------------------------------------------------- the phase rules, without a screen


@pytest.fixture
def replay_session(tmp_path: Path) -> Iterator[PlaySession]:
    """A real session over two replay models and a real SQLite file, with its pool: no screen anywhere."""
    contestants = [
        parse_spec(f"replay:{write_replay(tmp_path / 'a.jsonl', STEADY)}", label="a"),
        parse_spec(f"replay:{write_replay(tmp_path / 'b.jsonl', LOOPY)}", label="b"),
    ]
    with ModelPool() as pool, Store(tmp_path / "s.db") as store:
        pool.load_all(contestants)
        yield PlaySession(store, LiveSource(contestants, PROMPTS, GenerationParams(), pool=pool), judge="j", seed=3)


def run_both(session: PlaySession, current: Round) -> dict[str, str]:
    """Both sides streamed by the session itself, as a front end's workers would; the text each streamed."""
    streamed: dict[str, str] = {}
    for side in SIDES:
        chunks: list[str] = []
        answer = session.run_side(current, side, threading.Event(), lambda chunk, out=chunks: out.append(chunk.text))
        assert answer.result.text == "".join(chunks)
        streamed[side] = answer.result.text
    return streamed


def test_each_phase_allows_what_it_should_and_the_session_refuses_the_rest(replay_session: PlaySession) -> None:
    session = replay_session
    assert session.allows("vote") == "" and session.allows("next") is None  # before any battle
    current = session.next_round()
    assert current is not None and current.phase == "streaming"
    assert "Wait for both answers" in (current.allows("vote") or "")
    assert "then f" in (current.allows("follow_up") or "") and "then r" in (current.allows("regenerate") or "")
    assert current.allows("reason") == "" and "after the vote" in (current.allows("prompts") or "")
    assert "Still generating" in (session.allows("next") or "")
    with pytest.raises(RuntimeError, match="not allowed in phase streaming"):
        session.vote(current, "left")  # a front end that skipped allows() gets an error, never a bad write
    run_both(session, current)
    assert current.phase == "answered"
    assert all(current.allows(action) is None for action in ("vote", "follow_up", "regenerate"))
    assert "Vote first" in (session.allows("next") or "") and "this battle first" in (session.allows("custom") or "")
    with pytest.raises(RuntimeError, match="not allowed"):
        session.toggle_reason(current, "1")
    session.vote(current, "left")
    assert current.phase == "voted"
    assert "Already voted" in (current.allows("vote") or "")
    assert "before the vote" in (current.allows("follow_up") or "")
    assert all(current.allows(action) is None for action in ("reason", "note", "prompts", "next", "custom"))
    skipped = session.next_round()
    assert skipped is not None
    run_both(session, skipped)
    session.vote(skipped, "skip")
    assert skipped.phase == "skipped" and skipped.allows("reason") == "" and skipped.allows("note") == ""


def test_the_session_runs_a_side_and_builds_the_reveal(replay_session: PlaySession) -> None:
    session = replay_session
    current = session.next_round()
    assert current is not None
    streamed = run_both(session, current)
    uid = current.battle.prompt.uid
    assert {streamed["left"], streamed["right"]} == {STEADY[uid], LOOPY[uid]}
    with pytest.raises(RuntimeError, match="follows the vote"):
        session.reveal(current)
    session.vote(current, "right")
    revealed = session.reveal(current)
    for side in SIDES:
        contestant = current.battle.contestant(side)
        assert revealed[side].label == contestant.label and revealed[side].backend == "replay"
        assert revealed[side].answer is current.finished[side]
        assert revealed[side].info is not None and revealed[side].info.backend == "replay"
        assert revealed[side].fidelity is None  # never measured in this database


def test_when_every_prompt_is_judged_only_next_and_custom_remain(replay_session: PlaySession) -> None:
    session = replay_session
    while (current := session.next_round()) is not None:
        run_both(session, current)
        session.vote(current, "tie")
    assert session.finished_all and session.remaining == 0
    assert session.allows("vote") == "" and session.allows("follow_up") == ""
    assert session.allows("next") is None and session.allows("custom") is None
    custom = session.next_round(custom_prompt("Why is the sky blue?"))
    assert custom is not None and not session.finished_all and custom.phase == "streaming"


def test_an_answer_the_database_refused_is_retried_by_the_vote(replay_session: PlaySession) -> None:
    """A side whose write failed counts as answered (it stopped); the vote writes it first."""
    session = replay_session
    current = session.next_round()
    assert current is not None
    result = GenerationResult(text="kept for later", n_tokens=3, finish_reason="stop")
    current.unstored["left"] = result  # what finish() leaves when the write is refused
    session.finish(current, "right", GenerationResult(text="stored", n_tokens=1, finish_reason="stop"))
    assert current.phase == "answered" and not current.both_done
    session.vote(current, "left")
    assert current.both_done and not current.unstored
    assert current.finished["left"].result.text == "kept for later"


async def test_undo_takes_back_the_last_vote_keeps_it_marked_and_brings_its_prompt_back(tmp_path: Path) -> None:
    """#23 item 3: u before and after n; the vote stays stored with who and when, ratings and exports use
    the votes that stand, the prompt is judged again blind, and a merge carries the taking back."""
    import json
    import sqlite3

    from tests.support.helpers import run

    app = make_app(tmp_path, STEADY, LOOPY)
    db = tmp_path / "arena.db"
    async with app.run_test(size=(160, 48)) as pilot:
        first = await both_answered(pilot, app)
        assert app.session.allows("undo") == ""  # nothing to take back yet
        await pilot.press("a")
        await wait_for(pilot, lambda: first.voted)
        copy = tmp_path / "copy.db"
        assert run("merge", str(db), "--into", str(copy)).exit_code == 0  # a colleague's merge, before the undo
        await pilot.press("u")  # before n
        await pilot.pause()
        assert first.taken_back and app.session.allows("vote") is not None  # no second vote on a revealed battle
        await pilot.press("n")
        second = await both_answered(pilot, app)
        await pilot.press("t")
        await wait_for(pilot, lambda: second.voted)
        await pilot.press("n")
        third = await both_answered(pilot, app)
        await pilot.press("u")  # after n: nothing voted here yet, so the latest vote is the second's
        await pilot.pause()
        assert second.taken_back and not third.voted
        await pilot.press("b")
        await wait_for(pilot, lambda: third.voted)
        await pilot.press("n")
        again = await both_answered(pilot, app)
        assert again.battle.prompt.uid == first.battle.prompt.uid  # it comes again, with new answers
        assert app.session.progress == "4/5"
    with sqlite3.connect(db) as conn:
        rows = conn.execute("select prompt, verdict, taken_back_at, taken_back_by from battles order by id").fetchall()
    assert [(prompt, verdict, by) for prompt, verdict, _at, by in rows] == [
        ("t/one", "left", "tester"),
        ("t/two", "tie", "tester"),
        ("t/three", "right", None),
    ]
    assert all(at is not None for _p, _v, at, by in rows if by)
    ratings = json.loads(run("leaderboard", "--db", str(db), "--json", "--rounds", "0").stdout)
    assert sum(row["battles"] for row in ratings) == 2  # the one vote that stands, on both sides
    [record] = json.loads(run("export", "--db", str(db), "--format", "fastchat").stdout)
    assert record["question_id"] == "t/three"
    assert run("merge", str(db), "--into", str(copy)).exit_code == 0
    with sqlite3.connect(copy) as conn:  # the colleague's copy learns of the taking back
        assert conn.execute("select count(*) from battles where taken_back_at is null").fetchone() == (1,)
