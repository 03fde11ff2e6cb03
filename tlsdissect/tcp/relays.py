"""Conversations that carry the same bytes: the two legs of one relayed connection.

A TCP relay (a proxy that forwards bytes, a load balancer in TCP mode, a NAT seen on both of its
sides) makes two conversations whose byte streams begin alike: the client's first bytes arrive
on the first leg and leave on the second, and so do the server's. The table registers, for every
conversation it hands out (those other workers analyse too, so that a sharded run links as one
process does), the first ``OPENING_BYTES`` of each direction, its stream number, its lifetime and
its first reset; :meth:`RelayIndex.legs` gives a conversation the others that began with the same
bytes while it was alive, among those handed out within ``RELAY_WINDOW`` retirements of it.

The bytes are opaque here. Whether an opening is distinctive is the reader's business: a TLS
ClientHello carries 32 random bytes within its first 43 (the pipeline asks only for those), a
plain-text request line does not.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Optional

OPENING_BYTES = 48  # bytes kept of each direction's first data segment (a ClientHello's random ends at 43)
RELAY_WINDOW = 64  # retirements either side of a conversation among which its other legs are looked for
MAX_LEGS = 8  # other legs listed at most (a relay makes two; more are replays of the same bytes)


@dataclass(frozen=True)
class Leg:
    """Another conversation that began with the same bytes, as the table saw it."""

    stream: int
    reset_frame: Optional[int]  # its first RST (either direction), None without one
    reset_time: Optional[float]

    def to_dict(self) -> dict[str, Any]:
        return {"stream": self.stream, "reset_frame": self.reset_frame, "reset_time": self.reset_time}


# (retire_seq, opening of direction 0, of direction 1, stream, first time, last time, first RST or None)
_Entry = tuple[int, bytes, Optional[bytes], int, float, float, Optional[tuple[int, float]]]


def first_reset(rst: tuple[Optional[tuple[int, float]], Optional[tuple[int, float]]]) -> Optional[tuple[int, float]]:
    """The earlier of a conversation's per-direction (frame, time) RST marks."""
    a, b = rst
    if a is None or (b is not None and b[0] < a[0]):
        return b
    return a


class RelayIndex:
    """The openings of the conversations handed out lately (bounded: see prune)."""

    def __init__(self, window: int = RELAY_WINDOW) -> None:
        self.window = window
        self.entries: deque[_Entry] = deque()
        self.by_opening: dict[bytes, list[_Entry]] = {}

    def register(self, retire_seq: int, opening: tuple[Optional[bytes], Optional[bytes]], stream: int,
                 first_ts: float, last_ts: float, rst: Optional[tuple[int, float]]) -> None:
        first = opening[0]
        if first is None:
            return
        entry = (retire_seq, first, opening[1], stream, first_ts, last_ts, rst)
        self.entries.append(entry)
        self.by_opening.setdefault(first, []).append(entry)

    def prune(self, below: int) -> None:
        """Forget the conversations handed out before retirement ``below``."""
        entries = self.entries
        while entries and entries[0][0] < below:
            entry = entries.popleft()
            same = self.by_opening[entry[1]]
            same.remove(entry)
            if not same:
                del self.by_opening[entry[1]]

    def legs(self, retire_seq: int, stream: int, opening: tuple[Optional[bytes], Optional[bytes]],
             first_ts: float, last_ts: float) -> list[Leg]:
        """The other conversations that began with the same bytes both ways (the second
        direction's may be missing on either), overlapped this one in time, and were handed
        out within ``window`` retirements of it; by stream number."""
        first = opening[0]
        if first is None:
            return []
        out: list[Leg] = []
        for seq, _, second, other, t0, t1, rst in self.by_opening.get(first, ()):
            if other == stream or abs(seq - retire_seq) > self.window:
                continue
            if second is not None and opening[1] is not None and second != opening[1]:
                continue
            if t0 > last_ts or first_ts > t1:
                continue
            out.append(Leg(other, rst[0] if rst else None, rst[1] if rst else None))
            if len(out) >= MAX_LEGS:
                break  # (the first ones handed out: the same in a sharded run)
        out.sort(key=lambda leg: leg.stream)
        return out
