"""UDP flows that speak QUIC, found by their bytes (a long header of a QUIC version), not by port.

A flow is keyed like a TCP conversation (addresses and ports, either direction); the first
datagram with a QUIC long header starts a QuicSession, whose sender is the client. Bounded: at
most MAX_FLOWS sessions (later flows are counted, not read) and MAX_NOT_QUIC flow keys
remembered as not QUIC.
"""

from __future__ import annotations

from typing import Any

from tlsdissect.capture.packet import format_endpoint, split_key
from tlsdissect.quic.packets import looks_like_quic_long_header
from tlsdissect.quic.session import QuicHandshake, QuicSession

MAX_FLOWS = 10_000
MAX_NOT_QUIC = 100_000


def _reverse(key: bytes) -> bytes:
    half = (len(key) - 4) // 2
    return key[half:2 * half] + key[:half] + key[-2:] + key[-4:-2]


class QuicFlows:
    """Fed every UDP datagram of the capture (``datagram``); ``results`` at the end."""

    def __init__(self, keylog: Any = None) -> None:
        self.keylog = keylog  # keys.keylog.KeyLog: Handshake packets are opened with its secrets
        self.sessions: dict[bytes, QuicSession] = {}
        self.not_quic: set[bytes] = set()
        self.flows_skipped = 0

    def datagram(self, frame: int, ts: float, key: bytes, payload: bytes) -> None:
        session = self.sessions.get(key)
        direction = "a"
        if session is None:
            session = self.sessions.get(_reverse(key))
            direction = "b"
        if session is None:
            if key in self.not_quic or looks_like_quic_long_header(payload) is None:
                if len(self.not_quic) < MAX_NOT_QUIC:
                    self.not_quic.add(key)
                return
            if len(self.sessions) >= MAX_FLOWS:
                self.flows_skipped += 1
                return
            src, dst, sport, dport = split_key(key)
            session = QuicSession("a", format_endpoint(src, sport), format_endpoint(dst, dport), frame, ts,
                                  self.keylog)
            self.sessions[key] = session
            direction = "a"
        session.datagram(direction, frame, ts, payload)

    def results(self) -> list[QuicHandshake]:
        """The handshakes, in the order their flows began (sessions that never showed an
        Initial packet, e.g. a capture starting mid-connection, are left out)."""
        return [s.result for s in self.sessions.values() if s.result.version is not None
                or s.result.version_negotiation]

