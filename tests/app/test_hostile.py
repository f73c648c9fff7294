"""Hostile input: text that did not come from this code never drives the terminal, and one bad string from
a backend fails (or is repaired in) one generation, never the run.

Every string below meets a terminal somewhere: a replay's error line, labels in tables, contestant names
imported from a file, a prompt's category in the TUI, flag evidence, JSON and CSV output.
"""

from __future__ import annotations

import io
import json
import random
import sqlite3
from pathlib import Path

import pytest
from click.testing import Result

from arena.backend import GenerationParams
from arena.cli.votes import VisibleWriter
from arena.engine.contestants import parse_spec
from arena.engine.pool import ModelPool
from arena.judging.session import PlaySession
from arena.judging.sources import LiveSource
from arena.prompts import Prompt
from arena.store import Store, writes
from arena.tui.app import ArenaApp
from arena.untrusted import json_text, visible
from tests.support.helpers import EXAMPLES, assert_one_line_error, run, write_replay
from tests.support.tui_helpers import screen_text, wait_for

ESC = "\x1b"
OSC_CLIPBOARD = ESC + "]52;c;SElKQUNLRUQ=" + ESC + "\\"
OSC_TITLE = ESC + "]0;PWNED" + ESC + "\\"
CLEAR = ESC + "[2J"
RLO = "\u202e"
ZWSP = "\u200b"
HOSTILE = f"evil{OSC_CLIPBOARD}{OSC_TITLE}{CLEAR}{RLO}gpj.exe{ZWSP}[/][bold]x"
RAW = (ESC, RLO, ZWSP, "\x9b")


def batch_one(first_model: str, *extra: str) -> Result:
    """``arena batch`` on one prompt: ``first_model`` against the loopy example recording."""
    return run("batch", "--limit", "1", "-m", first_model, *extra, "-m", f"replay:{EXAMPLES / 'loopy.jsonl'}")


def assert_terminal_safe(output: str) -> None:
    for character in RAW:
        assert character not in output, f"{character!r} reached the terminal"


def test_the_sanitizer_spells_out_every_hidden_character() -> None:
    shown = visible(HOSTILE + "\x9b\ud800\ufeff")
    assert_terminal_safe(shown)
    assert "\\x1b]52;c;SElKQUNLRUQ=\\x1b\\" in shown and "\\u202e" in shown and "\\u200b" in shown
    assert "\\x9b" in shown and "\\ud800" in shown and "\\ufeff" in shown
    assert visible("tabs\tand\nnewlines stay é 😀") == "tabs\tand\nnewlines stay é 😀"
    assert json.loads(json_text({"name": HOSTILE})) == {"name": HOSTILE}  # exact data, safe to cat
    assert_terminal_safe(json_text({"name": HOSTILE + "\x9b"}))


def test_a_replay_error_full_of_escape_sequences_prints_as_text(tmp_path: Path) -> None:
    """The repro from the issue: an OSC 52 clipboard write and an OSC 0 title change in an error line."""
    bad = write_replay(
        tmp_path / "err.jsonl",
        [{"prompt_id": "everyday/science-tides", "output": "x", "error": "boom " + OSC_CLIPBOARD + " " + OSC_TITLE}],
    )
    result = batch_one(f"replay:{bad}", "--label", "E", "--db", str(tmp_path / "r1.db"))
    assert result.exit_code == 0, result.output
    assert_terminal_safe(result.output)
    assert "E: error: boom \\x1b]52;c;SElKQUNLRUQ=" in result.stdout


def test_markup_in_labels_specs_and_paths_is_printed_as_written(tmp_path: Path) -> None:
    folder = tmp_path / "[red]runs"
    folder.mkdir()
    steady = write_replay(folder / "s.jsonl", {"everyday/science-tides": "The Moon pulls the water."})
    result = batch_one(f"replay:{steady}", "--label", "[/]open[bold]", "--db", str(folder / "[/].db"))
    assert result.exit_code == 0, result.output
    assert "[/]open[bold]" in result.stdout and "[red]runs/[/].db" in result.stdout


def test_imported_names_are_safe_in_leaderboard_report_and_export(tmp_path: Path) -> None:
    records = [
        {
            "model_a": HOSTILE,
            "model_b": "plain",
            "winner": "model_a",
            "tstamp": 1700000000 + i,
            "conversation_a": [
                {"role": "user", "content": "q" + CLEAR},
                {"role": "assistant", "content": "a" + OSC_TITLE},
            ],
            "conversation_b": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "b"}],
        }
        for i in range(3)
    ]
    source = tmp_path / "battles.json"
    source.write_text(json.dumps(records))
    db = tmp_path / "imp.db"
    assert run("import", str(source), "--db", str(db)).exit_code == 0
    for args in (
        ["leaderboard"],
        ["leaderboard", "--matrix"],
        ["export", "--format", "dpo"],
        ["export", "--format", "json"],
    ):
        result = run(*args, "--db", str(db))
        assert result.exit_code == 0, (args, result.output)
        assert_terminal_safe(result.output)
    table = run("leaderboard", "--db", str(db)).stdout
    assert "\\u202e" in table and "\\x1b" in table
    rows = json.loads(run("leaderboard", "--db", str(db), "--json").stdout)
    assert HOSTILE in {row["contestant"] for row in rows}  # JSON keeps the exact name, escaped


def test_csv_to_a_terminal_is_made_visible_and_to_a_pipe_stays_exact() -> None:
    terminal = io.StringIO()
    VisibleWriter(terminal).write(f"a,{HOSTILE}\n")
    assert_terminal_safe(terminal.getvalue())
    assert terminal.getvalue().endswith("\n")


def test_flags_evidence_and_prompt_listing_are_safe(tmp_path: Path) -> None:
    result = run("flags", "-", input=f"Fine start. PersonX {OSC_TITLE} TrainStationFactory ]]> qzx vorblet {CLEAR}")
    assert result.exit_code == 0
    assert_terminal_safe(result.output)
    prompts = tmp_path / "set.toml"
    prompts.write_text(f'name = "s"\n[[prompts]]\nid = "p"\ncategory = "c{RLO}"\ntext = "Hello\\u001b[2J there"\n')
    listing = run("prompts", str(prompts))
    assert listing.exit_code == 0 and "\\x1b[2J" in listing.stdout
    assert_terminal_safe(listing.output)


def test_a_jsonl_prompt_set_needs_a_simple_name(tmp_path: Path) -> None:
    bad = tmp_path / "my set[1].jsonl"
    bad.write_text(json.dumps({"id": "a", "category": "c", "text": "t"}) + "\n")
    assert_one_line_error(run("prompts", str(bad)), "is not a simple name")


@pytest.mark.parametrize(
    ("record", "stored"),
    [
        ({"output": "bad \ud800 x"}, "bad \ufffd x"),
        ({"output": "pair \ud83d\ude00 ok"}, "pair \U0001f600 ok"),
    ],
)
def test_a_lone_surrogate_from_a_backend_is_repaired_and_the_run_goes_on(
    tmp_path: Path, record: dict[str, str], stored: str
) -> None:
    path = tmp_path / "sur.jsonl"
    path.write_text(json.dumps({"prompt_id": "everyday/science-tides", **record}) + "\n")  # JSON escapes survive
    db = tmp_path / "r4.db"
    result = batch_one(f"replay:{path}", "--label", "A", "--label", "B", "--db", str(db))
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db) as conn:
        outputs = dict(conn.execute("select contestant, output from generations").fetchall())
    assert outputs["A"] == stored and outputs["B"]  # the partner's answer is kept too


async def test_hostile_labels_and_categories_stay_literal_in_the_tui(tmp_path: Path) -> None:
    prompt = Prompt(set="t", id="one", category=f"cat{CLEAR}{RLO}", text=f"Explain{OSC_TITLE} tides.")
    files = [write_replay(tmp_path / f"{name}.jsonl", {"t/one": f"Answer {name}{ESC}[31m red"}) for name in "ab"]
    contestants = [parse_spec(f"replay:{files[0]}", label=HOSTILE), parse_spec(f"replay:{files[1]}", label="plain")]
    with ModelPool() as pool, Store(tmp_path / "t.db") as store:
        pool.load_all(contestants)
        session = PlaySession(
            store,
            LiveSource(contestants, [prompt], GenerationParams(), pool=pool, shuffle=False),
            judge=f"judge{ESC}]0;x",
            rng=random.Random(0),
        )
        app = ArenaApp(lambda _judge: session)
        async with app.run_test(size=(160, 48)) as pilot:
            await wait_for(pilot, lambda: session.current is not None and session.current.both_done)
            await pilot.press("a")
            await pilot.pause()
            await pilot.press("l")
            await pilot.pause(0.5)
            await wait_for(pilot, lambda: "plain" in screen_text(app))
            leaderboard = screen_text(app)
            await pilot.press("escape")
            await pilot.pause()
            battle = screen_text(app)
    for shown in (battle, leaderboard):
        assert_terminal_safe(shown)
    assert "\\x1b[2J" in battle and "\\x1b[31m red" in battle and "\\u202e" in leaderboard


def test_non_text_and_impossible_counts_fail_one_generation(tmp_path: Path) -> None:
    import threading

    from arena.backend import Chunk, LoadedBase
    from arena.engine.generation import generate

    class Hostile(LoadedBase):
        def __init__(self, chunk: Chunk) -> None:
            self.chunk = chunk

        def render(self, messages: object) -> object:
            from arena.backend import RenderedPrompt

            return RenderedPrompt("p", None)

        def stream(self, *args: object, **kwargs: object) -> object:
            yield Chunk("fine ")
            yield self.chunk

    for chunk, reason in (
        (Chunk(123, 1), "int where text was expected"),  # type: ignore[arg-type]
        (Chunk("x", 10**23), "impossible token count"),
        (Chunk("x", -50), "impossible token count"),
    ):
        result = generate(Hostile(chunk), [], GenerationParams(), threading.Event())  # type: ignore[arg-type]
        assert result.finish_reason == "error" and reason in (result.error or "")
        assert result.text == "fine " and result.n_tokens == 1  # what came before is kept


def test_a_broken_arena_toml_does_not_break_explicit_models(tmp_path: Path) -> None:
    Path("arena.toml").write_text("this is [not toml")  # the working directory of the test
    result = batch_one(f"replay:{EXAMPLES / 'steady.jsonl'}", "--db", str(tmp_path / "t.db"))
    assert result.exit_code == 0, result.output
    assert_one_line_error(run("batch", "--limit", "1", "--db", str(tmp_path / "t.db")), "invalid TOML")


def test_report_after_a_batch_killed_before_its_first_answer(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    assert batch_one(f"replay:{EXAMPLES / 'steady.jsonl'}", "--db", str(db)).exit_code == 0
    with Store(db) as store:  # what a kill -9 right after the session opened leaves behind
        writes.start_session(store, "batch", judge=None)
    result = run("report", "--db", str(db), "--json")
    assert result.exit_code == 0, result.output
    assert [row["generations"] for row in json.loads(result.stdout)] == [1, 1]


def test_ctrl_c_in_batch_keeps_the_side_that_finished(tmp_path: Path) -> None:
    """A real ``arena batch`` process: one model done, the other still streaming slowly when Ctrl-C comes.
    The finished answer is stored at once; the interrupted one is stored as stopped; exit status 130. The slow
    side takes 200 s to reach its token budget (1 token a second), so however busy the machine, it is still
    streaming when the fast one's answer shows up (at 20 tokens a second it was done after 10 s, and on a
    loaded machine the fast answer sometimes showed up later than that: the test failed)."""
    import signal
    import subprocess
    import sys
    import time

    from tests.support.helpers import REPO

    fast = write_replay(tmp_path / "fast.jsonl", {"everyday/science-tides": "Quick and done."})
    slow = write_replay(tmp_path / "slow.jsonl", {"everyday/science-tides": "word " * 400})
    db = tmp_path / "c.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "arena", "batch", "--prompts", "everyday", "--limit", "1", "--db", str(db),
         "-m", f"replay:{fast}", "--label", "fast", "-m", f"replay:{slow}?tps=1", "--label", "slow"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip

    def stored() -> list[tuple[str, str]]:
        if not db.exists():
            return []
        try:
            with sqlite3.connect(db) as conn:
                return conn.execute("select contestant, finish_reason from generations order by id").fetchall()
        except sqlite3.OperationalError:  # the schema is still being created
            return []

    try:
        deadline = time.monotonic() + 150
        while stored() != [("fast", "stop")]:  # stored while the slow side streams (200 s to go)
            assert process.poll() is None and time.monotonic() < deadline, stored()
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert stored() == [("fast", "stop"), ("slow", "cancelled")], err


def test_every_command_prints_hostile_text_as_text(tmp_path: Path) -> None:
    """The walk: hostile labels, judge, prompt text, category, outputs and errors in one database (a batch,
    an import, a merge), then every command that prints from it, and those that print from files."""
    folder = tmp_path / f"runs{RLO}"
    folder.mkdir()
    prompts = folder / "hostile.toml"
    prompts.write_text(
        f'name = "hostile"\n[[prompts]]\nid = "p"\ncategory = "c{ZWSP}"\ntext = "Hello\\u001b[2J\\u202e there"\n'
    )
    outputs = {"hostile/p": {"output": "answer " + OSC_TITLE + CLEAR + " done"}}
    evil = write_replay(folder / "evil.jsonl", outputs)
    failing = write_replay(folder / "fail.jsonl", {"hostile/p": {"output": "x", "error": "boom" + OSC_CLIPBOARD}})
    db = folder / "h.db"
    models = ["-m", f"replay:{evil}", "--label", HOSTILE, "-m", f"replay:{failing}", "--label", f"b{RLO}"]
    walk = [
        ["batch", "--prompts", str(prompts), *models, "--db", str(db)],
        ["report", "--db", str(db)],
        ["report", "--db", str(db), "--markdown"],
        ["prompts", str(prompts)],
        ["parity", f"replay:{evil}", f"replay:{failing}", "--prompts", str(prompts)],
        ["doctor", "--db", str(db)],
    ]
    source = folder / "battles.json"
    source.write_text(
        json.dumps([{"question_id": f"q{CLEAR}", "model_a": HOSTILE, "model_b": f"b{RLO}", "winner": "tie",
                     "judge": f"judge{OSC_TITLE}", "category": f"cat{ESC}[5m"}])
    )  # fmt: skip
    other = folder / "other.db"
    walk += [
        ["import", str(source), "--db", str(other)],
        ["merge", str(other), "--into", str(db)],
        ["leaderboard", "--db", str(db), "--matrix"],
        ["leaderboard", "--db", str(db), "--judge", f"judge{OSC_TITLE}"],
    ]  # CSV to a pipe stays exact (it is data); to a terminal it goes through VisibleWriter, tested above
    for args in walk:
        result = run(*args)
        assert result.exit_code in (0, 1), (args, result.output)
        assert_terminal_safe(result.output)
        assert "Traceback" not in result.output
    assert "\\u202e" in run("report", "--db", str(db)).stdout  # the label is there, spelled out
    board = run("leaderboard", "--db", str(db)).stdout
    assert "\\u202e" in board and "\\x1b" in board  # the names are there, spelled out
