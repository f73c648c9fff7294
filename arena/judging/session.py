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
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from typing import Any

from arena.backend import Contestant, GenerationParams, GenerationResult
from arena.engine.generation import ChunkCallback
from arena.errors import ArenaError
from arena.judging.answers import AnalyzedAnswer, record_side, record_verdict
from arena.judging.resume import Resume
from arena.judging.reveal import Reveal, reveal_sides
from arena.judging.round import MAX_TURNS, Action, Round, Turns
from arena.judging.sources import BattleSource, Draw
from arena.prompts import Prompt
from arena.reports.leaderboard import standing_of
from arena.reports.vibe_check import fidelity_by_label
from arena.store import Store, writes
from arena.store.faults import StoreError
from arena.store.session_lock import hold_session
from arena.store.settings import SessionSettings
from arena.vocab import REASONS, Pairing, Side, as_verdict, reason_targets

__all__ = ["MAX_TURNS", "PlaySession", "Reveal", "Round"]

SEED_RANGE = 2**31
GENERATING: tuple[Action, ...] = ("follow_up", "regenerate", "custom")
"""What makes the models generate: refused where the source cannot (``BattleSource.generation_refused``)."""


class PlaySession:
    """One judge's session over a store and a source of battles (``arena.judging.sources``): live models
    answering a prompt set, or a batch's stored answers. The rules are the same whatever the source."""

    def __init__(
        self,
        store: Store,
        source: BattleSource,
        *,
        judge: str | None,
        settings: SessionSettings | None = None,
        seed: int | None = None,
        rng: random.Random | None = None,
        pairing: Pairing = "least-met",
        resume: Resume | None = None,
    ) -> None:
        """``seed`` (a fresh random one when None) orders the queue, places the models on their sides and gives
        each battle its sampling seed: the same seed replays a session, a new one never replays the last one's
        answers. ``resume`` continues an earlier session (its id, seed and judged items); ``rng`` replaces the
        seeded generator (tests); ``pairing``: "least-met" (every pair in turn) or "uncertain" (the pair whose
        order is least certain); ``settings``: what the session row records (the source completes it)."""
        self.store = store
        self.source = source
        if resume is not None:
            seed = resume.seed
        self.seed = seed if seed is not None else secrets.randbelow(SEED_RANGE)
        self.rng = rng or random.Random(self.seed)
        self.judge = judge
        self.pairing = pairing
        self.resumed = resume
        self.battles_before = resume.battles if resume is not None else 0
        source.start(store, seed=self.seed, judge=judge, resume=resume)
        if resume is None:
            recorded = source.recorded(replace(settings or SessionSettings(), seed=self.seed, pairing=pairing))
            self.session_id = writes.start_session(store, "play", judge=judge, settings=recorded)
        else:
            self.session_id = resume.session
        self.lock = hold_session(store.path, self.session_id)  # a second tab under the same name starts its own
        self.rounds: list[Round] = []
        self.write_failures: list[str] = []  # database errors the judge saw; the CLI exits 2 when any
        self.finished_all = False
        """True once the queue ran out (until the judge asks a prompt of their own)."""

    # -- what front ends show about the session (they never ask the source)

    @property
    def contestants(self) -> list[Contestant]:
        return list(self.source.contestants)

    @property
    def params(self) -> GenerationParams:
        return self.source.params

    @property
    def total(self) -> int:
        return self.source.total

    @property
    def judged_before(self) -> int:
        """Items a resumed session had judged already (0 for a new session)."""
        return self.source.judged_before

    @property
    def generation_refused(self) -> str | None:
        """Why nothing can generate in this session (stored answers), or None."""
        return self.source.generation_refused

    @property
    def description(self) -> str | None:
        """What the battles are where they are not live models ("stored answers of batch session 3")."""
        return self.source.description

    @property
    def sampled(self) -> bool:
        """Whether a battle's seed changes its answers: live models that sample (not replays, not stored ones)."""
        return self.source.sampled and self.source.generation_refused is None

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
        if action in GENERATING and self.generation_refused:
            return self.generation_refused
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
        if self.source.again_later(last):
            self.finished_all = False
        return last

    def _require(self, current: Round, action: Action) -> None:
        """The session's own guard: a front end that skipped ``allows`` gets an error, not a bad write."""
        refused = self.generation_refused if action in GENERATING else None
        why = refused or current.allows(action)
        if why is not None:
            raise RuntimeError(f"{action} is not allowed in phase {current.phase}: {why or 'nothing to do'}")

    # -- the queue

    def battle_seed(self, number: int) -> int:
        """The sampling seed of battle ``number`` (1-based, counting a resumed session's earlier battles):
        the same for both sides, new for every battle."""
        return (self.seed + self.battles_before + number - 1) % SEED_RANGE

    @property
    def current(self) -> Round | None:
        return self.rounds[-1] if self.rounds else None

    @property
    def state(self) -> tuple[int, str]:
        """(round number, phase; "finished" once the queue is done): what the actions allowed depend on."""
        current = self.current
        return (current.number if current else 0, "finished" if self.finished_all else current.phase if current else "")

    @property
    def progress(self) -> str:
        """ "3/8": the item now shown and the queue's size, counting a resumed session's judged ones."""
        return f"{self.judged_before + self.source.position}/{self.judged_before + self.total}"

    @property
    def remaining(self) -> int:
        return self.total - self.source.position

    def next_round(self, prompt: Prompt | None = None) -> Round | None:
        """Start the next battle: the next in the queue, or on ``prompt`` (a judge's own). None when done."""
        if prompt is not None and self.generation_refused:
            raise ArenaError(self.generation_refused)
        number = len(self.rounds) + 1
        draw = Draw(
            self.store, number, self.battle_seed(number), self.rng, self.pairing, partial(standing_of, self.store)
        )
        battle = self.source.next_battle(draw, prompt)
        if battle is None:
            self.finished_all = True
            return None
        self.finished_all = False
        current = Round(number=number, battle=battle)
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
        """One side's answer from the source (streamed on the caller's thread), ``on_stopped`` told the moment
        it stops; a new answer is then analyzed and stored (``finish``; its ``StoreError`` propagates with the
        answer kept for a retry), a stored one is shown as it is."""
        answered = self.source.answer(current, side, cancel, on_chunk)
        on_stopped(answered.result)
        if answered.stored is not None:
            current.finished[side] = answered.stored
            return answered.stored
        return self.finish(current, side, answered.result)

    def finish(self, current: Round, side: Side, result: GenerationResult) -> AnalyzedAnswer:
        """Analyze and store one side's answer (its own transaction, flags included).

        When the database refuses the write (disk full, busy), the answer is kept in ``current.unstored``
        for ``store_unstored`` to retry, the failure is remembered, and ``StoreError`` propagates.
        """
        try:
            with self._writing():
                answer = record_side(self.store, self.session_id, current.battle, side, result)
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
        earlier = (*current.earlier, dict(current.finished))
        return self._again(current, earlier, history=current.conversations_after(text.strip()))

    def regenerate(self, current: Round, side: Side | None = None) -> Round:
        """Ask both sides again (or only ``side``, the other keeping its answer) with a new seed, before the
        vote: the same prompt, pair and sides (the judge has seen them). The answers being replaced stay
        stored, marked discarded, and never count in a vote."""
        self._require(current, "regenerate")
        replaced = [answer for key, answer in current.finished.items() if side is None or key == side]
        with self._writing():
            writes.discard_generations(self.store, [answer.generation_id for answer in replaced])
        kept = {key: answer for key, answer in current.finished.items() if side is not None and key != side}
        return self._again(current, current.earlier, kept)  # the latest turn asked again; earlier ones stand

    def _again(
        self, current: Round, earlier: Turns, kept: Mapping[Side, AnalyzedAnswer] | None = None, **changes: Any
    ) -> Round:
        """A new round of ``current``'s battle (same prompt, pair and sides) with a new sampling seed,
        ``changes`` to the battle, the conversation's ``earlier`` turns and the answers ``kept``."""
        number = len(self.rounds) + 1
        params = replace(current.battle.params, seed=self.battle_seed(number))
        again = Round(number, replace(current.battle, params=params, **changes), finished=dict(kept or {}))
        again.earlier = earlier
        self.rounds.append(again)
        return again

    # -- the vote and after it

    def vote(self, current: Round, verdict: str) -> int:
        """Write the verdict; it is durable when this returns. Answers whose write failed are retried first
        (``StoreError`` if the database still refuses)."""
        checked = as_verdict(verdict)
        self._require(current, "vote")
        self.store_unstored(current)
        vote_s = time.monotonic() - current.started
        with self._writing():
            current.battle_id = record_verdict(
                self.store, self.session_id, current.battle, current.finished, checked, judge=self.judge, vote_s=vote_s
            )
        current.verdict = checked
        current.vote_s = vote_s
        return current.battle_id

    def reveal(self, current: Round) -> dict[Side, Reveal]:
        """Who answered on each side, what ran where, and the newest fidelity numbers. After the vote."""
        if not current.voted:
            raise RuntimeError("the reveal follows the vote")
        return reveal_sides(current, self.source.loaded_info, fidelity_by_label(self.store))

    def toggle_reason(self, current: Round, key: str, chosen: Side | None = None) -> list[tuple[str, str, bool]]:
        """Toggle the reason on key ``key`` (``vocab.REASONS``) for the side(s) it is about, after the
        vote (after a tie or both-bad vote, ``chosen`` alone where given); returns (contestant, reason, now
        set) per side touched."""
        self._require(current, "reason")
        assert current.battle_id is not None and current.verdict is not None  # what "reason" allows
        reason, praise = REASONS[key]
        changed = []
        for side in reason_targets(current.verdict, praise, chosen):
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
