"""The Textual app. ``ArenaApp`` is built from a ready ``PlaySession`` and a loaded ``ModelPool``, so tests
can construct it directly (the app factory) and drive it with Pilot."""

from __future__ import annotations

from textual.app import App

from arena.play import PlaySession
from arena.pool import ModelPool
from arena.tui.pacing import Presentation
from arena.tui.screens.battle import BattleScreen


class ArenaApp(App[None]):
    CSS_PATH = "arena.tcss"
    TITLE = "vibe-arena"

    def __init__(
        self,
        session: PlaySession,
        pool: ModelPool,
        *,
        presentation: Presentation | None = None,
        intro: str | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.pool = pool
        self.presentation = presentation or Presentation()
        self.intro = intro

    def on_mount(self) -> None:
        if self.intro:
            from arena.tui.screens.intro import IntroScreen

            # the first battle starts once the intro is read, so its vote time counts judging, not reading
            self.push_screen(IntroScreen(self.intro), lambda _: self._open_battle())
        else:
            self._open_battle()

    def _open_battle(self) -> None:
        self.push_screen(BattleScreen(self.session, self.pool, self.presentation))

    @property
    def battle(self) -> BattleScreen:
        return next(screen for screen in self.screen_stack if isinstance(screen, BattleScreen))
