"""What the judge sees around the vote: what ran where at the reveal, the exact prompts on a key (only
after the vote), every key in the help, the vote keys in the footer on narrow terminals, and the reasons."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from arena.backend import LoadedInfo
from arena.present.info import describe_loaded
from arena.tui.keys import BATTLE_BINDINGS, SESSION_ACTIONS, action_name, help_rows, key_name
from arena.tui.screens.rendered_prompts import RenderedPromptsScreen
from tests.support.tui_helpers import LOOPY_SHORT, STEADY_SHORT, make_app, screen_text, wait_for

STEADY = STEADY_SHORT


LOOPY = LOOPY_SHORT


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


def test_the_help_is_built_from_the_bindings_the_battle_screen_uses() -> None:
    from arena.tui.screens.battle import BattleScreen

    assert BattleScreen.BINDINGS == BATTLE_BINDINGS  # one list: the screen's keys are the help's
    rows = help_rows({})
    listed = " ".join(keys for keys, _ in rows)
    for binding in BATTLE_BINDINGS:
        assert key_name(binding.key) in listed.split(), binding.key
        assert binding.tooltip or binding.group, f"{binding.key}: no help text"
    reasons = next(what for keys, what in rows if keys.startswith("1"))
    assert reasons.startswith("after the vote, why the winner won: correct, followed instructions")
    assert next(keys for keys, what in rows if what == "Model A is better") == "a  ←"
    # what the session decides is named by round.Action, read from it: a binding to an action the session
    # does not know would never be refused, so every session-like action must be one of them
    bound = {action_name(binding.action) for binding in BATTLE_BINDINGS}
    assert {"vote", "next", "follow_up", "regenerate", "custom", "note", "prompts", "reason", "undo"} <= bound
    assert bound >= SESSION_ACTIONS  # every action the session decides has a key
    off = dict(help_rows({"follow_up": "stored answers", "custom": "stored answers"}))
    assert off["f"] == "off: stored answers" and off["e"] == "off: stored answers" and not off["r"].startswith("off")


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
        for label in ("A wins", "B wins", "Tie", "Both bad", "Skip", "Follow", "Regen", "Board"):
            assert label in shown, (width, shown)  # every key of the moment, at 80 columns too


async def test_reasons_and_a_note_after_the_vote_reach_export_report_and_merge(tmp_path: Path) -> None:
    """a decided vote: 3 (concise) praises the winner, 6 (looped) blames the loser, 3 again takes the
    praise back and 1 (correct) gives another; m stores a note. Then export, report and merge carry them."""
    import json

    from tests.support.helpers import run

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


async def test_after_both_bad_a_reason_goes_to_the_focused_answer_only(tmp_path: Path) -> None:
    """The newcomer pressed 7 (wrong language) for one side's French after a both-bad vote, and the report
    listed it for the other side too. With an answer focused (tab), the reason is that side's alone."""
    import sqlite3

    app = make_app(tmp_path, STEADY_SHORT, LOOPY_SHORT)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.session.current is not None and app.session.current.both_done)
        current = app.session.current
        assert current is not None
        await pilot.press("x")
        await wait_for(pilot, lambda: current.voted)
        await pilot.press("tab")
        await pilot.pause()
        focused = next(side for side in ("left", "right") if app.screen.query_one(f"#{side}").has_focus_within)
        await pilot.press("7")
        await pilot.pause()
        assert "(tab: one answer, else both)" in screen_text(app)
    with sqlite3.connect(tmp_path / "arena.db") as conn:
        tagged = conn.execute("select contestant, reason from battle_reasons").fetchall()
    assert tagged == [(current.battle.contestant(focused).label, "wrong language")]  # type: ignore[arg-type]
