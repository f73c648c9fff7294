"""Which pair answers next (``engine.battle``): ``--pairing uncertain`` prefers an open question."""

from __future__ import annotations

from pathlib import Path

from tests.support.helpers import run
from tests.support.votes import add_votes


def test_uncertain_pairing_prefers_an_open_question_over_a_settled_one(tmp_path: Path) -> None:
    """a beat b 20-0 (settled); a and c are level at 5-5; b and c never met but c is far above b.
    least-met asks b vs c (they never met); uncertain asks a vs c, whose order is open."""
    from arena.backend import Contestant, GenerationParams
    from arena.judging.session import PlaySession
    from arena.judging.sources import LiveSource
    from arena.store import Store

    db = tmp_path / "p.db"
    add_votes(db, [("a", "b", "left")] * 20 + [("a", "c", "left")] * 5 + [("a", "c", "right")] * 5)
    contestants = [Contestant(label, "replay", f"{label}.jsonl") for label in ("a", "b", "c")]
    from tests.support.votes import PROMPTS

    with Store(db) as store:
        for pairing, expected in (("least-met", {"b", "c"}), ("uncertain", {"a", "c"})):
            picked = set()
            for seed in range(5):
                source = LiveSource(contestants, PROMPTS, GenerationParams())
                session = PlaySession(store, source, judge="j", seed=seed, pairing=pairing)
                current = session.next_round()
                assert current is not None
                picked.add(frozenset((current.battle.left.label, current.battle.right.label)))
            assert picked == {frozenset(expected)}, (pairing, picked)


def test_play_refuses_an_unknown_pairing() -> None:
    result = run("play", "--pairing", "random", "-m", "replay:x.jsonl", "-m", "replay:y.jsonl")
    assert result.exit_code == 2 and "least-met" in result.stderr


def test_pairing_by_need_asks_an_open_adjacent_pair_before_a_decided_or_distant_one() -> None:
    """Order a > b > c > d. a-b is decided; b-c is open and next to each other; a-d is open but far apart
    (its order follows from the others); a decided pair comes last even when its vote would teach most."""
    import random

    from arena.analysis.ratings.standing import Standing
    from arena.backend import Contestant
    from arena.engine.battle import pick_uncertain_pair

    ratings = {"a": 1300.0, "b": 1200.0, "c": 1150.0, "d": 1000.0}
    standing = Standing(ratings, frozenset({frozenset(("a", "b"))}))
    adjacent = standing.adjacent(list(ratings))
    assert adjacent == {frozenset(("a", "b")), frozenset(("b", "c")), frozenset(("c", "d"))}
    open_adjacent = standing.need(frozenset(("b", "c")), 50, adjacent)
    assert open_adjacent < standing.need(frozenset(("a", "d")), 0, adjacent)  # adjacency first, whatever met
    assert standing.need(frozenset(("a", "d")), 0, adjacent) < standing.need(frozenset(("a", "b")), 0, adjacent)
    contestants = [Contestant(label, "replay", f"{label}.jsonl") for label in ratings]
    counts = {frozenset(("b", "c")): 50, frozenset(("c", "d")): 0}
    picked = {
        frozenset(c.label for c in pick_uncertain_pair(contestants, counts, standing, random.Random(s)))
        for s in range(10)
    }
    assert picked == {frozenset(("c", "d"))}  # open, adjacent, and the least met of the two open adjacent ones
