"""Pasted text through Textual's real input parser, with the arena's paste guard (hostile review item 23)."""

from __future__ import annotations

from textual import events
from textual._xterm_parser import XTermParser

from arena.tui.paste import SHOWN_ESC, PasteSafeParser

NOTE = "note \x1b]52;c;SElKQUNLRUQ=\x1b\\ \x1b]0;PWNTITLE\x07 tail"
PASTE = "\x1b[200~" + NOTE + "\x1b[201~"


def _events(parser: XTermParser, *chunks: str) -> list[object]:
    found: list[object] = []
    for chunk in chunks:
        found.extend(parser.feed(chunk))
    found.extend(parser.tick())
    return found


def test_textual_alone_splits_such_a_paste_into_keys_and_text() -> None:
    """What the guard is for: without it the paste is cut up (so this test fails if Textual fixes it)."""
    found = _events(XTermParser(), PASTE, "x")
    assert any(isinstance(event, events.Key) for event in found[:-1])


def test_a_paste_with_escapes_arrives_whole_in_order_with_esc_visible() -> None:
    expected = NOTE.replace("\x1b", SHOWN_ESC)
    for chunks in ([PASTE], [PASTE[:3], PASTE[3:20], PASTE[20:-3], PASTE[-3:]], list(PASTE)):
        found = _events(PasteSafeParser(), *chunks, "x")
        pastes = [event for event in found if isinstance(event, events.Paste)]
        keys = [event.character for event in found if isinstance(event, events.Key)]
        assert [paste.text for paste in pastes] == [expected], chunks
        assert keys == ["x"]  # nothing of the paste arrived as a key press


def test_outside_a_paste_keys_are_untouched_and_esc_is_not_held_back() -> None:
    parser = PasteSafeParser()
    assert parser.guard("a\x1b[A") == "a\x1b[A"  # an arrow key passes through
    assert parser.guard("\x1b") == "\x1b"  # a lone esc goes on at once
    assert parser.guard("\x1b[2") == "\x1b[2" and parser.guard("00~h\x1bi\x1b[201~") == f"00~h{SHOWN_ESC}i\x1b[201~"
