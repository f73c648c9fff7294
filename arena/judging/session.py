"""A judging session, independent of any UI: which prompt comes next, which pair answers it and on which
side, running each side, what gets written when an answer finishes and when the judge votes, and what the
reveal shows.

Owns ``PlaySession``; the rules of a battle's phases are ``Round``'s (``arena.judging.round``). The TUI and
the browser drive this and only show what it returns, so the rules that keep a vote honest (blind sides,
same params for both, a fresh seed per battle, the vote durable before the next prompt) live in one place
that tests can exercise without a terminal.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from arena.backend import Contestant, GenerationParams, GenerationResult, LoadedInfo, Message
from arena.engine.battle import new_battle
from arena.engine.generation import ChunkCallback, run_job
from arena.engine.pool import ModelPool
from arena.errors import ArenaError
from arena.judging.answers import AnalyzedAnswer, record_answer
from arena.judging.resume import Resume
from arena.judging.round import MAX_TURNS, Action, Round
from arena.prompts import Prompt
from arena.reports.leaderboard import board_for
from arena.reports.vibe_check import Fidelity, fidelity_by_label
from arena.store import Store, queries, writes
from arena.store.faults import StoreError
from arena.store.session_lock import SessionBusy, SessionLock
from arena.store.settings import SessionSettings
from arena.vocab import REASONS, SIDES, Pairing, Side, as_verdict, reason_targets

__all__ = ["MAX_TURNS", "PlaySession", "Reveal", "Round"]

SEED_RANGE = 2**31


@dataclass(frozen=True)
class Reveal:
    """What the judge learns about one side after the vote: who it was, what ran where, how faithful it is."""

    label: str
    backend: str
    answer: AnalyzedAnswer
    info: LoadedInfo | None
    """As the backend resolved it at load (None when unknown: no pool, or ``info()`` failed)."""
    info_error: str | None
    fidelity: Fidelity | None


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
        settings: SessionSettings | None = None,
        seed: int | None = None,
        shuffle: bool = True,
        rng: random.Random | None = None,
        pairing: Pairing = "least-met",
        resume: Resume | None = None,
        pool: ModelPool | None = None,
    ) -> None:
        """``resume`` continues an earlier session (its id, seed and judged prompts) instead of starting one.

        ``seed`` is the session seed (a fresh random one when None): it orders the prompts (``shuffle``),
        places the models on their sides and gives each battle its sampling seed, so the same seed replays a
        session exactly, and a new session never replays the last one's answers. ``rng`` replaces the
        seeded generator (tests that need a fixed pairing). ``pairing`` is "least-met" (every pair in turn) or
        "uncertain" (the pair whose order the votes so far leave least certain: ``battle.pick_uncertain_pair``).
        ``settings`` is what the session row records (the seed, pairing and prompt order are filled in here);
        ``pool`` holds the loaded models ``run_side`` streams from."""
        if len(contestants) < 2:
            raise ValueError("arena play needs at least two contestants")
        self.store = store
        self.pool = pool
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
        writes.register(store, self.contestants, self.queue)
        self.battles_before = 0
        self.judged_before = 0
        """Prompts of this set the resumed session had judged already (0 for a new session)."""
        self.resumed = resume
        if resume is None:
            recorded = replace(
                settings or SessionSettings(),
                seed=self.seed,
                pairing=pairing,
                prompt_order=tuple(prompt.uid for prompt in self.queue),
            )
            self.session_id = writes.start_session(store, "play", judge=judge, settings=recorded)
        else:  # the same order, without what was judged; new battles get seeds after the old ones
            self.session_id = resume.session
            self.judged_before = sum(1 for prompt in self.queue if prompt.uid in resume.judged)
            self.queue = [prompt for prompt in self.queue if prompt.uid not in resume.judged]
            self.battles_before = resume.battles
        self._hold(total=len(self.queue))

    stored_from: int | None = None
    """The batch session whose stored answers are judged (``arena play --from-batch``); None when the
    contestants generate live."""

    def _hold(self, total: int) -> None:
        """Take this session's lock and start counting: the part of opening a session every kind shares."""
        self.lock = SessionLock(self.store.path, self.session_id)
        """Held while this process judges the session: a second tab under the same name starts its own."""
        if not self.lock.acquire():
            raise SessionBusy(
                f"session {self.session_id} is being judged in another arena right now (another tab or "
                "terminal under this name); finish there, or start a new session without --resume"
            )
        self.total = total
        self.rounds: list[Round] = []
        self.write_failures: list[str] = []  # database errors the judge saw; the CLI exits 2 when any
        self.position = 0
        self.finished_all = False
        """True once the queue ran out (until the judge asks a prompt of their own)."""

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """A write to the database: a refusal (disk full, busy) is remembered for the exit status, then
        raised to the front end, which shows it and lets the judge retry."""
        try:
            yield
        except StoreError as exc:
            self.write_failures.append(str(exc))
            raise

    # -- what may happen now

    def close(self) -> None:
        """This process is done judging the session: another may resume it (the process ending does the same)."""
        self.lock.release()

    def allows(self, action: Action) -> str | None:
        """Whether the judge may take ``action`` now (None), else why not ('' where the key does nothing):
        the current round's phase rules, and nothing to vote on once every prompt is judged."""
        if action == "undo":
            last = self._last_voted()
            if last is None:
                return ""
            return last.allows("undo")
        current = self.current
        if current is None or self.finished_all:
            return "" if action not in ("next", "custom") else None
        return current.allows(action)

    def _last_voted(self) -> Round | None:
        """The round of this session's latest vote (a skip included), if any."""
        return next((r for r in reversed(self.rounds) if r.verdict is not None and r.battle_id is not None), None)

    def undo(self) -> Round:
        """Take back this session's latest vote (before or after ``n``): it stays stored, marked with when and
        by whom, and no longer counts. Its prompt goes back at the end of the queue, to be judged again later
        with new answers, blind: a vote cast again on the answers just revealed would not be. Returns the
        round whose vote was taken back."""
        why = self.allows("undo")
        last = self._last_voted()
        if why is not None or last is None:
            raise RuntimeError(f"nothing to take back: {why or 'no vote yet'}")
        assert last.battle_id is not None
        with self._writing():
            writes.take_back(self.store, last.battle_id, self.judge)
        last.taken_back = True
        self._again_later(last)
        return last

    def _again_later(self, taken_back: Round) -> None:
        """Queue the battle of a vote taken back again, at the end (a custom prompt is not queued)."""
        if taken_back.battle.prompt.set != "custom":
            self.queue.append(taken_back.battle.prompt)
            self.total += 1
            self.finished_all = False

    def _require(self, current: Round, action: Action) -> None:
        """The session's own guard: a front end that skipped ``allows`` gets an error, not a bad write."""
        why = current.allows(action)
        if why is not None:
            raise RuntimeError(f"{action} is not allowed in phase {current.phase}: {why or 'nothing to do'}")

    # -- the queue

    def current_ratings(self) -> dict[str, float]:
        """Point ratings from every stored vote (no bootstrap: this runs before each battle)."""
        board = board_for(self.store, rounds=0).board
        return {rating.contestant: rating.rating for rating in board.ratings}

    def battle_seed(self, number: int) -> int:
        """The sampling seed of battle ``number`` (1-based, counting a resumed session's earlier battles):
        the same for both sides, new for every battle."""
        return (self.seed + self.battles_before + number - 1) % SEED_RANGE

    @property
    def current(self) -> Round | None:
        return self.rounds[-1] if self.rounds else None

    @property
    def progress(self) -> str:
        """ "3/8": the prompt now shown and the set's size, counting a resumed session's judged prompts."""
        return f"{self.judged_before + self.position}/{self.judged_before + self.total}"

    @property
    def remaining(self) -> int:
        return len(self.queue) - self.position

    def next_round(self, prompt: Prompt | None = None) -> Round | None:
        """Start the next battle: the next queued prompt, or ``prompt`` (a custom one). None when done."""
        if prompt is None:
            if self.position >= len(self.queue):
                self.finished_all = True
                return None
            prompt = self.queue[self.position]
            self.position += 1
        else:
            writes.register(self.store, [], [prompt])
        self.finished_all = False
        params = replace(self.params, seed=self.battle_seed(len(self.rounds) + 1))
        ratings = self.current_ratings() if self.pairing == "uncertain" else None
        battle = new_battle(prompt, self.contestants, queries.battle_counts(self.store), params, self.rng, ratings)
        current = Round(number=len(self.rounds) + 1, battle=battle)
        self.rounds.append(current)
        return current

    # -- the answers

    def run_side(
        self,
        current: Round,
        side: Side,
        cancel: threading.Event,
        on_chunk: ChunkCallback,
        on_stopped: Callable[[GenerationResult], object] = lambda _result: None,
    ) -> AnalyzedAnswer:
        """Stream one side's answer (on the caller's thread), tell ``on_stopped`` the moment it stops, then
        analyze and store it (``finish``; its ``StoreError`` propagates with the answer kept for a retry)."""
        if self.pool is None:
            raise RuntimeError("this session was opened without its models: no pool to stream from")
        job = current.battle.job(side, self.pool, cancel=cancel, on_chunk=on_chunk)
        result = run_job(job)
        on_stopped(result)
        return self.finish(current, side, result)

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

    def store_unstored(self, current: Round) -> None:
        """Retry the answers of ``current`` whose write failed; raises ``StoreError`` if one fails again."""
        for side, result in list(current.unstored.items()):
            self.finish(current, side, result)

    # -- before the vote

    def follow_up(self, current: Round, text: str) -> Round:
        """The judge's next message, to both sides, each with its own conversation so far (its answers, not
        the other side's); a new seed. The vote, cast after the last turn, covers the whole conversation."""
        if current.battle.turn >= MAX_TURNS:
            raise ArenaError(f"{MAX_TURNS} turns is the limit: vote on the conversation as it is")
        self._require(current, "follow_up")
        if not text.strip():
            raise ArenaError("the follow-up is empty")
        history: dict[Side, list[Message]] = {}
        for side in SIDES:
            answer = current.finished[side].result.text
            history[side] = [
                *current.battle.messages(side),
                {"role": "assistant", "content": answer},
                {"role": "user", "content": text.strip()},
            ]
        return self._again(current, history=history)

    def regenerate(self, current: Round) -> Round:
        """Ask both sides again with a new seed, before the vote: the same prompt, pair and sides (the judge
        has seen them), a new sampling seed. The answers being replaced stay stored, marked discarded, and
        never count in a vote."""
        self._require(current, "regenerate")
        with self._writing():
            writes.discard_generations(self.store, [answer.generation_id for answer in current.finished.values()])
        return self._again(current)

    def _again(self, current: Round, **changes: Any) -> Round:
        """A new round of ``current``'s battle (same prompt, pair and sides) with a new sampling seed and
        ``changes`` to the battle."""
        number = len(self.rounds) + 1
        params = replace(current.battle.params, seed=self.battle_seed(number))
        again = Round(number=number, battle=replace(current.battle, params=params, **changes))
        self.rounds.append(again)
        return again

    # -- the vote and after it

    def vote(self, current: Round, verdict: str) -> int:
        """Write the verdict; it is durable when this returns. Answers whose write failed are retried first
        (``StoreError`` if the database still refuses)."""
        checked = as_verdict(verdict)
        self._require(current, "vote")
        self.store_unstored(current)
        battle = current.battle
        with self._writing():
            current.battle_id = writes.record_battle(
                self.store,
                session=self.session_id,
                prompt=battle.prompt.uid,
                left_generation=current.finished["left"].generation_id,
                right_generation=current.finished["right"].generation_id,
                left_contestant=battle.left.label,
                right_contestant=battle.right.label,
                verdict=checked,
                judge=self.judge,
                vote_s=(vote_s := time.monotonic() - current.started),
            )
        current.verdict = checked
        current.vote_s = vote_s
        return current.battle_id

    def reveal(self, current: Round) -> dict[Side, Reveal]:
        """Who answered on each side, what ran where, and the newest fidelity numbers (read now: a
        measurement made in another terminal during the session shows up at the next vote). After the vote."""
        if not current.voted:
            raise RuntimeError("the reveal follows the vote")
        fidelity = self.fidelity()
        revealed = {}
        for side in SIDES:
            contestant = current.battle.contestant(side)
            info, error = self._loaded_info(contestant.label)
            revealed[side] = Reveal(
                label=contestant.label,
                backend=contestant.backend,
                answer=current.finished[side],
                info=info,
                info_error=error,
                fidelity=fidelity.get(contestant.label),
            )
        return revealed

    def _loaded_info(self, label: str) -> tuple[LoadedInfo | None, str | None]:
        if self.pool is None:
            return None, None
        try:
            return self.pool[label].info(), None
        except Exception as exc:  # a backend's info() is a nicety: never let it cost the reveal
            return None, type(exc).__name__

    def fidelity(self) -> dict[str, Fidelity]:
        """The contestants' newest ``arena fidelity`` numbers, by label."""
        return fidelity_by_label(self.store)

    def toggle_reason(self, current: Round, key: str) -> list[tuple[str, str, bool]]:
        """Toggle the reason on key ``key`` (``vocab.REASONS``) for the side(s) it is about, after the
        vote; returns (contestant, reason, now set) per side touched."""
        self._require(current, "reason")
        assert current.battle_id is not None and current.verdict is not None  # what "reason" allows
        reason, praise = REASONS[key]
        changed = []
        for side in reason_targets(current.verdict, praise):
            label = current.battle.contestant(side).label
            with self._writing():
                now = writes.toggle_reason(self.store, current.battle_id, label, reason)
            changed.append((label, reason, now))
        return changed

    def set_note(self, current: Round, note: str) -> None:
        self._require(current, "note")
        assert current.battle_id is not None
        with self._writing():
            writes.set_note(self.store, current.battle_id, note.strip() or None)
