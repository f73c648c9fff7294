"""A judging session, independent of any UI: which prompt comes next, which pair answers it and on which
side, and what gets written when an answer finishes and when the judge votes.

Owns ``PlaySession`` and ``Round`` (one battle in progress); the TUI and any other front end drive it.

The TUI drives this and only shows what it returns, so the rules that keep a vote honest (blind sides,
same params for both, a fresh seed per battle, the vote durable before the next prompt) live in one place
that tests can exercise without a terminal.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from arena.answers import AnalyzedAnswer, record_answer
from arena.backend import Contestant, GenerationParams, GenerationResult, Message
from arena.battle import Battle, new_battle
from arena.prompts import Prompt
from arena.report import Fidelity, fidelity_by_label
from arena.store import Store
from arena.store.faults import StoreError
from arena.store.queries import vote_table
from arena.verdicts import REASONS, SIDES, Side, Verdict, as_verdict, reason_targets

SEED_RANGE = 2**31
MAX_TURNS = 5
"""Turns per battle (the prompt and four follow-ups): longer conversations overflow small models' contexts."""


@dataclass
class Round:
    """A battle in progress: its answers as they finish, and the vote once cast."""

    number: int
    battle: Battle
    started: float = field(default_factory=time.monotonic)
    finished: dict[Side, AnalyzedAnswer] = field(default_factory=dict)
    unstored: dict[Side, GenerationResult] = field(default_factory=dict)
    verdict: Verdict | None = None
    battle_id: int | None = None

    @property
    def both_done(self) -> bool:
        return len(self.finished) == 2

    @property
    def voted(self) -> bool:
        return self.verdict is not None


JUDGE_NAME_MAX = 40


def judge_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a judge's name (typed in a browser by anyone who has the address), or None.

    Names group votes in ``arena judges``, so they must be non-empty and readable as typed: hidden
    characters (controls, bidi overrides, zero-width) would make two names that look the same differ.
    """
    from arena.untrusted import visible

    if not name.strip():
        return "Type a name: it is stored with your votes."
    if len(name) > JUDGE_NAME_MAX:
        return f"At most {JUDGE_NAME_MAX} characters, please."
    if visible(name) != name or "\n" in name or "\t" in name:
        return "Printable characters only (no control, zero-width or direction characters)."
    return None


def custom_prompt(text: str) -> Prompt:
    """A prompt typed by the judge; its id is a hash of the text so the same question groups together."""
    digest = hashlib.sha1(text.strip().encode("utf-8")).hexdigest()[:10]
    return Prompt(set="custom", id=digest, category="custom", text=text.strip())


@dataclass(frozen=True)
class Resume:
    """Where an earlier session stopped: its id and seed, its prompts already judged, its battle count."""

    session: int
    seed: int
    judged: frozenset[str]
    battles: int


def find_resume(store: Store, judge: str | None, contestant_specs: Sequence[str], prompt_set: str) -> Resume:
    """The judge's latest play session, if it ran these contestants (in this order) on this prompt set;
    ``ArenaError`` saying what differs otherwise."""
    from arena.errors import ArenaError
    from arena.store.queries import judged_prompts, last_play_session

    last = last_play_session(store, judge)
    if last is None:
        raise ArenaError(f"--resume: no earlier arena session by judge {judge!r} in this database")
    session, settings = last
    if settings.get("contestants") != list(contestant_specs) or settings.get("prompt_set") != prompt_set:
        raise ArenaError(
            f"--resume: your last session ({session}) judged other contestants or another prompt set; "
            "run it with the same --model and --prompts, or start a new session without --resume"
        )
    seed = settings.get("seed")
    if not isinstance(seed, int):
        raise ArenaError(f"--resume: session {session} recorded no seed to continue from")
    judged, battles = judged_prompts(store, session)
    return Resume(session=session, seed=seed, judged=frozenset(judged), battles=battles)


def resume_if_any(store: Store, judge: str, contestant_specs: Sequence[str], prompt_set: str) -> Resume | None:
    """The judge's last session when it ran these contestants on this prompt set, else None: a judge who
    comes back to a browser (``arena serve``) continues where they left off without being asked."""
    from arena.errors import ArenaError

    try:
        return find_resume(store, judge, contestant_specs, prompt_set)
    except ArenaError:  # no earlier session, or one on other contestants: a fresh one
        return None


class PlaySession:
    """State of one ``arena play`` run over a store, a set of contestants and a queue of prompts."""

    def __init__(
        self,
        store: Store,
        contestants: Sequence[Contestant],
        prompts: Sequence[Prompt],
        params: GenerationParams,
        *,
        judge: str | None,
        settings: dict[str, object],
        seed: int | None = None,
        shuffle: bool = True,
        rng: random.Random | None = None,
        pairing: str = "least-met",
        resume: Resume | None = None,
    ) -> None:
        """``resume`` continues an earlier session (its id, seed and judged prompts) instead of starting one.

        ``seed`` is the session seed (a fresh random one when None): it orders the prompts (``shuffle``),
        places the models on their sides and gives each battle its sampling seed, so the same seed replays a
        session exactly, and a new session never replays the last one's answers. ``rng`` replaces the
        seeded generator (tests that need a fixed pairing). ``pairing`` is "least-met" (every pair in turn) or
        "uncertain" (the pair whose order the votes so far leave least certain: ``battle.pick_uncertain_pair``)."""
        if len(contestants) < 2:
            raise ValueError("arena play needs at least two contestants")
        self.store = store
        self.contestants = list(contestants)
        if resume is not None:
            seed = resume.seed
        self.seed = seed if seed is not None else secrets.randbelow(SEED_RANGE)
        self.rng = rng or random.Random(self.seed)
        self.queue = list(prompts)
        if shuffle:
            random.Random(self.seed).shuffle(self.queue)
        self.params = params
        self.judge = judge
        self.pairing = pairing
        store.register(self.contestants, self.queue)
        self.battles_before = 0
        self.resumed = resume
        if resume is None:
            recorded = {**settings, "seed": self.seed, "prompt_order": [prompt.uid for prompt in self.queue]}
            self.session_id = store.start_session("play", judge=judge, settings=recorded)
        else:  # the same order, without what was judged; new battles get seeds after the old ones
            self.session_id = resume.session
            self.queue = [prompt for prompt in self.queue if prompt.uid not in resume.judged]
            self.battles_before = resume.battles
        self.total = len(self.queue)
        self.rounds: list[Round] = []
        self.write_failures: list[str] = []  # database errors the judge saw; the CLI exits 2 when any
        self.position = 0

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """A write to the database: a refusal (disk full, busy) is remembered for the exit status, then
        raised to the front end, which shows it and lets the judge retry."""
        try:
            yield
        except StoreError as exc:
            self.write_failures.append(str(exc))
            raise

    def current_ratings(self) -> dict[str, float]:
        """Point ratings from every stored vote (no bootstrap: this runs before each battle)."""
        from arena.ratings import compute_leaderboard, outcomes_from_votes

        outcomes = outcomes_from_votes(vote_table(self.store))
        return {rating.contestant: rating.rating for rating in compute_leaderboard(outcomes, rounds=0).ratings}

    def battle_seed(self, number: int) -> int:
        """The sampling seed of battle ``number`` (1-based, counting a resumed session's earlier battles):
        the same for both sides, new for every battle."""
        return (self.seed + self.battles_before + number - 1) % SEED_RANGE

    @property
    def current(self) -> Round | None:
        return self.rounds[-1] if self.rounds else None

    @property
    def remaining(self) -> int:
        return len(self.queue) - self.position

    def next_round(self, prompt: Prompt | None = None) -> Round | None:
        """Start the next battle: the next queued prompt, or ``prompt`` (a custom one). None when done."""
        if prompt is None:
            if self.position >= len(self.queue):
                return None
            prompt = self.queue[self.position]
            self.position += 1
        else:
            self.store.register([], [prompt])
        params = replace(self.params, seed=self.battle_seed(len(self.rounds) + 1))
        ratings = self.current_ratings() if self.pairing == "uncertain" else None
        battle = new_battle(prompt, self.contestants, self.store.battle_counts(), params, self.rng, ratings)
        current = Round(number=len(self.rounds) + 1, battle=battle)
        self.rounds.append(current)
        return current

    def finish(self, current: Round, side: Side, result: GenerationResult) -> AnalyzedAnswer:
        """Analyze and store one side's answer (its own transaction, flags included).

        When the database refuses the write (disk full, busy), the answer is kept in ``current.unstored``
        for ``store_unstored`` to retry, the failure is remembered, and ``StoreError`` propagates.
        """
        try:
            with self._writing():
                answer = record_answer(
                    self.store,
                    session=self.session_id,
                    contestant=current.battle.contestant(side).label,
                    prompt=current.battle.prompt,
                    params=current.battle.params,
                    result=result,
                    messages=current.battle.messages(side) if current.battle.history is not None else None,
                )
        except StoreError:
            current.unstored[side] = result
            raise
        current.unstored.pop(side, None)
        current.finished[side] = answer
        return answer

    def fidelity(self) -> dict[str, Fidelity]:
        """The contestants' newest ``arena fidelity`` numbers, for the reveal (read when asked: a
        measurement made in another terminal during the session shows up at the next vote)."""
        return fidelity_by_label(self.store)

    def follow_up(self, current: Round, text: str) -> Round:
        """The judge's next message, to both sides, each with its own conversation so far (its answers, not
        the other side's); a new seed. The vote, cast after the last turn, covers the whole conversation."""
        from arena.errors import ArenaError

        if current.voted or not current.both_done:
            raise RuntimeError("a follow-up needs both answers stopped and no vote yet")
        if not text.strip():
            raise ArenaError("the follow-up is empty")
        if current.battle.turn >= MAX_TURNS:
            raise ArenaError(f"{MAX_TURNS} turns is the limit: vote on the conversation as it is")
        history: dict[Side, list[Message]] = {}
        for side in SIDES:
            answer = current.finished[side].result.text
            history[side] = [
                *current.battle.messages(side),
                {"role": "assistant", "content": answer},
                {"role": "user", "content": text.strip()},
            ]
        return self._again(current, history=history)

    def _again(self, current: Round, **changes: Any) -> Round:
        """A new round of ``current``'s battle (same prompt, pair and sides) with a new sampling seed and
        ``changes`` to the battle."""
        number = len(self.rounds) + 1
        params = replace(current.battle.params, seed=self.battle_seed(number))
        again = Round(number=number, battle=replace(current.battle, params=params, **changes))
        self.rounds.append(again)
        return again

    def regenerate(self, current: Round) -> Round:
        """Ask both sides again with a new seed, before the vote: the same prompt, pair and sides (the judge
        has seen them), a new sampling seed. The answers being replaced stay stored, marked discarded, and
        never count in a vote."""
        if current.voted or not current.both_done:
            raise RuntimeError("regenerate needs both answers stopped and no vote yet")
        with self._writing():
            self.store.discard_generations([answer.generation_id for answer in current.finished.values()])
        return self._again(current)

    def toggle_reason(self, current: Round, key: str) -> list[tuple[str, str, bool]]:
        """Toggle the reason on key ``key`` (``verdicts.REASONS``) for the side(s) it is about, after the
        vote; returns (contestant, reason, now set) per side touched."""
        if current.battle_id is None or current.verdict is None or current.verdict == "skip":
            raise RuntimeError("reasons follow a vote")
        reason, praise = REASONS[key]
        changed = []
        for side in reason_targets(current.verdict, praise):
            label = current.battle.contestant(side).label
            with self._writing():
                now = self.store.toggle_reason(current.battle_id, label, reason)
            changed.append((label, reason, now))
        return changed

    def set_note(self, current: Round, note: str) -> None:
        if current.battle_id is None:
            raise RuntimeError("a note follows a vote")
        with self._writing():
            self.store.set_note(current.battle_id, note.strip() or None)

    def store_unstored(self, current: Round) -> None:
        """Retry the answers of ``current`` whose write failed; raises ``StoreError`` if one fails again."""
        for side, result in list(current.unstored.items()):
            self.finish(current, side, result)

    def vote(self, current: Round, verdict: str) -> int:
        """Write the verdict; it is durable when this returns. Only once both answers have stopped."""
        checked = as_verdict(verdict)
        if not current.both_done:
            raise RuntimeError("both answers must stop before the vote")
        if current.voted:
            raise RuntimeError("this battle already has a vote")
        battle = current.battle
        with self._writing():
            current.battle_id = self.store.record_battle(
                session=self.session_id,
                prompt=battle.prompt.uid,
                left_generation=current.finished["left"].generation_id,
                right_generation=current.finished["right"].generation_id,
                left_contestant=battle.left.label,
                right_contestant=battle.right.label,
                verdict=checked,
                judge=self.judge,
                vote_s=time.monotonic() - current.started,
            )
        current.verdict = checked
        return current.battle_id
