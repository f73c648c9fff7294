"""The replay backend through the real generation driver: text, pacing, max_tokens, stop, cancel, errors."""

from __future__ import annotations

import re
import threading
import time

import pytest
from arena_replay import ReplayBackend, ReplayModel, _cut_at_stop, split_tokens
from hypothesis import given
from hypothesis import strategies as st

from arena.backend import BackendError, Chunk, GenerationParams, Message
from arena.engine.contestants import parse_spec
from arena.engine.generation import generate
from arena.engine.pool import ModelPool
from tests.support.helpers import WriteReplay

TEXT = "One two three four five six seven eight nine ten."
MESSAGES: list[Message] = [{"role": "user", "content": "Count to ten."}]


def load(path: object, query: str = "") -> ReplayModel:
    return ReplayBackend().load(parse_spec(f"replay:{path}{query}"))


def test_streams_the_recorded_text_exactly(write_replay: WriteReplay) -> None:
    model = load(write_replay("a", {"s/count": TEXT}))
    chunks: list[Chunk] = []
    result = generate(
        model, MESSAGES, GenerationParams(), threading.Event(), prompt_id="s/count", on_chunk=chunks.append
    )
    assert result.text == TEXT
    assert result.n_tokens == 10 == len(chunks)
    assert result.finish_reason == "stop"
    assert result.error is None
    assert "Count to ten." in result.rendered_prompt


def test_matches_on_bare_id_and_on_prompt_text(write_replay: WriteReplay) -> None:
    path = write_replay(
        "b", [{"prompt_id": "count", "output": "by id"}, {"prompt": " Count to ten. ", "output": "by text"}]
    )
    model = load(path)
    assert generate(model, MESSAGES, GenerationParams(), threading.Event(), prompt_id="set/count").text == "by id"
    assert generate(model, MESSAGES, GenerationParams(), threading.Event(), prompt_id="set/other").text == "by text"


def test_max_tokens_truncates_and_reports_length(write_replay: WriteReplay) -> None:
    model = load(write_replay("a", {"count": TEXT}))
    result = generate(model, MESSAGES, GenerationParams(max_tokens=4), threading.Event(), prompt_id="count")
    assert result.text == "One two three four"
    assert result.n_tokens == 4
    assert result.finish_reason == "length"


def test_stop_string_cuts_the_output(write_replay: WriteReplay) -> None:
    model = load(write_replay("a", {"count": TEXT}))
    result = generate(model, MESSAGES, GenerationParams(stop=(" five",)), threading.Event(), prompt_id="count")
    assert result.text == "One two three four"
    assert result.finish_reason == "stop"


def test_pacing_never_runs_ahead_of_tps(write_replay: WriteReplay) -> None:
    """Token i is due at start + ttft + i/tps, so gaps are lower-bounded by the schedule."""
    model = load(write_replay("a", {"count": TEXT}), "?tps=200&ttft=0.05")
    stamps: list[float] = []
    start = time.monotonic()
    result = generate(
        model,
        MESSAGES,
        GenerationParams(),
        threading.Event(),
        prompt_id="count",
        on_chunk=lambda c: stamps.append(time.monotonic()),
    )
    assert len(stamps) == 10
    for index, stamp in enumerate(stamps):
        assert stamp - start >= 0.05 + index / 200
    assert result.ttft_s is not None and result.ttft_s >= 0.05
    assert result.wall_s >= 0.05 + 9 / 200
    assert result.tokens_per_s is not None and result.tokens_per_s > 0
    unpaced = load(write_replay("b", {"count": TEXT}))
    as_fast_as_the_loop = generate(unpaced, MESSAGES, GenerationParams(), threading.Event(), prompt_id="count")
    assert as_fast_as_the_loop.n_tokens == 10 and as_fast_as_the_loop.tokens_per_s is None  # no made-up speed


def test_cancel_from_a_callback_stops_after_that_chunk(write_replay: WriteReplay) -> None:
    model = load(write_replay("a", {"count": TEXT}))
    cancel = threading.Event()
    seen: list[str] = []

    def on_chunk(chunk: Chunk) -> None:
        seen.append(chunk.text)
        if len(seen) == 3:
            cancel.set()

    result = generate(model, MESSAGES, GenerationParams(), cancel, prompt_id="count", on_chunk=on_chunk)
    assert result.text == "One two three"
    assert result.finish_reason == "cancelled"


def test_cancel_interrupts_a_pacing_wait(write_replay: WriteReplay) -> None:
    """At 2 tokens/s the whole answer would take 5 s; cancel from another thread ends it early."""
    model = load(write_replay("a", {"count": TEXT}), "?tps=2")
    cancel = threading.Event()
    first = threading.Event()
    results = []
    worker = threading.Thread(
        target=lambda: results.append(
            generate(model, MESSAGES, GenerationParams(), cancel, prompt_id="count", on_chunk=lambda c: first.set())
        )
    )
    worker.start()
    assert first.wait(10)
    cancel.set()
    worker.join(10)
    assert not worker.is_alive()
    assert results[0].finish_reason == "cancelled"
    assert 1 <= results[0].n_tokens < 10


def test_recorded_error_keeps_partial_text(write_replay: WriteReplay) -> None:
    path = write_replay("a", [{"prompt_id": "count", "output": "One two", "error": "CUDA out of memory"}])
    result = generate(load(path), MESSAGES, GenerationParams(), threading.Event(), prompt_id="count")
    assert result.text == "One two"
    assert result.finish_reason == "error"
    assert result.error == "CUDA out of memory"


def test_recorded_finish_reason_is_replayed(write_replay: WriteReplay) -> None:
    path = write_replay("a", [{"prompt_id": "count", "chunks": ["On", "e"], "finish_reason": "length"}])
    result = generate(load(path), MESSAGES, GenerationParams(), threading.Event(), prompt_id="count")
    assert (result.text, result.n_tokens, result.finish_reason) == ("One", 2, "length")


def test_missing_output_is_an_error_result_not_a_crash(write_replay: WriteReplay) -> None:
    result = generate(
        load(write_replay("a", {"x": "y"})), MESSAGES, GenerationParams(), threading.Event(), prompt_id="s/q"
    )
    assert result.finish_reason == "error"
    assert result.error is not None and "no output for prompt 's/q'" in result.error


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (['{"prompt_id": "a", "output": "x"}', "{oops"], "line 2: invalid JSON"),
        (['{"output": "x"}'], "line 1: needs 'prompt_id' or 'prompt'"),
        (['{"prompt_id": "a", "output": 3}'], "line 1: 'output' must be a string"),
        (['{"prompt_id": "a", "output": "x", "finish_reason": "done"}'], "'finish_reason' must be one of"),
        (
            ['{"prompt_id": "a", "output": "x"}', '{"prompt_id": "a", "output": "y"}'],
            "a second output for prompt 'a' (first at line 1)",
        ),
        ([""], "holds no recordings"),
    ],
)
def test_malformed_replay_files(tmp_path: object, lines: list[str], expected: str) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "bad.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(BackendError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        load(path)


def test_missing_file_fails_at_load_with_the_label() -> None:
    with (
        ModelPool() as pool,
        pytest.raises(BackendError, match=re.escape("cannot load 'gone': replay file not found: gone.jsonl")),
    ):
        pool.load_all([parse_spec("replay:gone.jsonl")])


def test_bad_tps_value() -> None:
    with pytest.raises(BackendError, match="tps must be at least"):
        ReplayBackend().load(parse_spec("replay:x.jsonl?tps=0"))


@given(st.text())
def test_split_tokens_is_lossless(text: str) -> None:
    assert "".join(split_tokens(text)) == text


@given(st.text(alphabet="ab \n", max_size=40), st.text(alphabet="ab ", min_size=1, max_size=3))
def test_cut_at_stop_keeps_exactly_the_text_before_the_stop(text: str, stop: str) -> None:
    kept, hit = _cut_at_stop(split_tokens(text), [stop])
    joined = "".join(kept)
    assert hit == (stop in text)
    assert joined == (text[: text.find(stop)] if hit else text)
