"""TLS inside OpenVPN over UDP: flows whose first datagram (each way) is an OpenVPN hard reset.

OpenVPN's control channel over UDP is the same as over TCP without the 2-byte length: one
packet per datagram (tlsdissect.framing.openvpn.OpenVpnUdp puts the payloads of its P_CONTROL_V1
packets in message packet-id order, retransmissions dropped). Each such flow gets a TLS session,
fed the flow's datagrams as a TCP conversation feeds its bytes, and comes out at the capture's
end as a connection like a TCP one (``transport: "udp"``; ``stream`` is Wireshark's
``udp.stream``, from pipeline.udp_streams). Only flows
whose control channel carried TLS are handed out, so a datagram that merely looks like a hard
reset costs a session and nothing more.

Bounded: at most MAX_FLOWS sessions (later flows are counted, not read); a flow that got no
udp.stream number (past udp_streams.MAX_CONVERSATIONS) is not handed out.
"""

from __future__ import annotations

from array import array
from typing import Any, Iterator, Optional

from tlsdissect.capture.packet import split_key
from tlsdissect.directions import NONE_PAIR
from tlsdissect.framing.openvpn import recognise_udp
from tlsdissect.tls import framed
from tlsdissect.tls.session import TlsSession

MAX_FLOWS = 10_000


def _reverse(key: bytes) -> bytes:  # (the other direction's key)
    half = (len(key) - 4) // 2
    return key[half:2 * half] + key[:half] + key[-2:] + key[-4:-2]


class _NoReassembly:
    """What a connection reports of TCP reassembly, for a UDP flow: nothing."""

    retransmitted = gaps = gap_bytes = 0


class UdpFlow:
    """One UDP flow with OpenVPN in it: what pipeline.assemble reads of a TCP conversation
    (tcp.flows.TcpConnection), for a flow of datagrams."""

    transport = "udp"

    def __init__(self, key: bytes, frame: int, ts: float, session: TlsSession) -> None:
        src, dst, sport, dport = split_key(key)
        self.key = key
        self.stream = -1  # Wireshark's udp.stream (set when handed out)
        self.addr = (src, dst)
        self.port = (sport, dport)
        self.consumer = session
        self.first_frame = self.last_frame = frame
        self.first_ts = self.last_ts = ts
        self.packets = [0, 0]
        self.payload_bytes = [0, 0]
        self.reasm = (_NoReassembly(), _NoReassembly())
        self.tcp_events: list[Any] = []
        self.early_retire: Optional[str] = None
        self.midstream = False
        self.closed_at: Optional[float] = None
        self.rst_mid_record = (0, 0)
        self.after_own_reset: tuple[Optional[int], Optional[int]] = (None, None)
        self.opening = NONE_PAIR
        self.relay_legs: list[Any] = []
        self.rst_ttl = NONE_PAIR
        self.ttls: list[list[int]] = [[], []]
        self.log = (array("d"), array("d"))  # (tcp.stall's packet logs: no ACKs to log in UDP)
        self.watch = None  # (tcp.window's zero windows and probes: UDP has no window)
        self.role_source = "port"
        self.client_dir: Optional[int] = None  # the side whose first packet is a client hard reset
        self.retire_seq = -1  # (set when handed out: after every TCP conversation's)

    def datagram(self, d: int, frame: int, ts: float, payload: bytes) -> None:
        self.last_frame, self.last_ts = frame, ts
        self.packets[d] += 1
        self.payload_bytes[d] += len(payload)
        self.consumer.data(d, payload, frame, ts)

    def flush(self, d: int) -> None:
        pass

    def notes(self, d: int) -> list[dict[str, Any]]:
        return []

    def stall(self, d: int) -> None:
        return None

    def first_close(self) -> None:
        return None  # (UDP has no close)

    def client_side(self) -> int:
        """The ClientHello's sender, else the sender of the client's hard reset."""
        hint = self.consumer.client_dir_hint
        if hint is not None:
            self.role_source = "client_hello"
            return hint
        return self.client_dir if self.client_dir is not None else 0


class OpenVpnUdpFlows:
    """Fed every UDP datagram of the capture (``datagram``); ``flows`` at the end."""

    def __init__(self, keylog: Any = None) -> None:
        self.flows: dict[bytes, UdpFlow] = {}  # by the key of the flow's first datagram
        self.flows_skipped = 0
        self.keylog = keylog

    def datagram(self, frame: int, ts: float, key: bytes, payload: bytes) -> None:
        flow = self.flows.get(key)
        d = 0
        if flow is None:
            flow = self.flows.get(_reverse(key))
            d = 1
        if flow is None:
            reader = recognise_udp(payload) if payload else None
            if reader is None:
                return
            if len(self.flows) >= MAX_FLOWS:
                self.flows_skipped += 1
                return
            session = TlsSession()
            session.keylog = self.keylog
            flow = self.flows[key] = UdpFlow(key, frame, ts, session)
            d = 0
        session = flow.consumer
        if flow.packets[d] == 0:  # a direction's first datagram: its layout
            reader = recognise_udp(payload) if payload else None
            if reader is None:
                return
            if payload[0] >> 3 in (1, 7, 10) and flow.client_dir is None:  # a client's hard reset
                flow.client_dir = d
            flow.packets[d] = 1
            flow.payload_bytes[d] = len(payload)
            flow.last_frame, flow.last_ts = frame, ts
            framed.start(session, d, reader, payload, frame, ts)
            return
        flow.datagram(d, frame, ts, payload)

    def finished(self, first_seq: int, streams: Any) -> Iterator[UdpFlow]:
        """The flows whose control channel carried TLS, in the order they began, with their
        udp.stream numbers (``streams``: a pipeline.udp_streams.UdpStreams), numbered for the
        merge of a sharded run from ``first_seq`` (after every TCP conversation)."""
        seq = first_seq
        for flow in self.flows.values():
            number = streams.number(flow.key)
            if flow.consumer.tls_seen and number is not None:
                flow.stream = number
                flow.retire_seq = seq
                seq += 1
                yield flow
