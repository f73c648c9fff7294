"""The battle engine with real replay models: pairing, blind sides, concurrency, failures, one load per run."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from arena.backend import Chunk, Contestant, GenerationParams, GenerationResult
from arena.engine.battle import Battle, assign_sides, new_battle, pick_pair
from arena.engine.contestants import parse_spec
from arena.engine.generation import run_streams
from arena.engine.pool import ModelPool
from arena.prompts import Prompt
from arena.vocab import SIDES, Side
from tests.support.helpers import WriteReplay

PROMPT = Prompt(set="s", id="q", category="c", text="Name three colours.")
A, B, C, D = (Contestant(name, "replay", f"{name}.jsonl") for name in "abcd")


def test_blind_assignment_is_uniform_over_seeds() -> None:
    """Over 4000 seeds A should be left about half the time: 4 sigma is 126 either side of 2000."""
    lefts = sum(assign_sides((A, B), random.Random(seed))[0] is A for seed in range(4000))
    assert abs(lefts - 2000) < 4 * (4000 * 0.25) ** 0.5


def test_pair_with_fewest_battles_is_chosen() -> None:
    counts = {frozenset("ab"): 3, frozenset("ac"): 3, frozenset("bc"): 1}
    for seed in range(20):
        assert {c.label for c in pick_pair([A, B, C], counts, random.Random(seed))} == {"b", "c"}


def test_ties_between_least_met_pairs_are_broken_at_random() -> None:
    counts = {frozenset("ab"): 2}
    picked = Counter(
        frozenset(c.label for c in pick_pair([A, B, C, D], counts, random.Random(seed))) for seed in range(600)
    )
    # five pairs have never met; each should come up, none should ever be a-b
    assert set(picked) == {frozenset(p) for p in ("ac", "ad", "bc", "bd", "cd")}
    assert min(picked.values()) > 60


def test_a_battle_needs_two_contestants() -> None:
    with pytest.raises(ValueError):
        pick_pair([A], {}, random.Random(0))


def _pool(write_replay: WriteReplay, outputs: dict[str, dict[str, object]]) -> tuple[ModelPool, list[Contestant]]:
    contestants = []
    for label, record in outputs.items():
        path = write_replay(label, [{"prompt_id": PROMPT.uid, **record}])
        contestants.append(parse_spec(f"replay:{path}", label=label))
    pool = ModelPool()
    pool.load_all(contestants)
    return pool, contestants


def run_battle(
    battle: Battle,
    pool: ModelPool,
    *,
    on_chunk: Callable[[Side, Chunk], None] | None = None,
    cancels: Mapping[Side, threading.Event] | None = None,
    sequential: bool = False,
) -> dict[Side, GenerationResult]:
    """Both sides through ``Battle.job`` and ``run_streams``, the path batch and the TUI take."""

    def callback(side: Side) -> Callable[[Chunk], None] | None:
        return None if on_chunk is None else (lambda chunk: on_chunk(side, chunk))

    jobs = [battle.job(side, pool, cancel=(cancels or {}).get(side), on_chunk=callback(side)) for side in SIDES]
    left, right = run_streams(jobs, sequential=sequential)
    return {"left": left, "right": right}


def test_both_streams_run_at_the_same_time(write_replay: WriteReplay) -> None:
    """Each side's first chunk waits at a barrier for the other side: only concurrent streams pass it."""
    pool, contestants = _pool(write_replay, {"x": {"output": "red green blue"}, "y": {"output": "cyan magenta yellow"}})
    barrier = threading.Barrier(2, timeout=30)
    seen: dict[Side, list[str]] = {"left": [], "right": []}

    def on_chunk(side: Side, chunk: Chunk) -> None:
        if not seen[side]:
            barrier.wait()
        seen[side].append(chunk.text)

    battle = new_battle(PROMPT, contestants, {}, GenerationParams(), random.Random(1))
    result = run_battle(battle, pool, on_chunk=on_chunk)
    assert {result["left"].text, result["right"].text} == {"red green blue", "cyan magenta yellow"}
    assert "".join(seen["left"]) == result["left"].text


def test_sequential_mode_runs_one_after_the_other(write_replay: WriteReplay) -> None:
    pool, contestants = _pool(write_replay, {"x": {"output": "one two"}, "y": {"output": "three four"}})
    order: list[Side] = []
    battle = new_battle(PROMPT, contestants, {}, GenerationParams(), random.Random(1))
    run_battle(battle, pool, on_chunk=lambda side, chunk: order.append(side), sequential=True)
    assert order == ["left", "left", "right", "right"]


def test_sides_map_to_the_right_models(write_replay: WriteReplay) -> None:
    pool, contestants = _pool(write_replay, {"x": {"output": "from x"}, "y": {"output": "from y"}})
    for seed in range(6):
        battle = new_battle(PROMPT, contestants, {}, GenerationParams(), random.Random(seed))
        result = run_battle(battle, pool)
        assert result["left"].text == f"from {battle.left.label}"
        assert result["right"].text == f"from {battle.right.label}"


def test_one_failing_side_does_not_stop_the_other(write_replay: WriteReplay) -> None:
    pool, contestants = _pool(
        write_replay, {"ok": {"output": "fine answer"}, "bad": {"output": "half", "error": "device lost"}}
    )
    battle = new_battle(PROMPT, contestants, {}, GenerationParams(), random.Random(0))
    result = run_battle(battle, pool)
    by_label = {battle.left.label: result["left"], battle.right.label: result["right"]}
    assert by_label["ok"].finish_reason == "stop" and by_label["ok"].text == "fine answer"
    assert by_label["bad"].finish_reason == "error" and by_label["bad"].error == "device lost"
    assert by_label["bad"].text == "half"


def test_cancelling_one_side_leaves_the_other_running(write_replay: WriteReplay) -> None:
    pool, contestants = _pool(write_replay, {"x": {"output": "a b c d e f"}, "y": {"output": "g h i j k l"}})
    battle = new_battle(PROMPT, contestants, {}, GenerationParams(), random.Random(0))
    cancels: dict[Side, threading.Event] = {"left": threading.Event(), "right": threading.Event()}
    cancels["left"].set()
    result = run_battle(battle, pool, cancels=cancels)
    assert result["left"].finish_reason == "cancelled" and result["left"].n_tokens == 0
    assert result["right"].finish_reason == "stop" and result["right"].n_tokens == 6


def test_models_are_loaded_once_per_run(write_replay: WriteReplay, tmp_path: Path) -> None:
    pool, contestants = _pool(write_replay, {"x": {"output": "x"}, "y": {"output": "y"}})
    loaded = {c.label: pool[c.label] for c in contestants}
    pool.load_all(contestants)  # a second request is a no-op
    for seed in range(3):
        run_battle(new_battle(PROMPT, contestants, {}, GenerationParams(), random.Random(seed)), pool)
    assert all(pool[label] is model for label, model in loaded.items())
    pool.close()
    assert "x" not in pool
