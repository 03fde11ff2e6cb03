"""decode_tcp against frames built with scapy, one per link type, tag, tunnel and IPv6 header chain.

Expected values are the literal field values the frame was built from (addresses, ports,
sequence numbers, TTL, payload), and the TCP flag bits of RFC 9293 section 3.1; the bytes
themselves come from scapy, not from our code. Link-layer headers scapy does not build
(BSD loopback family words) follow https://www.tcpdump.org/linktypes.html.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

scapy_all = pytest.importorskip("scapy.all")
from scapy.all import (
    ARP,
    GRE,
    ICMP,
    IP,
    PPP,
    TCP,
    UDP,
    VXLAN,
    CookedLinux,
    CookedLinuxV2,
    Dot1AD,
    Dot1Q,
    Ether,
    IPOption_RR,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    PPPoE,
    Raw,
)
from scapy.contrib.erspan import ERSPAN_II, ERSPAN_III, ERSPAN_PlatformSpecific
from scapy.contrib.gtp import GTP_U_Header, GTPPDUSessionContainer
from scapy.contrib.mpls import MPLS
from scapy.layers.inet6 import ICMPv6DestUnreach
from scapy.layers.ipsec import AH

from tlsdissect.capture.packet import ICMP_QUOTE, decode_tcp

# Inner (end-to-end) addresses and the TCP segment every frame carries.
A4, B4 = "192.0.2.10", "198.51.100.20"
A6, B6 = "2001:db8::10", "2001:db8:1::20"
O4, P4 = "203.0.113.1", "203.0.113.2"  # tunnel endpoints (outer headers)
O6, P6 = "2001:db8:ffff::1", "2001:db8:ffff::2"
SPORT, DPORT = 50123, 443
SEQ, ACK_NO = 0x01020304, 0xA0B0C0D0
WINDOW = 0x2B5C  # (not scapy's default 8192: the field must really be read)
TTL4, HLIM6 = 61, 62
OUTER_TTL = 200
PAYLOAD = b"\x16\x03\x01\x00\x05hello"  # any bytes: decode_tcp does not look inside

# RFC 9293 section 3.1 control bits (low byte of the 13th/14th octet pair).
FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80


def tcp(flags: str = "PA", payload: bytes = PAYLOAD, **kw) -> TCP:
    return (
        TCP(sport=SPORT, dport=DPORT, seq=SEQ, ack=ACK_NO, flags=flags, window=WINDOW, **kw) / payload
    )


def v4(**kw) -> IP:
    return IP(src=A4, dst=B4, ttl=TTL4, **kw)


def v6(**kw) -> IPv6:
    return IPv6(src=A6, dst=B6, hlim=HLIM6, **kw)


def outer4() -> IP:
    return IP(src=O4, dst=P4, ttl=OUTER_TTL)


def outer6() -> IPv6:
    return IPv6(src=O6, dst=P6, hlim=OUTER_TTL)


def eth() -> Ether:
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


@dataclass(frozen=True)
class Case:
    """A frame and what is inside it: inner IP version, flags and payload."""

    linktype: int
    frame: bytes
    ipv: int  # 4 or 6: which inner addresses to expect
    flags: int = PSH | ACK
    payload: bytes = PAYLOAD


def expected(case: Case) -> tuple:
    if case.ipv == 4:
        src, dst, ttl = (
            ipaddress.IPv4Address(A4).packed,
            ipaddress.IPv4Address(B4).packed,
            TTL4,
        )
    else:
        src, dst, ttl = (
            ipaddress.IPv6Address(A6).packed,
            ipaddress.IPv6Address(B6).packed,
            HLIM6,
        )
    return (src, dst, SPORT, DPORT, SEQ, ACK_NO, case.flags, case.payload, ttl, WINDOW)


def loop_word(family: int, order: str) -> bytes:
    """BSD loopback header: the address family as a 4-byte integer (host order for NULL)."""
    return struct.pack(order + "I", family)


# (id, builder) pairs; builders run at collection time, so a scapy error shows as a failure.
CASES: dict[str, Callable[[], Case]] = {
    # Ethernet and tags
    "eth-ipv4": lambda: Case(1, bytes(eth() / v4() / tcp()), 4),
    "eth-ipv6": lambda: Case(1, bytes(eth() / v6() / tcp()), 6),
    "eth-dot1q-ipv4": lambda: Case(1, bytes(eth() / Dot1Q(vlan=10) / v4() / tcp()), 4),
    "eth-dot1q-ipv6": lambda: Case(1, bytes(eth() / Dot1Q(vlan=10) / v6() / tcp()), 6),
    "eth-qinq-88a8": lambda: Case(
        1, bytes(eth() / Dot1AD(vlan=20) / Dot1Q(vlan=10) / v4() / tcp()), 4
    ),
    "eth-qinq-8100x2": lambda: Case(
        1, bytes(eth() / Dot1Q(vlan=20) / Dot1Q(vlan=10) / v6() / tcp()), 6
    ),
    "eth-qinq-9100": lambda: Case(
        1, bytes(Ether(type=0x9100) / Dot1Q(vlan=20) / Dot1Q(vlan=10) / v4() / tcp()), 4
    ),
    "eth-pppoe-ipv4": lambda: Case(
        1, bytes(eth() / PPPoE(sessionid=7) / PPP(proto=0x0021) / v4() / tcp()), 4
    ),
    "eth-pppoe-ipv6": lambda: Case(
        1, bytes(eth() / PPPoE(sessionid=7) / PPP(proto=0x0057) / v6() / tcp()), 6
    ),
    "eth-vlan-pppoe": lambda: Case(
        1,
        bytes(
            eth()
            / Dot1Q(vlan=5)
            / PPPoE(sessionid=7)
            / PPP(proto=0x0021)
            / v4()
            / tcp()
        ),
        4,
    ),
    "eth-mpls1-ipv4": lambda: Case(
        1, bytes(Ether(type=0x8847) / MPLS(label=100, s=1, ttl=9) / v4() / tcp()), 4
    ),
    "eth-mpls2-ipv6": lambda: Case(
        1,
        bytes(
            Ether(type=0x8847)
            / MPLS(label=100, s=0)
            / MPLS(label=200, s=1)
            / v6()
            / tcp()
        ),
        6,
    ),
    "eth-mpls-multicast": lambda: Case(
        1, bytes(Ether(type=0x8848) / MPLS(label=16, s=1) / v4() / tcp()), 4
    ),
    # Linux cooked captures
    "sll-ipv4": lambda: Case(
        113,
        bytes(
            CookedLinux(pkttype=0, lladdrtype=1, lladdrlen=6, proto=0x0800)
            / v4()
            / tcp()
        ),
        4,
    ),
    "sll-ipv6": lambda: Case(
        113, bytes(CookedLinux(pkttype=4, proto=0x86DD) / v6() / tcp()), 6
    ),
    "sll-vlan": lambda: Case(
        113, bytes(CookedLinux(proto=0x8100) / Dot1Q(vlan=3) / v4() / tcp()), 4
    ),
    "sll2-ipv4": lambda: Case(
        276, bytes(CookedLinuxV2(proto=0x0800, ifindex=3) / v4() / tcp()), 4
    ),
    "sll2-ipv6": lambda: Case(
        276, bytes(CookedLinuxV2(proto=0x86DD, ifindex=3) / v6() / tcp()), 6
    ),
    # raw IP link types
    "raw101-ipv4": lambda: Case(101, bytes(v4() / tcp()), 4),
    "raw101-ipv6": lambda: Case(101, bytes(v6() / tcp()), 6),
    "raw12-ipv4": lambda: Case(12, bytes(v4() / tcp()), 4),
    "raw14-ipv6": lambda: Case(14, bytes(v6() / tcp()), 6),
    "ipv4-228": lambda: Case(228, bytes(v4() / tcp()), 4),
    "ipv6-229": lambda: Case(229, bytes(v6() / tcp()), 6),
    # BSD loopback: NULL in the writer's host byte order, LOOP always big-endian
    "null-le-inet": lambda: Case(0, loop_word(2, "<") + bytes(v4() / tcp()), 4),
    "null-be-inet": lambda: Case(0, loop_word(2, ">") + bytes(v4() / tcp()), 4),
    "null-le-inet6-bsd24": lambda: Case(0, loop_word(24, "<") + bytes(v6() / tcp()), 6),
    "null-le-inet6-freebsd28": lambda: Case(
        0, loop_word(28, "<") + bytes(v6() / tcp()), 6
    ),
    "null-be-inet6-darwin30": lambda: Case(
        0, loop_word(30, ">") + bytes(v6() / tcp()), 6
    ),
    "loop-inet": lambda: Case(108, loop_word(2, ">") + bytes(v4() / tcp()), 4),
    "loop-inet6": lambda: Case(108, loop_word(24, ">") + bytes(v6() / tcp()), 6),
    # IPv4 options, TCP options
    "ipv4-options": lambda: Case(
        1,
        bytes(
            eth() / v4(options=[IPOption_RR(routers=["10.0.0.1", "10.0.0.2"])]) / tcp()
        ),
        4,
    ),
    "tcp-options": lambda: Case(
        1,
        bytes(
            eth()
            / v4()
            / tcp(
                options=[
                    ("MSS", 1460),
                    ("SAckOK", b""),
                    ("Timestamp", (1, 2)),
                    ("NOP", None),
                    ("WScale", 7),
                ]
            )
        ),
        4,
    ),
    "ipv4-df": lambda: Case(1, bytes(eth() / v4(flags="DF") / tcp()), 4),
    # IPv6 extension header chains
    "ipv6-hbh": lambda: Case(1, bytes(eth() / v6() / IPv6ExtHdrHopByHop() / tcp()), 6),
    "ipv6-hbh-rt-dst": lambda: Case(
        1,
        bytes(
            eth()
            / v6()
            / IPv6ExtHdrHopByHop()
            / IPv6ExtHdrRouting(addresses=["2001:db8::99"])
            / IPv6ExtHdrDestOpt()
            / tcp()
        ),
        6,
    ),
    "ipv6-atomic-fragment": lambda: Case(
        1, bytes(eth() / v6() / IPv6ExtHdrFragment(offset=0, m=0, id=7) / tcp()), 6
    ),
    "ipv6-dst-then-atomic-fragment": lambda: Case(
        101,
        bytes(v6() / IPv6ExtHdrDestOpt() / IPv6ExtHdrFragment(offset=0, m=0) / tcp()),
        6,
    ),
    "ipv6-ah": lambda: Case(101, bytes(v6() / AH(nh=6, payloadlen=4, spi=1, seq=1, icv=b"\0" * 12) / tcp()), 6),
    # tunnels
    "ipip": lambda: Case(1, bytes(eth() / outer4() / v4() / tcp()), 4),
    "6in4": lambda: Case(1, bytes(eth() / outer4() / v6() / tcp()), 6),
    "4in6": lambda: Case(1, bytes(eth() / outer6() / v4() / tcp()), 4),
    "6in6": lambda: Case(101, bytes(outer6() / v6() / tcp()), 6),
    "gre-ipv4": lambda: Case(1, bytes(eth() / outer4() / GRE() / v4() / tcp()), 4),
    "gre-ipv6-key-seq-csum": lambda: Case(
        1,
        bytes(
            eth()
            / outer4()
            / GRE(
                chksum_present=1,
                key_present=1,
                key=99,
                seqnum_present=1,
                sequence_number=5,
            )
            / v6()
            / tcp()
        ),
        6,
    ),
    "gre-over-ipv6": lambda: Case(1, bytes(eth() / outer6() / GRE() / v4() / tcp()), 4),
    "gre-teb": lambda: Case(
        1, bytes(eth() / outer4() / GRE(proto=0x6558) / eth() / v4() / tcp()), 4
    ),
    "gre-teb-key-vlan": lambda: Case(
        1,
        bytes(
            eth()
            / outer4()
            / GRE(proto=0x6558, key_present=1, key=1)
            / eth()
            / Dot1Q(vlan=7)
            / v6()
            / tcp()
        ),
        6,
    ),
    "erspan-i": lambda: Case(
        1, bytes(eth() / outer4() / GRE(proto=0x88BE) / eth() / v4() / tcp()), 4
    ),
    "erspan-ii": lambda: Case(
        1,
        bytes(
            eth()
            / outer4()
            / GRE(proto=0x88BE, seqnum_present=1, sequence_number=3)
            / ERSPAN_II(session_id=9, index=4)
            / eth()
            / v4()
            / tcp()
        ),
        4,
    ),
    "erspan-iii": lambda: Case(
        1,
        bytes(
            eth()
            / outer4()
            / GRE(proto=0x22EB, seqnum_present=1)
            / ERSPAN_III(session_id=9, o=0)
            / eth()
            / v6()
            / tcp()
        ),
        6,
    ),
    "erspan-iii-platform": lambda: Case(
        1,
        bytes(
            eth()
            / outer4()
            / GRE(proto=0x22EB, seqnum_present=1)
            / ERSPAN_III(session_id=9, o=1)
            / ERSPAN_PlatformSpecific(platf_id=3)
            / eth()
            / v4()
            / tcp()
        ),
        4,
    ),
    "vxlan": lambda: Case(
        1,
        bytes(
            eth()
            / outer4()
            / UDP(sport=40000, dport=4789)
            / VXLAN(vni=42)
            / eth()
            / v4()
            / tcp()
        ),
        4,
    ),
    "vxlan-over-ipv6-vlan": lambda: Case(
        1,
        bytes(
            eth()
            / Dot1Q(vlan=2)
            / outer6()
            / UDP(sport=40000, dport=4789)
            / VXLAN(vni=42)
            / eth()
            / Dot1Q(vlan=3)
            / v6()
            / tcp()
        ),
        6,
    ),
    "vxlan-in-gre-in-ipip": lambda: Case(
        1,
        bytes(
            eth()
            / outer4()
            / IP(src=P4, dst=O4)
            / GRE()
            / outer4()
            / UDP(dport=4789)
            / VXLAN(vni=1)
            / eth()
            / v4()
            / tcp()
        ),
        4,
    ),
    "gtp-u": lambda: Case(1, bytes(eth() / outer4() / UDP(sport=2152, dport=2152) / GTP_U_Header(teid=0x1234, gtp_type=255) / v4() / tcp()), 4),
    "gtp-u-seq-ipv6": lambda: Case(1, bytes(eth() / outer4() / UDP(sport=40000, dport=2152) / GTP_U_Header(S=1, seq=77, next_ex=0x85, gtp_type=255) / v6() / tcp()), 6),
    "gtp-u-pdu-session-ext": lambda: Case(1, bytes(eth() / Dot1Q(vlan=9) / outer6() / UDP(sport=2152, dport=2152) / GTP_U_Header(E=1, next_ex=0x85, gtp_type=255) / GTPPDUSessionContainer(type=1, QFI=5) / v4() / tcp()), 4),
    "sll-gre": lambda: Case(
        113, bytes(CookedLinux(proto=0x0800) / outer4() / GRE() / v4() / tcp()), 4
    ),
    # flags and payloads
    "syn-no-payload": lambda: Case(1, bytes(eth() / v4() / tcp("S", b"")), 4, SYN, b""),
    "synack-ipv6": lambda: Case(
        1, bytes(eth() / v6() / tcp("SA", b"")), 6, SYN | ACK, b""
    ),
    "fin-ack": lambda: Case(1, bytes(eth() / v4() / tcp("FA", b"")), 4, FIN | ACK, b""),
    "rst": lambda: Case(1, bytes(eth() / v4() / tcp("R", b"")), 4, RST, b""),
    "all-flags": lambda: Case(101, bytes(v4() / tcp("FSRPAUEC", b"x")), 4, 0xFF, b"x"),
    "ece-cwr-syn": lambda: Case(
        101, bytes(v6() / tcp("SEC", b"")), 6, SYN | ECE | CWR, b""
    ),
    "urg-psh-ack": lambda: Case(
        101, bytes(v4() / tcp("UPA", b"urgent")), 4, URG | PSH | ACK, b"urgent"
    ),
    "big-payload": lambda: Case(
        1,
        bytes(eth() / v4() / tcp("A", bytes(range(256)) * 5)),
        4,
        ACK,
        bytes(range(256)) * 5,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_decodes_built_frame(name: str) -> None:
    case = CASES[name]()
    assert decode_tcp(case.linktype, case.frame) == expected(case)


def test_ethernet_padding_is_not_payload() -> None:
    """A 54-byte ACK is padded to the 60-byte Ethernet minimum; the IP total length says where it ends."""
    frame = bytes(eth() / v4() / tcp("A", b""))
    assert len(frame) == 54
    seg = decode_tcp(1, frame + b"\x00" * 6)
    assert seg is not None and seg[7] == b"" and seg[6] == ACK
    seg6 = decode_tcp(1, bytes(eth() / v6() / tcp("A", b"ab")) + b"\xee" * 4)
    assert seg6 is not None and seg6[7] == b"ab"


def test_ipv4_total_length_zero_means_rest_of_frame() -> None:
    """TCP segmentation offload: captured before the NIC fills in the IPv4 total length."""
    pkt = v4() / tcp()
    raw = bytearray(bytes(eth() / pkt))
    struct.pack_into("!H", raw, 14 + 2, 0)
    seg = decode_tcp(1, bytes(raw))
    assert seg is not None and seg[7] == PAYLOAD


def test_ipv6_payload_length_zero_means_rest_of_frame() -> None:
    raw = bytearray(bytes(eth() / v6() / tcp()))
    struct.pack_into("!H", raw, 14 + 4, 0)
    seg = decode_tcp(1, bytes(raw))
    assert seg is not None and seg[7] == PAYLOAD


def test_frame_cut_by_snaplen_keeps_captured_payload() -> None:
    """The IP length says 11 payload bytes; only 4 were captured: the 4 are the payload."""
    frame = bytes(eth() / v4() / tcp())
    cut = frame[: len(frame) - len(PAYLOAD) + 4]
    seg = decode_tcp(1, cut)
    assert seg is not None and seg[7] == PAYLOAD[:4]


@pytest.mark.parametrize(
    "name",
    [
        "eth-ipv4",
        "eth-ipv6",
        "gre-teb",
        "erspan-iii-platform",
        "vxlan",
        "sll2-ipv6",
        "ipv6-hbh-rt-dst",
        "eth-mpls2-ipv6",
        "eth-pppoe-ipv4",
        "null-be-inet6-darwin30",
    ],
)
def test_every_cut_of_a_frame_is_safe(name: str) -> None:
    """Cut anywhere: None while the TCP header is incomplete, else the captured payload prefix."""
    case = CASES[name]()
    full = expected(case)
    header_end = len(case.frame) - len(case.payload)
    for n in range(len(case.frame)):
        seg = decode_tcp(case.linktype, case.frame[:n])
        if (
            n < header_end
        ):  # the TCP header (20 bytes, no options in these cases) is incomplete
            assert seg is None, (n, seg)
        else:
            assert (
                seg is not None
                and seg[:7] == full[:7]
                and seg[7] == case.payload[: n - header_end]
            ), n


# -- frames that carry no usable TCP segment --------------------------------------------------

NOT_TCP: dict[str, Callable[[], tuple[int, bytes]]] = {
    "arp": lambda: (1, bytes(eth() / ARP(psrc=A4, pdst=B4))),
    "udp-dns": lambda: (
        1,
        bytes(eth() / v4() / UDP(sport=5353, dport=53) / (b"\x00" * 12)),
    ),
    "udp-4790-not-vxlan": lambda: (
        1,
        bytes(eth() / outer4() / UDP(dport=4790) / VXLAN(vni=1) / eth() / v4() / tcp()),
    ),
    "ipv4-first-fragment": lambda: (1, bytes(eth() / v4(flags="MF", id=9) / tcp())),
    "ipv4-later-fragment": lambda: (1, bytes(eth() / v4(frag=3, id=9) / tcp())),
    "ipv6-first-fragment": lambda: (
        1,
        bytes(eth() / v6() / IPv6ExtHdrFragment(offset=0, m=1, id=9) / tcp()),
    ),
    "ipv6-later-fragment": lambda: (
        1,
        bytes(eth() / v6() / IPv6ExtHdrFragment(offset=8, m=0, id=9) / tcp()),
    ),
    "icmp-echo": lambda: (1, bytes(eth() / v4() / ICMP(type=8) / bytes(v4() / tcp()))),
    "icmp-unreachable-quoting-udp": lambda: (1, bytes(eth() / IP(src=P4, dst=A4) / ICMP(type=3, code=3) / v4() / UDP(sport=5353, dport=53))),
    "icmp-unreachable-quoting-later-fragment": lambda: (1, bytes(eth() / IP(src=P4, dst=A4) / ICMP(type=3, code=1) / v4(frag=8) / tcp())),
    "gtp-u-echo-request": lambda: (1, bytes(eth() / outer4() / UDP(sport=2152, dport=2152) / GTP_U_Header(gtp_type=1) / (b"\x00" * 4))),
    "gtp-c-port-2123": lambda: (1, bytes(eth() / outer4() / UDP(sport=2123, dport=2123) / GTP_U_Header(gtp_type=255) / v4() / tcp())),
    "gre-unknown-proto": lambda: (
        1,
        bytes(
            eth()
            / outer4()
            / GRE(proto=0x880B)
            / (b"\xff\x03\x00\x21" + bytes(v4() / tcp()))
        ),
    ),
    "llc-802.3": lambda: (1, bytes(Ether(type=60)) + b"\xaa\xaa\x03" + b"\x00" * 60),
    "unknown-linktype-802.11": lambda: (105, bytes(v4() / tcp())),
    "sll-arp": lambda: (113, bytes(CookedLinux(proto=0x0806) / ARP())),
    "null-unknown-family": lambda: (0, loop_word(7, "<") + bytes(v4() / tcp())),
    "raw-not-ip": lambda: (101, b"\x00" * 40),
    "ipv4-ihl-4-bogus": lambda: (101, bytes(IP(src=A4, dst=B4, ihl=4) / tcp())),
    "icmp-quoting-ihl-4-bogus": lambda: (101, bytes(IP(src=P4, dst=A4) / ICMP(type=3, code=1) / IP(src=A4, dst=B4, ihl=4) / tcp())),
    "tcp-data-offset-4-bogus": lambda: (101, bytes(v4() / tcp(dataofs=4))),
    "empty": lambda: (1, b""),
}


@pytest.mark.parametrize("name", sorted(NOT_TCP))
def test_not_a_tcp_segment(name: str) -> None:
    linktype, frame = NOT_TCP[name]()
    assert decode_tcp(linktype, frame) is None


ICMP_QUOTES: dict[str, Callable[[], tuple[int, bytes, int]]] = {
    "icmp-unreachable": lambda: (1, bytes(eth() / IP(src=P4, dst=A4) / ICMP(type=3, code=1) / v4() / tcp()), 4),
    "icmp-time-exceeded-short-quote": lambda: (1, bytes(eth() / IP(src=P4, dst=A4) / ICMP(type=11) / bytes(v4() / tcp())[:28]), 4),
    "icmpv6-unreachable": lambda: (1, bytes(eth() / IPv6(src=P6, dst=A6) / ICMPv6DestUnreach() / v6() / tcp()), 6),
    "icmp-raw-ip": lambda: (101, bytes(IP(src=P4, dst=A4) / ICMP(type=3, code=4) / v4() / tcp()), 4),
}


@pytest.mark.parametrize("name", sorted(ICMP_QUOTES))
def test_icmp_error_quoting_tcp_is_marked(name: str) -> None:
    """An ICMP error quotes the offending IP header and at least 8 TCP bytes (RFC 792, RFC 4443).

    Those name a connection (addresses, ports, sequence number) but carry no payload, no ACK
    and no flags: decode_tcp returns them marked with ICMP_QUOTE instead of TCP flags.
    """
    linktype, frame, ipv = ICMP_QUOTES[name]()
    seg = decode_tcp(linktype, frame)
    want = expected(Case(linktype, frame, ipv))
    assert seg is not None
    assert seg[:5] == want[:5]  # src, dst, sport, dport, seq of the quoted header
    assert seg[6] == ICMP_QUOTE and not seg[6] & 0xFF  # no real TCP flag set
    assert seg[7] == b""


def test_deep_tunnel_nesting_does_not_recurse_forever() -> None:
    """IP-in-IP 200 levels deep (a crafted frame) must not blow the stack."""
    raw = bytes(v4() / tcp())
    for _ in range(200):
        raw = bytes(IP(src=O4, dst=P4, proto=4) / Raw(raw))
    seg = decode_tcp(101, raw)  # must return, not raise RecursionError
    assert seg is None or seg == expected(Case(101, b"", 4))
    seg = decode_tcp(101, bytes(outer4() / outer4() / v4() / tcp()))
    assert seg is not None and seg[8] == TTL4  # realistic nesting still decodes


def test_ttl_is_from_the_innermost_header() -> None:
    seg = decode_tcp(1, bytes(eth() / outer4() / GRE() / v6() / tcp()))
    assert seg is not None and seg[8] == HLIM6 and seg[8] != OUTER_TTL


LINKTYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(LINKTYPES), st.binary(max_size=200))
def test_random_bytes_never_raise(linktype: int, data: bytes) -> None:
    seg = decode_tcp(linktype, data)
    assert seg is None or (
        len(seg) == 9 and len(seg[0]) in (4, 16) and isinstance(seg[7], bytes)
    )


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(CASES)), st.data())
def test_mutated_frames_never_raise(name: str, data: st.DataObject) -> None:
    """Flip bytes of a valid frame (length fields, header lengths, next-header values...)."""
    case = CASES[name]()
    frame = bytearray(case.frame)
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(frame) - 1))
        frame[i] = data.draw(st.integers(0, 255))
    seg = decode_tcp(case.linktype, bytes(frame))
    assert seg is None or len(seg) == 10


# -- tshark reads the same built frames --------------------------------------------------------------

TSHARK_FIELDS = ("frame.number", "tcp.srcport", "tcp.dstport", "tcp.seq_raw", "tcp.ack_raw", "tcp.flags",
                 "tcp.len", "ip.src", "ip.dst", "ip.ttl", "ipv6.src", "ipv6.dst", "ipv6.hlim", "tcp.window_size_value",
                 "frame.protocols")


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed: it is the oracle of this test")
def test_built_frames_agree_with_tshark(tmp_path) -> None:
    """Every built frame goes into one pcapng (one interface per link type); tshark must see the same segment.

    This checks the frames themselves (scapy builds what we think, e.g. ERSPAN III's platform
    sub-header or GTP-U extension headers) as well as decode_tcp, for encapsulations the shared
    captures do not contain.
    """
    from tests.test_capture import epb, idb, shb

    names = sorted(CASES)
    cases = [CASES[n]() for n in names]
    linktypes = sorted({c.linktype for c in cases})
    blob = shb("<") + b"".join(idb("<", lt) for lt in linktypes)
    blob += b"".join(epb("<", linktypes.index(c.linktype), i, c.frame) for i, c in enumerate(cases))
    path = tmp_path / "built.pcapng"
    path.write_bytes(blob)
    env = dict(os.environ, WIRESHARK_CONFIG_DIR=str(tmp_path))
    out = subprocess.run(["tshark", "-n", "-r", str(path), "-T", "fields", "-E", "occurrence=l",
                          *[arg for f in TSHARK_FIELDS for arg in ("-e", f)]],
                         check=False, capture_output=True, text=True, timeout=120, env=env)
    rows = [line.split("\t") for line in out.stdout.splitlines()]
    assert len(rows) == len(cases), out.stderr
    problems = []
    for name, case, row in zip(names, cases, rows):
        f = dict(zip(TSHARK_FIELDS, row))
        if not f["tcp.srcport"]:
            problems.append(f"{name}: tshark sees no TCP ({f['frame.protocols']})")
            continue
        src, dst, ttl = (f["ip.src"], f["ip.dst"], f["ip.ttl"]) if case.ipv == 4 else (f["ipv6.src"], f["ipv6.dst"], f["ipv6.hlim"])
        theirs = (ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed, int(f["tcp.srcport"]),
                  int(f["tcp.dstport"]), int(f["tcp.seq_raw"]), int(f["tcp.ack_raw"]), int(f["tcp.flags"], 16) & 0xFF,
                  int(f["tcp.len"]), int(ttl), int(f["tcp.window_size_value"]))
        seg = decode_tcp(case.linktype, case.frame)
        ours = None if seg is None else seg[:7] + (len(seg[7]), seg[8], seg[9])
        if ours != theirs:
            problems.append(f"{name}: decode_tcp {ours}, tshark {theirs} ({f['frame.protocols']})")
    assert not problems, "\n".join(problems)
