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

A relay that forwards bytes forwards them unchanged; one that changes them is tampering (or
broken). Each conversation also keeps a :class:`StreamDigest` per direction: the running CRC-32 of
its first ``DIGEST_BYTES`` at the end of every segment, so that two legs can be compared after
both have ended: at the stream offsets where both legs' segments end, the CRCs agree up to the
change and differ from it on, which places it between two such offsets (a relay that forwards
segments as they come keeps most boundaries). The digest reads segments as they arrive, in
sequence order only (a hole ends it), the same way for a conversation analysed here and for
another worker's shadow of it, so that a sharded run compares as one process does.
"""

from __future__ import annotations

import zlib
from array import array
from collections import deque
from dataclasses import dataclass
from typing import Any, Optional, Sequence

DIGEST_BYTES = 16 * 1024  # of each direction: the handshake and the first records
DIGEST_SEGMENTS = 64  # checkpoints kept per direction at most (tiny segments end the digest sooner)
_MASK = 0xFFFFFFFF
_crc32 = zlib.crc32


class StreamDigest:
    """The running CRC-32 of one direction's first DIGEST_BYTES at each segment's end, segments
    read in sequence order (retransmitted bytes skipped; a hole, DIGEST_BYTES or
    DIGEST_SEGMENTS ends it). One array of (end offset, CRC so far, frame) triples."""

    __slots__ = ("next_seq", "points", "crc", "offset", "done")

    def __init__(self) -> None:
        self.next_seq = -1  # the next byte expected (-1: not known yet)
        self.points: array[int] = array("q")
        self.crc = 0
        self.offset = 0
        self.done = False

    def syn(self, seq: int) -> None:
        if self.next_seq < 0:
            self.next_seq = (seq + 1) & _MASK

    def data(self, seq: int, payload: bytes, frame: int) -> None:
        n = len(payload)
        if n <= 6 and not any(payload):
            # Maybe Ethernet padding counted as payload (tcp.flows holds such zeros until it
            # knows): not read. Real zeros leave a hole, which ends the digest.
            return
        nxt = self.next_seq
        if nxt != seq:
            if nxt < 0:
                nxt = seq  # (no SYN seen: from the first data segment on)
            else:
                ahead = (seq - nxt) & _MASK
                if ahead < 0x80000000:
                    self.done = True  # a hole: what follows cannot be lined up with the other leg
                    return
                skip = 0x100000000 - ahead  # bytes of this segment already read
                if skip >= n:
                    return  # a retransmission
                payload = payload[skip:]
                n -= skip
        self.next_seq = (nxt + n) & _MASK
        self.crc = crc = _crc32(payload, self.crc)
        self.offset = offset = self.offset + n
        points = self.points
        points.extend((offset, crc, frame))
        if offset >= DIGEST_BYTES or len(points) >= 3 * DIGEST_SEGMENTS:
            self.done = True



# StreamDigest.points once its conversation ended (nothing is added then): what the index keeps.
Digest = Sequence[int]
NO_DIGEST: Digest = ()
# Where two legs' bytes differ: (first byte it can be, byte after the last, the frame holding the
# first in the asking conversation, in the other leg).
Difference = tuple[int, int, int, int]


def first_difference(mine: Digest, theirs: Digest) -> Optional[Difference]:
    """Where two digests of the same stream part, or None: equal at every offset where both have
    a segment end. The change lies after the last such offset whose CRCs agree and no later than
    the first whose CRCs differ (the CRC is a running one: once apart, always apart)."""
    if not mine or not theirs or (mine[-3] == theirs[-3] and mine[-2] == theirs[-2]):
        return None  # (the same running CRC at the same end: the same bytes, the common case)
    i = j = 0
    agreed = 0
    while i < len(mine) and j < len(theirs):
        a, b = mine[i], theirs[j]
        if a < b:
            i += 3
        elif b < a:
            j += 3
        else:
            if mine[i + 1] != theirs[j + 1]:
                return agreed, a, _frame_at(mine, agreed), _frame_at(theirs, agreed)
            agreed = a
            i += 3
            j += 3
    return None


def _frame_at(points: Digest, offset: int) -> int:
    """The frame of the segment that holds byte ``offset`` (the first segment ending after it)."""
    for k in range(0, len(points), 3):
        if points[k] > offset:
            return points[k + 2]
    return points[-1]


OPENING_BYTES = 48  # bytes kept of each direction's first data segment (a ClientHello's random ends at 43)
RELAY_WINDOW = 64  # retirements either side of a conversation among which its other legs are looked for
MAX_LEGS = 8  # other legs listed at most (a relay makes two; more are replays of the same bytes)


@dataclass(frozen=True)
class Leg:
    """Another conversation that began with the same bytes, as the table saw it."""

    stream: int
    reset_frame: Optional[int]  # its first RST (either direction), None without one
    reset_time: Optional[float]
    # Per direction of the conversation that asked: where its bytes differ from this leg's
    # (first_difference), None where they agree as far as both were read.
    differs: tuple[Optional[Difference], Optional[Difference]] = (None, None)

    def to_dict(self) -> dict[str, Any]:
        return {"stream": self.stream, "reset_frame": self.reset_frame, "reset_time": self.reset_time}


# (retire_seq, opening of direction 0, of direction 1, stream, first time, last time, first RST or None,
#  the digests of directions 0 and 1)
_Entry = tuple[int, bytes, Optional[bytes], int, float, float, Optional[tuple[int, float]], tuple[Digest, Digest]]


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
                 first_ts: float, last_ts: float, rst: Optional[tuple[int, float]],
                 digests: tuple[Digest, Digest] = (NO_DIGEST, NO_DIGEST)) -> None:
        first = opening[0]
        if first is None:
            return
        entry = (retire_seq, first, opening[1], stream, first_ts, last_ts, rst, digests)
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
             first_ts: float, last_ts: float, digests: tuple[Digest, Digest] = (NO_DIGEST, NO_DIGEST)) -> list[Leg]:
        """The other conversations that began with the same bytes both ways (the second
        direction's may be missing on either), overlapped this one in time, and were handed
        out within ``window`` retirements of it, with where their bytes differ from
        ``digests``; by stream number."""
        first = opening[0]
        if first is None:
            return []
        out: list[Leg] = []
        for seq, _, second, other, t0, t1, rst, theirs in self.by_opening.get(first, ()):
            if other == stream or abs(seq - retire_seq) > self.window:
                continue
            if second is not None and opening[1] is not None and second != opening[1]:
                continue
            if t0 > last_ts or first_ts > t1:
                continue
            differs = (first_difference(digests[0], theirs[0]), first_difference(digests[1], theirs[1]))
            out.append(Leg(other, rst[0] if rst else None, rst[1] if rst else None, differs))
            if len(out) >= MAX_LEGS:
                break  # (the first ones handed out: the same in a sharded run)
        out.sort(key=lambda leg: leg.stream)
        return out
