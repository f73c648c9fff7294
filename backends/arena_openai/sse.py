"""Reading a server-sent event stream from a server the arena does not trust.

A well-behaved server sends short ``data:`` lines; a broken or hostile one may send one endless line
(hundreds of MB held in memory before the first newline) or bytes that are not UTF-8. Lines here are
bounded and decoded with replacement, so neither can take the client down.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

MAX_LINE_BYTES = 1 << 20
"""One SSE line: a token delta is a few hundred bytes; a final usage block a few KB."""


class LineTooLong(ValueError):
    """The server sent a line longer than ``MAX_LINE_BYTES`` without a newline."""


def bounded_lines(chunks: Iterable[bytes], max_bytes: int = MAX_LINE_BYTES) -> Iterator[str]:
    """The lines of a byte stream (``\\n`` or ``\\r\\n`` ends one), each decoded as UTF-8 with
    replacement; raises ``LineTooLong`` as soon as a line passes ``max_bytes``, before holding more."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if len(line) > max_bytes:
                raise LineTooLong(len(line))
            yield line.removesuffix(b"\r").decode("utf-8", errors="replace")
        if len(pending) > max_bytes:
            raise LineTooLong(len(pending))
    if pending:
        yield pending.removesuffix(b"\r").decode("utf-8", errors="replace")
