"""One way to build a judging session, shared by ``arena play``, ``arena demo`` and ``arena serve``.

``PlayOptions`` is what the judge asked for (the play command's options, typed); ``check`` refuses what
cannot run before any model loads; ``session_opener`` returns the function that opens (or resumes) the
session of a named judge, which the app calls at once for a known judge or after a browser judge has typed
their name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from arena.backend import Contestant, GenerationParams
from arena.engine.pool import ModelPool
from arena.errors import ArenaError
from arena.judging.guide import JudgeGuide, guiding_judge
from arena.judging.resume import Resume, find_resume, resume_if_any
from arena.judging.session import PlaySession
from arena.judging.sources import LiveSource
from arena.judging.stored import StoredSource, find_stored_resume, load_batch, resolve_batch, unjudged
from arena.prompts import PromptSet, checked_system, load_prompt_set
from arena.store import Store
from arena.store.session_lock import SessionBusy, session_busy
from arena.store.settings import ContestantRef, SessionSettings
from arena.vocab import Pace, Pairing

SessionOpener = Callable[[str | None], PlaySession]
"""Opens (starts in the database, or resumes) the play session of the named judge (None: unattributed)."""


@dataclass(frozen=True)
class PlayOptions:
    """What ``arena play`` was asked to run, as the core's own types."""

    contestants: tuple[Contestant, ...]
    prompt_set: str
    params: GenerationParams
    db_path: Path
    judge: str | None = None
    seed: int | None = None
    """The session seed (None: a fresh random one)."""
    pace: Pace = "live"
    show_speed: bool = False
    sequential: bool = False
    pairing: Pairing = "least-met"
    pairing_judge: str | None = None
    """The automatic judge whose doubt pairing ``judge-uncertain`` follows (None: the batch's only one)."""
    resume: bool = False
    ask_judge: bool = False
    """The judge types their name in the app (each browser of ``arena serve``)."""
    from_batch: str | None = None
    """Judge a batch session's stored answers (a session number or ``latest``) instead of live models."""
    hide_board: bool = False
    """The judge sees no leaderboard (``arena serve --hide-board``)."""
    system: str | None = None
    """A system message for every prompt, the judge's own included (``--system``)."""
    named: bool = False
    """Not blind (``--named``): the panes name their models; votes are stored as ``named:JUDGE``."""

    @property
    def specs(self) -> list[str]:
        return [contestant.spec for contestant in self.contestants]

    def check(self, command: str = "arena play") -> PromptSet | None:
        """Refuse what cannot run (one line each), before any model loads; the prompt set, loaded (None on
        stored answers: the batch's own prompts are judged)."""
        if self.pairing_judge is not None and self.pairing != "judge-uncertain":
            raise ArenaError("--pairing-judge names the judge --pairing judge-uncertain follows; add that")
        if self.pairing == "judge-uncertain" and self.from_batch is None:
            raise ArenaError(
                "--pairing judge-uncertain draws from stored answers an automatic judge has judged: add "
                "--from-batch N (arena autojudge --batch N judges them first)"
            )
        if self.from_batch is not None:
            if self.resume and self.seed is not None:
                raise ArenaError("--resume continues the session with its own seed; leave out --seed")
            return None
        if len(self.contestants) < 2:
            raise ArenaError(f"{command} needs at least two contestants (--model twice, or two in arena.toml)")
        if self.resume and self.seed is not None:
            raise ArenaError("--resume continues the session with its own seed; leave out --seed")
        return load_prompt_set(self.prompt_set).with_system(checked_system(self.system))


def _refuse_busy(store: Store, session: int | None) -> None:
    """``--resume`` of a session another arena judges right now: one line, before anything loads."""
    if session is not None and session_busy(store.path, session):
        raise SessionBusy(f"--resume: session {session} is being judged in another arena right now; finish there first")


def _opened_or_own(
    options: PlayOptions, opened: Callable[[Resume | None], PlaySession], continued: Resume | None
) -> PlaySession:
    """The session ``continued`` resumes; for a browser's judge whose session another tab judges right now, a
    session of its own (a terminal's ``--resume`` was refused before: ``_refuse_busy``)."""
    try:
        return opened(continued)
    except SessionBusy:
        if not options.ask_judge:
            raise
        return opened(None)


def stored_opener(options: PlayOptions, store: Store) -> SessionOpener:
    """The opener of sessions on a batch's stored answers (``--from-batch``); the batch is read now, so a
    wrong session number is one line before the screen opens. ``--resume`` (and a browser judge who comes
    back) continues the judge's last session on this batch; either way no battle they voted on comes again."""
    assert options.from_batch is not None
    batch = load_batch(store, resolve_batch(store, options.from_batch))
    if not options.ask_judge and unjudged(store, batch, options.judge) == 0:  # a browser shows its end screen
        raise ArenaError(
            f"--from-batch {batch.session}: judge {options.judge!r} has voted on all {len(batch.battles)} battles "
            "of this batch already; nothing is left to judge"
        )
    resumed = find_stored_resume(store, options.judge, batch.session) if options.resume else None
    if options.resume and resumed is None:
        raise ArenaError(f"--resume: no earlier session by judge {options.judge!r} on batch session {batch.session}")
    _refuse_busy(store, resumed.session if resumed is not None else None)
    guide = None
    if options.pairing == "judge-uncertain":
        pairs = [battle.pair for battle in batch.battles]
        guide = JudgeGuide.read(store, guiding_judge(store, pairs, options.pairing_judge, batch.session))

    def open_session(judge: str | None) -> PlaySession:
        continued = resumed
        if options.ask_judge and judge is not None:
            continued = find_stored_resume(store, judge, batch.session)
        return _opened_or_own(options, lambda resume: opened(judge, resume), continued)

    def opened(judge: str | None, continued: Resume | None) -> PlaySession:
        return PlaySession(
            store,
            StoredSource(batch, guide),
            judge=judge,
            settings=SessionSettings(pace=options.pace, pairing_judge=guide.judge if guide is not None else None),
            seed=options.seed,
            pairing=options.pairing,
            resume=continued,
        )

    return open_session


def session_opener(options: PlayOptions, prompts: PromptSet, store: Store, pool: ModelPool) -> SessionOpener:
    """The opener of this run's sessions. ``--resume`` is looked up now (a mismatch is one line before the
    screen opens); a judge who names themselves in a browser continues their last session when it ran these
    contestants on this prompt set."""
    resumed = find_resume(store, options.judge, options.specs, prompts.name) if options.resume else None
    uids = {prompt.uid for prompt in prompts.prompts}
    if resumed is not None and uids <= resumed.judged:
        raise ArenaError(
            f"--resume: your last session ({resumed.session}) has judged all {len(uids)} prompts of "
            f"'{prompts.name}': nothing is left; run without --resume for a new session on them"
        )
    _refuse_busy(store, resumed.session if resumed is not None else None)  # said before any model loads
    settings = SessionSettings(
        prompt_set=prompts.name,
        params=options.params.to_dict(),
        contestants=tuple(ContestantRef(spec=spec) for spec in options.specs),
        pace=options.pace,
    )

    def open_session(judge: str | None) -> PlaySession:
        continued = resumed
        if options.ask_judge and judge is not None:
            continued = resume_if_any(store, judge, options.specs, prompts.name)
            if continued is not None and uids <= continued.judged:  # all judged: a new session on them
                continued = None
        return _opened_or_own(options, lambda resume: opened(judge, resume), continued)

    def opened(judge: str | None, continued: Resume | None) -> PlaySession:
        return PlaySession(
            store,
            LiveSource(options.contestants, prompts.prompts, options.params, pool=pool, system=options.system),
            judge=judge,
            settings=settings,
            seed=options.seed,
            pairing=options.pairing,
            resume=continued,
        )

    return open_session
