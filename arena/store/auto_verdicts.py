"""Reads for the automatic judge (``arena autojudge``) and for comparing judges with the humans
(``arena judges``' ``versus_humans``): the battles people voted on whose two answers are stored, and every
vote with its answers' lengths and, for an automatic judge, whether its two orders agreed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, NamedTuple

from arena.backend import Message
from arena.store.connection import Store
from arena.store.queries import HUMAN_JUDGES, BattleFilter, decode_json, stored_messages


class VotedPair(NamedTuple):
    """Two stored answers people voted on, as an automatic judge reads them."""

    battle: int
    prompt: str
    left_contestant: str
    right_contestant: str
    left_generation: int
    right_generation: int
    left_output: str
    right_output: str
    left_messages: list[Message]
    right_messages: list[Message]
    """What each side was sent (a follow-up's whole conversation), as stored: untrusted."""


def voted_answer_pairs(store: Store, session: int | None = None) -> list[VotedPair]:
    """Each pair of stored answers people voted on (taken-back votes aside), once, in vote order: the
    battle's prompt, contestants, generation ids, outputs and what each side was sent."""
    where = f"where {HUMAN_JUDGES} and b.taken_back_at is null and gl.id is not null and gr.id is not null"
    params: list[Any] = []
    if session is not None:
        where += " and b.session = ?"
        params.append(session)
    rows = store.rows(
        "select b.id, b.prompt, b.left_contestant, b.right_contestant, b.left_generation, b.right_generation, "
        "gl.output, gr.output, gl.messages_json, gr.messages_json "
        "from battles b join generations gl on gl.id = b.left_generation "
        f"join generations gr on gr.id = b.right_generation {where} order by b.id",
        params,
    )
    seen: set[frozenset[int]] = set()
    unique = []
    for battle, prompt, left, right, left_id, right_id, left_out, right_out, left_sent, right_sent in rows:
        pair = frozenset((int(left_id), int(right_id)))
        if pair not in seen:
            seen.add(pair)
            unique.append(
                VotedPair(
                    int(battle),
                    str(prompt),
                    str(left),
                    str(right),
                    int(left_id),
                    int(right_id),
                    str(left_out or ""),
                    str(right_out or ""),
                    stored_messages(left_sent),
                    stored_messages(right_sent),
                )
            )
    return unique


class LengthVoteRow(NamedTuple):
    """A vote with both answers' word counts and, for an automatic judge, whether its two orders agreed."""

    battle: int
    judge: str | None
    prompt: str
    left: str
    right: str
    verdict: str
    left_words: int | None
    right_words: int | None
    consistent: bool | None
    answers: frozenset[int] | None = None
    """The two stored answers' generation ids (None for a vote imported without its answers)."""


def votes_with_lengths(store: Store, battle_filter: BattleFilter | None = None) -> list[LengthVoteRow]:
    """Every vote the filter selects, people's and automatic judges' alike (the caller tells them apart by
    name), oldest first: judge, prompt, sides, verdict, both answers' word counts, and for an automatic
    judge whether its two orders agreed (``consistent``, else None)."""
    where, params = replace(battle_filter or BattleFilter(), include_auto=True).where()
    rows = store.rows(
        "select b.id, b.judge, b.prompt, b.left_contestant, b.right_contestant, b.verdict, "
        "gl.n_words, gr.n_words, a.consistent, b.left_generation, b.right_generation "
        "from battles b left join prompts p on p.id = b.prompt "
        "left join generations gl on gl.id = b.left_generation "
        "left join generations gr on gr.id = b.right_generation "
        "left join auto_verdicts a on a.battle = b.id" + where + " order by b.tstamp, b.id",
        params,
    )
    return [
        LengthVoteRow(
            int(battle),
            judge,
            str(prompt),
            str(left),
            str(right),
            str(verdict),
            _count(left_words),
            _count(right_words),
            None if consistent is None else bool(consistent),
            frozenset((int(left_id), int(right_id))) if left_id is not None and right_id is not None else None,
        )
        for battle, judge, prompt, left, right, verdict, left_words, right_words, consistent, left_id, right_id in rows
    ]


def _count(value: object) -> int | None:
    """A stored count, where it is one (a merged file may hold anything)."""
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class PairVote(NamedTuple):
    """A vote on two stored answers: who was left and right, the left one's score (1, 0.5 for a tie or both
    bad, 0), its prompt and the two answers' generation ids (what links a person's vote and a judge's)."""

    left: str
    right: str
    score: float
    prompt: str
    left_generation: int | None
    right_generation: int | None
    shown_probability: float | None = None
    """The chance the voter's session showed this battle (None: it showed every one)."""


def pair_votes(store: Store, battle_filter: BattleFilter | None, judge: str) -> tuple[list[PairVote], list[PairVote]]:
    """The people's rated votes (the filter's) and ``judge``'s verdicts on the same prompt set, category and
    dates, for the judge-assisted fit. An automatic judge's verdict scores the left answer by its stored
    probabilities where it gave them (the mean of its two orders, a tie counting half), else by its verdict."""
    chosen = battle_filter or BattleFilter()
    people = _pair_votes(store, replace(chosen, judge=None, include_auto=False), with_probabilities=False)
    verdicts = _pair_votes(store, replace(chosen, judge=judge), with_probabilities=True)
    return people, verdicts


_SCORES = {"left": 1.0, "right": 0.0, "tie": 0.5, "both_bad": 0.5}


def _pair_votes(store: Store, battle_filter: BattleFilter, *, with_probabilities: bool) -> list[PairVote]:
    where, params = replace(battle_filter, include_skips=False).where()  # never empty: skips are left out
    rows = store.rows(
        "select b.left_contestant, b.right_contestant, b.verdict, b.prompt, b.left_generation, b.right_generation, "
        "b.shown_probability, "
        + ("a.first_json, a.second_json " if with_probabilities else "null, null ")
        + "from battles b left join prompts p on p.id = b.prompt "
        + ("left join auto_verdicts a on a.battle = b.id" if with_probabilities else "")
        + where
        + " order by b.tstamp, b.id",
        params,
    )
    found = []
    for left, right, verdict, prompt, left_id, right_id, shown, first, second in rows:
        score = _probability_score(first, second)
        if score is None:
            score = _SCORES.get(str(verdict))
        if score is not None and left != right:
            found.append(PairVote(str(left), str(right), score, str(prompt), left_id, right_id, _probability(shown)))
    return found


def _probability(value: object) -> float | None:
    """A stored chance of being shown; anything but a number in (0, 1] (a hand edit) reads as "always shown"."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 1:
        return float(value)
    return None


def _probability_score(first_json: str | None, second_json: str | None) -> float | None:
    """The left answer's expected score from a probability judge's two orders (left shown as A, then as B)."""
    first, second = decode_json(first_json, None), decode_json(second_json, None)
    if not isinstance(first, dict) or not isinstance(second, dict):
        return None
    one, two = first.get("probabilities"), second.get("probabilities")
    if not isinstance(one, dict) or not isinstance(two, dict):
        return None
    try:
        as_a = float(one["A"]) + 0.5 * float(one["C"])
        as_b = float(two["B"]) + 0.5 * float(two["C"])
    except (KeyError, TypeError, ValueError):
        return None
    score = (as_a + as_b) / 2
    return score if 0.0 <= score <= 1.0 else None


def auto_judges_of(store: Store, pairs: set[frozenset[int]]) -> dict[str, int]:
    """Each automatic judge that judged any of these answer pairs (generation ids), with how many."""
    counts: dict[str, int] = {}
    for judge, left, right in store.rows(
        "select judge, left_generation, right_generation from battles "
        "where judge like 'auto:%' and taken_back_at is null and left_generation is not null"
    ):
        if frozenset((left, right)) in pairs:
            counts[str(judge)] = counts.get(str(judge), 0) + 1
    return counts
