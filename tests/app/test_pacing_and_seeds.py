"""What keeps a judge blind across time: pace modes that hide speed, and a fresh seed (prompt order, sides,
samples) for every session that ``--seed`` can replay exactly."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import click
import pytest
from textual.worker import WorkerFailed

from arena.backend import Contestant, GenerationParams
from arena.judging.session import PlaySession
from arena.judging.sources import LiveSource
from arena.prompts import load_prompt_set
from arena.store import Store
from arena.tui.pacing import PACES, fully_shown, visible_lengths
from tests.support.tui_helpers import make_app, wait_for

LONG = "word " * 120
FAST_SLOW = ({"t/one": LONG, "t/two": "Two.", "t/three": "Three."}, {"t/one": LONG, "t/two": "2", "t/three": "3"})


def test_the_cli_offers_exactly_the_choices_the_core_knows() -> None:
    """The CLI's choice lists come from ``arena.vocab``, the lists the core checks against, not copies."""
    from arena.cli import cli
    from arena.vocab import EXPORT_FORMATS, FINISH_REASONS, PAIRINGS

    def choices(command: str, option: str) -> tuple[str, ...]:
        found = next(p for p in cli.get_command(click.Context(cli), command).params if p.name == option)
        return tuple(found.type.choices)  # type: ignore[attr-defined]

    assert choices("play", "pace") == choices("demo", "pace") == PACES == ("live", "even", "together")
    assert choices("play", "pairing") == PAIRINGS
    assert choices("flags", "finish_reason") == FINISH_REASONS
    assert choices("export", "fmt") == EXPORT_FORMATS


def test_visible_lengths_per_mode() -> None:
    produced = {"left": 50, "right": 20}
    running = {"left": False, "right": False}
    assert visible_lengths("live", produced, running) == {"left": 50, "right": 20}
    assert visible_lengths("even", produced, running) == {"left": 20, "right": 20}
    assert visible_lengths("together", produced, running) == {"left": 0, "right": 0}
    left_done = {"left": True, "right": False}
    assert visible_lengths("even", {"left": 30, "right": 20}, left_done) == {"left": 20, "right": 20}
    assert not fully_shown("even", "left", {"left": 30, "right": 20}, left_done)
    assert fully_shown("even", "left", {"left": 30, "right": 45}, left_done)  # the other side went past it
    both = {"left": True, "right": True}
    for pace in PACES:
        assert visible_lengths(pace, produced, both) == produced


async def test_even_pace_never_shows_one_side_ahead_of_the_other(tmp_path: Path) -> None:
    """A model 10x faster than the other: with --pace even the panes grow together, frame after frame."""
    app = make_app(tmp_path, *FAST_SLOW, tps=400, loopy_tps=40, pace="even")
    frames = 0
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.battle
        while not (app.session.current is not None and app.session.current.both_done):
            await pilot.pause(0.03)
            left, right = screen.pane("left").body_text, screen.pane("right").body_text
            if not (left and right) or len(screen.streams.streamed) == 2:
                continue  # the fast side may have finished: it must still wait for the slow one
            frames += 1
            assert len(left) == len(right), (len(left), len(right))
            assert screen.pane("left").status_text == screen.pane("right").status_text == "generating"
        await pilot.pause()
        current = app.session.current
        assert current is not None
        for side in ("left", "right"):
            assert screen.pane(side).body_text == current.finished[side].result.text  # type: ignore[index]
    assert frames >= 3  # the comparison really ran while both streamed


async def test_together_pace_shows_nothing_until_both_are_done(tmp_path: Path) -> None:
    app = make_app(tmp_path, *FAST_SLOW, tps=400, loopy_tps=60, pace="together")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.battle
        await wait_for(pilot, lambda: len(screen.streams.streamed) == 1)  # the fast side has finished...
        assert screen.pane("left").body_text == screen.pane("right").body_text == ""  # ...and shows nothing
        await wait_for(pilot, lambda: app.session.current is not None and app.session.current.both_done)
        await pilot.pause()
        assert screen.pane("left").body_text and screen.pane("right").body_text


def _session(tmp_path: Path, name: str, seed: int | None) -> PlaySession:
    contestants = [Contestant(label, "replay", f"{label}.jsonl") for label in ("a", "b", "c")]
    store = Store(tmp_path / f"{name}.db")
    prompts = load_prompt_set("constraints").prompts
    return PlaySession(store, LiveSource(contestants, prompts, GenerationParams()), judge="j", seed=seed)


def _plan(session: PlaySession, battles: int) -> list[tuple[str, str, str, int]]:
    plan = []
    for _ in range(battles):
        current = session.next_round()
        assert current is not None
        battle = current.battle
        plan.append((battle.prompt.uid, battle.left.label, battle.right.label, battle.params.seed))
    return plan


def test_a_session_seed_replays_order_sides_and_sampling_seeds(tmp_path: Path) -> None:
    first = _plan(_session(tmp_path, "one", seed=1234), 6)
    again = _plan(_session(tmp_path, "two", seed=1234), 6)
    other = _plan(_session(tmp_path, "three", seed=99), 6)
    assert first == again
    assert [row[0] for row in first] != [row[0] for row in other]  # another seed, another prompt order
    assert len({row[3] for row in first}) == 6  # every battle samples with its own seed


def test_sessions_without_a_seed_differ_and_record_theirs(tmp_path: Path) -> None:
    one, two = _session(tmp_path, "one", None), _session(tmp_path, "two", None)
    assert one.seed != two.seed
    with sqlite3.connect(tmp_path / "one.db") as conn:
        settings = json.loads(conn.execute("select settings_json from sessions").fetchone()[0])
    assert settings["seed"] == one.seed
    assert settings["prompt_order"] == [prompt.uid for prompt in one.source.queue]  # type: ignore[attr-defined]
    assert sorted(settings["prompt_order"]) == sorted(p.uid for p in load_prompt_set("constraints").prompts)


async def test_a_crash_inside_the_app_exits_non_zero_and_keeps_the_votes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(tmp_path, {"t/one": "One.", "t/two": "Two."}, {"t/one": "Uno.", "t/two": "Dos."}, seed=2)
    with pytest.raises(WorkerFailed, match="disk on fire"):  # the test harness re-raises what the app hit
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.session.current is not None and app.session.current.both_done)
            await pilot.press("a")
            monkeypatch.setattr(app.session, "finish", _explode)
            await pilot.press("n")
            await wait_for(pilot, lambda: app.return_code is not None)
    assert app.return_code == 1  # what `arena play` passes to sys.exit
    with sqlite3.connect(tmp_path / "arena.db") as conn:
        assert conn.execute("select count(*) from battles").fetchone()[0] == 1


def _explode(*_args: object) -> None:
    raise RuntimeError("disk on fire")
