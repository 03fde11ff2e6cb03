"""What every framing's unwrapper is: bytes of the outer stream in, inner TLS bytes out."""

from __future__ import annotations

from typing import Optional, Protocol

# An unfinished outer unit (an OpenVPN packet, a WebSocket frame, a token line) may hold at most
# this many bytes: a length beyond it is taken for damage, not waited for.
MAX_HELD = 256 * 1024

# How a person reads each framing's name (the text view's timeline, the HTML page).
TITLES = {"openvpn": "OpenVPN control packets", "websocket": "WebSocket frames", "gssapi": "GSSAPI tokens"}

# (inner bytes, the frame number of the segment that completed their outer unit)
Piece = tuple[bytes, int]


class Unwrapper(Protocol):
    """The reader of one direction's outer framing."""

    name: str  # the framing's name in the JSON ("openvpn", "websocket", "gssapi")
    # Why the unwrapper stopped reading (damage, an encrypted control channel, ...), once; None
    # while it reads. The session reports it as an anomaly; the connection is then partial.
    problem: Optional[str]

    def feed(self, data: bytes, frame: int) -> list[Piece]:
        """The next contiguous bytes of the outer stream; the inner bytes they completed."""

    def gap(self) -> None:
        """Bytes of the outer stream are missing here: the framing cannot be followed on."""


class Stoppable(Protocol):
    """Anything that stops with a problem (an unwrapper, OpenVPN's control channel)."""

    problem: Optional[str]


def lost(unwrapper: Stoppable, why: str) -> list[Piece]:
    """Stop an unwrapper for good with the reason ``why`` (kept if one was given before)."""
    if unwrapper.problem is None:
        unwrapper.problem = why
    return []
