"""A separate process that judges in the real app (headless) and is killed by the test mid-stream.

Usage: python -m tests.support.tui_voter WORKDIR VOTES
Prints "VOTED n" once n votes are stored, then keeps streaming a long answer until killed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.support.tui_helpers import make_app, wait_for


async def main(workdir: Path, votes: int) -> None:
    long_answer = "word " * 5000
    steady = {"t/one": "One.", "t/two": "Two.", "t/three": long_answer}
    loopy = {"t/one": "Uno.", "t/two": "Dos.", "t/three": long_answer}
    app = make_app(workdir, steady, loopy, tps=300)
    async with app.run_test(size=(120, 40)) as pilot:
        for number in range(votes):
            await wait_for(pilot, lambda: app.session.current is not None and app.session.current.both_done, 60)
            await pilot.press("a" if number % 2 else "b")
            await pilot.press("n")
        print(f"VOTED {votes}", flush=True)
        await wait_for(pilot, lambda: False, timeout=600)  # stream until the test kills this process


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
