#!/usr/bin/env python3
"""Build large benchmark captures by replaying real TCP connections many times.

Why: a throughput benchmark on synthetic packets measures the synthesizer's quirks, while the
public test captures are far too small (kilobytes) to time anything. So we cut the real TCP
connections out of those captures (and our own lab captures), and replay each one many times
into a single Ethernet pcap, every copy on its own 4-tuple, many copies open at once and
interleaved the way a busy load balancer sees them.

What is rewritten per copy, and nothing else:
  * the client address (IPv4 -> 10.x.y.z, IPv6 -> fd00::/8) and the client port (32768..60767);
  * the IPv4 header checksum and the TCP checksum, updated incrementally (RFC 1624), so a
    checksum that was valid in the source stays valid, and one that was wrong (checksum
    offload on the capturing host) stays wrong the same way;
  * timestamps (each copy keeps its connection's own packet spacing, idle gaps capped);
  * the link layer: a fresh Ethernet II header, whatever the source link type was.
TCP sequence numbers, payloads, server addresses and server ports are kept as captured.

Profiles:
  mixed       TLS connections carrying bulk application data (most of the bytes), other TLS
              connections, and some non-TLS TCP (HTTP, SSH, STARTTLS protocols, ...).
  handshakes  short TLS connections, mostly failing: alerts, resets, handshakes that stop.

Speed: packets are rewritten a time window at a time with numpy (one fancy-index operation
per field for ~200 000 packets), so the Python work left is per connection, not per packet.

Run `python bench/make_capture.py --help`.
"""
from __future__ import annotations

import argparse
import bisect
import hashlib
import heapq
import json
import pickle
import random
import re
import struct
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

try:
    import numpy as np
except ImportError:  # pragma: no cover
    sys.exit("make_capture.py needs numpy (pip install numpy)")

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_SOURCES = [Path("/work/shared/captures"), REPO / "captures"]
CACHE_VERSION = 6

# pcap / pcapng constants
PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e6),
    b"\xa1\xb2\xc3\xd4": (">", 1e6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e9),
    b"\xa1\xb2\x3c\x4d": (">", 1e9),
}
PCAPNG_SHB = 0x0A0D0D0A
LINKTYPE_ETHERNET = 1
OUT_SNAPLEN = 262144
EPHEMERAL_FIRST, EPHEMERAL_COUNT = 32768, 28000   # client ports 32768..60767

# TLS record content types
CT_ALERT, CT_HANDSHAKE, CT_APPDATA = 21, 22, 23


class CaptureError(Exception):
    """A source capture that cannot be read; it is skipped with a note, not fatal."""


# ---------------------------------------------------------------------------------------------
# Reading source captures (pcap and pcapng, any interface, several link types)
# ---------------------------------------------------------------------------------------------

@dataclass
class RawPacket:
    ts: float
    linktype: int
    data: bytes
    wirelen: int


def read_capture(path: Path) -> Iterator[RawPacket]:
    """Yield the packets of a pcap or pcapng file; own reader because dpkt's pcapng reader
    only honours the first interface and drops the original (wire) length."""
    with open(path, "rb") as f:
        head = f.read(4)
        if head in PCAP_MAGICS:
            yield from _read_pcap(f, head)
        elif len(head) == 4 and struct.unpack("<I", head)[0] == PCAPNG_SHB:
            yield from _read_pcapng(f, head)
        else:
            raise CaptureError(f"{path}: not a pcap or pcapng file")


def _read_pcap(f: BinaryIO, magic: bytes) -> Iterator[RawPacket]:
    endian, div = PCAP_MAGICS[magic]
    rest = f.read(20)
    if len(rest) < 20:
        raise CaptureError("truncated pcap global header")
    linktype = struct.unpack(endian + "HHiIII", rest)[5] & 0x0FFFFFFF
    rec = struct.Struct(endian + "IIII")
    while True:
        h = f.read(16)
        if len(h) < 16:
            return
        sec, frac, caplen, wirelen = rec.unpack(h)
        if caplen > 16 * 1024 * 1024:
            raise CaptureError(f"implausible record length {caplen}")
        data = f.read(caplen)
        if len(data) < caplen:
            return
        yield RawPacket(sec + frac / div, linktype, data, max(wirelen, caplen))


def _read_pcapng(f: BinaryIO, first: bytes) -> Iterator[RawPacket]:
    endian = "<"
    ifaces: list[tuple[int, float, int]] = []  # (linktype, ticks per second, snaplen)
    pending = first
    while True:
        h = pending + f.read(8 - len(pending))
        pending = b""
        if len(h) < 8:
            return
        btype_le = struct.unpack("<I", h[:4])[0]
        if btype_le == PCAPNG_SHB:
            bom = f.read(4)
            endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            blen = struct.unpack(endian + "I", h[4:8])[0]
            f.read(blen - 12)
            ifaces = []
            continue
        btype, blen = struct.unpack(endian + "II", h)
        if blen < 12 or blen > 64 * 1024 * 1024:
            raise CaptureError(f"bad pcapng block length {blen}")
        body = f.read(blen - 8)
        if len(body) < blen - 8:
            return
        if btype == 1:  # Interface Description Block
            linktype, _, snaplen = struct.unpack(endian + "HHI", body[:8])
            ifaces.append((linktype, _tsresol(body[8:-4], endian), snaplen))
        elif btype in (6, 2):  # Enhanced Packet Block / obsolete Packet Block
            if btype == 6:
                iface, hi, lo, caplen, wirelen = struct.unpack(endian + "IIIII", body[:20])
            else:
                iface, _, hi, lo, caplen, wirelen = struct.unpack(endian + "HHIIII", body[:20])
            if iface >= len(ifaces):
                raise CaptureError(f"packet on undeclared interface {iface}")
            linktype, tps, _ = ifaces[iface]
            yield RawPacket(((hi << 32) | lo) / tps, linktype, body[20:20 + caplen],
                            max(wirelen, caplen))
        elif btype == 3 and ifaces:  # Simple Packet Block
            wirelen = struct.unpack(endian + "I", body[:4])[0]
            linktype, _, snaplen = ifaces[0]
            caplen = min(wirelen, snaplen or wirelen, len(body) - 8)
            yield RawPacket(0.0, linktype, body[4:4 + caplen], wirelen)


def _tsresol(opts: bytes, endian: str) -> float:
    """Ticks per second from an IDB's if_tsresol option (default microseconds)."""
    off = 0
    while off + 4 <= len(opts):
        code, ln = struct.unpack(endian + "HH", opts[off:off + 4])
        if code == 0:
            break
        if code == 9 and ln >= 1:
            v = opts[off + 4]
            return float(2 ** (v & 0x7F)) if v & 0x80 else float(10 ** v)
        off += 4 + ((ln + 3) & ~3)
    return 1e6


def ip_of_frame(linktype: int, data: bytes) -> int | None:
    """Offset of the IP header for link types we can peel; None when the frame does not
    carry IPv4/IPv6 at a place we know."""
    off = 0
    if linktype == 1:  # Ethernet, with VLAN / QinQ / PPPoE peeled
        if len(data) < 14:
            return None
        etype = struct.unpack_from(">H", data, 12)[0]
        off = 14
        while etype in (0x8100, 0x88A8, 0x9100) and len(data) >= off + 4:
            etype = struct.unpack_from(">H", data, off + 2)[0]
            off += 4
        if etype == 0x8864 and len(data) >= off + 8:  # PPPoE session, PPP protocol field
            ppp = struct.unpack_from(">H", data, off + 6)[0]
            etype = {0x0021: 0x0800, 0x0057: 0x86DD}.get(ppp, 0)
            off += 8
        if etype not in (0x0800, 0x86DD):
            return None
    elif linktype == 113:  # Linux cooked v1
        off = 16
    elif linktype == 276:  # Linux cooked v2
        off = 20
    elif linktype in (0, 108):  # BSD loopback: 4-byte address family
        off = 4
    elif linktype in (12, 14, 101, 228, 229):  # raw IP
        off = 0
    else:
        return None
    if len(data) <= off or (data[off] >> 4) not in (4, 6):
        return None
    return off


# ---------------------------------------------------------------------------------------------
# Cutting connections out of a capture and classifying them
# ---------------------------------------------------------------------------------------------

@dataclass
class FlowTemplate:
    """One real TCP connection, ready to be replayed; `kind` decides which profile uses it."""
    source: str
    family: int
    server_port: int
    kind: str
    info: dict
    # one tuple per packet, laid out for the writer's inner loop:
    # (time since the first packet in microseconds, pcap record = header + Ethernet + IP,
    #  offset of the client address, its end, offset of the client port,
    #  ~IPv4 header checksum or -1 for IPv6, offset of the TCP checksum, ~TCP checksum)
    pkts: list[tuple[int, bytes, int, int, int, int, int, int]] = field(default_factory=list)
    client_addr: bytes = b""
    client_port: int = 0

    @property
    def nbytes(self) -> int:
        return sum(len(p[1]) for p in self.pkts)


def _flow_key(fam: int, a: bytes, pa: int, b: bytes, pb: int) -> tuple:
    return (fam,) + ((a, pa, b, pb) if (a, pa) <= (b, pb) else (b, pb, a, pa))


def parse_ip_tcp(buf: bytes) -> tuple[int, bytes, bytes, int, int, int, int, int, bytes] | None:
    """(family, src, dst, sport, dport, tcp offset, seq, flags, payload) of an unfragmented
    IPv4/IPv6 TCP packet; None for anything else."""
    v = buf[0] >> 4
    if v == 4:
        if len(buf) < 20:
            return None
        ihl = (buf[0] & 15) * 4
        total = struct.unpack_from(">H", buf, 2)[0]
        frag = struct.unpack_from(">H", buf, 6)[0]
        if buf[9] != 6 or frag & 0x3FFF or ihl < 20:
            return None
        if ihl <= total <= len(buf):
            buf = buf[:total]
        src, dst, toff = buf[12:16], buf[16:20], ihl
    elif v == 6:
        if len(buf) < 40 or buf[6] != 6:  # TCP directly after the fixed header only
            return None
        plen = struct.unpack_from(">H", buf, 4)[0]
        if 0 < plen and 40 + plen <= len(buf):
            buf = buf[:40 + plen]
        src, dst, toff = buf[8:24], buf[24:40], 40
    else:
        return None
    if len(buf) < toff + 20:
        return None
    sport, dport, seq, _, offflags = struct.unpack_from(">HHIIH", buf, toff)
    doff = (offflags >> 12) * 4
    payload = buf[toff + doff:] if doff >= 20 else b""
    return v, src, dst, sport, dport, toff, seq, offflags & 0x3F, payload


def flows_of_capture(path: Path, label: str) -> list[FlowTemplate]:
    """All TCP connections of one capture, each classified."""
    groups: dict[tuple, list] = {}
    order: list[list] = []
    for pkt in read_capture(path):
        loc = ip_of_frame(pkt.linktype, pkt.data)
        if loc is None:
            continue
        ipbuf = pkt.data[loc:]
        parsed = parse_ip_tcp(ipbuf)
        if parsed is None:
            continue
        fam, src, dst, sport, dport, toff, seq, flags, payload = parsed
        iplen = toff + (len(ipbuf) - toff)
        if fam == 4:
            total = struct.unpack_from(">H", ipbuf, 2)[0]
            if toff <= total <= len(ipbuf):
                iplen = total
        else:
            plen = struct.unpack_from(">H", ipbuf, 4)[0]
            if 0 < plen and 40 + plen <= len(ipbuf):
                iplen = 40 + plen
        ip = bytes(ipbuf[:iplen])
        lost = max(0, pkt.wirelen - len(pkt.data))
        key = _flow_key(fam, src, sport, dst, dport)
        conn = groups.get(key)
        is_syn = flags & 0x12 == 0x02
        if conn is not None and is_syn and conn[1] and conn[2] != seq:
            conn = None  # port reuse: a fresh SYN after the old connection carried data
        if conn is None:
            conn = [[], False, seq if is_syn else None]
            groups[key] = conn
            order.append(conn)
        conn[0].append((pkt.ts, src, sport, ip, toff, lost, seq, flags, payload))
        if payload or flags & 0x05:
            conn[1] = True
    out = []
    for conn in order:
        tmpl = _make_template(conn[0], label)
        if tmpl is not None:
            out.append(tmpl)
    return out


def _tls_stream(segs: list[tuple[int, bytes]], isn: int | None) -> bytes:
    """In-order bytes of one direction (retransmissions dropped, stops at the first hole)."""
    if not segs:
        return b""
    base = isn if isn is not None else min(s for s, _ in segs)
    pieces, upto = [], 0
    for rel, data in sorted(((s - base) & 0xFFFFFFFF, d) for s, d in segs):
        if rel > upto:
            break
        if rel + len(data) > upto:
            pieces.append(data[upto - rel:])
            upto = rel + len(data)
    return b"".join(pieces)


def _walk_records(stream: bytes) -> list[tuple[int, int, bytes]]:
    """(content type, length, first bytes) of each TLS record; [] if the stream is not TLS."""
    recs, off = [], 0
    while off + 5 <= len(stream):
        ct, major, ln = stream[off], stream[off + 1], struct.unpack_from(">H", stream, off + 3)[0]
        if ct not in (20, 21, 22, 23, 24) or major != 3 or ln > 18432:
            break
        recs.append((ct, ln, stream[off + 5:off + 5 + min(ln, 4)]))
        off += 5 + ln
    return recs


def _make_template(pkts: list[tuple], label: str) -> FlowTemplate | None:
    """Decide who is the client, classify the connection, and pre-build its records."""
    if len(pkts) < 2:
        return None
    client = None
    for _, src, sport, _, _, _, _, flags, _ in pkts:
        if flags & 0x12 == 0x02:
            client = (src, sport)
            break
        if flags & 0x12 == 0x12:
            client = None
            other = [p for p in pkts if (p[1], p[2]) != (src, sport)]
            if other:
                client = (other[0][1], other[0][2])
            break
    if client is None:
        for _, src, sport, _, _, _, _, _, payload in pkts:
            if len(payload) > 5 and payload[0] == 22 and payload[5] == 1:
                client = (src, sport)
                break
    if client is None:  # fall back: the ephemeral-looking (higher) port is the client
        a = (pkts[0][1], pkts[0][2])
        b = next(((p[1], p[2]) for p in pkts if (p[1], p[2]) != a), None)
        if b is None:
            return None
        client = a if a[1] >= b[1] else b
    segs_c, segs_s = [], []
    isn_c = isn_s = None
    syn = rst = fin = False
    for _, src, sport, _, _, _, seq, flags, payload in pkts:
        c = (src, sport) == client
        if flags & 0x02:
            if c:
                isn_c, syn = (seq + 1) & 0xFFFFFFFF, True
            else:
                isn_s = (seq + 1) & 0xFFFFFFFF
        rst |= bool(flags & 0x04)
        fin |= bool(flags & 0x01)
        if payload:
            (segs_c if c else segs_s).append((seq, payload))
    rc = _walk_records(_tls_stream(segs_c, isn_c))
    rs = _walk_records(_tls_stream(segs_s, isn_s))
    has_ch = bool(rc) and rc[0][0] == CT_HANDSHAKE and rc[0][2][:1] == b"\x01"
    has_sh = bool(rs) and rs[0][0] == CT_HANDSHAKE and rs[0][2][:1] == b"\x02"
    alerts = [(who, r[2][0], r[2][1]) for who, recs in (("client", rc), ("server", rs))
              for r in recs if r[0] == CT_ALERT and r[1] == 2 and len(r[2]) >= 2]
    app = sum(r[1] for r in rc + rs if r[0] == CT_APPDATA)
    payload_bytes = sum(len(d) for _, d in segs_c) + sum(len(d) for _, d in segs_s)
    fatal = any(level == 2 for _, level, _ in alerts)
    first_c = segs_c[0][1][:1] if segs_c else b""
    first_s = segs_s[0][1][:1] if segs_s else b""
    if has_ch:
        if has_sh and app >= 64 * 1024 and not fatal:
            kind = "tls-bulk"
        elif fatal:
            kind = "tls-alert"          # refused with a fatal alert we can read
        elif not has_sh:
            kind = "tls-incomplete"     # no ServerHello: refused silently, timed out, cut
        elif app == 0:
            kind = "tls-reset" if rst else "tls-incomplete"

        else:
            kind = "tls-ok"
    elif syn and payload_bytes > 0 and first_c != b"\x16" and first_s != b"\x16":
        kind = "tcp-other"
    else:
        return None  # mid-stream TLS, empty or one-packet connections: not replayable as such
    info = {"packets": len(pkts), "payload_bytes": payload_bytes, "tls_app_bytes": app,
            "syn": syn, "rst": rst, "fin": fin, "client_hello": has_ch,
            "server_hello": has_sh, "plain_alerts": alerts}
    fam = 4 if len(client[0]) == 4 else 6
    server_port = next(p[2] for p in pkts if (p[1], p[2]) != client) \
        if any((p[1], p[2]) != client for p in pkts) else next(p[4] for p in pkts)
    tmpl = FlowTemplate(label, fam, server_port, kind, info,
                        client_addr=client[0], client_port=client[1])
    prev = pkts[0][0]
    rel = 0.0
    for ts, src, sport, ip, toff, lost, _, _, _ in pkts:
        rel += min(max(ts - prev, 0.0), 1.0)  # keep the spacing, cap idle gaps at 1 s
        prev = ts
        to_server = (src, sport) == client
        eth = (b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01" if to_server
               else b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02")
        eth += b"\x08\x00" if fam == 4 else b"\x86\xdd"
        caplen = 14 + len(ip)
        rec = struct.pack("<IIII", 0, 0, caplen, caplen + lost) + eth + ip
        # record offsets: 16 pcap header + 14 Ethernet = 30 to the IP header
        if fam == 4:
            a_off = 30 + (12 if to_server else 16)
            nip = 0xFFFF - struct.unpack_from(">H", ip, 10)[0]
        else:
            a_off = 30 + (8 if to_server else 24)
            nip = -1
        p_off = 30 + toff + (0 if to_server else 2)
        ntcp = 0xFFFF - struct.unpack_from(">H", ip, toff + 16)[0]
        tmpl.pkts.append((round(rel * 1e6), rec, a_off, a_off + len(client[0]), p_off,
                          nip, 30 + toff + 16, ntcp))
    return tmpl


# ---------------------------------------------------------------------------------------------
# The flow library: every connection of every source capture, cached between runs
# ---------------------------------------------------------------------------------------------

def source_files(sources: list[Path]) -> list[Path]:
    files = []
    for src in sources:
        if src.is_file():
            files.append(src)
        elif src.is_dir():
            files += sorted(p for p in src.rglob("*")
                            if p.is_file() and re.search(r"\.(pcap|pcapng|cap)$", p.name))
    return files


def load_library(sources: list[Path], cache: Path | None, log) -> tuple[list[FlowTemplate], dict]:
    """Flows from all sources; identical files (one capture kept by two projects) count once."""
    files, stamp = [], []
    for p in source_files(sources):
        try:  # lab captures may appear or vanish while we look
            st = p.stat()
        except OSError:
            continue
        files.append(p)
        stamp.append((str(p), st.st_size, st.st_mtime_ns))
    if cache is not None and cache.exists():
        try:
            with open(cache, "rb") as f:
                data = pickle.load(f)
            if data.get("version") == CACHE_VERSION and data.get("stamp") == stamp:
                return [FlowTemplate(**d) for d in data["flows"]], data["notes"]
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, KeyError, TypeError,
                ValueError):
            log(f"flow cache {cache} unusable; rescanning")
    flows: list[FlowTemplate] = []
    notes: dict = {"files": 0, "duplicates": 0, "unreadable": {}}
    seen: set[bytes] = set()
    t0 = time.time()
    for p in files:
        label = _label(p, sources)
        try:
            digest = hashlib.sha256(p.read_bytes()).digest()
        except OSError as e:
            notes["unreadable"][label] = str(e)[:200]
            continue
        if digest in seen:
            notes["duplicates"] += 1
            continue
        seen.add(digest)
        try:
            flows += flows_of_capture(p, label)
            notes["files"] += 1
        except (CaptureError, OSError, struct.error, ValueError, IndexError) as e:
            notes["unreadable"][label] = str(e)[:200]
    log(f"scanned {notes['files']} captures ({notes['duplicates']} duplicates skipped) "
        f"in {time.time() - t0:.1f}s: {len(flows)} TCP connections")
    for label, why in notes["unreadable"].items():
        log(f"skipped {label}: {why}")
    if cache is not None:  # plain dicts, so the cache does not depend on how we were started
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            with open(cache, "wb") as f:
                pickle.dump({"version": CACHE_VERSION, "stamp": stamp,
                             "flows": [vars(t) for t in flows], "notes": notes}, f,
                            protocol=pickle.HIGHEST_PROTOCOL)
        except OSError as e:
            log(f"could not write the flow cache {cache}: {e}")
    return flows, notes


def _label(p: Path, sources: list[Path]) -> str:
    for s in sources:
        if p == s:
            return f"{s.parent.name}/{s.name}"
        try:
            return f"{s.parent.name}/{s.name}/{p.relative_to(s)}"
        except ValueError:
            continue
    return str(p)


# ---------------------------------------------------------------------------------------------
# Profiles: which connections, in what proportions, how many at once
# ---------------------------------------------------------------------------------------------

@dataclass
class Profile:
    name: str
    # (kind, share of connections, max packets of a connection or 0 for any)
    mix: list[tuple[str, float, int]]
    concurrency: int
    mean_arrival_gap: float  # seconds between a connection closing and the next one opening


PROFILES = {
    "mixed": Profile("mixed", [("tls-bulk", 0.55, 0), ("tls-ok", 0.2, 0), ("tls-alert", 0.02, 0),
                               ("tls-reset", 0.01, 0), ("tls-incomplete", 0.02, 0),
                               ("tcp-other", 0.2, 0)], concurrency=64, mean_arrival_gap=0.02),
    "handshakes": Profile("handshakes", [("tls-alert", 0.3, 40), ("tls-reset", 0.15, 40),
                                         ("tls-incomplete", 0.25, 40), ("tls-ok", 0.3, 40)],
                          concurrency=400, mean_arrival_gap=0.005),
}


def pick_pools(profile: Profile,
               flows: list[FlowTemplate]) -> list[tuple[float, list[FlowTemplate]]]:
    pools = []
    for kind, share, maxpk in profile.mix:
        pool = [f for f in flows if f.kind == kind and (maxpk == 0 or len(f.pkts) <= maxpk)]
        if pool:
            pools.append((share, pool))
    if not pools:
        raise SystemExit(f"no usable connections for profile {profile.name} in the sources")
    total = sum(s for s, _ in pools)
    return [(s / total, pool) for s, pool in pools]


# ---------------------------------------------------------------------------------------------
# Writing: interleave many rewritten copies, in big chunks
# ---------------------------------------------------------------------------------------------

def _fold(s: int) -> int:
    s = (s & 0xFFFF) + (s >> 16)
    return (s & 0xFFFF) + (s >> 16)


def _word_sum(b: bytes) -> int:
    return sum(struct.unpack(f">{len(b) // 2}H", b))


def client_identity(copy: int, family: int) -> tuple[bytes, int]:
    """Copy number -> (client address, client port); distinct for every copy. Ports stay in
    the Linux ephemeral range, above every server port in the sources, so port-based
    dissector choice (tshark tries the lower port first) still lands on the server's port."""
    port = EPHEMERAL_FIRST + copy % EPHEMERAL_COUNT
    host = copy // EPHEMERAL_COUNT + 1
    if family == 4:
        return struct.pack(">BBBB", 10, (host >> 16) & 255, (host >> 8) & 255, host & 255), port
    return b"\xfd\x00" + b"\x00" * 10 + struct.pack(">I", host), port


@dataclass
class Stats:
    packets: int = 0
    connections: int = 0
    bytes: int = 0
    by_kind: dict = field(default_factory=dict)
    bytes_by_kind: dict = field(default_factory=dict)   # of whole connections as started
    by_source: dict = field(default_factory=dict)
    open_connections: int = 0


class Library:
    """The chosen templates' packets laid end to end in flat arrays, so that a window of
    packets from thousands of connection copies can be rewritten with a few numpy operations
    instead of a few Python operations per packet."""

    def __init__(self, templates: list[FlowTemplate]) -> None:
        cols = list(zip(*(p for t in templates for p in t.pkts), strict=True))
        self.raw: list[bytes] = list(cols[1])
        self.rel = np.array(cols[0], dtype=np.int64)
        self.length = np.fromiter((len(r) for r in self.raw), dtype=np.int64, count=len(self.raw))
        self.a_off = np.array(cols[2], dtype=np.int64)
        self.p_off = np.array(cols[4], dtype=np.int64)
        self.nip = np.array(cols[5], dtype=np.int64)
        self.t_off = np.array(cols[6], dtype=np.int64)
        self.ntcp = np.array(cols[7], dtype=np.int64)
        counts = [len(t.pkts) for t in templates]
        self.base = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        self.count = counts
        self.rel_lists = [[p[0] for p in t.pkts] for t in templates]


def _put_be(buf: np.ndarray, at: np.ndarray, value: np.ndarray, width: int) -> None:
    """Write `value` big-endian, `width` bytes, at every offset in `at`."""
    for b in range(width):
        buf[at + b] = (value >> (8 * (width - 1 - b))) & 0xFF


def _put_le(buf: np.ndarray, at: np.ndarray, value: np.ndarray, width: int) -> None:
    for b in range(width):
        buf[at + b] = (value >> (8 * b)) & 0xFF


def write_capture(out: Path, pools: list[tuple[float, list[FlowTemplate]]], profile: Profile,
                  target: int, seed: int, concurrency: int) -> Stats:
    """Replay connections until `target` bytes are written.

    Model: `concurrency` connections are open at once; when one sends its last packet, a new
    one opens after an exponential pause. Every packet then has a key (time, connection
    number, packet index); the file is the shortest prefix, in key order, that reaches the
    target size. Opening and closing are simulated per connection (a heap of end times);
    packets are produced a time window at a time, sorted by key and rewritten with numpy."""
    rng = random.Random(seed)
    st = Stats()
    gap_us = profile.mean_arrival_gap * 1e6
    templates = [t for _, pool in pools for t in pool]
    lib = Library(templates)
    naddr = [sum(0xFFFF - w for w in struct.unpack(f">{len(t.client_addr) // 2}H", t.client_addr))
             for t in templates]
    nport = [0xFFFF - t.client_port for t in templates]
    ident: dict[tuple[int, int], int] = {}   # (address number, family) -> its word sum
    cum, acc, first = [], 0.0, 0
    for share, pool in pools:
        acc += share
        cum.append((acc, first, len(pool)))
        first += len(pool)
    # per connection, in opening order: template, start (µs), copy number, checksum deltas
    c_tmpl: list[int] = []
    c_start: list[int] = []
    c_dip: list[int] = []
    c_dtcp: list[int] = []
    ends: list[tuple[int, int]] = []     # (time of the last packet, connection number)

    def open_conn(start: int) -> None:
        r = rng.random() * acc
        pick = cum[-1]
        for edge_pool in cum:
            if r < edge_pool[0]:
                pick = edge_pool
                break
        k = pick[1] + rng.randrange(pick[2])
        copy = len(c_tmpl)
        port = EPHEMERAL_FIRST + copy % EPHEMERAL_COUNT
        host = (copy // EPHEMERAL_COUNT, templates[k].family)
        if host not in ident:  # the address changes only every EPHEMERAL_COUNT copies
            ident.clear()
            ident[host] = _word_sum(client_identity(copy, templates[k].family)[0])
        # RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), summed over the changed 16-bit words;
        # the same delta serves both directions (the sum does not care where a word sits)
        d_ip = _fold(naddr[k] + ident[host])
        d_tcp = _fold(d_ip + nport[k] + port)
        c_tmpl.append(k)
        c_start.append(start)
        c_dip.append(d_ip)
        c_dtcp.append(d_tcp)
        heapq.heappush(ends, (start + lib.rel_lists[k][-1], copy))

    t0 = 1_700_000_000 * 1_000_000
    for i in range(concurrency):
        open_conn(t0 + int(i * gap_us))
    active: list[int] = []            # connections that may still have packets to write
    opened_upto = 0                   # connections [0, opened_upto) are in `active` or done
    seen = np.zeros(0, dtype=bool)    # which connections have a packet in the file
    written, lo, width = 24, t0, 1_000_000
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, OUT_SNAPLEN, LINKTYPE_ETHERNET))
        while written < target:
            hi = lo + width
            while ends[0][0] < hi:    # closes before the window's end open the next ones
                end, _ = heapq.heappop(ends)
                open_conn(end + int(rng.expovariate(1.0) * gap_us))
            active += range(opened_upto, len(c_tmpl))
            opened_upto = len(c_tmpl)
            # which packets of which connections fall in [lo, hi)
            sel_c, sel_first, sel_n, still = [], [], [], []
            for c in active:
                start = c_start[c]
                if start >= hi:
                    still.append(c)
                    continue
                rel = lib.rel_lists[c_tmpl[c]]
                a = bisect.bisect_left(rel, lo - start)
                b = bisect.bisect_left(rel, hi - start)
                if b > a:
                    sel_c.append(c)
                    sel_first.append(lib.base[c_tmpl[c]] + a)
                    sel_n.append(b - a)
                if b < len(rel):
                    still.append(c)
            active = still
            lo = hi
            if not sel_c:
                width *= 2
                continue
            conn = np.repeat(np.array(sel_c, dtype=np.int64), sel_n)
            n_arr = np.array(sel_n, dtype=np.int64)
            starts_in_sel = np.repeat(np.cumsum(n_arr) - n_arr, n_arr)
            idx = np.repeat(np.array(sel_first, dtype=np.int64), n_arr) \
                + np.arange(len(conn), dtype=np.int64) - starts_in_sel
            cstart = np.array(c_start, dtype=np.int64)
            ts = cstart[conn] + lib.rel[idx]
            order = np.lexsort((idx, conn, ts))
            idx, conn, ts = idx[order], conn[order], ts[order]
            length = lib.length[idx]
            total = np.cumsum(length)
            if written + int(total[-1]) >= target:   # the last window: cut at the target
                cut = int(np.searchsorted(total, target - written, side="left")) + 1
                idx, conn, ts, length, total = idx[:cut], conn[:cut], ts[:cut], length[:cut], \
                    total[:cut]
            buf = np.frombuffer(bytearray(b"".join([lib.raw[i] for i in idx.tolist()])),
                                dtype=np.uint8)
            at = total - length                      # where each record starts in buf
            _put_le(buf, at, ts // 1_000_000, 4)
            _put_le(buf, at + 4, ts % 1_000_000, 4)
            copy = conn
            port = EPHEMERAL_FIRST + copy % EPHEMERAL_COUNT
            host = copy // EPHEMERAL_COUNT + 1
            a_at = at + lib.a_off[idx]
            v4 = lib.nip[idx] >= 0
            _put_be(buf, a_at[v4], np.full(int(v4.sum()), 10 << 24) | (host[v4] & 0xFFFFFF), 4)
            v6 = ~v4
            if v6.any():
                _put_be(buf, a_at[v6], np.full(int(v6.sum()), 0xFD00), 2)
                for z in range(2, 12):
                    buf[a_at[v6] + z] = 0
                _put_be(buf, a_at[v6] + 12, host[v6], 4)
            _put_be(buf, at + lib.p_off[idx], port, 2)
            d_ip = np.array(c_dip, dtype=np.int64)[conn]
            d_tcp = np.array(c_dtcp, dtype=np.int64)[conn]
            v = lib.nip[idx][v4] + d_ip[v4]
            _put_be(buf, at[v4] + 40, 0xFFFF - ((v & 0xFFFF) + (v >> 16)), 2)
            v = lib.ntcp[idx] + d_tcp
            _put_be(buf, at + lib.t_off[idx], 0xFFFF - ((v & 0xFFFF) + (v >> 16)), 2)
            f.write(buf.data)
            written += int(total[-1])
            st.packets += len(idx)
            if len(seen) < len(c_tmpl):
                seen = np.concatenate((seen, np.zeros(len(c_tmpl) - len(seen), dtype=bool)))
            seen[conn] = True
            # aim at ~200 000 packets a window: big numpy operations, bounded memory
            width = max(1000, min(width * 4, int(width * 200_000 / max(len(idx), 1))))
    st.bytes = written
    st.open_connections = concurrency
    per_template = np.bincount(np.array(c_tmpl, dtype=np.int64)[np.flatnonzero(seen)],
                               minlength=len(templates))
    for t, n in zip(templates, per_template.tolist(), strict=True):
        if n:
            st.connections += n
            st.by_kind[t.kind] = st.by_kind.get(t.kind, 0) + n
            st.bytes_by_kind[t.kind] = st.bytes_by_kind.get(t.kind, 0) + n * t.nbytes
            st.by_source[t.source] = st.by_source.get(t.source, 0) + n
    return st


def parse_size(s: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)i?[bB]?\s*", s)
    if not m:
        raise argparse.ArgumentTypeError(f"size must look like 200M, 1G, 500K: {s!r}")
    unit = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2).lower()]
    return int(float(m.group(1)) * unit)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", choices=sorted(PROFILES), required=True)
    ap.add_argument("--size", type=parse_size, default=parse_size("200M"),
                    help="target output size, e.g. 50M, 200M, 1G (default 200M)")
    ap.add_argument("-o", "--output", type=Path,
                    help="output pcap (default bench/out/<profile>-<size>.pcap)")
    ap.add_argument("--source", type=Path, action="append",
                    help="capture file or folder to take connections from (repeatable); "
                         "default: /work/shared/captures and captures/ of this checkout")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--concurrency", type=int, help="connections open at once")
    ap.add_argument("--no-cache", action="store_true", help="rescan the sources")
    ap.add_argument("--list", action="store_true", help="list usable connections and exit")
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(f"[make_capture] {msg}", file=sys.stderr, flush=True)

    sources = args.source or DEFAULT_SOURCES
    for s in args.source or []:
        if not s.exists():
            log(f"warning: source {s} does not exist")
    cache = None if args.no_cache else HERE / "out" / ".flow-library.pickle"
    flows, notes = load_library([s.resolve() for s in sources], cache, log)
    profile = PROFILES[args.profile]
    pools = pick_pools(profile, flows)
    if args.list:
        for share, pool in pools:
            for t in pool:
                print(f"{t.kind}\t{share:.2f}\t{len(t.pkts)}\t{t.nbytes}\t{t.source}\t"
                      f"port {t.server_port}\t{t.info['plain_alerts']}")
        return 0
    out = args.output or HERE / "out" / f"{args.profile}-{_human(args.size)}.pcap"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SystemExit(f"cannot create {out.parent}: {e}") from None
    kinds = {}
    for share, pool in pools:
        kinds[pool[0].kind] = {"share_of_connections": round(share, 3), "distinct_flows": len(pool),
                               "sources": len({t.source for t in pool})}
    log(f"profile {args.profile}: " + ", ".join(f"{k} {v['distinct_flows']} flows"
                                                for k, v in kinds.items()))
    if args.concurrency is not None and args.concurrency < 1:
        ap.error("--concurrency must be at least 1")
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        st = write_capture(out, pools, profile, args.size, args.seed,
                           args.concurrency or profile.concurrency)
    except OSError as e:
        raise SystemExit(f"cannot write {out}: {e}") from None
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    meta = {"file": str(out), "profile": args.profile, "target_bytes": args.size,
            "bytes": st.bytes, "packets": st.packets, "connections": st.connections,
            "open_connections": st.open_connections, "seed": args.seed,
            "generation_seconds": round(dt, 2),
            "generation_MB_per_s": round(st.bytes / dt / 1e6, 1) if dt else None,
            "generation_cpu_seconds": round(cpu, 2),
            "link_type": "EN10MB", "timestamps": "microsecond, monotonic",
            "checksums": "IPv4 header and TCP checksums updated incrementally (RFC 1624): "
                         "as valid as in the source capture",
            "kinds": kinds, "connections_by_kind": st.by_kind,
            "byte_share_by_kind": {k: round(v / max(1, sum(st.bytes_by_kind.values())), 3)
                                   for k, v in st.bytes_by_kind.items()},
            "top_sources": dict(sorted(st.by_source.items(), key=lambda kv: -kv[1])[:25]),
            "library": {"captures": notes["files"], "duplicate_files": notes["duplicates"],
                        "unreadable": notes["unreadable"]}}
    try:
        with open(str(out) + ".json", "w") as f:
            json.dump(meta, f, indent=2)
    except OSError as e:
        raise SystemExit(f"cannot write {out}.json: {e}") from None
    log(f"wrote {out}: {st.bytes / 1e6:.1f} MB, {st.packets} packets, {st.connections} "
        f"connections in {dt:.1f}s ({meta['generation_MB_per_s']} MB/s; {cpu:.1f}s CPU)")
    return 0


def _human(n: int) -> str:
    for unit, div in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= div and n % div == 0:
            return f"{n // div}{unit}"
    return str(n)


if __name__ == "__main__":
    sys.exit(main())
