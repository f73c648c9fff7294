"""Both sides' streams of the round on screen, as the battle screen shows them: what workers have produced,
how to stop them, which sides stopped, and what each pane may show this frame under the pace.

Workers only append to a ``StreamBuffer`` and post messages; ``frame`` is called by the screen's 30 Hz timer
and copies what the pace allows to the panes, so thousands of tokens per second never mean thousands of
redraws, and speed shows only where the pace lets it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from arena.backend import GenerationResult
from arena.tui.pacing import Presentation, fully_shown, visible_lengths
from arena.tui.widgets.answer_pane import AnswerPane, StreamBuffer
from arena.vocab import SIDES, Side
from arena.wording import counted


class RoundStreams:
    """The two streams of one round."""

    def __init__(self) -> None:
        self.buffers: dict[Side, StreamBuffer] = {side: StreamBuffer() for side in SIDES}
        self.cancels: dict[Side, threading.Event] = {side: threading.Event() for side in SIDES}
        self.streamed: dict[Side, GenerationResult] = {}
        """Results of the sides whose stream has stopped (analysis and storage may still be running)."""
        self.shown_final: set[Side] = set()
        """Sides whose pane shows the final answer."""

    def stop(self) -> None:
        for cancel in self.cancels.values():
            cancel.set()

    @property
    def all_shown(self) -> bool:
        return len(self.shown_final) == len(SIDES)

    def frame(self, presentation: Presentation, pane: Callable[[Side], AnswerPane]) -> None:
        """What each pane may show now under the pace, and a side's final answer once all of it is shown."""
        texts: dict[Side, str] = {}
        tokens: dict[Side, int] = {}
        for side in SIDES:
            result = self.streamed.get(side)
            streamed_text, tokens[side] = self.buffers[side].snapshot()
            texts[side] = result.text if result is not None else streamed_text
        done = {side: side in self.streamed for side in SIDES}
        produced = {side: len(texts[side]) for side in SIDES}
        limits = visible_lengths(presentation.pace, produced, done)
        for side in SIDES:
            if side in self.shown_final:
                continue
            if fully_shown(presentation.pace, side, produced, done):
                self.shown_final.add(side)
                pane(side).show_finished(self.streamed[side], presentation.show_speed)
            else:
                detail = counted(tokens[side], "token") if presentation.show_speed else ""
                pane(side).show_stream(texts[side][: limits[side]], detail)
