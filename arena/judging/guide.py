"""An automatic judge's doubt, as ``arena play --from-batch N --pairing judge-uncertain`` reads it.

The judge (``arena autojudge --batch N``) has given a verdict on the batch's battles. A person's vote teaches
the assisted board most where that verdict is most likely wrong; ``arena.analysis.ratings.active`` turns the
judge's score, how often people agreed with it at that score, and what the board says about the pair into
the chance a battle is shown. This module reads those from the store for one batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from arena.analysis.ratings.active import Calibration, combined, expected_error
from arena.analysis.ratings.bt import win_probability
from arena.analysis.ratings.standing import Standing
from arena.errors import ArenaError
from arena.reports.methods import linked_votes
from arena.store import Store
from arena.store.auto_verdicts import auto_judges_of, pair_votes
from arena.vocab import is_auto_judge


@dataclass(frozen=True)
class JudgeGuide:
    """One automatic judge's verdicts on stored answer pairs and how well people agreed with it."""

    judge: str
    scores: Mapping[frozenset[int], tuple[int, float]]
    """The two answers' generation ids -> (the generation the score is for, the judge's score for it: its
    probability of winning where the judge gave one, else 1, 0.5 or 0)."""
    calibration: Calibration

    @classmethod
    def read(cls, store: Store, judge: str) -> JudgeGuide:
        """The judge's verdicts, and the people's votes on the battles it also judged (their agreement)."""
        people, verdicts = pair_votes(store, None, judge)
        scores = {
            frozenset((v.left_generation, v.right_generation)): (v.left_generation, v.score)
            for v in verdicts
            if v.left_generation is not None and v.right_generation is not None
        }
        shared = linked_votes(people, verdicts)
        return cls(judge, scores, Calibration.of(shared.judge, shared.human, shared.weights()))

    def error(self, pair: frozenset[int], first: int, labels: tuple[str, str], standing: Standing) -> float | None:
        """The expected squared gap between the judge's score and a person's verdict on these two answers
        (``first``'s generation id; ``labels``: its contestant, then the other's); None: the judge has not
        judged them."""
        found = self.scores.get(pair)
        if found is None:
            return None
        generation, score = found
        judge_score = score if generation == first else 1.0 - score
        ratings = standing.ratings
        board = None
        if labels[0] in ratings and labels[1] in ratings:
            board = win_probability(ratings[labels[0]], ratings[labels[1]])
        return expected_error(judge_score, combined(self.calibration.person(judge_score), board))


def guiding_judge(store: Store, pairs: Iterable[frozenset[int]], asked: str | None, batch: int) -> str:
    """The automatic judge whose doubt picks the battles: ``asked`` (it must have judged some of ``pairs``),
    else the one judge that did; one line when there is none or several to choose from."""
    if asked is not None and not is_auto_judge(asked):
        raise ArenaError(f"--pairing-judge {asked!r}: an automatic judge is named auto:LABEL (arena judges lists them)")
    wanted = set(pairs)
    found = {judge: count for judge, count in auto_judges_of(store, wanted).items() if asked is None or judge == asked}
    if asked is not None and not found:
        raise ArenaError(
            f"--pairing-judge {asked}: it judged none of batch session {batch}'s battles "
            f"(arena autojudge --batch {batch} --label ... judges them)"
        )
    if not found:
        raise ArenaError(
            f"--pairing judge-uncertain: no automatic judge has judged batch session {batch} "
            f"(run arena autojudge --batch {batch} first)"
        )
    if len(found) > 1:
        named = ", ".join(f"{judge} ({count})" for judge, count in sorted(found.items()))
        raise ArenaError(
            f"--pairing judge-uncertain: several judges judged batch session {batch}: {named}; "
            "name one with --pairing-judge auto:LABEL"
        )
    return next(iter(found))
