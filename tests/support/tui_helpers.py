"""Building a real ArenaApp (replay models, SQLite file) for Pilot tests, and waiting on it."""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Mapping
from pathlib import Path

from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Static

from arena.backend import GenerationParams
from arena.engine.contestants import parse_spec
from arena.engine.pool import ModelPool
from arena.judging.session import PlaySession, Round
from arena.judging.sources import LiveSource
from arena.prompts import Prompt
from arena.store import Store
from arena.tui.app import ArenaApp
from arena.tui.pacing import Pace, Presentation
from tests.support.helpers import write_replay

PROMPTS = [
    Prompt(
        set="t", id="one", category="science", text="Explain tides.", constraints=({"kind": "sentences", "max": 3},)
    ),
    Prompt(set="t", id="two", category="math", text="Add 2 and 2."),
    Prompt(set="t", id="three", category="poem", text="A short poem."),
]


STEADY_SHORT = {"t/one": "The Moon pulls the water.", "t/two": "4.", "t/three": "Rain."}
LOOPY_SHORT = {"t/one": "Water water water.", "t/two": "Four.", "t/three": "Rain rain."}
"""Two replay contestants' short answers to PROMPTS, for tests about the judging loop rather than the text."""


def make_app(
    tmp_path: Path,
    steady: Mapping[str, str | dict[str, object]],
    loopy: Mapping[str, str | dict[str, object]],
    *,
    tps: float | None = None,
    loopy_tps: float | None = None,
    seed: int = 0,
    db: Path | None = None,
    params: GenerationParams | None = None,
    pace: Pace = "live",
    ask_judge: bool = False,
    load_models: Callable[[], None] | None = None,
    intro: str | None = None,
    hide_board: bool = False,
    named: bool = False,
) -> ArenaApp:
    """Two replay contestants (``steady`` and ``loopy``) over PROMPTS in a real store; ``loopy_tps`` gives
    the loopy model its own speed. With ``ask_judge`` the app asks the judge's name first (``arena serve``);
    otherwise the judge is "tester". ``load_models`` (with ``ask_judge`` or an ``intro``) runs in the app's
    loading thread behind the first screen."""
    steady_pace = f"?tps={tps}" if tps else ""
    loopy_speed = loopy_tps or tps
    loopy_pace = f"?tps={loopy_speed}" if loopy_speed else ""
    contestants = [
        parse_spec(f"replay:{write_replay(tmp_path / 'steady.jsonl', steady)}{steady_pace}", label="steady"),
        parse_spec(f"replay:{write_replay(tmp_path / 'loopy.jsonl', loopy)}{loopy_pace}", label="loopy"),
    ]
    pool = ModelPool()
    pool.load_all(contestants)
    store = Store(db or tmp_path / "arena.db")

    def open_session(judge: str | None) -> PlaySession:
        return PlaySession(
            store,
            LiveSource(contestants, PROMPTS, params or GenerationParams(), pool=pool, shuffle=False),
            judge=judge,
            rng=random.Random(seed),
        )

    if ask_judge:
        return ArenaApp(
            open_session,
            ask_judge=True,
            presentation=Presentation(pace=pace, hide_board=hide_board, named=named),
            load_models=load_models,
        )
    return ArenaApp(
        open_session,
        judge="tester",
        presentation=Presentation(pace=pace, hide_board=hide_board, named=named),
        intro=intro,
        load_models=load_models,
    )


def screen_text(app: ArenaApp) -> str:
    """Every Static's content on the active screen, as plain text."""
    parts = []
    for widget in app.screen.query(Static):
        content = widget.content
        if isinstance(content, Text):
            parts.append(content.plain)
        elif isinstance(content, str):
            parts.append(content)
        else:  # a rich renderable (tables, groups): render it as the terminal would
            console = Console(width=160, record=True, file=io.StringIO())
            console.print(content)
            parts.append(console.export_text())
    return "\n".join(parts)


async def both_answered(pilot: Pilot[None], app: ArenaApp) -> Round:
    """Wait until the current battle's two answers have stopped; its round."""
    await wait_for(pilot, lambda: app.session.current is not None and app.session.current.both_done)
    current = app.session.current
    assert current is not None
    return current


async def wait_for(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Poll the app until ``condition`` holds; fail after ``timeout`` seconds (a deadline, not a timing test)."""
    waited = 0.0
    while not condition():
        assert waited < timeout, "condition not reached in time"
        await pilot.pause(0.05)
        waited += 0.05
