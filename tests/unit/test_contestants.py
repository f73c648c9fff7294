"""Contestant specs and arena.toml: parsing, typed options, labels, and one clear error per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arena.backend import Contestant
from arena.engine.contestants import parse_spec, resolve_contestants
from arena.errors import ArenaError


def test_spec_with_typed_options() -> None:
    contestant = parse_spec("replay:runs/a.jsonl?tps=40&ttft=0.25")
    assert contestant == Contestant("a", "replay", "runs/a.jsonl", {"tps": 40.0, "ttft": 0.25})
    assert isinstance(contestant.options["tps"], float)


def test_label_override_and_spec_round_trip() -> None:
    contestant = parse_spec("replay:/x/b.jsonl?tps=10", label="b-fast")
    assert contestant.label == "b-fast"
    assert parse_spec(contestant.spec, label="b-fast") == contestant


def test_default_label_keeps_the_folder_name_of_a_hub_id() -> None:
    assert parse_spec("replay:Qwen/Qwen2.5-0.5B-Instruct/").label == "Qwen2.5-0.5B-Instruct"


def test_the_same_gguf_in_two_engines_gets_two_default_labels() -> None:
    """The README's "same file in both engines" comparison works without --label."""
    in_llama_cpp = parse_spec("gguf:models/m.Q4_K_M.gguf").label
    in_transformers = parse_spec("hf:models/m.Q4_K_M.gguf").label
    assert in_llama_cpp == "m.Q4_K_M" and in_transformers == "m.Q4_K_M@hf"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("nosuch:x", "unknown backend 'nosuch' (installed: "),
        ("replay", "expected BACKEND:TARGET"),
        ("replay:", "the target after 'replay': is empty"),
        ("replay:a.jsonl?speed=3", "unknown option 'speed' for backend 'replay' (known: tps, ttft)"),
        ("replay:a.jsonl?tps=fast", "option tps='fast': expected float"),
        ("replay:a.jsonl?tps=1&tps=2", "option 'tps' given twice"),
        ("replay:a.jsonl?tps", "options must look like key=value"),
        ("9x:a", "expected BACKEND:TARGET"),
    ],
)
def test_bad_specs_raise_one_line(spec: str, expected: str) -> None:
    with pytest.raises(ArenaError) as info:
        parse_spec(spec)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_labels_pair_with_models_in_order() -> None:
    contestants = resolve_contestants(["replay:a.jsonl", "replay:b.jsonl"], ["first"])
    assert [c.label for c in contestants] == ["first", "b"]


def test_more_labels_than_models_is_an_error() -> None:
    with pytest.raises(ArenaError, match="2 --label given for 1 --model"):
        resolve_contestants(["replay:a.jsonl"], ["x", "y"])


def test_two_contestants_with_one_label_are_refused() -> None:
    with pytest.raises(ArenaError, match="share the label 'a'"):
        resolve_contestants(["replay:one/a.jsonl", "replay:two/a.jsonl"])


def test_no_contestants_explains_how_to_give_them() -> None:
    with pytest.raises(ArenaError, match="no contestants: pass --model"):
        resolve_contestants([])


def test_arena_toml_named_contestants(tmp_path: Path) -> None:
    (Path.cwd() / "outs").mkdir()
    (Path.cwd() / "outs" / "small.jsonl").write_text("")
    Path("arena.toml").write_text(
        """
[contestants.small]
spec = "replay:outs/small.jsonl?tps=20"

[contestants.big]
backend = "replay"
target = "/abs/big.jsonl"
tps = 30
label = "big-v2"
""",
        encoding="utf-8",
    )
    everyone = resolve_contestants([])
    assert [c.label for c in everyone] == ["small", "big-v2"]
    assert everyone[1].options == {"tps": 30.0}
    # a relative target that exists next to the config is resolved against the config's folder
    assert everyone[0].target == str(Path.cwd() / "outs" / "small.jsonl")
    picked = resolve_contestants(["big", "replay:c.jsonl"], ["renamed"])
    assert [c.label for c in picked] == ["renamed", "c"]


def test_arena_toml_errors_name_the_table(tmp_path: Path) -> None:
    config = tmp_path / "arena.toml"
    config.write_text('[contestants.bad]\nbackend = "replay"\ntarget = "x"\nspeed = 2\n', encoding="utf-8")
    with pytest.raises(ArenaError, match=r"arena\.toml: contestants\.bad: unknown option 'speed'"):
        resolve_contestants([], config_path=config)


def test_unknown_name_without_colon_mentions_the_config() -> None:
    Path("arena.toml").write_text('[contestants.small]\nspec = "replay:s.jsonl"\n', encoding="utf-8")
    with pytest.raises(ArenaError, match=r"arena\.toml defines: small"):
        resolve_contestants(["smal"])


_safe_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="?:"),
    min_size=1,
    max_size=30,
)


@given(target=_safe_text, tps=st.floats(min_value=0.01, max_value=1e6, allow_nan=False))
def test_spec_string_round_trips(target: str, tps: float) -> None:
    contestant = Contestant("x", "replay", target.strip() or "t", {"tps": tps})
    assert parse_spec(contestant.spec, label="x") == contestant
