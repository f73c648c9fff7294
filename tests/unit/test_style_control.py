"""Style control (``arena.analysis.style``, ``ratings.styled``): a simulated judge who loves length, the
sandwich intervals against a refitting bootstrap, the features, and the differences stored with each vote."""

from __future__ import annotations

import itertools
import math
import random
from pathlib import Path

import numpy as np
import pytest

from arena.analysis.ratings import Outcome, StyleColumns, compute_leaderboard
from arena.analysis.style import StyleCounts, fit_style_controlled, style_counts, style_differences
from arena.store import writes

TRUE = {"verbose": 1000.0, "plain": 1000.0, "strong": 1100.0, "weak": 900.0}


LENGTH = {"verbose": 300.0, "plain": 100.0, "strong": 100.0, "weak": 100.0}


LN10_OVER_400 = math.log(10) / 400


def length_loving_judge(
    battles: int, seed: int = 0, taste: float = 1.5
) -> tuple[list[Outcome], list[StyleCounts], list[StyleCounts]]:
    """Random pairs; P(left wins) = logistic(ln10/400 (r_L - r_R) + taste * (L_L - L_R) / (L_L + L_R + 1)).
    The outcomes, and each battle's left and right answer styles."""
    rng = random.Random(seed)
    labels = list(TRUE)
    outcomes = []
    lefts, rights = [], []
    for _ in range(battles):
        left, right = rng.sample(labels, 2)
        lengths = [LENGTH[label] * rng.uniform(0.8, 1.2) for label in (left, right)]
        difference = (lengths[0] - lengths[1]) / (lengths[0] + lengths[1] + 1)
        logit = LN10_OVER_400 * (TRUE[left] - TRUE[right]) + taste * difference
        verdict = "left" if rng.random() < 1 / (1 + math.exp(-logit)) else "right"
        outcomes.append(Outcome(left, right, verdict))
        lefts.append(StyleCounts(lengths[0], 0, 0, 0))
        rights.append(StyleCounts(lengths[1], 0, 0, 0))
    return outcomes, lefts, rights


def test_style_control_takes_out_a_judges_taste_for_length() -> None:
    outcomes, lefts, rights = length_loving_judge(8000)
    raw = {r.contestant: r for r in compute_leaderboard(outcomes, rounds=300).ratings}
    assert raw["verbose"].ci_low > raw["plain"].ci_high  # the raw board rewards length: separated
    controlled_board = compute_leaderboard(outcomes, rounds=300, style=StyleColumns.from_counts(lefts, rights))
    controlled = {r.contestant: r for r in controlled_board.ratings}
    gap = abs(controlled["verbose"].rating - controlled["plain"].rating)
    assert gap < (raw["verbose"].rating - raw["plain"].rating) / 2
    assert controlled["verbose"].ci_low < controlled["plain"].rating < controlled["verbose"].ci_high  # level
    assert controlled["strong"].rating > controlled["plain"].rating > controlled["weak"].rating
    assert (
        controlled["strong"].ci_low
        > controlled["plain"].ci_high
        > controlled["plain"].ci_low
        > controlled["weak"].ci_high
    )
    assert controlled_board.style is not None
    length = controlled_board.style[0]
    assert length.feature == "length" and length.ci_low > 0  # the judge's taste is found, and its sign


def test_without_a_style_difference_style_control_changes_nothing_that_matters() -> None:
    outcomes, _, _ = length_loving_judge(3000, seed=1, taste=0.0)
    same = [StyleCounts(100, 0, 0, 0)] * len(outcomes)
    raw = compute_leaderboard(outcomes, rounds=0)
    controlled = compute_leaderboard(outcomes, rounds=0, style=StyleColumns.from_counts(same, same))
    assert [r.contestant for r in raw.ratings] == [r.contestant for r in controlled.ratings]
    for a, b in zip(raw.ratings, controlled.ratings, strict=True):
        assert a.rating == pytest.approx(b.rating, abs=0.5)


def test_the_style_intervals_match_a_refitting_bootstrap() -> None:
    """The sandwich draws stand in for refitting every round: their spread must be the bootstrap's."""
    outcomes, lefts, rights = length_loving_judge(1500, seed=2)
    labels = sorted(TRUE)
    index = {label: i for i, label in enumerate(labels)}
    left = np.array([index[o.left] for o in outcomes])
    right = np.array([index[o.right] for o in outcomes])
    score = np.array([1.0 if o.verdict == "left" else 0.0 for o in outcomes])
    differences = style_differences(lefts, rights)
    fit = fit_style_controlled(left, right, score, differences, 4, 1e-6, rounds=2000, seed=0)
    rng = np.random.default_rng(0)
    refits = []
    for _ in range(150):
        pick = rng.integers(0, len(outcomes), len(outcomes))
        again = fit_style_controlled(left[pick], right[pick], score[pick], differences[pick], 4, 1e-6, rounds=0, seed=0)
        refits.append(np.concatenate([again.beta, again.gamma]))
    varying = 4 + 1  # the four strengths and length; headers, lists and bold never vary here
    bootstrap_sd = np.array(refits).std(axis=0)[:varying]
    sandwich_sd = np.concatenate([fit.beta_draws, fit.gamma_draws], axis=1).std(axis=0)[:varying]
    ratio = sandwich_sd / bootstrap_sd
    assert np.all((ratio > 0.75) & (ratio < 1.33)), (sandwich_sd, bootstrap_sd)


def test_style_features_skip_code_and_count_markdown() -> None:
    text = "# Title\n\nSome **bold** words.\n\n- one\n- two\n1. three\n\n```python\n# not a header\n- not a list\n```\n"
    counts = style_counts(text)
    assert (counts.headers, counts.lists, counts.bold) == (1, 3, 1)
    assert counts.length == len("# Title Some **bold** words. - one - two 1. three".split())
    assert style_counts(text, n_tokens=42).length == 42


async def test_the_arena_leaderboard_switches_to_style_control(tmp_path: Path) -> None:
    from arena.tui.screens.leaderboard import LeaderboardScreen
    from tests.support.tui_helpers import make_app, screen_text, wait_for

    app = make_app(tmp_path, {"t/one": "Short."}, {"t/one": "# Long\n\n- with\n- a list\n\n**bold** " + "word " * 40})
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.session.current is not None and app.session.current.both_done)
        await pilot.press("t")
        await pilot.press("l")
        await wait_for(
            pilot, lambda: isinstance(app.screen, LeaderboardScreen) and "s: style-controlled" in screen_text(app)
        )
        assert "style control (log-odds" not in screen_text(app)
        await pilot.press("s")
        await wait_for(pilot, lambda: "style-controlled; s: raw" in screen_text(app))
        assert "style control (log-odds per sd of the difference): length" in screen_text(app)
        await pilot.press("s")
        await wait_for(pilot, lambda: "s: style-controlled" in screen_text(app))


def test_style_differences_stored_with_the_vote_match_the_answers_counts(tmp_path: Path) -> None:
    """Each vote stores its style differences; the leaderboard reads those, and falls back to the answers'
    texts only where a battle has none (imports, older files). Both must agree with the answers' counts."""
    from arena.analysis.ratings import StyleControlled
    from arena.backend import Contestant, GenerationParams
    from arena.judging.answers import record_answer
    from arena.prompts import Prompt
    from arena.reports.methods import METHODS, MethodOptions
    from arena.store import Store
    from arena.store.queries import style_from_texts, styled_vote_rows
    from tests.support.votes import result

    prompt = Prompt(set="t", id="p", category="c", text="Explain.")
    texts = ["# Title\n\n- a\n- b\n\n**bold** words here", "Plain short answer.", "1. one\n2. two\n\nmore text"]
    with Store(tmp_path / "s.db") as store:
        writes.register(store, [Contestant(x, "replay", x) for x in ("a", "b")], [prompt])
        session = writes.start_session(store, "play", "j")
        for number, (left_text, right_text) in enumerate(itertools.permutations(texts, 2)):
            ids = [
                record_answer(store, session=session, contestant=label, prompt=prompt, params=GenerationParams(),
                              result=result(text)).generation_id
                for label, text in (("a", left_text), ("b", right_text))
            ]  # fmt: skip
            writes.record_battle(store,
                session=session, prompt=prompt.uid, left_generation=ids[0], right_generation=ids[1],
                left_contestant="a", right_contestant="b", verdict="left" if number % 2 else "right",
                judge="j", vote_s=1.0,
            )  # fmt: skip
        model = METHODS["style"].read(store, None, MethodOptions()).model
        assert isinstance(model, StyleControlled)
        stored = [tuple(row) for row in model.columns.raw.tolist()]  # what the board fits
        ids = [row[-1] for row in styled_vote_rows(store, with_ids=True)]
        counts = {
            row[0]: row[1:]
            for row in store.rows("select id, n_tokens, n_headers, n_list_items, n_bold from generations")
        }
        pairs = store.rows("select left_generation, right_generation from battles order by tstamp, id")
        from_counts = [
            tuple((x - y) / (x + y + 1) for x, y in zip(counts[left], counts[right], strict=True))
            for left, right in pairs
        ]
        counted = style_from_texts(store, missing_only=False)
        assert style_from_texts(store) == {}  # every vote has its differences stored: nothing is counted
        from_texts = [counted[battle] for battle in ids]
    assert len(stored) == 6 and any(any(value != 0 for value in row) for row in stored)
    assert stored == pytest.approx(from_counts)
    assert [row[1:] for row in stored] == pytest.approx([row[2:] for row in from_texts])
    assert [row[0] for row in stored] == pytest.approx([row[0] for row in from_texts])  # tokens, as stored
    # votes with nothing stored (an older file, a partial import) are counted from their texts, and only
    # those: the board fits the same numbers
    with Store(tmp_path / "s.db") as store:
        store.conn.execute("update battles set style_words = null, style_bold = 'text' where id % 2 = 0")
        store.conn.commit()
        assert len(style_from_texts(store)) == 3
        model = METHODS["style"].read(store, None, MethodOptions()).model
        assert isinstance(model, StyleControlled)
        assert model.columns.raw == pytest.approx(np.array(stored))
        # a vote without any answer (a vote-only import) differs in nothing, without a text to count
        store.conn.execute("update battles set left_generation = null, right_generation = null where id = 1")
        store.conn.commit()
        model = METHODS["style"].read(store, None, MethodOptions()).model
        assert isinstance(model, StyleControlled)
        assert model.columns.raw == pytest.approx(np.array([[0.0] * 4, *stored[1:]]))


def _dense_style_estimate(
    left: np.ndarray, right: np.ndarray, score: np.ndarray, differences: np.ndarray, n: int, clusters: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The textbook fit the arena's is checked against: the dense design matrix, Newton's method, the
    sandwich from the score rows summed per cluster."""
    from arena.analysis.style import RIDGE

    battles, features = differences.shape
    design = np.zeros((battles, n + features))
    design[np.arange(battles), left] += 1.0
    design[np.arange(battles), right] -= 1.0
    design[:, n:] = differences
    penalty = np.concatenate([np.full(n, 1e-6), np.full(features, RIDGE)])
    theta = np.zeros(n + features)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(design @ theta)))
        hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty)
        step = np.linalg.solve(hessian, design.T @ (score - p) - penalty * theta)
        theta = theta + step * min(1.0, 2.0 / max(float(np.abs(step).max()), 1e-300))
        if np.abs(step).max() < 1e-10:
            break
    p = 1.0 / (1.0 + np.exp(-(design @ theta)))
    hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty)
    rows = design * (score - p)[:, None]
    if clusters is not None:
        summed = np.zeros((int(clusters.max()) + 1, n + features))
        np.add.at(summed, clusters, rows)
        rows = summed
    rows = rows - rows.mean(axis=0)
    inverse = np.linalg.inv(hessian)
    return theta, inverse @ (rows.T @ rows) @ inverse


@pytest.mark.parametrize("clustered", [False, True])
def test_the_style_fit_without_a_design_matrix_is_the_textbook_fit(clustered: bool) -> None:
    """The style fit works from sums per contestant and pair (no battles x contestants matrix: 15 s and
    190 MB per step at 1,000,000 battles); its estimate and its sandwich covariance (of the centred
    ratings, which is all a board reads) must be the dense computation's."""
    from arena.analysis.style import StyleProblem, style_estimate

    rng = np.random.default_rng(3)
    n, battles = 6, 3000
    left = rng.integers(0, n, battles)
    right = (left + rng.integers(1, n, battles)) % n
    differences = rng.normal(size=(battles, 4))
    differences[:, 3] = 0.0  # a feature that never varies
    score = rng.choice([0.0, 0.5, 1.0], battles)
    clusters = rng.integers(0, 250, battles) if clustered else None
    theta, covariance = style_estimate(StyleProblem(left, right, score, differences, n, 1e-6, clusters))
    dense_theta, dense_covariance = _dense_style_estimate(left, right, score, differences, n, clusters)
    centring = np.eye(n + 4)
    centring[:n, :n] -= 1.0 / n
    assert centring @ theta == pytest.approx(centring @ dense_theta, abs=1e-8)
    expected = centring @ dense_covariance @ centring.T
    assert centring @ covariance @ centring.T == pytest.approx(
        expected, abs=1e-5 * np.abs(expected).max()
    )  # the weak prior: inverses to 1e-7


def test_a_style_board_on_fewer_prompts_than_parameters_draws_over_battles() -> None:
    """The cluster sandwich's middle is a sum over prompts: with fewer prompts than the fit has parameters
    (contestants plus the four style coefficients) it has no spread along some rating, which then got an
    interval a tenth of its neighbours' and a Rank(UB) it had not earned. Such a board draws over battles
    and says the intervals hold for these prompts only; the plain board still resamples the prompts."""
    from arena.analysis.ratings import Outcome, StyleColumns, compute_leaderboard
    from arena.present.leaderboard import coverage_note

    rng = np.random.default_rng(4)
    labels = ["a", "b", "c", "d", "e"]
    outcomes = []
    for number in range(400):
        left, right = rng.choice(labels, size=2, replace=False)
        outcomes.append(Outcome(str(left), str(right), str(rng.choice(["left", "right", "tie"])), f"p{number % 6}"))
    style = StyleColumns(rng.normal(0, 0.3, size=(len(outcomes), 4)))
    styled = compute_leaderboard(outcomes, rounds=300, seed=0, style=style)
    assert styled.cluster == "battle" and styled.prompts_needed == 10
    assert "fewer than 10 prompts are too few to resample" in coverage_note(styled).plain
    widths = [rating.ci_high - rating.ci_low for rating in styled.ratings]
    assert min(widths) > 0.4 * max(widths)  # every rating has its spread
    assert compute_leaderboard(outcomes, rounds=300, seed=0).cluster == "prompt"
    more = [outcome._replace(prompt=f"p{number % 30}") for number, outcome in enumerate(outcomes)]
    assert compute_leaderboard(more, rounds=300, seed=0, style=style).cluster == "prompt"
