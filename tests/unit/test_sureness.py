"""How sure the board is of each neighbouring pair (``ratings.board.Sureness``): the sequential test's call,
the bootstrap's spread beside it, and ``--pairs`` / ``--coefficients`` on the CLI (the calls' simulations are
in ``test_sequential.py``)."""

from __future__ import annotations

import json
from pathlib import Path

from arena.analysis.ratings import Outcome, compute_leaderboard
from tests.support.helpers import assert_one_line_error, run
from tests.support.votes import add_votes


def two_contestants(a_wins: int, b_wins: int) -> list[Outcome]:
    return [Outcome("a", "b", "left")] * a_wins + [Outcome("a", "b", "right")] * b_wins


def test_a_clear_lead_is_decided_and_needs_no_more_votes() -> None:
    board = compute_leaderboard(two_contestants(300, 100), rounds=500)
    [neighbour] = board.neighbours
    assert (neighbour.a, neighbour.b, neighbour.battles) == ("a", "b", 400)
    assert neighbour.p_a_better is not None and neighbour.p_a_better >= 0.975
    assert neighbour.decided and neighbour.votes_to_separate == 0


def test_a_bootstrap_that_is_sure_is_not_a_call() -> None:
    """13-7: the bootstrap puts a above b in most rounds, yet the sequential test has not decided: the board
    says how many more decisive votes a decision should take, and the bootstrap's share is only the spread."""
    board = compute_leaderboard(two_contestants(13, 7), rounds=500)
    [neighbour] = board.neighbours
    assert neighbour.p_a_better is not None and neighbour.p_a_better > 0.85
    assert not neighbour.decided and neighbour.votes_to_separate is not None and neighbour.votes_to_separate > 20
    assert "open: ~" in neighbour.describe() and "of the bootstrap for these votes" in neighbour.describe()


def test_leaderboard_pairs_and_coefficients_on_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    add_votes(db, [("a", "b", "left")] * 8 + [("b", "a", "left")] * 3 + [("a", "c", "left")] * 6)
    pairs = json.loads(run("leaderboard", "--db", str(db), "--pairs", "--json", "--rounds", "200").stdout)
    expected = {"a", "b", "battles", "prompts", "p_a_better", "votes_to_separate", "prompts_to_separate", "provisional"}
    expected |= {"decided", "head_to_head", "e_value", "e_value_needed", "design_effect"}
    covered = {
        "ci_resamples",
        "prompts_on_board",
        "judges",
        "method",
        "auto_verdicts_left_out",
        "drawn_votes_unweighted",
    }
    assert [set(row) for row in pairs] == [expected | covered] * 2
    assert pairs[0]["a"] == "a"
    styled = run("leaderboard", "--db", str(db), "--style-control", "--json", "--rounds", "100")
    plain = run("leaderboard", "--db", str(db), "--json", "--rounds", "100")
    assert [set(row) for row in json.loads(styled.stdout)] == [set(row) for row in json.loads(plain.stdout)]
    found = json.loads(run("leaderboard", "--db", str(db), "--style-control", "--coefficients", "--json").stdout)
    assert [row["feature"] for row in found] == ["length", "headers", "lists", "bold"]
    assert all(row["provisional"] for row in found)  # 17 votes on 2 prompts say little about style
    said = " ".join(run("leaderboard", "--db", str(db), "--style-control", "--coefficients").stdout.split())
    assert "provisional: 17 votes on 2 prompts are too few" in said
    assert "style control" in run("leaderboard", "--db", str(db), "--style-control").stdout
    assert_one_line_error(run("leaderboard", "--db", str(db), "--coefficients"), "--style-control")


def test_two_wins_out_of_two_are_not_called() -> None:
    """A bootstrap of 2-0 puts a above b in every round; the pair is provisional, so the board says so
    instead of "100% sure" (seen on the demo's leaderboard after two votes)."""
    (neighbour,) = compute_leaderboard(two_contestants(2, 0), rounds=200).neighbours
    assert neighbour.provisional and neighbour.votes_to_separate != 0
    assert "provisional" in neighbour.describe() and "decided" not in neighbour.describe()
    (settled,) = compute_leaderboard(two_contestants(300, 100), rounds=200).neighbours
    assert not settled.provisional and settled.decided and settled.votes_to_separate == 0


def test_an_elo_column_that_disagrees_with_the_ratings_is_explained(tmp_path: Path) -> None:
    """The newcomer's team board: the ratings said smol > other, the elo column the reverse (the last votes
    favoured the other), and nothing on the board said why."""
    db = tmp_path / "v.db"
    add_votes(db, [("a", "b", "left")] * 8 + [("a", "b", "right")] * 7)
    rows = json.loads(run("leaderboard", "--db", str(db), "--json", "--rounds", "0").stdout)
    assert [row["contestant"] for row in rows] == ["a", "b"] and rows[1]["elo"] > rows[0]["elo"]
    said = " ".join(run("leaderboard", "--db", str(db), "--rounds", "0").stdout.split())
    assert "elo puts b above a: it follows the votes in the order they came" in said
    add_votes(tmp_path / "w.db", [("a", "b", "left")] * 8)
    assert "elo puts" not in run("leaderboard", "--db", str(tmp_path / "w.db"), "--rounds", "0").stdout


def test_the_board_screen_and_the_command_show_the_same_intervals(tmp_path: Path) -> None:
    """The newcomer: the arena's board (300 rounds) and arena leaderboard (1000) gave slightly different
    intervals for the same votes."""
    from arena.reports.leaderboard import board_for
    from arena.store import Store
    from arena.tui.screens.leaderboard import ROUNDS

    db = tmp_path / "v.db"
    add_votes(db, [("a", "b", "left")] * 9 + [("b", "a", "left")] * 4 + [("a", "c", "left")] * 5)
    command = {
        row["contestant"]: (row["ci_low"], row["ci_high"])
        for row in json.loads(run("leaderboard", "--db", str(db), "--json").stdout)
    }
    with Store(db, read_only=True) as store:
        screen = {r.contestant: (r.ci_low, r.ci_high) for r in board_for(store, rounds=ROUNDS).board.ratings}
    assert command.keys() == screen.keys()
    for label, (low, high) in screen.items():  # the JSON rounds to a tenth of a point
        assert abs(command[label][0] - low) < 0.06 and abs(command[label][1] - high) < 0.06
