"""What ``arena serve`` lets in, as pure functions the server calls and the tests check without a network.

A judge's browser is not the only thing that can reach the port. JavaScript on any other page open in that
browser can open a websocket to it (cross-site websocket hijacking: the browser sends that page's ``Origin``),
a page on a name that resolves to this machine can pass as it (DNS rebinding: a foreign ``Host``), and any
client can send messages the arena's page never would. So:

- a request is served only under a ``Host`` the arena answers to (the public URL's, the bound address's,
  and this machine's loopback names when it listens there), and a websocket only from an ``Origin`` with
  one of those hosts: a missing or ``null`` Origin (not a browser on our page) is refused too;
- a terminal size is clamped to what a screen can show, so one message cannot make a judge's process lay
  out a 30000 x 30000 screen (gigabytes);
- a message is read only in the shapes our page sends; anything else ends that socket quietly.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from arena.untrusted import visible

WILDCARD_HOSTS = ("0.0.0.0", "::", "")
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
COLUMNS = (20, 400)
ROWS = (8, 150)
"""The smallest and largest terminal a judge's page may ask for (a 4K screen at a small font is ~400 x 120)."""
DEFAULT_SIZE = (80, 24)
MAX_MESSAGE_BYTES = 64 * 1024
"""The largest websocket message read: our page sends keystrokes, pastes and sizes, never more."""
MAX_LOG_CHARS = 300


def _netloc(host: str, port: int | None) -> str:
    """``host:port`` as compared here: lower case, IPv6 in brackets, the scheme's port written out."""
    host = host.lower().strip("[]")
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}"


def _split_host(value: str, default_port: int) -> str | None:
    """A ``Host`` header (or an origin's netloc) as ``host:port``; None when it is not one."""
    try:
        parts = urlsplit(f"//{value}")
        port = parts.port if parts.port is not None else default_port
    except ValueError:  # a port out of range, or brackets that do not close
        return None
    if not parts.hostname or parts.username is not None or parts.path or parts.query:
        return None
    return _netloc(parts.hostname, port)


@dataclass(frozen=True)
class Origins:
    """The hosts the arena answers to (``host:port``), and the public URL it tells judges to open."""

    hosts: frozenset[str]
    public_url: str
    default_port: int = 80
    """The port a ``Host`` without one means: the public URL's scheme's (a proxy in front forwards its own)."""

    @classmethod
    def of(cls, public_url: str, bind_host: str, port: int, machine_name: str) -> Origins:
        parts = urlsplit(public_url)
        scheme_port = 443 if parts.scheme == "https" else 80
        hosts = {_netloc(parts.hostname or "", parts.port or scheme_port)}
        if bind_host in WILDCARD_HOSTS:
            names = [*LOOPBACK_NAMES, machine_name]
        elif bind_host.lower().strip("[]") in LOOPBACK_NAMES:
            names = list(LOOPBACK_NAMES)
        else:
            names = [bind_host]
        hosts |= {_netloc(name, port) for name in names}
        return cls(frozenset(hosts), public_url, scheme_port)

    def host_allowed(self, host_header: str | None) -> bool:
        """Whether a request's ``Host`` is one of ours (HTTP/1.1 always sends one)."""
        return host_header is not None and _split_host(host_header, self.default_port) in self.hosts

    def origin_allowed(self, origin: str | None) -> bool:
        """Whether a websocket's ``Origin`` is a page of ours: http or https on one of our hosts."""
        if not origin or origin == "null":
            return False
        try:
            parts = urlsplit(origin)
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or parts.path not in ("", "/") or parts.query or parts.fragment:
            return False
        return _split_host(parts.netloc, 443 if parts.scheme == "https" else 80) in self.hosts


def _clamp(value: int, bounds: tuple[int, int]) -> int:
    return max(bounds[0], min(bounds[1], value))


def screen_size(width: object, height: object) -> tuple[int, int] | None:
    """A terminal size within ``COLUMNS`` x ``ROWS``; None when either is not an integer."""
    if not isinstance(width, int) or isinstance(width, bool) or not isinstance(height, int) or isinstance(height, bool):
        return None
    return _clamp(width, COLUMNS), _clamp(height, ROWS)


def query_size(width: str | None, height: str | None) -> tuple[int, int]:
    """The size in the websocket's URL (``?width=&height=``), clamped; the default where it is not a number."""
    try:
        asked = (int(width or DEFAULT_SIZE[0]), int(height or DEFAULT_SIZE[1]))
    except ValueError:
        return DEFAULT_SIZE
    return _clamp(asked[0], COLUMNS), _clamp(asked[1], ROWS)


@dataclass(frozen=True)
class Stdin:
    data: bytes


@dataclass(frozen=True)
class Resize:
    width: int
    height: int


@dataclass(frozen=True)
class Ping:
    data: str


@dataclass(frozen=True)
class Focus:
    focused: bool


Envelope = Stdin | Resize | Ping | Focus
Refusal = Literal["malformed"]


def read_envelope(text: str) -> Envelope | Refusal:
    """One websocket message in a shape our page sends (``["stdin", text]``, ``["resize", {"width": w,
    "height": h}]``, ``["ping", text]``, ``["blur"]``, ``["focus"]``), sizes clamped; "malformed" else."""
    if len(text) > MAX_MESSAGE_BYTES:
        return "malformed"
    try:
        envelope = json.loads(text)
    except (ValueError, RecursionError):
        return "malformed"
    if not isinstance(envelope, list) or not envelope or not isinstance(envelope[0], str):
        return "malformed"
    kind, args = envelope[0], envelope[1:]
    if kind == "stdin" and len(args) == 1 and isinstance(args[0], str):
        try:
            return Stdin(args[0].encode("utf-8"))
        except UnicodeEncodeError:  # a lone surrogate: no keyboard types one
            return "malformed"
    if kind == "resize" and len(args) == 1 and isinstance(args[0], dict):
        size = screen_size(args[0].get("width"), args[0].get("height"))
        return "malformed" if size is None else Resize(*size)
    if kind == "ping" and len(args) == 1 and isinstance(args[0], str) and len(args[0]) <= 100:
        return Ping(args[0])
    if kind in ("blur", "focus") and not args:
        return Focus(kind == "focus")
    return "malformed"


class OneLine(logging.Filter):
    """What reaches the operator's terminal: one line per record, hidden characters made visible, no
    traceback and no local variables (a malformed request is someone else's mistake, not a crash)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            message = f"{message}: {type(error).__name__}: {error}"
        record.msg = visible(" ".join(message.split()))[:MAX_LOG_CHARS]
        record.args = None
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


def quiet_logging() -> None:
    """The server's log: plain lines on stderr at INFO, every record through ``OneLine``."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(OneLine())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
