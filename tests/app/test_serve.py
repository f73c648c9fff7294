"""``arena serve``: judges in a browser. The name screen (Pilot), the command's checks (CliRunner), and the
real thing: ``arena serve`` as a process, judged from two headless Chromium pages at once through
textual-serve, the votes read back from the SQLite file.

The browser test needs Debian's chromium and the playwright package (the test extra). Without them it is
skipped, unless ARENA_REQUIRE_BROWSER is set (``.ci/run`` sets it), where it fails instead.
"""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from textual.widgets import Input

from arena.backend import BackendError
from arena.cli import cli
from arena.judging.names import judge_name_problem
from arena.web.serve import play_command, public_url_for
from tests.support.browser import (
    CHROMIUM_FLAGS,
    chromium_or_skip,
    judge_processes,
    open_judge,
    serving,
    serving_args,
    session_of,
    vote_when_answered,
    wait_until,
)
from tests.support.helpers import EXAMPLES, assert_one_line_error, run, write_replay
from tests.support.tui_helpers import make_app, screen_text, wait_for

REPO = Path(__file__).resolve().parents[2]
ANSWERS = {"t/one": "Tides come from the Moon.", "t/two": "Four.", "t/three": "Roses are red."}
OTHER = {"t/one": "The sea moves.", "t/two": "2 + 2 = 4.", "t/three": "A poem, short."}
EXAMPLE_MODELS = ["--model", f"replay:{EXAMPLES / 'steady.jsonl'}", "--model", f"replay:{EXAMPLES / 'loopy.jsonl'}"]


# ---------------------------------------------------------------- the name screen


async def test_the_judge_names_themselves_before_any_session_is_written(tmp_path: Path) -> None:
    app = make_app(tmp_path, ANSWERS, OTHER, ask_judge=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "Who is judging?" in screen_text(app)
        assert app.opened is None
        await pilot.press("enter")  # nothing typed
        await pilot.pause()
        assert "Type a name" in screen_text(app)
        name_box = app.screen.query_one(Input)
        name_box.insert_text_at_cursor("al\u202eice")  # pasted: a direction override makes it read "alecie"
        await pilot.press("enter")
        await pilot.pause()
        assert "Printable characters only" in screen_text(app)
        assert app.opened is None
        name_box.clear()
        await pilot.press(*"alice", "enter")
        await wait_for(pilot, lambda: app.opened is not None and app.session.current is not None)
        await wait_for(pilot, lambda: app.session.current is not None and app.session.current.both_done)
        await pilot.press("a")
        await wait_for(pilot, lambda: app.session.current is not None and app.session.current.voted)
    conn = sqlite3.connect(tmp_path / "arena.db")
    assert conn.execute("select judge from sessions").fetchall() == [("alice",)]  # one session, written once named
    assert conn.execute("select count(*) from battles").fetchone() == (1,)


async def test_the_models_load_while_the_judge_types(tmp_path: Path) -> None:
    release = threading.Event()
    app = make_app(tmp_path, ANSWERS, OTHER, ask_judge=True, load_models=lambda: release.wait(30) or None)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "The models are loading" in screen_text(app)
        name_box = app.screen.query_one(Input)
        on_top, _ = app.screen.get_widget_at(name_box.region.x + 2, name_box.region.y + 1)
        assert on_top is name_box  # the box is not covered by a loading indicator while the models load
        await pilot.press(*"bob", "enter")  # named before the models are ready: held, nothing written yet
        await pilot.pause()
        assert "once the models are loaded" in screen_text(app)
        assert app.opened is None
        release.set()
        await wait_for(pilot, lambda: app.opened is not None and app.session.current is not None)
    conn = sqlite3.connect(tmp_path / "arena.db")
    assert conn.execute("select judge from sessions").fetchall() == [("bob",)]


async def test_models_that_fail_to_load_end_the_app_with_the_reason(tmp_path: Path) -> None:
    def broken() -> None:
        raise BackendError("cannot load 'x': no such file")

    app = make_app(tmp_path, ANSWERS, OTHER, ask_judge=True, load_models=broken)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.load_error is not None)
    assert app.return_code == 2 and app.load_error == "cannot load 'x': no such file"
    assert app.opened is None


def test_judge_names_are_checked() -> None:
    assert judge_name_problem("Ana María") is None
    assert judge_name_problem("   ") is not None
    assert judge_name_problem("x" * 41) is not None
    for hidden in ("a\x1b[2Jb", "a\u200bb", "a\nb", "a\tb"):
        assert judge_name_problem(hidden) is not None, hidden


def _two_replay_models(tmp_path: Path) -> list[str]:
    """``--model`` options for two replay contestants, labelled a and b."""
    steady = write_replay(tmp_path / "s.jsonl", ANSWERS)
    return ["--model", f"replay:{steady}", "--model", f"replay:{steady}", "--label", "a", "--label", "b"]


def test_the_terminal_judge_name_follows_the_same_rule(tmp_path: Path) -> None:
    models = _two_replay_models(tmp_path)
    db = tmp_path / "x.db"
    result = CliRunner().invoke(cli, ["play", *models, "--db", str(db), "--judge", "ali\u202ece"])
    assert result.exit_code == 2
    assert "Printable characters only" in result.output and "\\u202e" in result.output  # shown, not obeyed
    assert not db.exists()


# ---------------------------------------------------------------- the command's checks


def test_serve_checks_the_play_options_before_listening(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[str] = []  # a case the checks miss would start serving: recorded here instead of blocking
    monkeypatch.setattr("arena.web.serve.serve", lambda command, **_: served.append(command))
    models = _two_replay_models(tmp_path)
    runner = CliRunner()
    cases = {
        ("--judge", "bob"): "types their own name",
        ("--resume",): "continues their session anyway",
        ("--bogus",): "No such option",
        ("--prompts", str(tmp_path / "missing.toml")): "missing.toml",
        ("--temperature", "nan"): "temperature",
    }
    for extra, expected in cases.items():
        result = runner.invoke(cli, ["serve", *models, "--db", str(tmp_path / "x.db"), *extra])
        assert result.exit_code == 2, (extra, result.output)
        assert expected in result.output, (extra, result.output)
    one = runner.invoke(cli, ["serve", "--model", f"replay:{tmp_path / 's.jsonl'}", "--db", str(tmp_path / "x.db")])
    assert one.exit_code == 2 and "two contestants" in one.output
    assert served == []
    good = runner.invoke(cli, ["serve", *models, "--db", str(tmp_path / "x.db"), "--temperature", "0"])
    assert good.exit_code == 0, good.output
    assert len(served) == 1 and "--ask-judge" in served[0] and str(tmp_path / "x.db") in served[0]
    assert served[0].count("--db") == 1  # the resolved path once, not the user's spelling and then it
    assert sqlite3.connect(tmp_path / "x.db").execute("select count(*) from _migrations").fetchone()[0] > 0


def test_without_textual_serve_one_line_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)  # import fails as if not installed
    models = _two_replay_models(tmp_path)
    result = CliRunner().invoke(cli, ["serve", *models, "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2
    assert result.output == "Error: arena serve needs textual-serve: pip install 'vibe-arena[serve]'\n"
    assert not (tmp_path / "x.db").exists()  # nothing was checked, created or loaded first


def test_a_judge_starts_from_the_installed_package_beside_a_folder_named_arena(tmp_path: Path) -> None:
    """``arena serve`` run in a checkout's parent (or any folder holding ``arena/``): ``python -m arena``
    would import that folder and every judge would crash while the operator saw a normal start."""
    shadow = tmp_path / "arena"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("raise SystemExit('the folder in the working directory was imported')\n")
    (shadow / "__main__.py").write_text("raise SystemExit('the folder in the working directory was run')\n")
    command = play_command(["--help"])
    done = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: arena play") and "working directory" not in done.stderr
    naive = subprocess.run(
        [sys.executable, "-m", "arena", "play", "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert naive.returncode != 0 and "working directory was" in naive.stderr  # what the old launch did


def test_each_browser_runs_this_interpreters_play_with_every_argument_quoted() -> None:
    command = play_command(["--model", "replay:/tmp/a b.jsonl?tps=5", "--db", "/tmp/x;rm -rf ~.db"])
    assert command.startswith(f"exec {sys.executable} -c ")  # exec: the judge is the child
    assert " play --ask-judge " in command
    assert "'replay:/tmp/a b.jsonl?tps=5'" in command and "'/tmp/x;rm -rf ~.db'" in command
    assert public_url_for("127.0.0.1", 8000) == "http://127.0.0.1:8000"
    assert public_url_for("::1", 8000) == "http://[::1]:8000"
    assert public_url_for("0.0.0.0", 80) == f"http://{socket.gethostname()}:80"


# ---------------------------------------------------------------- in a real browser


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, str]]:
    """``arena serve`` with at most two judges, and the browser to judge in; (url, database, chromium)."""
    chromium = chromium_or_skip()
    with serving(tmp_path, ANSWERS, OTHER) as (url, db, _log):
        yield url, db, chromium


def test_two_judges_vote_from_browsers_into_one_file(served: tuple[str, Path, str], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    url, db, chromium = served
    screens: dict[str, bytes] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            pages = {judge: open_judge(browser, url, judge) for judge in ("alice", "bob")}  # both live at once
            sessions = {judge: session_of(db, judge) for judge in pages}
            assert len(set(sessions.values())) == 2
            for judge, key in (("alice", "a"), ("bob", "b")):
                vote_when_answered(pages[judge], db, sessions[judge], key)
                screens[judge] = pages[judge].screenshot()
            assert len(judge_processes(db)) == 2
            third = browser.new_page()  # a third judge while two are judging: --max-judges 2 turns them away
            response = third.goto(url)
            assert response is not None and response.status == 503
            assert "The arena is full: 2 judges" in third.content()
            close_code = third.evaluate(  # a socket opened anyway is refused too: 1013, try again later
                "url => new Promise(done => { const ws = new WebSocket(url); ws.onclose = e => done(e.code); })",
                url.replace("http", "ws") + "ws",
            )
            assert close_code == 1013
            third.close()

            pages["bob"].close()
            pages["alice"].close()  # alice leaves mid-session and comes back under the same name
            wait_until(lambda: not judge_processes(db), 30, "the judges' processes to end with their pages")
            again = open_judge(browser, url, "alice")
            vote_when_answered(again, db, sessions["alice"], "t", battle=2)  # her old session goes on
        finally:
            browser.close()
    wait_until(lambda: not judge_processes(db), 30, "the judges' processes to end with their pages")

    with sqlite3.connect(db) as conn:
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
        votes = conn.execute(
            "select s.judge, b.verdict, b.left_contestant, b.right_contestant "
            "from battles b join sessions s on s.id = b.session order by s.judge, b.id"
        ).fetchall()
        alice_prompts = conn.execute(
            "select b.prompt from battles b join sessions s on s.id = b.session where s.judge = 'alice'"
        ).fetchall()
        assert conn.execute("select count(*) from sessions where judge = 'alice'").fetchone() == (1,)
    assert len(set(alice_prompts)) == 2  # coming back, she was not given the prompt she had judged
    assert [(judge, verdict) for judge, verdict, _, _ in votes] == [
        ("alice", "left"),
        ("alice", "tie"),
        ("bob", "right"),
    ]
    assert all({left, right} == {"steady", "other"} for _, _, left, right in votes)
    for judge, png in screens.items():
        assert png.startswith(b"\x89PNG") and len(png) > 10_000, judge  # a rendered page, not a blank one
        (tmp_path / f"{judge}.png").write_bytes(png)


def test_a_judge_whose_arena_cannot_start_sees_why_and_the_log_says_it_once(tmp_path: Path) -> None:
    """The newcomer's report: every judge's process crashed while the page only said the session "has
    ended". Here a model file disappears after the server started: the judge's page says why, the server's
    log says it in one line, and no traceback or raw stderr reaches the operator's terminal."""
    chromium = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with serving(tmp_path, ANSWERS, OTHER) as (url, _db, log_path):
        (tmp_path / "steady.jsonl").unlink()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(url)
                page.wait_for_function("document.getElementById('why').textContent.length > 0", timeout=60_000)
                why = page.locator("#why").text_content()
                ended = page.locator(".ended").is_visible()
            finally:
                browser.close()
        wait_until(lambda: "ended: the arena could not go on" in log_path.read_text(errors="replace"), 10, "the log")
        log = log_path.read_text(errors="replace")
    assert ended and why is not None and "could not go on (exit status 2)" in why and "steady" in why
    said = [line for line in log.splitlines() if "could not go on" in line]
    assert len(said) == 1 and "replay file not found" in said[0]
    assert "Traceback" not in log and "Error: cannot load" not in log.replace(said[0], "")


async def test_the_demo_shows_its_first_screen_while_the_models_load(tmp_path: Path) -> None:
    """``arena demo``: the intro at once, the models loading behind it (issue 26); enter before they are
    ready starts the first battle as soon as they are."""
    from arena.tui.screens.intro import IntroScreen

    release = threading.Event()
    app = make_app(tmp_path, ANSWERS, OTHER, intro="Welcome.", load_models=lambda: release.wait(30) or None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, IntroScreen) and "The models are loading" in screen_text(app)
        box = app.screen.query_one("#intro-box")
        on_top, _ = app.screen.get_widget_at(box.region.x + 3, box.region.y + 2)
        assert "LoadingIndicator" not in type(on_top).__name__  # the text is not covered while they load
        await pilot.press("enter")  # before the models are ready: held
        await pilot.pause()
        assert isinstance(app.screen, IntroScreen) and "as soon as the models are loaded" in screen_text(app)
        assert app.session.current is None
        release.set()
        await wait_for(pilot, lambda: app.session.current is not None)
        assert not isinstance(app.screen, IntroScreen)


async def test_the_intro_waits_for_enter_when_the_models_are_ready_first(tmp_path: Path) -> None:
    from arena.tui.screens.intro import IntroScreen

    app = make_app(tmp_path, ANSWERS, OTHER, intro="Welcome.", load_models=lambda: None)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "The models are ready." in screen_text(app))
        assert isinstance(app.screen, IntroScreen) and app.session.current is None
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.session.current is not None)


def test_a_taken_port_is_one_line_before_any_model_loads(tmp_path: Path) -> None:
    pytest.importorskip("textual_serve")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        result = run("serve", "--port", str(port), *EXAMPLE_MODELS, "--db", str(tmp_path / "s.db"))
    assert_one_line_error(result, f"cannot listen on 127.0.0.1:{port}")
    assert time.monotonic() - started < 30
    bad = run("serve", "--host", "999.1.1.1", *EXAMPLE_MODELS, "--db", str(tmp_path / "s.db"))
    assert_one_line_error(bad, "cannot listen on 999.1.1.1")


def test_listening_everywhere_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("textual_serve")
    monkeypatch.setattr("arena.web.serve.serve", lambda *args, **kwargs: None)  # do not actually listen
    monkeypatch.setattr("arena.web.serve.check_listen", lambda host, port: None)
    result = run("serve", "--host", "0.0.0.0", "--no-check", *EXAMPLE_MODELS, "--db", str(tmp_path / "s.db"))
    assert result.exit_code == 0, result.output
    assert "every network interface" in result.stderr and "anyone who can reach this machine" in result.stderr
    local = run("serve", "--no-check", *EXAMPLE_MODELS, "--db", str(tmp_path / "s.db"))
    assert "every network interface" not in local.stderr


async def test_a_hidden_board_stays_hidden_mid_session_and_at_the_end(tmp_path: Path) -> None:
    """The newcomer: any judge could press l mid-session and see everyone's standings. With the board
    hidden (``arena serve --hide-board``), l says so and the end screen keeps only the session's own records."""
    from arena.tui.screens.leaderboard import LeaderboardScreen
    from arena.tui.screens.summary import SummaryScreen

    app = make_app(tmp_path, ANSWERS, OTHER, hide_board=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.session.current is not None and app.session.current.both_done)
        await pilot.press("a")
        await wait_for(pilot, lambda: app.session.current is not None and app.session.current.voted)
        await pilot.press("l")
        await pilot.pause()
        assert not isinstance(app.screen, LeaderboardScreen)
        assert any("board is hidden" in str(note.message) for note in app._notifications)
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, SummaryScreen))
        shown = screen_text(app)
    assert "This session: 1 vote" in shown and "the board now" not in shown


def test_serve_hands_hide_board_to_every_judge(tmp_path: Path) -> None:
    with serving_args(tmp_path, tmp_path / "h.db", ["--hide-board", "--model", f"replay:{EXAMPLES / 'steady.jsonl'}",
                      "--model", f"replay:{EXAMPLES / 'loopy.jsonl'}"]) as (_url, _db, log_path):  # fmt: skip
        said = " ".join(log_path.read_text(errors="replace").split())
    assert "the board is hidden from the judges" in said and "Serving" not in said  # not the internal command
    assert " --hide-board" in play_command(["--model", "replay:x.jsonl", "--hide-board"])


def test_a_judge_types_their_name_without_clicking_first(tmp_path: Path) -> None:
    """The newcomer's first browser run: typing a name and Enter without a click did nothing."""
    chromium = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with serving(tmp_path, ANSWERS, OTHER) as (url, db, _log), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            received: list[bytes] = []
            page.on("websocket", lambda ws: ws.on("framereceived", lambda data: received.append(
                data if isinstance(data, bytes) else b"")))  # fmt: skip
            page.goto(url)
            wait_until(lambda: b"Who is judging?" in b"".join(received), 60, "the name screen",
                       pause=lambda seconds: page.wait_for_timeout(seconds * 1000))  # fmt: skip
            page.keyboard.type("carol")
            page.keyboard.press("Enter")
            assert session_of(db, "carol", timeout=30) > 0
        finally:
            browser.close()
