"""Judge-assisted ratings: the humans' Bradley-Terry ratings, estimated from the humans' votes plus an
automatic judge's verdicts on many more battles, rectified by the judge's errors where both judged.

Prediction-powered inference for the BT fit (Angelopoulos et al. 2023; PPI++, 2024; Boyeau et al. 2024):
with S the battles both a person and the judge judged (n of them) and A every battle the judge judged (N),
the estimate minimizes

    lambda * n / N * sum_A loss(theta; judge) + sum_S [loss(theta; human) - lambda * loss(theta; judge)]

The first term is the judge's board, scaled to n; the second corrects it by the judge's errors, measured
where humans also voted. Its expectation is the humans' loss whatever the judge, so the estimate targets the
*humans'* ratings even for a judge that is wrong or biased; a good judge makes the variance smaller. The BT
loss is linear in the outcome (loss = -y d + log(1 + e^d) for d the rating difference), so the objective is
a BT likelihood on score matrices with fractional (even negative) entries and nonnegative game counts: the
plain fit solves it. lambda is power-tuned (PPI++'s closed form, clipped to [0, 1]): 0 for a judge that
tells nothing (then this is the humans-only fit: a useless judge costs nothing), near 1 for a good one.

Intervals resample prompts (votes on one prompt are not independent): each bootstrap round reweights
whole prompts, both the judged and the shared battles on them, and refits at the tuned lambda.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from arena.analysis.ratings.bt import fit_bradley_terry, to_points
from arena.analysis.ratings.data import FloatArray
from arena.analysis.ratings.method import MIN_PROMPTS_TO_RESAMPLE, FitInput, Fitted, with_interval

MIN_SHARED = 20
"""Fewer battles judged by both a person and the judge cannot measure the judge's errors."""


@dataclass(frozen=True)
class Judged:
    """Battles as the assisted fit reads them, one entry per battle: who was left and right, the left one's
    score (1 won, 0.5 tie, 0 lost; a judge's may be a probability) and the battle's prompt."""

    left: Sequence[str]
    right: Sequence[str]
    score: Sequence[float]
    prompt: Sequence[str]
    key: Sequence[str]
    """What identifies the battle (its two answers): resampled as one unit when battles, not prompts, are."""

    def __len__(self) -> int:
        return len(self.score)


@dataclass(frozen=True)
class Shared:
    """The battles both judged: the human's score and the judge's, on the same two answers."""

    left: Sequence[str]
    right: Sequence[str]
    human: Sequence[float]
    judge: Sequence[float]
    prompt: Sequence[str]
    key: Sequence[str]
    """The judged battle's key (``Judged.key``) each shared vote belongs to."""
    weight: Sequence[float] = ()
    """Each vote's weight: one over the chance its session showed the battle (``--pairing judge-uncertain``
    shows battles the judge is sure of less often; ``active.py``). Empty: every vote weighs 1."""

    def __len__(self) -> int:
        return len(self.human)

    def weights(self) -> list[float]:
        return list(self.weight) if self.weight else [1.0] * len(self.human)


@dataclass(frozen=True)
class AssistedFacts:
    """What the board says about the judge's help."""

    judge: str
    human_votes: int
    """Human votes on the board (the shared battles are the ones the fit uses)."""
    shared: int
    verdicts: int
    agreement: float | None
    """Share of the shared battles where the judge picked the same winner as the person (decisive both)."""
    weight: float
    """The tuned lambda: 0 the judge is ignored, 1 fully used."""
    effective_votes: float
    """How many human votes the assisted estimate is worth (its variance against the humans-only one's)."""
    brier: float | None = None
    """The judge's score for the left answer (its probability where it gave one) against the person's verdict
    on the same two answers (1, 0, a tie 0.5): mean squared gap; 0.25 for a judge that always says 50%."""
    reliability: tuple[tuple[float, float, int], ...] = ()
    """(mean judge score, the people's mean verdict, battles) per fifth of the judge's score range."""
    weighted: int = 0
    """Shared votes weighted by one over the chance they were shown (``--pairing judge-uncertain``)."""

    @property
    def worth(self) -> float:
        """The human votes the judge added (at least 0)."""
        return max(0.0, self.effective_votes - self.shared)

    def lines(self) -> list[str]:
        agreement = "-" if self.agreement is None else f"{self.agreement:.0%}"
        unused = self.human_votes - self.shared
        return [
            f"the humans' ratings, assisted by {self.judge}: {self.shared} human votes on battles it also judged "
            f"and {self.verdicts:,} of its verdicts (agreement on the shared battles {agreement}); rectified by "
            "its errors there, so a wrong or biased judge cannot bias the board, only fail to help",
            f"the judge was worth about {self.worth:.0f} more human votes here (the board is as sure as "
            f"~{self.effective_votes:.0f} human votes; weight {self.weight:.2f}, 0 = ignored)"
            + (f"; {unused} human votes on battles it did not judge are left out" if unused > 0 else ""),
            *(
                [
                    f"{self.weighted} of the shared votes were drawn where the judge was least sure "
                    "(--pairing judge-uncertain): each weighs one over the chance it was shown, so the battles "
                    "the judge was sure of still count as often as they occur"
                ]
                if self.weighted
                else []
            ),
        ]

    def to_dict(self) -> dict[str, object]:
        return {
            "assisted_by": self.judge,
            "human_votes": self.human_votes,
            "shared_battles": self.shared,
            "judge_verdicts": self.verdicts,
            "agreement": None if self.agreement is None else round(self.agreement, 4),
            "weight": round(self.weight, 4),
            "effective_human_votes": round(self.effective_votes, 1),
            "judge_worth_human_votes": round(self.worth, 1),
            "weighted_shared_votes": self.weighted,
            "brier": None if self.brier is None else round(self.brier, 4),
            "reliability": [
                {"judge": round(p, 3), "humans": round(h, 3), "battles": n} for p, h, n in self.reliability
            ],
        }


class AssistedBT:
    """The humans' Bradley-Terry ratings, assisted by an automatic judge (see the module)."""

    name = "assisted"

    def prompts_needed(self, contestants: int) -> int:
        """A bootstrap over prompts, as the plain fit's."""
        return MIN_PROMPTS_TO_RESAMPLE

    def __init__(self, judge: str, judged: Judged, shared: Shared) -> None:
        self.judge = judge
        self.judged = judged
        self.shared = shared

    def fit(
        self,
        data: FitInput,
        *,
        rounds: int,
        seed: int,
        anchor: tuple[str, float] | None,
        confidence: float,
    ) -> Fitted:
        labels = list(data.labels)
        cells = _Cells.of(labels, self.judged, self.shared, by_prompt=data.by_prompt is not None)
        ones = np.ones((1, cells.prompts))
        weight = float(cells.tuned_weights(ones, fit_bradley_terry(cells.scores(np.zeros(1), ones)))[0])
        point_beta = fit_bradley_terry(cells.scores(np.array([weight]), ones))
        draws = None
        worth = 1.0
        if rounds > 0:
            rng = np.random.default_rng(seed)
            counts = rng.multinomial(cells.prompts, np.full(cells.prompts, 1 / cells.prompts), size=rounds)
            weights = counts.astype(np.float64)
            alone_beta = fit_bradley_terry(cells.scores(np.zeros(rounds), weights))
            tuned = cells.tuned_weights(weights, alone_beta)  # lambda is tuned again in every round: its own noise
            draws = to_points(fit_bradley_terry(cells.scores(tuned, weights)), labels, anchor)
            alone = to_points(alone_beta, labels, anchor)
            spread = float(draws.var(axis=0).sum())
            worth = float(alone.var(axis=0).sum()) / spread if spread > 0 else 1.0
        facts = cells.facts(self.judge, weight, data, worth)
        return with_interval(to_points(point_beta, labels, anchor)[0], draws, confidence, facts=facts)


@dataclass(frozen=True)
class _Cells:
    """Per prompt and ordered pair of contestants (i < j), the sums the fit needs: the judge's scores and
    battles over every judged battle, and over the shared ones the human's scores, the judge's, and battles."""

    labels: list[str]
    prompts: int
    judge_score: FloatArray
    judge_games: FloatArray
    human_score: FloatArray
    shared_judge_score: FloatArray
    shared_games: FloatArray
    shared_rows: tuple[
        npt.NDArray[np.int64], npt.NDArray[np.int64], FloatArray, FloatArray, npt.NDArray[np.int64], FloatArray
    ]
    """The shared battles one by one (i, j, human score of i, judge score of i, prompt, the vote's weight), for
    lambda's tuning."""

    @classmethod
    def of(cls, labels: Sequence[str], judged: Judged, shared: Shared, *, by_prompt: bool) -> _Cells:
        """The sums per resampled unit: each prompt (``by_prompt``), or each battle where there are too few
        prompts to resample (or the board was asked to resample battles)."""
        index = {label: position for position, label in enumerate(labels)}
        judged_units = judged.prompt if by_prompt else judged.key
        shared_units = shared.prompt if by_prompt else shared.key
        names: dict[str, int] = {}
        for unit in [*judged_units, *shared_units]:
            names.setdefault(unit, len(names))
        n = len(labels)
        shape = (len(names), n, n)
        arrays = [np.zeros(shape) for _ in range(5)]
        judge_score, judge_games, human_score, shared_judge_score, shared_games = arrays
        for left, right, score, prompt in zip(judged.left, judged.right, judged.score, judged_units, strict=True):
            if left in index and right in index and left != right:
                p, i, j = names[prompt], index[left], index[right]
                judge_score[p, i, j] += score
                judge_score[p, j, i] += 1 - score
                judge_games[p, i, j] += 1
        rows: list[tuple[int, int, float, float, int, float]] = []
        for left, right, human, judge, prompt, weight in zip(
            shared.left, shared.right, shared.human, shared.judge, shared_units, shared.weights(), strict=True
        ):
            if left in index and right in index and left != right:
                p, i, j = names[prompt], index[left], index[right]
                human_score[p, i, j] += weight * human
                human_score[p, j, i] += weight * (1 - human)
                shared_judge_score[p, i, j] += weight * judge
                shared_judge_score[p, j, i] += weight * (1 - judge)
                shared_games[p, i, j] += weight
                rows.append((i, j, human, judge, p, weight))
        shared_rows = (
            np.array([row[0] for row in rows], dtype=np.int64),
            np.array([row[1] for row in rows], dtype=np.int64),
            np.array([row[2] for row in rows], dtype=np.float64),
            np.array([row[3] for row in rows], dtype=np.float64),
            np.array([row[4] for row in rows], dtype=np.int64),
            np.array([row[5] for row in rows], dtype=np.float64),
        )
        return cls(
            list(labels),
            len(names),
            judge_score,
            judge_games,
            human_score,
            shared_judge_score,
            shared_games,
            shared_rows=shared_rows,
        )

    def scores(self, weight: FloatArray, prompt_weights: FloatArray) -> FloatArray:
        """(rounds, n, n) score matrices of the PPI objective with ``weight[r]`` as lambda, scaled to the shared
        battles, each prompt counted ``prompt_weights[r, p]`` times in round r (all ones: the point estimate)."""

        def summed(array: FloatArray) -> FloatArray:
            result: FloatArray = np.einsum("rp,pij->rij", prompt_weights, array)
            return result

        shared = summed(self.shared_games).sum(axis=(1, 2))
        judged = summed(self.judge_games).sum(axis=(1, 2))
        scale = np.where(judged > 0, shared / np.maximum(judged, 1e-12), 0.0)
        lam = weight[:, None, None]
        result: FloatArray = (
            lam * scale[:, None, None] * summed(self.judge_score)
            + summed(self.human_score)
            - lam * summed(self.shared_judge_score)
        )
        return result

    def tuned_weights(self, prompt_weights: FloatArray, beta: FloatArray) -> FloatArray:
        """PPI++'s lambda for each round (prompts counted ``prompt_weights[r, p]`` times; ``beta[r]`` the
        humans-only fit of that round), minimizing the trace of the ratings' variance, clipped to [0, 1]."""
        rounds = len(prompt_weights)
        i, j, human, judge, prompt, vote_weight = self.shared_rows
        judged = np.einsum("rp,p->r", prompt_weights, self.judge_games.sum(axis=(1, 2)))
        if len(human) < 2 or not judged.any():
            return np.zeros(rounds)
        n = len(self.labels)
        design = np.zeros((len(human), n))
        design[np.arange(len(human)), i] = 1.0
        design[np.arange(len(human)), j] = -1.0
        row_weight = prompt_weights[:, prompt] * vote_weight  # (rounds, battles)
        shared = row_weight.sum(axis=1)
        p = 1.0 / (1.0 + np.exp(-(beta[:, i] - beta[:, j])))
        curvature = row_weight * p * (1 - p) / np.maximum(shared, 1e-12)[:, None]
        hessian = np.einsum("rm,mi,mj->rij", curvature, design, design) + np.eye(n) / n
        inverse = np.linalg.inv(hessian)
        membership = np.zeros((self.prompts, len(human)))
        membership[prompt, np.arange(len(human))] = 1.0
        gradient_human = np.einsum("pm,rm,mi->rpi", membership, (p - human) * vote_weight, design)
        gradient_judge = np.einsum("pm,rm,mi->rpi", membership, (p - judge) * vote_weight, design)
        weights = prompt_weights / np.maximum(prompt_weights.sum(axis=1, keepdims=True), 1e-12)
        centered_human = gradient_human - np.einsum("rp,rpi->ri", weights, gradient_human)[:, None, :]
        centered_judge = gradient_judge - np.einsum("rp,rpi->ri", weights, gradient_judge)[:, None, :]
        cross_total = np.einsum("rp,rpi,rpj->rij", prompt_weights, centered_human, centered_judge)
        own_total = np.einsum("rp,rpi,rpj->rij", prompt_weights, centered_judge, centered_judge)
        top = np.einsum("rii->r", inverse @ (cross_total + cross_total.transpose(0, 2, 1)) @ inverse)
        bottom = 2 * (1 + shared / np.maximum(judged, 1e-12)) * np.einsum("rii->r", inverse @ own_total @ inverse)
        tuned: FloatArray = np.clip(np.divide(top, bottom, out=np.zeros(rounds), where=bottom > 0), 0.0, 1.0)
        return tuned

    def facts(self, judge: str, weight: float, data: FitInput, worth: float) -> AssistedFacts:
        """``worth``: the humans-only fit's variance over the assisted one's (the bootstrap's, summed over
        contestants): the assisted board is as sure as that many times the shared human votes."""
        _, _, human, judge_score, _, vote_weight = self.shared_rows
        decisive = (human != 0.5) & (np.abs(judge_score - 0.5) > 1e-9)
        agreed = ((human > 0.5) == (judge_score > 0.5))[decisive]
        agree = float(np.average(agreed, weights=vote_weight[decisive])) if decisive.any() else None
        shared, judged = len(human), float(self.judge_games.sum())
        return AssistedFacts(
            judge=judge,
            human_votes=len(data.rated),
            shared=shared,
            verdicts=int(judged),
            agreement=agree,
            weight=weight,
            effective_votes=shared * max(worth, 1.0),
            brier=float(np.average((judge_score - human) ** 2, weights=vote_weight)) if shared else None,
            reliability=_reliability(judge_score, human, vote_weight),
            weighted=int((vote_weight != 1.0).sum()),
        )


RELIABILITY_BINS = 5


def _reliability(judge: FloatArray, human: FloatArray, weight: FloatArray) -> tuple[tuple[float, float, int], ...]:
    """(mean judge score, mean human verdict, battles) for each fifth of the judge's range that has any (the
    means weighted by how each battle came to be shown)."""
    bins = np.minimum((judge * RELIABILITY_BINS).astype(np.int64), RELIABILITY_BINS - 1)
    return tuple(
        (
            float(np.average(judge[bins == b], weights=weight[bins == b])),
            float(np.average(human[bins == b], weights=weight[bins == b])),
            int((bins == b).sum()),
        )
        for b in range(RELIABILITY_BINS)
        if (bins == b).any()
    )
