"""Hostile TCP traffic, written field by field with struct (no capture files in the repository).

Ethernet/IPv4/TCP frames in a microsecond pcap; checksums are left zero (tlsdissect does not
check them). Each generator returns the whole capture as bytes, or writes it to a path when
it is large (the SYN floods), so that a test or bench/hostile.py can feed it to the CLI, the
library or a subprocess.
"""

from __future__ import annotations

import gzip
import io
import random
import struct
import time
from typing import BinaryIO, Iterable, Iterator

SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10
MASK32 = 0xFFFFFFFF
CLIENT = bytes([10, 1, 0, 1])
SERVER = bytes([10, 0, 0, 1])
T0 = 1_700_000_000.0

_PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)
_RECORD = struct.Struct("<IIII")
_ETH_IP = struct.Struct("!6s6sHBBHHHBBH4s4s")
_TCP = struct.Struct("!HHIIBBHHH")

Packet = tuple[float, bytes, bytes, int, int, int, int, int, bytes]  # ts, src, dst, sport, dport, seq, ack, flags, payload


def frame(src: bytes, dst: bytes, sport: int, dport: int, seq: int, ack: int, flags: int,
          payload: bytes = b"") -> bytes:
    """One Ethernet II + IPv4 (no options) + TCP (no options) frame."""
    ip = _ETH_IP.pack(b"\x02" * 6, b"\x04" * 6, 0x0800, 0x45, 0, 40 + len(payload), 0, 0x4000, 64, 6, 0, src, dst)
    return ip + _TCP.pack(sport, dport, seq & MASK32, ack & MASK32, 0x50, flags, 65535, 0, 0) + payload


def record(ts: float, data: bytes) -> bytes:
    sec = int(ts)
    return _RECORD.pack(sec, int(round((ts - sec) * 1e6)), len(data), len(data)) + data


def pcap(packets: Iterable[Packet]) -> bytes:
    """The capture of ``packets`` (in the order given)."""
    return _PCAP_HEADER + b"".join(record(p[0], frame(*p[1:])) for p in packets)


def write_pcap(out: BinaryIO, packets: Iterable[Packet]) -> None:
    out.write(_PCAP_HEADER)
    for p in packets:
        out.write(record(p[0], frame(*p[1:])))


# -- 3. SYN floods: connections the table must hand out whatever the timestamps do ------------
def syn_flood(count: int, seconds: float = 0.0, dport: int = 443) -> Iterator[Packet]:
    """``count`` SYNs from distinct clients, spread evenly over ``seconds`` of capture time
    (0: all with one timestamp). Every fifth connection also closes (SYN-ACK, RST), so closed
    ones pile up too when time does not move."""
    for i in range(count):
        ts = T0 + (seconds * i / count if seconds else 0.0)
        src = bytes([10, 64 + (i >> 24 & 63), i >> 16 & 255, i >> 8 & 255])
        sport = 1024 + (i & 0xFF) * 200 + (i >> 8) % 200
        yield ts, src, SERVER, sport, dport, 1000 + i, 0, SYN, b""
        if i % 5 == 0:
            yield ts, SERVER, src, dport, sport, 5000, 1001 + i, SYN | ACK, b""
            yield ts, src, SERVER, sport, dport, 1001 + i, 0, RST, b""


# -- 4. reassembly: one-byte segments behind a hole -----------------------------------------
def handshake(isn_c: int = 1000, isn_s: int = 5000, ts: float = T0, sport: int = 40000) -> list[Packet]:
    return [
        (ts, CLIENT, SERVER, sport, 443, isn_c, 0, SYN, b""),
        (ts, SERVER, CLIENT, 443, sport, isn_s, isn_c + 1, SYN | ACK, b""),
        (ts, CLIENT, SERVER, sport, 443, isn_c + 1, isn_s + 1, ACK, b""),
    ]


def hole_offsets(count: int, order: str = "ascending", step: int = 1) -> list[int]:
    """Stream offsets 1, 1+step, ... of ``count`` one-byte segments behind a hole at offset 0,
    in ``order``: "ascending", "descending" or "shuffled" (the same shuffle for a count)."""
    offsets = [1 + k * step for k in range(count)]
    if order == "descending":
        offsets.reverse()
    elif order == "shuffled":
        random.Random(count).shuffle(offsets)
    return offsets


def behind_a_hole(count: int, order: str = "ascending", step: int = 1, isn: int = 1000) -> list[Packet]:
    """A handshake, then ``count`` one-byte client segments behind a one-byte hole (hole_offsets;
    the hole never comes)."""
    packets = handshake(isn)
    for k, off in enumerate(hole_offsets(count, order, step)):
        packets.append((T0 + 0.001 * (k + 1), CLIENT, SERVER, 40000, 443, isn + 1 + off, 5001, ACK,
                        bytes([65 + off % 26])))
    return packets


def reassembler_cpu(count: int, order: str) -> float:
    """CPU seconds to put ``count`` one-byte segments behind a hole into a StreamReassembler
    without caps (the structure itself), and to flush it."""
    from tlsdissect.tcp.reassembly import StreamReassembler

    try:
        r = StreamReassembler(max_pending=10**9, max_segments=10**9)
    except TypeError:  # (a checkout before the segment cap: bench/hostile.py --tree)
        r = StreamReassembler(max_pending=10**9)
    isn = 0xFFFFFF00  # (sequence numbers wrap inside the stream)
    r.syn(isn)
    started = time.process_time()
    for frame, off in enumerate(hole_offsets(count, order), 1):
        r.segment((isn + 1 + off) & MASK32, b"x", frame, 0.0)
    out = r.flush(0, 0.0)
    spent = time.process_time() - started
    assert sum(len(c) if isinstance(c, bytes) else c for c, _f, _t in out) == count + 1
    return spent


def pipeline_cpu(count: int, order: str, diagnose: bool = True) -> float:
    """CPU seconds of iter_connections over behind_a_hole(count, order) (the capture in memory)."""
    from tlsdissect.pipeline.analyzer import iter_connections

    data = pcap(behind_a_hole(count, order))
    started = time.process_time()
    for _ in iter_connections(data, diagnose=diagnose):
        pass
    return time.process_time() - started


# -- 6. a rewriting retransmission after delivery -------------------------------------------
def client_hello(server_name: str) -> bytes:
    """A TLS 1.2 ClientHello record offering one suite, with a server name."""
    name = server_name.encode("ascii")
    sni = struct.pack("!HBH", len(name) + 3, 0, len(name)) + name
    extensions = struct.pack("!HH", 0, len(sni)) + sni
    body = (struct.pack("!H", 0x0303) + bytes(range(32)) + b"\x00" + struct.pack("!HH", 2, 0xC02F) + b"\x01\x00"
            + struct.pack("!H", len(extensions)) + extensions)
    message = b"\x01" + len(body).to_bytes(3, "big") + body
    return struct.pack("!BHH", 22, 0x0301, len(message)) + message


def rewritten_after_delivery(first: str = "real.example", second: str = "evil.example") -> tuple[bytes, int, int]:
    """A ClientHello naming ``first``, acknowledged by the server, then a copy at the same
    sequence numbers naming ``second`` (names of one length): (capture, frame of the first
    copy, frame of the second)."""
    assert len(first) == len(second)
    hello, forged = client_hello(first), client_hello(second)
    packets = handshake()
    packets.append((T0 + 0.01, CLIENT, SERVER, 40000, 443, 1001, 5001, PSH | ACK, hello))
    packets.append((T0 + 0.02, SERVER, CLIENT, 443, 40000, 5001, 1001 + len(hello), ACK, b""))
    packets.append((T0 + 0.03, CLIENT, SERVER, 40000, 443, 1001, 5001, PSH | ACK, forged))
    packets.append((T0 + 0.04, SERVER, CLIENT, 443, 40000, 5001, 1001 + len(hello), RST | ACK, b""))
    return pcap(packets), 4, 6


# -- 8. a gzip bomb ----------------------------------------------------------------------------
def gzip_bomb(inflated: int) -> bytes:
    """A pcap file header and then ``inflated`` zero bytes (zero-length records, one frame
    each 16 bytes), gzip'd: about 1000:1."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9) as g:
        g.write(_PCAP_HEADER)
        chunk = b"\x00" * (1 << 20)
        for _ in range(inflated >> 20):
            g.write(chunk)
        g.write(b"\x00" * (inflated & ((1 << 20) - 1)))
    return buf.getvalue()
