"""Report precision and recall of the flag detectors on the labelled collection (tests/data/flag_cases.jsonl).

The scoring lives in ``tests.support.flag_quality``; this runner prints it as the markdown in bench/RESULTS.md.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.flag_quality import evaluate, load_cases

CASES = Path(__file__).resolve().parent.parent / "tests" / "data" / "flag_cases.jsonl"


def run() -> str:
    scores, mistakes = evaluate(load_cases(CASES))
    lines = [
        "## Flag detectors on the labelled collection (tests/data/flag_cases.jsonl)\n",
        "| detector | split | cases | precision | recall | TP | FP | FN |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in scores:
        lines.append(
            f"| {s.detector} | {s.split} | {s.cases} | {s.precision:.2f} | {s.recall:.2f} "
            f"| {s.true_positive} | {s.false_positive} | {s.false_negative} |"
        )
    lines.append("")
    lines.extend(f"- {mistake}" for mistake in mistakes)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
