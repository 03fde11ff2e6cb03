"""Test helpers: pull TCP byte streams out of a capture and write them back cut differently.

The extractor is deliberately independent of tlsdissect: it reads the capture with dpkt,
keys segments by their 4-tuple and follows sequence numbers itself, so the reference streams
the re-segmentation tests compare against do not come from the engine under test.

A conversation is kept as an ordered list of *items*: a :class:`Flight` (a maximal run of
new bytes from one direction, in the order they first appeared in the capture) or a
:class:`Close` (the first FIN or RST of a direction). :func:`build_pcap` writes such a list
back as an Ethernet/IPv4/TCP pcap (SYN, SYN-ACK, ACK first, correct seq/ack numbers),
cutting each flight into segments with a caller-supplied plan (order, duplicates, overlaps).
"""

from __future__ import annotations

import io
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

import dpkt

MASK32 = 0xFFFFFFFF


def examples(n: int) -> int:
    """A property's example count, scaled by TLSDISSECT_HYPOTHESIS_SCALE for deeper runs
    (e.g. 20 overnight); the default keeps these test files well under a minute."""
    return max(1, int(n * float(os.environ.get("TLSDISSECT_HYPOTHESIS_SCALE", "1"))))

MAX_SEGMENT = 65000  # TCP payload that still fits an IPv4 total length of 65535

# Link types the extractor reads (the test captures use these).
_ETHERNET, _RAW, _LOOP_NULL, _LOOP, _SLL, _SLL2, _IPV4, _IPV6 = 1, 101, 0, 108, 113, 276, 228, 229


@dataclass
class Flight:
    """New bytes one direction sent before the other direction sent any."""

    direction: int  # 0 = client (sent the SYN, or the first packet), 1 = server
    data: bytes
    packets: int = 1  # how many original packets carried these bytes


@dataclass
class Close:
    """The first FIN or RST a direction sent."""

    direction: int
    kind: str  # "fin" | "rst"


Item = Union[Flight, Close]


@dataclass
class Conversation:
    """One TCP conversation, directions 0 (client) and 1 (server)."""

    ports: tuple[int, int]
    isn: list[Optional[int]]
    items: list[Item] = field(default_factory=list)
    complete: bool = True  # False when the capture lost bytes (a hole never filled)
    syn_seen: bool = False
    name: str = ""

    def stream(self, direction: int) -> bytes:
        return b"".join(i.data for i in self.items if isinstance(i, Flight) and i.direction == direction)

    @property
    def flights(self) -> list[Flight]:
        return [i for i in self.items if isinstance(i, Flight)]


def _ip_layer(linktype: int, frame: bytes) -> Optional[Union[dpkt.ip.IP, dpkt.ip6.IP6]]:
    try:
        if linktype == _ETHERNET:
            eth = dpkt.ethernet.Ethernet(frame)
            ip = eth.data
        elif linktype == _SLL:
            ip = dpkt.sll.SLL(frame).data
        elif linktype == _SLL2:
            ip = dpkt.sll2.SLL2(frame).data
        elif linktype in (_LOOP_NULL, _LOOP):
            ip = dpkt.loopback.Loopback(frame).data
        elif linktype in (_RAW, _IPV4, _IPV6, 12, 14):
            ip = dpkt.ip6.IP6(frame) if frame[:1] and frame[0] >> 4 == 6 else dpkt.ip.IP(frame)
        else:
            return None
    except (dpkt.UnpackError, IndexError, struct.error):
        return None
    if isinstance(ip, (dpkt.ip.IP, dpkt.ip6.IP6)):
        return ip
    return None


class _Direction:
    """Sequence-number bookkeeping for one direction of the reference extractor."""

    def __init__(self) -> None:
        self.base: Optional[int] = None  # sequence number of stream byte 0
        self.have = 0  # contiguous bytes known
        self.ahead: dict[int, bytes] = {}  # out-of-order data by stream offset

    def add(self, seq: int, payload: bytes) -> bytes:
        """Return the bytes that this segment made contiguous (possibly none)."""
        if self.base is None:
            self.base = seq
        off = (seq - self.base) & MASK32
        if off >= 1 << 31:  # before the start (a retransmitted SYN's data, say)
            return b""
        self.ahead[off] = max(payload, self.ahead.get(off, b""), key=len)
        out = bytearray()
        progress = True
        while progress:
            progress = False
            for o in sorted(self.ahead):
                d = self.ahead[o]
                if o <= self.have:
                    del self.ahead[o]
                    if o + len(d) > self.have:
                        new = d[self.have - o:]
                        out += new
                        self.have += len(new)
                    progress = True
                    break
        return bytes(out)


def read_frames(source: Union[str, Path, bytes]) -> tuple[int, list[tuple[float, bytes]]]:
    """(link type, [(time, frame bytes)]) of a pcap or pcapng file."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    reader = dpkt.pcap.UniversalReader(io.BytesIO(data))
    frames = [(ts, bytes(buf)) for ts, buf in reader]
    return reader.datalink(), frames


def extract_conversations(source: Union[str, Path, bytes]) -> list[Conversation]:
    """Every TCP conversation of the capture with its flights, in order of first packet."""
    linktype, frames = read_frames(source)
    convs: dict[tuple, tuple[Conversation, int, list[_Direction]]] = {}
    order: list[Conversation] = []
    for _ts, frame in frames:
        ip = _ip_layer(linktype, frame)
        if ip is None or not isinstance(ip.data, dpkt.tcp.TCP):
            continue
        tcp = ip.data
        key = (bytes(ip.src), tcp.sport, bytes(ip.dst), tcp.dport)
        rkey = (key[2], key[3], key[0], key[1])
        syn_only = tcp.flags & dpkt.tcp.TH_SYN and not tcp.flags & dpkt.tcp.TH_ACK
        if key in convs and syn_only and convs[key][0].isn[convs[key][1]] not in (None, tcp.seq):
            del convs[key], convs[rkey]  # port reuse: a new conversation
        if key not in convs:
            conv = Conversation(ports=(tcp.sport, tcp.dport), isn=[None, None])
            conv.name = f"{tcp.sport}->{tcp.dport}"
            dirs = [_Direction(), _Direction()]
            convs[key] = (conv, 0, dirs)
            convs[rkey] = (conv, 1, dirs)
            order.append(conv)
        conv, d, dirs = convs[key]
        if tcp.flags & dpkt.tcp.TH_SYN:
            if conv.isn[d] is None:
                conv.isn[d] = tcp.seq
                dirs[d].base = (tcp.seq + 1) & MASK32
            conv.syn_seen = True
        payload = bytes(tcp.data)
        if payload and not tcp.flags & dpkt.tcp.TH_RST:
            seq = (tcp.seq + 1) & MASK32 if tcp.flags & dpkt.tcp.TH_SYN else tcp.seq
            new = dirs[d].add(seq, payload)
            if new:
                last = conv.items[-1] if conv.items else None
                if isinstance(last, Flight) and last.direction == d:
                    last.data += new
                    last.packets += 1
                else:
                    conv.items.append(Flight(d, new))
        for flag, kind in ((dpkt.tcp.TH_FIN, "fin"), (dpkt.tcp.TH_RST, "rst")):
            if tcp.flags & flag and not any(isinstance(i, Close) and i.direction == d and i.kind == kind
                                            for i in conv.items):
                conv.items.append(Close(d, kind))
    for conv, d, dirs in {id(v[0]): v for v in convs.values()}.values():
        if any(x.ahead for x in dirs):
            conv.complete = False
    return order


# -- writing ------------------------------------------------------------------------------

CLIENT_IP = bytes([192, 0, 2, 1])
SERVER_IP = bytes([198, 51, 100, 7])

# A plan turns one flight's bytes into (stream offset within the flight, payload) segments,
# in the order they are to be written.
Plan = Callable[[int, Flight], Sequence[tuple[int, bytes]]]


def whole_flight(index: int, flight: Flight) -> list[tuple[int, bytes]]:
    """One segment per flight (split only where an IPv4 packet could not hold it)."""
    return [(o, flight.data[o:o + MAX_SEGMENT]) for o in range(0, len(flight.data), MAX_SEGMENT)]


def _checksum(data: bytes) -> int:
    """Internet checksum (RFC 1071): the one's-complement sum of 16-bit words is the number
    the bytes spell, modulo 0xFFFF (with 0xFFFF standing for a non-zero multiple)."""
    if len(data) % 2:
        data += b"\0"
    n = int.from_bytes(data, "big")
    s = n % 0xFFFF
    if s == 0 and n:
        s = 0xFFFF
    return ~s & 0xFFFF


_PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)


class PcapBuilder:
    """Ethernet/IPv4/TCP frames of one conversation into a classic pcap (packed by hand with
    struct: a dpkt object per packet made one-byte segmentations too slow to test)."""

    def __init__(self, ports: tuple[int, int], isn: tuple[int, int], t0: float = 1_700_000_000.0):
        self.ports = ports
        self.isn = isn
        self.sent = [0, 0]  # stream bytes per direction the peer will have acknowledged
        self.usec = int(t0 * 1_000_000)
        self.parts: list[bytes] = [_PCAP_HEADER]
        self.frames = 0

    def seq(self, d: int, offset: int) -> int:
        return (self.isn[d] + 1 + offset) & MASK32

    def packet(self, d: int, seq: int, flags: int, payload: bytes = b"", ack: Optional[int] = None) -> None:
        src, dst = (CLIENT_IP, SERVER_IP) if d == 0 else (SERVER_IP, CLIENT_IP)
        sport, dport = (self.ports[0], self.ports[1]) if d == 0 else (self.ports[1], self.ports[0])
        if ack is None:
            ack = self.seq(1 - d, self.sent[1 - d])
        tcp_len = 20 + len(payload)
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
        pseudo = src + dst + struct.pack("!BBH", 0, 6, tcp_len)
        csum = _checksum(pseudo + tcp + payload)
        tcp = tcp[:16] + struct.pack("!H", csum) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + tcp_len, self.frames & 0xFFFF, 0x4000, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
        macs = (b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01" if d == 0
                else b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02")
        frame = macs + b"\x08\x00" + ip + tcp + payload
        self.usec += 100
        self.frames += 1
        self.parts.append(struct.pack("<IIII", self.usec // 1_000_000, self.usec % 1_000_000, len(frame), len(frame)))
        self.parts.append(frame)

    def handshake(self) -> None:
        syn, ack = dpkt.tcp.TH_SYN, dpkt.tcp.TH_ACK
        self.packet(0, self.isn[0], syn, ack=0)
        self.packet(1, self.isn[1], syn | ack, ack=self.seq(0, 0))
        self.packet(0, self.seq(0, 0), ack)

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


def build_pcap(conv: Conversation, plan: Plan = whole_flight, isn: Optional[tuple[int, int]] = None,
               psh_last_only: bool = False) -> bytes:
    """Write the conversation back as a capture, each flight cut by ``plan``. Every data
    segment carries PSH unless ``psh_last_only`` (then only a flight's last one does, as a
    stack does when one write() spans several segments)."""
    isns = isn or (conv.isn[0] if conv.isn[0] is not None else 1000,
                   conv.isn[1] if conv.isn[1] is not None else 5000)
    b = PcapBuilder(conv.ports, isns)
    b.handshake()
    flight_index = 0
    psh_ack = dpkt.tcp.TH_PUSH | dpkt.tcp.TH_ACK
    for item in conv.items:
        if isinstance(item, Flight):
            d = item.direction
            start = b.sent[d]
            segments = plan(flight_index, item)
            for k, (off, payload) in enumerate(segments):
                assert payload == item.data[off:off + len(payload)], "a plan must cut, not invent"
                last = k == len(segments) - 1
                flags = psh_ack if last or not psh_last_only else dpkt.tcp.TH_ACK
                b.packet(d, b.seq(d, start + off), flags, payload)
            b.sent[d] += len(item.data)
            flight_index += 1
        else:
            flags = (dpkt.tcp.TH_FIN if item.kind == "fin" else dpkt.tcp.TH_RST) | dpkt.tcp.TH_ACK
            b.packet(item.direction, b.seq(item.direction, b.sent[item.direction]), flags)
    return b.getvalue()


# -- normalising results --------------------------------------------------------------------

_DROP_KEYS = frozenset(("frame", "time", "first_frame", "last_frame", "start_time", "end_time"))
_DROP_STATS = frozenset(("packets", "bytes", "retransmissions"))


def strip_positions(value: object) -> object:
    """A result dict without frame numbers, times and per-packet counters (which legitimately
    change when the same bytes travel in different segments)."""
    if isinstance(value, dict):
        return {k: strip_positions(v) for k, v in value.items() if k not in _DROP_KEYS}
    if isinstance(value, list):
        return [strip_positions(v) for v in value]
    return value


def decoded_view(conn_dict: dict) -> dict:
    """What must not depend on segmentation: the decoded connection, positions stripped."""
    d = strip_positions(conn_dict)
    assert isinstance(d, dict)
    stats = d.get("stats") or {}
    d["stats"] = {side: {k: v for k, v in s.items() if k not in _DROP_STATS} for side, s in stats.items()}
    d.pop("wireshark_filter", None)
    d.pop("ttl", None)  # TTLs of the first packets: per-packet, not decoded content
    if isinstance(d.get("sent_after_own_reset"), dict):  # which side sent on stays; its frame may move
        d["sent_after_own_reset"] = sorted(d["sent_after_own_reset"])
    starttls = d.get("starttls")
    if isinstance(starttls, dict):  # what the prelude saw stays; the frames it saw it in may move
        starttls["frames"] = sorted(starttls.get("frames") or {})
    return d
