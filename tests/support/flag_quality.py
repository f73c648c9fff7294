"""Precision and recall of the repetitive, garbage and empty detectors on a labelled collection.

Owns the scoring; bench/flag_quality.py reports it and the tests guard it. The collection
(tests/data/flag_cases.jsonl) is split: thresholds were chosen looking at ``dev`` only; the held-out splits
are the honest estimate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from arena.analysis.flags import analyze

SCORED_DETECTORS = ("repetitive", "garbage", "empty")


@dataclass(frozen=True)
class Score:
    detector: str
    split: str
    true_positive: int
    false_positive: int
    false_negative: int
    cases: int

    @property
    def precision(self) -> float:
        found = self.true_positive + self.false_positive
        return self.true_positive / found if found else 1.0

    @property
    def recall(self) -> float:
        actual = self.true_positive + self.false_negative
        return self.true_positive / actual if actual else 1.0


def load_cases(path: Path) -> list[dict[str, object]]:
    """A labelled collection: one JSON object a line with ``id``, ``split``, ``text``, ``labels``."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def predictions(case: dict[str, object]) -> set[str]:
    prompt, finish_reason = case.get("prompt"), case.get("finish_reason")
    flags = analyze(
        str(case["text"]),
        prompt=prompt if isinstance(prompt, str) else None,
        finish_reason=finish_reason if isinstance(finish_reason, str) else None,
    )
    return {flag.name for flag in flags if flag.hit}


def evaluate(cases: list[dict[str, object]]) -> tuple[list[Score], list[str]]:
    """Scores per detector and split, and a line per misclassified case."""
    predicted = {str(case["id"]): predictions(case) for case in cases}
    scores, mistakes = [], []
    for split in ("dev", "heldout", "heldout2", "dev2", "all"):
        chosen = [case for case in cases if split == "all" or case["split"] == split]
        for detector in SCORED_DETECTORS:
            tp = fp = fn = 0
            for case in chosen:
                labelled = detector in case["labels"]  # type: ignore[operator]
                fired = detector in predicted[str(case["id"])]
                tp += labelled and fired
                fp += fired and not labelled
                fn += labelled and not fired
                if split == "all" and labelled != fired:
                    mistakes.append(
                        f"{case['id']} ({case['split']}): {detector} {'missed' if labelled else 'false alarm'}"
                    )
            scores.append(Score(detector, split, tp, fp, fn, len(chosen)))
    return scores, mistakes
