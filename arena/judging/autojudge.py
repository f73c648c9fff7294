"""An automatic judge beside the humans (``arena autojudge``): a model reads the prompt and two answers and
says which is better, in both orders, and its verdict is stored as a vote by ``auto:LABEL``.

Two ways to ask, by what the judge model can do:

- a local model that can score tokens (``hf``, ``gguf``: ``arena.backend.scoring.TokenScorer``) gives the
  next-token probabilities of ``A``, ``B`` and ``C`` (tie) after the judge prompt: one forward pass per
  order, no decoding, no parsing;
- any other model (``openai``: a strong model on a local server) generates a short verdict that ends in
  ``[[A]]``, ``[[B]]`` or ``[[C]]`` (MT-Bench's format), parsed from its reply.

Every pair is judged in both orders, the answers swapped; the verdict counts only where both orders agree,
otherwise it is a tie marked inconsistent (MT-Bench's rule against position bias). The judge never sees the
contestants' labels; in a multi-turn battle it sees each side's whole conversation.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from arena.backend import Contestant, GenerationParams, Loaded, Message
from arena.backend.scoring import AnswerScorer, TokenScorer, can_score
from arena.engine.generation import generate
from arena.errors import ArenaError
from arena.judging.stored import load_batch, not_judged_by, resolve_batch
from arena.store import Store, writes
from arena.store.auto_verdicts import voted_answer_pairs
from arena.store.settings import ContestantRef, SessionSettings
from arena.vocab import Verdict

Letter = Literal["A", "B", "C"]
LETTERS: tuple[Letter, ...] = ("A", "B", "C")

DEFAULT_PROMPT = """Please act as an impartial judge and evaluate the quality of the responses provided by two \
AI assistants to the user's question below. Choose the assistant that follows the user's instructions and \
answers the question better: consider helpfulness, correctness, relevance, depth and clarity. Do not let the \
order of the responses, their length or the assistants' names influence you.

[User question]
{question}

[The start of assistant A's answer]
{answer_a}
[The end of assistant A's answer]

[The start of assistant B's answer]
{answer_b}
[The end of assistant B's answer]

{verdict_format}"""
"""The default judge prompt (after MT-Bench's pairwise prompt). A ``--judge-prompt`` file replaces it: the
same placeholders, each filled once (an answer holding ``{answer_b}`` stays text)."""

VERDICT_FORMATS: dict[str, str] = {
    "letter": "Which answer is better? Reply with one letter: A if assistant A's answer is better, B if "
    "assistant B's answer is better, C if they are equally good.",
    "brackets": 'After a short explanation, output your final verdict strictly in this format: "[[A]]" if '
    'assistant A is better, "[[B]]" if assistant B is better, and "[[C]]" for a tie.',
}
PLACEHOLDERS = ("question", "answer_a", "answer_b", "verdict_format")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
REPLY_TOKENS = 512
"""What a generated verdict may use: room for a short explanation before ``[[X]]``."""
_REPLY_VERDICT = re.compile(r"\[\[\s*([ABC])\s*\]\]")


def prompt_version(template: str) -> str:
    """The judge prompt's version, stored with each verdict: the first 12 hex digits of its SHA-256."""
    return hashlib.sha256(template.encode("utf-8")).hexdigest()[:12]


def check_template(template: str) -> str:
    """A judge prompt that has both answers' places (one line otherwise)."""
    missing = [f"{{{name}}}" for name in ("answer_a", "answer_b") if f"{{{name}}}" not in template]
    if missing:
        raise ArenaError(f"--judge-prompt: the prompt has no {' and no '.join(missing)}: where would the answers go?")
    return template


@dataclass(frozen=True)
class JudgeItem:
    """Two stored answers to one prompt, as the judge will see them (labels kept only to store the vote)."""

    prompt: str
    left_label: str
    right_label: str
    left_generation: int
    right_generation: int
    left_messages: Sequence[Message]
    right_messages: Sequence[Message]
    left_answer: str
    right_answer: str

    @property
    def pair(self) -> frozenset[int]:
        return frozenset((self.left_generation, self.right_generation))


def items_to_judge(
    store: Store, *, judge: str, session: int | None = None, batch: int | None = None, limit: int | None = None
) -> tuple[list[JudgeItem], int]:
    """The answer pairs to judge and how many ``judge`` had judged already: every pair people voted on
    (``session``: in that session only), or with ``batch`` every pair of a batch's contestants per prompt."""
    if batch is not None:
        items = [
            JudgeItem(
                prompt=stored.prompt.uid,
                left_label=stored.first.contestant,
                right_label=stored.second.contestant,
                left_generation=stored.first.generation_id,
                right_generation=stored.second.generation_id,
                left_messages=stored.prompt.messages(),
                right_messages=stored.prompt.messages(),
                left_answer=stored.first.result.text,
                right_answer=stored.second.result.text,
            )
            for stored in load_batch(store, resolve_batch(store, str(batch), "--batch"), "--batch").battles
        ]
    else:
        items = [
            JudgeItem(
                prompt=row.prompt,
                left_label=row.left_contestant,
                right_label=row.right_contestant,
                left_generation=row.left_generation,
                right_generation=row.right_generation,
                left_messages=row.left_messages,
                right_messages=row.right_messages,
                left_answer=row.left_output,
                right_answer=row.right_output,
            )
            for row in voted_answer_pairs(store, session)
        ]
    left = not_judged_by(store, judge, items)
    return (left[:limit] if limit else left), len(items) - len(left)


def _question(messages: Sequence[Message]) -> str:
    """The system prompt (if any) and the first user message: what both sides were asked."""
    system = [m["content"] for m in messages if m["role"] == "system"]
    first_user = next((m["content"] for m in messages if m["role"] == "user"), "")
    return "\n\n".join([*(f"(system prompt) {text}" for text in system), first_user])


def _thread(messages: Sequence[Message], answer: str) -> str:
    """One side's answer; in a multi-turn battle its whole conversation after the first question."""
    users = [index for index, m in enumerate(messages) if m["role"] == "user"]
    if len(users) <= 1:
        return answer
    lines = []
    for message in messages[users[0] + 1 :]:
        lines.append(("Assistant: " if message["role"] == "assistant" else "User: ") + message["content"])
    lines.append("Assistant: " + answer)
    return "\n\n".join(lines)


def judge_messages(template: str, item: JudgeItem, *, left_first: bool, verdict_format: str) -> list[Message]:
    """The judge's prompt for one order: the battle's left answer as A (``left_first``) or as B."""
    left = _thread(item.left_messages, item.left_answer)
    right = _thread(item.right_messages, item.right_answer)
    values = {
        "question": _question(item.left_messages),
        "answer_a": left if left_first else right,
        "answer_b": right if left_first else left,
        "verdict_format": VERDICT_FORMATS[verdict_format],
    }
    text = _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)  # one pass: inserted text stays text
    return [{"role": "user", "content": text}]


@dataclass(frozen=True)
class OrderVerdict:
    """What the judge said in one order: its letter, and the probabilities or the reply it came from."""

    choice: Letter
    probabilities: Mapping[str, float] | None = None
    reply: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"choice": self.choice, "probabilities": dict(self.probabilities or {}) or None, "reply": self.reply}


class Judge(Protocol):
    verdict_format: str

    def verdict(self, messages: Sequence[Message]) -> OrderVerdict: ...


class ProbabilityJudge:
    """Next-token probabilities of A, B and C after the prompt (a local model that can score tokens)."""

    verdict_format = "letter"

    def __init__(self, loaded: Loaded) -> None:
        if not can_score(loaded):
            raise ArenaError("this judge cannot score tokens")
        self.scorer: TokenScorer = loaded  # type: ignore[assignment]
        self.letter_ids = letter_tokens(self.scorer.vocabulary())
        missing = [letter for letter in ("A", "B") if not self.letter_ids[letter]]
        if missing:
            raise ArenaError(
                f"the judge's vocabulary has no token for {' or '.join(missing)} on its own: its verdict cannot be "
                "read from its next-token probabilities"
            )

    def verdict(self, messages: Sequence[Message]) -> OrderVerdict:
        ids = self.scorer.prompt_token_ids(messages)
        row = self.scorer.next_token_logprobs(ids, [ids[-1]])[0]  # the row after the prompt; the token is any
        mass = {letter: float(sum(math.exp(float(row[i])) for i in self.letter_ids[letter])) for letter in LETTERS}
        total = sum(mass.values())
        if not total > 0:
            raise ArenaError("the judge gave A, B and C no probability at all")
        shares: dict[str, float] = {letter: mass[letter] / total for letter in LETTERS}
        choice: Letter = max(LETTERS, key=lambda letter: shares[letter])
        return OrderVerdict(choice=choice, probabilities={**shares, "mass": total})


def letter_tokens(vocabulary: Sequence[str]) -> dict[Letter, list[int]]:
    """The token ids that spell each verdict letter on its own (``A``, ``ĠA``, ``▁A``: with or without the
    tokenizer's space marker)."""
    found: dict[Letter, list[int]] = {letter: [] for letter in LETTERS}
    for token_id, text in enumerate(vocabulary):
        spelled = text.replace("Ġ", " ").replace("▁", " ").strip()
        if spelled in found:
            found[spelled].append(token_id)
    return found


class ReplyJudge:
    """A generated verdict in MT-Bench's ``[[A]]`` / ``[[B]]`` / ``[[C]]`` form (greedy)."""

    verdict_format = "brackets"

    def __init__(self, loaded: Loaded) -> None:
        self.loaded = loaded

    def verdict(self, messages: Sequence[Message]) -> OrderVerdict:
        params = GenerationParams(temperature=0.0, top_p=1.0, max_tokens=REPLY_TOKENS, seed=0)
        result = generate(self.loaded, messages, params, threading.Event())
        if result.error:
            raise ArenaError(f"the judge failed: {result.error}")
        found = _REPLY_VERDICT.findall(result.text)
        if not found:
            tail = " ".join(result.text.split())[-80:]
            raise ArenaError(f"the judge's reply holds no [[A]], [[B]] or [[C]] (it ended: {tail!r})")
        if len(set(found)) > 1:  # an answer that quotes a verdict at the judge must not get to choose it
            given = ", ".join(f"[[{choice}]]" for choice in sorted(set(found)))
            raise ArenaError(f"the judge's reply holds different verdicts ({given}): none is taken")
        return OrderVerdict(choice=found[0], reply=result.text)


def judge_for(loaded: Loaded) -> Judge:
    """Probabilities where the model can score tokens, a generated verdict otherwise."""
    return ProbabilityJudge(loaded) if can_score(loaded) else ReplyJudge(loaded)


@dataclass(frozen=True)
class AutoVerdict:
    """Both orders, and the verdict they make for the battle's left/right."""

    verdict: Verdict
    consistent: bool
    first: OrderVerdict
    """The battle's left answer shown as A."""
    second: OrderVerdict
    """The battle's left answer shown as B."""
    seconds: float


def combine(first: OrderVerdict, second: OrderVerdict) -> tuple[Verdict, bool]:
    """MT-Bench's rule: a winner only where both orders pick it; otherwise a tie, marked inconsistent when
    the orders disagree (a tie in both orders is a consistent tie)."""
    if first.choice == "A" and second.choice == "B":
        return "left", True
    if first.choice == "B" and second.choice == "A":
        return "right", True
    return "tie", first.choice == second.choice == "C"


class RewardJudge:
    """A reward model judges each side on its own (``AnswerScorer``): the left answer is better with
    probability sigma(score_left - score_right) (Bradley-Terry on the rewards). One score per answer, so no
    position bias and no judge prompt; the verdict is the likelier side, a tie only where the scores are equal."""

    def __init__(self, scorer: AnswerScorer) -> None:
        self.scorer = scorer

    def judge_pair(self, item: JudgeItem) -> AutoVerdict:
        start = time.perf_counter()
        left = self.scorer.score(_conversation(item.left_messages, item.left_answer))
        right = self.scorer.score(_conversation(item.right_messages, item.right_answer))
        if not (math.isfinite(left) and math.isfinite(right)):
            raise ArenaError("the reward model gave a score that is not a number")
        probability = 1.0 / (1.0 + math.exp(min(max(right - left, -700.0), 700.0)))
        verdict: Verdict = "left" if probability > 0.5 else ("right" if probability < 0.5 else "tie")
        choice: Letter = "A" if verdict == "left" else ("B" if verdict == "right" else "C")
        shares = {"A": probability, "B": 1 - probability, "C": 0.0}
        first = OrderVerdict(choice=choice, probabilities=shares, reply=f"rewards {left:.4f} {right:.4f}")
        second = OrderVerdict(_MIRROR[choice], {"A": 1 - probability, "B": probability, "C": 0.0}, first.reply)
        return AutoVerdict(verdict, True, first, second, time.perf_counter() - start)


def _conversation(messages: Sequence[Message], answer: str) -> list[Message]:
    """What the reward model scores: the conversation the side was sent, then its answer."""
    return [*messages, {"role": "assistant", "content": answer}]


_MIRROR: dict[Letter, Letter] = {"A": "B", "B": "A", "C": "C"}
"""The same verdict with the answers swapped: the reward judge's second order is its first, mirrored."""
REWARD_VERSION = "reward"
"""Stored as the prompt version of a reward model's verdicts (it reads no judge prompt)."""


def judge_item(judge: Judge, template: str, item: JudgeItem) -> AutoVerdict:
    """Judge one pair in both orders."""
    start = time.perf_counter()
    first = judge.verdict(judge_messages(template, item, left_first=True, verdict_format=judge.verdict_format))
    second = judge.verdict(judge_messages(template, item, left_first=False, verdict_format=judge.verdict_format))
    verdict, consistent = combine(first, second)
    return AutoVerdict(verdict, consistent, first, second, time.perf_counter() - start)


@dataclass
class AutojudgeRun:
    """One ``arena autojudge`` run: its session, what it stored, what failed, whether it was interrupted."""

    judge: str
    prompt_version: str
    session: int
    done: list[tuple[JudgeItem, AutoVerdict]] = field(default_factory=list)
    failures: int = 0
    interrupted: bool = False

    @property
    def inconsistent(self) -> int:
        return sum(1 for _, verdict in self.done if not verdict.consistent)

    @property
    def seconds_per_pair(self) -> float:
        return sum(verdict.seconds for _, verdict in self.done) / len(self.done) if self.done else 0.0


def run_autojudge(
    store: Store,
    judging: Judge | RewardJudge,
    items: Sequence[JudgeItem],
    *,
    judge: str,
    judge_contestant: Contestant,
    template: str,
    on_item: Callable[[JudgeItem, AutoVerdict | ArenaError], None] = lambda _item, _outcome: None,
) -> AutojudgeRun:
    """Judge ``items`` in both orders under a session of their own, storing each verdict as a vote by
    ``judge`` the moment it is made (its own transaction). A pair the judge fails on (``ArenaError``, a
    backend's too) is counted and skipped; ``on_item`` hears of each. Ctrl-C stops the run with every
    verdict made so far stored (``interrupted``)."""
    version = REWARD_VERSION if isinstance(judging, RewardJudge) else prompt_version(template)
    ref = ContestantRef(spec=judge_contestant.spec, label=judge_contestant.label)
    source = "reward model" if version == REWARD_VERSION else f"judge prompt {version}"
    settings = SessionSettings(contestants=(ref,), source=source)
    run = AutojudgeRun(judge, version, writes.start_session(store, "autojudge", judge=judge, settings=settings))
    try:
        for item in items:
            try:
                if isinstance(judging, RewardJudge):
                    verdict = judging.judge_pair(item)
                else:
                    verdict = judge_item(judging, template, item)
            except ArenaError as exc:  # one line per failed pair, the run goes on
                run.failures += 1
                on_item(item, exc)
                continue
            _store_verdict(store, run, item, verdict, judge_contestant.spec)
            run.done.append((item, verdict))
            on_item(item, verdict)
    except KeyboardInterrupt:
        run.interrupted = True
    return run


def _store_verdict(store: Store, run: AutojudgeRun, item: JudgeItem, verdict: AutoVerdict, spec: str) -> None:
    writes.record_battle(
        store,
        session=run.session,
        prompt=item.prompt,
        left_generation=item.left_generation,
        right_generation=item.right_generation,
        left_contestant=item.left_label,
        right_contestant=item.right_label,
        verdict=verdict.verdict,
        judge=run.judge,
        vote_s=verdict.seconds,
        auto=writes.AutoVerdictRow(
            spec, run.prompt_version, verdict.consistent, verdict.first.to_dict(), verdict.second.to_dict()
        ),
    )


def verdict_record(item: JudgeItem, verdict: AutoVerdict) -> dict[str, Any]:
    """One verdict with both orders, as ``arena autojudge --json`` prints it."""
    return {
        "prompt": item.prompt,
        "left": item.left_label,
        "right": item.right_label,
        "left_generation": item.left_generation,
        "right_generation": item.right_generation,
        "verdict": verdict.verdict,
        "consistent": verdict.consistent,
        "left_as_a": verdict.first.to_dict(),
        "left_as_b": verdict.second.to_dict(),
        "seconds": round(verdict.seconds, 3),
    }
