"""The Textual app. ``ArenaApp`` is built from a session opener (``arena.judging.open``), so tests can
construct it directly (the app factory) and drive it with Pilot.

A known judge's session is opened at once, before the app runs (a database that refuses it is one line at the
command line); where the judge is not known (a browser session of ``arena serve``), the app asks for the
name first and opens the session then.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.app import App

from arena.errors import ArenaError
from arena.judging.open import SessionOpener
from arena.judging.session import PlaySession
from arena.store.faults import StoreError
from arena.tui.pacing import Presentation
from arena.tui.paste import install as install_paste_guard
from arena.tui.screens.battle import BattleScreen
from arena.tui.screens.intro import IntroScreen
from arena.tui.screens.judge_name import JudgeNameScreen
from arena.wording import counted


class ArenaApp(App[None]):
    CSS_PATH = "arena.tcss"
    TITLE = "vibe-arena"

    def __init__(
        self,
        open_session: SessionOpener,
        *,
        judge: str | None = None,
        ask_judge: bool = False,
        presentation: Presentation | None = None,
        intro: str | None = None,
        load_models: Callable[[], None] | None = None,
    ) -> None:
        """The session of ``judge`` is opened now; with ``ask_judge`` the judge names themselves first (no
        session row is written until they have). ``load_models``, given with ``ask_judge`` or an ``intro``, fills
        the models' pool in a thread behind that first screen (a browser judge sees the app at once, not a blank
        page; the demo's welcome shows before torch is imported); when it fails, the app exits with status 2
        and ``load_error`` says why."""
        install_paste_guard()  # before the driver starts its input thread, which builds the parser
        super().__init__()
        if load_models is not None and not ask_judge and intro is None:
            raise ValueError("load_models loads behind the name screen or the intro: it needs ask_judge or intro")
        self.load_models = load_models
        self.load_error: str | None = None
        self.open_session = open_session
        self.opened: PlaySession | None = None if ask_judge else open_session(judge)
        self.presentation = presentation or Presentation()
        self.intro = intro

    async def on_event(self, event: events.Event) -> None:
        """A paste is input as a key press is: it gives the app its focus back. Textual refocuses on a key or
        a click only, and a browser's app starts blurred (textual-serve's driver), so a name pasted into the
        empty name box went nowhere until a key had been typed (hostile review item 15)."""
        if isinstance(event, events.Paste) and not event.is_forwarded and not self.app_focus:
            self.app_focus = True  # focus goes back to the widget that had it (the name box)
        await super().on_event(event)

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
        if self.load_models is not None:  # after the first screen is drawn: a model library's import holds the GIL
            self.call_after_refresh(lambda: self.run_worker(self._load, thread=True, exit_on_error=False))

    def _ask_judge(self) -> None:
        self.push_screen(JudgeNameScreen(loading=self.load_models is not None), self._named)

    def _load(self) -> None:
        """Runs in a thread: loads the models, then tells the UI (on its own thread)."""
        assert self.load_models is not None
        try:
            self.load_models()
        except ArenaError as exc:
            self.call_from_thread(self._load_failed, str(exc))
            return
        except Exception as exc:  # a library's own failure: still one line, not a screen stuck on "loading"
            self.call_from_thread(self._load_failed, f"loading the models failed: {type(exc).__name__}: {exc}")
            return
        self.call_from_thread(self._loaded)

    def _loaded(self) -> None:
        self.load_models = None
        if isinstance(self.screen, JudgeNameScreen | IntroScreen):
            self.screen.models_ready()

    def _load_failed(self, message: str) -> None:
        self.load_error = message
        self.exit(return_code=2)

    def _named(self, name: str | None) -> None:
        assert name is not None
        try:
            self.opened = self.open_session(name)
        except StoreError as exc:  # busy or full: say so and let the judge try again
            self.notify(str(exc), title="The database refused the new session", severity="error", markup=False)
            self._ask_judge()
            return
        if self.opened.resumed is not None:
            judged = counted(len(self.opened.resumed.judged), "prompt")
            self.notify(
                f"Welcome back, {name}: your earlier session goes on ({judged} judged, {self.opened.remaining} to go).",
                markup=False,
            )
        self._start()

    def _start(self) -> None:
        if self.intro:
            # the first battle starts once the intro is read, so its vote time counts judging, not reading
            intro = IntroScreen(self.intro, waiting_for_models=self.load_models is not None)
            self.push_screen(intro, lambda _: self._open_battle())
        else:
            self._open_battle()

    def _open_battle(self) -> None:
        self.push_screen(BattleScreen(self.session, self.presentation))

    @property
    def battle(self) -> BattleScreen:
        return next(screen for screen in self.screen_stack if isinstance(screen, BattleScreen))
