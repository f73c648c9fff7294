"""The ``arena`` command: acceptance runs of batch, listings, diagnostics, and one-line errors (exit 2)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.helpers import EXAMPLES, REPO, WriteReplay, assert_one_line_error, run

HEAVY = ("torch", "transformers", "llama_cpp", "textual", "bitsandbytes", "sqlite_utils", "numpy", "rich")


def test_help_lists_commands_without_heavy_imports() -> None:
    code = (
        "import sys, json\n"
        "from arena.cli import main\n"
        "sys.argv = ['arena', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stderr.strip().splitlines()[-1]) == []
    for command in ("batch", "prompts", "backends", "doctor"):
        assert f"  {command} " in done.stdout


def test_a_small_leaderboard_imports_only_what_it_uses(tmp_path: Path) -> None:
    """Issue 26's quick start, checked by what is imported rather than by a timing: `arena leaderboard` loads
    its own command module only, no TOML parser, and not ``numpy.ma`` (which ``np.quantile`` would pull in:
    a tenth of the command on a small database). Timings are in bench/bench_leaderboard.py."""
    from tests.support.votes import add_votes

    db = tmp_path / "small.db"
    add_votes(db, [("a", "b", "left"), ("b", "a", "tie"), ("a", "b", "right"), ("b", "a", "left")])
    unwanted = ("numpy.ma", "tomllib", "arena.cli.run", "arena.cli.serve", "arena.cli.report", "arena.cli.autojudge",
                "pandas")  # fmt: skip
    code = (
        "import sys, json\n"
        "from arena.cli import main\n"
        f"sys.argv = ['arena', 'leaderboard', '--db', {str(db)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(json.dumps([m for m in {unwanted!r} if m in sys.modules]), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "4 battles" in done.stdout  # it did draw the board
    assert json.loads(done.stderr.strip().splitlines()[-1]) == []


def test_a_writing_command_leaves_pandas_unimported(tmp_path: Path) -> None:
    """sqlite-utils imports pandas at import time wherever it is installed (as beside most model tooling):
    0.3-0.5 s on every command that writes, for a column type the arena never writes. The arena imports
    sqlite-utils without it."""
    pytest.importorskip("pandas", reason="only where pandas is installed can it be imported by mistake")
    source = tmp_path / "one.jsonl"
    source.write_text(json.dumps({"model_a": "a", "model_b": "b", "winner": "tie"}) + "\n", encoding="utf-8")
    code = (
        "import sys, json\n"
        "from arena.cli import main\n"
        f"sys.argv = ['arena', 'import', {str(source)!r}, '--db', {str(tmp_path / 'w.db')!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(['sqlite_utils' in sys.modules, 'pandas' in sys.modules]), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert "imported 1 battle" in done.stdout, done.stderr
    assert json.loads(done.stderr.strip().splitlines()[-1]) == [True, False]


def test_batch_acceptance_fills_generations(tmp_path: Path) -> None:
    db = tmp_path / "out.db"
    result = run(
        "batch",
        "--prompts",
        "everyday",
        "--model",
        f"replay:{EXAMPLES / 'steady.jsonl'}",
        "--model",
        f"replay:{EXAMPLES / 'loopy.jsonl'}",
        "--db",
        str(db),
    )
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(db)
    assert conn.execute("select count(*) from generations").fetchone()[0] == 16
    per_model = dict(conn.execute("select contestant, count(*) from generations group by contestant").fetchall())
    assert per_model == {"steady": 8, "loopy": 8}
    assert conn.execute("select count(*) from prompts").fetchone()[0] == 8
    assert "steady" in result.stdout and "loopy" in result.stdout
    assert "16 generations stored" in result.stdout


def test_batch_json_output_and_sampling_flags(tmp_path: Path, write_replay: WriteReplay) -> None:
    replay = write_replay("r", {"everyday/science-tides": "one two three four five"})
    result = run(
        "batch",
        "--model",
        f"replay:{replay}",
        "--limit",
        "1",
        "--max-tokens",
        "3",
        "--temperature",
        "0",
        "--seed",
        "7",
        "--db",
        str(tmp_path / "j.db"),
        "--json",
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["params"] == {"temperature": 0.0, "top_p": 0.9, "max_tokens": 3, "seed": 7, "stop": []}
    [generation] = payload["generations"]
    assert generation["output"] == "one two three"
    assert generation["finish_reason"] == "length"
    assert payload["summary"][0]["contestant"] == "r"


def test_batch_reports_a_missing_recording_as_an_error_row(tmp_path: Path, write_replay: WriteReplay) -> None:
    replay = write_replay("partial", {"everyday/science-tides": "tides"})
    result = run("batch", "--model", f"replay:{replay}", "--limit", "2", "--db", str(tmp_path / "p.db"))
    assert result.exit_code == 0, result.output
    assert "no output for prompt 'everyday/trains-meet'" in result.stdout
    conn = sqlite3.connect(tmp_path / "p.db")
    reasons = [row[0] for row in conn.execute("select finish_reason from generations order by id")]
    assert reasons == ["stop", "error"]


def test_default_db_lives_in_arena_home(isolated_home: Path, write_replay: WriteReplay) -> None:
    replay = write_replay("r", {"everyday/science-tides": "x"})
    assert run("batch", "--model", f"replay:{replay}", "--limit", "1").exit_code == 0
    assert (isolated_home / "arena.db").is_file()


def test_unknown_backend_exits_2_with_one_line() -> None:
    assert_one_line_error(run("batch", "--model", "nosuch:x"), "unknown backend 'nosuch'", "replay")


def test_malformed_prompt_file_exits_2_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[prompts]]\nid = "p1"\ncategory = "c"\ntext = "t"\nconstraints = [{kind = "sentences"}]\n')
    result = run("batch", "--prompts", str(bad), "--model", "replay:x.jsonl")
    assert_one_line_error(result, str(bad), "'p1'", "constraints[0]")


def test_missing_replay_file_exits_2_with_one_line() -> None:
    assert_one_line_error(run("batch", "--model", "replay:nowhere.jsonl"), "replay file not found: nowhere.jsonl")


def test_bad_option_and_bad_params_exit_2(tmp_path: Path) -> None:
    assert_one_line_error(run("batch", "--model", "replay:a.jsonl?tps=x"), "tps='x'")
    assert_one_line_error(run("batch", "--model", "replay:a.jsonl", "--top-p", "0"), "top_p must be in (0, 1]")


def test_db_that_is_a_directory_exits_2(tmp_path: Path) -> None:
    assert_one_line_error(run("batch", "--model", "replay:a.jsonl", "--db", str(tmp_path)), "is a directory")


def test_demo_takes_plays_session_options_and_refuses_bad_ones_before_preparing_models(tmp_path: Path) -> None:
    db = ["--db", str(tmp_path / "d.db")]
    assert_one_line_error(run("demo", "--resume", "--seed", "3", *db), "leave out --seed")
    assert_one_line_error(run("demo", "--prompts", "nope", *db), "unknown prompt set 'nope'")
    assert not (tmp_path / "d.db").exists()


def test_prompts_lists_the_shipped_sets() -> None:
    result = run("prompts", "--json")
    sets = {row["name"]: row["prompts"] for row in json.loads(result.stdout)}
    assert sets == {"everyday": 8, "constraints": 30}
    table = run("prompts").stdout
    assert "everyday" in table and "constraints" in table and "30" in table


def test_prompts_shows_one_set() -> None:
    result = run("prompts", "everyday", "--json")
    payload = json.loads(result.stdout)
    assert payload["name"] == "everyday" and len(payload["prompts"]) == 8
    assert "child-photosynthesis" in run("prompts", "everyday").stdout


def test_backends_lists_replay_as_ready() -> None:
    rows = json.loads(run("backends", "--json").stdout)
    replay = next(row for row in rows if row["name"] == "replay")
    assert replay["status"] == "ok"
    assert replay["options"] == ["tps", "ttft"]


def test_doctor_reports_paths_and_database(tmp_path: Path, isolated_home: Path) -> None:
    db = tmp_path / "d.db"
    result = run("doctor", "--db", str(db), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["paths"]["data_dir"] == str(isolated_home)
    assert report["paths"]["model_cache"] and report["paths"]["model_cache_MiB"] >= 0  # where conversions pile up
    assert report["database"] == {"path": str(db), "exists": False}
    assert "torch" in report["packages"]
    assert "arena doctor" in run("doctor").stdout


@pytest.mark.parametrize("args", [["--help"], ["batch", "--help"], ["--version"]])
def test_console_script_runs(args: list[str]) -> None:
    arena = Path(sys.executable).parent / "arena"
    done = subprocess.run([str(arena), *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


@pytest.mark.parametrize(("backend", "module", "extra"), [("gguf", "llama_cpp", "gguf"), ("hf", "torch", "hf")])
def test_a_backend_without_its_library_names_the_extra_to_install(
    tmp_path: Path, backend: str, module: str, extra: str
) -> None:
    """Run as a user without the extra would (the library made unimportable): one line, exit 2."""
    target = tmp_path / "model.gguf"
    target.write_bytes(b"GGUF")
    code = (
        "import sys\n"
        f"sys.modules[{module!r}] = None  # as if the extra were not installed\n"
        "from arena.cli import main\n"
        f"sys.argv = ['arena', 'batch', '--model', {backend + ':' + str(target)!r}, '--db', {str(tmp_path / 'x.db')!r}]\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert f"needs {module}" in lines[0] and f"pip install 'vibe-arena[{extra}]'" in lines[0]


EXAMPLE_MODELS = ["--model", f"replay:{EXAMPLES / 'steady.jsonl'}", "--model", f"replay:{EXAMPLES / 'loopy.jsonl'}"]
HIDDEN_IN_NAMES = ["\u3164", "\u2800\u2800", "alice\u034f", "alice\ufe0f", "al\u00adice", "alice\U000e0041", "a\u180eb"]


def test_bootstrap_rounds_have_an_upper_bound(tmp_path: Path) -> None:
    result = run("leaderboard", "--db", str(tmp_path / "x.db"), "--rounds", "100000000")
    assert result.exit_code == 2 and "100000000" in result.output and "Traceback" not in result.output


def test_odd_db_paths_are_one_line(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "f.db"
    os.mkfifo(fifo)
    started = time.monotonic()
    assert_one_line_error(run("leaderboard", "--db", str(fifo)), "not a regular file")
    assert_one_line_error(run("batch", *EXAMPLE_MODELS, "--db", str(fifo)), "not a regular file")
    assert time.monotonic() - started < 30  # refused at once, not blocked on the pipe
    long = tmp_path / ("x" * 5000 + ".db")
    assert_one_line_error(run("leaderboard", "--db", str(long)), "--db")
    assert_one_line_error(run("batch", *EXAMPLE_MODELS, "--db", str(long)), "--db")


def test_judge_names_are_normalized_and_blank_ones_refused(tmp_path: Path) -> None:
    from arena.judging.names import judge_name, judge_name_problem

    for hidden in HIDDEN_IN_NAMES:
        assert judge_name_problem(hidden) is not None, hidden
    assert judge_name_problem("\U0001f469\u200d\U0001f4bb dev") is None  # a ZWJ emoji is a fine name
    assert judge_name("jose\u0301") == "jos\u00e9"
    for reserved in ("auto:gpt", "Auto:me", "baseline:longest"):  # a person must not count as a model or baseline
        assert "belong to the arena's own judges" in (judge_name_problem(reserved) or ""), reserved
    assert_one_line_error(run("play", *EXAMPLE_MODELS, "--db", str(tmp_path / "r.db"), "--judge", "auto:x"), "auto:")
    result = run("play", *EXAMPLE_MODELS, "--db", str(tmp_path / "p.db"), "--judge", "\u3164")
    assert_one_line_error(result, "Printable characters only", "\\u3164")
    assert not (tmp_path / "p.db").exists()


def test_numbers_too_large_for_sqlite_are_one_line(tmp_path: Path) -> None:
    """A session number of 30 digits (or a token budget of 24) used to end in an OverflowError traceback."""
    db = tmp_path / "n.db"
    assert run("batch", *EXAMPLE_MODELS, "--limit", "1", "--db", str(db)).exit_code == 0
    huge = "1" + "0" * 29
    for args in (["report", "--session", huge], ["autojudge", "--judge", "replay:x.jsonl", "--batch", huge]):
        refused = run(*args, "--db", str(db))  # click's own range check: its usage line, then the error
        assert refused.exit_code == 2 and "is not in the range" in refused.stderr and "Traceback" not in refused.output
    assert_one_line_error(run("report", "--db", str(db), "--compare", huge, "1"), f"no session {huge}")
    assert_one_line_error(run("play", "--db", str(db), "--from-batch", huge), f"no session {huge}")
    assert_one_line_error(run("batch", *EXAMPLE_MODELS, "--db", str(db), "--max-tokens", huge), "max_tokens")


def test_a_report_page_is_written_whole_or_not_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk that fills up midway used to leave a truncated page in place of the good one."""
    from tests.support.votes import add_votes

    db = tmp_path / "h.db"
    add_votes(db, [("a", "b", "left"), ("b", "a", "left")] * 6)
    page = tmp_path / "report.html"
    page.write_text("the good page", encoding="utf-8")
    original = Path.write_text

    def full_disk(self: Path, text: str, *args: object, **kwargs: object) -> int:
        original(self, text[:100], encoding="utf-8")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full_disk)
    assert_one_line_error(run("report", "--db", str(db), "--html", str(page)), "No space left on device")
    monkeypatch.setattr(Path, "write_text", original)
    assert page.read_text(encoding="utf-8") == "the good page"
    assert not list(tmp_path.glob(".report.html*"))  # nothing half-written left beside it
    assert run("report", "--db", str(db), "--html", str(page)).exit_code == 0
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_a_judge_prompt_must_be_a_regular_file_of_reasonable_size(tmp_path: Path) -> None:
    import os

    db = tmp_path / "j.db"
    assert run("batch", *EXAMPLE_MODELS, "--limit", "1", "--db", str(db)).exit_code == 0
    fifo = tmp_path / "prompt.fifo"
    os.mkfifo(fifo)
    huge = tmp_path / "huge.txt"
    huge.write_text("{answer_a} {answer_b} " + "x" * 300_000, encoding="utf-8")
    for path, why in ((fifo, "not a regular file"), (Path("/dev/zero"), "not a regular file"), (huge, "bytes")):
        found = run(
            "autojudge", "--db", str(db), "--judge", "replay:x.jsonl", "--batch", "1", "--judge-prompt", str(path)
        )
        assert_one_line_error(found, "--judge-prompt", why)


def test_a_system_message_goes_with_every_prompt_and_the_judges_own(tmp_path: Path) -> None:
    """The newcomer found no --system for play or own prompts (item 16)."""
    from arena.backend import GenerationParams
    from arena.engine.contestants import parse_spec
    from arena.judging.session import PlaySession
    from arena.judging.sources import LiveSource
    from arena.prompts import custom_prompt, load_prompt_set
    from arena.store import Store

    db = tmp_path / "s.db"
    steady, loopy = f"replay:{EXAMPLES / 'steady.jsonl'}", f"replay:{EXAMPLES / 'loopy.jsonl'}"
    done = run("batch", "--db", str(db), "-m", steady, "-m", loopy, "--limit", "2", "--system", "Answer as a pirate.")
    assert done.exit_code == 0, done.output
    with sqlite3.connect(db) as conn:
        sent = [json.loads(row[0]) for row in conn.execute("select messages_json from generations")]
    assert len(sent) == 4 and all(
        messages[0] == {"role": "system", "content": "Answer as a pirate."} for messages in sent
    )
    contestants = [parse_spec(steady), parse_spec(loopy)]
    prompts = load_prompt_set("everyday").with_system("Answer as a pirate.").prompts
    with Store(tmp_path / "p.db") as store:
        source = LiveSource(contestants, prompts, GenerationParams(), system="Answer as a pirate.")
        session = PlaySession(store, source, judge="ann")
        own = session.next_round(custom_prompt("Why is the sea salty?"))
        assert own is not None and own.battle.messages("left")[0]["content"] == "Answer as a pirate."
        session.close()
    assert_one_line_error(run("batch", "--db", str(db), "-m", steady, "--system", " "), "--system is empty")
    assert_one_line_error(run("play", "--db", str(db), "--from-batch", "1", "--system", "x"), "leave out --system")
