"""UDP flows that speak DTLS, found by their bytes (a DTLS record header), not by port.

A flow is keyed like a TCP conversation (addresses and ports, either direction). A datagram
whose records all have a DTLS header (content type 20-25, a DTLS version, lengths that end at
the datagram's end) starts a DtlsSession; later datagrams of the flow go to it whatever they
hold (WebRTC multiplexes STUN and SRTP on the same ports, RFC 7983: the session skips what is
not DTLS). Each flow's path evidence (capture.udp_path: datagram sizes, and the ICMP errors that
quote its datagrams, found by the quoted 4-tuple) goes with its association for the diagnosis.
Bounded: at most MAX_FLOWS sessions (later flows are counted, not read), sharing one
budget of bytes of incomplete handshake messages (dtls.messages.MAX_BUFFERED_TOTAL).
"""

from __future__ import annotations

from typing import Any

from tlsdissect.capture.icmp import IcmpError
from tlsdissect.capture.packet import format_endpoint, format_host, split_key
from tlsdissect.capture.udp_path import MAX_ICMP, MAX_LOGGED, UdpPath, note_answered_elsewhere
from tlsdissect.dtls.association import DtlsAssociation, Failure
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
        # id(session) -> its datagrams (direction, frame, time, size) and ICMP errors (direction
        # of the quoted datagram, frame, time, error), bounded; made a UdpPath once roles are known
        self.sent: dict[int, list[tuple[str, int, float, int]]] = {}
        self.icmp: dict[int, list[tuple[str, int, float, IcmpError]]] = {}

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
            self.sent[id(session)] = []
            direction = "a"
        sent = self.sent[id(session)]
        if len(sent) < MAX_LOGGED:
            sent.append((direction, frame, ts, len(payload)))
        session.datagram(direction, frame, ts, payload)

    def icmp_error(self, frame: int, ts: float, error: IcmpError, quoted: bytes) -> None:
        """An ICMP error quoting a datagram of a DTLS flow (found by the quoted 4-tuple)."""
        session = self.sessions.get(error.key)
        direction = "a"
        if session is None:
            session = self.sessions.get(_reverse(error.key))
            direction = "b"
        if session is None:
            return
        errors = self.icmp.setdefault(id(session), [])
        if len(errors) < MAX_ICMP:
            errors.append((direction, frame, ts, error))

    def _path(self, session: DtlsSession, a: Any) -> UdpPath:
        """The flow's path evidence, by role (the association says which side is the client)."""
        client_dir = "a" if session.endpoints["a"] == a.client else "b"
        path = UdpPath()
        path.client_address(session.first_frame, a.client)
        for direction, frame, ts, size in self.sent.get(id(session), ()):
            path.sent("client" if direction == client_dir else "server", frame, ts, size)
        for direction, frame, ts, error in self.icmp.get(id(session), ()):
            dst = split_key(error.key)[1]
            path.icmp_error(frame, ts, "client" if direction == client_dir else "server", error,
                            format_host(error.sender), error.sender == dst)
        return path

    def results(self) -> list[DtlsAssociation]:
        """The associations, in the order their flows began (one that shows no handshake, e.g.
        a capture starting after it, is there too: incomplete, with no messages)."""
        out, flows = [], []
        for key, s in self.sessions.items():
            a = s.result()
            a.path = self._path(s, a)
            src, dst, _, _ = split_key(key)
            flows.append((src + dst if a.client == s.endpoints["a"] else dst + src, a.path))
            if a.failure is None and a.established_frame is None and a.path.refused:
                first = next(n for n in a.path.icmp if n.about == "client")
                phase = "client_hello" if a.server_hello is None else "server_hello"
                a.failure = Failure("icmp_error", "client", first.frame, phase)
            out.append(a)
        note_answered_elsewhere(flows)
        return out
