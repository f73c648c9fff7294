"""Sharing the cores between the models generating at once (``arena.engine.cores``): the plan, the thread
changes as models start and stop, a real llama.cpp model changing its thread count mid-run without changing
its text, and the warning for thread counts set by hand."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from arena.backend import Contestant, GenerationParams, LoadedBase
from arena.demo.tinymodels import TinyModels
from arena.engine.contestants import parse_spec
from arena.engine.cores import SHARE, CoreShare, machine_cores, oversubscribed
from arena.engine.generation import generate
from arena.engine.pool import ModelPool
from tests.support.helpers import run


class Recorder(LoadedBase):
    """Stands in for a model whose thread count can change: records each change (the real llama.cpp and
    torch calls are exercised by the tests below). It declares what it offers as every backend's model does."""

    def __init__(self, by_hand: int | None = None, shares_cores: bool = True) -> None:
        self.threads: list[int] = []
        self.threads_by_hand = by_hand
        self.shares_cores = shares_cores

    def set_threads(self, threads: int) -> None:
        self.threads.append(threads)


def test_the_cores_go_to_the_models_generating_now() -> None:
    share = CoreShare(cores=4)
    fast, slow = Recorder(), Recorder()
    with share.generating(slow):
        assert slow.threads == [4]  # alone: every core
        with share.generating(fast):
            assert (slow.threads[-1], fast.threads[-1]) == (2, 2)  # two at once: half each
        assert slow.threads[-1] == 4  # the fast one stopped: its cores go to the slow one
    assert share.active == {} and share.plan() == []
    odd = CoreShare(cores=3)
    models = [Recorder() for _ in range(4)]
    with share.generating(models[0]), share.generating(models[1]):
        assert odd.plan() == [] and share.plan() == [2, 2]
    with odd.generating(models[0]), odd.generating(models[1]):
        assert odd.plan() == [2, 1]
        with odd.generating(models[2]), odd.generating(models[3]):
            assert odd.plan() == [1, 1, 1, 1]  # more models than cores: one each, never none


def test_a_model_that_cannot_change_threads_or_needs_no_cores_is_left_out() -> None:
    share = CoreShare(cores=2)
    with share.generating(LoadedBase()):  # the contract's default: a model that does not share the cores
        assert share.active == {}
    on_a_gpu = Recorder(shares_cores=False)
    with share.generating(on_a_gpu):
        assert share.active == {} and on_a_gpu.threads == []


def test_threads_set_by_hand_are_kept_and_held_back_from_the_share() -> None:
    share = CoreShare(cores=8)
    by_hand = Recorder(by_hand=3)
    shared, other = Recorder(), Recorder()
    with share.generating(by_hand), share.generating(shared):
        assert by_hand.threads == [] and shared.threads[-1] == 5  # the 3 set by hand are not handed out
        with share.generating(other):
            assert (shared.threads[-1], other.threads[-1]) == (3, 2)
    crowded = CoreShare(cores=2)
    greedy = Recorder(by_hand=4)
    with crowded.generating(greedy), crowded.generating(shared):
        assert shared.threads[-1] == 1  # never none, even when the counts by hand took every core


def test_a_gguf_model_changes_threads_between_tokens_with_the_same_text(tiny: TinyModels) -> None:
    params = GenerationParams(temperature=0.0, top_p=1.0, max_tokens=24, seed=0)
    messages = [{"role": "user", "content": "The moon"}]
    with ModelPool() as pool:
        contestant = parse_spec(f"gguf:{tiny.gguf}")
        pool.load_all([contestant])
        model = pool[contestant.label]
        alone = generate(model, messages, params, threading.Event()).text  # type: ignore[arg-type]
        changes: list[int] = []

        def switch(_chunk: object) -> None:  # every token: one thread, then two, as a neighbour comes and goes
            model.set_threads(1 + len(changes) % 2)  # type: ignore[attr-defined]
            changes.append(1)

        switched = generate(model, messages, params, threading.Event(), on_chunk=switch).text  # type: ignore[arg-type]
    assert switched == alone and len(changes) > 2
    by_hand = parse_spec(f"gguf:{tiny.gguf}?n_threads=1")
    with ModelPool() as pool:
        pool.load_all([by_hand])
        pool[by_hand.label].set_threads(2)  # type: ignore[attr-defined]  # kept: set by hand
        assert pool[by_hand.label].llama.context_params.n_threads == 1  # type: ignore[attr-defined]


def test_an_hf_model_follows_its_share_in_the_generating_thread_with_the_same_text(tiny: TinyModels) -> None:
    """torch's thread count is per OS thread: the generating thread takes the share at its next token, and
    the caller's own count is left as it was."""
    import torch

    params = GenerationParams(temperature=0.0, top_p=1.0, max_tokens=24, seed=0)
    messages = [{"role": "user", "content": "The moon"}]
    caller_threads = torch.get_num_threads()
    with ModelPool() as pool:
        contestant = parse_spec(f"hf:{tiny.hf}?device=cpu")
        pool.load_all([contestant])
        model = pool[contestant.label]
        alone = generate(model, messages, params, threading.Event()).text  # type: ignore[arg-type]
        seen: list[int] = []  # the thread count in the generating thread, at each forward pass
        hook = model.model.register_forward_pre_hook(lambda *_: seen.append(torch.get_num_threads()))  # type: ignore[attr-defined]
        changes: list[int] = []
        with contextlib.ExitStack() as neighbour:
            neighbour.enter_context(SHARE.generating(Recorder()))  # another model generating: half the cores

            def switch(_chunk: object) -> None:  # after a few tokens the neighbour stops: every core
                changes.append(1)
                if len(changes) == 4:
                    neighbour.close()

            switched = generate(model, messages, params, threading.Event(), on_chunk=switch).text  # type: ignore[arg-type]
        hook.remove()
    assert switched == alone and len(changes) > 4
    half = max(SHARE.cores // 2, 1)
    assert seen[0] == half and seen[-1] == SHARE.cores and seen == sorted(seen)
    assert torch.get_num_threads() == caller_threads


def test_thread_counts_set_by_hand_beyond_the_cores_are_warned_about(tmp_path: Path, tiny: TinyModels) -> None:
    a = Contestant("a", "gguf", "a.gguf", {"n_threads": 2})
    b = Contestant("b", "gguf", "b.gguf", {"n_threads": 2})
    warning = oversubscribed([a, b], cores=2)
    assert warning is not None and "add up to 4 on 2 cores (a 2, b 2)" in warning
    assert oversubscribed([a, b], cores=4) is None
    assert oversubscribed([a, Contestant("c", "gguf", "c.gguf")], cores=1) is None  # c shares what is left
    spec = f"gguf:{tiny.gguf}?n_threads={machine_cores()}"
    result = run(
        "batch", "--db", str(tmp_path / "w.db"), "--limit", "1", "--max-tokens", "2",
        "--model", spec, "--label", "one", "--model", spec, "--label", "two",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"add up to {2 * machine_cores()} on {machine_cores()} cores" in " ".join(result.stderr.split())
    quiet = run(
        "batch", "--db", str(tmp_path / "s.db"), "--limit", "1", "--max-tokens", "2", "--sequential",
        "--model", spec, "--label", "one", "--model", spec, "--label", "two",
    )  # fmt: skip
    assert quiet.exit_code == 0 and "add up to" not in quiet.stderr  # one at a time: nothing to wait for
