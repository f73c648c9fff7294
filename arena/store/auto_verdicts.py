"""Reads for the automatic judge (``arena autojudge``) and for comparing judges with the humans
(``arena judges``' ``versus_humans``): the battles people voted on whose two answers are stored, and every
vote with its answers' lengths and, for an automatic judge, whether its two orders agreed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, NamedTuple

from arena.backend import Message
from arena.store.connection import Store
from arena.store.queries import HUMAN_JUDGES, BattleFilter, stored_messages


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


def votes_with_lengths(store: Store, battle_filter: BattleFilter | None = None) -> list[LengthVoteRow]:
    """Every vote the filter selects, people's and automatic judges' alike (the caller tells them apart by
    name), oldest first: judge, prompt, sides, verdict, both answers' word counts, and for an automatic
    judge whether its two orders agreed (``consistent``, else None)."""
    where, params = replace(battle_filter or BattleFilter(), include_auto=True).where()
    rows = store.rows(
        "select b.id, b.judge, b.prompt, b.left_contestant, b.right_contestant, b.verdict, "
        "gl.n_words, gr.n_words, a.consistent "
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
        )
        for battle, judge, prompt, left, right, verdict, left_words, right_words, consistent in rows
    ]


def _count(value: object) -> int | None:
    """A stored count, where it is one (a merged file may hold anything)."""
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
