"""``arena play --from-batch N --pairing judge-uncertain``: a person judges where an automatic judge is least
sure, each battle shown with a known chance that is stored with the vote and weighs it on the assisted board.

A real ``arena batch`` (replay contestants, 8 prompts x 8 samples) in a real SQLite file; the automatic
judge's verdicts are written as ``arena autojudge`` writes them (its own tests run a real judge model): sure
(97%) on half the battles, undecided (50%) on the others. The person plays the session to its end."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from arena.backend import GenerationParams
from arena.judging.open import PlayOptions, stored_opener
from arena.judging.session import PlaySession
from arena.judging.stored import StoredSource, load_batch
from arena.store import Store, writes
from tests.app.test_stored_answers import make_batch
from tests.support.helpers import assert_one_line_error, run


def judge_batch(db: Path, judge: str = "auto:j") -> dict[frozenset[int], float]:
    """Verdicts by ``judge`` on every battle of batch session 1, with probabilities; returns each pair's
    judge score for its first answer."""
    scores: dict[frozenset[int], float] = {}
    with Store(db) as store:
        batch = load_batch(store, 1)
        robot = writes.start_session(store, "autojudge", judge=judge)
        for index, battle in enumerate(batch.battles):
            sure = index % 2 == 0
            left = 0.97 if sure else 0.5
            first = {"choice": "A", "probabilities": {"A": left, "B": 1 - left, "C": 0.0}, "reply": None}
            second = {"choice": "B", "probabilities": {"A": 1 - left, "B": left, "C": 0.0}, "reply": None}
            writes.record_battle(
                store, session=robot, prompt=battle.prompt.uid, left_generation=battle.first.generation_id,
                right_generation=battle.second.generation_id, left_contestant=battle.first.contestant,
                right_contestant=battle.second.contestant, verdict="left" if sure else "tie", judge=judge,
                vote_s=0.1, auto=writes.AutoVerdictRow("gguf:j.gguf", "v1", True, first, second),
            )  # fmt: skip
            scores[battle.pair] = left
    return scores


def play_to_the_end(session: PlaySession, scores: dict[frozenset[int], float]) -> int:
    """Vote on every battle the session shows: for the answer the judge favours where it is sure (as the
    person would), else for the left one every other time."""
    votes = 0
    source = session.source
    assert isinstance(source, StoredSource)
    while (current := session.next_round()) is not None:
        for side in ("left", "right"):
            session.run_side(current, side, None, lambda _chunk: None)  # type: ignore[arg-type]
        stored = source.stored_rounds[current.number]
        favoured = "left" if current.battle.left.label == stored.first.contestant else "right"
        sure = scores[stored.pair] > 0.9
        session.vote(current, favoured if sure else ("left" if votes % 2 else "right"))
        votes += 1
    session.close()
    return votes


def test_the_judges_doubt_draws_the_battles_and_each_vote_keeps_its_chance(tmp_path: Path) -> None:
    db = make_batch(tmp_path, "--samples", "8", limit=8)
    scores = judge_batch(db)
    options = PlayOptions(contestants=(), prompt_set="everyday", params=GenerationParams(), db_path=db,
                          judge="ann", seed=3, pairing="judge-uncertain", from_batch="1")  # fmt: skip
    options.check()
    with Store(db) as store:
        session = stored_opener(options, store)("ann")
        source = session.source
        assert isinstance(source, StoredSource) and source.guide is not None and source.guide.judge == "auto:j"
        votes = play_to_the_end(session, scores)
        assert votes + source.passed == 64  # every battle was decided once: shown or passed over
        assert "auto:j is least sure" in (session.description or "")
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "select left_generation, right_generation, shown_probability from battles where judge = 'ann'"
        ).fetchall()
        settings = json.loads(conn.execute("select settings_json from sessions where judge = 'ann'").fetchone()[0])
    assert len(rows) == votes and all(0.2 <= chance <= 1.0 for _, _, chance in rows)
    sure = [chance for left, right, chance in rows if scores[frozenset((left, right))] == 0.97]
    unsure = [chance for left, right, chance in rows if scores[frozenset((left, right))] == 0.5]
    assert sum(unsure) / len(unsure) > sum(sure) / len(sure)  # the judge's doubt sets the chance
    assert source.passed > 0 and len(unsure) > len(sure)  # sure battles were passed over, the undecided shown
    assert settings["pairing"] == "judge-uncertain" and settings["pairing_judge"] == "auto:j"

    found = run("leaderboard", "--db", str(db), "--json", "--rounds", "50", "--assisted-by", "auto:j")
    assert found.exit_code == 0, found.output
    first = json.loads(found.stdout)[0]
    assert first["shared_battles"] == votes and first["weighted_shared_votes"] == sum(c < 1 for *_, c in rows)
    text = run("leaderboard", "--db", str(db), "--rounds", "50", "--assisted-by", "auto:j").stdout
    assert "drawn where the judge was least sure" in " ".join(text.split())
    plain = json.loads(run("leaderboard", "--db", str(db), "--json", "--rounds", "0").stdout)[0]
    assert plain["drawn_votes_unweighted"] == first["weighted_shared_votes"] > 0  # the plain board says so
    text = " ".join(run("leaderboard", "--db", str(db), "--rounds", "0").stdout.split())
    assert "drawn where an automatic judge was unsure" in text and "pulls these ratings together" in text

    exported = tmp_path / "votes.jsonl"
    assert run("export", "--db", str(db), "--format", "fastchat", "--out", str(exported)).exit_code == 0
    copy = tmp_path / "copy.db"
    assert run("import", str(exported), "--db", str(copy)).exit_code == 0
    with sqlite3.connect(copy) as conn:
        kept = sorted(chance for (chance,) in conn.execute("select shown_probability from battles where judge = 'ann'"))
    assert kept == sorted(chance for *_, chance in rows)  # the design survives a round trip


def test_the_weights_undo_the_tilt_of_the_draws(tmp_path: Path) -> None:
    """The draws show the undecided battles more often, so the raw share of sure battles among the votes is
    low; weighted by one over each chance it comes back toward the batch's own (half), as the fit reads it."""
    db = make_batch(tmp_path, "--samples", "8", limit=8)
    scores = judge_batch(db)
    options = PlayOptions(contestants=(), prompt_set="everyday", params=GenerationParams(), db_path=db,
                          judge="ann", seed=11, pairing="judge-uncertain", from_batch="1")  # fmt: skip
    with Store(db) as store:
        play_to_the_end(stored_opener(options, store)("ann"), scores)
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "select left_generation, right_generation, shown_probability from battles where judge = 'ann'"
        ).fetchall()
    sure = [scores[frozenset((left, right))] == 0.97 for left, right, _ in rows]
    weights = [1 / chance for *_, chance in rows]
    raw = sum(sure) / len(sure)
    weighted = sum(w for w, s in zip(weights, sure, strict=True) if s) / sum(weights)
    assert raw < 0.45 and abs(weighted - 0.5) < abs(raw - 0.5)


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--pairing", "judge-uncertain", "--model", "replay:a.jsonl", "--model", "replay:b.jsonl"], ["--from-batch"]),
        (["--from-batch", "1", "--pairing-judge", "auto:j"], ["--pairing judge-uncertain"]),
        (["--from-batch", "1", "--pairing", "judge-uncertain"], ["no automatic judge", "arena autojudge --batch 1"]),
        (["--from-batch", "1", "--pairing", "judge-uncertain", "--pairing-judge", "ann"], ["auto:LABEL"]),
    ],
)
def test_judge_uncertain_refuses_in_one_line(tmp_path: Path, args: list[str], fragments: list[str]) -> None:
    db = make_batch(tmp_path, limit=2)
    assert_one_line_error(run("play", "--db", str(db), *args), *fragments)


def test_several_judges_must_be_named(tmp_path: Path) -> None:
    db = make_batch(tmp_path, limit=2)
    judge_batch(db, "auto:one")
    judge_batch(db, "auto:two")
    assert_one_line_error(
        run("play", "--db", str(db), "--from-batch", "1", "--pairing", "judge-uncertain"), "auto:one (2)", "auto:two"
    )
