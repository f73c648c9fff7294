"""The board against lmarena's ``arena-rank`` (issue 38, item 3): the library LMArena's leaderboard now runs
on computes the same ratings from what ``arena export --format arena-rank`` writes.

Both fit Bradley-Terry on a 400-point, base-10 scale centred on 1000 with a tie as half a win to each side
(``both_bad`` too); the arena adds a Gaussian prior on the log-strengths so weak as to move nothing here
(sd 1000 points). The battles are imported the way a user's would be (FastChat JSONL), so the path from a
file to the board is the one tested.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from tests.support.helpers import run

TRUE_RATINGS = {"base": 1000.0, "tuned": 1060.0, "q8": 1050.0, "q4": 990.0, "q2": 880.0}


def simulated_battles(count: int, seed: int) -> list[dict[str, object]]:
    """``count`` battles over 120 prompts between contestants of ``TRUE_RATINGS``: a quarter of the
    non-decisive outcomes are ties, some both bad."""
    rng = random.Random(seed)
    labels = sorted(TRUE_RATINGS)
    battles = []
    for index in range(count):
        a, b = rng.sample(labels, 2)
        p_a = 1 / (1 + 10 ** ((TRUE_RATINGS[b] - TRUE_RATINGS[a]) / 400))
        draw = rng.random()
        winner = (
            "tie"
            if draw < 0.15
            else "tie (bothbad)"
            if draw < 0.2
            else ("model_a" if rng.random() < p_a else "model_b")
        )
        battles.append({"question_id": f"p{index % 120}", "model_a": a, "model_b": b, "winner": winner,
                        "tstamp": 1_700_000_000 + index})  # fmt: skip
    return battles


def test_arena_rank_computes_the_same_board_from_the_export(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas", reason="needs arena-rank: pip install -e '.[test]'")
    pytest.importorskip("arena_rank", reason="needs arena-rank: pip install -e '.[test]'")
    from arena_rank.models.bradley_terry import BradleyTerry
    from arena_rank.utils.data_utils import PairDataset

    source = tmp_path / "battles.jsonl"
    source.write_text("".join(json.dumps(b) + "\n" for b in simulated_battles(3000, seed=5)), encoding="utf-8")
    db = tmp_path / "rank.db"
    assert run("import", str(source), "--db", str(db)).exit_code == 0
    board = json.loads(run("leaderboard", "--db", str(db), "--json", "--rounds", "0").stdout)
    ours = {entry["contestant"]: entry["rating"] for entry in board}

    exported = tmp_path / "pairs.jsonl"
    assert run("export", "--format", "arena-rank", "--out", str(exported), "--db", str(db)).exit_code == 0
    frame = pd.read_json(exported, lines=True)
    assert len(frame) == 3000 and set(frame["winner"]) == {"model_a", "model_b", "tie", "both_bad"}
    dataset = PairDataset.from_pandas(frame)
    model = BradleyTerry(n_competitors=len(dataset.competitors))
    theirs = dict(zip(dataset.competitors, model.compute_ratings_and_cis(dataset)["ratings"].tolist(), strict=True))

    assert set(theirs) == set(ours) == set(TRUE_RATINGS)
    worst = max(abs(ours[label] - theirs[label]) for label in ours)
    assert worst < 1.0, (ours, theirs)  # the same board, to within a rating point
    assert math.isclose(sum(theirs.values()) / len(theirs), 1000.0, abs_tol=0.5)
    order = sorted(ours, key=ours.__getitem__)
    assert order[0] == "q2" and set(order[-2:]) == {"tuned", "q8"}  # and the data said what was put in
