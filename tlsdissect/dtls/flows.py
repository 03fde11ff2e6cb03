"""UDP flows that speak DTLS, found by their bytes (a DTLS record header), not by port.

A flow is keyed like a TCP conversation (addresses and ports, either direction). A datagram
whose records all have a DTLS header (content type 20-25, a DTLS version, lengths that end at
the datagram's end) starts a DtlsSession; later datagrams of the flow go to it whatever they
hold (WebRTC multiplexes STUN and SRTP on the same ports, RFC 7983: the session skips what is
not DTLS). Bounded: at most MAX_FLOWS sessions (later flows are counted, not read), sharing one
budget of bytes of incomplete handshake messages (dtls.messages.MAX_BUFFERED_TOTAL).
"""

from __future__ import annotations

from typing import Any

from tlsdissect.capture.packet import format_endpoint, split_key
from tlsdissect.dtls.association import DtlsAssociation
from tlsdissect.dtls.messages import Budget
from tlsdissect.dtls.records import looks_like_dtls
from tlsdissect.dtls.session import DtlsSession

MAX_FLOWS = 10_000

# RFC 7983 §7: the first byte of a DTLS record is 20-63 (plaintext 20-25, DTLS 1.3 unified
# headers 32-63); STUN is 0-3, ZRTP 16-19, TURN channels 64-79, RTP/RTCP 128-191.
_DTLS_FIRST_BYTES = frozenset(range(20, 64))


def _reverse(key: bytes) -> bytes:
    half = (len(key) - 4) // 2
    return key[half:2 * half] + key[:half] + key[-2:] + key[-4:-2]


class DtlsFlows:
    """Fed every UDP datagram of the capture (``datagram``); ``results`` at the end."""

    def __init__(self, keylog: Any = None) -> None:
        self.keylog = keylog  # keys.keylog.KeyLog: encrypted alerts are opened with its master secrets
        self.sessions: dict[bytes, DtlsSession] = {}
        self.flows_skipped = 0
        self.budget = Budget()  # the bytes of incomplete handshake messages of all flows

    def datagram(self, frame: int, ts: float, key: bytes, payload: bytes) -> None:
        if not payload or payload[0] not in _DTLS_FIRST_BYTES:
            return
        session = self.sessions.get(key)
        direction = "a"
        if session is None:
            session = self.sessions.get(_reverse(key))
            direction = "b"
        if session is None:
            if not looks_like_dtls(payload):
                return
            if len(self.sessions) >= MAX_FLOWS:
                self.flows_skipped += 1
                return
            src, dst, sport, dport = split_key(key)
            session = DtlsSession(format_endpoint(src, sport), format_endpoint(dst, dport), frame, ts, self.budget,
                                  self.keylog)
            self.sessions[key] = session
            direction = "a"
        session.datagram(direction, frame, ts, payload)

    def results(self) -> list[DtlsAssociation]:
        """The associations, in the order their flows began (one that shows no handshake, e.g.
        a capture starting after it, is there too: incomplete, with no messages)."""
        return [s.result() for s in self.sessions.values()]
