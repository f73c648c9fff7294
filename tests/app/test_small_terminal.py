"""Every screen at 80x24, a default terminal: complete, or scrollable to the end, with the keys to go on in
sight. What is checked is what the terminal would show (the composited lines), not the widgets' content."""

from __future__ import annotations

from pathlib import Path

from textual.containers import VerticalScroll

from arena.demo import REAL_INTRO
from arena.tui.app import ArenaApp
from tests.support.tui_helpers import LOOPY_SHORT, STEADY_SHORT, both_answered, make_app, wait_for

SMALL = (80, 24)


def shown(app: ArenaApp) -> str:
    """The lines the terminal shows now."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_the_welcome_screen_shows_how_to_start_and_quit_and_scrolls_to_its_end(tmp_path: Path) -> None:
    app = make_app(tmp_path, STEADY_SHORT, LOOPY_SHORT)
    app.intro = REAL_INTRO.format(db=tmp_path / "arena.db")
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        screen = shown(app)
        assert "enter: start judging" in screen and "q: quit" in screen
        box = app.screen.query_one("#intro-box", VerticalScroll)
        assert box.max_scroll_y > 0  # the text is longer than the box: it must scroll
        box.scroll_end(animate=False)
        await pilot.pause()
        assert "Press enter to start judging." in shown(app)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0 and not app.is_running


async def test_the_help_scrolls_to_its_last_key(tmp_path: Path) -> None:
    app = make_app(tmp_path, STEADY_SHORT, LOOPY_SHORT)
    async with app.run_test(size=SMALL) as pilot:
        await both_answered(pilot, app)
        await pilot.press("question_mark")
        await pilot.pause()
        assert "esc or ?: close" in shown(app)
        assert "quit (votes are already saved)" not in shown(app)  # cut at 24 rows ...
        for _ in range(40):  # ... and reached with the keys the border names
            await pilot.press("down")
        await pilot.pause()
        assert "quit (votes are already saved)" in shown(app)
        assert "Speed can still show" in shown(app) or "--pace even" in shown(app)
        await pilot.press("escape")


async def test_the_battle_names_its_keys_and_the_reveal_can_be_read_to_its_last_line(tmp_path: Path) -> None:
    long_answer = {uid: "\n".join(f"line {n} of a long answer." for n in range(40)) for uid in STEADY_SHORT}
    app = make_app(tmp_path, long_answer, LOOPY_SHORT)
    async with app.run_test(size=SMALL) as pilot:
        current = await both_answered(pilot, app)
        await pilot.pause()
        footer = shown(app).splitlines()[-1]
        assert footer.startswith("? Help q Quit a A wins b B wins") and footer.rstrip().endswith("l Board")
        await pilot.press("t")
        await wait_for(pilot, lambda: current.voted)
        await pilot.pause()
        long_side = "left" if current.battle.left.label == "steady" else "right"
        pane = app.screen.query_one(f"#{long_side}")
        # the newcomer had to scroll each pane for the figures: they come first, the answer right after them
        assert "tokens · ttft" in shown(app) and "line 0 of a long answer." in shown(app)
        scroll = pane.query_one(".pane-scroll", VerticalScroll)
        scroll.scroll_end(animate=False)
        await pilot.pause()
        assert "line 32 of a long answer." in shown(app)  # the answer, to where max tokens cut it
        assert shown(app).splitlines()[-1].startswith("? Help q Quit n Next")
        assert shown(app).splitlines()[-1].rstrip().endswith("l Board")  # every key, none cut


async def test_the_modal_boxes_fit_with_their_keys_in_sight(tmp_path: Path) -> None:
    app = make_app(tmp_path, STEADY_SHORT, LOOPY_SHORT)
    async with app.run_test(size=SMALL) as pilot:
        await both_answered(pilot, app)
        await pilot.press("f")
        await pilot.pause()
        assert "Follow-up to both models, turn 2 (ctrl+s sends it, esc cancels)" in shown(app).replace("\n│ ", " ")
        await pilot.press("escape")
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("p")
        await pilot.pause()
        assert "esc or p: close" in shown(app) and "Model A:" in shown(app)
        await pilot.press("escape")
        await pilot.press("m")
        await pilot.pause()
        assert "ctrl+s stores it, esc cancels" in shown(app)
        await pilot.press("escape")
        await pilot.press("l")
        await wait_for(pilot, lambda: "leaderboard" in shown(app))
        assert "esc Back" in shown(app).splitlines()[-1]
        assert "●" in shown(app) and "interval" in shown(app)  # the interval bars fit 80 columns


async def test_the_name_screen_fits(tmp_path: Path) -> None:
    app = make_app(tmp_path, STEADY_SHORT, LOOPY_SHORT, ask_judge=True)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        screen = shown(app)
        assert "Who is judging?" in screen and "your name, then enter" in screen


def test_a_long_label_is_cut_in_its_middle_so_the_backend_stays_in_view() -> None:
    """The newcomer at 80x24: "Model B: smollm2-135m-no-template" with "(hf)" cut off."""
    from arena.tui.widgets.answer_pane import middle_cut

    label = "SmolLM2-135M-Instruct.Q4_1?template=false"
    assert middle_cut(label, 20) == "SmolLM2-1…late=false" and len(middle_cut(label, 20)) == 20
    assert middle_cut("short", 20) == "short" and len(middle_cut(label, 2)) == 8
