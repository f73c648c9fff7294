"""Automatic flags: pure functions from an output (plus its prompt and finish reason) to findings.

Every flag has a name, whether it fired (``hit``), a score in 0..1 where one makes sense, and evidence a
person can check: the looping span, the offending tokens, the reason a constraint failed. Constraint flags
are named ``constraint:<kind>`` and fire when the constraint is broken.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from arena.analysis.flags.constraints import check
from arena.analysis.flags.garbage import detect_garbage
from arena.analysis.flags.identity import detect_identity, names_in_prompt
from arena.analysis.flags.repetition import detect_repetition
from arena.analysis.flags.text import sentences, words

if TYPE_CHECKING:
    from arena.backend import GenerationResult, Message
    from arena.prompts import Prompt

BLANK_LINES_RUN = 8
BLANK_CHARS_RUN = 200
CONSTRAINT_PREFIX = "constraint:"


@dataclass(frozen=True)
class Flag:
    """One finding. ``error`` is set (and ``hit`` False) when the detector itself failed on this text."""

    name: str
    hit: bool
    score: float | None = None
    evidence: list[str] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "hit": self.hit,
            "score": self.score,
            "evidence": self.evidence,
            "error": self.error,
        }


def guarded(name: str, detect: Callable[[], Flag]) -> Flag:
    """Run one detector; if it raises, the failure becomes this flag's recorded error.

    Analysis must never cost an answer or a vote: a checker bug on one strange output shows up as a flag
    error at the reveal and in ``arena flags``, and every other flag is still computed.
    """
    try:
        return detect()
    except Exception as exc:  # any bug in a detector, on any text
        return failed_flag(name, exc)


def failed_flag(name: str, exc: Exception) -> Flag:
    """The flag a check that raised leaves behind: not a hit, with the error a person can report."""
    return Flag(name, hit=False, error=f"{type(exc).__name__}: {exc}"[:500])


@dataclass(frozen=True)
class Counts:
    words: int
    characters: int
    sentences: int
    tokens: int | None = None
    headers: int | None = None
    list_items: int | None = None
    bold: int | None = None
    """Markdown elements outside code (``arena.analysis.style``), stored so style control never re-reads outputs."""

    def to_dict(self) -> dict[str, int | None]:
        return {
            "words": self.words,
            "characters": self.characters,
            "sentences": self.sentences,
            "tokens": self.tokens,
            "headers": self.headers,
            "list_items": self.list_items,
            "bold": self.bold,
        }


def count(text: str, tokens: int | None = None) -> Counts:
    from arena.analysis.style_counts import markdown_counts  # noqa: PLC0415

    headers, list_items, bold = markdown_counts(text)
    return Counts(
        words=len(words(text)),
        characters=len(text),
        sentences=len(sentences(text)),
        tokens=tokens,
        headers=headers,
        list_items=list_items,
        bold=bold,
    )


def empty_flag(text: str) -> Flag:
    """No word-like content at all: whitespace, punctuation or nothing."""
    has_words = bool(re.search(r"[^\W_]", text))
    return Flag("empty", hit=not has_words, score=0.0 if has_words else 1.0)


_BLANK_LINES = re.compile(r"(?:[ \t\u00a0\u3000]*\n){" + str(BLANK_LINES_RUN) + ",}")
_BLANK_CHARS = re.compile(r"[\s\u200b\u2060\ufeff]{" + str(BLANK_CHARS_RUN) + ",}")


def blank_run_flag(text: str) -> Flag:
    """A long run of blank lines or whitespace: an answer that scrolls off into nothing looks empty in a
    pane (the real case: a URL followed by 82 lines of spaces), though it is not empty."""
    runs = [match.group(0) for match in (*_BLANK_LINES.finditer(text), *_BLANK_CHARS.finditer(text))]
    if not runs:
        return Flag("blank_run", hit=False, score=0.0)
    longest = max(runs, key=len)
    lines = longest.count("\n")
    described = f"{lines} blank lines in a row" if lines >= BLANK_LINES_RUN else f"{len(longest)} blank characters"
    return Flag("blank_run", hit=True, score=min(1.0, sum(map(len, runs)) / max(len(text), 1)), evidence=[described])


def truncated_flag(finish_reason: str | None) -> Flag:
    return Flag(
        "truncated",
        hit=finish_reason == "length",
        evidence=[f"finish_reason={finish_reason}"] if finish_reason else [],
    )


def no_chat_template_flag(chat_template: bool | None) -> Flag:
    """The model had no chat template and got a raw completion prompt (unknown for replayed outputs)."""
    return Flag(
        "no_chat_template",
        hit=chat_template is False,
        evidence=[] if chat_template is not False else ["raw completion prompt"],
    )


def identity_flag(text: str, label: str | None) -> Flag:
    """The answer names itself (a model family, its maker, its own label): the judge is no longer blind."""
    leak = detect_identity(text, label)
    return Flag("identity", hit=leak.hit, evidence=leak.evidence)


def identity_prompt_flag(rendered_prompt: str | None, message_texts: Sequence[str]) -> Flag:
    """The rendered prompt names a model or maker the messages did not: the chat template's own system
    prompt tells the model who it is (SmolLM's does), a leak source shown at the reveal."""
    names = names_in_prompt(rendered_prompt, message_texts)
    return Flag("identity_prompt", hit=bool(names), evidence=names)


PROMPT_SIDE_FLAGS = ("no_chat_template", "identity_prompt")
"""Flags about what the model was sent rather than what it wrote: unknown for a bare text."""


@dataclass(frozen=True)
class Seen:
    """What a detector may look at: the answer and what is known of how it was produced."""

    text: str
    prompt: str | None = None
    finish_reason: str | None = None
    chat_template: bool | None = None
    label: str | None = None
    rendered_prompt: str | None = None
    message_texts: Sequence[str] = ()


@dataclass(frozen=True)
class FlagSpec:
    """One automatic flag, declared once: its detector and every place it shows.

    The answer pane, the reports (terminal, markdown, HTML), the vibe check and ``arena report --compare``
    all read ``FLAGS``, so a new flag is its detector plus one entry here."""

    name: str
    detect: Callable[[Seen], Flag]
    meaning: str
    """One line a person reads: what a hit means."""
    badge: str | None = None
    """Its badge on the answer pane at the reveal (None: not shown as a badge)."""
    column: str | None = None
    """Its rate's column header in the reports ("repetitive"); None: not rated per contestant."""
    short: str | None = None
    """The column's narrow header in a terminal (default: ``column``)."""
    priority: int = 50
    """Which report columns a narrow terminal keeps longest (highest first)."""


FLAGS: tuple[FlagSpec, ...] = (
    FlagSpec("empty", lambda seen: empty_flag(seen.text), "no word-like content", "empty", "empty", priority=55),
    FlagSpec("blank_run", lambda seen: blank_run_flag(seen.text), "a long run of blank lines or spaces", "blank run"),
    FlagSpec(
        "truncated",
        lambda seen: truncated_flag(seen.finish_reason),
        "stopped at the token budget",
        "cut off",
        "truncated",
        short="cut off",
        priority=60,
    ),
    FlagSpec(
        "repetitive",
        lambda seen: _repetitive_flag(seen.text, cut=seen.finish_reason == "length"),
        "the same span rewritten again and again",
        "loops",
        "repetitive",
        short="loops",
        priority=80,
    ),
    FlagSpec(
        "garbage",
        lambda seen: _garbage_flag(seen.text, seen.prompt),
        "coherent text collapsing into symbol soup or invented words",
        "garbage",
        "garbage",
        priority=80,
    ),
    FlagSpec(
        "no_chat_template",
        lambda seen: no_chat_template_flag(seen.chat_template),
        "a raw completion prompt: the model had no chat template",
        "no template",
    ),
    FlagSpec(
        "identity",
        lambda seen: identity_flag(seen.text, seen.label),
        "the answer names its model or maker",
        "names itself",
        "names itself",
        short="leaks",
        priority=50,
    ),
    FlagSpec(
        "identity_prompt",
        lambda seen: identity_prompt_flag(seen.rendered_prompt, seen.message_texts),
        "the rendered prompt (a template's system prompt) names a model or maker",
    ),
)
"""Every detector, in the order it runs and is stored."""

RATED_FLAGS: tuple[str, ...] = tuple(spec.name for spec in FLAGS if spec.column is not None)
"""The flags the reports rate per contestant (with an interval), in ``FLAGS`` order."""
BADGES: dict[str, str] = {spec.name: spec.badge for spec in FLAGS if spec.badge is not None}


def analyze(
    text: str,
    *,
    prompt: str | None = None,
    constraints: Sequence[Mapping[str, Any]] = (),
    finish_reason: str | None = None,
    chat_template: bool | None = None,
    label: str | None = None,
    rendered_prompt: str | None = None,
    message_texts: Sequence[str] = (),
) -> list[Flag]:
    """Every detector of ``FLAGS``, then one flag per declared constraint."""
    seen = Seen(text, prompt, finish_reason, chat_template, label, rendered_prompt, message_texts)
    flags = [guarded(spec.name, functools.partial(spec.detect, seen)) for spec in FLAGS]
    for constraint in constraints:
        name = CONSTRAINT_PREFIX + str(constraint.get("kind"))
        flags.append(guarded(name, functools.partial(_constraint_flag, text, constraint)))
    return flags


def _repetitive_flag(text: str, *, cut: bool = False) -> Flag:
    repetition = detect_repetition(text, cut=cut)
    return Flag("repetitive", repetition.hit, repetition.score, repetition.evidence)


def _garbage_flag(text: str, prompt: str | None) -> Flag:
    garbage = detect_garbage(text, prompt)
    return Flag("garbage", garbage.hit, garbage.score, garbage.evidence)


def _constraint_flag(text: str, constraint: Mapping[str, Any]) -> Flag:
    result = check(text, constraint)
    return Flag(CONSTRAINT_PREFIX + result.kind, hit=not result.passed, evidence=[result.reason])


def analyze_result(
    prompt: Prompt, result: GenerationResult, label: str | None = None, sent: Sequence[Message] | None = None
) -> tuple[list[Flag], Counts]:
    """Flags and counts for one generation, as batch and the TUI store them (``sent``: the messages the
    model received, when more than the prompt's)."""
    flags = analyze(
        result.text,
        prompt=prompt.text,
        constraints=prompt.constraints,
        finish_reason=result.finish_reason,
        chat_template=result.chat_template,
        label=label,
        rendered_prompt=result.rendered_prompt,
        message_texts=[message["content"] for message in (sent if sent is not None else prompt.messages())],
    )
    try:
        counts = count(result.text, tokens=result.n_tokens)
    except Exception:  # counting is as fallible as any detector; a rough count beats a lost answer
        counts = Counts(
            words=len(result.text.split()), characters=len(result.text), sentences=0, tokens=result.n_tokens
        )
    return flags, counts


def constraints_met(flags: Sequence[Flag]) -> tuple[int, int]:
    """(met, total) over the constraint flags."""
    constraint_flags = [flag for flag in flags if flag.name.startswith(CONSTRAINT_PREFIX)]
    return sum(1 for flag in constraint_flags if not flag.hit), len(constraint_flags)
