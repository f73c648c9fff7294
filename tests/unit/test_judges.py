"""The judges' agreement (``analysis.judges``): kappa and alpha on known cases, position bias and outliers
with simulated judges, and ``arena judges`` on the command line."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest

from arena.analysis.judges import MAX_EVIDENCE, Vote, judge_report
from arena.store import writes
from tests.support.helpers import assert_one_line_error, run
from tests.support.votes import add_votes

JUDGE_STRENGTH = {"m0": 1000.0, "m1": 1150.0, "m2": 1300.0, "m3": 1450.0}


def several_judges_db(path: Path) -> None:
    """Every judge votes once on each of 40 prompts x 6 pairs, sides drawn at random for each judge.
    ana, ben and cy are honest (they follow the true strengths); rand flips a coin; lefty picks the left
    pane 80% of the time whatever it shows."""
    from arena.backend import Contestant
    from arena.prompts import Prompt
    from arena.store import Store

    prompts = [Prompt(set="t", id=f"p{i}", category="c", text=f"Question {i}?") for i in range(40)]
    labels = list(JUDGE_STRENGTH)
    rng = random.Random(11)
    with Store(path) as store:
        writes.register(store, [Contestant(label, "replay", "x") for label in labels], prompts)
        session = writes.start_session(store, "play", None)
        for prompt in prompts:
            for a, b in itertools.combinations(labels, 2):
                for judge in ("ana", "ben", "cy", "rand", "lefty"):
                    left, right = (a, b) if rng.random() < 0.5 else (b, a)
                    p_left = 1 / (1 + 10 ** ((JUDGE_STRENGTH[right] - JUDGE_STRENGTH[left]) / 400))
                    chance = {"rand": 0.5, "lefty": 0.8}.get(judge, p_left)
                    writes.record_battle(store,
                        session=session, prompt=prompt.uid, left_generation=None, right_generation=None,
                        left_contestant=left, right_contestant=right,
                        verdict="left" if rng.random() < chance else "right", judge=judge, vote_s=1.0,
                    )  # fmt: skip


def test_judges_agreement_bias_and_outliers_with_simulated_judges(tmp_path: Path) -> None:
    db = tmp_path / "judges.db"
    several_judges_db(db)
    result = run("judges", "--db", str(db), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    judges = {row["judge"]: row for row in report["judges"]}
    assert [name for name, row in judges.items() if row["outlier"]] == ["lefty", "rand"]
    assert [name for name, row in judges.items() if row["position_biased"]] == ["lefty"]
    kappa = {(pair["a"], pair["b"]): pair["kappa"] for pair in report["pairs"]}
    honest = [kappa[("ana", "ben")], kappa[("ana", "cy")], kappa[("ben", "cy")]]
    with_random = [kappa[("ana", "rand")], kappa[("ben", "rand")], kappa[("cy", "rand")]]
    assert min(honest) > 0.3 and max(with_random) < 0.15 and min(honest) > max(with_random) + 0.2
    assert report["items_with_several_judges"] == 240
    honest_only = json.loads(run("judges", "--db", str(db), "--json", "--judge", "ana").stdout)
    assert [row["judge"] for row in honest_only["judges"]] == ["ana"]
    table = run("judges", "--db", str(db))
    assert "OUTLIER" in table.stdout and "Krippendorff" in table.stdout


def test_krippendorff_alpha_and_cohen_kappa_on_known_cases() -> None:
    from arena.analysis.judges import cohen_kappa, krippendorff_alpha

    assert krippendorff_alpha([["a", "a"], ["b", "b"], ["a", "a", "a"]]) == pytest.approx(1.0)
    assert cohen_kappa(["a", "a", "b", "b"], ["a", "a", "b", "b"]) == pytest.approx(1.0)
    assert cohen_kappa(["a", "b", "a", "b"], ["b", "a", "b", "a"]) == pytest.approx(-1.0)
    # 2 raters, 10 items: 8 agree; Krippendorff's alpha by hand: o_aa = 8, o_ab = o_ba = 2, ... = 0.6 - small-sample
    first = ["a"] * 5 + ["b"] * 5
    second = ["a"] * 4 + ["b"] + ["b"] * 4 + ["a"]
    assert cohen_kappa(first, second) == pytest.approx(0.6)
    assert krippendorff_alpha([[x, y] for x, y in zip(first, second, strict=True)]) == pytest.approx(1 - 19 * 4 / 200)


def test_judges_without_names_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "anon.db"
    add_votes(db, [("a", "b", "left")], judge=None)  # type: ignore[arg-type]
    assert_one_line_error(run("judges", "--db", str(db)), "no votes with a judge name")


def test_a_contrarian_against_a_large_crowd_gives_finite_json() -> None:
    crowd = [Vote(f"crowd{n % 3}", f"q{n}", "a", "b", "left") for n in range(1000)]
    contrarian = [Vote("x", f"q{n}", "a", "b", "right") for n in range(300)]
    report = judge_report(crowd + contrarian)
    found = {judge.judge: judge for judge in report.judges}
    assert found["x"].flagged and found["x"].evidence == MAX_EVIDENCE
    text = json.dumps(report.to_dict(), allow_nan=False)  # raises on Infinity or NaN
    assert "Infinity" not in text


def test_judges_scale_with_the_votes_not_the_judges_squared() -> None:
    """3,000 judges with two votes each: only pairs that judged an item in common are compared."""
    votes = [Vote(f"j{n // 2}", f"q{n % 50}", "a", "b", "left" if n % 3 else "right") for n in range(6000)]
    report = judge_report(votes)
    assert len(report.judges) == 3000
    assert all(pair.shared > 0 for pair in report.pairs)
    assert len(report.pairs) < 3000 * 2999 // 2 // 10  # not every pair of judges


def test_two_judges_are_never_called_outliers_and_items_are_the_answers_judged(tmp_path: Path) -> None:
    """The newcomer's team: with alice and bob both were flagged OUTLIER (two judges cannot say which one is
    off), and 24 votes on 3 samples of 8 prompts became 8 "shared items" (different answers pooled). Items are
    the two answers judged; two judges who never saw the same answers share none."""
    from arena.analysis.judges import Vote

    votes = []
    for sample in range(3):
        for prompt in range(8):
            answers = frozenset((100 * prompt + 2 * sample, 100 * prompt + 2 * sample + 1))
            votes.append(Vote("alice", f"p{prompt}", "a", "b", "left", answers))
            votes.append(Vote("bob", f"p{prompt}", "a", "b", "right", answers))
    report = judge_report(votes)
    assert not any(judge.flagged for judge in report.judges) and not report.outliers_tested
    assert report.outlier_note is not None and "cannot tell which one" in report.outlier_note
    assert report.judges[1].evidence > 20  # the evidence is still shown
    assert [pair.shared for pair in report.pairs] == [24] and report.items_with_several_judges == 24
    live = [Vote(j, "p0", "a", "b", "left", frozenset((i, i + 1))) for i, j in ((1, "alice"), (5, "bob"))]
    assert judge_report(live).items_with_several_judges == 0  # other answers to the same prompt: not one item
