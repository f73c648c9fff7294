"""Judgment validity with simulated judges of known behaviour: a judge who likes length (style control
must take it out and keep everything else), and the "how sure / how many more votes" numbers against
the truth they claim to estimate."""

from __future__ import annotations

import itertools
import json
import math
import random
from pathlib import Path

import numpy as np
import pytest

from arena.analysis.ratings import Outcome, StyleColumns, compute_leaderboard
from arena.analysis.style import StyleCounts, fit_style_controlled, style_counts, style_differences
from arena.store import writes
from tests.helpers import assert_one_line_error, run
from tests.votes import add_votes

LN10_OVER_400 = math.log(10) / 400
TRUE = {"verbose": 1000.0, "plain": 1000.0, "strong": 1100.0, "weak": 900.0}
LENGTH = {"verbose": 300.0, "plain": 100.0, "strong": 100.0, "weak": 100.0}


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
    assert [set(row) for row in pairs] == [{"a", "b", "battles", "p_a_better", "votes_to_separate"}] * 2
    assert pairs[0]["a"] == "a"
    styled = run("leaderboard", "--db", str(db), "--style-control", "--json", "--rounds", "100")
    plain = run("leaderboard", "--db", str(db), "--json", "--rounds", "100")
    assert [set(row) for row in json.loads(styled.stdout)] == [set(row) for row in json.loads(plain.stdout)]
    found = json.loads(run("leaderboard", "--db", str(db), "--style-control", "--coefficients", "--json").stdout)
    assert [row["feature"] for row in found] == ["length", "headers", "lists", "bold"]
    assert "style control" in run("leaderboard", "--db", str(db), "--style-control").stdout
    assert_one_line_error(run("leaderboard", "--db", str(db), "--coefficients"), "--style-control")


async def test_the_arena_leaderboard_switches_to_style_control(tmp_path: Path) -> None:
    from arena.tui.screens.leaderboard import LeaderboardScreen
    from tests.tui_helpers import make_app, screen_text, wait_for

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


SELF_NAMING = [
    "I'm SmolLM, trained by Hugging Face.",
    "As a model developed by OpenAI, I cannot browse the web.",
    "I am Gemma, an open model.",
    "I'm Llama 3, made by Meta.",
    "I'm a humble AI assistant named SmolLM, designed to help.",  # SmolLM2-135M's own words
    "I was developed by the team at Mistral AI.",
]
ORDINARY = [
    "Llamas in the Andes carry loads for farmers.",
    "A meta-analysis by Meta researchers found no effect.",
    "I think the Quest 3 headset is made by Meta.",
    "She found a gem in the sand, and I am happy for her.",
    "As a reminder, the Pixel is made by Google.",
    "I use GPT-4 at work and I like Claude for writing.",
    "My favourite philosophy is stoicism.",
]


@pytest.mark.parametrize("text", SELF_NAMING)
def test_an_answer_that_names_itself_is_flagged(text: str) -> None:
    from arena.analysis.flags import identity_flag

    flag = identity_flag(text, None)
    assert flag.hit and flag.evidence


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_uses_of_the_names_are_not(text: str) -> None:
    from arena.analysis.flags import identity_flag

    assert not identity_flag(text, None).hit


def test_the_contestants_own_label_counts_and_a_template_system_prompt_is_named() -> None:
    from arena.analysis.flags import identity_flag, identity_prompt_flag

    assert identity_flag("Hello! I am finetune-v3, happy to help.", "finetune-v3").hit
    assert not identity_flag("Hello! I am happy to help.", "finetune-v3").hit
    rendered = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
    flag = identity_prompt_flag(rendered + "<|im_start|>user\nHi<|im_end|>", ["Hi"])
    assert flag.hit and flag.evidence == ["SmolLM", "Hugging Face"]
    assert not identity_prompt_flag("<|user|>\nTell me about Meta.<|end|>", ["Tell me about Meta."]).hit


def leaky_judge_db(path: Path) -> None:
    """'leaky' is weaker than 'honest' (wins 1 in 4 on its merits), but a brand-struck judge votes for it
    every time it names itself (1 battle in 3)."""
    from arena.backend import Contestant, GenerationParams
    from arena.judging.answers import record_answer
    from arena.prompts import Prompt
    from arena.store import Store
    from tests.votes import result

    prompt = Prompt(set="t", id="p", category="c", text="Say something.")
    rng = random.Random(5)
    with Store(path) as store:
        writes.register(store, [Contestant("leaky", "replay", "x"), Contestant("honest", "replay", "y")], [prompt])
        session = writes.start_session(store, "play", "judge")
        for number in range(120):
            leaks = number % 3 == 0
            texts = {"leaky": "I'm SmolLM, trained by Hugging Face." if leaks else "Plain answer.", "honest": "Fine."}
            ids = {
                label: record_answer(
                    store,
                    session=session,
                    contestant=label,
                    prompt=prompt,
                    params=GenerationParams(),
                    result=result(text),
                ).generation_id
                for label, text in texts.items()
            }
            leaky_wins = leaks or rng.random() < 0.25
            writes.record_battle(store,
                session=session, prompt=prompt.uid, left_generation=ids["leaky"], right_generation=ids["honest"],
                left_contestant="leaky", right_contestant="honest", verdict="left" if leaky_wins else "right",
                judge="judge", vote_s=1.0,
            )  # fmt: skip


def test_battles_with_a_leak_can_be_left_out_and_the_report_counts_them(tmp_path: Path) -> None:
    db = tmp_path / "leaks.db"
    leaky_judge_db(db)
    every = {
        r["contestant"]: r for r in json.loads(run("leaderboard", "--db", str(db), "--json", "--rounds", "200").stdout)
    }
    blind = json.loads(run("leaderboard", "--db", str(db), "--json", "--rounds", "200", "--exclude-leaks").stdout)
    blind_by = {r["contestant"]: r for r in blind}
    assert every["leaky"]["battles"] == 120 and blind_by["leaky"]["battles"] == 80
    assert every["leaky"]["win_rate"] > 0.45  # the brand-struck votes make them look close
    assert blind_by["leaky"]["win_rate"] < 0.35 and blind_by["honest"]["rating"] > blind_by["leaky"]["rating"]
    table = run("leaderboard", "--db", str(db)).stdout
    assert "40 battles where an answer named itself" in " ".join(table.split())
    report = {r["contestant"]: r for r in json.loads(run("report", "--db", str(db), "--all", "--json").stdout)}
    assert report["leaky"]["identity"]["hits"] == 40 and report["honest"]["identity"]["hits"] == 0


def test_uncertain_pairing_prefers_an_open_question_over_a_settled_one(tmp_path: Path) -> None:
    """a beat b 20-0 (settled); a and c are level at 5-5; b and c never met but c is far above b.
    least-met asks b vs c (they never met); uncertain asks a vs c, whose order is open."""
    from arena.backend import Contestant, GenerationParams
    from arena.judging.session import PlaySession
    from arena.store import Store

    db = tmp_path / "p.db"
    add_votes(db, [("a", "b", "left")] * 20 + [("a", "c", "left")] * 5 + [("a", "c", "right")] * 5)
    contestants = [Contestant(label, "replay", f"{label}.jsonl") for label in ("a", "b", "c")]
    from tests.votes import PROMPTS

    with Store(db) as store:
        for pairing, expected in (("least-met", {"b", "c"}), ("uncertain", {"a", "c"})):
            picked = set()
            for seed in range(5):
                session = PlaySession(
                    store, contestants, PROMPTS, GenerationParams(), judge="j", seed=seed, pairing=pairing
                )
                current = session.next_round()
                assert current is not None
                picked.add(frozenset((current.battle.left.label, current.battle.right.label)))
            assert picked == {frozenset(expected)}, (pairing, picked)


def test_play_refuses_an_unknown_pairing() -> None:
    result = run("play", "--pairing", "random", "-m", "replay:x.jsonl", "-m", "replay:y.jsonl")
    assert result.exit_code == 2 and "least-met" in result.stderr


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


def test_style_differences_stored_with_the_vote_match_the_answers_counts(tmp_path: Path) -> None:
    """Each vote stores its style differences; the leaderboard reads those, and falls back to the answers'
    texts only where a battle has none (imports, older files). Both must agree with the answers' counts."""
    from arena.backend import Contestant, GenerationParams
    from arena.judging.answers import record_answer
    from arena.prompts import Prompt
    from arena.store import Store
    from arena.store.queries import BattleFilter, _style_from_texts, style_table, styled_vote_table
    from tests.votes import result

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
        stored = style_table(store, styled_vote_table(store))
        counts = {
            row[0]: row[1:]
            for row in store.rows("select id, n_tokens, n_headers, n_list_items, n_bold from generations")
        }
        pairs = store.rows("select left_generation, right_generation from battles order by tstamp, id")
        from_counts = [
            tuple((x - y) / (x + y + 1) for x, y in zip(counts[left], counts[right], strict=True))
            for left, right in pairs
        ]
        where, params = BattleFilter().where()
        from_texts = _style_from_texts(store, where, params)
    assert len(stored) == 6 and any(any(value != 0 for value in row) for row in stored)
    assert stored == pytest.approx(from_counts)
    assert [row[1:] for row in stored] == pytest.approx([row[1:] for row in from_texts])
