"""What the judge sees around the vote: what ran where at the reveal, the exact prompts on a key (only
after the vote), every key in the help, and the vote keys in the footer on narrow terminals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from arena.backend import LoadedInfo
from arena.present.info import describe_loaded
from arena.tui.screens.help import KEYS
from arena.tui.screens.rendered_prompts import RenderedPromptsScreen
from tests.tui_helpers import make_app, screen_text, wait_for

STEADY = {"t/one": "The Moon pulls the water.", "t/two": "4.", "t/three": "Rain."}
LOOPY = {"t/one": "Water water water.", "t/two": "Four.", "t/three": "Rain rain."}


async def both_answered(pilot: Any, app: Any) -> Any:
    """Wait until the first battle's two answers have stopped; its round."""
    await wait_for(pilot, lambda: app.session.current is not None and app.session.current.both_done)
    current = app.session.current
    assert current is not None
    return current


def test_what_ran_where_in_one_line() -> None:
    info = LoadedInfo(
        backend="gguf", target="m.gguf", device="cpu", dtype="Q4_1", quant="Q4_1", chat_template=True,
        n_params=134_515_008, memory_bytes=285_000_000, extra={"n_ctx": 8192},
    )  # fmt: skip
    assert describe_loaded(info) == "gguf · cpu · Q4_1 · 135M params · ctx 8192 · 272 MiB"
    bare = LoadedInfo(backend="hf", target="x", device="cuda:0", dtype="bfloat16", quant="nf4", chat_template=False)
    assert describe_loaded(bare) == "hf · cuda:0 · bfloat16 · nf4 · no chat template"


async def test_the_reveal_says_what_ran_where_and_p_shows_the_prompts_after_the_vote(tmp_path: Path) -> None:
    app = make_app(tmp_path, STEADY, LOOPY)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.session.current is not None and app.session.current.both_done)
        await pilot.press("p")
        await pilot.pause()
        assert not isinstance(app.screen, RenderedPromptsScreen)  # before the vote a template could unblind
        assert any("after the vote" in n.message for n in app._notifications)
        assert "ran as:" not in screen_text(app)
        await pilot.press("t")
        await wait_for(pilot, lambda: screen_text(app).count("ran as: replay") == 2)
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, RenderedPromptsScreen))
        shown = screen_text(app)
        current = app.session.current
        assert current is not None
        for side in ("left", "right"):
            assert current.battle.contestant(side).label in shown
            assert current.finished[side].result.rendered_prompt.splitlines()[0] in shown
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, RenderedPromptsScreen)


def test_the_help_names_every_key_the_battle_screen_binds() -> None:
    from arena.tui.screens.battle import BattleScreen

    listed = " ".join(key for key, _ in KEYS)
    for binding in BattleScreen.BINDINGS:
        key = binding.key if hasattr(binding, "key") else binding[0]  # type: ignore[index]
        shown = {"question_mark": "?", "escape": "esc", "left": "←", "right": "→"}.get(key, key)
        assert shown in listed, key


@pytest.mark.parametrize("width", [80, 100])
async def test_the_vote_keys_stay_in_the_footer_on_narrow_terminals(tmp_path: Path, width: int) -> None:
    app = make_app(tmp_path, STEADY, LOOPY)
    async with app.run_test(size=(width, 24)) as pilot:
        await wait_for(pilot, lambda: app.session.current is not None and app.session.current.both_done)
        await pilot.pause()
        footer = app.screen.query_one(Footer)
        shown = [
            key.description
            for key in footer.query(FooterKey)
            if key.region.width > 0 and key.region.right <= width and key.display
        ]
        for label in ("A better", "B better", "Tie", "Both bad", "Skip"):
            assert label in shown, (width, shown)


async def test_reasons_and_a_note_after_the_vote_reach_export_report_and_merge(tmp_path: Path) -> None:
    """a decided vote: 3 (concise) praises the winner, 6 (looped) blames the loser, 3 again takes the
    praise back and 1 (correct) gives another; m stores a note. Then export, report and merge carry them."""
    import json

    from tests.helpers import run

    app = make_app(tmp_path, STEADY, LOOPY)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.session.current is not None and app.session.current.both_done)
        await pilot.press("3")  # before the vote: nothing to explain yet
        current = app.session.current
        assert current is not None
        winner_side = "left" if current.battle.left.label == "steady" else "right"
        await pilot.press("a" if winner_side == "left" else "b")
        await wait_for(pilot, lambda: current.voted)
        assert "why? 1 correct" in screen_text(app)
        for key in ("3", "6", "3", "1"):
            await pilot.press(key)
        await pilot.pause()
        loser_pane, winner_pane = ("B", "A") if winner_side == "left" else ("A", "B")
        assert f"tagged: looped {loser_pane}, correct {winner_pane}" in screen_text(app)
        await pilot.press("m")
        await pilot.pause()
        await pilot.press(*"kept looping")
        await pilot.press("ctrl+s")
        await pilot.pause()
    db = tmp_path / "arena.db"
    [record] = json.loads(run("export", "--db", str(db), "--format", "json").stdout)["battles"]
    winner, loser = ("left", "right") if record["winner"] == record["left_contestant"] else ("right", "left")
    assert record[f"{winner}_reasons"] == ["correct"] and record[f"{loser}_reasons"] == ["looped"]
    assert record["note"] == "kept looping"
    report = {r["contestant"]: r for r in json.loads(run("report", "--db", str(db), "--all", "--json").stdout)}
    assert report["steady"]["reasons"] == {"correct": 1} and report["loopy"]["reasons"] == {"looped": 1}
    merged = tmp_path / "merged.db"
    assert run("merge", str(db), "--into", str(merged)).exit_code == 0
    [again] = json.loads(run("export", "--db", str(merged), "--format", "json").stdout)["battles"]
    assert again[f"{winner}_reasons"] == ["correct"] and again["note"] == "kept looping"


def test_a_tie_puts_a_reason_on_both_sides() -> None:
    from arena.vocab import reason_targets

    assert reason_targets("tie", True) == ("left", "right")
    assert reason_targets("both_bad", False) == ("left", "right")
    assert reason_targets("left", True) == ("left",) and reason_targets("left", False) == ("right",)


def test_resume_skips_what_was_judged_and_brings_back_a_battle_left_mid_stream(tmp_path: Path) -> None:
    from arena.backend import GenerationParams, GenerationResult
    from arena.engine.contestants import parse_spec
    from arena.judging.resume import find_resume
    from arena.judging.session import PlaySession
    from arena.store import Store
    from arena.store.settings import ContestantRef, SessionSettings
    from tests.helpers import write_replay
    from tests.tui_helpers import PROMPTS

    contestants = [
        parse_spec(f"replay:{write_replay(tmp_path / 'a.jsonl', STEADY)}", label="a"),
        parse_spec(f"replay:{write_replay(tmp_path / 'b.jsonl', LOOPY)}", label="b"),
    ]
    specs = [c.spec for c in contestants]
    answer = GenerationResult(text="x", n_tokens=1, finish_reason="stop")
    with Store(tmp_path / "r.db") as store:
        settings = SessionSettings(prompt_set="t", contestants=tuple(ContestantRef(spec) for spec in specs))
        first = PlaySession(store, contestants, PROMPTS, GenerationParams(), judge="ana", settings=settings, seed=7)
        judged = first.next_round()
        assert judged is not None
        for side in ("left", "right"):
            first.finish(judged, side, answer)  # type: ignore[arg-type]
        first.vote(judged, "left")
        quit_mid_stream = first.next_round()  # the judge quit while this one streamed: no vote
        assert quit_mid_stream is not None
        resume = find_resume(store, "ana", specs, "t")
        assert resume.session == first.session_id and resume.judged == {judged.battle.prompt.uid}
        again = PlaySession(
            store, contestants, PROMPTS, GenerationParams(), judge="ana", settings=settings, resume=resume
        )
        assert again.session_id == first.session_id and again.total == len(PROMPTS) - 1
        upcoming = again.next_round()
        assert upcoming is not None and upcoming.battle.prompt.uid == quit_mid_stream.battle.prompt.uid
        assert upcoming.battle.params.seed != judged.battle.params.seed  # new battles, new seeds
        with pytest.raises(Exception, match="other contestants or another prompt set"):
            find_resume(store, "ana", list(reversed(specs)), "t")


def test_resume_refusals_are_one_line(tmp_path: Path) -> None:
    from tests.helpers import assert_one_line_error, run, write_replay

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

    from tests.helpers import run

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
    from tests.helpers import write_replay
    from tests.tui_helpers import PROMPTS

    contestants = [
        parse_spec(f"replay:{write_replay(tmp_path / 'a.jsonl', STEADY)}", label="a"),
        parse_spec(f"replay:{write_replay(tmp_path / 'b.jsonl', LOOPY)}", label="b"),
    ]
    with Store(tmp_path / "t.db") as store:
        session = PlaySession(store, contestants, PROMPTS, GenerationParams(), judge="j", seed=1)
        current = session.next_round()
        assert current is not None
        for turn in range(MAX_TURNS):
            for side in ("left", "right"):
                session.finish(current, side, GenerationResult(text=f"answer {turn}", n_tokens=2, finish_reason="stop"))  # type: ignore[arg-type]
            if turn < MAX_TURNS - 1:
                current = session.follow_up(current, f"and then {turn}?")
        assert current.battle.turn == MAX_TURNS
        with pytest.raises(ArenaError, match=f"{MAX_TURNS} turns is the limit"):
            session.follow_up(current, "one more?")
