"""Frame bytes -> the TCP segment inside, with struct-level parsing and no per-packet objects.

``decode_flow`` is on the hot path: it runs once per packet of the capture (except the common
Ethernet + IPv4/IPv6 + TCP frame of a pcap file, which CaptureReader.segments decodes the same
way in its own loop). It returns a plain
tuple (``decode_tcp`` gives the same segment unpacked), or None for anything that is not a TCP
segment we can use (ARP, ICMP, IP
fragments, a frame cut short before the TCP header); a UDP datagram, and an ICMP error quoting one,
come out marked (UDP_DATAGRAM, UDP_ICMP_ERROR) with key None for the QUIC and DTLS stages. Tunnels that Wireshark looks into are
followed too (IP-in-IP, 6in4, 4in6, GRE incl. ERSPAN, VXLAN, Geneve, GTP-U, PPPoE, MPLS, VLAN/QinQ), so the
connection numbering matches Wireshark's ``tcp.stream``.
"""

from __future__ import annotations

import struct
from typing import Any, Optional

from tlsdissect.capture.icmp import IcmpError

# Link-layer header types (https://www.tcpdump.org/linktypes.html)
LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_RAW_OPENBSD = 12  # DLT_RAW on most BSDs is 12 (14 on OpenBSD), both raw IP
LINKTYPE_RAW_14 = 14
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

SUPPORTED_LINKTYPES = {
    LINKTYPE_NULL: "BSD loopback (NULL)",
    LINKTYPE_ETHERNET: "Ethernet",
    LINKTYPE_RAW: "raw IP",
    LINKTYPE_RAW_OPENBSD: "raw IP",
    LINKTYPE_RAW_14: "raw IP",
    LINKTYPE_LOOP: "OpenBSD loopback",
    LINKTYPE_LINUX_SLL: "Linux cooked (SLL)",
    LINKTYPE_IPV4: "raw IPv4",
    LINKTYPE_IPV6: "raw IPv6",
    LINKTYPE_LINUX_SLL2: "Linux cooked v2 (SLL2)",
}

# TCP flags
FIN = 0x01
SYN = 0x02
RST = 0x04
PSH = 0x08
ACK = 0x10
# Not a TCP flag: marks a TCP header quoted inside an ICMP error. Wireshark gives such a
# header a tcp.stream of its own when its conversation is new, so we count it too. (The value
# just above the TCP flags byte: tables indexed by a segment's flags have ICMP_QUOTE + 1 entries.)
ICMP_QUOTE = 0x100
# Not a TCP flag either: marks a UDP datagram (QUIC, DTLS). Its result has key None (it is no TCP
# segment: the TCP stage never sees it), the flow key (src + dst + ports, as for TCP) in the seq
# slot and the UDP payload as the payload.
UDP_DATAGRAM = 0x200
# An ICMP error quoting a UDP datagram (capture.icmp): key None, an IcmpError in the seq slot
# (the quoted datagram's flow key among its fields) and the quoted UDP payload as the payload.
UDP_ICMP_ERROR = UDP_DATAGRAM | ICMP_QUOTE
# Not a packet at all: a live capture's clock tick (capture.live), key None and the current time, so
# that connections that ended are handed out even while the interface is quiet.
TICK = 0x400

_ICMP4_ERRORS = frozenset((3, 4, 5, 11, 12))
_ICMP6_ERRORS = frozenset((1, 2, 3, 4))

_u16 = struct.Struct("!H").unpack_from
_u32 = struct.Struct("!I").unpack_from
_ipv6_ext = frozenset((0, 43, 60, 135, 139, 140))  # hop-by-hop, routing, dest opts, mobility, HIP, shim6
_MAX_DEPTH = 4

# (src, dst, sport, dport, seq, ack, flags, payload, ttl, window): decode_tcp's result
TcpSegment = tuple[bytes, bytes, int, int, int, int, int, bytes, int, int]
# (key, seq, ack, flags, payload, ttl, window), key = src + dst + sport + dport as one bytes object
# (12 bytes for IPv4, 36 for IPv6): decode_flow's result, the per-packet form of the pipeline.
# One key object (a single slice of the frame on the common path) is cheaper to cut, hash and
# compare than a 4-tuple of addresses and ports.
# For a UDP datagram (flags UDP_DATAGRAM) the key is None and the seq slot holds the datagram's
# addresses and ports (key-like bytes): hence ``Any`` there.
# ``window`` is the TCP header's window field as sent (unscaled: only whether it is zero is
# read, by tcp.window); NO_WINDOW for what has none (a UDP datagram, an ICMP quote).
FlowSegment = tuple[Optional[bytes], Any, int, int, bytes, int, int]
NO_WINDOW = -1

_seq_ack_off_flags_window = struct.Struct("!IIBBH").unpack_from
# The TCP data offset byte -> the TCP header length in bytes (a tuple index is cheaper than
# the two shifts per packet).
TCP_HEADER_LEN: tuple[int, ...] = tuple((off >> 4) << 2 for off in range(256))
# From offset 12 of an Ethernet frame carrying IPv4 + TCP: EtherType, version/IHL, total length,
# flags/fragment offset, TTL, protocol, (checksum skipped) the flow key (addresses and ports, as
# bytes: no slice of its own), seq, ack, TCP data offset, TCP flags, window. (For IPv6, ``vihl``
# holds the version and ``frag`` the next header and the hop limit, and the "key" is no key.)
_eth_ip_tcp = struct.Struct("!HBxH2xHBB2x12sIIBBH").unpack_from
# From offset 18 of an Ethernet frame carrying IPv6 (no extension headers) + TCP: payload length,
# next header, hop limit, the flow key (addresses and ports), seq, ack, TCP data offset, TCP flags,
# window.
_eth_ip6_tcp = struct.Struct("!HBB36sIIBBH").unpack_from


def decode_tcp(linktype: int, data: bytes) -> Optional[TcpSegment]:
    """Return ``(src, dst, sport, dport, seq, ack, flags, payload, ttl, window)`` or None.

    ``src``/``dst`` are the raw address bytes (4 or 16). ``ttl`` is the IPv4 TTL or IPv6 hop
    limit of the innermost IP header (used to tell a middlebox's packets from an endpoint's).
    The analysis itself uses :func:`decode_flow`; this is its unpacked form.
    """
    seg = decode_flow(linktype, data)
    if seg is None:
        return None
    key, seq, ack, flags, payload, ttl, window = seg
    if key is None:  # a UDP datagram (UDP_DATAGRAM)
        return None
    src, dst, sport, dport = split_key(key)
    return (src, dst, sport, dport, seq, ack, flags, payload, ttl, window)


def split_key(key: bytes) -> tuple[bytes, bytes, int, int]:
    """A flow key back into ``(src, dst, sport, dport)``."""
    return _SPLIT_KEY[len(key)](key)


# Flow key length (IPv4, IPv6) -> the unpacker that splits it in one call.
_SPLIT_KEY = {12: struct.Struct("!4s4sHH").unpack, 36: struct.Struct("!16s16sHH").unpack}


def flow_key(src: bytes, dst: bytes, sport: int, dport: int) -> bytes:
    """The flow key of ``src:sport -> dst:dport`` (see FlowSegment)."""
    return src + dst + sport.to_bytes(2, "big") + dport.to_bytes(2, "big")


def decode_flow(linktype: int, data: bytes) -> Optional[FlowSegment]:
    """Return ``(key, seq, ack, flags, payload, ttl, window)`` (see FlowSegment) or None: the TCP
    segment in a frame, for anything that is not one we can use (see the module docstring)."""
    try:
        if linktype == LINKTYPE_ETHERNET:
            # Fast path for the common case, Ethernet + IPv4 (no options, not a fragment) + TCP:
            # one unpack reads every field it needs (no per-byte indexing, no further call);
            # everything else goes the general way (which gives None to a frame cut short).
            n = len(data)
            if n >= 54:
                etype, vihl, total, frag, ttl, proto, key, seq, ack, off, flags, window = _eth_ip_tcp(data, 12)
                # (frag 0x4000, Don't Fragment alone, is the common case: tested first, without
                # the slower "&")
                if etype == 0x0800 and vihl == 0x45 and proto == 6 and (frag == 0x4000 or not frag & 0x3FFF):
                    if off < 0x50:  # TCP header length below 20
                        return None
                    end = 14 + total if 20 <= total and 14 + total <= n else n
                    start = 34 + TCP_HEADER_LEN[off]
                    return (key, seq, ack, flags, data[start:end] if start < end else b"", ttl, window)
                if etype == 0x86DD and frag >> 8 == 6 and vihl >> 4 == 6:
                    # The same for Ethernet + IPv6 without extension headers (next header, the
                    # high byte of ``frag`` here, is TCP): src, dst and the ports are contiguous.
                    if n < 74:
                        return None
                    plen, _, hops, key, seq, ack, off, flags, window = _eth_ip6_tcp(data, 18)
                    if off < 0x50:
                        return None
                    end = 54 + plen if plen and 54 + plen <= n else n  # jumbograms/TSO: plen 0
                    start = 54 + TCP_HEADER_LEN[off]
                    return (key, seq, ack, flags, data[start:end] if start < end else b"", hops, window)
            return _ether(data, 0, 0)
        if linktype == LINKTYPE_LINUX_SLL:
            return _by_ethertype(data, 16, _u16(data, 14)[0], 0)
        if linktype == LINKTYPE_LINUX_SLL2:
            return _by_ethertype(data, 20, _u16(data, 0)[0], 0)
        if linktype in (LINKTYPE_RAW, LINKTYPE_RAW_OPENBSD, LINKTYPE_RAW_14, LINKTYPE_IPV4, LINKTYPE_IPV6):
            return _ip(data, 0, 0)
        if linktype == LINKTYPE_NULL or linktype == LINKTYPE_LOOP:
            family = data[0] | data[3]  # host byte order: the family is in byte 0 or byte 3
            if family == 2:
                return _ipv4(data, 4, 0)
            if family in (24, 28, 30, 10):
                return _ipv6(data, 4, 0)
            return None
    except (struct.error, IndexError):
        return None  # frame cut short by the snap length
    return None


def _ether(data: bytes, off: int, depth: int) -> Optional[FlowSegment]:
    return _by_ethertype(data, off + 14, _u16(data, off + 12)[0], depth)


def _by_ethertype(data: bytes, off: int, etype: int, depth: int) -> Optional[FlowSegment]:
    while etype in (0x8100, 0x88A8, 0x9100, 0x9200):  # 802.1Q / QinQ tags
        etype = _u16(data, off + 2)[0]
        off += 4
    if etype == 0x0800:
        return _ipv4(data, off, depth)
    if etype == 0x86DD:
        return _ipv6(data, off, depth)
    if etype == 0x8864:  # PPPoE session: 6-byte header, then the PPP protocol
        proto = _u16(data, off + 6)[0]
        if proto == 0x0021:
            return _ipv4(data, off + 8, depth)
        if proto == 0x0057:
            return _ipv6(data, off + 8, depth)
        return None
    if etype in (0x8847, 0x8848):  # MPLS: pop labels to the bottom of the stack
        for _ in range(16):
            label = _u32(data, off)[0]
            off += 4
            if label & 0x100:
                break
        return _ip(data, off, depth)
    return None


def _ip(data: bytes, off: int, depth: int) -> Optional[FlowSegment]:
    v = data[off] >> 4
    if v == 4:
        return _ipv4(data, off, depth)
    if v == 6:
        return _ipv6(data, off, depth)
    return None


def _ipv4(data: bytes, off: int, depth: int) -> Optional[FlowSegment]:
    vihl = data[off]
    if vihl >> 4 != 4:
        return None
    ihl = (vihl & 0x0F) * 4
    if ihl < 20:  # bogus header length (Wireshark: "must be at least 20"): no TCP to find
        return None
    total = _u16(data, off + 2)[0]
    frag = _u16(data, off + 6)[0]
    if frag & 0x3FFF:  # more-fragments or a fragment offset: no IP reassembly here
        return None
    end = off + total if ihl <= total and off + total <= len(data) else len(data)  # TSO: total may be 0
    proto = data[off + 9]
    p = off + ihl
    if proto == 6:
        return _tcp(data, p, end, data[off + 12:off + 16], data[off + 16:off + 20], data[off + 8])
    return _inner(data, p, end, proto, depth, data[off + 12:off + 16], data[off + 16:off + 20])


def _ipv6(data: bytes, off: int, depth: int) -> Optional[FlowSegment]:
    if data[off] >> 4 != 6:
        return None
    plen = _u16(data, off + 4)[0]
    nxt = data[off + 6]
    hop = data[off + 7]
    src = data[off + 8:off + 24]
    dst = data[off + 24:off + 40]
    p = off + 40
    end = p + plen if plen and p + plen <= len(data) else len(data)  # jumbograms/TSO: plen 0
    for _ in range(8):
        if nxt in _ipv6_ext:
            nxt, hlen = data[p], (data[p + 1] + 1) * 8
            p += hlen
        elif nxt == 44:  # fragment header
            fo = _u16(data, p + 2)[0]
            if fo & 0xFFF9:  # offset or M flag: a real fragment
                return None
            nxt = data[p]
            p += 8
        elif nxt == 51:  # AH
            nxt, hlen = data[p], (data[p + 1] + 2) * 4
            p += hlen
        else:
            break
    if nxt == 6:
        return _tcp(data, p, end, src, dst, hop)
    return _inner(data, p, end, nxt, depth, src, dst)


def _icmp_quote(data: bytes, p: int, end: int, proto: int, sender: bytes) -> Optional[FlowSegment]:
    """The IP + TCP header an ICMP error quotes (only ports and sequence number are there), or the
    IP + UDP datagram it quotes (an IcmpError, UDP_ICMP_ERROR: the QUIC and DTLS stages' part)."""
    icmp_type = data[p]
    if (proto == 1 and icmp_type not in _ICMP4_ERRORS) or (proto == 58 and icmp_type not in _ICMP6_ERRORS):
        return None
    q = p + 8
    v = data[q] >> 4
    if v == 4:
        ihl = (data[q] & 0x0F) * 4
        inner = data[q + 9]
        if ihl < 20 or inner not in (6, 17) or _u16(data, q + 6)[0] & 0x1FFF:
            return None
        src, dst, t = data[q + 12:q + 16], data[q + 16:q + 20], q + ihl
    elif v == 6:
        inner = data[q + 6]
        if inner not in (6, 17):
            return None
        src, dst, t = data[q + 8:q + 24], data[q + 24:q + 40], q + 40
    else:
        return None
    if inner == 17:
        if t + 8 > end:
            return None  # (the ports and the length are all an ICMP error must quote of UDP)
        code = data[p + 1]
        # RFC 1191 §4: the next-hop MTU in the low half of the second word; RFC 4443 §3.2: all of it
        mtu = (_u16(data, p + 6)[0] if (icmp_type, code) == (3, 4) else
               _u32(data, p + 4)[0] if proto == 58 and icmp_type == 2 else 0)
        error = IcmpError(src + dst + data[t:t + 4], sender, 4 if proto == 1 else 6, icmp_type, code, mtu,
                          _u16(data, t + 4)[0])
        length = error.quoted_length
        return (None, error, 0, UDP_ICMP_ERROR, data[t + 8:min(end, t + length) if length >= 8 else end], 0,
                NO_WINDOW)
    seq = _u32(data, t + 4)[0]  # (raises when the ports are cut short too)
    # The error itself travels in the ack field (ICMP version << 16 | type << 8 | code) and the
    # address it came from, as an integer, in the TTL's: tcp.flows.FlowTable notes it on the
    # conversation (the payload stays empty, as the quote carries none).
    return (src + dst + data[t:t + 4], seq, (4 if proto == 1 else 6) << 16 | icmp_type << 8 | data[p + 1],
            ICMP_QUOTE, b"", int.from_bytes(sender, "big"), NO_WINDOW)


def _inner(data: bytes, p: int, end: int, proto: int, depth: int, src: bytes = b"",
           dst: bytes = b"") -> Optional[FlowSegment]:
    """Tunnels: IP-in-IP, GRE (+ERSPAN), VXLAN, Geneve, GTP-U; any other UDP datagram (UDP_DATAGRAM)."""
    if depth >= _MAX_DEPTH:
        return None
    depth += 1
    if proto == 4:
        return _ipv4(data, p, depth)
    if proto == 41:
        return _ipv6(data, p, depth)
    if proto == 47:
        flags, gproto = struct.unpack_from("!HH", data, p)
        q = p + 4
        if flags & 0x8000:  # checksum present
            q += 4
        if flags & 0x2000:  # key
            q += 4
        seq_present = bool(flags & 0x1000)
        if seq_present:
            q += 4
        if gproto == 0x0800:
            return _ipv4(data, q, depth)
        if gproto == 0x86DD:
            return _ipv6(data, q, depth)
        if gproto == 0x6558:  # transparent Ethernet bridging
            return _ether(data, q, depth)
        if gproto == 0x88BE:  # ERSPAN type II (type I has no sequence number and no header)
            return _ether(data, q + 8 if seq_present else q, depth)
        if gproto == 0x22EB:  # ERSPAN type III, optional 8-byte platform sub-header
            o_flag = data[q + 11] & 0x01
            return _ether(data, q + 12 + (8 if o_flag else 0), depth)
        return None
    if proto == 1 or proto == 58:
        return _icmp_quote(data, p, end, proto, src)
    if proto == 17:
        sport, dport = struct.unpack_from("!HH", data, p)
        if dport == 4789 and end - p >= 16:  # VXLAN
            return _ether(data, p + 16, depth)
        if dport == 6081 and end - p >= 16 and not data[p + 8] >> 6:  # Geneve (RFC 8926) version 0, on its
            return _geneve(data, p + 8, depth)  # IANA port, as Wireshark and Zeek read it
        if sport == 2152 or dport == 2152:  # GTP-U (3GPP TS 29.281), as Wireshark's port table
            return _gtp_u(data, p + 8, depth)
        if not src or p + 8 > len(data):
            return None
        length = _u16(data, p + 4)[0]
        stop = min(end, p + length) if length >= 8 else end
        return (None, src + dst + data[p:p + 4], 0, UDP_DATAGRAM, data[p + 8:stop], 0, NO_WINDOW)
    return None


_GENEVE_ETHERNET = 0x6558  # Transparent Ethernet Bridging: an Ethernet frame follows


def _geneve(data: bytes, q: int, depth: int) -> Optional[FlowSegment]:
    """Geneve (RFC 8926) version 0: options in 4-byte units, then the protocol type's packet
    (an Ethernet frame, or an IPv4/IPv6 packet)."""
    ver_optlen, _flags, ptype = struct.unpack_from("!BBH", data, q)
    inner = q + 8 + (ver_optlen & 0x3F) * 4
    if inner > len(data):
        return None
    if ptype == _GENEVE_ETHERNET:
        return _ether(data, inner, depth)
    if ptype == 0x0800 or ptype == 0x86DD:
        return _ip(data, inner, depth)
    return None


def _gtp_u(data: bytes, q: int, depth: int) -> Optional[FlowSegment]:
    """GTPv1-U: only a T-PDU (message type 255) carries a user IP packet."""
    flags, msg_type = data[q], data[q + 1]
    if flags >> 5 != 1 or not flags & 0x10 or msg_type != 0xFF:  # version 1, protocol type GTP
        return None
    q += 8
    if flags & 0x07:  # E, S or PN: sequence number, N-PDU number, next extension type
        next_ext = data[q + 3] if flags & 0x04 else 0  # the next-type byte counts only when E is set
        q += 4
        for _ in range(16):  # extension headers: length in 4-byte units, next type last
            if not next_ext:
                break
            units = data[q]
            if units == 0:
                return None
            q += units * 4
            next_ext = data[q - 1]
    return _ip(data, q, depth)


def _tcp(data: bytes, p: int, end: int, src: bytes, dst: bytes, ttl: int) -> Optional[FlowSegment]:
    if p + 20 > len(data):
        return None
    seq, ack, off, flags, window = _seq_ack_off_flags_window(data, p + 4)
    hl = TCP_HEADER_LEN[off]
    if hl < 20:
        return None
    start = p + hl
    payload = data[start:end] if start < end else b""
    return (src + dst + data[p:p + 4], seq, ack, flags, payload, ttl, window)


def format_endpoint(addr: bytes, port: int) -> str:
    """``ip:port``, IPv6 as ``[addr]:port`` (the JSON form of endpoints)."""
    return f"{format_host(addr)}:{port}"


def format_host(addr: bytes) -> str:
    """The address part of :func:`format_endpoint`: ``ip``, IPv6 as ``[addr]``."""
    if len(addr) == 4:
        return f"{addr[0]}.{addr[1]}.{addr[2]}.{addr[3]}"
    import ipaddress

    return f"[{ipaddress.IPv6Address(bytes(addr)).compressed}]"
