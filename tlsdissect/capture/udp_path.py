"""What one UDP flow shows of its path, whatever protocol it carries (QUIC, DTLS): the size of
every datagram each side sent (in order, bounded), the ICMP errors that quote its datagrams, the
client addresses it used (NAT rebinding, migration) and the TCP connections the same client
opened to the same server host (a fall-back from QUIC to TCP), and the largest client datagram
answered on another flow between the same hosts.

UDP has no acknowledgement of its own, so these are what tells a blocked port from a host that
refuses it, a path that drops large datagrams from one that drops all of them, and a server
waiting at its anti-amplification limit (RFC 9000 §8.1) from one that never heard the client.
The QUIC and DTLS flow tables fill one in per flow; diagnosis.udp_path reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from tlsdissect.capture.icmp import IcmpError

MAX_LOGGED = 256  # datagrams logged per flow (sizes, frames); later ones are only counted
MAX_ICMP = 16  # ICMP errors kept per flow
MAX_ADDRESSES = 8  # client addresses kept per flow
MAX_TCP = 8  # TCP connections to the same server host kept per flow


@dataclass(frozen=True)
class Sent:
    side: str  # client | server
    frame: int
    time: float
    size: int  # the UDP payload's length


@dataclass(frozen=True)
class IcmpNotice:
    """An ICMP error about one of the flow's datagrams."""

    frame: int
    time: float
    about: str  # client | server: whose datagram the error quotes
    sender: str  # the address the error came from
    kind: str  # port_unreachable | host_unreachable | too_big | prohibited | time_exceeded | other
    name: str  # e.g. "ICMP port unreachable (type 3, code 3)"
    mtu: int  # too_big: the MTU the error announces
    quoted_size: int  # the size of the quoted UDP datagram (its UDP length field, header included)
    from_peer: bool  # sent by the host the datagram was going to (else by a router on the way)

    def to_dict(self) -> dict[str, Any]:
        return {"frame": self.frame, "time": round(self.time, 6), "about": self.about, "sender": self.sender,
                "kind": self.kind, "name": self.name, "mtu": self.mtu or None, "quoted_size": self.quoted_size,
                "from_peer": self.from_peer}


@dataclass
class TcpAttempt:
    """A TCP connection (its SYN) from the flow's client host to its server host."""

    frame: int
    time: float
    port: int


@dataclass
class UdpPath:
    """The path evidence of one UDP flow (docs/schema.md, ``path``)."""

    log: list[Sent] = field(default_factory=list)
    datagrams: dict[str, int] = field(default_factory=lambda: {"client": 0, "server": 0})
    bytes: dict[str, int] = field(default_factory=lambda: {"client": 0, "server": 0})
    icmp: list[IcmpNotice] = field(default_factory=list)
    addresses: list[tuple[int, str]] = field(default_factory=list)  # (first frame, client endpoint)
    tcp: list[TcpAttempt] = field(default_factory=list)
    # The largest client datagram answered on another flow between the same two hosts (the flow
    # tables fill it in at the end): a path that passes that size and not this flow's.
    answered_elsewhere: Optional[Sent] = None

    def sent(self, side: str, frame: int, ts: float, size: int) -> None:
        self.datagrams[side] += 1
        self.bytes[side] += size
        if len(self.log) < MAX_LOGGED:
            self.log.append(Sent(side, frame, ts, size))

    def client_address(self, frame: int, endpoint: str) -> None:
        """The client seen at ``endpoint`` from ``frame`` on (the first one, then each change)."""
        if (not self.addresses or self.addresses[-1][1] != endpoint) and len(self.addresses) < MAX_ADDRESSES:
            self.addresses.append((frame, endpoint))

    def icmp_error(self, frame: int, ts: float, about: str, error: IcmpError, sender: str, from_peer: bool) -> None:
        if len(self.icmp) < MAX_ICMP:
            self.icmp.append(IcmpNotice(frame, ts, about, sender, error.kind, error.name, error.mtu,
                                        error.quoted_length, from_peer))

    # -- readings --------------------------------------------------------------------------

    def first(self, side: str) -> Optional[Sent]:
        return next((s for s in self.log if s.side == side), None)

    def sizes(self, side: str) -> list[int]:
        """The distinct sizes of ``side``'s datagrams, smallest first."""
        return sorted({s.size for s in self.log if s.side == side})

    def unanswered_tail(self, side: str) -> list[Sent]:
        """``side``'s datagrams after the other side's last one (all of them if it never sent)."""
        other = "server" if side == "client" else "client"
        last_other = max((i for i, s in enumerate(self.log) if s.side == other), default=-1)
        return [s for s in self.log[last_other + 1:] if s.side == side]

    def answered(self, side: str) -> list[Sent]:
        """``side``'s datagrams that the other side sent something after (so that at least the
        first of them got through, as far as the order can tell)."""
        other = "server" if side == "client" else "client"
        last_other = max((i for i, s in enumerate(self.log) if s.side == other), default=-1)
        return [s for s in self.log[:last_other] if s.side == side]

    def largest_answered(self, side: str) -> Optional[Sent]:
        return max(self.answered(side), key=lambda s: s.size, default=None)

    @property
    def refused(self) -> bool:
        """An ICMP error said the client's datagrams cannot arrive (nothing listens, no route, a
        reject, too big for a link) and the server sent nothing: the handshake failed."""
        return not self.datagrams["server"] and any(
            n.about == "client" and n.kind in ("port_unreachable", "host_unreachable", "prohibited", "too_big")
            for n in self.icmp)

    @property
    def migrated(self) -> bool:
        return len(self.addresses) > 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "datagrams": dict(self.datagrams), "bytes": dict(self.bytes),
            "sizes": {side: self.sizes(side) for side in ("client", "server")},
            "icmp": [n.to_dict() for n in self.icmp],
            "client_addresses": [{"frame": f, "endpoint": e} for f, e in self.addresses],
            "tcp_to_server": [{"frame": t.frame, "port": t.port} for t in self.tcp],
            "answered_elsewhere": None if self.answered_elsewhere is None else {
                "frame": self.answered_elsewhere.frame, "size": self.answered_elsewhere.size},
        }


def note_answered_elsewhere(flows: Sequence[tuple[bytes, UdpPath]]) -> None:
    """For each flow (its client host + server host, its path), the largest client datagram that
    was answered on another flow between the same two hosts."""
    best: dict[bytes, list[tuple[int, Sent]]] = {}
    for i, (pair, path) in enumerate(flows):
        sent = path.largest_answered("client")
        if sent is not None:
            best.setdefault(pair, []).append((i, sent))
    for i, (pair, path) in enumerate(flows):
        others = [s for j, s in best.get(pair, ()) if j != i]
        path.answered_elsewhere = max(others, key=lambda s: s.size, default=None)
