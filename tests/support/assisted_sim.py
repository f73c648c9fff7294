"""Simulated arenas for judge-assisted ratings: N battles judged by an automatic judge, n of them also by a
person, on a few dozen prompts; the truth is the humans' Bradley-Terry ratings. Shared by
``tests/unit/test_assisted.py`` and ``bench/bench_assisted.py``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arena.analysis.ratings import Outcome, compute_leaderboard
from arena.analysis.ratings.active import Calibration, combined, expected_error, show_probability
from arena.analysis.ratings.assisted import AssistedBT, AssistedFacts, Judged, Shared
from arena.analysis.ratings.bt import fit_bradley_terry, to_points

TRUE = (1100.0, 1050.0, 1000.0, 950.0)
LABELS = tuple(f"m{i}" for i in range(len(TRUE)))
JUDGES = ("good", "useless", "left", "favours m0")
"""good: agrees with the person 90% of the time; useless: a coin; left: picks the left answer half of the
time, else agrees (it prefers one side); favours m0: always picks m0 when it plays, else good."""


@dataclass(frozen=True)
class Arena:
    covered: list[bool]
    """Each contestant: whether the assisted 95% interval holds its true rating."""
    width: float
    """Mean interval width, assisted."""
    human_width: float
    """Mean interval width of the humans-only board on the same votes."""
    facts: AssistedFacts
    mean_weight: float = 1.0
    """The people's votes' mean weight (one over the chance each was shown)."""


def _judge(kind: str, human: float, left: int, right: int, rng: np.random.Generator) -> float:
    if kind == "good":
        return human if rng.random() < 0.9 else 1 - human
    if kind == "useless":
        return float(rng.random() < 0.5)
    if kind == "left":
        return 1.0 if rng.random() < 0.5 else human
    if left == 0 or right == 0:  # favours m0
        return 1.0 if left == 0 else 0.0
    return human if rng.random() < 0.9 else 1 - human


def arena(
    kind: str, rng: np.random.Generator, seed: int, *, judged: int = 2000, humans: int = 120, prompts: int = 40,
    rounds: int = 200,
) -> Arena:  # fmt: skip
    left, right, human, judge, prompt = [], [], [], [], []
    for _ in range(judged):
        a, b = (int(x) for x in rng.choice(len(TRUE), 2, replace=False))
        share = 1 / (1 + 10 ** ((TRUE[b] - TRUE[a]) / 400))
        vote = 1.0 if rng.random() < share else 0.0
        left.append(LABELS[a])
        right.append(LABELS[b])
        human.append(vote)
        judge.append(_judge(kind, vote, a, b, rng))
        prompt.append(f"p{rng.integers(prompts)}")
    people = [int(k) for k in rng.choice(judged, humans, replace=False)]
    outcomes = [Outcome(left[k], right[k], "left" if human[k] == 1 else "right", prompt[k]) for k in people]
    shared = Shared(
        [left[k] for k in people],
        [right[k] for k in people],
        [human[k] for k in people],
        [judge[k] for k in people],
        [prompt[k] for k in people],
        [str(k) for k in people],
    )
    model = AssistedBT("auto:sim", Judged(left, right, judge, prompt, [str(k) for k in range(judged)]), shared)
    board = compute_leaderboard(outcomes, rounds=rounds, seed=seed, model=model)
    alone = compute_leaderboard(outcomes, rounds=rounds, seed=seed)
    truth = dict(zip(LABELS, np.array(TRUE) - np.mean(TRUE) + 1000, strict=True))
    assert isinstance(board.facts, AssistedFacts)
    return Arena(
        covered=[r.ci_low <= truth[r.contestant] <= r.ci_high for r in board.ratings],
        width=float(np.mean([r.ci_high - r.ci_low for r in board.ratings])),
        human_width=float(np.mean([r.ci_high - r.ci_low for r in alone.ratings])),
        facts=board.facts,
    )


def arenas(kind: str, runs: int, seed: int = 11, **options: int) -> list[Arena]:
    rng = np.random.default_rng(seed)
    return [arena(kind, rng, run, **options) for run in range(runs)]


# -- choosing the battles people judge (``--pairing judge-uncertain``) against choosing them at random


@dataclass(frozen=True)
class Pool:
    """Every battle of a batch, judged by an automatic judge that gives a probability: each battle's own
    chance that a person prefers the left answer (prompts differ: some battles are close, others are not),
    the judge's score (that chance seen through noise) and the person's verdict, known only where one voted."""

    left: list[int]
    right: list[int]
    chance: np.ndarray
    judge: np.ndarray
    human: np.ndarray
    prompt: list[str]

    def truth(self) -> np.ndarray:
        """The humans' Bradley-Terry ratings over the whole pool: what the assisted board estimates."""
        scores = np.zeros((1, len(TRUE), len(TRUE)))
        for a, b, chance in zip(self.left, self.right, self.chance, strict=True):
            scores[0, a, b] += chance
            scores[0, b, a] += 1 - chance
        truth: np.ndarray = to_points(fit_bradley_terry(scores), LABELS, None)[0]
        return truth


def pool(
    rng: np.random.Generator,
    *,
    battles: int = 1200,
    prompts: int = 60,
    judge_noise: float = 0.5,
    clear: float = 0.0,
    favours_m0: float = 0.0,
) -> Pool:
    """``clear``: the share of battles one side plainly loses (it collapsed, looped, ignored the format); the
    others are close calls, a little tilted by the two contestants' true ratings. ``favours_m0``: how far (in
    log-odds) the judge leans toward m0 wherever it plays (a biased judge)."""
    left, right, prompt = [], [], []
    latent = np.zeros(battles)
    for k in range(battles):
        a, b = (int(x) for x in rng.choice(len(TRUE), 2, replace=False))
        left.append(a)
        right.append(b)
        prompt.append(f"p{rng.integers(prompts)}")
        latent[k] = (TRUE[a] - TRUE[b]) * np.log(10) / 400 + rng.normal(0, 2.0 if clear == 0 else 0.7)
        if rng.random() < clear:
            latent[k] += 4.0 if rng.random() < 1 / (1 + 10 ** ((TRUE[b] - TRUE[a]) / 400)) else -4.0
    chance = 1 / (1 + np.exp(-latent))
    lean = np.array(
        [favours_m0 if a == 0 else -favours_m0 if b == 0 else 0.0 for a, b in zip(left, right, strict=True)]
    )
    judge = 1 / (1 + np.exp(-(latent + lean + rng.normal(0, judge_noise, battles))))
    human = (rng.random(battles) < chance).astype(np.float64)
    return Pool(left, right, chance, judge, human, prompt)


def chosen_at_random(found: Pool, votes: int, rng: np.random.Generator) -> tuple[list[int], list[float]]:
    return [int(k) for k in rng.choice(len(found.chance), votes, replace=False)], [1.0] * votes


def chosen_by_uncertainty(found: Pool, votes: int, rng: np.random.Generator) -> tuple[list[int], list[float]]:
    """As ``StoredSource`` draws under ``--pairing judge-uncertain``: the pool in a random order, each battle
    shown with the probability ``active.show_probability`` gives it from the calibration and the board of the
    votes so far (refitted every 10 votes here), until ``votes`` are in."""
    order = rng.permutation(len(found.chance))
    shown: list[int] = []
    weights: list[float] = []
    board: np.ndarray | None = None
    calibration = Calibration()
    for position, k in enumerate(order):
        if len(shown) >= votes:
            break
        errors = _errors(found, order[position:], calibration, board)
        q = show_probability(float(errors[0]), float(errors.max()))
        if rng.random() >= q:
            continue
        shown.append(int(k))
        weights.append(1 / q)
        if len(shown) % 10 == 0:
            calibration = Calibration.of(
                [float(found.judge[s]) for s in shown], [float(found.human[s]) for s in shown], weights
            )
            board = _points(found, shown)
    return shown, weights


def _errors(found: Pool, rest: np.ndarray, calibration: Calibration, board: np.ndarray | None) -> np.ndarray:
    """``active.expected_error`` of each battle in ``rest``, as ``JudgeGuide.error`` computes it one by one."""
    judge = found.judge[rest]
    chance = None
    if board is not None:
        left, right = np.array(found.left)[rest], np.array(found.right)[rest]
        chance = 1 / (1 + 10 ** ((board[right] - board[left]) / 400))
    errors: np.ndarray = expected_error(judge, combined(calibration.person(judge), chance))
    return errors


def _points(found: Pool, shown: list[int]) -> np.ndarray:
    scores = np.zeros((1, len(TRUE), len(TRUE)))
    for k in shown:
        scores[0, found.left[k], found.right[k]] += found.human[k]
        scores[0, found.right[k], found.left[k]] += 1 - found.human[k]
    points: np.ndarray = to_points(fit_bradley_terry(scores), LABELS, None)[0]
    return points


def assisted_on(found: Pool, shown: list[int], weights: list[float], *, rounds: int, seed: int) -> Arena:
    """The assisted board from the people's votes on ``shown`` (weighted) and the judge's on the whole pool."""
    labels = [LABELS[a] for a in found.left], [LABELS[b] for b in found.right]
    keys = [str(k) for k in range(len(found.chance))]
    judged = Judged(labels[0], labels[1], [float(j) for j in found.judge], found.prompt, keys)
    shared = Shared(
        [labels[0][k] for k in shown],
        [labels[1][k] for k in shown],
        [float(found.human[k]) for k in shown],
        [float(found.judge[k]) for k in shown],
        [found.prompt[k] for k in shown],
        [keys[k] for k in shown],
        weights,
    )
    outcomes = [
        Outcome(labels[0][k], labels[1][k], "left" if found.human[k] == 1 else "right", found.prompt[k]) for k in shown
    ]
    board = compute_leaderboard(outcomes, rounds=rounds, seed=seed, model=AssistedBT("auto:sim", judged, shared))
    truth = dict(zip(LABELS, found.truth(), strict=True))
    assert isinstance(board.facts, AssistedFacts)
    return Arena(
        covered=[r.ci_low <= truth[r.contestant] <= r.ci_high for r in board.ratings],
        width=float(np.mean([r.ci_high - r.ci_low for r in board.ratings])),
        human_width=float("nan"),
        facts=board.facts,
        mean_weight=float(np.mean(weights)),
    )


CHOOSERS = {"random": chosen_at_random, "judge-uncertain": chosen_by_uncertainty}


def chosen_arenas(
    chooser: str,
    runs: int,
    *,
    clear: float = 0.0,
    favours_m0: float = 0.0,
    votes: int = 80,
    seed: int = 5,
    rounds: int = 200,
) -> list[Arena]:
    """``runs`` pools (see ``pool``), each judged by people on ``votes`` battles ``chooser`` picks."""
    rng = np.random.default_rng(seed)
    found = []
    for run in range(runs):
        battles = pool(rng, clear=clear, favours_m0=favours_m0)
        shown, weights = CHOOSERS[chooser](battles, votes, rng)
        found.append(assisted_on(battles, shown, weights, rounds=rounds, seed=run))
    return found
