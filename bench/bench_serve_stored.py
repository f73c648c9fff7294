"""``arena serve --from-batch``: how soon each judge's first battle is on the page after they type their name,
and how much memory each judge's process holds, with several judges at once (issue 22: under 2 s and well
under 250 MB). The batch is SmolLM2-135M-Instruct with and without its chat template (the demo's
contestants) over the everyday prompts, generated once here. Judges connect over the websocket the way the
page does. ``python -m bench.bench_serve_stored [JUDGES]`` (default 3).
"""

from __future__ import annotations

import asyncio
import json
import os
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


def make_batch(db: Path) -> None:
    from arena.config import data_dir
    from arena.demo import demo_contestants

    contestants, _ = demo_contestants(data_dir() / "demo-models", tiny=False)
    args = [sys.executable, "-m", "arena", "batch", "--db", str(db), "--max-tokens", "120", "--limit", "6"]
    for contestant in contestants:
        args += ["--model", contestant.spec, "--label", contestant.label]
    subprocess.run(args, check=True, capture_output=True)


async def judge(base: str, name: str) -> tuple[float, float]:
    """Seconds from opening the page to the name screen (the judge's process starting), and from the
    judge's Enter to their first battle on the page."""
    import aiohttp

    async with aiohttp.ClientSession() as http:
        opened = time.monotonic()
        page = await http.ws_connect(base + "/ws?width=120&height=40", headers={"Origin": base})
        screen = bytearray()

        async def read() -> None:
            async for message in page:
                if message.type == aiohttp.WSMsgType.BINARY:
                    screen.extend(message.data)

        reader = asyncio.create_task(read())
        await page.send_str(json.dumps(["resize", {"width": 120, "height": 40}]))
        while b"Who is judging?" not in screen:
            await asyncio.sleep(0.02)
        named = time.monotonic() - opened
        await page.send_str(json.dumps(["stdin", name]))
        await asyncio.sleep(0.3)
        start = time.monotonic()
        await page.send_str(json.dumps(["stdin", "\r"]))
        while b"vote: a = A better" not in screen:
            await asyncio.sleep(0.02)
        shown = time.monotonic() - start
        await asyncio.sleep(1)
        reader.cancel()
        await page.close()
        return named, shown


def judge_rss_mib(db: Path) -> list[float]:
    sizes = []
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        if b"--ask-judge" in argv and str(db).encode() in argv:
            rss = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
            sizes.append(int(rss.split()[1]) / 1024)
    return sizes


async def main(judges: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "team.db"
        make_batch(db)
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "arena", "serve", "--from-batch", "latest", "--port", str(port),
             "--max-judges", str(judges), "--db", str(db)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            import aiohttp

            async with aiohttp.ClientSession() as http:
                for _ in range(300):
                    try:
                        async with http.get(base + "/") as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.2)
            sizes: list[float] = []

            async def sample_sizes() -> None:
                while True:
                    sizes.extend(judge_rss_mib(db))
                    await asyncio.sleep(0.5)

            sampler = asyncio.create_task(sample_sizes())
            timed = await asyncio.gather(*(judge(base, f"judge{number}") for number in range(judges)))
            sampler.cancel()
        finally:
            server.terminate()
            server.wait(timeout=30)
    names = [named for named, _ in timed]
    shown = [first for _, first in timed]
    print(
        f"{judges} judges at once: name screen {', '.join(f'{s:.2f}' for s in names)} s after the page opened; "
        f"first battle {', '.join(f'{s:.2f}' for s in shown)} s after Enter (median {statistics.median(shown):.2f} s); "
        f"judge processes at most {max(sizes):.0f} MiB resident"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3))
