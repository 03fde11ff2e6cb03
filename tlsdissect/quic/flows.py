"""UDP flows that speak QUIC, found by their bytes (a long header of a QUIC version), not by port,
and followed by their connection IDs as well as their addresses.

A flow is keyed like a TCP conversation (addresses and ports, either direction); the first
datagram with a QUIC long header starts a QuicSession, whose sender is the client. A QUIC
connection outlives its 4-tuple (RFC 9000 §9: NAT rebinding, migration): a datagram on a new
4-tuple whose Destination Connection ID is one the connection already uses stays that
connection (its new client address is noted in the path). Each flow's path evidence
(capture.udp_path: datagram sizes, the ICMP errors quoting its datagrams, TCP connections the same
client opened to the same server host) goes with its handshake for the diagnosis.

Bounded: at most MAX_FLOWS sessions (later flows are counted, not read), MAX_NOT_QUIC flow keys
remembered as not QUIC, MAX_CIDS_PER_FLOW connection IDs indexed per session, MAX_TCP_PAIRS
client/server host pairs remembered for their TCP connections.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from tlsdissect.capture.icmp import IcmpError
from tlsdissect.capture.packet import format_endpoint, format_host, split_key
from tlsdissect.capture.udp_path import MAX_TCP, TcpAttempt, UdpPath, note_answered_elsewhere
from tlsdissect.quic.packets import MAX_CID, VERSION_1, VERSION_2, QuicFormatError, looks_like_quic_long_header, parse_long_header
from tlsdissect.quic.session import QuicHandshake, QuicSession

MAX_FLOWS = 10_000
MAX_NOT_QUIC = 100_000
MAX_CIDS_PER_FLOW = 8
MAX_CID_LENGTHS = 4  # distinct short-header DCID lengths tried on a datagram of an unknown 4-tuple
MAX_TCP_PAIRS = 100_000
MIN_CID = 4  # shorter connection IDs are not trusted to name a connection across 4-tuples


@dataclass
class QuicPath(UdpPath):
    """A QUIC flow's path evidence, with what its long headers say of address validation
    (RFC 9000 §8.1): the server's Retry packets, and whether the client's Initials after the
    first Retry carry its token."""

    client_versions: list[int] = field(default_factory=list)  # the versions of the client's Initials
    retry_frames: list[int] = field(default_factory=list)  # the server's Retry packets (first MAX_ICMP)
    retry_token: bytes = b""  # the first Retry's token
    initials_after_retry: int = 0  # the client's Initial packets after the first Retry
    initials_with_token: int = 0  # ... of which carry the first Retry's token
    version_negotiation_frame: Optional[int] = None  # the server's first Version Negotiation

    def header(self, side: str, frame: int, kind: str, version: int, token: bytes) -> None:
        """One long header of ``side``: a Retry of the server, an Initial of the client."""
        if side == "server" and kind == "version_negotiation" and self.version_negotiation_frame is None:
            self.version_negotiation_frame = frame
        elif side == "server" and kind == "retry":
            if not self.retry_frames:
                self.retry_token = token
            if len(self.retry_frames) < MAX_TCP:
                self.retry_frames.append(frame)
        elif side == "client" and kind == "initial":
            if version not in self.client_versions and len(self.client_versions) < MAX_TCP:
                self.client_versions.append(version)
            if self.retry_frames:
                self.initials_after_retry += 1
                self.initials_with_token += bool(token) and token == self.retry_token

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d["retry"] = None if not self.retry_frames else {
            "frames": list(self.retry_frames), "token_length": len(self.retry_token),
            "client_initials_after": self.initials_after_retry, "with_token": self.initials_with_token}
        return d


def _reverse(key: bytes) -> bytes:
    half = (len(key) - 4) // 2
    return key[half:2 * half] + key[:half] + key[-2:] + key[-4:-2]


def _is_initial(payload: bytes) -> bool:
    """A datagram that starts with an Initial packet (its type bits by version, RFC 9369 §3.2)."""
    version = looks_like_quic_long_header(payload)
    if not version:
        return False
    return (payload[0] >> 4) & 0x03 == (1 if version == VERSION_2 else 0)


def _answers_a_client(payload: bytes) -> bool:
    """A Version Negotiation packet as a server sends it (RFC 9000 §17.2.1): a whole list of
    versions, none of them 0, at least one a version this tool reads (v1, v2, a draft)."""
    try:
        header = parse_long_header(payload, 0)
    except QuicFormatError:
        return False
    versions = header.supported_versions
    if not versions or 0 in versions or (len(payload) - 7 - len(header.dcid) - len(header.scid)) % 4:
        return False
    return any(v in (VERSION_1, VERSION_2) or v >> 8 == 0xFF0000 for v in versions)


def _long_header_cids(payload: bytes) -> Optional[tuple[bytes, bytes]]:
    """(DCID, SCID) of a datagram's first long header, or None when they are not whole."""
    if len(payload) < 7:
        return None
    dlen = payload[5]
    if dlen > MAX_CID or 6 + dlen >= len(payload):
        return None
    slen = payload[6 + dlen]
    if slen > MAX_CID or 7 + dlen + slen > len(payload):
        return None
    return payload[6:6 + dlen], payload[7 + dlen:7 + dlen + slen]


class QuicFlows:
    """Fed every UDP datagram of the capture (``datagram``), the ICMP errors quoting one
    (``icmp_error``) and the SYNs of TCP connections (``tcp_connect``); ``results`` at the end."""

    def __init__(self, keylog: Any = None) -> None:
        self.keylog = keylog  # keys.keylog.KeyLog: Handshake packets are opened with its secrets
        self.sessions: dict[bytes, QuicSession] = {}
        self.paths: dict[int, QuicPath] = {}  # id(session) -> its path evidence
        self.moved: dict[bytes, QuicSession] = {}  # further 4-tuples of a session (client side as "a")
        self.by_cid: dict[bytes, tuple[QuicSession, str]] = {}  # DCID -> (session, the side that sends it)
        self.cid_count: dict[int, int] = {}
        self.cid_lengths: list[int] = []
        self.not_quic: set[bytes] = set()
        self.flows_skipped = 0
        self.tcp: dict[bytes, list[TcpAttempt]] = {}  # client host + server host -> its TCP connections

    def datagram(self, frame: int, ts: float, key: bytes, payload: bytes) -> None:
        session, direction = self._find(key)
        if session is None:
            if key in self.not_quic:
                return
            session, direction = self._by_cid(key, frame, payload)
        if session is None:
            version = looks_like_quic_long_header(payload)
            if version == 0 and not (_reverse(key) in self.not_quic and _answers_a_client(payload)):
                version = None
            if version is None:
                if len(self.not_quic) < MAX_NOT_QUIC:
                    self.not_quic.add(key)
                return
            if len(self.sessions) >= MAX_FLOWS:
                self.flows_skipped += 1
                return
            # A flow that starts with Version Negotiation: the client's Initial was of a version
            # not read here (so not recognised), the sender of the Version Negotiation is the server.
            direction = "b" if version == 0 else "a"
            client_key = _reverse(key) if version == 0 else key
            src, dst, sport, dport = split_key(client_key)
            session = QuicSession("a", format_endpoint(src, sport), format_endpoint(dst, dport), frame, ts,
                                  self.keylog)
            self.sessions[client_key] = session
            path = self.paths[id(session)] = QuicPath()
            path.client_address(frame, session.result.client)
        side = "client" if direction == session.client_key else "server"
        path = self.paths[id(session)]
        path.sent(side, frame, ts, len(payload))
        if payload and payload[0] & 0x80:
            self._index(session, side, payload)
            self._header(path, side, frame, payload)
        session.datagram(direction, frame, ts, payload)

    @staticmethod
    def _header(path: QuicPath, side: str, frame: int, payload: bytes) -> None:
        """The first long header of a datagram, for the path's address-validation record."""
        try:
            header = parse_long_header(payload, 0)
        except QuicFormatError:
            return
        path.header(side, frame, header.kind, header.version, header.retry_token or header.token)

    def _find(self, key: bytes) -> tuple[Optional[QuicSession], str]:
        """The session of a 4-tuple already seen, and the datagram's direction (a: client)."""
        session = self.sessions.get(key) or self.moved.get(key)
        if session is not None:
            return session, "a"
        back = _reverse(key)
        session = self.sessions.get(back) or self.moved.get(back)
        return (session, "b") if session is not None else (None, "a")

    def _index(self, session: QuicSession, side: str, payload: bytes) -> None:
        """Remember the connection IDs of a long header: its DCID is sent by ``side``, its SCID
        will be sent by the other side."""
        cids = _long_header_cids(payload)
        if cids is None:
            return
        other = "server" if side == "client" else "client"
        for cid, sender in zip(cids, (side, other)):
            if len(cid) < MIN_CID or cid in self.by_cid or self.cid_count.get(id(session), 0) >= MAX_CIDS_PER_FLOW:
                continue
            self.by_cid[cid] = (session, sender)
            self.cid_count[id(session)] = self.cid_count.get(id(session), 0) + 1
            if len(cid) not in self.cid_lengths and len(self.cid_lengths) < MAX_CID_LENGTHS:
                self.cid_lengths.append(len(cid))

    def _session_of_cid(self, payload: bytes) -> Optional[tuple[QuicSession, str]]:
        """The session and sending side a datagram's Destination Connection ID names, if known."""
        if not payload or not payload[0] & 0x40 or not self.by_cid:
            return None
        if payload[0] & 0x80:
            cids = _long_header_cids(payload)
            return self.by_cid.get(cids[0]) if cids is not None else None
        for n in self.cid_lengths:
            found = self.by_cid.get(payload[1:1 + n])
            if found is not None:
                return found
        return None

    def _by_cid(self, key: bytes, frame: int, payload: bytes) -> tuple[Optional[QuicSession], str]:
        """A new 4-tuple carrying a connection ID a session uses: that session (NAT rebinding,
        migration), the 4-tuple remembered with its client side first. An Initial packet on a new
        4-tuple is a new connection's (a client does not migrate during the handshake, RFC 9000
        §9; one reusing another's connection ID is another connection all the same)."""
        if _is_initial(payload):
            return None, "a"
        found = self._session_of_cid(payload)
        if found is None:
            return None, "a"
        session, sender = found
        client_key = key if sender == "client" else _reverse(key)
        if len(self.moved) < MAX_FLOWS:
            self.moved[client_key] = session
        src, _, sport, _ = split_key(client_key)
        self.paths[id(session)].client_address(frame, format_endpoint(src, sport))
        return session, "a" if sender == "client" else "b"

    def icmp_error(self, frame: int, ts: float, error: IcmpError, quoted: bytes) -> None:
        """An ICMP error quoting a UDP datagram: noted on the flow it belongs to, found by the
        quoted 4-tuple or the quoted QUIC header's Destination Connection ID."""
        session, direction = self._find(error.key)
        if session is None:
            found = self._session_of_cid(quoted)
            if found is None:
                return
            session, direction = found[0], "a" if found[1] == "client" else "b"
        about = "client" if direction == session.client_key else "server"
        src, dst, _, _ = split_key(error.key)
        self.paths[id(session)].icmp_error(frame, ts, about, error, format_host(error.sender),
                                           error.sender == dst)

    def tcp_connect(self, frame: int, ts: float, key: bytes) -> None:
        """A TCP SYN (without ACK): remembered by client and server host, for the QUIC flows
        between the same hosts (a client falling back from QUIC to TCP)."""
        src, dst, _, dport = split_key(key)
        pair = src + dst
        seen = self.tcp.get(pair)
        if seen is None:
            if len(self.tcp) >= MAX_TCP_PAIRS:
                return
            seen = self.tcp[pair] = []
        if len(seen) < MAX_TCP:
            seen.append(TcpAttempt(frame, ts, dport))

    def results(self) -> list[QuicHandshake]:
        """The handshakes, in the order their flows began (sessions that never showed an
        Initial packet, e.g. a capture starting mid-connection, are left out), each with its
        path evidence."""
        out, flows = [], []
        for key, s in self.sessions.items():
            r = s.result
            if r.version is None and not r.version_negotiation:
                continue
            path = self.paths[id(s)]
            src, dst, _, _ = split_key(key)
            path.tcp = list(self.tcp.get(src + dst, ()))
            r.path = path
            out.append(r)
            flows.append((src + dst, path))
        note_answered_elsewhere(flows)
        return out
