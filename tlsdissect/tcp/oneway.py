"""Bytes a side sent that the capture does not hold, read from its peer's acknowledgements.

A capture taken on one direction only (a one-way tap, a SPAN port mirroring one way, a capture
filter naming one host as source) or one that dropped packets still shows the peer's ACK
numbers climbing: the peer received bytes that the capture never saw. Telling this apart from
a silent peer matters: without it, a client-only capture reads as "the server never answered".
"""

from __future__ import annotations

from array import array

from tlsdissect.tcp.stall import packets

_HALF = 0x80000000


def acked_not_captured(peer_log: array[float], captured_bytes: int) -> int:
    """How many bytes more than ``captured_bytes`` (the payload the capture holds of one
    direction) the peer acknowledges in its logged packets (``peer_log``, tcp.stall's packet
    log of the other direction): its ACK numbers' advance, less the SYN and FIN each worth one
    sequence number. 0 when the acknowledgements show nothing missing."""
    first = None
    advance = 0
    for _seq, _length, ack, _flags, _frame, _ts in packets(peer_log):
        if ack < 0:
            continue
        if first is None:
            first = ack
            continue
        step = (ack - first) & 0xFFFFFFFF
        if step < _HALF and step > advance:  # (a step back is an old ACK, not progress)
            advance = step
    missing = advance - captured_bytes - 1  # (the FIN's sequence number, if one was acknowledged)
    return missing if missing > 0 else 0
