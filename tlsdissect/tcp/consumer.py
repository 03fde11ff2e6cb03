"""What the TCP stage hands its reassembled bytes to: the interface, not an implementation.

A conversation delivers each direction's bytes in order, and its holes, to one consumer that
the pipeline gives it (the TLS stage's session today; a STARTTLS or another protocol's reader
may follow). The TCP stage imports no consumer: it knows this protocol only.
"""

from __future__ import annotations

from typing import Optional, Protocol


class StreamConsumer(Protocol):
    """The reader of one conversation's two byte streams (direction 0 is the first packet's)."""

    # Which direction is the client's, as the bytes say (a ClientHello's sender); None: unknown.
    client_dir_hint: Optional[int]

    def data(self, d: int, data: bytes, frame: int, ts: float) -> None:
        """The next contiguous bytes of direction ``d``; ``frame``/``ts``: the segment's."""

    def gap(self, d: int, missing: int, frame: int, ts: float) -> None:
        """``missing`` bytes of direction ``d`` that the capture does not have."""

    def set_midstream(self, d: int) -> None:
        """Direction ``d`` starts somewhere in the middle of its stream (no SYN seen)."""

    def mid_record(self, d: int) -> int:
        """Bytes of a unit (a TLS record) that direction ``d`` has started but not finished."""
