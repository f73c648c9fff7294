"""Type a prompt of your own; both models answer it in the next battle."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea


class CustomPromptScreen(ModalScreen[str | None]):
    """A text box: a prompt of the judge's own, or (with another title) a note on the battle just judged."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+s", "submit", "Send"), Binding("escape", "cancel", "Cancel")]

    def __init__(
        self, title: str = "Your prompt (ctrl+s sends it to both models, esc cancels):", empty_ok: bool = False
    ) -> None:
        super().__init__()
        self.title_text = title
        self.empty_ok = empty_ok

    def compose(self) -> ComposeResult:
        with Vertical(id="custom-box"):
            yield Static(Text(self.title_text, style="bold"))
            yield TextArea(id="custom-text")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_submit(self) -> None:
        text = self.query_one(TextArea).text
        if not text.strip() and not self.empty_ok:
            self.notify("The prompt is empty.", markup=False)
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
