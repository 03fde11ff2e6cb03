"""A stalled direction: bytes sent again and again and never acknowledged, and which segment
sizes did get through.

A handshake that stops without an alert is often explained by TCP alone: the server's large
certificate flight is retransmitted while the client's acknowledgement never moves past it
(a path-MTU black hole drops the full-size segments, small ones pass), or everything one side
sends after some point is lost whatever its size (a filtering device). Telling these apart
needs the first packets of each direction as TCP saw them, which the reassembled byte stream no
longer shows: a packet log (:func:`new_log`) keeps them (the first ``LOG_PACKETS`` packets of a
direction, six numbers each in one array: bounded whatever the traffic), and :func:`stalled` reads a
direction's log against the peer's to find the stall.

Received is judged from the peer's packets: its cumulative ACK passing a segment's end, or a
duplicate ACK sent right after a segment (a receiver sends one for each segment that arrives
beyond a hole, so that segment got through). Selective ACK blocks would say more; the capture
stage does not hand TCP options on, so they are not read.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any, Optional

LOG_PACKETS = 32  # packets logged per direction (the handshake's, retransmissions included)
MIN_RETRANSMISSIONS = 2  # a stall: the same unacknowledged bytes sent again at least this often
DUPLICATE_SECONDS = 0.001  # a copy this soon after the previous one is the same frame captured twice
_FIELDS = 6  # per packet: seq, payload length, ack (-1: no ACK flag), flags, frame, time
_SYN_FIN_RST = 0x07


def _delta(a: int, b: int) -> int:
    """Signed distance from 32-bit sequence number b to a (wrap-around aware)."""
    return ((a - b + 0x80000000) & 0xFFFFFFFF) - 0x80000000


def new_log() -> array[float]:
    """An empty packet log: one array of doubles, _FIELDS per packet (a double holds a 32-bit
    sequence number, a frame number and a capture time exactly enough); the TCP stage appends
    ``(seq, payload length, ack or -1, flags, frame, time)`` for each of a direction's first
    LOG_PACKETS packets (in its per-packet path, without a call)."""
    return array("d")


def packets(log: array[float]) -> list[tuple[Any, ...]]:
    """(seq, length, ack, flags, frame, time) per packet logged, integers as ints."""
    out = []
    for i in range(0, len(log), _FIELDS):
        seq, length, ack, flags, frame, ts = log[i:i + _FIELDS]
        out.append((int(seq), int(length), int(ack), int(flags), int(frame), ts))
    return out


@dataclass
class Stall:
    """Bytes of one direction that were sent, retransmitted and never acknowledged."""

    lost_from: int  # stream offset (0: the direction's first data byte) of the first lost byte
    first_frame: int  # the first transmission of the lost bytes
    first_size: int  # its payload length
    retransmission_frames: list[int]  # the retransmissions of the lost bytes, in order
    lost_sizes: list[int]  # payload lengths of the retransmissions of the lost bytes (distinct, sorted)
    delivered_sizes: list[int]  # payload lengths of data segments that got through (distinct, sorted)
    delivered_frames: list[int] = field(default_factory=list)  # those segments
    answer_frames: list[int] = field(default_factory=list)  # the peer's ACKs that show they got through
    seconds: float = 0.0  # from the first transmission to the last retransmission
    # The peer's retransmissions of data this side had already acknowledged: this side's small
    # packets (its ACKs) were lost too, so size is not what the path drops.
    unheard_ack_frames: list[int] = field(default_factory=list)

    @property
    def small_ones_passed(self) -> bool:
        """Segments smaller than every lost one got through: a size limit on the path, not a
        wall (a path-MTU black hole rather than a device dropping everything)."""
        return bool(self.delivered_sizes) and max(self.delivered_sizes) < min(self.lost_sizes)

    def to_dict(self) -> dict[str, object]:
        return {"lost_from": self.lost_from, "first_frame": self.first_frame, "first_size": self.first_size,
                "retransmission_frames": self.retransmission_frames, "lost_sizes": self.lost_sizes,
                "delivered_sizes": self.delivered_sizes, "delivered_frames": self.delivered_frames,
                "answer_frames": self.answer_frames, "seconds": round(self.seconds, 6),
                "unheard_ack_frames": self.unheard_ack_frames}


def stalled(sent: array[float], peer: array[float], origin: Optional[int], final_ack: Optional[int]) -> Optional[Stall]:
    """The stall of the direction whose packets ``sent`` logs, or None: its data from some point
    on was sent MIN_RETRANSMISSIONS more times and the peer never acknowledged it.

    The peer must have sent something (its SYN-ACK, an ACK): a peer never heard from is not
    a stall but a silence. ``origin`` is the direction's first data sequence number (its ISN + 1; None: the first logged
    data segment's), ``final_ack`` the last ACK number the peer sent (None: it sent none)."""
    data = [p for p in packets(sent) if p[1] > 0 and not p[3] & 0x04]
    if not data or not peer:
        return None  # (a peer the capture never heard from: nothing tells its silence from a loss)
    base = origin if origin is not None else data[0][0]
    acked = _delta(final_ack, base) if final_ack is not None else 0
    # The lost bytes start at the peer's last acknowledgement: the first logged segment that
    # carries that byte is their first transmission, the later ones are retransmissions.
    # (A copy within DUPLICATE_SECONDS of the one before is the same packet captured twice, not a
    # retransmission: some captures hold every frame twice.)
    covering: list[tuple[Any, ...]] = []
    for p in data:
        if _delta(p[0], base) <= acked < _delta(p[0], base) + p[1] and (
                not covering or p[5] - covering[-1][5] > DUPLICATE_SECONDS):
            covering.append(p)
    if len(covering) < 1 + MIN_RETRANSMISSIONS:
        return None
    first, lost = covering[0], covering[1:]
    delivered, answers = _got_through(data, peer, base, acked)
    return Stall(lost_from=acked, first_frame=first[4], first_size=first[1],
                 retransmission_frames=[p[4] for p in lost], lost_sizes=sorted({p[1] for p in lost}),
                 delivered_sizes=sorted({p[1] for p in delivered}), delivered_frames=[p[4] for p in delivered],
                 answer_frames=answers, seconds=lost[-1][5] - first[5],
                 unheard_ack_frames=_acks_unheard(sent, peer))


def _acks_unheard(sent: array[float], peer: array[float]) -> list[int]:
    """The peer's data segments sent again (a copy of bytes it had sent before) after this
    side had acknowledged them (DUPLICATE_SECONDS and more before): the acknowledgement never
    reached the peer. Their frames."""
    acks = [(p[2], p[5]) for p in packets(sent) if p[2] >= 0 and not p[3] & 0x04]
    seen: set[int] = set()
    unheard: list[int] = []
    for q in packets(peer):
        if q[1] <= 0 or q[3] & 0x04:
            continue
        end = (q[0] + q[1]) & 0xFFFFFFFF
        if q[0] in seen and any(_delta(ack, end) >= 0 and ts < q[5] - DUPLICATE_SECONDS for ack, ts in acks):
            unheard.append(q[4])
        seen.add(q[0])
    return unheard


def _got_through(data: list[tuple[Any, ...]], peer: array[float], base: int,
                 acked: int) -> tuple[list[tuple[Any, ...]], list[int]]:
    """The data segments that reached the peer (its cumulative ACK passed their end, or it sent
    a duplicate ACK right after them), and the peer's ACK frames that show it."""
    delivered: list[tuple[Any, ...]] = []
    answers: list[int] = []
    for p in data:
        if _delta(p[0], base) + p[1] <= acked:
            delivered.append(p)
    peer_packets = packets(peer)
    last_ack: Optional[int] = None
    i = 0
    latest: Optional[tuple[Any, ...]] = None  # the last data segment before the peer's packet
    for q in peer_packets:
        while i < len(data) and data[i][4] < q[4]:
            latest = data[i]
            i += 1
        ack = q[2]
        pure = q[1] == 0 and not q[3] & _SYN_FIN_RST and ack >= 0
        if pure and ack == last_ack and latest is not None and latest not in delivered:
            delivered.append(latest)  # a duplicate ACK: the segment just before it arrived
            answers.append(q[4])
            latest = None
        if ack >= 0:
            last_ack = ack
    delivered.sort(key=lambda p: p[4])
    return delivered, answers
