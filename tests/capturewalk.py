"""Test helper: TLS records of each TCP connection in a capture, for decryption tests.

A deliberately small reader (Ethernet/IPv4/IPv6, TCP reassembly by sequence
number, 5-byte record header walk) so the decryption tests can run on the
public captures without depending on the engine under construction.  It is
not the product's capture reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import dpkt

Record = tuple[int, int, bytes]  # content type, version, fragment


@dataclass
class Connection:
    client: tuple[str, int]
    server: tuple[str, int]
    client_records: list[Record] = field(default_factory=list)
    server_records: list[Record] = field(default_factory=list)


def _packets(path: Path):
    with open(path, "rb") as fh:
        try:
            reader = dpkt.pcap.Reader(fh)
        except ValueError:
            fh.seek(0)
            reader = dpkt.pcapng.Reader(fh)
        for _ts, buf in reader:
            yield buf


def _stream(segments: list[tuple[int, bytes]], isn: int | None) -> bytes:
    """Bytes in order from (seq, data) segments; stops at the first gap."""
    if not segments:
        return b""
    base = (isn + 1) if isn is not None else min(s for s, _ in segments)
    out = bytearray()
    for seq, data in sorted(segments, key=lambda s: (s[0] - base) % 2**32):
        offset = (seq - base) % 2**32
        if offset > len(out):
            break
        out += data[len(out) - offset :]
    return bytes(out)


SSL2_HELLO = 0x80  # pseudo content type for an SSL 2.0-format ClientHello


def split_records(stream: bytes) -> list[Record]:
    """Walk record headers; an SSL 2.0-style ClientHello first is kept as type SSL2_HELLO."""
    out, pos = [], 0
    if len(stream) >= 3 and stream[0] & 0x80 and stream[2] == 1:
        length = ((stream[0] & 0x7F) << 8) | stream[1]
        out.append((SSL2_HELLO, int.from_bytes(stream[3:5], "big"), stream[2 : 2 + length]))
        pos = 2 + length
    while pos + 5 <= len(stream):
        length = int.from_bytes(stream[pos + 3 : pos + 5], "big")
        if pos + 5 + length > len(stream):
            break
        out.append((stream[pos], int.from_bytes(stream[pos + 1 : pos + 3], "big"), stream[pos + 5 : pos + 5 + length]))
        pos += 5 + length
    return out


def ssl2_client_random(body: bytes) -> bytes:
    """ClientHello.random of an SSL 2.0-format hello: the challenge, left-padded to 32 bytes."""
    spec_len = int.from_bytes(body[3:5], "big")
    sid_len = int.from_bytes(body[5:7], "big")
    chal_len = int.from_bytes(body[7:9], "big")
    challenge = body[9 + spec_len + sid_len : 9 + spec_len + sid_len + chal_len]
    return challenge.rjust(32, b"\x00")


def connections(path: Path) -> list[Connection]:
    """TCP connections (client = the SYN sender) with both record lists, in capture order."""
    segs: dict[tuple, list[tuple[int, bytes]]] = {}
    isn: dict[tuple, int] = {}
    order: list[tuple] = []
    clients: dict[frozenset, tuple] = {}
    for buf in _packets(path):
        eth = dpkt.ethernet.Ethernet(buf)
        ip = eth.data
        if not isinstance(ip, (dpkt.ip.IP, dpkt.ip6.IP6)) or not isinstance(ip.data, dpkt.tcp.TCP):
            continue
        tcp = ip.data
        src = (bytes(ip.src).hex(), tcp.sport)
        dst = (bytes(ip.dst).hex(), tcp.dport)
        key = (src, dst)
        conn = frozenset((src, dst))
        if conn not in clients:
            clients[conn] = src if not (tcp.flags & dpkt.tcp.TH_SYN and tcp.flags & dpkt.tcp.TH_ACK) else dst
            order.append(conn)
        if tcp.flags & dpkt.tcp.TH_SYN:
            isn[key] = tcp.seq
        if tcp.data:
            segs.setdefault(key, []).append((tcp.seq, bytes(tcp.data)))
    result = []
    for conn in order:
        client = clients[conn]
        server = next(iter(conn - {client}), client)
        c2s, s2c = (client, server), (server, client)
        result.append(
            Connection(
                client,
                server,
                split_records(_stream(segs.get(c2s, []), isn.get(c2s))),
                split_records(_stream(segs.get(s2c, []), isn.get(s2c))),
            )
        )
    return result
