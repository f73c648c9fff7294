"""The battle screen: prompt on top, two anonymous answers streaming side by side, vote, reveal.

Workers only stream into buffers and post a message when a side is done; a 30 Hz timer copies the
buffers to the screen, so thousands of tokens per second never mean thousands of redraws.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, TypeVar, cast

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from arena.backend import GenerationResult
from arena.errors import ArenaError
from arena.judging.answers import AnalyzedAnswer
from arena.judging.round import Action
from arena.judging.session import GENERATING, PlaySession, Round
from arena.judging.summary import done_line, summarize
from arena.prompts import Prompt, custom_prompt
from arena.tui.battle_text import PANE_NAMES, after_vote_hint, header_prompt, retagged, reveal_notes, session_line
from arena.tui.keys import BATTLE_BINDINGS, SESSION_ACTIONS, action_name
from arena.tui.pacing import Presentation
from arena.tui.screens.battle_actions import ask_follow_up, ask_note, show_sent_prompts, take_back, toggle_view
from arena.tui.screens.custom_prompt import CustomPromptScreen
from arena.tui.screens.help import HelpScreen
from arena.tui.screens.leaderboard import LeaderboardScreen
from arena.tui.screens.summary import SummaryScreen
from arena.tui.streams import RoundStreams
from arena.tui.text import literal
from arena.tui.widgets.answer_pane import AnswerPane
from arena.tui.widgets.prompt_header import PromptHeader
from arena.vocab import SIDES, Side, as_verdict, other_side

T = TypeVar("T")
REFRESH_HZ = 30


class Refused:
    """What ``BattleScreen.attempt`` gives back when the database refused a write."""


REFUSED = Refused()
REGENERATE_ONE_NEEDS_FOCUS = "Tab to the answer to regenerate first: R asks the focused one again, r both."


@dataclass
class SideStreamed(Message):
    """Posted from a worker thread the moment one side's stream stops, before analysis and storage."""

    round_number: int
    side: Side
    result: GenerationResult


@dataclass
class SideDone(Message):
    """Posted from a worker thread when one side's stream has stopped and been stored."""

    round_number: int
    side: Side
    answer: AnalyzedAnswer


@dataclass
class SideUnstored(Message):
    """Posted from a worker thread when one side's answer could not be written (disk full, busy file)."""

    round_number: int
    side: Side
    error: str


class BattleScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = list(BATTLE_BINDINGS)

    def __init__(self, session: PlaySession, presentation: Presentation | None = None) -> None:
        super().__init__()
        self.session = session
        self.presentation = presentation or Presentation()
        self.streams = RoundStreams()
        self.reasons_shown: list[str] = []  # "concise (m2)": the tags of the battle just judged
        self.keys_phase: tuple[int, str] | None = None
        """(round number, phase) the footer's keys were last chosen for."""

    def compose(self) -> ComposeResult:
        yield Static(literal(session_line(self.session, None, named=self.presentation.named)), id="settings")
        yield PromptHeader(id="prompt")
        with Horizontal(id="panes"):
            yield AnswerPane(PANE_NAMES["left"], id="left")
            yield AnswerPane(PANE_NAMES["right"], id="right")
        yield Static(Text(""), id="hint")
        yield Footer(compact=True, show_command_palette=False)

    def pane(self, side: Side) -> AnswerPane:
        return self.query_one(f"#{side}", AnswerPane)

    def show_prompt(self, prompt: Prompt, *, reveal: bool = False) -> None:
        """The prompt header with the session's progress; its constraints only at the reveal."""
        self.query_one(PromptHeader).show(prompt, self.session.progress, reveal=reveal)

    def hint(self, text: str) -> None:
        self.query_one("#hint", Static).update(literal(text))

    def on_mount(self) -> None:
        self.set_interval(1 / REFRESH_HZ, self.refresh_streams)
        self.start_next()

    # -- streaming

    def start(self, current: Round | None, keep: Side | None = None) -> None:
        """Show ``current`` and stream its sides (``keep``: a side whose answer the round already has, shown
        as it is: one side regenerated)."""
        if current is None:
            own = "" if self.session.allows("custom") else " · e: a prompt of your own"
            board = "" if self.presentation.hide_board else " l: leaderboard"
            self.hint(f"{done_line(self.session)}{board}{own} · q: quit")
            self.app.push_screen(
                SummaryScreen(summarize(self.session), finished=True, hide_board=self.presentation.hide_board)
            )
            return
        self.show_prompt(header_prompt(current))
        self.query_one("#settings", Static).update(
            literal(session_line(self.session, current.battle.params.seed, named=self.presentation.named))
        )
        self.hint("generating... esc stops both answers")
        self.streams = RoundStreams()
        for side in SIDES:
            follow_up = current.battle.history is not None
            self.pane(side).reset(current.battle.messages(side) if follow_up else None)
            if self.presentation.named:
                contestant = current.battle.contestant(side)
                self.pane(side).name_model(contestant.label, contestant.backend)
        if keep is not None:
            self.streams.streamed[keep] = current.finished[keep].result
            self.stream_side(current, other_side(keep))
        elif self.presentation.sequential:
            self.stream_both(current)
        else:
            for side in SIDES:
                self.stream_side(current, side)

    @work(thread=True, group="streams")
    def stream_side(self, current: Round, side: Side) -> None:
        self._run_side(current, side)

    @work(thread=True, group="streams")
    def stream_both(self, current: Round) -> None:
        for side in SIDES:
            self._run_side(current, side)

    def _run_side(self, current: Round, side: Side) -> None:
        """Worker thread: the session streams, analyzes and stores; the screen is told by messages only
        (the stop at once, then the stored answer). Nothing here touches widgets."""
        streams = self.streams
        try:
            answer = self.session.run_side(
                current,
                side,
                streams.cancels[side],
                streams.buffers[side].add,
                on_stopped=lambda result: self.post_message(SideStreamed(current.number, side, result)),
            )
        except ArenaError as exc:  # kept in current.unstored; the next vote key retries the write
            self.post_message(SideUnstored(current.number, side, str(exc)))
            return
        self.post_message(SideDone(current.number, side, answer))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only the keys that do something now are live and in the footer (a footer of every key is cut at
        80 columns); a key pressed out of turn still gets its reason, from ``on_key``."""
        if action in SESSION_ACTIONS:
            return self.session.allows(cast(Action, action)) is None
        if action == "stop":
            current = self.session.current
            return current is not None and current.phase == "streaming"
        return True

    def on_key(self, event: events.Key) -> None:
        """A key whose action is not live now: say why (once), as the session words it."""
        bound = next((action_name(b.action) for b in BATTLE_BINDINGS if b.key == event.key), None)
        if bound in SESSION_ACTIONS:
            self.refused(cast(Action, bound))

    def sync_keys(self) -> None:
        """Re-choose the footer's keys when the round or its phase changed (checked every frame)."""
        if (phase := self.session.state) != self.keys_phase:
            self.keys_phase = phase
            self.refresh_bindings()

    def refresh_streams(self) -> None:
        """Each frame: what each pane may show under the pace, and a side's final answer once all shown."""
        self.sync_keys()
        if self.session.current is not None and not self.streams.all_shown:
            self.streams.frame(self.presentation, self.pane)

    @on(SideStreamed)
    def side_streamed(self, message: SideStreamed) -> None:
        current = self.session.current
        if current is None or message.round_number != current.number:
            return
        self.streams.streamed[message.side] = message.result
        self.refresh_streams()  # in live pace the judge sees the stop at once

    @on(SideDone)
    def side_done(self, message: SideDone) -> None:
        current = self.session.current
        if current is None or message.round_number != current.number:
            return
        if current.both_done and not current.voted:
            self.hint("vote: a = A better · b = B better · t = tie · x = both bad · s = skip")

    @on(SideUnstored)
    def side_unstored(self, message: SideUnstored) -> None:
        self.store_failed("an answer", message.error)

    def store_failed(self, what: str, error: str) -> None:
        """A write the database refused: say so where the judge looks, and how to go on. Nothing the
        session stored before is affected; the key that failed can be pressed again once the cause is gone."""
        self.notify(f"{what} was NOT stored: {error}", title="database", severity="error", timeout=60, markup=False)
        self.hint(f"{what} was NOT stored (see the message): fix the cause and press the key again · q quits")

    def attempt(self, what: str, call: Callable[[], T]) -> T | Refused:
        """``call()``'s result; ``REFUSED`` when the database refused the write (the judge is told)."""
        try:
            return call()
        except ArenaError as exc:
            self.store_failed(what, str(exc))
            return REFUSED

    # -- actions

    def tell(self, said: str) -> bool:
        """Say ``said`` in a message; True (so a refusal reads as one condition)."""
        self.notify(said, markup=False)
        return True

    def refused(self, action: Action) -> bool:
        """Whether the session refuses ``action`` now, after telling the judge why (where there is
        something to tell)."""
        why = self.session.allows(action)
        if why:
            self.notify(why, markup=False)
        return why is not None

    def allowed(self, action: Action) -> Round | None:
        """The current round when the session allows ``action`` now; else None (the judge was told why)."""
        return None if self.refused(action) else self.session.current

    def action_vote(self, verdict: str) -> None:
        current = self.allowed("vote")
        if current is None:
            return
        if self.attempt("an answer", lambda: self.session.store_unstored(current)) is REFUSED:
            return
        if self.attempt("the vote", lambda: self.session.vote(current, as_verdict(verdict))) is REFUSED:
            return
        self.show_prompt(header_prompt(current), reveal=True)
        for side, revealed in self.session.reveal(current).items():
            self.pane(side).reveal(revealed.label, revealed.backend, revealed.answer, reveal_notes(revealed))
        self.reasons_shown = []
        self.after_vote_hint()

    def after_vote_hint(self) -> None:
        current = self.session.current
        if current is not None and current.verdict is not None:
            self.hint(after_vote_hint(current.verdict, self.session.remaining, self.reasons_shown))

    def action_reason(self, key: str) -> None:
        """Tag why the vote went this way: a praise for the winner, a complaint about the loser (after a tie
        or both-bad vote, the focused answer's side, else both); the same key again takes it back."""
        current = self.allowed("reason")
        if current is None:
            return
        changed = self.attempt("the reason", lambda: self.session.toggle_reason(current, key, self.focused_side()))
        if not isinstance(changed, Refused):
            pane = {current.battle.contestant(side).label: PANE_NAMES[side][-1] for side in SIDES}
            self.reasons_shown = retagged(self.reasons_shown, [(f"{r} {pane[who]}", now) for who, r, now in changed])
            self.after_vote_hint()

    def action_follow_up(self) -> None:
        """Ask both models a follow-up (before the vote); each continues its own conversation."""
        current = self.allowed("follow_up")
        if current is not None:
            ask_follow_up(self, current)

    def focused_side(self) -> Side | None:
        """The side whose answer has the focus (tab), if one has."""
        return next((side for side in SIDES if self.pane(side).has_focus_within), None)

    def action_regenerate(self, which: str = "both") -> None:
        """Both models (or, ``which`` "one", the focused answer's, the other keeping its own) answer the
        same prompt again with a new seed, before the vote; the answers replaced stay stored, discarded."""
        current = self.allowed("regenerate")
        side = self.focused_side() if which == "one" else None
        if current is None or (which == "one" and side is None and self.tell(REGENERATE_ONE_NEEDS_FOCUS)):
            return
        again = self.attempt("the regeneration", lambda: self.session.regenerate(current, side))
        if not isinstance(again, Refused):
            if side is not None:
                self.notify(f"{PANE_NAMES[side]} (the focused answer) is asked again; the other keeps its answer.")
            self.start(again, keep=None if side is None else other_side(side))

    def action_note(self) -> None:
        current = self.allowed("note")
        if current is not None:
            ask_note(self, current)

    def action_prompts(self) -> None:
        """The exact prompt strings each side received (chat template markers and all), after the vote:
        before it, a template would tell the models apart."""
        current = self.allowed("prompts")
        if current is not None:
            show_sent_prompts(self, current)

    def action_undo(self) -> None:
        """Take back the session's latest vote (kept, marked, not counted); its prompt comes again later."""
        if not self.refused("undo"):
            take_back(self)

    def action_toggle_view(self) -> None:
        """Markdown styled in place or the plain text, in both panes alike, for the rest of the session."""
        toggle_view(self)

    def action_stop(self) -> None:
        self.streams.stop()

    def action_next(self) -> None:
        if not self.refused("next"):
            self.start_next()

    def start_next(self, prompt: Prompt | None = None) -> None:
        """The next queued prompt (or ``prompt``); a database that refuses the write is reported, not fatal."""
        try:
            upcoming = self.session.next_round(prompt)
        except ArenaError as exc:
            self.store_failed("the next battle", str(exc))
            return
        self.start(upcoming)

    def action_custom(self) -> None:
        if self.refused("custom"):
            return

        self.app.push_screen(
            CustomPromptScreen(), lambda text: self.start_next(custom_prompt(text)) if text and text.strip() else None
        )

    def action_leaderboard(self) -> None:
        if self.presentation.hide_board:
            self.notify("The board is hidden in this arena: the organizer reads it when judging ends.", markup=False)
            return
        self.app.push_screen(LeaderboardScreen(self.session.store))

    def action_help(self) -> None:
        refused = self.session.generation_refused
        self.app.push_screen(HelpScreen(dict.fromkeys(GENERATING, refused) if refused else None))

    def action_quit(self) -> None:
        """The session's summary first; q there quits (and the streams stop as the screen goes), esc
        goes back to judging."""
        self.app.push_screen(
            SummaryScreen(
                summarize(self.session), finished=self.session.finished_all, hide_board=self.presentation.hide_board
            )
        )

    def on_unmount(self) -> None:
        """However the app ends (q, ctrl+q, a browser tab closed under ``arena serve``), the streams stop: a
        closed tab must not keep generating, nor keep its judge's slot until the answers are done."""
        self.action_stop()
