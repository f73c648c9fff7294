"""The votes as integer-coded columns: what a board is computed from.

A board over 100,000 battles spent more on building 100,000 ``Outcome`` tuples and looking their labels up
again at every step (the tally, the prompt clusters, Elo, the groups) than on its fit. Here each vote is
four integers in numpy arrays (left, right, verdict, prompt), coded once from the rows the store returns,
and every count the board needs is taken from the arrays. ``Outcome`` lists (tests, simulations) are coded
the same way, so both give the same board.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np
import numpy.typing as npt

from arena.analysis.ratings.data import Outcome, Tally, Vote
from arena.vocab import SCORE, VERDICTS, Verdict

IntArray = npt.NDArray[np.int64]
SKIP_CODE = VERDICTS.index("skip")
"""Verdict codes are positions in ``vocab.VERDICTS``; the rated ones come before skip."""
SCORE_OF_CODE = np.array([SCORE.get(verdict, 0.5) for verdict in VERDICTS])
"""The left side's score for each verdict code (skip is never rated; its 0.5 is never read)."""


@dataclass(frozen=True)
class VoteColumns:
    """Votes in the order they were cast, one integer per vote and column."""

    contestants: tuple[str, ...]
    """Every contestant the votes name, sorted: ``left`` and ``right`` index it."""
    left: IntArray
    right: IntArray
    verdict: IntArray
    """Each vote's verdict as its position in ``vocab.VERDICTS`` (one the vocabulary lacks reads as skip:
    a merged file may hold anything, and it is not a vote the ratings can count)."""
    prompts: tuple[str, ...]
    """Every prompt the votes name, in the order of its first vote: ``prompt`` indexes it."""
    prompt: IntArray

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[str]]) -> VoteColumns:
        """From (left, right, verdict, prompt) rows, as ``arena.store.queries.vote_rows`` returns them: one
        transpose and one dictionary lookup per value, in C."""
        if not rows:
            return cls.from_columns((), (), (), ())
        lefts, rights, verdicts, prompts = zip(*rows, strict=True)
        return cls.from_columns(lefts, rights, verdicts, prompts)

    @classmethod
    def from_columns(
        cls, lefts: Sequence[str], rights: Sequence[str], verdicts: Sequence[str], prompts: Sequence[str]
    ) -> VoteColumns:
        """From the four columns as texts, one value per vote in each."""
        contestants = sorted(set(lefts) | set(rights))
        contestant_code = {label: position for position, label in enumerate(contestants)}
        verdict_code: dict[str, int] = {verdict: position for position, verdict in enumerate(VERDICTS)}
        prompt_names = tuple(dict.fromkeys(prompts))  # first-vote order, as the prompt bootstrap numbers them
        prompt_code = {name: position for position, name in enumerate(prompt_names)}
        count = len(lefts)
        return cls(
            contestants=tuple(contestants),
            left=np.fromiter(map(contestant_code.__getitem__, lefts), dtype=np.int64, count=count),
            right=np.fromiter(map(contestant_code.__getitem__, rights), dtype=np.int64, count=count),
            verdict=np.fromiter(map(verdict_code.get, verdicts, repeat(SKIP_CODE)), dtype=np.int64, count=count),
            prompts=prompt_names,
            prompt=np.fromiter(map(prompt_code.__getitem__, prompts), dtype=np.int64, count=count),
        )

    @classmethod
    def of(cls, votes: Iterable[Vote] | VoteColumns) -> VoteColumns:
        """From ``Outcome`` tuples or anything else that says a vote's left, right, verdict and prompt."""
        if isinstance(votes, VoteColumns):
            return votes
        return cls.from_rows([(vote.left, vote.right, vote.verdict, vote.prompt) for vote in votes])

    def __len__(self) -> int:
        return len(self.left)

    def rated(self) -> tuple[VoteColumns, IntArray]:
        """The votes the ratings count (a verdict other than skip, two different contestants), naming only
        the contestants and prompts these votes name, and each one's position among all the votes."""
        kept = np.flatnonzero((self.verdict < SKIP_CODE) & (self.left != self.right))
        return self.take(kept).compacted(), kept

    def take(self, index: IntArray) -> VoteColumns:
        """The votes at ``index``, in that order (the names stay as they are)."""
        return VoteColumns(
            self.contestants, self.left[index], self.right[index], self.verdict[index], self.prompts, self.prompt[index]
        )

    def compacted(self) -> VoteColumns:
        """The same votes naming only the contestants (still sorted) and prompts (still in first-vote order)
        they use, renumbered."""
        # bincount rather than np.unique, whose plain form imports numpy.ma (a tenth of a small board)
        used = np.flatnonzero(np.bincount(np.concatenate([self.left, self.right]), minlength=len(self.contestants)))
        renumber = np.zeros(len(self.contestants), dtype=np.int64)
        renumber[used] = np.arange(len(used))
        first_votes = np.unique(self.prompt, return_index=True)[1]
        prompt_order = self.prompt[np.sort(first_votes)]  # prompts used, in the order of their first vote
        prompt_number = np.zeros(len(self.prompts), dtype=np.int64)
        prompt_number[prompt_order] = np.arange(len(prompt_order))
        return VoteColumns(
            contestants=tuple(self.contestants[code] for code in used.tolist()),
            left=renumber[self.left],
            right=renumber[self.right],
            verdict=self.verdict,
            prompts=tuple(self.prompts[code] for code in prompt_order.tolist()),
            prompt=prompt_number[self.prompt],
        )

    def tally(self) -> Tally:
        """How many votes had each (left, right, verdict): ``data.tally`` from the codes."""
        n, width = len(self.contestants), len(VERDICTS)
        keys, counts = np.unique((self.left * n + self.right) * width + self.verdict, return_counts=True)
        found: Tally = Counter()
        for key, number in zip(keys.tolist(), counts.tolist(), strict=True):
            pair, verdict = divmod(key, width)
            verdict_name: Verdict = VERDICTS[verdict]
            found[(self.contestants[pair // n], self.contestants[pair % n], verdict_name)] = number
        return found

    def scores(self) -> npt.NDArray[np.float64]:
        """The left side's score of each vote (1 won, 0 lost, 0.5 tie or both bad)."""
        result: npt.NDArray[np.float64] = SCORE_OF_CODE[self.verdict]
        return result

    def pairs_met(self) -> list[tuple[str, str]]:
        """Each (left, right) that met, once."""
        n = max(len(self.contestants), 1)
        met = np.flatnonzero(np.bincount(self.left * n + self.right, minlength=n * n)).tolist()
        return [(self.contestants[code // n], self.contestants[code % n]) for code in met]

    def outcomes(self) -> list[Outcome]:
        """The votes as ``Outcome`` tuples (for code that reads them one by one)."""
        return [
            Outcome(self.contestants[left], self.contestants[right], VERDICTS[verdict], self.prompts[prompt])
            for left, right, verdict, prompt in zip(
                self.left.tolist(), self.right.tolist(), self.verdict.tolist(), self.prompt.tolist(), strict=True
            )
        ]
