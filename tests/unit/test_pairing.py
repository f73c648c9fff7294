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
