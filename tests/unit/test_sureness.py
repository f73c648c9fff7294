"""How sure the board is of each neighbouring pair (``ratings.board.Sureness``): the bootstrap's verdict and
the votes a clear one would take, checked by simulation, and ``--pairs`` / ``--coefficients`` on the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from arena.analysis.ratings import Outcome, compute_leaderboard
from tests.support.helpers import assert_one_line_error, run
from tests.support.votes import add_votes


def two_contestants(a_wins: int, b_wins: int) -> list[Outcome]:
    return [Outcome("a", "b", "left")] * a_wins + [Outcome("a", "b", "right")] * b_wins


def test_a_clear_lead_is_sure_and_needs_no_more_votes() -> None:
    board = compute_leaderboard(two_contestants(300, 100), rounds=500)
    [neighbour] = board.neighbours
    assert (neighbour.a, neighbour.b, neighbour.battles) == ("a", "b", 400)
    assert neighbour.p_a_better is not None and neighbour.p_a_better >= 0.975
    assert neighbour.votes_to_separate == 0


def test_votes_to_separate_gives_the_power_it_promises() -> None:
    """Few votes: not sure yet. Then, if the truth is what the ratings imply, the promised number of further
    decisive votes separates the two (a 95% interval excluding 50%) about four times in five."""
    board = compute_leaderboard(two_contestants(13, 7), rounds=500)
    [neighbour] = board.neighbours
    assert neighbour.p_a_better is not None and 0.5 < neighbour.p_a_better < 0.975
    assert neighbour.votes_to_separate is not None and neighbour.votes_to_separate > 0
    ratings = {r.contestant: r.rating for r in board.ratings}
    implied = 1 / (1 + 10 ** (-(ratings[neighbour.a] - ratings[neighbour.b]) / 400))
    total = 20 + neighbour.votes_to_separate
    rng = np.random.default_rng(0)
    wins = rng.binomial(total, implied, size=4000)
    share = wins / total
    separated = np.abs(share - 0.5) > 1.96 * np.sqrt(share * (1 - share) / total)
    assert 0.7 < separated.mean() < 0.9


def test_leaderboard_pairs_and_coefficients_on_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    add_votes(db, [("a", "b", "left")] * 8 + [("b", "a", "left")] * 3 + [("a", "c", "left")] * 6)
    pairs = json.loads(run("leaderboard", "--db", str(db), "--pairs", "--json", "--rounds", "200").stdout)
    expected = {"a", "b", "battles", "prompts", "p_a_better", "votes_to_separate", "prompts_to_separate", "provisional"}
    covered = {"ci_resamples", "prompts_on_board", "judges", "method", "auto_verdicts_left_out"}
    assert [set(row) for row in pairs] == [expected | covered] * 2
    assert pairs[0]["a"] == "a"
    styled = run("leaderboard", "--db", str(db), "--style-control", "--json", "--rounds", "100")
    plain = run("leaderboard", "--db", str(db), "--json", "--rounds", "100")
    assert [set(row) for row in json.loads(styled.stdout)] == [set(row) for row in json.loads(plain.stdout)]
    found = json.loads(run("leaderboard", "--db", str(db), "--style-control", "--coefficients", "--json").stdout)
    assert [row["feature"] for row in found] == ["length", "headers", "lists", "bold"]
    assert "style control" in run("leaderboard", "--db", str(db), "--style-control").stdout
    assert_one_line_error(run("leaderboard", "--db", str(db), "--coefficients"), "--style-control")


def test_two_wins_out_of_two_are_not_called_separated() -> None:
    """A bootstrap of 2-0 puts a above b in every round; the pair is provisional, so the board says so
    instead of "100% sure, separated" (seen on the demo's leaderboard after two votes)."""
    (neighbour,) = compute_leaderboard(two_contestants(2, 0), rounds=200).neighbours
    assert neighbour.provisional and neighbour.votes_to_separate != 0
    assert "too few to call" in neighbour.describe() and "separated" not in neighbour.describe()
    (settled,) = compute_leaderboard(two_contestants(300, 100), rounds=200).neighbours
    assert not settled.provisional and settled.votes_to_separate == 0
