"""The votes as the ratings see them, and every count taken from them: outcomes, the (left, right, verdict)
tally, the cells a fit works on, tallies per contestant, the head-to-head scoreboard, matrices, position bias.

The work is on aggregated counts, never on battles one by one: a data set is reduced to a ``tally`` of a few
hundred (left, right, verdict) keys, and every per-battle statistic is computed from those.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from arena.analysis.stats import wilson_interval
from arena.vocab import SCORE, Verdict
from arena.wording import counted

if TYPE_CHECKING:
    from arena.analysis.ratings.columns import VoteColumns

FloatArray = npt.NDArray[np.float64]
Tally = Counter[tuple[str, str, Verdict]]
"""How many battles had each (left, right, verdict)."""
OUTCOME_CODES: tuple[Verdict, Verdict, Verdict] = ("left", "right", "tie")
"""A cell's outcome from its first contestant's side: 0 won, 1 lost, 2 tie (``both_bad`` included)."""


class Outcome(NamedTuple):
    """One judged battle, as the ratings see it. ``skip`` verdicts never reach here. A named tuple: a
    leaderboard builds 100,000 of them, and a frozen dataclass costs five times as much to create; its fields
    are read by name (a C-level getter, as fast as an index)."""

    left: str
    right: str
    verdict: Verdict
    prompt: str = ""
    """The prompt the battle was on: votes on one prompt are a cluster (they are not independent)."""


class Vote(Protocol):
    """What a vote must say for the ratings (``arena.store.queries.StyledVoteRow`` does): the store stays out of
    the analysis layer, and the analysis names what it reads."""

    @property
    def left(self) -> str: ...

    @property
    def right(self) -> str: ...

    @property
    def verdict(self) -> Verdict: ...

    @property
    def prompt(self) -> str: ...


def outcomes_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[Outcome]:
    """Outcomes from battle rows as ``arena.store.queries.battle_rows`` returns them."""
    return [Outcome(row["left_contestant"], row["right_contestant"], row["verdict"], row["prompt_id"]) for row in rows]


def tally(outcomes: Iterable[Outcome]) -> Tally:
    """How many battles had each (left, right, verdict): counted once, in C, and then every per-battle
    statistic (cells, tallies, the scoreboard) works on a few hundred keys instead of every battle."""
    return Counter((outcome.left, outcome.right, outcome.verdict) for outcome in outcomes)


@dataclass(frozen=True)
class Cells:
    """A data set reduced to (winner-side index, loser-side index, weight) counts.

    Each cell is one (i, j, outcome) with i < j and outcome 0 = i won, 1 = j won, 2 = tie (incl. both_bad).
    """

    labels: tuple[str, ...]
    i: npt.NDArray[np.int64]
    j: npt.NDArray[np.int64]
    outcome: npt.NDArray[np.int64]
    count: npt.NDArray[np.int64]

    @classmethod
    def from_tally(cls, counted: Mapping[tuple[str, str, Verdict], int], labels: Sequence[str]) -> Cells:
        """Cells from (left, right, verdict) counts (``tally``): the work is per distinct triple, not per battle."""
        keys = list(counted)
        weights = np.array([counted[key] for key in keys], dtype=np.int64)
        n = len(labels)
        codes = cell_codes(keys, labels)
        unique, inverse = np.unique(codes, return_inverse=True)
        counts = np.bincount(inverse.reshape(-1), weights=weights, minlength=len(unique))
        return cls(
            labels=tuple(labels),
            i=unique // 3 // n,
            j=unique // 3 % n,
            outcome=unique % 3,
            count=counts.astype(np.int64),
        )

    @property
    def codes(self) -> npt.NDArray[np.int64]:
        """Each cell's code (``cell_codes``), ascending."""
        n = len(self.labels)
        result: npt.NDArray[np.int64] = (self.i * n + self.j) * 3 + self.outcome
        return result

    def score_matrices(self, counts: npt.NDArray[np.int64]) -> FloatArray:
        """(rounds, n, n) score matrices for a (rounds, cells) array of cell counts."""
        n = len(self.labels)
        # column c of ``spread`` says where one battle of cell c puts its points in the flat n*n matrix
        spread = np.zeros((len(self.count), n * n))
        cells = np.arange(len(self.count))
        ij = self.i * n + self.j
        ji = self.j * n + self.i
        # what the first contestant scores for each outcome code, and the second (1 minus it)
        first_scores = np.array([SCORE[verdict] for verdict in OUTCOME_CODES])
        spread[cells, ij] += first_scores[self.outcome]
        spread[cells, ji] += 1.0 - first_scores[self.outcome]
        result: FloatArray = (counts.astype(np.float64) @ spread).reshape(-1, n, n)
        return result


def cell_codes(keys: Sequence[tuple[str, str, Verdict]], labels: Sequence[str]) -> npt.NDArray[np.int64]:
    """The cell of each (left, right, verdict): (i * n + j) * 3 + outcome, with i < j the contestants' indices
    and the outcome from i's side (``OUTCOME_CODES``)."""
    index = {label: position for position, label in enumerate(labels)}
    left = np.array([index[key[0]] for key in keys], dtype=np.int64)
    right = np.array([index[key[1]] for key in keys], dtype=np.int64)
    verdict = np.array([{"left": 0, "right": 1}.get(key[2], 2) for key in keys], dtype=np.int64)  # OUTCOME_CODES
    swap = left > right
    i = np.where(swap, right, left)
    j = np.where(swap, left, right)
    # from i's point of view a left win by j is a loss: swap the win codes
    outcome = np.where(swap & (verdict < 2), 1 - verdict, verdict)
    codes: npt.NDArray[np.int64] = (i * len(labels) + j) * 3 + outcome
    return codes


@dataclass(frozen=True)
class PromptCells:
    """Each prompt's battles as counts of the cells: what a bootstrap that resamples prompts draws from.

    A local arena judges few prompts many times, and a model that is good at one prompt wins all of its
    battles: the votes on one prompt are not independent. Resampling whole prompts (all of a prompt's
    battles together) gives intervals that are honest for that; with one battle per prompt it is exactly
    the battle bootstrap. Stored as the nonzero (prompt, cell) counts, sorted by cell, and each battle's
    prompt index (for the style fit's cluster-robust sandwich).
    """

    prompts: int
    prompt: npt.NDArray[np.int64]
    cell: npt.NDArray[np.int64]
    count: npt.NDArray[np.int64]
    cells: int
    battle_prompt: npt.NDArray[np.int64]

    @classmethod
    def of(cls, votes: VoteColumns, cells: Cells) -> PromptCells:
        """From the rated votes (``VoteColumns.rated``) and their ``Cells``: each vote's cell and prompt from
        its codes, then one grouping."""
        position = {label: index for index, label in enumerate(cells.labels)}
        renumber = np.array([position[label] for label in votes.contestants], dtype=np.int64)
        left, right = renumber[votes.left], renumber[votes.right]
        outcome = np.minimum(votes.verdict, 2)  # OUTCOME_CODES from the left side: 0 won, 1 lost, 2 tie
        swap = left > right
        outcome = np.where(swap & (outcome < 2), 1 - outcome, outcome)  # from the lower index's side
        codes = (np.minimum(left, right) * len(cells.labels) + np.maximum(left, right)) * 3 + outcome
        battle_cell = np.searchsorted(cells.codes, codes)
        n_cells = len(cells.count)
        pairs, count = np.unique(votes.prompt * n_cells + battle_cell, return_counts=True)
        cell = pairs % n_cells
        order = np.argsort(cell, kind="stable")
        return cls(len(votes.prompts), (pairs // n_cells)[order], cell[order], count[order], n_cells, votes.prompt)

    def pair_records(self, cells: Cells, i: int, j: int) -> list[tuple[int, int]]:
        """Per prompt where contestants i < j met with a decisive vote: (i's wins, decisive votes)."""
        return self.all_pair_records(cells).get((i, j), [])

    def all_pair_records(self, cells: Cells) -> dict[tuple[int, int], list[tuple[int, int]]]:
        """``pair_records`` of every pair at once: one grouping of the (prompt, cell) counts by pair and
        prompt instead of a pass over them all per pair (a board of 20 has 190 pairs). Computed once per
        ``PromptCells`` and kept."""
        cached: dict[tuple[int, int], list[tuple[int, int]]] | None = self.__dict__.get("_pair_records")
        if cached is not None:
            return cached
        decisive = cells.outcome[self.cell] < 2
        first, second = cells.i[self.cell][decisive], cells.j[self.cell][decisive]
        n = max(len(cells.labels), 1)
        key = (first * n + second) * self.prompts + self.prompt[decisive]
        count = self.count[decisive]
        keys, inverse = np.unique(key, return_inverse=True)
        votes = np.bincount(inverse, weights=count).astype(np.int64)
        wins = np.bincount(inverse, weights=count * (cells.outcome[self.cell][decisive] == 0)).astype(np.int64)
        pairs, starts = np.unique(keys // self.prompts, return_index=True)  # keys sorted: pair, then prompt
        ends = [*starts.tolist()[1:], len(keys)] if len(keys) else []
        won, voted = wins.tolist(), votes.tolist()
        found = {
            divmod(pair, n): list(zip(won[start:end], voted[start:end], strict=True))
            for pair, start, end in zip(pairs.tolist(), starts.tolist(), ends, strict=True)
        }
        object.__setattr__(self, "_pair_records", found)
        return found

    @property
    def singletons(self) -> bool:
        """Every prompt has exactly one battle (resampling prompts is then resampling battles)."""
        return int(self.count.sum()) == self.prompts

    def resample(self, rounds: int, rng: np.random.Generator) -> npt.NDArray[np.int64]:
        """(rounds, cells) counts: each round draws as many prompts as there are, with replacement, and
        takes every battle of each prompt drawn.

        Prompts with one battle are drawn together, exactly: of a round's draws, Binomial(P, singletons / P)
        land on them, spread over their cells as a multinomial. The other prompts' draws are weights times
        their cell counts: one matrix product where prompts x cells is small, blocks of rounds otherwise.
        """
        single = np.bincount(self.prompt, weights=self.count, minlength=self.prompts) == 1
        in_single = single[self.prompt]
        out = np.zeros((rounds, self.cells), dtype=np.int64)
        singles = int(single.sum())
        draws_left = np.full(rounds, self.prompts, dtype=np.int64)  # each round's draws among the other prompts
        if singles:
            freq = np.bincount(self.cell[in_single], minlength=self.cells) / singles
            drawn = rng.binomial(self.prompts, singles / self.prompts, size=rounds)
            out += rng.multinomial(drawn, freq)
            draws_left -= drawn
        multi = np.flatnonzero(~single)
        if len(multi) == 0:
            return out
        renumber = np.full(self.prompts, -1, dtype=np.int64)
        renumber[multi] = np.arange(len(multi))
        prompt, cell, count = renumber[self.prompt[~in_single]], self.cell[~in_single], self.count[~in_single]
        if len(multi) * self.cells <= 8_000_000:  # dense: a matrix product
            table = np.zeros((len(multi), self.cells))
            np.add.at(table, (prompt, cell), count)
            for first, size in _blocks(rounds, len(multi)):
                weights = _uniform_counts(rng, draws_left[first : first + size], len(multi))
                out[first : first + size] += np.rint(weights @ table).astype(np.int64)
            return out
        starts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])  # sparse: sums per cell of the counts
        columns = cell[starts]
        prompt32, count32 = prompt.astype(np.int32), count.astype(np.int32)
        for first, size in _blocks(rounds, max(len(multi), len(cell))):
            weights = _uniform_counts(rng, draws_left[first : first + size], len(multi)).astype(np.int32)
            contributions = np.take(weights, prompt32, axis=1)
            contributions *= count32
            out[first : first + size, columns] += np.add.reduceat(contributions, starts, axis=1)
        return out


def _blocks(rounds: int, width: int) -> list[tuple[int, int]]:
    """Rounds in blocks whose (block x width) arrays stay near 4 million entries."""
    block = max(1, min(rounds, 4_000_000 // max(width, 1)))
    return [(first, min(block, rounds - first)) for first in range(0, rounds, block)]


def _uniform_counts(rng: np.random.Generator, draws: npt.NDArray[np.int64], prompts: int) -> npt.NDArray[np.int64]:
    """(rounds, prompts): how often each prompt is drawn when round r draws ``draws[r]`` of them uniformly
    with replacement (integers and one bincount: cheaper than a multinomial per round)."""
    rounds = len(draws)
    rows = np.repeat(np.arange(rounds, dtype=np.int64), draws)
    picked = rng.integers(0, prompts, size=len(rows))
    counts: npt.NDArray[np.int64] = np.bincount(rows * prompts + picked, minlength=rounds * prompts).reshape(
        rounds, prompts
    )
    return counts


def components(labels: Sequence[str], met: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Groups of contestants connected by battles (``met``: the pairs that met); ratings are only comparable
    within a group."""
    parent = {label: label for label in labels}

    def root(label: str) -> str:
        while parent[label] != label:
            parent[label] = parent[parent[label]]
            label = parent[label]
        return label

    for left, right in met:
        parent[root(left)] = root(right)
    groups: dict[str, list[str]] = {}
    for label in labels:
        groups.setdefault(root(label), []).append(label)
    return sorted(groups.values(), key=lambda group: (-len(group), group))


@dataclass(frozen=True)
class PairRecord:
    """Head to head between two contestants, from ``a``'s side."""

    a: str
    b: str
    a_wins: int
    b_wins: int
    ties: int
    both_bad: int

    @property
    def battles(self) -> int:
        return self.a_wins + self.b_wins + self.ties + self.both_bad

    def describe(self) -> str:
        """'b beats a 5-1, 1 tie, 1 both bad' in the leader's favour."""
        leader, trailer, high, low = (
            (self.a, self.b, self.a_wins, self.b_wins)
            if self.a_wins >= self.b_wins
            else (self.b, self.a, self.b_wins, self.a_wins)
        )
        verb = "ties" if high == low else "beats"
        extra = []
        if self.ties:
            extra.append(counted(self.ties, "tie"))
        if self.both_bad:
            extra.append(f"{self.both_bad} both bad")
        return f"{leader} {verb} {trailer} {high}-{low}" + (", " + ", ".join(extra) if extra else "")


@dataclass(frozen=True)
class PositionBias:
    """Share of decided battles won by the left pane; a fair judge and blind sides give about 0.5."""

    left_wins: int
    decided: int
    share: float | None
    ci_low: float
    ci_high: float

    @property
    def significant(self) -> bool:
        return self.decided > 0 and not self.ci_low <= 0.5 <= self.ci_high


def tallies(counted: Mapping[tuple[str, str, Verdict], int], labels: Sequence[str]) -> dict[str, list[int]]:
    """label -> [wins, ties, losses, both_bad]: counts, what ``arena export`` and the board report."""
    found = {label: [0, 0, 0, 0] for label in labels}
    for (left, right, verdict), number in counted.items():
        if verdict == "left":
            found[left][0] += number
            found[right][2] += number
        elif verdict == "right":
            found[right][0] += number
            found[left][2] += number
        else:
            column = 1 if verdict == "tie" else 3
            found[left][column] += number
            found[right][column] += number
    return found


def pairs(counted: Mapping[tuple[str, str, Verdict], int]) -> list[PairRecord]:
    """The head-to-head record of every pair that met, from the alphabetically first one's side."""
    counts: dict[tuple[str, str], list[int]] = {}
    for (left, right, verdict), number in counted.items():
        a, b = sorted((left, right))
        record = counts.setdefault((a, b), [0, 0, 0, 0])
        if verdict in ("left", "right"):
            winner = left if verdict == "left" else right
            record[0 if winner == a else 1] += number
        else:
            record[2 if verdict == "tie" else 3] += number
    return [PairRecord(a, b, *record) for (a, b), record in sorted(counts.items())]


def pair_battles(pairs: Sequence[PairRecord], a: str, b: str) -> int:
    for pair in pairs:
        if {pair.a, pair.b} == {a, b}:
            return pair.battles
    return 0


def win_matrix(labels: Sequence[str], pairs: Sequence[PairRecord]) -> dict[str, dict[str, float | None]]:
    """Row's share of points against column (ties and both-bad as half); None where they never met."""
    matrix: dict[str, dict[str, float | None]] = {a: {b: None for b in labels if b != a} for a in labels}
    for pair in pairs:
        total = pair.battles
        half = 0.5 * (pair.ties + pair.both_bad)
        matrix[pair.a][pair.b] = (pair.a_wins + half) / total
        matrix[pair.b][pair.a] = (pair.b_wins + half) / total
    return matrix


def count_matrix(labels: Sequence[str], records: Sequence[PairRecord]) -> dict[str, dict[str, int]]:
    """Battles between row and column."""
    return {a: {b: pair_battles(records, a, b) for b in labels if b != a} for a in labels}


def position_bias(counted: Mapping[tuple[str, str, Verdict], int]) -> PositionBias:
    left_wins = sum(number for (_, _, verdict), number in counted.items() if verdict == "left")
    decided = left_wins + sum(number for (_, _, verdict), number in counted.items() if verdict == "right")
    low, high = wilson_interval(left_wins, decided)
    share = left_wins / decided if decided else None
    return PositionBias(left_wins, decided, share, low, high)


def matrix_rows(matrix: Mapping[str, Mapping[str, float | int | None]]) -> list[list[str]]:
    """A matrix as printable rows (header first), for tables and CSV."""
    labels = list(matrix)
    rows = [["", *labels]]
    for a in labels:
        cells = []
        for b in labels:
            value = matrix[a].get(b) if a != b else None
            cells.append("-" if value is None else (f"{value:.2f}" if isinstance(value, float) else str(value)))
        rows.append([a, *cells])
    return rows
