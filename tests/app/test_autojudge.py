"""``arena autojudge``: an automatic judge in both orders, stored apart from the humans, and its agreement
with them beside free baselines (MT-Bench's definitions, checked against a hand computation)."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from arena.analysis.judges import Vote
from arena.analysis.stats import clustered_interval, wilson_interval
from arena.analysis.versus import LengthVote, versus_humans, versus_notes
from arena.errors import ArenaError
from arena.judging.autojudge import (
    DEFAULT_PROMPT,
    JudgeItem,
    OrderVerdict,
    ProbabilityJudge,
    combine,
    judge_messages,
    letter_tokens,
)
from arena.prompts import Prompt
from arena.store import Store, writes
from tests.support.helpers import EXAMPLES, assert_one_line_error, run
from tests.support.votes import add_votes


def lv(
    judge: str, prompt: str, left: str, right: str, verdict: str, words: tuple[int, int], **extra: Any
) -> LengthVote:
    battle = extra.pop("battle", hash((judge, prompt)) % 10_000)
    return LengthVote(Vote(judge, prompt, left, right, verdict), battle, words[0], words[1], extra.get("consistent"))


HAND = [
    lv("h1", "p1", "x", "y", "left", (10, 20)),
    lv("h1", "p2", "x", "y", "right", (30, 5)),
    lv("h1", "p3", "x", "z", "tie", (8, 8)),
    lv("h2", "p1", "y", "x", "right", (20, 10)),
    lv("h2", "p2", "x", "y", "left", (30, 5)),
    lv("auto:j", "p1", "x", "y", "left", (10, 20), consistent=True),
    lv("auto:j", "p2", "x", "y", "tie", (30, 5), consistent=False),
    lv("auto:j", "p3", "x", "z", "right", (8, 12), consistent=True),
]


def test_agreement_and_baselines_match_a_hand_computation() -> None:
    """Worked by hand (module docstring of ``arena.analysis.versus``): auto:j meets h1 and h2 on p1 (both
    agree: x wins), h1 and h2 on p2 (its tie against y and x), h1 on p3 (z against a tie): 5 comparisons, 2
    the same (S1 0.4), 2 with neither a tie, both the same (S2 1.0). h1 and h2 meet on p1 (agree) and p2
    (not): S1 = S2 = 0.5. Baselines vote on the 5 human battles: the longer answer wins h1p1 y (x won),
    h1p2 x (y won), h1p3 tie (tie), h2p1 y (x won), h2p2 x (x won): S1 2/5, S2 1/4; the left pane: S1 2/5,
    S2 2/4."""
    rows = {row.judge: row for row in versus_humans(HAND)}
    auto = rows["auto:j"]
    assert (auto.kind, auto.items, auto.comparisons, auto.decided) == ("auto", 3, 5, 2)
    assert auto.agreement_with_ties == pytest.approx(0.4) and auto.agreement == pytest.approx(1.0)
    assert auto.consistency == pytest.approx(2 / 3)
    assert auto.prefers_longer == pytest.approx(0.5)  # p1: the shorter won; p3: the longer; p2 a tie
    for human in ("h1", "h2"):
        row = rows[human]
        assert (row.kind, row.items, row.comparisons, row.decided) == ("human", 2, 2, 2)
        assert row.agreement == pytest.approx(0.5) and row.agreement_with_ties == pytest.approx(0.5)
    longest, left = rows["baseline:longest"], rows["baseline:left"]
    assert (longest.comparisons, longest.decided) == (5, 4)
    assert longest.agreement_with_ties == pytest.approx(0.4) and longest.agreement == pytest.approx(0.25)
    assert left.agreement_with_ties == pytest.approx(0.4) and left.agreement == pytest.approx(0.5)
    # 95% intervals cluster the comparisons by item: auto:j's two decided ones share item p1 (one cluster)
    assert (auto.agreement_low, auto.agreement_high) == pytest.approx(wilson_interval(2, 2))
    assert (rows["h1"].agreement_low, rows["h1"].agreement_high) == pytest.approx(wilson_interval(1, 2))
    assert (longest.agreement_low, longest.agreement_high) == pytest.approx(clustered_interval([(0, 2), (1, 2)]))
    assert (longest.agreement_high or 0) - (longest.agreement_low or 0) > 0
    coin = rows["baseline:random"]
    assert coin.comparisons == 5 and coin.agreement is not None
    assert list(rows) == ["auto:j", "h1", "h2", "baseline:longest", "baseline:left", "baseline:random"]


def test_kappa_is_one_for_full_agreement_and_notes_say_when_a_judge_is_no_better_than_free() -> None:
    same = [
        lv("h1", "p1", "x", "y", "left", (1, 2)),
        lv("h1", "p2", "x", "y", "right", (1, 2)),
        lv("auto:j", "p1", "y", "x", "right", (2, 1)),
        lv("auto:j", "p2", "y", "x", "left", (2, 1)),
    ]
    rows = {row.judge: row for row in versus_humans(same)}
    assert rows["auto:j"].kappa == pytest.approx(1.0) and rows["auto:j"].agreement == 1.0
    notes = versus_notes(list(rows.values()))
    assert any("only 2 decided comparisons" in note for note in notes)
    worse = [*same[:2], lv("auto:k", "p1", "x", "y", "right", (1, 2)), lv("auto:k", "p2", "x", "y", "left", (1, 2))]
    notes = versus_notes(versus_humans(worse))
    assert any(note.startswith("auto:k: agrees with the humans no more than baseline:") for note in notes)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("A", "B", ("left", True)),
        ("B", "A", ("right", True)),
        ("C", "C", ("tie", True)),
        ("A", "A", ("tie", False)),  # always the first position: position bias, not a verdict
        ("B", "B", ("tie", False)),
        ("C", "A", ("tie", False)),
        ("A", "C", ("tie", False)),
    ],
)
def test_a_winner_only_where_both_orders_agree(first: str, second: str, expected: tuple[str, bool]) -> None:
    assert combine(OrderVerdict(first), OrderVerdict(second)) == expected  # type: ignore[arg-type]


def item(left_messages: Sequence[dict[str, str]] | None = None) -> JudgeItem:
    messages = left_messages or [{"role": "user", "content": "Name a colour."}]
    return JudgeItem(
        prompt="t/colour",
        left_label="secret-left-label",
        right_label="secret-right-label",
        left_generation=1,
        right_generation=2,
        left_messages=messages,  # type: ignore[arg-type]
        right_messages=messages,  # type: ignore[arg-type]
        left_answer="Blue. {answer_b} stays text.",
        right_answer="Red.",
    )


def test_the_judge_prompt_swaps_the_answers_and_never_names_the_contestants() -> None:
    first = judge_messages(DEFAULT_PROMPT, item(), left_first=True, verdict_format="letter")[0]["content"]
    second = judge_messages(DEFAULT_PROMPT, item(), left_first=False, verdict_format="letter")[0]["content"]
    assert first.index("Blue.") < first.index("Red.") and second.index("Red.") < second.index("Blue.")
    assert "{answer_b} stays text." in first  # an answer's braces are not a placeholder
    assert "secret" not in first + second
    assert "Name a colour." in first and "one letter" in first
    thread = [
        {"role": "user", "content": "Name a colour."},
        {"role": "assistant", "content": "Green."},
        {"role": "user", "content": "Another one?"},
    ]
    turned = judge_messages(DEFAULT_PROMPT, item(thread), left_first=True, verdict_format="brackets")[0]["content"]
    assert "Assistant: Green." in turned and "User: Another one?" in turned and "[[A]]" in turned


def test_letter_tokens_and_a_vocabulary_without_them_is_refused() -> None:
    assert letter_tokens(["A", "ĠA", "▁B", " C", "AB", "a"]) == {"A": [0, 1], "B": [2], "C": [3]}

    class NoLetters:
        def prompt_token_ids(self, messages: object) -> list[int]:
            return [0]

        def vocabulary(self) -> list[str]:
            return ["x", "y", "ĠA"]

        def next_token_logprobs(self, prompt: object, continuation: object) -> list[list[float]]:
            return [[0.0, 0.0, 0.0]]

    with pytest.raises(ArenaError, match="no token for B"):
        ProbabilityJudge(NoLetters())  # type: ignore[arg-type]


def _votes_db(path: Path) -> Path:
    """Two contestants' stored answers on three prompts, voted by a person (x wins twice, y once)."""
    prompts = [Prompt(set="t", id=name, category="misc", text=f"Question {name}?") for name in ("a", "b", "c")]
    add_votes(path, [("x", "y", "left"), ("x", "y", "left"), ("x", "y", "right")], judge="ann", prompts=prompts)
    return path


def test_automatic_verdicts_are_left_out_of_the_humans_numbers(tmp_path: Path) -> None:
    db = _votes_db(tmp_path / "v.db")
    with Store(db) as store:
        session = writes.start_session(store, "autojudge", "auto:j")
        for battle_id, prompt in ((1, "t/a"), (2, "t/b"), (3, "t/c")):
            gens = store.rows("select left_generation, right_generation from battles where id = ?", [battle_id])[0]
            writes.record_battle(
                store, session=session, prompt=prompt, left_generation=gens[0], right_generation=gens[1],
                left_contestant="x", right_contestant="y", verdict="right", judge="auto:j", vote_s=1.0,
                auto=writes.AutoVerdictRow("replay:j", "v1", True, {"choice": "B"}, {"choice": "A"}),
            )  # fmt: skip
    people = json.loads(run("leaderboard", "--db", str(db), "--json", "--rounds", "0").stdout)
    assert {row["contestant"]: (row["wins"], row["losses"]) for row in people} == {"x": (2, 1), "y": (1, 2)}
    assert people[0]["judges"] == "people" and people[0]["auto_verdicts_left_out"] == 3
    auto = json.loads(run("leaderboard", "--db", str(db), "--json", "--rounds", "0", "--judge", "auto:j").stdout)
    assert {row["contestant"]: (row["wins"], row["losses"]) for row in auto} == {"x": (0, 3), "y": (3, 0)}
    assert auto[0]["judges"] == "auto:j"
    text = run("leaderboard", "--db", str(db), "--rounds", "0").stdout
    assert "votes of people only: 3 verdicts of automatic judges left out" in " ".join(text.split())
    report = json.loads(run("judges", "--db", str(db), "--json").stdout)
    assert [judge["judge"] for judge in report["judges"]] == ["ann"]  # the humans' own statistics
    versus = {row["judge"]: row for row in report["versus_humans"]}
    assert versus["auto:j"]["comparisons"] == 3 and versus["auto:j"]["agreement"] == pytest.approx(1 / 3, abs=1e-4)
    assert set(versus) == {"auto:j", "ann", "baseline:longest", "baseline:left", "baseline:random"}


def test_autojudge_refuses_what_it_cannot_do_in_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    Store(empty).close()
    spec = f"replay:{EXAMPLES / 'steady.jsonl'}"
    assert_one_line_error(run("autojudge", "--judge", spec, "--db", str(empty)), "nothing to judge")
    assert_one_line_error(run("autojudge", "--judge", spec, "--db", str(tmp_path / "none.db")), "none.db")
    db = _votes_db(tmp_path / "v.db")
    bad = tmp_path / "prompt.txt"
    bad.write_text("Judge {answer_a} please.", encoding="utf-8")
    assert_one_line_error(
        run("autojudge", "--judge", spec, "--db", str(db), "--judge-prompt", str(bad)), "no {answer_b}"
    )
    for which, said in (("999", "has no session 999"), ("1", "is an `arena play` session, not a batch")):
        assert_one_line_error(
            run("autojudge", "--judge", spec, "--db", str(db), "--batch", which), f"--batch {which}", said
        )


def test_smollm2_judges_in_both_orders_and_stores_its_verdicts_apart(tmp_path: Path, smollm2: Path) -> None:
    """The real small model as the judge (GGUF, next-token probabilities), on the pairs a person voted."""
    db = _votes_db(tmp_path / "v.db")
    result = run("autojudge", "--judge", f"gguf:{smollm2}?n_threads=2", "--label", "smol", "--db", str(db), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["judge"] == "auto:smol" and payload["failed"] == 0 and len(payload["verdicts"]) == 3
    for verdict in payload["verdicts"]:
        for order in ("left_as_a", "left_as_b"):
            shares = verdict[order]["probabilities"]
            assert math.isclose(shares["A"] + shares["B"] + shares["C"], 1.0, rel_tol=1e-6)
            assert verdict[order]["choice"] == max("ABC", key=lambda letter: shares[letter])
        expected = combine(OrderVerdict(verdict["left_as_a"]["choice"]), OrderVerdict(verdict["left_as_b"]["choice"]))
        assert (verdict["verdict"], verdict["consistent"]) == expected
    with sqlite3.connect(db) as conn:
        stored = conn.execute(
            "select b.judge, b.verdict, a.consistent, a.prompt_version, a.first_json from battles b "
            "join auto_verdicts a on a.battle = b.id order by b.id"
        ).fetchall()
    assert [row[0] for row in stored] == ["auto:smol"] * 3
    assert [row[1] for row in stored] == [verdict["verdict"] for verdict in payload["verdicts"]]
    assert all(len(row[3]) == 12 and json.loads(row[4])["probabilities"] for row in stored)
    again = run("autojudge", "--judge", f"gguf:{smollm2}?n_threads=2", "--label", "smol", "--db", str(db))
    assert again.exit_code == 0 and "judged by auto:smol already" in again.stderr
    versus = json.loads(run("judges", "--db", str(db), "--json").stdout)["versus_humans"]
    assert next(row for row in versus if row["judge"] == "auto:smol")["comparisons"] == 3


def test_a_batch_gives_every_pair_to_judge_once(tmp_path: Path) -> None:
    from arena.judging.autojudge import items_to_judge

    db = tmp_path / "b.db"
    result = run(
        "batch", "--db", str(db), "--limit", "3",
        "--model", f"replay:{EXAMPLES / 'steady.jsonl'}", "--model", f"replay:{EXAMPLES / 'loopy.jsonl'}",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with Store(db) as store:
        items, before = items_to_judge(store, judge="auto:j", batch=1)
        assert before == 0 and len(items) == 3 and len({item.pair for item in items}) == 3
        assert all(item.left_answer and item.right_answer and item.left_label != item.right_label for item in items)
        first = items[0]
        session = writes.start_session(store, "autojudge", "auto:j")
        writes.record_battle(
            store, session=session, prompt=first.prompt, left_generation=first.left_generation,
            right_generation=first.right_generation, left_contestant=first.left_label,
            right_contestant=first.right_label, verdict="tie", judge="auto:j", vote_s=0.1,
            auto=writes.AutoVerdictRow("x", "v", False, {"choice": "A"}, {"choice": "A"}),
        )  # fmt: skip
        left, before = items_to_judge(store, judge="auto:j", batch=1)
        assert before == 1 and first.pair not in {item.pair for item in left}
        assert items_to_judge(store, judge="people")[0] == []  # no person voted: nothing in the default mode


def test_merge_carries_both_orders_with_their_verdicts(tmp_path: Path) -> None:
    source = _votes_db(tmp_path / "source.db")
    with Store(source) as store:
        session = writes.start_session(store, "autojudge", "auto:j")
        writes.record_battle(
            store, session=session, prompt="t/a", left_generation=1, right_generation=2, left_contestant="x",
            right_contestant="y", verdict="left", judge="auto:j", vote_s=0.5,
            auto=writes.AutoVerdictRow("gguf:j.gguf", "abc", True, {"choice": "A"}, {"choice": "B"}),
        )  # fmt: skip
    target = _votes_db(tmp_path / "target.db")  # other uids: all of the source's battles are new here
    assert run("merge", str(source), "--into", str(target)).exit_code == 0
    with sqlite3.connect(target) as conn:
        rows = conn.execute(
            "select b.judge, b.verdict, a.judge_spec, a.first_json from auto_verdicts a join battles b on b.id = a.battle"
        ).fetchall()
    assert rows == [("auto:j", "left", "gguf:j.gguf", '{"choice": "A"}')]
    again = run("merge", str(source), "--into", str(target))
    assert again.exit_code == 0
    with sqlite3.connect(target) as conn:
        assert conn.execute("select count(*) from auto_verdicts").fetchone() == (1,)


def test_a_server_judge_is_read_from_its_bracketed_verdicts(tmp_path: Path) -> None:
    """An ``openai:`` judge writes its verdict; this one always prefers contestant x's answer, wherever it is
    shown, except on prompt c, where it forgets the verdict: that pair fails in one line and the run goes on."""
    from tests.support.engine_server import engine

    def reply(message: str) -> str:
        if "Question c?" in message:
            return "Both answers are fine, I think."
        first = message.index("[The start of assistant A's answer]")
        shown_as_a = message[first : message.index("[The end of assistant A's answer]")]
        return "A is better. [[A]]" if "x answers" in shown_as_a else "B is better. [[B]]"

    db = _votes_db(tmp_path / "v.db")
    with engine(reply=reply) as (url, log):
        result = run("autojudge", "--judge", f"openai:{url}?model=judge", "--label", "big", "--db", str(db), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["failed"] == 1 and "t/c: not judged:" in result.stderr and "holds no [[A]]" in result.stderr
    assert [(v["prompt"], v["verdict"], v["consistent"]) for v in payload["verdicts"]] == [
        ("t/a", "left", True),
        ("t/b", "left", True),
    ]  # x was on the left in both battles, and won both orders
    assert payload["verdicts"][0]["left_as_a"]["reply"] == "A is better. [[A]]"
    assert len(log.arrived) == 5  # two pairs in both orders; the failed one stops after its first order
    assert all("x answers" in message or "y answers" in message for _, message in log.arrived)
    assert not any(label in message for _, message in log.arrived for label in ("replay", "x.jsonl"))


def test_a_reply_holding_different_verdicts_is_not_taken(tmp_path: Path) -> None:
    """The hostile review's RC13: "A is clearly better: [[A]]. Note that B's answer tried to make me write
    [[B]]." was read as B (the last tag). A reply with two different tags is no verdict; the same one twice is."""
    from tests.support.engine_server import engine

    def reply(message: str) -> str:
        if "Question a?" in message:
            return "A is clearly better: [[A]]. Note that B's answer tried to make me write [[B]]."
        return "A is better. [[A]] Final verdict: [[A]]"

    db = _votes_db(tmp_path / "v.db")
    with engine(reply=reply) as (url, _log):
        result = run("autojudge", "--judge", f"openai:{url}?model=judge", "--label", "big", "--db", str(db), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["failed"] == 1 and "t/a: not judged:" in result.stderr
    assert "holds different verdicts ([[A]], [[B]])" in " ".join(result.stderr.split())
    assert {v["prompt"] for v in payload["verdicts"]} == {"t/b", "t/c"}
