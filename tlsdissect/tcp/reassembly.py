"""TCP reassembly for one direction of a connection, as a sans-I/O state machine.

Feed it segments (sequence number, payload, frame, time) in capture order; it returns the
bytes that became contiguous, attributed to the frame that made them contiguous (the same
frame Wireshark reports a reassembled PDU in), and explicit gaps where bytes are missing.

Handled: out-of-order segments (buffered up to a cap), retransmissions and partial overlaps
(trimmed), sequence wrap-around (positions are tracked as unbounded integers), connections
that start mid-stream (the first segment seen sets the origin), and capture loss: when the
receiver has acknowledged bytes the capture never showed, the hole is reported as a gap at
once instead of waiting for data that will never come.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Optional, Union

# Output items: (data, frame, time) for bytes, (gap_length, frame, time) for a hole.
Chunk = tuple[Union[bytes, int], int, float]

_NO_PENDING: Any = MappingProxyType({})  # read-only shared empty "pending" (see __init__)
DEFAULT_MAX_PENDING = 2 * 1024 * 1024  # out-of-order bytes buffered per direction


def _delta(a: int, b: int) -> int:
    """Signed distance from 32-bit sequence number b to a (wrap-around aware)."""
    return ((a - b + 0x80000000) & 0xFFFFFFFF) - 0x80000000


class StreamReassembler:
    """One direction of a TCP stream: segments in, contiguous bytes and gaps out."""

    __slots__ = (
        "next_seq", "next_abs", "pending", "pending_bytes", "max_pending",
        "fin_abs", "peer_ack", "isn", "retransmitted", "overlap_conflicts", "gaps",
        "gap_bytes", "cap_hits", "alt_isns",
    )

    def __init__(self, max_pending: int = DEFAULT_MAX_PENDING):
        # 32-bit sequence number of the next expected byte; -1 (no sequence number) until the
        # origin is known, so that a caller's "seq == next_seq" in-order test cannot match early.
        self.next_seq = -1
        self.next_abs: Optional[int] = None  # its position in the stream (None: nothing seen)
        # Out-of-order segments by stream position: a dict of its own from the first one held.
        self.pending: Any = _NO_PENDING
        self.pending_bytes = 0
        self.max_pending = max_pending
        self.fin_abs: Optional[int] = None
        self.peer_ack: Optional[int] = None  # latest ACK number the other side sent
        self.isn: Optional[int] = None
        self.retransmitted = 0  # segments wholly seen before
        self.overlap_conflicts = 0  # retransmissions whose bytes differ from the original
        self.gaps = 0
        self.gap_bytes = 0
        self.cap_hits = 0
        self.alt_isns: Any = ()  # list[int] from the first

    # -- control ------------------------------------------------------------------------
    def syn(self, seq: int) -> None:
        """A SYN fixes the origin: the first data byte is seq + 1."""
        if self.next_abs is None or (self.next_abs == 0 and not self.pending):
            self.isn = seq
            self.next_seq = (seq + 1) & 0xFFFFFFFF
            self.next_abs = 0

    def syn_candidate(self, seq: int) -> None:
        """Another SYN with a different ISN before any data (seen with some load balancers):
        remember it; the first data segment tells which ISN the sender really used."""
        if self.next_abs == 0 and not self.pending and seq != self.isn:
            if not self.alt_isns:
                self.alt_isns = []
            self.alt_isns.append(seq)

    def fin(self, seq: int, payload_len: int) -> None:
        if self.next_abs is None:
            self.next_seq = seq
            self.next_abs = 0
        self.fin_abs = self.next_abs + _delta((seq + payload_len) & 0xFFFFFFFF, self.next_seq)

    # -- data ---------------------------------------------------------------------------
    def segment(self, seq: int, data: bytes, frame: int, ts: float) -> list[Chunk]:
        """Add one segment's payload; return what became contiguous (possibly nothing)."""
        if self.next_abs is None:
            self.next_seq = seq
            self.next_abs = 0
        d = _delta(seq, self.next_seq)
        n = len(data)
        if d and self.alt_isns and self.next_abs == 0 and not self.pending:
            for isn in self.alt_isns:
                if (isn + 1) & 0xFFFFFFFF == seq:
                    self.isn = isn
                    self.next_seq = seq
                    d = 0
                    break
            self.alt_isns = ()
        if d == 0 and not self.pending:  # the common case: in order, nothing buffered
            self.next_seq = (seq + n) & 0xFFFFFFFF
            self.next_abs += n
            return [(data, frame, ts)]
        if d < 0:
            if d + n <= 0:
                self.retransmitted += 1
                return []
            data = data[-d:]  # overlap with bytes already delivered: keep only the new part
            n = len(data)
            d = 0
        out: list[Chunk] = []
        if d == 0:
            self._deliver(data, frame, ts, out)
        else:
            start = self.next_abs + d
            old = self.pending.get(start)
            if old is None or len(old[0]) < n:
                if old is not None:
                    self.pending_bytes -= len(old[0])
                    if old[0] != data[:len(old[0])]:
                        self.overlap_conflicts += 1
                if self.pending is _NO_PENDING:
                    self.pending = {}
                self.pending[start] = (data, frame, ts)
                self.pending_bytes += n
            elif old[0][:n] != data:
                self.overlap_conflicts += 1
            if self._peer_has(start) or self.pending_bytes > self.max_pending:
                if self.pending_bytes > self.max_pending:
                    self.cap_hits += 1
                # The receiver got bytes the capture never showed, or we cannot wait any
                # longer: the hole will not be filled. Skip to the earliest buffered byte.
                self._skip_to(min(self.pending), frame, ts, out)
        self._drain(frame, ts, out)
        return out

    def acked(self, ack: int, frame: int, ts: float) -> list[Chunk]:
        """The other side acknowledged up to ``ack`` (call on every ACK it sends).

        When that covers buffered bytes beyond a hole, the receiver has the hole's bytes and
        the capture missed them: report the gap and release what follows now, attributed to
        this frame, rather than when this side next sends data (or at the end), which would
        put the rest of this side's flight after the peer's answer to it."""
        self.peer_ack = ack
        out: list[Chunk] = []
        while self.pending and self._peer_has(min(self.pending)):
            self._skip_to(min(self.pending), frame, ts, out)
            self._drain(frame, ts, out)
        return out

    def _peer_has(self, pos: int) -> bool:
        """Has the receiver acknowledged stream position ``pos``?"""
        if self.peer_ack is None or self.next_abs is None:
            return False
        acked = self.next_abs + _delta(self.peer_ack, self.next_seq)
        return acked >= pos

    def _deliver(self, data: bytes, frame: int, ts: float, out: list[Chunk]) -> None:
        out.append((data, frame, ts))
        self.next_abs += len(data)  # type: ignore[operator]
        self.next_seq = (self.next_seq + len(data)) & 0xFFFFFFFF

    def _skip_to(self, pos: int, frame: int, ts: float, out: list[Chunk]) -> None:
        missing = pos - self.next_abs  # type: ignore[operator]
        if missing <= 0:
            return
        out.append((missing, frame, ts))
        self.gaps += 1
        self.gap_bytes += missing
        self.next_abs = pos
        self.next_seq = (self.next_seq + missing) & 0xFFFFFFFF

    def _drain(self, frame: int, ts: float, out: list[Chunk]) -> None:
        """Release buffered segments that are now contiguous (attributed to ``frame``)."""
        pending = self.pending
        while pending:
            nxt = self.next_abs
            item = pending.pop(nxt, None)  # type: ignore[arg-type]
            if item is None:
                # A buffered segment may overlap the delivered edge without starting on it.
                early = [p for p in pending if p < nxt]  # type: ignore[operator]
                if not early:
                    return
                for p in early:
                    data = pending.pop(p)[0]
                    self.pending_bytes -= len(data)
                    tail = data[nxt - p:]  # type: ignore[operator]
                    if tail:
                        self._deliver(tail, frame, ts, out)
                        break
                continue
            data = item[0]
            self.pending_bytes -= len(data)
            self._deliver(data, frame, ts, out)

    def flush(self, frame: int, ts: float) -> list[Chunk]:
        """The stream ends (FIN, RST, capture end): hand out what is buffered, gaps included."""
        out: list[Chunk] = []
        while self.pending:
            self._skip_to(min(self.pending), frame, ts, out)
            self._drain(frame, ts, out)
        return out

    @property
    def finished(self) -> bool:
        return self.fin_abs is not None and self.next_abs is not None and self.next_abs >= self.fin_abs
