"""One side of a battle: the streaming answer, a status line, and after the vote the reveal."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from arena.analysis.flags import BADGES, CONSTRAINT_PREFIX, constraints_met
from arena.backend import Chunk, GenerationResult, Message
from arena.judging.answers import AnalyzedAnswer
from arena.tui.markdown import styled_answer
from arena.tui.text import literal, mark, visible
from arena.wording import counted

STREAM_TAIL_CHARS = 6000  # more than a maximized pane can show
TAIL_NOTE = "[... earlier text above, shown when the answer stops ...]\n"
SHOWN_CHARS = 200_000
"""The most of one answer a pane lays out (about 2,500 screens at 80 columns): answers stored before the
character limit, or imported, may hold megabytes, which kept the screen busy for minutes; the rest is said,
never silently dropped, and ``arena export`` has it whole."""


LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")


def shown_text(answer: str) -> str:
    """The answer as a pane shows it: without leading blank lines, the same rule for both sides.

    A model prompted without a chat template continues the prompt's last line, so nearly every answer it
    gives starts with a newline; shown as is, that blank first line would tell the judge which side is
    which before the vote. The stored answer keeps them (the rendered prompt and the flags see the truth).
    """
    return LEADING_BLANK_LINES.sub("", answer)


def middle_cut(text: str, room: int) -> str:
    """``text`` in at most ``room`` characters (at least 8), its middle replaced by "…": a label's start and
    end (its quantization, ``?template=false``) say the most, and the backend after it stays in view."""
    room = max(room, 8)
    if len(text) <= room:
        return text
    head = (room - 1) // 2
    return text[:head] + "…" + text[len(text) - (room - 1 - head) :]


def earlier_turns(messages: Sequence[Message]) -> Text:
    """A follow-up's conversation before its newest message, dimmed: each earlier message of the judge
    and this side's own answer to it, so the pane holds the whole thread the vote covers."""
    earlier = Text()
    turn = 0
    for message in messages[:-1]:
        if message["role"] == "user":
            turn += 1
            earlier.append(f"you, turn {turn}: ", "bold dim")
            earlier.append(literal(message["content"], "dim italic"))
            earlier.append("\n\n")
        elif message["role"] == "assistant":
            earlier.append(literal(shown_text(message["content"]), "dim"))
            earlier.append("\n\n")
    earlier.append(f"you, turn {turn + 1}: ", "bold")
    earlier.append(literal(messages[-1]["content"] if messages else "", "italic"))
    earlier.append("\n")
    return earlier


class StreamBuffer:
    """Filled by a worker thread chunk by chunk, read by the UI at most ~30 times a second."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pieces: list[str] = []
        self.tokens = 0

    def add(self, chunk: Chunk) -> None:
        with self._lock:
            self._pieces.append(chunk.text)
            self.tokens += chunk.n_tokens

    def snapshot(self) -> tuple[str, int]:
        """(the text so far, its token count); the text only grows, so its length tells what changed."""
        with self._lock:
            text = "".join(self._pieces)
            self._pieces = [text]
            return text, self.tokens


class AnswerPane(Vertical):
    """Anonymous until the vote: the title is only "Model A" or "Model B", in the same colours for both."""

    def __init__(self, name: str, *, id: str) -> None:
        super().__init__(id=id, classes="answer-pane")
        self.pane_name = name
        self.shown_length = -1
        self.markdown = True
        """Style the answer's markdown where it stands (the default); False: plain text (``v``). The words
        and line breaks are the model's in both (``arena.tui.markdown``)."""
        self.shown_plain = ""
        """What the body shows, as its exact text (the literal view's plain text, whichever view is on)."""
        self._final: tuple[GenerationResult, list[str] | None] | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text(self.pane_name), classes="pane-title")
        with VerticalScroll(classes="pane-scroll"):
            yield Static(Text(""), classes="pane-earlier")
            yield Static(Text(""), classes="pane-reveal")  # above the answer: read at the reveal without scrolling
            yield Static(Text(""), classes="pane-body")
        yield Static(Text("waiting"), classes="pane-status")

    @property
    def body(self) -> Static:
        return self.query_one(".pane-body", Static)

    def _plain(self, selector: str) -> str:
        content = self.query_one(selector, Static).content
        return content.plain if isinstance(content, Text) else str(content)

    @property
    def body_text(self) -> str:
        """What the body shows now, as its exact text (for tests and the latency benchmark)."""
        return self.shown_plain

    def _show(
        self, answer: str, *, prefix: Text | None = None, suffix: Text | None = None, highlight: list[str] | None = None
    ) -> None:
        """Show ``answer`` with its markdown styled where it stands, or (``v``) as plain exact text; the words
        are the same either way. ``highlight``: garbage tokens marked where they sit (at the reveal)."""
        shown = styled_answer(answer) if self.markdown else literal(answer)
        if highlight:
            mark(shown, highlight)
        whole = Text.assemble(*(part for part in (prefix, shown, suffix) if part is not None), end="")
        self.shown_plain = whole.plain
        self.body.update(whole)

    def set_view(self, markdown: bool) -> None:
        """Switch between styled and plain text, and show what is there again in the new view."""
        self.markdown = markdown
        if self._final is not None:
            result, highlight = self._final
            self._show_final(result, highlight)
        else:
            self.shown_length = -1  # the next frame lays the stream out again

    @property
    def title_text(self) -> str:
        return self._plain(".pane-title")

    @property
    def status_text(self) -> str:
        return self._plain(".pane-status")

    @property
    def reveal_text(self) -> str:
        """The reveal's details below the answer (what broke, the numbers, what ran where); empty before."""
        return self._plain(".pane-reveal")

    @property
    def earlier_text(self) -> str:
        """The earlier turns of a follow-up as the pane shows them (empty on a first turn)."""
        return self._plain(".pane-earlier")

    def reset(self, conversation: Sequence[Message] | None = None) -> None:
        """Empty the pane for a new round; in a follow-up, ``conversation`` (this side's own messages,
        ending with the judge's newest one) is shown dimmed above the answer to come."""
        self.shown_length = -1
        self.shown_plain = ""
        self._final = None
        self.set_class(False, "revealed")
        self.query_one(".pane-title", Static).update(Text(self.pane_name))
        earlier = self.query_one(".pane-earlier", Static)
        earlier.update(earlier_turns(conversation) if conversation else Text(""))
        earlier.display = bool(conversation)
        self.body.update(Text(""))
        details = self.query_one(".pane-reveal", Static)
        details.update(Text(""))
        details.display = False
        if conversation:  # the new answer streams below the thread: follow it from the end
            self.query_one(".pane-scroll", VerticalScroll).scroll_end(animate=False)
        self.set_status("generating", "")

    def name_model(self, label: str, backend: str) -> None:
        """The pane's title names its model (the named side-by-side mode: not blind)."""
        self.query_one(".pane-title", Static).update(self._named_title(label, backend))

    def _named_title(self, label: str, backend: str) -> Text:
        heading = self.query_one(".pane-title", Static)
        room = heading.size.width - len(f"{self.pane_name}:   ({visible(backend)})")
        named = middle_cut(visible(label), room) if heading.size.width else visible(label)
        return Text.assemble(f"{self.pane_name}: ", (named, "bold"), "  (", literal(backend), ")")

    def set_status(self, status: str, detail: str) -> None:
        line = Text(status, style="bold")
        if detail:
            line.append(f"  {detail}")
        self.query_one(".pane-status", Static).update(line)

    def show_stream(self, text: str, detail: str = "") -> None:
        """Show ``text`` (the part of the answer the pace allows so far) if it grew since the last frame.

        While the pane follows the stream only the tail can be seen, so only the tail is laid out: the cost
        of a frame stays flat however long the answer grows. A judge who scrolls up stops the following
        (and the redraws); the whole text is shown when the stream stops. ``detail`` (token counts) is
        empty unless speed may be shown before the vote.
        """
        if len(text) == self.shown_length:
            return
        self.shown_length = len(text)
        self.set_status("generating", detail)
        scroll = self.query_one(".pane-scroll", VerticalScroll)
        if scroll.scroll_y < scroll.max_scroll_y - 1:
            return
        text = shown_text(text)
        if len(text) > STREAM_TAIL_CHARS:
            cut = text.find("\n", len(text) - STREAM_TAIL_CHARS)
            cut = cut + 1 if 0 <= cut < len(text) - STREAM_TAIL_CHARS // 2 else len(text) - STREAM_TAIL_CHARS
            self._show(text[cut:], prefix=Text(TAIL_NOTE, "dim"))
        else:
            self._show(text)
        scroll.scroll_end(animate=False)

    def _show_final(self, result: GenerationResult, highlight: list[str] | None = None) -> None:
        """The whole answer, and the error if any; garbage tokens (at the reveal) marked where they sit."""
        self._final = (result, highlight)
        answer = shown_text(result.text)
        suffix = Text()
        if len(answer) > SHOWN_CHARS:
            suffix.append(
                f"\n[... {len(answer) - SHOWN_CHARS:,} more characters not shown here; arena export has the whole "
                "answer ...]",
                "bold yellow",
            )
            answer = answer[:SHOWN_CHARS]
        if result.error:
            suffix.append("\n\n[error] ", "bold red")
            suffix.append_text(literal(result.error, "red"))
        self._show(answer, suffix=suffix if suffix.plain else None, highlight=highlight)

    def show_finished(self, result: GenerationResult, show_speed: bool) -> None:
        self._show_final(result)
        status = {"stop": "done", "length": "done (max tokens)", "cancelled": "stopped", "error": "error"}[
            result.finish_reason
        ]
        detail = ""
        if show_speed:  # before the vote, counts and speeds would tell the models apart
            detail = counted(result.n_tokens, "token")
            if result.tokens_per_s:
                detail += f", {result.tokens_per_s:.1f} tok/s"
        self.set_status(status, detail)

    def reveal(self, label: str, backend: str, finished: AnalyzedAnswer, notes: Sequence[str] = ()) -> None:
        """After the vote: who it was, the flags as badges under the pane, and above the answer (in the
        same scroll, read first even at 80x24) what broke, the numbers and ``notes`` (what ran where, its
        fidelity to a reference).

        An answer the judge stopped is not scored against the prompt's constraints: it was cut off by the
        judge, not by the model, so "constraints 0/2" would blame the model for the judge's key."""
        self.set_class(True, "revealed")
        result = finished.result
        stopped = result.finish_reason == "cancelled"
        self.query_one(".pane-title", Static).update(self._named_title(label, backend))
        garbage = next((flag for flag in finished.flags if flag.name == "garbage" and flag.hit), None)
        self._show_final(result, garbage.evidence if garbage else None)
        badges = Text()
        details = Text()
        if stopped:
            badges.append(" stopped ", "bold black on yellow")
            badges.append(" ")
        for flag in finished.flags:
            if flag.hit and flag.name in BADGES:
                badges.append(f" {BADGES[flag.name]} ", "bold white on red")
                badges.append(" ")
        met, total = constraints_met(finished.flags)
        if total and stopped:
            details.append(f"\n{counted(total, 'constraint')} not scored: you stopped this answer", "dim")
        elif total:
            style = "bold black on green" if met == total else "bold white on dark_orange3"
            badges.append(f" constraints {met}/{total} ", style)
            broken = [f for f in finished.flags if f.name.startswith(CONSTRAINT_PREFIX) and f.hit]
            for flag in broken:
                details.append(f"\n{flag.name[len(CONSTRAINT_PREFIX) :]}: ", "dim")
                details.append(literal(" ".join(flag.evidence), "dim"))
        for flag in finished.flags:
            if flag.name == "identity" and flag.hit:
                details.append("\nnames itself: ", "dim")
                details.append(literal(" · ".join(flag.evidence), "dim"))
            if flag.name == "identity_prompt" and flag.hit:
                details.append("\nthe chat template's own system prompt names it: ", "dim")
                details.append(literal(", ".join(flag.evidence), "dim"))
        for flag in finished.flags:
            if flag.error and not (stopped and flag.name.startswith(CONSTRAINT_PREFIX)):
                details.append(f"\n{flag.name}: check failed: ", "yellow")
                details.append(literal(flag.error, "yellow"))
        if not badges.plain.strip():
            badges.append(" no flags ", "bold black on green")
        ttft = "-" if result.ttft_s is None else f"{result.ttft_s:.2f}s"
        speed = "-" if result.tokens_per_s is None else f"{result.tokens_per_s:.1f}"
        details.append(
            f"\n{counted(result.n_tokens, 'token')} · ttft {ttft} · {speed} tok/s · {result.finish_reason}", "dim"
        )
        for note in notes:
            details.append("\n")
            details.append(literal(note, "dim"))
        self.query_one(".pane-status", Static).update(badges)
        shown = self.query_one(".pane-reveal", Static)
        shown.update(Text.assemble(("── at the reveal ──", "dim"), details, ("\n── the answer ──", "dim")))
        shown.display = True
        shown.scroll_visible(top=True, animate=False)  # the figures, then the answer from its first line
