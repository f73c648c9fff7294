"""The real app under load: two replay models streaming 2,000 tokens/s each.

Measured, keypress to screen, while both panes stream: esc (stop) until both panes show it, once just after
three help-screen round trips and once with no screen switch before it; a vote until the reveal is on
screen; and opening / closing the help screen, with the same on an idle app as the baseline (a screen
switch costs Textual tens of milliseconds whatever the arena does). The two stopped battles stream answers
far longer than the measurement (a minute of tokens), so the stop always lands mid-stream on any machine;
a third battle of 4,000 tokens streams to the end and is checked token for token. Target: every token
shown; stop (both ways) and vote under 100 ms.

Runs headless (Textual's Pilot): compositor, widgets, timers and workers are the real ones; only the final
write to a terminal is skipped. Keys are posted straight to the app: Pilot.press would also wait for the
app to go idle, which it never does while streaming.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual import events

from arena.backend import GenerationParams
from arena.tui.app import ArenaApp
from arena.tui.screens.battle import BattleScreen
from arena.tui.screens.help import HelpScreen
from tests.support.tui_helpers import make_app, wait_for

TPS = 2000
TOKENS = 4000
LONG_TOKENS = 120_000
"""A minute of stream at TPS: the stops are measured seconds in, whatever the machine's speed."""
TARGET_MS = 100.0


async def _until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app never reached the expected state")
        await asyncio.sleep(0.001)


async def _key(app: ArenaApp, key: str, character: str | None, condition: Callable[[], bool]) -> float:
    start = time.perf_counter()
    app.post_message(events.Key(key, character))
    await _until(condition)
    return (time.perf_counter() - start) * 1000


async def _help_round_trips(app: ArenaApp, times: int, keep_going: Callable[[], bool]) -> list[float]:
    latencies = []
    for _ in range(times):
        if not keep_going():
            break
        latencies.append(await _key(app, "question_mark", "?", lambda: isinstance(app.screen, HelpScreen)))
        latencies.append(await _key(app, "escape", None, lambda: isinstance(app.screen, BattleScreen)))
        await asyncio.sleep(0.03)
    return latencies


@dataclass(frozen=True)
class Figures:
    streaming: list[float]
    idle: list[float]
    stop_after_switch: float
    stop: float
    vote: float
    complete: bool
    elapsed: float


def votable(app: ArenaApp) -> bool:
    current = app.session.current
    return current is not None and current.both_done


async def _stop_and_vote(app: ArenaApp, before_esc: Callable[[], object]) -> tuple[list[float], float, float]:
    """One long battle: what ``before_esc`` measures, then esc (checked to land mid-stream), then the vote."""
    panes = [app.battle.pane(side) for side in ("left", "right")]
    await _until(lambda: all(pane.body_text for pane in panes))
    measured = await before_esc()  # type: ignore[misc]

    def stopped_on_screen() -> bool:
        return not any(pane.status_text.startswith("generating") for pane in panes)

    if stopped_on_screen():
        raise RuntimeError("the stream ended before esc: the stop latency would measure nothing")
    stop = await _key(app, "escape", None, stopped_on_screen)
    await _until(lambda: votable(app))  # flags analyzed and stored: the vote is accepted
    vote = await _key(app, "a", "a", lambda: all(":" in pane.title_text for pane in panes))
    return list(measured or []), stop, vote


async def _measure() -> Figures:
    long_answer = " ".join(f"w{i}" for i in range(LONG_TOKENS))
    answer = " ".join(f"w{i}" for i in range(TOKENS))
    outputs = {"t/one": long_answer, "t/two": long_answer, "t/three": answer}
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp), outputs, outputs, tps=TPS, params=GenerationParams(max_tokens=LONG_TOKENS + 10))
        async with app.run_test(size=(160, 48)) as pilot:
            streaming, stop_after_switch, vote = await _stop_and_vote(
                app, lambda: _help_round_trips(app, 3, lambda: not votable(app))
            )
            await _key(app, "n", "n", lambda: app.session.source.position == 2)
            _, stop, _ = await _stop_and_vote(app, lambda: asyncio.sleep(0.5))  # no screen switch before esc
            await _key(app, "n", "n", lambda: app.session.source.position == 3)
            started = time.perf_counter()
            await wait_for(pilot, lambda: votable(app), 60)
            elapsed = time.perf_counter() - started
            await pilot.pause(0.2)
            panes = [app.battle.pane(side) for side in ("left", "right")]
            complete = all(pane.body_text == answer for pane in panes)
            idle = await _help_round_trips(app, 6, lambda: True)
            await pilot.press("q")
    return Figures(streaming, idle, stop_after_switch, stop, vote, complete, elapsed)


REPEATS = 5


def _summary(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} / {max(values):.0f} ms" if values else "-"


def run() -> str:
    runs = [asyncio.run(_measure()) for _ in range(REPEATS)]
    switched, stops, votes = [r.stop_after_switch for r in runs], [r.stop for r in runs], [r.vote for r in runs]
    complete = all(r.complete for r in runs)
    met = complete and all(statistics.median(values) < TARGET_MS for values in (switched, stops, votes))
    return (
        f"## TUI under load: 2 panes x {TPS} tokens/s ({REPEATS} runs; median / worst)\n\n"
        "| esc after a help switch | esc, no switch before | vote: reveal on screen "
        "| help open/close while streaming | help open/close, idle app | every token of 4000 shown "
        "| full stream | target (median) |\n"
        "|---|---|---|---|---|---|---|---|\n"
        f"| {_summary(switched)} | {_summary(stops)} | {_summary(votes)} "
        f"| {_summary([x for r in runs for x in r.streaming])} "
        f"| {_summary([x for r in runs for x in r.idle])} | {'yes' if complete else 'NO'} "
        f"| {statistics.median(r.elapsed for r in runs):.2f} s "
        f"| all tokens; stops and vote < {TARGET_MS:.0f} ms ({'meets' if met else 'MISSES'}) |\n"
    )


if __name__ == "__main__":
    print(run())
