"""ICMP errors about UDP datagrams: what packet.py hands out for an ICMP or ICMPv6 error that
quotes a UDP datagram (RFC 792, RFC 1191, RFC 4443), and the names of the errors.

UDP has no handshake of its own: when nothing listens on a port, a host is unreachable or a
datagram is too big for a link, the only word on the wire is an ICMP error quoting the start of
the datagram. The quote names the UDP flow (addresses and ports as the datagram left its
sender) and, when it is long enough, the QUIC header inside (its connection IDs), which is how
the QUIC and DTLS stages attach the error to their connection.
"""

from __future__ import annotations

from typing import NamedTuple


class IcmpError(NamedTuple):
    """An ICMP error quoting a UDP datagram (the quoted UDP payload travels beside it)."""

    key: bytes  # the quoted datagram's flow key: src + dst + sport + dport (capture.packet.flow_key)
    sender: bytes  # the address the ICMP error came from (the host itself, or a router on the path)
    version: int  # 4 (ICMP) or 6 (ICMPv6)
    type: int
    code: int
    mtu: int  # "fragmentation needed" / "packet too big": the next hop's MTU; 0 otherwise
    quoted_length: int  # the quoted UDP header's length field: the whole datagram's size

    @property
    def kind(self) -> str:
        """port_unreachable | host_unreachable | too_big | prohibited | time_exceeded | other."""
        return ICMP4_KINDS.get((self.type, self.code), ICMP4_KINDS.get((self.type, -1), "other")) \
            if self.version == 4 else \
            ICMP6_KINDS.get((self.type, self.code), ICMP6_KINDS.get((self.type, -1), "other"))

    @property
    def name(self) -> str:
        """The error as its RFC names it, e.g. ``ICMP port unreachable (type 3, code 3)``."""
        names = ICMP4_NAMES if self.version == 4 else ICMP6_NAMES
        label = names.get((self.type, self.code)) or names.get((self.type, -1)) or "error"
        family = "ICMP" if self.version == 4 else "ICMPv6"
        mtu = f", MTU {self.mtu}" if self.mtu else ""
        return f"{family} {label} (type {self.type}, code {self.code}{mtu})"


# (type, code) -> name; code -1: any code of that type. RFC 792, RFC 1191, RFC 1812 §5.2.7.1.
ICMP4_NAMES: dict[tuple[int, int], str] = {
    (3, 0): "network unreachable", (3, 1): "host unreachable", (3, 2): "protocol unreachable",
    (3, 3): "port unreachable", (3, 4): "fragmentation needed", (3, 9): "network administratively prohibited",
    (3, 10): "host administratively prohibited", (3, 13): "communication administratively prohibited",
    (3, -1): "destination unreachable", (11, -1): "time exceeded", (12, -1): "parameter problem",
    (4, -1): "source quench", (5, -1): "redirect",
}
# RFC 4443 §3.
ICMP6_NAMES: dict[tuple[int, int], str] = {
    (1, 0): "no route to destination", (1, 1): "communication administratively prohibited",
    (1, 3): "address unreachable", (1, 4): "port unreachable", (1, 5): "source address failed policy",
    (1, 6): "reject route to destination", (1, -1): "destination unreachable", (2, -1): "packet too big",
    (3, -1): "time exceeded", (4, -1): "parameter problem",
}
ICMP4_KINDS: dict[tuple[int, int], str] = {
    (3, 3): "port_unreachable", (3, 4): "too_big", (3, 0): "host_unreachable", (3, 1): "host_unreachable",
    (3, 9): "prohibited", (3, 10): "prohibited", (3, 13): "prohibited", (3, -1): "host_unreachable",
    (11, -1): "time_exceeded",
}
ICMP6_KINDS: dict[tuple[int, int], str] = {
    (1, 4): "port_unreachable", (2, -1): "too_big", (1, 0): "host_unreachable", (1, 3): "host_unreachable",
    (1, 1): "prohibited", (1, 5): "prohibited", (1, 6): "prohibited", (1, -1): "host_unreachable",
    (3, -1): "time_exceeded",
}
