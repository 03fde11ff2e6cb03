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
broken). Each conversation also keeps a :class:`StreamDigest` per direction, a CRC-32 of every
``DIGEST_BLOCK`` bytes of its first ``DIGEST_BYTES``, so that two legs can be compared block by
block after both have ended: the first block that differs says where, in each leg's stream and
frames. The digest reads segments as they arrive, in sequence order only (a hole ends it), the
same way for a conversation analysed here and for another worker's shadow of it, so that a sharded
run compares as one process does.
"""

from __future__ import annotations

import zlib
from collections import deque
from dataclasses import dataclass
from typing import Any, Optional

DIGEST_BYTES = 16 * 1024  # of each direction: the handshake and the first records
DIGEST_BLOCK = 1024  # bytes per CRC: where two legs differ is told to within this
_MASK = 0xFFFFFFFF
_crc32 = zlib.crc32


class StreamDigest:
    """CRC-32 per DIGEST_BLOCK of one direction's first DIGEST_BYTES, segments read in sequence
    order (retransmitted bytes skipped; a hole, or DIGEST_BYTES read, ends it)."""

    __slots__ = ("next_seq", "blocks", "frames", "crc", "filled", "frame", "done")

    def __init__(self) -> None:
        self.next_seq = -1  # the next byte expected (-1: not known yet)
        self.blocks: list[int] = []  # CRCs of the complete blocks
        self.frames: list[int] = []  # the frame each complete block began in
        self.crc = 0  # of the block being filled
        self.filled = 0
        self.frame = 0  # the frame the block being filled began in
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
        if nxt < 0:
            nxt = seq  # (no SYN seen: from the first data segment on)
        ahead = (seq - nxt) & _MASK
        if ahead:
            if ahead < 0x80000000:
                self.done = True  # a hole: what follows cannot be lined up with the other leg
                return
            skip = 0x100000000 - ahead  # bytes of this segment already read
            if skip >= n:
                return  # a retransmission
            payload = payload[skip:]
            n -= skip
        self.next_seq = (nxt + n) & _MASK
        view = memoryview(payload)
        pos = 0
        while pos < n:
            if not self.filled:
                self.frame = frame
            take = min(DIGEST_BLOCK - self.filled, n - pos)
            self.crc = _crc32(view[pos:pos + take], self.crc)
            self.filled += take
            pos += take
            if self.filled == DIGEST_BLOCK:
                self.blocks.append(self.crc)
                self.frames.append(self.frame)
                self.crc = self.filled = 0
                if len(self.blocks) * DIGEST_BLOCK >= DIGEST_BYTES:
                    self.done = True
                    return

    def summary(self) -> "Digest":
        """(block CRCs, their first frames, the partial block's CRC, its length, its first frame)."""
        return (tuple(self.blocks), tuple(self.frames), self.crc, self.filled, self.frame)


# StreamDigest.summary's form: what the index keeps of a direction once its conversation ended.
Digest = tuple[tuple[int, ...], tuple[int, ...], int, int, int]
NO_DIGEST: Digest = ((), (), 0, 0, 0)


# Where two legs' bytes differ: (first byte, byte after the last, the frame the bytes begin in
# in the asking conversation, in the other leg).
Difference = tuple[int, int, int, int]


def first_difference(mine: Digest, theirs: Digest) -> Optional[Difference]:
    """The first block two digests of the same stream differ in, or None: equal as far as both
    go (a partial last block is compared only when both hold the same number of its bytes)."""
    blocks, frames, crc, filled, frame = mine
    other_blocks, other_frames, other_crc, other_filled, other_frame = theirs
    common = min(len(blocks), len(other_blocks))
    for i in range(common):
        if blocks[i] != other_blocks[i]:
            return i * DIGEST_BLOCK, (i + 1) * DIGEST_BLOCK, frames[i], other_frames[i]
    if len(blocks) == len(other_blocks) and filled and filled == other_filled and crc != other_crc:
        start = common * DIGEST_BLOCK
        return start, start + filled, frame, other_frame
    return None

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
