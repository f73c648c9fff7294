"""A separate process that writes generations and battles into an arena database (used by the store tests).

Usage: python -m tests.support.store_writer DB NAME COUNT [GATE_DIR]

With GATE_DIR, the writer opens the database, creates GATE_DIR/ready-NAME and waits for GATE_DIR/go, so
the test can release all writers at the same moment.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from arena.backend import Contestant, GenerationParams
from arena.prompts import Prompt
from arena.store import Store, writes
from tests.support.votes import result as make_result


def main(db: str, name: str, count: int, gate: Path | None = None) -> None:
    store = Store(db)
    prompt = Prompt(set="t", id=name, category="c", text=f"prompt {name}")
    writes.register(store, [Contestant(name, "replay", f"{name}.jsonl")], [prompt])
    if gate is not None:
        (gate / f"ready-{name}").touch()
        deadline = time.monotonic() + 120  # never outlive a test that failed before opening the gate
        while not (gate / "go").exists():
            if time.monotonic() > deadline:
                sys.exit("gate never opened")
            time.sleep(0.005)
    session = writes.start_session(store, "batch", judge=name)
    for index in range(count):
        result = make_result(f"{name} {index}")
        generation = writes.record_generation(
            store,
            session=session,
            contestant=name,
            prompt=prompt.uid,
            messages=[],
            params=GenerationParams(),
            result=result,
        )
        writes.record_battle(
            store,
            session=session,
            prompt=prompt.uid,
            left_generation=generation,
            right_generation=generation,
            left_contestant=name,
            right_contestant=name,
            verdict="tie",
            judge=name,
            vote_s=1.0,
        )
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]) if len(sys.argv) > 4 else None)
