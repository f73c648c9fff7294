"""The battle screen's words: the settings line, the header's prompt, the reveal's notes and the after-vote
hint. Plain functions of the session's state, so the screen only places them (and tests can read them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from arena.analysis.flags import BADGES, CONSTRAINT_PREFIX
from arena.backend import GenerationParams
from arena.judging.reveal import Reveal
from arena.judging.round import Round
from arena.judging.session import PlaySession
from arena.present.info import describe_loaded
from arena.present.report_format import fidelity_text
from arena.prompts import Prompt
from arena.vocab import REASONS, VERDICT_DESCRIPTIONS, Side, Verdict

SHORT_REASONS = {"followed instructions": "followed", "well formatted": "formatted", "wrong language": "language"}
"""How the after-vote hint names the longer reasons, so the keys fit two lines at 80 columns."""


PANE_NAMES: dict[Side, str] = {"left": "Model A", "right": "Model B"}
"""How the panes are named before the vote (blind)."""


def settings_line(
    params: GenerationParams, session_seed: int, judge: str | None, battle_seed: int | None, *, sampled: bool = True
) -> str:
    """Sampling, seeds and judge: the same for both sides, so showing them gives nothing away. Where no
    contestant samples (replayed answers), the sampling settings would mean nothing and are left out."""
    judged_by = f" · judge {judge}" if judge else ""
    seed = f" · battle seed {battle_seed}" if battle_seed is not None else ""
    sampling = (
        f"temperature {params.temperature} · top_p {params.top_p} · max {params.max_tokens} tokens"
        if sampled
        else "recorded answers (no sampling)"
    )
    return f"{sampling} · session seed {session_seed}{seed}{judged_by}"


def header_prompt(current: Round) -> Prompt:
    """The prompt the header shows: the prompt, or in a follow-up turn the judge's latest message."""
    battle = current.battle
    if battle.history is None:
        return battle.prompt
    latest = str(battle.messages("left")[-1]["content"])
    return replace(battle.prompt, text=f"turn {battle.turn}: {latest}", constraints=())


def reveal_notes(revealed: Reveal) -> list[str]:
    """What ran where (device, dtype, quantization, size, context, memory) and the fidelity, if measured."""
    if revealed.info is not None:
        ran_as = describe_loaded(revealed.info)
    else:
        ran_as = f"unknown ({revealed.info_error})" if revealed.info_error else "unknown"
    notes = [*earlier_turn_notes(revealed), f"ran as: {ran_as}"]
    served = revealed.answer.result.served
    if served:  # what the engine said it ran, for this answer
        notes.append("server said: " + " · ".join(f"{key} {value}" for key, value in served.items()))
    if revealed.fidelity is not None:
        notes.append(f"fidelity: {fidelity_text(revealed.fidelity)}")
    return notes


def earlier_turn_notes(revealed: Reveal) -> list[str]:
    """What was flagged in this side's earlier turns of a follow-up conversation (the badges describe the
    last turn; the vote covers them all): "turn 1: cut off, loops"."""
    notes = []
    for turn, answer in enumerate(revealed.earlier, 1):
        hit = [BADGES[flag.name] for flag in answer.flags if flag.hit and flag.name in BADGES]
        broken = sum(1 for flag in answer.flags if flag.hit and flag.name.startswith(CONSTRAINT_PREFIX))
        if broken:
            hit.append(f"{broken} constraint(s) broken")
        notes.append(f"turn {turn}: {', '.join(hit) if hit else 'no flags'}")
    return notes


def after_vote_hint(verdict: Verdict, remaining: int, tagged: list[str]) -> str:
    """What the vote stored, the next prompt's key and the reasons' keys (not after a skip) with what is
    tagged; the footer names the other keys, so the hint stays within three lines at 80 columns."""
    why = ""
    if verdict != "skip":
        keys = " ".join(f"{key} {SHORT_REASONS.get(reason, reason)}" for key, (reason, _) in REASONS.items())
        one = " (tab: one answer, else both)" if verdict in ("tie", "both_bad") else ""
        why = f"\nwhy{one}? {keys} · m note"
        if tagged:
            why += " · tagged: " + ", ".join(tagged)
    described = VERDICT_DESCRIPTIONS[verdict]
    return f"vote stored: {described}. n: next prompt ({remaining} left){why}"


def retagged(tags: Sequence[str], changes: Sequence[tuple[str, bool]]) -> list[str]:
    """The reason tags shown after a vote ("concise A"), with each (tag, now set) change applied in order."""
    shown = list(tags)
    for tag, now in changes:
        if now and tag not in shown:
            shown.append(tag)
        elif not now and tag in shown:
            shown.remove(tag)
    return shown


def session_line(session: PlaySession, battle_seed: int | None, *, named: bool = False) -> str:
    """The settings line over the panes, with what the battles are where they are not live models, led
    by a warning in the named mode (``named``: not blind, its votes kept out of every rating)."""
    if session.generation_refused:  # the battle seed placed nothing: the answers exist already
        battle_seed = None
    line = settings_line(session.params, session.seed, session.judge, battle_seed, sampled=session.sampled)
    line = f"{session.description} · {line}" if session.description else line
    return f"NAMED, NOT BLIND: votes are kept out of every rating · {line}" if named else line
