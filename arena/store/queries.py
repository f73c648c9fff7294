"""Read queries over the arena database: battles with their prompts, outputs and flags, filtered; the
generations and flags a report counts.

Owns every read the commands and screens make. Kept apart from the write path so reports, exports and the
leaderboard share one definition of "the battles that match these filters".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, NamedTuple, TypedDict, cast

from arena.backend import Message
from arena.errors import ArenaError
from arena.store.connection import Store
from arena.store.migrations import STYLE_COLUMNS
from arena.store.settings import SessionSettings
from arena.untrusted import valid_text
from arena.vocab import AUTO_PREFIX, NAMED_PREFIX, Verdict


@dataclass(frozen=True)
class BattleFilter:
    """Which battles to look at. Dates are ISO dates or datetimes, compared in UTC; ``until`` is exclusive."""

    prompt_set: str | None = None
    category: str | None = None
    judge: str | None = None
    since: str | None = None
    until: str | None = None
    include_skips: bool = False
    exclude_leaks: bool = False
    """Leave out battles where either side's answer has the ``identity`` flag (it named itself)."""
    include_taken_back: bool = False
    """Votes their judge took back are left out unless asked for (they stay stored, with who and when)."""
    include_auto: bool = False
    """Votes of automatic judges (``auto:LABEL``) are left out unless asked for, or unless ``judge`` names
    one: the humans' numbers are never mixed with a model's verdicts silently."""

    def where(self) -> tuple[str, dict[str, Any]]:
        clauses = []
        params: dict[str, Any] = {}
        if not self.include_taken_back:
            clauses.append("b.taken_back_at is null")
        if not self.include_skips:
            clauses.append("b.verdict != 'skip'")
        if self.prompt_set is not None:
            clauses.append("p.[set] = :prompt_set")
            params["prompt_set"] = self.prompt_set
        if self.category is not None:
            clauses.append("p.category = :category")
            params["category"] = self.category
        if self.judge is not None:
            clauses.append("b.judge = :judge")
            params["judge"] = self.judge
        elif not self.include_auto:
            clauses.append(HUMAN_JUDGES)
        if self.exclude_leaks:
            clauses.append(
                "not exists (select 1 from flags f where f.name = 'identity' and f.hit = 1 "
                "and f.generation in (b.left_generation, b.right_generation))"
            )
        if self.since is not None:
            clauses.append("b.tstamp >= :since")
            params["since"] = _timestamp(self.since, "--since")
        if self.until is not None:
            clauses.append("b.tstamp < :until")
            params["until"] = _timestamp(self.until, "--until")
        return (" where " + " and ".join(clauses)) if clauses else "", params


def with_condition(where: str, condition: str) -> str:
    """A ``BattleFilter.where`` clause (which may be empty) with one more condition."""
    return f"{where} and {condition}" if where else f" where {condition}"


HUMAN_JUDGES = f"(b.judge is null or (b.judge not like '{AUTO_PREFIX}%' and b.judge not like '{NAMED_PREFIX}%'))"
"""The votes of people judging blind: every judge but the automatic ones (``arena autojudge`` stores
``auto:LABEL``) and votes cast with the names in view (``arena play --named`` stores ``named:JUDGE``)."""


def _timestamp(text: str, option: str) -> float:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ArenaError(f"{option} {text!r}: expected a date like 2026-11-23 or 2026-11-23T14:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


_BATTLES = """
select
  b.id, b.uid, b.session, b.tstamp, b.created, b.judge, b.verdict, b.vote_s, b.extra_json, b.note,
  b.shown_probability,
  b.left_contestant, b.right_contestant, b.left_generation, b.right_generation,
  b.prompt as prompt_id, p.[set] as prompt_set, p.category, p.text as prompt_text,
  gl.output as left_output, gr.output as right_output,
  gl.messages_json as left_messages_json, gr.messages_json as right_messages_json,
  gl.params_json as params_json,
  gl.finish_reason as left_finish_reason, gr.finish_reason as right_finish_reason,
  gl.n_tokens as left_n_tokens, gr.n_tokens as right_n_tokens
from battles b
left join prompts p on p.id = b.prompt
left join generations gl on gl.id = b.left_generation
left join generations gr on gr.id = b.right_generation
"""


class BattleRow(TypedDict):
    """One battle as ``battle_rows`` reads it (the columns of ``_BATTLES`` plus flags and reasons): typed, so
    a renamed column is a type error in every consumer (exports, FastChat, the ratings), not a KeyError."""

    id: int
    uid: str | None
    session: int | None
    tstamp: float | None
    created: str | None
    judge: str | None
    verdict: Verdict
    vote_s: float | None
    shown_probability: float | None
    """The chance the session showed this battle (``--pairing judge-uncertain``); None: it showed every one."""
    extra_json: str | None
    note: str | None
    left_contestant: str
    right_contestant: str
    left_generation: int | None
    right_generation: int | None
    prompt_id: str
    prompt_set: str | None
    category: str | None
    prompt_text: str | None
    left_output: str | None
    right_output: str | None
    left_messages_json: str | None
    right_messages_json: str | None
    params_json: str | None
    left_finish_reason: str | None
    right_finish_reason: str | None
    left_n_tokens: int | None
    right_n_tokens: int | None
    left_flags: list[str]
    right_flags: list[str]
    left_reasons: list[str]
    right_reasons: list[str]


EXPORT_CHUNK = 5000
"""Battles read at a time by ``battle_rows``: an export of 1,000,000 battles held every row and its texts
at once (1.9 GB); a chunk at a time it holds one chunk."""


def battle_rows(store: Store, battle_filter: BattleFilter | None = None) -> Iterator[BattleRow]:
    """Battles in vote order, each with its prompt, both outputs and both generations' hit flags, read a
    chunk (``EXPORT_CHUNK``) at a time: consume them while the store is open."""
    where, params = (battle_filter or BattleFilter()).where()
    reasons = _reasons(store)
    with store.cursor(_BATTLES + where + " order by b.tstamp, b.id", params) as cursor:
        names = [column[0] for column in cursor.description or ()]
        while chunk := cursor.fetchmany(EXPORT_CHUNK):
            rows = [cast(BattleRow, dict(zip(names, row, strict=True))) for row in chunk]
            generation_ids = {
                generation
                for row in rows
                for generation in (row["left_generation"], row["right_generation"])
                if generation
            }
            hits = _hit_flags(store, generation_ids)
            for row in rows:
                row["left_flags"] = hits.get(row["left_generation"] or 0, [])
                row["right_flags"] = hits.get(row["right_generation"] or 0, [])
                given = reasons.get(row["id"], {})
                row["left_reasons"] = given.get(row["left_contestant"], [])
                row["right_reasons"] = given.get(row["right_contestant"], [])
            yield from rows


_FILTERED = " from battles b left join prompts p on p.id = b.prompt"
"""What ``BattleFilter.where`` filters: the battles, with their prompts (for the set and category)."""


def _filtered_count(
    store: Store, battle_filter: BattleFilter | None, condition: str | None = None, with_clause: str = ""
) -> int:
    """How many battles the filter selects (and ``condition`` holds for; ``with_clause`` names what it uses)."""
    where, params = (battle_filter or BattleFilter()).where()
    sql = with_clause + "select count(*)" + _FILTERED + (with_condition(where, condition) if condition else where)
    return int(store.rows(sql, params)[0][0])


def battle_count(store: Store, battle_filter: BattleFilter | None = None) -> int:
    """How many battles ``battle_rows`` gives for the filter (what an export's progress counts to)."""
    return _filtered_count(store, battle_filter)


def _reasons(store: Store) -> dict[int, dict[str, list[str]]]:
    """battle -> contestant -> the reasons the judge tagged (sorted): few, read once for every battle."""
    found: dict[int, dict[str, list[str]]] = {}
    for battle, contestant, reason in store.rows(
        "select battle, contestant, reason from battle_reasons order by battle, contestant, reason"
    ):
        found.setdefault(battle, {}).setdefault(contestant, []).append(reason)
    return found


def reason_counts(store: Store) -> dict[str, dict[str, int]]:
    """contestant -> reason -> how many battles a judge tagged it with (every session)."""
    counts: dict[str, dict[str, int]] = {}
    for contestant, reason, number in store.rows(
        "select contestant, reason, count(*) from battle_reasons "
        "group by contestant, reason order by contestant, reason"
    ):
        counts.setdefault(contestant, {})[reason] = number
    return counts


def _hit_flags(store: Store, generation_ids: set[int]) -> dict[int, list[str]]:
    if not generation_ids:
        return {}
    hits: dict[int, list[str]] = {}
    placeholders = ",".join("?" for _ in generation_ids)
    for row in store.query(
        f"select generation, name from flags where hit = 1 and generation in ({placeholders}) order by name",
        sorted(generation_ids),
    ):
        hits.setdefault(row["generation"], []).append(row["name"])
    return hits


def decode_json(text: str | None, default: Any) -> Any:
    """A stored JSON column, or ``default`` where it is empty or not JSON (a merged file may hold anything)."""
    if not text:
        return default
    try:
        return json.loads(text)
    except (ValueError, TypeError, RecursionError):
        return default


def message_list(text: str | None) -> list[dict[str, Any]]:
    """A stored ``messages_json`` as a list of message objects; what is not one (``42``, garbage) is none."""
    found = decode_json(text, [])
    return [m for m in found if isinstance(m, dict)] if isinstance(found, list) else []


def stored_messages(text: str | None) -> list[Message]:
    """A stored ``messages_json`` as chat messages with valid text (a role or content that is not text is
    written as text: stored rows may come from another machine)."""
    return [
        {"role": str(m.get("role")), "content": valid_text(str(m.get("content") or ""))} for m in message_list(text)
    ]


def latest_batch_session(store: Store) -> int | None:
    """The newest ``arena batch`` session that stored something, the default subject of ``arena report``
    (a batch killed before its first answer leaves an empty session behind)."""
    rows = store.query(
        "select max(s.id) as id from sessions s where s.kind = 'batch' "
        "and exists (select 1 from generations g where g.session = s.id)"
    )
    return rows[0]["id"] if rows and rows[0]["id"] is not None else None


class ReportGeneration(NamedTuple):
    """What the vibe check reads of one generation, with its checks (flag or constraint name -> hit)."""

    id: int
    contestant: str
    prompt: str
    finish_reason: str
    tokens_per_s: float | None
    peak_mem_bytes: int | None
    checks: dict[str, bool] | None
    """None where no flag was stored for it (an imported answer)."""


def report_generations(store: Store, session: int | None) -> list[ReportGeneration]:
    """Generations in id order with their speed, memory and checks; ``session`` None means every session."""
    where, params = ("where g.session = ?", [session]) if session is not None else ("", [])
    rows = store.rows(
        f"select g.id, g.contestant, g.prompt, g.finish_reason, g.tokens_per_s, g.peak_mem_bytes "
        f"from generations g {where} order by g.id",
        params,
    )
    checks = _checks_by_generation(store, where, params)
    return [
        ReportGeneration(int(id_), str(contestant), str(prompt), str(reason), speed, memory, checks.get(id_))
        for id_, contestant, prompt, reason, speed, memory in rows
    ]


def _checks_by_generation(store: Store, where: str, params: list[Any]) -> dict[int, dict[str, bool]]:
    """Each generation's flags as name -> hit, for the generations ``where`` selects (alias ``g``)."""
    flags = store.query(
        f"select f.generation, f.name, f.hit from flags f join generations g on g.id = f.generation {where}",
        params,
    )
    by_generation: dict[int, dict[str, bool]] = {}
    for flag in flags:
        by_generation.setdefault(flag["generation"], {})[flag["name"]] = bool(flag["hit"])
    return by_generation


class SessionAnswer(NamedTuple):
    """One answer of a session, with its checks (name -> hit): what ``arena report --compare`` compares."""

    id: int
    contestant: str
    prompt: str
    output: str
    finish_reason: str
    sample: int | None
    checks: dict[str, bool]


def session_answers(store: Store, session: int) -> list[SessionAnswer]:
    """A session's answers in id order (regenerated ones left out)."""
    rows = store.rows(
        "select id, contestant, prompt, output, finish_reason, sample from generations "
        "where session = ? and (discarded is null or discarded = 0) order by id",
        [session],
    )
    by_generation = _checks_by_generation(store, "where g.session = ?", [session])
    return [
        SessionAnswer(
            int(id_), str(contestant), str(prompt), str(output or ""), str(reason), sample, by_generation.get(id_, {})
        )
        for id_, contestant, prompt, output, reason, sample in rows
    ]


def voted_categories(store: Store) -> list[str]:
    """The prompt categories that have votes (skips and taken-back votes aside), in name order."""
    rows = store.rows(
        "select distinct p.category from battles b join prompts p on p.id = b.prompt "
        f"where b.verdict != 'skip' and b.taken_back_at is null and p.category is not null and {HUMAN_JUDGES} "
        "order by p.category"
    )
    return [str(row[0]) for row in rows]


def session_exists(store: Store, session: int) -> bool:
    return bool(store.rows("select 1 from sessions where id = ?", [session]))


def session_contestants(store: Store, session: int) -> list[str]:
    """The labels a batch session was given, in ``--model`` order (empty for sessions that do not record
    them by label)."""
    rows = store.rows("select settings_json from sessions where id = ?", [session])
    return SessionSettings.from_json(rows[0][0]).labels if rows else []


class FidelityMeasure(NamedTuple):
    """One ``arena fidelity`` measurement: agreement with the reference's first choice, mean KL, tokens."""

    contestant: str
    reference: str
    top1_agreement: float
    mean_kld: float
    tokens: int


def latest_fidelity(store: Store, reference: str | None = None) -> dict[str, FidelityMeasure]:
    """Each contestant's newest ``arena fidelity`` measurement (against ``reference``, or any), by label; a
    row whose numbers are not numbers (a merged file may hold anything) is left out."""
    where, params = ("where reference = ?", [reference]) if reference is not None else ("", [])
    rows = store.rows(
        f"select contestant, reference, top1_agreement, mean_kld, tokens from fidelity {where} order by id", params
    )
    found = {}
    for contestant, measured_against, top1, kld, tokens in rows:  # later rows replace earlier ones
        try:
            found[str(contestant)] = FidelityMeasure(
                str(contestant), str(measured_against), float(top1), float(kld), int(tokens)
            )
        except (TypeError, ValueError, OverflowError):
            found.pop(str(contestant), None)
    return found


class JudgeVoteRow(NamedTuple):
    """Who voted what on which prompt and pair (``arena judges``)."""

    judge: str | None
    prompt: str
    left: str
    right: str
    verdict: str
    answers: frozenset[int] | None = None
    """The two stored answers' generation ids (None for a vote imported without its answers)."""


def judge_votes(store: Store, battle_filter: BattleFilter | None = None) -> list[JudgeVoteRow]:
    """Each vote's judge, prompt, sides and verdict, oldest first, filtered like the leaderboard's battles."""
    where, params = (battle_filter or BattleFilter()).where()
    rows = store.rows(
        "select b.judge, b.prompt, b.left_contestant, b.right_contestant, b.verdict, b.left_generation, "
        "b.right_generation" + _FILTERED + where + " order by b.tstamp, b.id",
        params,
    )
    return [
        JudgeVoteRow(judge, prompt, left, right, verdict, None if a is None or b is None else frozenset((a, b)))
        for judge, prompt, left, right, verdict, a, b in rows
    ]


VoteTuple = tuple[str, str, str, str]
"""(left, right, verdict, prompt) of one vote: what the ratings read (``analysis.ratings.VoteColumns``)."""

_VOTE_SQL = (
    "select b.left_contestant, b.right_contestant, b.verdict, b.prompt{extra}"
    + _FILTERED
    + "{where} order by b.tstamp, b.id"
)


def vote_rows(store: Store, battle_filter: BattleFilter | None = None) -> list[VoteTuple]:
    """What the ratings need of each battle, oldest first: four short texts (no prompt texts, messages,
    flags or generation ids), so a board over 100,000 battles reads them in a tenth of a second."""
    where, params = (battle_filter or BattleFilter()).where()
    return store.rows(_VOTE_SQL.format(extra="", where=where), params)


_FINITE = "(typeof({column}) in ('integer', 'real') and {column} > -9e999 and {column} < 9e999)"
"""A stored value that is a finite number (a merged file may hold text or infinities there; 9e999 is
SQLite's infinity)."""
_ANSWERED = "(b.left_generation is not null or b.right_generation is not null)"
_STYLE_STORED = " and ".join(_FINITE.format(column=f"b.{column}") for column in STYLE_COLUMNS[1:])
"""A vote whose words, headers, lists and bold differences are stored (the token length may be missing)."""


def styled_vote_rows(
    store: Store, battle_filter: BattleFilter | None = None, *, with_ids: bool = False
) -> list[tuple[Any, ...]]:
    """``vote_rows`` with, after the four texts, each vote's stored style differences
    (``migrations.STYLE_COLUMNS``): 0 for a vote without any answer (two empty texts differ in nothing),
    NULL where the stored value is not a finite number (nothing stored: see ``style_from_texts``);
    ``with_ids``: and each vote's id last."""
    where, params = (battle_filter or BattleFilter()).where()
    extra = "".join(
        f", case when not {_ANSWERED} then 0.0 when {_FINITE.format(column=f'b.{column}')} then b.{column} end"
        for column in STYLE_COLUMNS
    )
    return store.rows(_VOTE_SQL.format(extra=extra + (", b.id" if with_ids else ""), where=where), params)


def leaked_vote_count(store: Store, battle_filter: BattleFilter | None = None) -> int:
    """Votes (skips aside) the filter selects where either answer named itself (the ``identity`` flag):
    the judge was not blind. One look at the flags where no answer did, the usual case."""
    if not store.rows("select 1 from flags where name = 'identity' and hit = 1 limit 1"):
        return 0
    return _filtered_count(
        store,
        replace(battle_filter or BattleFilter(), include_skips=False),
        "(b.left_generation in (select generation from leaks) or b.right_generation in (select generation from leaks))",
        with_clause="with leaks(generation) as (select generation from flags where name = 'identity' and hit = 1) ",
    )


def style_from_texts(
    store: Store, battle_filter: BattleFilter | None = None, *, missing_only: bool = True
) -> dict[int, tuple[float | None, ...]]:
    """The style differences of the votes the filter selects that have an answer but no stored differences
    (imports and rows older than the counts; with ``missing_only`` off, of every vote with an answer),
    counted from their two answers' texts, by vote id: (tokens or
    None, words, headers, list items, bold), as ``migrations.STYLE_COLUMNS`` holds them. Length is the whole
    answer's, as the stored counts have it (``flags.count``), so both ways give the same numbers; tokens only
    where both answers have a token count."""
    store.check_tables(["generations"])
    where, params = (battle_filter or BattleFilter()).where()
    from arena.analysis.flags.text import words  # noqa: PLC0415  # the slow path only
    from arena.analysis.style_counts import markdown_counts, style_difference  # noqa: PLC0415

    rows = store.rows(
        "select b.id, gl.output, gr.output, gl.n_tokens, gr.n_tokens"
        + _FILTERED
        + " left join generations gl on gl.id = b.left_generation"
        + " left join generations gr on gr.id = b.right_generation"
        + with_condition(where, f"{_ANSWERED} and not ({_STYLE_STORED})" if missing_only else _ANSWERED),
        params,
    )
    found: dict[int, tuple[float | None, ...]] = {}
    for battle, left_text, right_text, left_tokens, right_tokens in rows:
        left = (float(len(words(left_text or ""))), *markdown_counts(left_text))
        right = (float(len(words(right_text or ""))), *markdown_counts(right_text))
        tokens = style_difference(float(left_tokens), float(right_tokens)) if left_tokens and right_tokens else None
        found[battle] = (tokens, *(style_difference(a, b) for a, b in zip(left, right, strict=True)))
    return found


def last_play_session(store: Store, judge: str | None) -> tuple[int, SessionSettings] | None:
    """The judge's newest ``arena play`` session and its settings (None when they have none)."""
    rows = store.rows(
        "select id, settings_json from sessions where kind = 'play' and judge is ? order by id desc limit 1", [judge]
    )
    if not rows:
        return None
    return int(rows[0][0]), SessionSettings.from_json(rows[0][1])


def judged_prompts(store: Store, session: int) -> tuple[set[str], int]:
    """The prompts a session has a vote on (skips included: the judge has seen them), and its battle count."""
    rows = store.rows("select prompt, taken_back_at from battles where session = ?", [session])
    return {prompt for prompt, taken_back in rows if taken_back is None}, len(rows)


def battle_counts(store: Store) -> dict[frozenset[str], int]:
    """How often each unordered pair of contestants has met before people (skips included: they cost a
    prompt; an automatic judge's verdicts do not: pairing serves the humans)."""
    counts: dict[frozenset[str], int] = {}
    for row in store.query(
        "select b.left_contestant as first, b.right_contestant as second, count(*) as n from battles b "
        f"where {HUMAN_JUDGES} group by first, second"
    ):
        pair = frozenset((row["first"], row["second"]))
        counts[pair] = counts.get(pair, 0) + int(row["n"])
    return counts


def has_votes(store: Store, battle_filter: BattleFilter | None = None) -> bool:
    """Whether the filter selects any vote (a cheap check before any rating is fitted: it stops at the
    first)."""
    where, params = (battle_filter or BattleFilter()).where()
    rows = store.rows("select exists(select 1" + _FILTERED + where + ")", params)
    return bool(rows[0][0])


def auto_vote_count(store: Store) -> int:
    """Verdicts of automatic judges (``auto:LABEL``) that count (skips and taken-back ones aside)."""
    rows = store.rows(
        f"select count(*) from battles where judge like '{AUTO_PREFIX}%' and taken_back_at is null "
        "and verdict != 'skip'"
    )
    return int(rows[0][0])


def drawn_vote_count(store: Store, battle_filter: BattleFilter | None = None) -> int:
    """Counting votes the filter selects that a session showed with a chance below 1 (``--pairing
    judge-uncertain``): the battles an automatic judge was unsure of are over-represented among them."""
    return _filtered_count(
        store, replace(battle_filter or BattleFilter(), include_skips=False), "b.shown_probability < 1"
    )


def auto_judges(store: Store) -> list[str]:
    """The automatic judges with counting verdicts, by name."""
    rows = store.rows(
        f"select distinct judge from battles where judge like '{AUTO_PREFIX}%' and taken_back_at is null "
        "and verdict != 'skip' order by judge"
    )
    return [str(row[0]) for row in rows]


def integrity(store: Store) -> str:
    """SQLite's full integrity check: "ok", or the first problems it lists (for ``arena doctor``)."""
    problems = [row["integrity_check"] for row in store.query("PRAGMA integrity_check(5)")]
    return "ok" if problems == ["ok"] else "; ".join(problems)


def table_counts(store: Store) -> dict[str, int]:
    names = ("contestants", "prompts", "sessions", "generations", "flags", "battles", "battle_reasons", "fidelity")
    return {name: int(store.query(f"select count(*) as n from {name}")[0]["n"]) for name in names}
