"""The battle screen's keys whose work is more than one call to the session: those that open a box (a
follow-up, a note, the prompts sent) and ask the session once it returns, taking a vote back, the view."""

from __future__ import annotations

from typing import TYPE_CHECKING

from arena.errors import ArenaError
from arena.judging.round import Round
from arena.tui.battle_text import PANE_NAMES
from arena.tui.screens.custom_prompt import CustomPromptScreen
from arena.tui.screens.rendered_prompts import RenderedPromptsScreen
from arena.vocab import SIDES

if TYPE_CHECKING:
    from arena.tui.screens.battle import BattleScreen


def ask_follow_up(screen: BattleScreen, current: Round) -> None:
    """The judge's next message to both models; each continues its own conversation."""

    def asked(text: str | None) -> None:
        if text and text.strip():
            try:
                screen.start(screen.session.follow_up(current, text))
            except ArenaError as exc:  # the turn limit, reached in another way meanwhile
                screen.notify(str(exc), severity="warning", markup=False)

    title = f"Follow-up to both models, turn {current.battle.turn + 1} (ctrl+s sends it, esc cancels):"
    screen.app.push_screen(CustomPromptScreen(title), asked)


def ask_note(screen: BattleScreen, current: Round) -> None:
    """A free note on the battle just judged."""

    def noted(text: str | None) -> None:
        if text is not None and screen.attempt("the note", lambda: screen.session.set_note(current, text)) is None:
            screen.notify("Note stored.", markup=False)

    title = "A note on this battle (ctrl+s stores it, esc cancels):"
    screen.app.push_screen(CustomPromptScreen(title, empty_ok=True), noted)


def show_sent_prompts(screen: BattleScreen, current: Round) -> None:
    """The exact prompt strings each side received, named (after the vote)."""
    sent = {side: current.finished[side].result.rendered_prompt for side in SIDES}
    shown = {f"{PANE_NAMES[side]}: {current.battle.contestant(side).label}": sent[side] for side in SIDES}
    screen.app.push_screen(RenderedPromptsScreen(shown))


def take_back(screen: BattleScreen) -> None:
    """The session's latest vote taken back (kept, marked, not counted), and the judge told what follows."""
    taken = screen.attempt("taking the vote back", screen.session.undo)
    if not isinstance(taken, Round):
        return
    screen.refresh_bindings()
    again = "" if taken.battle.prompt.set == "custom" else "; its prompt comes again later, with new answers"
    screen.notify(f"Vote on {taken.battle.prompt.uid} taken back: it no longer counts{again}.", markup=False)
    if taken is screen.session.current:
        screen.hint(f"vote taken back{again}. n: next prompt ({screen.session.remaining} left)")


def toggle_view(screen: BattleScreen) -> None:
    """Both panes between markdown styled in place and plain text, for the rest of the session."""
    exact = screen.pane("left").markdown
    for side in SIDES:
        screen.pane(side).set_view(not exact)
    shown = "Showing plain text (v: styled)." if exact else "Showing markdown styled in place (v: plain text)."
    screen.notify(shown, markup=False)
