"""What ``arena serve`` lets in (``arena.web.guard``): a web page must not drive a judge's session.

The rules on their own (hosts, origins, sizes, message shapes, one-line logs), then a real ``arena serve``
process attacked the ways the hostile review did: a socket from another page's Origin or none, a foreign
Host, a plain GET on the socket's path, a huge terminal, malformed messages. Nothing may start a judge's
process that should not, and the operator's terminal gets one line per refusal, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import sys
from pathlib import Path

import pytest

from arena.web.guard import (
    COLUMNS,
    ROWS,
    Focus,
    OneLine,
    Origins,
    Ping,
    Resize,
    Stdin,
    query_size,
    read_envelope,
    screen_size,
)
from tests.support.browser import judge_processes, serving, wait_until

ANSWERS = {"t/one": "Tides come from the Moon.", "t/two": "Four.", "t/three": "Roses are red."}
OTHER = {"t/one": "The sea moves.", "t/two": "2 + 2 = 4.", "t/three": "A poem, short."}

LOCAL = Origins.of("http://127.0.0.1:8000", "127.0.0.1", 8000, "arena-box")


@pytest.mark.parametrize("origin", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"])
def test_the_arenas_own_page_may_open_a_socket(origin: str) -> None:
    assert LOCAL.origin_allowed(origin)


@pytest.mark.parametrize(
    "origin",
    [
        None,  # not a browser on our page
        "",
        "null",  # a sandboxed frame, a file:// page
        "http://evil.example",
        "http://evil.example:8000",  # DNS rebinding: same port, foreign name
        "http://127.0.0.1:8001",  # another service on this machine
        "http://127.0.0.1",  # port 80, not ours
        "ws://127.0.0.1:8000",
        "http://127.0.0.1:8000/path",
        "http://user@127.0.0.1:8000",
        "http://127.0.0.1:99999",
        "http://[::1",
        "http://arena-box:8000",  # the machine's name, but the arena listens on loopback only
    ],
)
def test_any_other_page_may_not(origin: str | None) -> None:
    assert not LOCAL.origin_allowed(origin)


def test_hosts_follow_where_the_arena_listens_and_its_public_url() -> None:
    assert LOCAL.host_allowed("127.0.0.1:8000") and LOCAL.host_allowed("LOCALHOST:8000")
    for foreign in (None, "", "evil.example:8000", "127.0.0.1", "127.0.0.1:8001", "a b", "127.0.0.1:8000/x"):
        assert not LOCAL.host_allowed(foreign), foreign
    everywhere = Origins.of("http://arena-box:8000", "0.0.0.0", 8000, "arena-box")
    assert everywhere.host_allowed("arena-box:8000") and everywhere.host_allowed("127.0.0.1:8000")
    assert everywhere.origin_allowed("http://arena-box:8000") and not everywhere.origin_allowed("http://evil:8000")
    proxied = Origins.of("https://arena.example.org", "127.0.0.1", 8000, "arena-box")
    assert proxied.host_allowed("arena.example.org") and proxied.origin_allowed("https://arena.example.org")
    assert not proxied.origin_allowed("https://arena.example.org.evil.example")


def test_terminal_sizes_are_clamped_to_what_a_screen_shows() -> None:
    assert screen_size(30000, 30000) == (COLUMNS[1], ROWS[1])
    assert screen_size(-5, -5) == (COLUMNS[0], ROWS[0])
    assert screen_size(120, 40) == (120, 40)
    assert screen_size(None, None) is None and screen_size(True, 3) is None and screen_size(80.5, 24) is None
    assert query_size("20000", "20000") == (COLUMNS[1], ROWS[1])
    assert query_size("wide", "24") == (80, 24) and query_size(None, None) == (80, 24)


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"stdin": "a"}',
        "[]",
        '["stdin", 5]',
        '["stdin", "\\ud800"]',
        '["resize", {}]',
        '["resize", {"width": null, "height": null}]',
        '["resize", {"width": true, "height": 3}]',
        '["resize", [80, 24]]',
        '["launch", "rm -rf /"]',
        '["ping", "' + "x" * 200 + '"]',
        '["blur", 1]',
        "[" * 100_000 + "]" * 100_000,
        '["stdin", "' + "a" * 70_000 + '"]',
    ],
)
def test_a_message_the_page_never_sends_is_malformed(text: str) -> None:
    assert read_envelope(text) == "malformed"


def test_the_pages_own_messages_are_read() -> None:
    assert read_envelope('["stdin", "alice\\r"]') == Stdin(b"alice\r")
    assert read_envelope('["resize", {"width": 30000, "height": -3}]') == Resize(COLUMNS[1], ROWS[0])
    assert read_envelope('["resize", {"width": 100, "height": 30}]') == Resize(100, 30)
    assert read_envelope('["ping", "1700000000"]') == Ping("1700000000")
    assert read_envelope('["focus"]') == Focus(True) and read_envelope('["blur"]') == Focus(False)


def test_a_log_record_with_a_traceback_becomes_one_visible_line() -> None:
    try:
        raise ValueError("bad \x1b[31mrequest\nsecond line")
    except ValueError:
        record = logging.LogRecord(
            "aiohttp.server", logging.ERROR, __file__, 1, "Error handling %s", ("x",), sys.exc_info()
        )
    assert OneLine().filter(record)
    line = record.getMessage()
    assert record.exc_info is None and "\n" not in line and "\x1b" not in line
    assert line.startswith("Error handling x: ValueError: bad") and "\\x1b" in line


# ---------------------------------------------------------------- a real arena serve, attacked


MALFORMED_HTTP = {
    "HTTP/9.9": b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    "a header over 8190 bytes": b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",
    "a NUL in a header": b"GET / HTTP/1.1\r\nHost: x\r\nX-Nul: a\x00b\r\n\r\n",
    "Content-Length with Transfer-Encoding": (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc"
    ),
    "a control character in the User-Agent": b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: \x1b]0;owned\x07\r\n\r\n",
}


def _attack(url: str, db: Path) -> dict[str, object]:
    """What the hostile review's probes get from the server: handshake statuses, whether a judge's process
    ran after the refusals, and the close codes after malformed messages."""
    import aiohttp

    ws_url = url.replace("http", "ws") + "ws"
    origin = url.rstrip("/")
    found: dict[str, object] = {}

    async def handshake(headers: dict[str, str], query: str = "") -> int | None:
        async with aiohttp.ClientSession() as client:
            try:
                socket = await client.ws_connect(ws_url + query, headers=headers)
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status
            await socket.close()
            return 101

    async def raw_request(raw: bytes) -> bytes:
        host, port = url.split("//")[1].rstrip("/").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(raw)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(200), 10)
        writer.close()
        return answer.split(b"\r\n")[0]

    async def close_code_after(message: str) -> int | None:
        async with aiohttp.ClientSession() as client:
            socket = await client.ws_connect(ws_url, headers={"Origin": origin})
            await socket.send_str(message)
            async for _ in socket:  # the judge's screen arrives; then the server closes the socket
                pass
            return socket.close_code

    async def run() -> None:
        found["evil origin"] = await handshake({"Origin": "http://evil.example"})
        found["null origin"] = await handshake({"Origin": "null"})
        found["no origin"] = await handshake({})
        found["rebound host"] = await handshake({"Origin": "http://evil.example:1", "Host": "evil.example:1"})
        async with aiohttp.ClientSession() as client:
            async with client.get(url, headers={"Host": "evil.example"}) as response:
                found["index, foreign host"] = response.status
            for path in ("static/js/textual.js", "static/", "download/x"):  # textual-serve's other routes
                async with client.get(url + path, headers={"Host": "evil.example:1"}) as response:
                    found[f"{path}, foreign host"] = response.status
            async with client.get(url + "static/js/textual.js") as response:
                found["static, our host"] = response.status
            async with client.get(url + "ws") as response:  # curl http://127.0.0.1:8000/ws
                found["plain GET /ws"] = response.status
            async with client.get(url + "ws", headers={"Origin": origin}) as response:
                found["plain GET /ws, our origin"] = response.status
        for name, raw in MALFORMED_HTTP.items():
            found[f"http: {name}"] = await raw_request(raw)
        found["processes after the refusals"] = len(judge_processes(db))
        for name, message in (
            ("not json", "not json"),
            ("a dict", '{"a": 1}'),
            ("a surrogate", '["stdin", "\\ud800"]'),
        ):
            found[f"close after {name}"] = await asyncio.wait_for(close_code_after(message), 60)

    asyncio.run(run())
    return found


def test_a_web_page_cannot_drive_a_judge_and_bad_requests_stay_one_line(tmp_path: Path) -> None:
    with serving(tmp_path, ANSWERS, OTHER, max_judges=4) as (url, db, log_path):
        found = _attack(url, db)
        wait_until(lambda: not judge_processes(db), 30, "the malformed sessions' processes to end")
        log = log_path.read_text(errors="replace")
    assert found["evil origin"] == found["null origin"] == found["no origin"] == found["rebound host"] == 403
    assert found["index, foreign host"] == 403 and found["plain GET /ws"] == 403
    assert found["static/js/textual.js, foreign host"] == found["static/, foreign host"] == 403
    assert found["download/x, foreign host"] == 403 and found["static, our host"] == 200
    assert found["plain GET /ws, our origin"] == 400
    assert found["close after not json"] == found["close after a dict"] == found["close after a surrogate"] == 1003
    assert found["processes after the refusals"] == 0  # refused before any judge's process started
    assert all(str(found[f"http: {name}"]).startswith("b'HTTP/1.") for name in MALFORMED_HTTP), found
    assert "Traceback" not in log and "locals" not in log.lower() and "╭" not in log
    assert not any(char in log for char in "\x1b\x07\x00")  # what a client sent is shown, never obeyed
    assert log.count("refused") >= 6 and log.count("a message the arena's page never sends") == 3
    with sqlite3.connect(db) as conn:  # the malformed sessions never named a judge
        assert conn.execute("select count(*) from sessions").fetchone() == (0,)


def test_a_huge_terminal_is_clamped_before_the_judges_process_starts(tmp_path: Path) -> None:
    import aiohttp

    with serving(tmp_path, ANSWERS, OTHER) as (url, db, _log):

        async def hold_a_socket() -> dict[str, str]:
            async with aiohttp.ClientSession() as client:
                query = "?width=20000&height=20000"
                socket = await client.ws_connect(
                    url.replace("http", "ws") + "ws" + query, headers={"Origin": url.rstrip("/")}
                )
                await socket.send_str(json.dumps(["resize", {"width": 30000, "height": 30000}]))
                process = wait_until(lambda: judge_processes(db), 30, "the judge's process")
                environment = dict(
                    line.split("=", 1)
                    for line in (process[0] / "environ").read_text(errors="replace").split("\0")
                    if "=" in line
                )
                await socket.close()
                return environment

        environment = asyncio.run(hold_a_socket())
    assert (environment["COLUMNS"], environment["ROWS"]) == (str(COLUMNS[1]), str(ROWS[1]))
