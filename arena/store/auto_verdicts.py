"""Reads for the automatic judge (``arena autojudge``) and for comparing judges with the humans
(``arena judges``' ``versus_humans``): the battles people voted on whose two answers are stored, and every
vote with its answers' lengths and, for an automatic judge, whether its two orders agreed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from arena.store.connection import Store
from arena.store.queries import HUMAN_JUDGES, BattleFilter


def voted_answer_pairs(store: Store, session: int | None = None) -> list[dict[str, Any]]:
    """Each pair of stored answers people voted on (taken-back votes aside), once, in vote order: the
    battle's prompt, contestants, generation ids, outputs and what each side was sent."""
    where = f"where {HUMAN_JUDGES} and b.taken_back_at is null and gl.id is not null and gr.id is not null"
    params: list[Any] = []
    if session is not None:
        where += " and b.session = ?"
        params.append(session)
    rows = store.query(
        "select b.id, b.prompt, b.left_contestant, b.right_contestant, b.left_generation, b.right_generation, "
        "gl.output as left_output, gr.output as right_output, "
        "gl.messages_json as left_messages_json, gr.messages_json as right_messages_json "
        "from battles b join generations gl on gl.id = b.left_generation "
        f"join generations gr on gr.id = b.right_generation {where} order by b.id",
        params,
    )
    seen: set[frozenset[int]] = set()
    unique = []
    for row in rows:
        pair = frozenset((int(row["left_generation"]), int(row["right_generation"])))
        if pair not in seen:
            seen.add(pair)
            unique.append(row)
    return unique


def votes_with_lengths(store: Store, battle_filter: BattleFilter | None = None) -> list[dict[str, Any]]:
    """Every vote the filter selects, people's and automatic judges' alike (the caller tells them apart by
    name), oldest first: judge, prompt, sides, verdict, both answers' word counts, and for an automatic
    judge whether its two orders agreed (``consistent``, else None)."""
    where, params = replace(battle_filter or BattleFilter(), include_auto=True).where()
    return store.query(
        "select b.id, b.judge, b.prompt, b.left_contestant as left, b.right_contestant as right, b.verdict, "
        "gl.n_words as left_words, gr.n_words as right_words, a.consistent "
        "from battles b left join prompts p on p.id = b.prompt "
        "left join generations gl on gl.id = b.left_generation "
        "left join generations gr on gr.id = b.right_generation "
        "left join auto_verdicts a on a.battle = b.id" + where + " order by b.tstamp, b.id",
        params,
    )
