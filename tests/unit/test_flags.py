"""Detectors on must-catch and must-not-flag outputs, property tests, and the labelled collection."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arena.analysis.flags import analyze, constraints_met, count, empty_flag, no_chat_template_flag, truncated_flag
from arena.analysis.flags.garbage import detect_garbage
from arena.analysis.flags.repetition import detect_repetition
from arena.analysis.flags.text import bullet_lines, paragraphs, sentences, split_code
from tests.support.flag_quality import evaluate, load_cases
from tests.support.helpers import REPO

CASES = REPO / "tests" / "data" / "flag_cases.jsonl"


def hits(text: str, prompt: str | None = None) -> set[str]:
    return {flag.name for flag in analyze(text, prompt=prompt) if flag.hit}


# ------------------------------------------------------------------ repetitive


def test_sentence_loop_with_one_change_names_the_looping_span() -> None:
    text = " ".join(
        f"The cat sat on the {thing} near the door." for thing in ("mat", "hat", "bat", "rug", "log", "box")
    )
    report = detect_repetition(text)
    assert report.hit
    assert report.evidence[0] == "The cat sat on the mat near the door."


def test_counting_spiral_is_a_loop_but_a_short_table_is_not() -> None:
    spiral = "\n".join(f"{2**i} x 2 = {2 ** (i + 1)}" for i in range(10))
    table = "\n".join(f"7 x {i} = {7 * i}" for i in range(1, 6))
    assert detect_repetition(spiral).hit
    assert not detect_repetition(table).hit


def test_delimiter_line_loop() -> None:
    text = 'def f():\n    """Doc."""\n    return 1\n' + '    """\n' * 5
    report = detect_repetition(text)
    assert report.hit and report.evidence == ['"""']


def test_phrase_loop_inside_one_sentence() -> None:
    report = detect_repetition("It goes " + "round and round and " * 8 + "round.")
    assert report.hit and report.trigram_share > 0.35


@pytest.mark.parametrize(
    "text",
    [
        "1. Take the goat across.\n2. Return alone.\n3. Take the wolf across.\n4. Bring the goat back.\n"
        "5. Take the cabbage across.\n6. Return alone.\n7. Take the goat across.",
        "```python\nclass P:\n    def __init__(self, a, b, c):\n        self.a = a\n        self.b = b\n        self.c = c\n"
        "        self.d = a\n        self.e = b\n```",
        "Twinkle, twinkle, little star,\nhow I wonder what you are.\nUp above the world so high,\n"
        "like a diamond in the sky.\nTwinkle, twinkle, little star,\nhow I wonder what you are.",
        "```js\nif (a) {\n  if (b) {\n    if (c) {\n      go();\n    }\n  }\n}\n```",
    ],
    ids=["numbered-list", "code-keywords", "refrain", "nested-braces"],
)
def test_legitimate_repetition_is_not_flagged(text: str) -> None:
    assert not detect_repetition(text).hit


# ------------------------------------------------------------------ garbage


def test_collapse_into_identifiers_and_symbols_lists_the_offending_tokens() -> None:
    text = "Ottawa is the capital of Canada. PersonX TrainStationFactory ]]> <|im_end|> vorblet ~~||~~"
    report = detect_garbage(text)
    assert report.hit
    assert report.evidence == ["PersonX", "TrainStationFactory", "]]>", "<|im_end|>", "vorblet", "~~||~~"]
    assert report.reasons == {"placeholder": 1, "identifier": 1, "markup": 2, "non-word": 1, "symbols": 1}


def test_mojibake_is_garbage() -> None:
    assert detect_garbage("Itâ€™s the â€œbestâ€ cafÃ© and the crÃ¨me is good.").hit


def test_identifier_in_context_is_fine() -> None:
    text = "Call TrainStationFactory.build() and then ask PlatformRegistry for a PlatformRegistryEntry."
    assert detect_garbage(text).hit
    assert not detect_garbage(
        text, prompt="How do TrainStationFactory and PlatformRegistry fit with PlatformRegistryEntry?"
    ).hit


@pytest.mark.parametrize(
    "text",
    [
        "```python\nx = foo_bar(BazQux, qlx=3)\nzzq = [i for i in range(9)]\n```\nThat is all.",
        "See https://example.org/a/b?c=d and mail me at a.b@example.com, or open ~/x/y.toml.",
        "E = mc^2, so 3.0 × 10^8 m/s squared gives 9 × 10^16 J/kg; ∫ x dx = x²/2 + C.",
        "Run a Q4_K_M GGUF with n_gpu_layers=99 on CUDA 12.4; bf16 and nf4 are alternatives.",
        "Chimamanda Ngozi Adichie met Zbigniew Brzezinski and Haruki Murakami in Reykjavik.",
        "Les marées sont causées par l'attraction de la Lune et du Soleil sur les océans.",
        "Приливы возникают из-за притяжения Луны и Солнца.",
        "Captain Zorblax steered the Veyrune past Qelthar.",
    ],
    ids=["code", "urls", "math", "technical", "proper-nouns", "french", "russian", "fiction-names"],
)
def test_legitimate_text_is_not_garbage(text: str) -> None:
    assert not detect_garbage(text).hit


def test_one_typo_never_flags() -> None:
    assert not detect_garbage("The tides are caused by the Moon's gravty pulling on the oceans.").hit


# ------------------------------------------------------------------ empty, truncated, template


@pytest.mark.parametrize(
    ("text", "empty"), [("", True), ("  \n ", True), ("...?!", True), ("Ottawa", False), ("42", False)]
)
def test_empty(text: str, empty: bool) -> None:
    assert empty_flag(text).hit is empty


def test_truncated_and_template_flags() -> None:
    assert truncated_flag("length").hit and not truncated_flag("stop").hit
    assert no_chat_template_flag(False).hit
    assert not no_chat_template_flag(True).hit and not no_chat_template_flag(None).hit


def test_analyze_returns_every_detector_and_constraint_in_order() -> None:
    flags = analyze("one two", constraints=[{"kind": "words", "max": 1}], finish_reason="length")
    assert [f.name for f in flags] == [
        "empty",
        "blank_run",
        "truncated",
        "repetitive",
        "garbage",
        "no_chat_template",
        "identity",
        "identity_prompt",
        "constraint:words",
    ]
    assert constraints_met(flags) == (0, 1)


# ------------------------------------------------------------------ text structure


def test_sentences_handle_abbreviations_decimals_lists_and_code() -> None:
    text = (
        "Dr. Smith measured 3.5 g, e.g. in the lab. It worked!\n\n1. First step.\n2. Second step\n\n"
        "```python\nprint('Not. A. Sentence.')\n```\nDone."
    )
    assert sentences(text) == [
        "Dr. Smith measured 3.5 g, e.g. in the lab.",
        "It worked!",
        "First step.",
        "Second step",
        "Done.",
    ]


def test_paragraphs_bullets_and_code_split() -> None:
    text = "Intro line.\n\n- a\n* b\n3) c\n\nEnd with `inline()` code."
    assert len(paragraphs(text)) == 3
    assert bullet_lines(text) == ["- a", "* b", "3) c"]
    prose, code = split_code(text)
    assert "inline()" in code and "inline" not in prose


def test_counts() -> None:
    counts = count("Hello there. General Kenobi!", tokens=7)
    assert (counts.words, counts.sentences, counts.characters, counts.tokens) == (4, 2, 28, 7)


# ------------------------------------------------------------------ properties


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_detectors_never_crash_and_scores_stay_in_range(text: str) -> None:
    for flag in analyze(text, finish_reason="stop"):
        assert flag.score is None or 0.0 <= flag.score <= 1.0
        assert isinstance(flag.evidence, list)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(["The river runs fast.", "Birds sing at dawn.", "Bread rises slowly."]),
        min_size=1,
        max_size=3,
        unique=True,
    )
)
def test_distinct_sentences_are_never_a_loop(parts: list[str]) -> None:
    assert not detect_repetition(" ".join(parts)).hit


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=5, max_value=12), st.sampled_from(["The water rises again.", "I will count to ten now."]))
def test_repeating_a_sentence_is_always_a_loop(times: int, sentence: str) -> None:
    assert detect_repetition(" ".join([sentence] * times)).hit


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(["the", "river", "runs", "past", "old", "mills", "and", "green", "fields"]),
        min_size=5,
        max_size=40,
    )
)
def test_known_words_are_never_garbage(tokens: list[str]) -> None:
    assert not detect_garbage(" ".join(tokens)).hit


# ------------------------------------------------------------------ the labelled collection


def test_collection_is_large_enough_and_covers_every_mode() -> None:
    scores, _ = evaluate(load_cases(CASES))
    total = next(s for s in scores if s.split == "all" and s.detector == "repetitive").cases
    assert total >= 60


@pytest.mark.parametrize("split", ["dev", "heldout", "heldout2", "dev2"])
def test_detectors_keep_their_precision_and_recall(split: str) -> None:
    """Regression guard: the figures the README reports must not silently get worse."""
    scores, mistakes = evaluate(load_cases(CASES))
    for score in scores:
        if score.split == split:
            assert score.precision >= 0.9 and score.recall >= 0.85, (score, mistakes)


def test_a_long_blank_run_is_flagged_and_ordinary_spacing_is_not() -> None:
    """The real case: a URL and then 82 lines of spaces, which looked empty in its pane before the vote."""
    url_then_nothing = "See https://example.com/tides" + "    \n" * 82
    flags = {f.name: f for f in analyze(url_then_nothing)}
    assert flags["blank_run"].hit and flags["blank_run"].evidence == ["82 blank lines in a row"]
    assert not flags["empty"].hit  # it has words: the new flag is what catches it
    assert analyze("x" + " " * 300)[1].hit
    for fine in ("One.\n\nTwo.\n\n\nThree.", "```python\ndef f():\n\n    return 1\n```", "a  b   c"):
        assert not {f.name: f for f in analyze(fine)}["blank_run"].hit


def test_counting_lines_are_a_loop_when_they_run_into_the_budget() -> None:
    """The newcomer's demo: "- [#41]" ... "- [#63]" until the token limit had no loop flag (each line is too
    short to compare as a sentence). A run of lines alike but for their numbers is a loop when the budget cut
    it, or when it is very long; a list the prompt asked for, ended on its own, is not."""
    from arena.analysis.flags import analyze

    spiral = "Here is the list of items:\n" + "".join(f"- [#{n}]\n" for n in range(41, 64))
    count = "Counting to 20:\n" + "\n".join(str(n) for n in range(1, 21))

    def looped(text: str, finish_reason: str) -> bool:
        return next(flag for flag in analyze(text, finish_reason=finish_reason) if flag.name == "repetitive").hit

    assert looped(spiral, "length") and not looped(spiral, "stop")
    assert not looped(count, "stop") and looped("\n".join(f"Step {n}: add 1" for n in range(40)), "stop")
