"""TCP reassembly for one direction of a connection, as a sans-I/O state machine.

Feed it segments (sequence number, payload, frame, time) in capture order; it returns the
bytes that became contiguous, attributed to the frame that made them contiguous (the same
frame Wireshark reports a reassembled PDU in), and explicit gaps where bytes are missing.

Handled: out-of-order segments (buffered up to a cap), retransmissions and partial overlaps
(trimmed), sequence wrap-around (positions are tracked as unbounded integers), connections
that start mid-stream (the first segment seen sets the origin), and capture loss: when the
receiver has acknowledged bytes the capture never showed, the hole is reported as a gap at
once instead of waiting for data that will never come.

Bounded whatever the traffic: out-of-order bytes wait in *runs* of contiguous bytes (a segment
that continues a run is appended to it; small runs it overlaps or touches are absorbed),
sorted by stream position, so a segment costs O(log n) in the runs buffered and amortised
O(1) in the common case (in order behind a hole). A direction holds at most
``DEFAULT_MAX_PENDING`` bytes and ``MAX_PENDING_SEGMENTS`` segments, and all the directions of
a flow table share one ``ReassemblyBudget``; past any of these the hole is given up (a gap).
Where two copies of the same bytes differ, the first one seen wins (as a receiver keeps what
it already has) and the conflict is counted with both frames: among buffered copies always,
and after delivery against the direction's last delivered segment (``LAST_BYTES`` of it).
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from typing import Any, Optional, Union

# Output items: (data, frame, time) for bytes, (gap_length, frame, time) for a hole.
Chunk = tuple[Union[bytes, int], int, float]

DEFAULT_MAX_PENDING = 2 * 1024 * 1024  # out-of-order bytes buffered per direction
MAX_PENDING_SEGMENTS = 4096  # out-of-order segments buffered per direction (merged or not)
MAX_PENDING_TOTAL = 64 * 1024 * 1024  # out-of-order memory of all connections (ReassemblyBudget)
SEGMENT_COST = 256  # bytes a buffered segment is charged on top of its payload (its bookkeeping)
MERGE_SMALL = 512  # a following run up to this long (or as long as the segment) is copied in ...
_MERGE_PIECES = 32  # ... if made of no more segments than this (their bookkeeping is copied too)
LAST_BYTES = 2048  # bytes kept of the last delivered segment (its end), per direction
_MASK = 0xFFFFFFFF
_NOTHING: Any = ()  # shared empty "pending" and "runs" (a direction's own lists from the first run)


def _delta(a: int, b: int) -> int:
    """Signed distance from 32-bit sequence number b to a (wrap-around aware)."""
    return ((a - b + 0x80000000) & 0xFFFFFFFF) - 0x80000000


def _first_difference(a: Any, b: Any) -> int:
    """Index of the first byte where ``a`` and ``b`` (of equal length, known to differ) differ."""
    lo, hi = 0, len(a)
    while hi - lo > 64:  # halve by comparing slices (C speed), then walk the last few bytes
        mid = (lo + hi) // 2
        if a[lo:mid] != b[lo:mid]:
            hi = mid
        else:
            lo = mid
    return next((i for i in range(lo, hi) if a[i] != b[i]), lo)


class ReassemblyBudget:
    """Out-of-order memory shared by the reassemblers of one flow table: payload bytes plus
    SEGMENT_COST per segment, against ``limit``."""

    __slots__ = ("used", "limit")

    def __init__(self, limit: int = MAX_PENDING_TOTAL) -> None:
        self.used = 0
        self.limit = limit


class _Run:
    """Contiguous buffered bytes: one segment, or several adjacent ones merged. Where each
    segment starts in it and its frame are kept (for a conflict's report)."""

    __slots__ = ("data", "offsets", "frames")

    def __init__(self, data: bytes, frame: int) -> None:
        self.data: Union[bytes, bytearray] = data  # a bytearray once something is appended
        self.offsets = array("q", (0,))
        self.frames = array("q", (frame,))

    def append(self, data: bytes, frame: int) -> None:
        buf = self.data
        if type(buf) is bytes:
            self.data = buf = bytearray(buf)
        self.offsets.append(len(buf))
        self.frames.append(frame)
        buf += data  # (in place: bytearray)

    def absorb(self, other: "_Run") -> None:
        """Append ``other``'s bytes and segments (it must start where this run ends)."""
        buf = self.data
        if type(buf) is bytes:
            self.data = buf = bytearray(buf)
        base = len(buf)
        self.offsets.extend(map(base.__add__, other.offsets))
        self.frames.extend(other.frames)
        buf += other.data

    def frame_at(self, offset: int) -> int:
        return self.frames[bisect_right(self.offsets, offset) - 1]


class StreamReassembler:
    """One direction of a TCP stream: segments in, contiguous bytes and gaps out."""

    __slots__ = (
        "next_seq", "next_abs", "pending", "runs", "pending_bytes", "pending_segments", "max_pending",
        "max_segments", "budget", "fin_abs", "peer_ack", "isn", "retransmitted",
        "overlap_conflicts", "first_conflict", "gaps", "gap_bytes", "cap_hits", "segment_cap_hits",
        "budget_hits", "alt_isns", "last", "last_frame",
    )

    def __init__(self, max_pending: int = DEFAULT_MAX_PENDING, budget: Optional[ReassemblyBudget] = None,
                 max_segments: int = MAX_PENDING_SEGMENTS):
        # 32-bit sequence number of the next expected byte; -1 (no sequence number) until the
        # origin is known, so that a caller's "seq == next_seq" in-order test cannot match early.
        self.next_seq = -1
        self.next_abs = -1  # its position in the stream (-1: nothing seen; positions start at 0)
        # Out-of-order bytes: the runs' stream positions, sorted, and the runs (lists of the
        # direction's own from the first run held). Every run starts beyond next_abs.
        self.pending: Any = _NOTHING
        self.runs: Any = _NOTHING
        self.pending_bytes = 0
        self.pending_segments = 0
        self.max_pending = max_pending
        self.max_segments = max_segments
        self.budget = budget  # shared with the other directions of the flow table (None: none)
        self.fin_abs: Optional[int] = None
        self.peer_ack: Optional[int] = None  # latest ACK number the other side sent
        self.isn: Optional[int] = None
        self.retransmitted = 0  # segments wholly seen before
        self.overlap_conflicts = 0  # retransmissions whose bytes differ from the first copy
        self.first_conflict: Optional[tuple[int, int, int]] = None  # (first copy's frame, other frame, seq)
        self.gaps = 0
        self.gap_bytes = 0
        self.cap_hits = 0  # holes given up: byte cap, segment cap, shared budget
        self.segment_cap_hits = 0
        self.budget_hits = 0
        self.alt_isns: Any = ()  # list[int] from the first
        # Up to LAST_BYTES of the last bytes delivered (they end at next_abs: every delivery
        # sets them, and nothing else moves next_abs but a gap, which a delivery follows), and
        # the frame they came in. A reference to the segment's payload, not a copy.
        self.last = b""
        self.last_frame = 0

    # -- control ------------------------------------------------------------------------
    def syn(self, seq: int) -> None:
        """A SYN fixes the origin: the first data byte is seq + 1."""
        if self.next_abs < 0 or (self.next_abs == 0 and not self.pending):
            self.isn = seq
            self.next_seq = (seq + 1) & _MASK
            self.next_abs = 0

    def syn_candidate(self, seq: int) -> None:
        """Another SYN with a different ISN before any data (seen with some load balancers):
        remember it; the first data segment tells which ISN the sender really used."""
        if self.next_abs == 0 and not self.pending and seq != self.isn:
            if not self.alt_isns:
                self.alt_isns = []
            self.alt_isns.append(seq)

    def fin(self, seq: int, payload_len: int) -> None:
        if self.next_abs < 0:
            self.next_seq = seq
            self.next_abs = 0
        self.fin_abs = self.next_abs + _delta((seq + payload_len) & _MASK, self.next_seq)

    # -- data ---------------------------------------------------------------------------
    def segment(self, seq: int, data: bytes, frame: int, ts: float) -> list[Chunk]:
        """Add one segment's payload; return what became contiguous (possibly nothing)."""
        if self.next_abs < 0:
            self.next_seq = seq
            self.next_abs = 0
        d = _delta(seq, self.next_seq)
        n = len(data)
        if d and self.alt_isns and self.next_abs == 0 and not self.pending:
            for isn in self.alt_isns:
                if (isn + 1) & _MASK == seq:
                    self.isn = isn
                    self.next_seq = seq
                    d = 0
                    break
            self.alt_isns = ()
        if d == 0 and not self.pending:  # the common case: in order, nothing buffered
            self.next_seq = (seq + n) & _MASK
            self.next_abs += n
            self.last = data if n <= LAST_BYTES else data[-LAST_BYTES:]
            self.last_frame = frame
            return [(data, frame, ts)]
        start = self.next_abs + d
        if d < 0:
            if d + n <= 0:
                self.retransmitted += 1
                if d != -1 or n != 1:  # (one byte just below the edge: a keep-alive's garbage byte)
                    self._check_delivered(start, data, frame)
                return []
            self._check_delivered(start, data[:-d], frame)
            data = data[-d:]  # overlap with bytes already delivered: keep only the new part
            n = len(data)
            d = 0
            start = self.next_abs
        out: list[Chunk] = []
        if d == 0:
            # In order, with bytes buffered beyond: these go out as they are (a receiver takes
            # them; buffered copies of the same bytes are compared and trimmed by _drain).
            out.append((data, frame, ts))
            self.next_seq = (self.next_seq + n) & _MASK
            self.next_abs = start + n
            self.last = data if n <= LAST_BYTES else data[-LAST_BYTES:]
            self.last_frame = frame
            self._drain(frame, ts, out, data)
            return out
        self._buffer(start, data, frame)
        if self._over_cap() or self._peer_has(start):
            # The receiver got bytes the capture never showed, or we cannot wait any
            # longer: the hole will not be filled. Skip to the earliest buffered byte.
            self._skip_to(self.pending[0], frame, ts, out)
        self._drain(frame, ts, out)
        return out

    def _over_cap(self) -> bool:
        """Whether the buffer is over one of its caps (counting which)."""
        if self.pending_bytes > self.max_pending:
            self.cap_hits += 1
        elif self.pending_segments > self.max_segments:
            self.segment_cap_hits += 1
        elif self.budget is not None and self.budget.used > self.budget.limit:
            self.budget_hits += 1
        else:
            return False
        return True

    def acked(self, ack: int, frame: int, ts: float) -> list[Chunk]:
        """The other side acknowledged up to ``ack`` (call on every ACK it sends).

        When that covers buffered bytes beyond a hole, the receiver has the hole's bytes and
        the capture missed them: report the gap and release what follows now, attributed to
        this frame, rather than when this side next sends data (or at the end), which would
        put the rest of this side's flight after the peer's answer to it."""
        self.peer_ack = ack
        out: list[Chunk] = []
        while self.pending and self._peer_has(self.pending[0]):
            self._skip_to(self.pending[0], frame, ts, out)
            self._drain(frame, ts, out)
        return out

    def _peer_has(self, pos: int) -> bool:
        """Has the receiver acknowledged stream position ``pos``?"""
        if self.peer_ack is None or self.next_abs < 0:
            return False
        acked = self.next_abs + _delta(self.peer_ack, self.next_seq)
        return acked >= pos

    def _skip_to(self, pos: int, frame: int, ts: float, out: list[Chunk]) -> None:
        missing = pos - self.next_abs
        if missing <= 0:
            return
        out.append((missing, frame, ts))
        self.gaps += 1
        self.gap_bytes += missing
        self.next_abs = pos
        self.next_seq = (self.next_seq + missing) & _MASK

    # -- the out-of-order buffer --------------------------------------------------------
    def _buffer(self, start: int, data: bytes, frame: int) -> None:
        """Hold ``data`` (stream position ``start``, at or beyond next_abs) until it is contiguous.
        Bytes already buffered win where they overlap (compared: a difference is a conflict)."""
        starts = self.pending
        if not starts:
            self.pending = starts = []
            self.runs = []
        runs = self.runs
        end = start + len(data)
        i = bisect_right(starts, start) - 1
        before: Optional[_Run] = None  # the run just before the new bytes, when they continue it
        if i >= 0:
            prev_start = starts[i]
            before = runs[i]
            prev_end = prev_start + len(before.data)
            if prev_end > start:
                self._compare(before, prev_start, start, data[:prev_end - start], frame)
                if end <= prev_end:
                    return
                data = data[prev_end - start:]
                start = prev_end
            elif prev_end < start:
                before = None
        # The new bytes between the runs they overlap or touch; those runs are merged in
        # unless one goes on past them and is long (copying it could cost more than the segment).
        parts: list[Union[bytes, _Run]] = []
        pos = start
        j = i + 1
        count = len(starts)
        while j < count and starts[j] <= end:
            run_start, run = starts[j], runs[j]
            run_end = run_start + len(run.data)
            if run_start < end:
                self._compare(run, run_start, run_start, data[run_start - start:min(end, run_end) - start], frame)
            if run_end > end and (len(run.data) > max(MERGE_SMALL, len(data)) or len(run.frames) > _MERGE_PIECES):
                end = run_start
                break
            if run_start > pos:
                parts.append(data[pos - start:run_start - start])
            parts.append(run)
            pos = run_end
            j += 1
        if pos < end:
            parts.append(data[pos - start:end - start])
        self._place(i, j, start, before, parts, frame)

    def _place(self, i: int, j: int, start: int, before: Optional[_Run], parts: list[Union[bytes, _Run]],
               frame: int) -> None:
        """Put ``parts`` (new bytes and the runs i+1..j-1 they absorb) in as one run at ``start``,
        appended to run ``i`` (``before``) when they continue it."""
        added = pieces = 0
        target = before
        for part in parts:
            if isinstance(part, _Run):
                if target is None:
                    target = part
                else:
                    target.absorb(part)
            else:
                added += len(part)
                pieces += 1
                if target is None:
                    target = _Run(part, frame)
                else:
                    target.append(part, frame)
        if target is None:
            return
        starts, runs = self.pending, self.runs
        del starts[i + 1:j]
        del runs[i + 1:j]
        if target is not before:
            starts.insert(i + 1, start)
            runs.insert(i + 1, target)
        self.pending_bytes += added
        self.pending_segments += pieces
        if self.budget is not None:
            self.budget.used += added + SEGMENT_COST * pieces

    def _compare(self, run: _Run, run_start: int, at: int, new: bytes, frame: int) -> None:
        """A new copy of buffered bytes (``new`` at stream position ``at``, inside ``run``)."""
        offset = at - run_start
        old = run.data[offset:offset + len(new)]
        if old != new:
            first = None
            if self.first_conflict is None:
                k = _first_difference(old, new)
                first = (run.frame_at(offset + k), at + k)
            self._conflict(frame, first)

    def _check_delivered(self, start: int, data: bytes, frame: int) -> None:
        """A retransmission of delivered bytes: compared with what is kept of the last delivery."""
        kept = self.last
        end = self.next_abs
        kept_start = end - len(kept)
        lo = max(start, kept_start)
        hi = min(start + len(data), end)
        if lo < hi:
            new = data[lo - start:hi - start]
            old = kept[lo - kept_start:hi - kept_start]
            if old != new:
                first = None if self.first_conflict is not None else (self.last_frame, lo + _first_difference(old, new))
                self._conflict(frame, first)

    def _conflict(self, frame: int, first: Optional[tuple[int, int]]) -> None:
        """Count a conflict; ``first``: (frame of the first copy, stream position of the first
        differing byte) for the first one."""
        self.overlap_conflicts += 1
        if first is not None and self.first_conflict is None:
            seq = (self.next_seq + first[1] - self.next_abs) & _MASK
            self.first_conflict = (first[0], frame, seq)

    def _drain(self, frame: int, ts: float, out: list[Chunk], fresh: Optional[bytes] = None) -> None:
        """Release the buffered runs that are now contiguous (attributed to ``frame``). ``fresh``:
        the segment just delivered in order, which buffered runs may overlap (they are compared
        with it and trimmed)."""
        starts = self.pending
        nxt = self.next_abs
        if not starts or starts[0] > nxt:
            return
        runs = self.runs
        k = size = pieces = 0
        count = len(starts)
        while k < count and starts[k] <= nxt:
            run_start, run = starts[k], runs[k]
            data = run.data
            k += 1
            size += len(data)
            pieces += len(run.frames)
            cut = nxt - run_start
            if cut:  # it overlaps the bytes just delivered (fresh)
                if fresh is not None:
                    self._compare(run, run_start, run_start, fresh[len(fresh) - cut:][:len(data)], frame)
                if cut >= len(data):
                    continue
            nxt = run_start + len(data)
            self._hand_out(run, cut, frame, ts, out)
        if k == count:
            self.pending = self.runs = _NOTHING
        else:
            del starts[:k]
            del runs[:k]
        self.next_seq = (self.next_seq + (nxt - self.next_abs)) & _MASK
        self.next_abs = nxt
        self.pending_bytes -= size
        self.pending_segments -= pieces
        if self.budget is not None:
            self.budget.used -= size + SEGMENT_COST * pieces

    def _hand_out(self, run: _Run, cut: int, frame: int, ts: float, out: list[Chunk]) -> None:
        """A run's bytes from offset ``cut`` on, one chunk per segment it was made of: the
        consumer may depend on where segments end (the TLS stage resynchronises within one),
        so merging must not change that."""
        data = run.data
        offsets = run.offsets
        if len(offsets) == 1:
            piece = data[cut:] if cut else data
            chunk = piece if isinstance(piece, bytes) else bytes(piece)
            out.append((chunk, frame, ts))
        else:
            view = memoryview(data)
            ends = list(offsets[1:])
            ends.append(len(data))
            for begin, stop in zip(offsets, ends):
                if stop > cut:
                    chunk = bytes(view[max(begin, cut):stop])
                    out.append((chunk, frame, ts))
            view.release()
        self.last = chunk[-LAST_BYTES:] if len(chunk) > LAST_BYTES else chunk
        self.last_frame = run.frames[-1]

    def flush(self, frame: int, ts: float) -> list[Chunk]:
        """The stream ends (FIN, RST, capture end): hand out what is buffered, gaps included."""
        out: list[Chunk] = []
        while self.pending:
            self._skip_to(self.pending[0], frame, ts, out)
            self._drain(frame, ts, out)
        return out

    @property
    def finished(self) -> bool:
        return self.fin_abs is not None and self.next_abs >= 0 and self.next_abs >= self.fin_abs
