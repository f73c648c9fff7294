"""The judge-assisted board through a real database (``arena leaderboard --assisted-by``, the arena's leaderboard
screen, ``arena report --html --assisted-by``): a person's vote and an automatic verdict on the same two
answers are linked, whichever sides the judge saw them on."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from arena.store import Store, writes
from tests.support.helpers import assert_one_line_error, run
from tests.support.votes import PROMPTS, result


def add_judged(
    db: Path,
    battles: list[tuple[str, str, str | None, str | None]],
    judge: str = "auto:j",
    probability: float | None = None,
) -> None:
    """(left, right, person's verdict or None, judge's verdict or None) on two stored answers each; the judge
    sees every other pair with the sides swapped, as an automatic judge's own battle may. With ``probability``
    the judge gives that probability to the answer it picks, in both orders (a probability judge)."""
    labels = sorted({b[0] for b in battles} | {b[1] for b in battles})
    with Store(db) as store:
        from arena.backend import Contestant, GenerationParams

        writes.register(store, [Contestant(label, "replay", f"{label}.jsonl") for label in labels], PROMPTS)
        people = writes.start_session(store, "play", judge="ana")
        robot = writes.start_session(store, "autojudge", judge=judge)
        for index, (left, right, human, verdict) in enumerate(battles):
            prompt = PROMPTS[index % len(PROMPTS)]
            ids = [
                writes.record_generation(
                    store,
                    session=people,
                    contestant=label,
                    prompt=prompt.uid,
                    messages=prompt.messages(),
                    params=GenerationParams(),
                    result=result(f"{label} #{index}"),
                )
                for label in (left, right)
            ]
            if human is not None:
                writes.record_battle(
                    store, session=people, prompt=prompt.uid, left_generation=ids[0], right_generation=ids[1],
                    left_contestant=left, right_contestant=right, verdict=human, judge="ana", vote_s=1.0,
                )  # fmt: skip
            if verdict is not None:
                swap = index % 2 == 1
                if swap:
                    verdict = {"left": "right", "right": "left"}.get(verdict, verdict)
                order = (1, 0) if swap else (0, 1)
                writes.record_battle(
                    store, session=robot, prompt=prompt.uid, left_generation=ids[order[0]],
                    right_generation=ids[order[1]], left_contestant=(left, right)[order[0]],
                    right_contestant=(left, right)[order[1]], verdict=verdict, judge=judge, vote_s=0.1,
                    auto=None if probability is None else _orders(verdict, probability),
                )  # fmt: skip


def _orders(verdict: str, probability: float) -> writes.AutoVerdictRow:
    """Both orders of a probability judge that gives ``probability`` to the answer it picks (left as A first)."""
    left = probability if verdict == "left" else 1 - probability
    first = {"choice": "A", "probabilities": {"A": left, "B": 1 - left, "C": 0.0}, "reply": None}
    second = {"choice": "B", "probabilities": {"A": 1 - left, "B": left, "C": 0.0}, "reply": None}
    return writes.AutoVerdictRow("gguf:judge.gguf", "v1", True, first, second)


def test_the_judges_report_card_has_calibration_and_worth(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    rng = np.random.default_rng(3)
    votes = ["left" if rng.random() < 0.7 else "right" for _ in range(200)]
    add_judged(
        db, [("strong", "weak", vote if i < 40 else None, vote) for i, vote in enumerate(votes)], probability=0.8
    )
    found = json.loads(run("judges", "--db", str(db), "--json").stdout)
    row = next(row for row in found["versus_humans"] if row["judge"] == "auto:j")
    # compared with the person who voted on the same two answers (it agrees every time), not with every vote
    # on the prompt and pair, which pools 100 different answer pairs into 2 items
    assert (row["items"], row["comparisons"], row["agreement"]) == (40, 40, 1.0)
    assert row["brier"] == pytest.approx(0.04, abs=1e-4)  # 0.8 on the answer the person also picked, every time
    assert [(b["judge"], b["humans"]) for b in row["reliability"]] == [(0.2, 0.0), (0.8, 1.0)]
    assert sum(b["battles"] for b in row["reliability"]) == 40
    assert row["effective_human_votes"] is not None and row["effective_human_votes"] > 40
    text = " ".join(run("judges", "--db", str(db)).stdout.split())
    assert "Brier" in text and "worth" in text


def test_the_assisted_board_links_people_and_judge_through_the_answers(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    rng = np.random.default_rng(0)
    battles: list[tuple[str, str, str | None, str | None]] = []
    for index in range(400):
        a, b = ("strong", "weak") if index % 3 else ("weak", "strong")
        human = "left" if (rng.random() < 0.7) == (a == "strong") else "right"
        agrees = rng.random() < 0.9
        verdict = human if agrees else ("right" if human == "left" else "left")
        battles.append((a, b, human if index < 60 else None, verdict))
    add_judged(db, battles)
    plain = json.loads(run("leaderboard", "--db", str(db), "--json", "--rounds", "200").stdout)
    found = run("leaderboard", "--db", str(db), "--json", "--rounds", "200", "--assisted-by", "auto:j")
    assert found.exit_code == 0, found.output
    rows = json.loads(found.stdout)
    assert {row["method"] for row in rows} == {"assisted"}
    first = rows[0]
    assert first["shared_battles"] == 60 and first["judge_verdicts"] == 400 and first["human_votes"] == 60
    expected = np.mean([human == verdict for _, _, human, verdict in battles[:60]])
    assert first["agreement"] == pytest.approx(expected, abs=1e-4)  # linked through the answers, either side
    assert first["judge_worth_human_votes"] > 10 and first["weight"] > 0.3  # a judge agreeing 78%: some help
    width = {row["contestant"]: row["ci_high"] - row["ci_low"] for row in rows}
    plain_width = {row["contestant"]: row["ci_high"] - row["ci_low"] for row in plain}
    assert all(width[label] < plain_width[label] for label in width)
    assert [row["contestant"] for row in rows] == ["strong", "weak"]
    text = run("leaderboard", "--db", str(db), "--rounds", "100", "--assisted-by", "auto:j").stdout
    assert "assisted by auto:j" in text and "more human votes" in " ".join(text.split())


def test_a_judge_sharing_too_few_battles_is_refused_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    add_judged(
        db, [("a", "b", "left", "left")] * 5 + [("a", "b", None, "right")] * 50 + [("a", "b", "right", None)] * 20
    )
    assert_one_line_error(run("leaderboard", "--db", str(db), "--assisted-by", "auto:j"), "judged 5 of the battles")
    assert_one_line_error(
        run("leaderboard", "--db", str(db), "--assisted-by", "auto:nobody"), "no verdicts by auto:nobody"
    )
    assert_one_line_error(run("leaderboard", "--db", str(db), "--method", "assisted"), "--assisted-by auto:LABEL")
    assert_one_line_error(run("leaderboard", "--db", str(db), "--assisted-by", "ana"), "an automatic judge")


async def test_the_arena_leaderboard_offers_each_automatic_judges_assisted_board(tmp_path: Path) -> None:
    from arena.tui.screens.leaderboard import LeaderboardScreen
    from tests.support.tui_helpers import make_app, screen_text, wait_for

    db = tmp_path / "judged.db"
    rng = np.random.default_rng(1)
    votes = ["left" if rng.random() < 0.7 else "right" for _ in range(300)]
    add_judged(db, [("strong", "weak", vote if i < 40 else None, vote) for i, vote in enumerate(votes)])
    add_judged(db, [("strong", "weak", "left", "left")] * 3, judge="auto:tiny")  # too few shared to help
    app = make_app(tmp_path, {"t/one": "Short."}, {"t/one": "Longer."}, db=db)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.session.current is not None and app.session.current.both_done)
        await pilot.press("t")
        await pilot.press("l")
        await wait_for(
            pilot, lambda: isinstance(app.screen, LeaderboardScreen) and "s: style-controlled" in screen_text(app)
        )
        await pilot.press("s")
        await wait_for(pilot, lambda: "style-controlled; s: judge-assisted by auto:j)" in screen_text(app))
        await pilot.press("s")
        await wait_for(pilot, lambda: "judge-assisted by auto:j; s: judge-assisted by auto:tiny" in screen_text(app))
        assert "more human votes" in " ".join(screen_text(app).split())
        await pilot.press("s")
        await wait_for(pilot, lambda: "at least 20 are needed" in " ".join(screen_text(app).split()))


def test_the_html_report_adds_the_assisted_board_when_asked(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    rng = np.random.default_rng(2)
    votes = ["left" if rng.random() < 0.7 else "right" for _ in range(200)]
    add_judged(db, [("strong", "weak", vote if i < 40 else None, vote) for i, vote in enumerate(votes)])
    page = tmp_path / "r.html"
    done = run("report", "--db", str(db), "--html", str(page), "--assisted-by", "auto:j")
    assert done.exit_code == 0, done.output
    text = page.read_text(encoding="utf-8")
    assert "Assisted by an automatic judge" in text and "assisted by auto:j: 40 human votes" in text
    assert "Automatic judges against the people" in text and "baseline:longest" in text
    # one figure for what the judge is worth: its row in the judges' table reads the assisted board's fit
    (worth_in_note,) = re.findall(r"as sure as ~(\d+) human votes", text)
    (judge_row,) = re.findall(r'<tr><td class="name">auto:j</td>(.*?)</tr>', text)
    assert re.findall(r"<td>([^<]*)</td>", judge_row)[-1] == worth_in_note
    assert_one_line_error(run("report", "--db", str(db), "--assisted-by", "auto:j"), "--html FILE")
    assert_one_line_error(
        run("report", "--db", str(db), "--html", str(tmp_path / "x.html"), "--assisted-by", "auto:none"),
        "no verdicts by auto:none",
    )
    assert not (tmp_path / "x.html").exists()


def test_a_vote_and_a_verdict_on_the_same_answers_stay_one_battle_through_export_and_import(tmp_path: Path) -> None:
    """Exported as FastChat records, a person's vote and an automatic verdict on the same two answers carry the
    same conversations; imported elsewhere they attach to one pair of answers (not two copies), so the
    assisted board still links them. Importing again adds nothing."""
    source = tmp_path / "s.db"
    rng = np.random.default_rng(4)
    votes = ["left" if rng.random() < 0.7 else "right" for _ in range(120)]
    add_judged(source, [("strong", "weak", vote if i < 40 else None, vote) for i, vote in enumerate(votes)])
    people, judged = tmp_path / "people.json", tmp_path / "judge.json"
    assert run("export", "--db", str(source), "--format", "fastchat", "--out", str(people)).exit_code == 0
    exported = run("export", "--db", str(source), "--format", "fastchat", "--judge", "auto:j", "--out", str(judged))
    assert exported.exit_code == 0, exported.output
    records = json.loads(judged.read_text(encoding="utf-8"))
    assert len(records) == 120 and {r.get("judge") for r in records} == {"auto:j"}
    target = tmp_path / "t.db"
    for exported_file in (people, judged):
        done = run("import", str(exported_file), "--db", str(target))
        assert done.exit_code == 0, done.output
    with Store(target) as store:
        generations = store.rows("select count(*) from generations")[0][0]
    assert generations == 2 * 120  # one pair of answers per battle, the vote and the verdict sharing it
    board = run("leaderboard", "--db", str(target), "--json", "--rounds", "50", "--assisted-by", "auto:j")
    assert board.exit_code == 0, board.output
    assert json.loads(board.stdout)[0]["shared_battles"] == 40
    again = run("import", str(judged), "--db", str(target))
    assert again.exit_code == 0
    with Store(target) as store:
        assert store.rows("select count(*) from generations")[0][0] == generations
