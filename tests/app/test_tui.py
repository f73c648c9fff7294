"""The real Textual app driven by Pilot: streaming, blindness, votes, reveal, stop, skip, errors,
literal output, leaderboard and custom prompts. Models are real replay backends, the store a real file."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
from rich.text import Text

from arena.backend import GenerationParams
from arena.store import queries
from arena.tui.app import ArenaApp
from arena.tui.screens.battle import BattleScreen
from arena.tui.screens.help import HelpScreen
from arena.tui.screens.leaderboard import LeaderboardScreen
from arena.tui.screens.summary import SummaryScreen
from arena.tui.text import visible
from arena.tui.widgets.answer_pane import AnswerPane, shown_text
from tests.support.helpers import assert_one_line_error, needs, run, write_replay
from tests.support.tui_helpers import make_app, screen_text, wait_for

LOOP = "The water goes up again. " * 12
GARBAGE = "Fine start. PersonX boards TrainStationFactory ]]> <|im_end|> qzx vorblet ~~||~~"
STEADY = {
    "t/one": "The Moon pulls the oceans. Two bulges form. Earth turns under them.",
    "t/two": "2 + 2 = 4.",
    "t/three": "Rain on the roof.",
}
LOOPY = {"t/one": LOOP, "t/two": GARBAGE, "t/three": "Rain rain rain."}
SIZE = (160, 48)


def panes(app: ArenaApp) -> dict[str, AnswerPane]:
    return {"left": app.battle.pane("left"), "right": app.battle.pane("right")}


def both_done(app: ArenaApp) -> bool:
    current = app.session.current
    return current is not None and current.both_done


def footer_keys(app: ArenaApp) -> list[str]:
    """The keys the footer shows now, in order."""
    from textual.widgets._footer import FooterKey

    return [key.key for key in app.screen.query(FooterKey)]


def battles(db: Path) -> list[tuple[str, str, str]]:
    return (
        sqlite3.connect(db)
        .execute("select left_contestant, right_contestant, verdict from battles order by id")
        .fetchall()
    )


async def test_streams_into_both_panes_without_identifying_the_models(tmp_path: Path) -> None:
    app = make_app(tmp_path, STEADY, LOOPY, tps=40)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: all(p.body_text for p in panes(app).values()))
        assert not both_done(app)  # caught mid-stream
        shown = screen_text(app)
        for secret in ("steady", "loopy", "replay", ".jsonl", "tok/s"):
            assert secret not in shown
        titles = [p.title_text for p in panes(app).values()]
        assert titles == ["Model A", "Model B"]
        assert panes(app)["left"].classes == panes(app)["right"].classes
        assert "1/3" in shown and "t/one" in shown and "Explain tides." in shown
        assert "recorded answers (no sampling)" in shown and "temperature" not in shown  # nothing samples
        assert "sentences" not in shown  # the constraints are the answer key: shown only at the reveal
        for pane in panes(app).values():  # no token counts or speeds before the vote, whatever the timing
            assert pane.status_text in ("generating", "done")
        await wait_for(pilot, lambda: both_done(app))
        await pilot.pause()
        current = app.session.current
        assert current is not None
        for side, pane in panes(app).items():
            assert pane.body_text == current.finished[side].result.text  # every token shown  # type: ignore[index]
            assert pane.status_text == "done"  # not "done, 12 tokens": lengths and speeds wait for the vote
        await pilot.press("t")
        await pilot.pause()
        assert "checked: sentences (max 3)" in screen_text(app)


async def test_a_leading_blank_line_does_not_tell_the_sides_apart(tmp_path: Path) -> None:
    """A model without a chat template nearly always starts with a newline; both panes drop leading blank
    lines the same way, streaming and at the reveal, while the stored answer keeps them."""
    raw_style = {uid: "\n \n" + text for uid, text in STEADY.items()}
    app = make_app(tmp_path, raw_style, LOOPY)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: both_done(app))
        await pilot.pause()
        current = app.session.current
        assert current is not None
        steady_side = "left" if current.battle.left.label == "steady" else "right"
        assert current.finished[steady_side].result.text.startswith("\n \n")  # stored as generated
        for pane in panes(app).values():
            assert pane.body_text and not pane.body_text.startswith(("\n", " "))
        await pilot.press("t")
        await pilot.pause()
        assert panes(app)[steady_side].body_text == STEADY["t/one"]


@pytest.mark.parametrize(
    ("key", "verdict"),
    [
        ("a", "left"),
        ("left", "left"),
        ("b", "right"),
        ("right", "right"),
        ("t", "tie"),
        ("x", "both_bad"),
        ("s", "skip"),
    ],
)
async def test_each_vote_key_writes_its_verdict_with_the_right_sides(tmp_path: Path, key: str, verdict: str) -> None:
    app = make_app(tmp_path, STEADY, LOOPY, seed=3)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: both_done(app))
        await pilot.press(key)
        await wait_for(pilot, lambda: bool(battles(tmp_path / "arena.db")))
        current = app.session.current
        assert current is not None
        assert battles(tmp_path / "arena.db") == [(current.battle.left.label, current.battle.right.label, verdict)]


async def test_sides_are_assigned_at_random(tmp_path: Path) -> None:
    lefts = set()
    for seed in range(8):
        folder = tmp_path / str(seed)
        folder.mkdir()
        app = make_app(folder, STEADY, LOOPY, seed=seed)
        async with app.run_test(size=SIZE):
            current = app.session.current
            assert current is not None
            lefts.add(current.battle.left.label)
    assert lefts == {"steady", "loopy"}


async def test_reveal_shows_labels_flags_highlights_and_stats(tmp_path: Path) -> None:
    app = make_app(tmp_path, STEADY, LOOPY)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: both_done(app))
        await pilot.press("a")
        await pilot.press("n")
        await wait_for(pilot, lambda: both_done(app))
        await pilot.press("t")
        await pilot.pause()
        current = app.session.current
        assert current is not None
        loopy_side = "left" if current.battle.left.label == "loopy" else "right"
        pane = panes(app)[loopy_side]
        title = pane.title_text
        assert "loopy" in title and "replay" in title
        assert "garbage" in pane.status_text
        assert "tokens" in pane.reveal_text and "tok/s" in pane.reveal_text
        body = pane.body.content
        assert isinstance(body, Text)
        highlighted = {body.plain[span.start : span.end] for span in body.spans}
        assert {"PersonX", "TrainStationFactory", "vorblet"} <= highlighted
        shown = screen_text(app)
        assert "steady" in shown and "vote stored: tie" in shown


async def test_first_battle_reveal_shows_loop_badge_and_constraints(tmp_path: Path) -> None:
    app = make_app(tmp_path, STEADY, LOOPY)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: both_done(app))
        await pilot.press("x")
        await pilot.pause()
        statuses = {side: p.status_text for side, p in panes(app).items()}
        current = app.session.current
        assert current is not None
        loopy_side = "left" if current.battle.left.label == "loopy" else "right"
        steady_side = "right" if loopy_side == "left" else "left"
        assert "loops" in statuses[loopy_side] and "constraints 0/1" in statuses[loopy_side]
        assert "constraints 1/1" in statuses[steady_side] and "loops" not in statuses[steady_side]


async def test_no_vote_before_both_answers_stop_then_stop_with_escape(tmp_path: Path) -> None:
    app = make_app(tmp_path, STEADY, LOOPY, tps=4)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any(p.body_text for p in panes(app).values()))
        assert footer_keys(app) == ["question_mark", "q", "escape", "l"]  # only what does something while streaming
        await pilot.press("a")
        await pilot.pause()
        assert battles(tmp_path / "arena.db") == []
        assert any("Wait for both answers" in n.message for n in app._notifications)  # told why, not ignored
        await pilot.press("escape")
        await wait_for(pilot, lambda: both_done(app))
        current = app.session.current
        assert current is not None
        assert {f.result.finish_reason for f in current.finished.values()} == {"cancelled"}
        assert all("stopped" in p.status_text for p in panes(app).values())
        await pilot.pause()
        assert footer_keys(app)[:7] == ["question_mark", "q", "a", "b", "t", "x", "s"]
        await pilot.press("b")
        await wait_for(pilot, lambda: len(battles(tmp_path / "arena.db")) == 1)
        await pilot.pause()
        for pane in panes(app).values():  # stopped by the judge: not scored against the constraints
            assert "stopped" in pane.status_text and "constraints" not in pane.status_text
            assert "1 constraint not scored: you stopped this answer" in pane.reveal_text
        assert footer_keys(app) == ["question_mark", "q", "n", "u", "e", "m", "p", "l"]


async def test_skip_then_next_prompt_and_vote_is_stored_first(tmp_path: Path) -> None:
    app = make_app(tmp_path, STEADY, LOOPY)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: both_done(app))
        await pilot.press("n")  # no vote yet: refused
        await pilot.pause()
        assert app.session.source.position == 1
        await pilot.press("s")
        await pilot.press("n")
        await pilot.pause()
        assert app.session.source.position == 2
        assert "2/3" in screen_text(app)
        assert [row[2] for row in battles(tmp_path / "arena.db")] == ["skip"]


async def test_a_failing_backend_shows_its_error_and_the_other_side_finishes(tmp_path: Path) -> None:
    failing = {**LOOPY, "t/one": {"output": "Half an ans", "error": "CUDA out of memory"}}
    app = make_app(tmp_path, STEADY, failing)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: both_done(app))
        current = app.session.current
        assert current is not None
        bad_side = "left" if current.battle.left.label == "loopy" else "right"
        good_side = "right" if bad_side == "left" else "left"
        bad = panes(app)[bad_side]
        assert "CUDA out of memory" in bad.body_text and "Half an ans" in bad.body_text
        assert "error" in bad.status_text
        assert current.finished[good_side].result.finish_reason == "stop"  # type: ignore[index]
        await pilot.press("x")
        await wait_for(pilot, lambda: len(battles(tmp_path / "arena.db")) == 1)
        assert battles(tmp_path / "arena.db")[0][2] == "both_bad"


def _terminal_output(renderable: object, width: int = 70) -> tuple[str, str]:
    """(the plain text, the raw bytes) a terminal would get for ``renderable``."""
    import io

    from rich.console import Console

    plain = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    plain.print(renderable)
    raw = io.StringIO()
    Console(width=width, file=raw, force_terminal=True, color_system="truecolor").print(renderable)
    return plain.export_text(), raw.getvalue()


async def test_markup_and_escape_sequences_are_shown_literally(tmp_path: Path) -> None:
    """In both views (styled, the default, and plain after v), before and after the vote."""
    nasty = (
        "[bold red]boom[/bold red] \x1b[2J\x1b[31mred\x07 [link=http://x]click[/link] "
        "<b>tag</b> <!-- hidden? --> [docs](https://evil.example/x)"
    )
    app = make_app(tmp_path, {**STEADY, "t/one": nasty}, LOOPY)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: both_done(app))
        for check in ("markdown", "voted", "exact"):
            current = app.session.current
            assert current is not None
            side = "left" if current.battle.left.label == "steady" else "right"
            pane = panes(app)[side]
            text, raw = _terminal_output(pane.body.content)
            words = " ".join(text.split())
            assert "[bold red]boom[/bold red]" in words and "[link=http://x]click[/link]" in words
            assert "\\x1b[2J\\x1b[31mred\\x07" in words  # spelled out, never sent
            assert "<b>tag</b>" in words and "<!-- hidden? -->" in words  # raw HTML stays in view
            assert "https://evil.example/x" in words  # a link shows its target ...
            assert "\x1b]8;" not in raw and "\x07" not in raw and "\x1b[2J" not in raw  # ... and is no hyperlink
            if check == "exact":
                assert isinstance(pane.body.content, Text) and not pane.body.content.spans
            if check == "markdown":
                await pilot.press("a")
                await pilot.pause()
            elif check == "voted":
                await pilot.press("v")
                await pilot.pause()


async def test_answers_keep_their_lines_with_markdown_styled_in_place_and_v_drops_the_styles(tmp_path: Path) -> None:
    """What the model wrote, line by line and word for word, in both views: a poem keeps its line breaks,
    unfenced code its indentation, a comment stays where it was (no centred heading), a character reference
    stays as written; headings, bold and code are styled where they stand."""
    answer = (
        "## Tides\n\nThe **Moon** pulls:\nnear side,\nfar side.\n\ndef add(a, b):\n    return a + b\n"
        "# Example usage:\nprint(add(1, 2))\n\n```python\nprint('hi')\n```\nprice &#x202E;0001"
    )
    app = make_app(tmp_path, {**STEADY, "t/one": answer}, {**LOOPY, "t/one": answer})
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: both_done(app))
        await pilot.pause()
        for pane in panes(app).values():
            content = pane.body.content
            assert isinstance(content, Text) and content.plain == answer  # every character, where it stood
            styled = {content.plain[span.start : span.end]: str(span.style) for span in content.spans}
            assert "bold" in styled["## Tides"] and "bold" in styled["**Moon**"]
            at_hi = answer.index("hi')")
            assert any(span.start <= at_hi < span.end and "green" in str(span.style) for span in content.spans)
            assert "```python" in styled  # the fenced block highlighted, its fences dimmed
            text, raw = _terminal_output(content, width=100)
            lines = [line.rstrip() for line in text.splitlines()]
            assert lines[3:5] == ["near side,", "far side."] and "    return a + b" in lines
            assert "# Example usage:" in lines and "\u202e" not in raw
        await pilot.press("v")
        await pilot.pause()
        for pane in panes(app).values():  # plain text, in both panes alike
            assert isinstance(pane.body.content, Text) and pane.body.content.plain == answer
            assert not pane.body.content.spans
        await pilot.press("v")
        await pilot.pause()
        assert all(isinstance(pane.body.content, Text) and pane.body.content.spans for pane in panes(app).values())


async def test_an_answer_of_megabytes_shows_its_first_part_and_says_how_much_is_left(tmp_path: Path) -> None:
    """Answers stored before the character limit (or imported) may be megabytes: the pane lays out the first
    200,000 characters and says how many more there are, instead of keeping the screen busy for minutes."""
    huge = ("x" * 99 + "\n") * 3000  # 300,000 characters in 3,000 tokens
    app = make_app(tmp_path, {**STEADY, "t/one": huge}, LOOPY, params=GenerationParams(max_tokens=5000))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: both_done(app))
        current = app.session.current
        assert current is not None
        pane = panes(app)["left" if current.battle.left.label == "steady" else "right"]
        assert pane.body_text.startswith("x" * 99 + "\n") and len(pane.body_text) < 200_200
        assert "100,000 more characters not shown here" in pane.body_text


async def test_leaderboard_round_trip(tmp_path: Path) -> None:
    app = make_app(tmp_path, STEADY, LOOPY)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: both_done(app))
        current = app.session.current
        assert current is not None
        winner_key = "a" if current.battle.left.label == "steady" else "b"
        await pilot.press(winner_key)
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, LeaderboardScreen)
        await wait_for(pilot, lambda: "steady beats loopy 1-0" in screen_text(app))
        board = screen_text(app)
        header = next(line for line in board.splitlines() if "rating" in line)
        assert "#" in header and "contestant" in header  # the rank column is headed
        assert "●" in board  # and the interval bars are drawn
        steady_row = next(line for line in board.splitlines() if "steady" in line and "●" in line)
        loopy_row = next(line for line in board.splitlines() if "loopy" in line and "●" in line)
        assert board.index(steady_row) < board.index(loopy_row)  # the winner is listed first
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BattleScreen)


async def test_help_and_custom_prompt(tmp_path: Path) -> None:
    app = make_app(tmp_path, STEADY, {**LOOPY})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "both bad" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: both_done(app))
        await pilot.press("e")  # refused before the vote
        await pilot.pause()
        assert isinstance(app.screen, BattleScreen)
        await pilot.press("s")
        await pilot.press("e")
        await pilot.pause()
        await pilot.press(*"Hi there")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, BattleScreen)
        current = app.session.current
        assert current is not None and current.battle.prompt.set == "custom"
        assert current.battle.prompt.text == "Hi there"
        await wait_for(pilot, lambda: both_done(app))
        assert "custom" in screen_text(app)
        errors = {f.result.error for f in current.finished.values()}
        assert all(error and "no output for prompt" in error for error in errors)  # replay has no answer to it


async def test_after_the_last_prompt(tmp_path: Path) -> None:
    app = make_app(tmp_path, STEADY, LOOPY)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(3):
            await wait_for(pilot, lambda: both_done(app))
            await pilot.press("t")
            await pilot.press("n")
            await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)  # the session's end says what it amounted to
        summary = screen_text(app)
        assert "Every prompt is judged." in summary and "This session: 3 votes" in summary
        assert "steady  0-3-0-0" in summary and "loopy   0-3-0-0" in summary and "the board now" in summary
        await pilot.press("escape")
        await pilot.pause()
        assert "All 3 prompts judged" in screen_text(app)
        assert len(battles(tmp_path / "arena.db")) == 3
        await pilot.press("q")  # the summary again, then q quits
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        await pilot.press("q")
        await pilot.pause()
    assert not app.is_running


def test_kill_9_mid_stream_loses_no_vote(tmp_path: Path) -> None:
    """A real process judges two battles, is SIGKILLed while the third streams; the file stays whole."""
    import os
    import signal
    import subprocess
    import sys

    from arena.store import Store
    from tests.support.helpers import REPO

    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.tui_voter", str(tmp_path), "2"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.strip() == "VOTED 2", line
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=30)
    db = tmp_path / "arena.db"
    conn = sqlite3.connect(db)
    assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
    assert [row[2] for row in battles(db)] == ["right", "left"]
    assert conn.execute("select count(*) from generations").fetchone()[0] >= 4
    with Store(db) as store:  # reopening (migrations, WAL recovery) works and adds nothing
        assert queries.table_counts(store)["battles"] == 2


@pytest.mark.engines
async def test_the_demo_builds_two_models_and_runs_a_battle(tmp_path: Path) -> None:
    """What `arena demo` runs: both tiny models built locally, the intro, then a real battle and a vote."""
    needs("torch", "transformers", "gguf")
    import random

    from arena.demo import DEMO_INTRO, DEMO_PARAMS, build_demo
    from arena.engine.pool import ModelPool
    from arena.judging.session import PlaySession
    from arena.judging.sources import LiveSource
    from arena.prompts import load_prompt_set
    from arena.store import Store
    from arena.tui.screens.intro import IntroScreen

    contestants = build_demo(tmp_path / "demo-models")
    assert [c.label for c in contestants] == ["tiny-longer-trained", "tiny-briefly-trained"]
    assert build_demo(tmp_path / "demo-models") == contestants  # cached: the second call builds nothing
    with ModelPool() as pool, Store(tmp_path / "demo.db") as store:
        pool.load_all(contestants)
        session = PlaySession(
            store,
            LiveSource(contestants, load_prompt_set("everyday").prompts, DEMO_PARAMS, pool=pool),
            judge="t",
            rng=random.Random(1),
        )
        app = ArenaApp(lambda _judge: session, intro=DEMO_INTRO.format(db=tmp_path / "demo.db", why=""))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, IntroScreen)
            assert session.current is None  # nothing streams behind the intro
            await pilot.press("enter")
            await wait_for(pilot, lambda: both_done(app), 60)
            await pilot.press("a")
            await wait_for(pilot, lambda: len(battles(tmp_path / "demo.db")) == 1)
            current = session.current
            assert current is not None
            for side, pane in panes(app).items():
                answer = current.finished[side]  # type: ignore[index]
                assert pane.has_class("revealed")
                assert current.battle.contestant(side).label in pane.title_text  # type: ignore[arg-type]
                assert pane.body_text == visible(shown_text(answer.result.text))
                assert f"{answer.result.n_tokens} tokens · ttft" in pane.reveal_text


def test_play_needs_two_loadable_models(tmp_path: Path) -> None:
    one = write_replay(tmp_path / "one.jsonl", {"everyday/science-tides": "x"})
    assert_one_line_error(run("play", "--model", f"replay:{one}"), "needs at least two contestants")
    assert_one_line_error(
        run("play", "--model", f"replay:{one}", "--model", "replay:missing.jsonl"),
        "replay file not found",
    )


def test_a_constraint_is_described_in_words_not_a_python_list() -> None:
    from arena.tui.widgets.prompt_header import describe_constraint

    assert describe_constraint({"kind": "include", "phrases": ["11:00", "240"]}) == "include (phrases 11:00 / 240)"


async def test_ending_the_app_stops_the_streams(tmp_path: Path) -> None:
    """ctrl+q (or a browser tab closed under arena serve) ends the app without the arena's own q: the answers
    must stop too, not keep generating (and keep the judge's slot) until they are done."""
    from tests.support.tui_helpers import make_app, wait_for

    endless = {"t/one": "word " * 400, "t/two": "x", "t/three": "y"}
    app = make_app(tmp_path, endless, endless, tps=20)  # 20 s of answer
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.session.current is not None)
        await pilot.pause(0.3)
        await pilot.press("ctrl+q")
    current = app.opened.current if app.opened is not None else None
    assert current is not None
    deadline = time.monotonic() + 20
    while len(current.finished) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert {answer.result.finish_reason for answer in current.finished.values()} == {"cancelled"}


async def test_after_a_follow_up_the_reveal_says_what_the_earlier_turns_were_flagged_for(tmp_path: Path) -> None:
    """The newcomer: a first turn cut off mid-sentence, and after a follow-up the reveal said "no flags" (the
    badges describe the last turn; the vote covers the whole conversation)."""
    app = make_app(tmp_path, STEADY, LOOPY)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: both_done(app))
        await pilot.press("f")
        await pilot.pause()
        await pilot.press(*"why?", "ctrl+s")
        await wait_for(pilot, lambda: app.session.current is not None and app.session.current.battle.turn == 2)
        await wait_for(pilot, lambda: both_done(app))
        current = app.session.current
        assert current is not None
        await pilot.press("a")
        await wait_for(pilot, lambda: current.voted)
        await pilot.pause()
        loopy = panes(app)["left" if current.battle.left.label == "loopy" else "right"]
        steady = panes(app)["right" if current.battle.left.label == "loopy" else "left"]
        assert "turn 1: loops" in loopy.reveal_text and "turn 1: no flags" in steady.reveal_text


async def test_the_named_mode_shows_who_is_who_and_its_votes_never_rate(tmp_path: Path) -> None:
    """A debugging view the newcomer asked for (item 16): each pane names its model before the vote, the
    settings line says it is not blind, and votes stored as named:JUDGE count on no board."""
    from tests.support.votes import add_votes

    app = make_app(tmp_path, STEADY, LOOPY, named=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: both_done(app))
        current = app.session.current
        assert current is not None
        titles = {side: pane.title_text for side, pane in panes(app).items()}
        assert titles["left"].startswith(f"Model A: {current.battle.left.label}")
        assert "NAMED, NOT BLIND" in screen_text(app)
    add_votes(tmp_path / "n.db", [("steady", "loopy", "left")] * 5, judge="named:ann")
    board = run("leaderboard", "--db", str(tmp_path / "n.db"), "--json")
    assert board.exit_code == 0 and json.loads(board.stdout) == []  # no vote of the named mode rates
    models = ["--model", f"replay:{tmp_path / 'steady.jsonl'}", "--model", f"replay:{tmp_path / 'loopy.jsonl'}"]
    assert_one_line_error(run("play", "--named", "--resume", *models, "--db", str(tmp_path / "n.db")), "--named")
    assert_one_line_error(run("serve", "--no-check", "--named", *models, "--db", str(tmp_path / "n.db")), "--named")
    assert_one_line_error(run("play", "--judge", "named:bob", *models, "--db", str(tmp_path / "n.db")), "named:")


async def test_one_side_can_be_regenerated_while_the_other_keeps_its_answer(tmp_path: Path) -> None:
    """Item 16's missing control: R asks only the focused answer again; r still asks both."""
    app = make_app(tmp_path, STEADY, LOOPY)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: both_done(app))
        first = app.session.current
        assert first is not None
        await pilot.press("tab")
        await pilot.pause()
        focused = next(side for side in ("left", "right") if app.screen.query_one(f"#{side}").has_focus_within)
        kept = "right" if focused == "left" else "left"
        await pilot.press("R")
        await wait_for(pilot, lambda: app.session.current is not first and both_done(app))
        again = app.session.current
        assert again is not None
        assert again.finished[kept].generation_id == first.finished[kept].generation_id  # type: ignore[index]
        assert again.finished[focused].generation_id != first.finished[focused].generation_id  # type: ignore[index]
        assert panes(app)[kept].body_text == shown_text(first.finished[kept].result.text)  # type: ignore[index]
        await pilot.press("a")
        await wait_for(pilot, lambda: again.voted)
    with sqlite3.connect(tmp_path / "arena.db") as conn:
        discarded = {row[0] for row in conn.execute("select id from generations where discarded = 1")}
    assert discarded == {first.finished[focused].generation_id}  # type: ignore[index]
