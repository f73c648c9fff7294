"""The Textual app. ``ArenaApp`` is built from a ready ``PlaySession`` and a loaded ``ModelPool``, so tests
can construct it directly (the app factory) and drive it with Pilot.

Where the judge is not known when the process starts (a browser session of ``arena serve``), the app is
given a function that opens the session for a name instead, and asks for the name first.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App

from arena.play import PlaySession
from arena.pool import ModelPool
from arena.store.faults import StoreError
from arena.tui.pacing import Presentation
from arena.tui.screens.battle import BattleScreen

SessionOpener = Callable[[str], PlaySession]
"""Opens (starts in the database) the play session of the named judge."""


class ArenaApp(App[None]):
    CSS_PATH = "arena.tcss"
    TITLE = "vibe-arena"

    def __init__(
        self,
        session: PlaySession | SessionOpener,
        pool: ModelPool,
        *,
        presentation: Presentation | None = None,
        intro: str | None = None,
    ) -> None:
        """``session`` is the play session, or a ``SessionOpener`` when the judge must name themselves first
        (no session row is written until they have)."""
        super().__init__()
        self.opened: PlaySession | None = session if isinstance(session, PlaySession) else None
        self.open_session = None if isinstance(session, PlaySession) else session
        self.pool = pool
        self.presentation = presentation or Presentation()
        self.intro = intro

    @property
    def session(self) -> PlaySession:
        if self.opened is None:
            raise RuntimeError("the judge has not named themselves yet: no play session is open")
        return self.opened

    def on_mount(self) -> None:
        if self.opened is None:
            self._ask_judge()
        else:
            self._start()

    def _ask_judge(self) -> None:
        from arena.tui.screens.judge_name import JudgeNameScreen

        self.push_screen(JudgeNameScreen(), self._named)

    def _named(self, name: str | None) -> None:
        assert self.open_session is not None and name is not None
        try:
            self.opened = self.open_session(name)
        except StoreError as exc:  # busy or full: say so and let the judge try again
            self.notify(str(exc), title="The database refused the new session", severity="error", markup=False)
            self._ask_judge()
            return
        self._start()

    def _start(self) -> None:
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
