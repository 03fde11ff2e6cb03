"""Mutation fuzzing of whole captures: seeded mutants of real pcap/pcapng files, and a checker
that runs the full pipeline on one mutant in a watched worker process.

Why our own walker: to damage length fields on purpose we need to know where they are, at every
layer (capture record, IP, TCP, TLS record, handshake message, extension, certificate). The
walk below is written from the formats' specifications (pcap draft-ietf-opsawg-pcap, pcapng
draft-ietf-opsawg-pcapng, RFC 791/8200/9293, RFC 8446/5246) with ``struct``, independently of
tlsdissect's readers, so that its frame numbering can also check theirs.

Used by ``bench/fuzz.py`` (the long run) and ``tests/test_mutation_fuzz.py`` (a small CI run).

    rng = random.Random(seed)
    m = mutate(data, rng, kind="length", other=other_capture_bytes)
    outcome = Checker().check(m, original=path)   # a worker process, CPU and memory caps
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import pickle
import random
import resource
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# --------------------------------------------------------------------------------------------
# The capture's layout: where each record is, which frame it is, where its length fields are.
# --------------------------------------------------------------------------------------------

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",  # microseconds
    b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">",  # nanoseconds
}
PCAPNG_SHB = 0x0A0D0D0A
PCAPNG_BOM = 0x1A2B3C4D
BT_IDB, BT_PB, BT_SPB, BT_EPB = 1, 2, 3, 6
# Blocks Wireshark numbers as frames although they carry no packet (custom blocks, systemd
# journal export, sysdig events): pcapng draft block type registry, wiretap/pcapng_module.h.
NUMBERED_NON_PACKETS = frozenset((0x00000BAD, 0x40000BAD, 0x00000009,
                                  0x204, 0x208, 0x216, 0x217, 0x221, 0x222))


@dataclass(frozen=True)
class Field:
    """One length (or length-like) field in the file: ``size`` bytes, or a nibble ("hi4"/"lo4")."""

    kind: str  # e.g. "pcap.caplen", "tls.record_length"
    offset: int
    size: Any  # 1, 2, 3, 4, "hi4" or "lo4"
    order: str = ">"  # byte order of multi-byte fields

    @property
    def max_value(self) -> int:
        return 15 if isinstance(self.size, str) else (1 << (8 * self.size)) - 1

    def read(self, data: bytes | bytearray) -> int:
        if self.size == "hi4":
            return data[self.offset] >> 4
        if self.size == "lo4":
            return data[self.offset] & 0x0F
        raw = data[self.offset:self.offset + self.size]
        return int.from_bytes(raw, "big" if self.order == ">" else "little")

    def write(self, buf: bytearray, value: int) -> None:
        value &= self.max_value
        if self.size == "hi4":
            buf[self.offset] = (buf[self.offset] & 0x0F) | (value << 4)
        elif self.size == "lo4":
            buf[self.offset] = (buf[self.offset] & 0xF0) | value
        else:
            buf[self.offset:self.offset + self.size] = value.to_bytes(
                self.size, "big" if self.order == ">" else "little")


@dataclass
class Record:
    """One pcap record or pcapng block, by file offsets."""

    start: int
    end: int
    packet: bool  # a packet record (pcap record, EPB, SPB, PB): these are moved, dropped, duplicated
    frame: int | None = None  # Wireshark frame number, for packets and numbered non-packets
    linktype: int = -1
    data_start: int = 0  # the packet bytes, when packet
    data_len: int = 0


@dataclass
class Layout:
    """A capture cut into its records; ``records[0]`` is the pcap file header or first SHB."""

    format: str  # "pcap" | "pcapng"
    order: str  # byte order of the (first) header
    records: list[Record]
    tail: int  # offset where the walk stopped (== len(data) for a clean file)

    @property
    def packets(self) -> list[Record]:
        return [r for r in self.records if r.packet]

    def frame_ends(self) -> dict[int, int]:
        """Frame number -> offset just past its record (the smallest cut that keeps the frame)."""
        return {r.frame: r.end for r in self.records if r.frame is not None}


def unwrap(data: bytes) -> bytes:
    """A gzip-compressed capture is mutated as the capture inside it."""
    if data[:2] == b"\x1f\x8b":
        with contextlib.suppress(OSError, EOFError):
            return gzip.decompress(data)
    return data


def layout(data: bytes) -> Layout:
    """Walk a pcap or pcapng file record by record; stops quietly at the first damage."""
    magic = data[:4]
    if magic in PCAP_MAGICS:
        return _pcap_layout(data, PCAP_MAGICS[magic])
    if len(data) >= 12 and struct.unpack_from("<I", data, 0)[0] == PCAPNG_SHB:
        return _pcapng_layout(data)
    raise ValueError("not a pcap or pcapng file")


def _pcap_layout(data: bytes, order: str) -> Layout:
    if len(data) < 24:
        return Layout("pcap", order, [], 0)
    linktype = struct.unpack_from(order + "I", data, 20)[0] & 0x0FFFFFFF
    records = [Record(0, 24, False)]
    pos, frame = 24, 0
    while pos + 16 <= len(data):
        caplen = struct.unpack_from(order + "I", data, pos + 8)[0]
        end = pos + 16 + caplen
        if end > len(data):
            break
        frame += 1
        records.append(Record(pos, end, True, frame, linktype, pos + 16, caplen))
        pos = end
    return Layout("pcap", order, records, pos)


def _pcapng_layout(data: bytes) -> Layout:
    records: list[Record] = []
    pos, frame = 0, 0
    order = "<"
    first_order = ""
    linktypes: list[int] = []
    while pos + 12 <= len(data):
        btype = struct.unpack_from(order + "I", data, pos)[0]
        if btype == PCAPNG_SHB:
            bom = data[pos + 8:pos + 12]
            if bom == struct.pack("<I", PCAPNG_BOM):
                order = "<"
            elif bom == struct.pack(">I", PCAPNG_BOM):
                order = ">"
            else:
                break
            first_order = first_order or order
            linktypes = []
        blen = struct.unpack_from(order + "I", data, pos + 4)[0]
        if blen < 12 or blen % 4 or pos + blen > len(data):
            break
        rec = Record(pos, pos + blen, False)
        if btype == BT_IDB and blen >= 20:
            linktypes.append(struct.unpack_from(order + "H", data, pos + 8)[0])
        elif btype in (BT_EPB, BT_PB) and blen >= 32:
            iface = struct.unpack_from(order + ("I" if btype == BT_EPB else "H"), data, pos + 8)[0]
            caplen = struct.unpack_from(order + "I", data, pos + 20)[0]
            frame += 1
            rec = Record(pos, pos + blen, True, frame, linktypes[iface] if iface < len(linktypes) else -1,
                         pos + 28, min(caplen, blen - 32))
        elif btype == BT_SPB and blen >= 16:
            origlen = struct.unpack_from(order + "I", data, pos + 8)[0]
            frame += 1
            rec = Record(pos, pos + blen, True, frame, linktypes[0] if linktypes else -1,
                         pos + 12, min(origlen, blen - 16))
        elif btype in NUMBERED_NON_PACKETS:
            frame += 1
            rec.frame = frame
        records.append(rec)
        pos += blen
    return Layout("pcapng", first_order or "<", records, pos)


def length_fields(data: bytes, lay: Layout | None = None) -> list[Field]:
    """Every length field we can find: capture records, then inside each packet down to TLS."""
    lay = lay or layout(data)
    out: list[Field] = []
    order = lay.order
    for rec in lay.records:
        if lay.format == "pcap":
            if rec.packet:
                out.append(Field("pcap.caplen", rec.start + 8, 4, order))
                out.append(Field("pcap.origlen", rec.start + 12, 4, order))
        else:
            if struct.unpack_from("<I", data, rec.start)[0] == PCAPNG_SHB:  # the same in both orders
                order = "<" if data[rec.start + 8:rec.start + 12] == struct.pack("<I", PCAPNG_BOM) else ">"
            out.append(Field("pcapng.block_length", rec.start + 4, 4, order))
            out.append(Field("pcapng.block_length_trailer", rec.end - 4, 4, order))
            if rec.packet and rec.data_start == rec.start + 28:
                out.append(Field("pcapng.caplen", rec.start + 20, 4, order))
        if rec.packet:
            out.extend(packet_fields(data, rec.data_start, rec.data_start + rec.data_len, rec.linktype))
    return out


def time_fields(data: bytes, lay: Layout | None = None) -> list[Field]:
    """Timestamps and what scales them: pcap seconds and fraction; pcapng EPB/PB high and low
    words, and the interface's if_tsresol (option 9) and if_tsoffset (option 14)."""
    lay = lay or layout(data)
    out: list[Field] = []
    order = lay.order
    for rec in lay.records:
        if lay.format == "pcap":
            if rec.packet:
                out.append(Field("time.pcap_seconds", rec.start, 4, order))
                out.append(Field("time.pcap_fraction", rec.start + 4, 4, order))
            continue
        btype = struct.unpack_from("<I", data, rec.start)[0]
        if btype == PCAPNG_SHB:
            order = "<" if data[rec.start + 8:rec.start + 12] == struct.pack("<I", PCAPNG_BOM) else ">"
            continue
        btype = struct.unpack_from(order + "I", data, rec.start)[0]
        if rec.packet and btype in (BT_EPB, BT_PB):
            out.append(Field("time.pcapng_high", rec.start + 12, 4, order))
            out.append(Field("time.pcapng_low", rec.start + 16, 4, order))
        elif btype == BT_IDB:
            p, end = rec.start + 16, rec.end - 4
            while p + 4 <= end:
                code, olen = struct.unpack_from(order + "HH", data, p)
                if code == 0 or p + 4 + olen > end:
                    break
                if code == 9 and olen == 1:
                    out.append(Field("time.if_tsresol", p + 4, 1))
                elif code == 14 and olen == 8:
                    out.append(Field("time.if_tsoffset", p + 4, 8, order))
                p += 4 + olen + (-olen % 4)
    return out


def _ip_offset(data: bytes, pos: int, end: int, linktype: int) -> int | None:
    """Offset of the IP header inside a packet of this link type (None: not IP, or unknown)."""
    if linktype == 1:  # Ethernet II, with VLAN / QinQ tags and PPPoE session
        p = pos + 12
        while p + 2 <= end:
            etype = struct.unpack_from(">H", data, p)[0]
            if etype in (0x8100, 0x88A8, 0x9100):
                p += 4
                continue
            if etype == 0x8864 and p + 10 <= end:  # PPPoE session header + PPP protocol
                proto = struct.unpack_from(">H", data, p + 8)[0]
                return p + 10 if proto in (0x0021, 0x0057) else None
            return p + 2 if etype in (0x0800, 0x86DD) else None
        return None
    if linktype == 113:
        return pos + 16
    if linktype == 276:
        return pos + 20
    if linktype in (0, 108):
        return pos + 4
    if linktype in (101, 12, 14, 228, 229):
        return pos
    return None


def packet_fields(data: bytes, pos: int, end: int, linktype: int) -> list[Field]:
    """Length fields of one packet: IP, TCP, then the TLS records its payload begins with."""
    out: list[Field] = []
    ip = _ip_offset(data, pos, end, linktype)
    if ip is None or ip + 20 > end:
        return out
    version = data[ip] >> 4
    if version == 4:
        ihl = (data[ip] & 0x0F) * 4
        out.append(Field("ip.ihl", ip, "lo4"))
        out.append(Field("ip.total_length", ip + 2, 2))
        out.append(Field("ip.fragment_offset", ip + 6, 2))
        if data[ip + 9] != 6 or ihl < 20 or struct.unpack_from(">H", data, ip + 6)[0] & 0x1FFF:
            return out
        ip_end = min(end, ip + struct.unpack_from(">H", data, ip + 2)[0])
        tcp = ip + ihl
    elif version == 6 and ip + 40 <= end:
        out.append(Field("ipv6.payload_length", ip + 4, 2))
        if data[ip + 6] != 6:
            return out
        ip_end = min(end, ip + 40 + struct.unpack_from(">H", data, ip + 4)[0])
        tcp = ip + 40
    else:
        return out
    if tcp + 20 > end:
        return out
    out.append(Field("tcp.data_offset", tcp + 12, "hi4"))
    # Sequence numbers are no lengths, but a jump in them is how reassembly meets a huge gap.
    out.append(Field("tcp.seq", tcp + 4, 4))
    out.append(Field("tcp.ack", tcp + 8, 4))
    payload = tcp + (data[tcp + 12] >> 4) * 4
    out.extend(tls_fields(data, payload, max(payload, ip_end)))
    return out


def tls_fields(data: bytes, pos: int, end: int) -> list[Field]:
    """TLS record headers from ``pos`` on, and the handshake messages inside them."""
    out: list[Field] = []
    while pos + 5 <= end:
        ctype, major = data[pos], data[pos + 1]
        if ctype not in (20, 21, 22, 23, 24) or major != 3:
            break
        length = struct.unpack_from(">H", data, pos + 3)[0]
        out.append(Field("tls.record_length", pos + 3, 2))
        body = pos + 5
        if ctype == 22:
            out.extend(_handshake_fields(data, body, min(end, body + length)))
        pos = body + length
    return out


def _handshake_fields(data: bytes, pos: int, end: int) -> list[Field]:
    out: list[Field] = []
    while pos + 4 <= end:
        mtype = data[pos]
        length = int.from_bytes(data[pos + 1:pos + 4], "big")
        out.append(Field("tls.handshake_length", pos + 1, 3))
        body, body_end = pos + 4, min(end, pos + 4 + length)
        try:
            if mtype in (1, 2):
                out.extend(_hello_fields(data, body, body_end, client=mtype == 1))
            elif mtype == 11:
                out.extend(_certificate_fields(data, body, body_end))
        except (IndexError, struct.error):
            pass
        pos = body + length
    return out


def _hello_fields(data: bytes, p: int, end: int, client: bool) -> list[Field]:
    """ClientHello / ServerHello (RFC 8446 4.1.2-4.1.3): session id, suites, extensions."""
    out: list[Field] = []
    p += 2 + 32
    if p + 1 > end:
        return out
    out.append(Field("tls.session_id_length", p, 1))
    p += 1 + data[p]
    if client:
        if p + 2 > end:
            return out
        out.append(Field("tls.cipher_suites_length", p, 2))
        p += 2 + struct.unpack_from(">H", data, p)[0]
        if p + 1 > end:
            return out
        out.append(Field("tls.compression_methods_length", p, 1))
        p += 1 + data[p]
    else:
        p += 3
    if p + 2 > end:
        return out
    out.append(Field("tls.extensions_length", p, 2))
    p += 2
    while p + 4 <= end:
        etype, elen = struct.unpack_from(">HH", data, p)
        out.append(Field("tls.extension_length", p + 2, 2))
        body = p + 4
        if etype == 0 and body + 5 <= end:  # server_name: list length, type, name length
            out.append(Field("tls.sni_list_length", body, 2))
            out.append(Field("tls.sni_name_length", body + 3, 2))
        elif etype == 16 and body + 3 <= end:  # ALPN: list length, first protocol's length
            out.append(Field("tls.alpn_list_length", body, 2))
            out.append(Field("tls.alpn_name_length", body + 2, 1))
        elif etype == 51 and client and body + 6 <= end:  # key_share: list, first entry's key length
            out.append(Field("tls.key_share_list_length", body, 2))
            out.append(Field("tls.key_share_length", body + 4, 2))
        elif etype == 43 and client and body + 1 <= end:
            out.append(Field("tls.supported_versions_length", body, 1))
        p = body + elen
    return out


def _certificate_fields(data: bytes, p: int, end: int) -> list[Field]:
    """Certificate: TLS 1.2 is a 3-byte list of 3-byte entries (RFC 5246 7.4.2); TLS 1.3 adds a
    context before the list and 2-byte extensions after each entry (RFC 8446 4.4.2). Whichever
    layout adds up is the one walked."""
    out: list[Field] = []
    if p + 3 > end:
        return out
    total = int.from_bytes(data[p:p + 3], "big")
    if total + 3 != end - p and p + 4 <= end and data[p] < 0x20:  # try TLS 1.3: context first
        ctx = data[p]
        q = p + 1 + ctx
        if q + 3 <= end and int.from_bytes(data[q:q + 3], "big") + 3 + 1 + ctx == end - p:
            out.append(Field("tls.certificate_context_length", p, 1))
            out.append(Field("tls.certificates_length", q, 3))
            q += 3
            while q + 3 <= end:
                clen = int.from_bytes(data[q:q + 3], "big")
                out.append(Field("tls.certificate_length", q, 3))
                q += 3 + clen
                if q + 2 > end:
                    break
                out.append(Field("tls.certificate_extensions_length", q, 2))
                q += 2 + struct.unpack_from(">H", data, q)[0]
            return out
    out.append(Field("tls.certificates_length", p, 3))
    q = p + 3
    while q + 3 <= end:
        out.append(Field("tls.certificate_length", q, 3))
        q += 3 + int.from_bytes(data[q:q + 3], "big")
    return out


# --------------------------------------------------------------------------------------------
# Mutations
# --------------------------------------------------------------------------------------------

KINDS = ("truncate", "bitflip", "length", "timestamp", "duplicate", "reorder", "drop", "splice", "garbage", "gzip",
         "stacked")


@dataclass
class Mutant:
    """One damaged capture and how it was made (enough to explain it in a failure report)."""

    kind: str
    detail: str
    data: bytes
    cut: int | None = None  # for "truncate": the original cut at this offset
    # Bytes at the start identical to the original, when damage after them cannot add frames to
    # earlier connections (truncate, bitflip, length, garbage, drop, reorder): every connection
    # whose last frame ends within them must come out as it did from the original.
    intact: int | None = None


# Kinds whose damage only touches frames after the first changed byte (duplicate copies earlier
# packets later on, splice may bring packets of the same 4-tuple: both can extend an earlier
# connection legitimately).
PREFIX_KINDS = frozenset(("truncate", "bitflip", "length", "timestamp", "garbage", "drop", "reorder"))


def common_prefix(a: bytes, b: bytes) -> int:
    """Length of the longest common prefix of ``a`` and ``b``."""
    n = min(len(a), len(b))
    step, i = 65536, 0
    while i < n and a[i:i + step] == b[i:i + step]:
        i += step
    i = min(i, n)
    end = min(n, i + step)
    while i < end and a[i] == b[i]:
        i += 1
    return i


def mutate(data: bytes, rng: random.Random, kind: str | None = None,
           other: bytes | None = None) -> Mutant:
    """One mutant of ``data`` (a whole capture), chosen by ``rng`` only: the same seed gives
    the same mutant. ``other`` is a second capture for "splice" (``data`` itself if None)."""
    data = unwrap(data)
    kind = kind or rng.choice(KINDS)
    if kind == "stacked":  # two to four mutations on top of each other
        cur, steps, kinds = data, [], []
        for _ in range(rng.randint(2, 4)):
            k = rng.choice([k for k in KINDS if k not in ("stacked", "gzip", "truncate")])
            try:
                step = _mutate(cur, rng, k, other)
            except ValueError:  # an earlier step left no capture header to walk
                break
            cur = step.data
            steps.append(f"{k}: {step.detail}")
            kinds.append(k)
        m = Mutant("stacked", " | ".join(steps), cur)
        if all(k in PREFIX_KINDS for k in kinds):
            m.intact = common_prefix(data, cur)
        return m
    m = _mutate(data, rng, kind, other)
    if m.kind in PREFIX_KINDS:
        m.intact = common_prefix(data, m.data)
    return m


def _mutate(data: bytes, rng: random.Random, kind: str, other: bytes | None) -> Mutant:
    lay = layout(data)
    if kind == "truncate":
        return _truncate(data, lay, rng)
    if kind == "bitflip":
        return _bitflip(data, lay, rng)
    if kind == "length":
        return _length(data, lay, rng)
    if kind == "timestamp":
        return _timestamp(data, lay, rng)
    if kind == "splice":
        return _splice(data, lay, unwrap(other) if other is not None else data, rng)
    if kind == "garbage":
        return _garbage(data, lay, rng)
    if kind in ("duplicate", "reorder", "drop"):
        return _reshuffle(data, lay, rng, kind)
    if kind == "gzip":
        return _gzip(data, lay, rng)
    raise ValueError(f"unknown mutation kind {kind!r}")


def _truncate(data: bytes, lay: Layout, rng: random.Random) -> Mutant:
    """Cut anywhere, or close to a record boundary (where off-by-one mistakes live)."""
    if rng.random() < 0.5 or len(lay.records) < 2:
        cut = rng.randrange(0, len(data) + 1)
        how = "anywhere"
    else:
        rec = rng.choice(lay.records[1:])
        cut = max(0, min(len(data), rng.choice((rec.start, rec.end)) + rng.randint(-20, 20)))
        how = "near a record boundary"
    return Mutant("truncate", f"cut at {cut} of {len(data)} ({how})", data[:cut], cut=cut)


def _bitflip(data: bytes, lay: Layout, rng: random.Random) -> Mutant:
    """Flip a few bits: anywhere, in the first bytes of a packet (link/IP/TCP headers), or
    next to a length field (TLS and handshake headers)."""
    buf = bytearray(data)
    if not buf:
        return Mutant("bitflip", "empty input", b"")
    fields = length_fields(data, lay) if rng.random() < 0.4 else []
    packets = lay.packets
    where: list[int] = []
    for _ in range(rng.randint(1, 8)):
        r = rng.random()
        if fields and r < 0.5:
            f = rng.choice(fields)
            pos = f.offset + rng.randint(-3, 3)
        elif packets and r < 0.8:
            rec = rng.choice(packets)
            pos = rng.randrange(rec.start, min(rec.end, rec.data_start + 80))
        else:
            pos = rng.randrange(len(buf))
        pos = max(0, min(len(buf) - 1, pos))
        buf[pos] ^= 1 << rng.randrange(8)
        where.append(pos)
    return Mutant("bitflip", "bits flipped at " + ",".join(map(str, sorted(where))), bytes(buf))


def _length_value(f: Field, old: int, rng: random.Random) -> int:
    top = f.max_value
    choices = [0, 1, rng.randint(2, 16), old - 1, old + 1, top, rng.randint(0, top)]
    if not isinstance(f.size, str):
        choices += [min(top, 0xFFFF), min(top, 0xFFFFFF), old * 2, top - rng.randint(0, 3)]
    if f.kind in ("tcp.seq", "tcp.ack"):  # modular: half the space away, a gap ahead, an overlap behind
        return rng.choice((old + (1 << 31), old + rng.randint(1, 1 << 20), old - rng.randint(1, 4096),
                           rng.randrange(1 << 32))) & top
    return max(0, min(top, rng.choice(choices)))


def _length(data: bytes, lay: Layout, rng: random.Random) -> Mutant:
    """Overwrite one to three length fields with 0, small, off-by-one or huge values."""
    fields = length_fields(data, lay)
    if not fields:
        return _bitflip(data, lay, rng)
    buf = bytearray(data)
    notes = []
    # A kind first, then a field of it: IP and TCP headers outnumber handshake fields 50 to 1.
    by_kind: dict[str, list[Field]] = {}
    for f in fields:
        by_kind.setdefault(f.kind, []).append(f)
    kinds = sorted(by_kind)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        f = rng.choice(by_kind[rng.choice(kinds)])
        old = f.read(buf)
        new = _length_value(f, old, rng)
        f.write(buf, new)
        notes.append(f"{f.kind}@{f.offset}: {old}->{new}")
    return Mutant("length", "; ".join(notes), bytes(buf))


def _time_value(f: Field, old: int, rng: random.Random) -> int:
    top = f.max_value
    if f.kind == "time.if_tsresol":  # 10^-n, or 2^-n with the top bit: extremes of both
        return rng.choice((0, 1, 6, 9, 19, 0x7F, 0x80, 0x8A, 0x9E, 0xBF, 0xFF, rng.randrange(256)))
    if f.kind == "time.pcap_fraction":  # a fraction of a second, or not
        return rng.choice((0, 999_999, 1_000_000, 999_999_999, 1_000_000_000, top, rng.randrange(top + 1)))
    return rng.choice((0, 1, top, top >> 1, (top >> 1) + 1, old - 1, old - rng.randint(1, 86_400),
                       old + rng.randint(1, 1 << 20), rng.randrange(top + 1))) & top


def _timestamp(data: bytes, lay: Layout, rng: random.Random) -> Mutant:
    """Rewrite one to three timestamps (or an interface's resolution/offset): time running
    backwards, jumping ahead, zero, or beyond what a date can hold."""
    fields = time_fields(data, lay)
    if not fields:
        return _bitflip(data, lay, rng)
    by_kind: dict[str, list[Field]] = {}
    for f in fields:
        by_kind.setdefault(f.kind, []).append(f)
    buf = bytearray(data)
    notes = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        f = rng.choice(by_kind[rng.choice(sorted(by_kind))])
        old = f.read(buf)
        new = _time_value(f, old, rng)
        f.write(buf, new)
        notes.append(f"{f.kind}@{f.offset}: {old}->{new}")
    return Mutant("timestamp", "; ".join(notes), bytes(buf))


def _pieces(data: bytes, lay: Layout) -> tuple[bytes, list[bytes], list[bool], bytes]:
    head = data[:lay.records[0].end] if lay.records else data[:lay.tail]
    body = lay.records[1:]
    return head, [data[r.start:r.end] for r in body], [r.packet for r in body], data[lay.tail:]


def _reshuffle(data: bytes, lay: Layout, rng: random.Random, kind: str) -> Mutant:
    """Duplicate, reorder (within a small window) or drop packet records; other pcapng blocks
    (interfaces, secrets, statistics) stay where they are."""
    head, pieces, is_packet, tail = _pieces(data, lay)
    slots = [i for i, p in enumerate(is_packet) if p]
    if not slots:
        return _bitflip(data, lay, rng)
    if kind == "duplicate":
        picks = sorted(rng.sample(slots, min(len(slots), rng.randint(1, 4))), reverse=True)
        for i in picks:
            copies = rng.choice((1, 1, 2, 5))
            if rng.random() < 0.5:  # right after itself: a retransmission as a tap sees it
                pieces[i:i + 1] = [pieces[i]] * (copies + 1)
            else:  # somewhere later: a stale copy
                j = rng.randint(i, len(pieces))
                pieces[j:j] = [pieces[i]] * copies
        detail = f"records {sorted(s + 1 for s in picks)} duplicated"
    elif kind == "reorder":
        window = rng.randint(2, 8)
        start = rng.randrange(len(slots))
        chosen = slots[start:start + window]
        moved = [pieces[i] for i in chosen]
        rng.shuffle(moved)
        for i, p in zip(chosen, moved):
            pieces[i] = p
        detail = f"records {chosen[0] + 1}..{chosen[-1] + 1} shuffled"
    else:
        n = rng.choice((1, 1, 2, max(1, len(slots) // 10)))
        drop = set(rng.sample(slots, min(n, len(slots))))
        pieces = [p for i, p in enumerate(pieces) if i not in drop]
        detail = f"records {sorted(d + 1 for d in drop)[:10]} dropped"
    return Mutant(kind, detail, head + b"".join(pieces) + tail)


def _as_record(lay: Layout, packet: bytes, ts_from: bytes | None) -> bytes:
    """A packet's bytes wrapped in this capture's record format (timestamp of a neighbour)."""
    o = lay.order
    if lay.format == "pcap":
        ts = ts_from[:8] if ts_from and len(ts_from) >= 16 else b"\0" * 8
        return ts + struct.pack(o + "II", len(packet), len(packet)) + packet
    pad = (-len(packet)) % 4
    ts = ts_from[12:20] if ts_from and len(ts_from) >= 28 and struct.unpack_from(o + "I", ts_from)[0] == BT_EPB \
        else b"\0" * 8
    blen = 32 + len(packet) + pad
    return (struct.pack(o + "III", BT_EPB, blen, 0) + ts + struct.pack(o + "II", len(packet), len(packet))
            + packet + b"\0" * pad + struct.pack(o + "I", blen))


def _splice(data: bytes, lay: Layout, other: bytes, rng: random.Random) -> Mutant:
    """Mix two captures: the other's packets re-wrapped in this file's record format, either
    interleaved at random or replacing this file's tail; or a raw byte splice of the two."""
    try:
        olay = layout(other)
    except ValueError:
        olay = None
    if olay is None or not olay.packets or rng.random() < 0.2:
        a = rng.randrange(len(data) + 1)
        b = rng.randrange(len(other) + 1)
        return Mutant("splice", f"raw: first {a} bytes + other from byte {b}", data[:a] + other[b:])
    head, pieces, _, tail = _pieces(data, lay)
    foreign = [other[r.data_start:r.data_start + r.data_len] for r in olay.packets]
    if rng.random() < 0.5 and pieces:
        k = rng.randint(0, len(pieces))
        start = rng.randrange(len(foreign))
        ref = pieces[k - 1] if k else (pieces[0] if pieces else None)
        extra = [_as_record(lay, p, ref) for p in foreign[start:start + rng.randint(1, 200)]]
        out = pieces[:k] + extra
        detail = f"records after {k} replaced by {len(extra)} packets of the other capture"
    else:
        out = list(pieces)
        n = rng.randint(1, 20)
        for _ in range(n):
            k = rng.randint(0, len(out))
            ref = out[k - 1] if k else (out[0] if out else None)
            out.insert(k, _as_record(lay, rng.choice(foreign), ref))
        tail = tail if rng.random() < 0.5 else b""
        detail = f"{n} packets of the other capture interleaved"
    return Mutant("splice", detail, head + b"".join(out) + tail)


def _gzip(data: bytes, lay: Layout, rng: random.Random) -> Mutant:
    """The capture gzip-compressed (readers take .gz), then the compressed stream cut short,
    bit-flipped, or followed by junk: damage the decompressor meets before the capture reader."""
    z = bytearray(gzip.compress(data, compresslevel=1, mtime=0))
    how = rng.choice(("cut", "flip", "junk", "concatenated"))
    if how == "cut":
        n = rng.randrange(len(z) + 1)
        return Mutant("gzip", f"gzip stream of {len(z)} bytes cut at {n}", bytes(z[:n]))
    if how == "flip":
        where = sorted(rng.randrange(len(z)) for _ in range(rng.randint(1, 4)))
        for pos in where:
            z[pos] ^= 1 << rng.randrange(8)
        return Mutant("gzip", f"gzip stream bits flipped at {','.join(map(str, where))}", bytes(z))
    if how == "junk":
        junk = rng.randbytes(rng.randint(1, 64))
        return Mutant("gzip", f"{len(junk)} random bytes after the gzip stream", bytes(z) + junk)
    cut = rng.randrange(len(data) + 1)  # two members: the file's start, then its rest
    return Mutant("gzip", f"two gzip members split at byte {cut}",
                  gzip.compress(data[:cut], mtime=0) + gzip.compress(data[cut:], mtime=0))


def _garbage(data: bytes, lay: Layout, rng: random.Random) -> Mutant:
    """Insert bytes between records: random, zeros, 0xff, or a copy of a record's header."""
    head, pieces, _, tail = _pieces(data, lay)
    notes = []
    for _ in range(rng.randint(1, 3)):
        k = rng.randint(0, len(pieces))
        n = rng.choice((1, 3, 4, 8, 16, 17, rng.randint(1, 64), rng.randint(64, 4096)))
        style = rng.choice(("random", "zeros", "ff", "header"))
        if style == "random":
            junk = rng.randbytes(n)
        elif style == "zeros":
            junk = b"\0" * n
        elif style == "ff":
            junk = b"\xff" * n
        else:
            src = rng.choice(pieces) if pieces else head
            junk = src[:rng.randint(1, min(len(src), 40))] if src else b"\0"
        pieces.insert(k, junk)
        notes.append(f"{len(junk)} {style} bytes before record {k + 1}")
    return Mutant("garbage", "; ".join(notes), head + b"".join(pieces) + tail)


# --------------------------------------------------------------------------------------------
# Checking one mutant: the full pipeline in a worker process with CPU, wall and memory caps
# --------------------------------------------------------------------------------------------

CPU_LIMIT_S = 10.0  # CPU seconds per mutant (captures here are < 3 MB)
WALL_LIMIT_S = 60.0  # a worker silent this long is killed (blocked, or stuck in C code)
MEMORY_CAP_MB = 300.0  # peak RSS of the worker process after a mutant
ADDRESS_SPACE_MB = 3072  # hard limit, so a runaway allocation fails fast instead of swapping


@dataclass
class Outcome:
    """What running the pipeline on one mutant did."""

    status: str  # "ok" | "error" (TlsDissectError, by design) | "crash" | "hang" | "memory" | "invariant"
    error_type: str = ""
    message: str = ""
    traceback: str = ""
    cpu_s: float = 0.0
    peak_mb: float = 0.0
    connections: int = -1
    truncated: bool | None = None
    cli: str = ""  # which CLI mode was run too ("" none)
    kept_expected: int = 0  # connections finished before the first damaged byte, checked to be kept

    @property
    def failed(self) -> bool:
        return self.status not in ("ok", "error", "unconfirmed")

    def signature(self) -> str:
        """Groups failures by cause: status, exception type and the innermost tlsdissect line
        (not for hangs and memory: where the limit struck says little)."""
        if self.status in ("hang", "memory"):
            return self.status
        where = ""
        for line in self.traceback.splitlines():
            s = line.strip()
            if s.startswith("File ") and "tlsdissect" in s and "mutations.py" not in s:
                where = s
        return f"{self.status}:{self.error_type}:{where}"


def _summary(conn: Any) -> dict[str, Any]:
    """The facts of a connection that frames after its last one cannot change."""
    return {
        "stream": conn.stream, "client": conn.client, "server": conn.server,
        "first_frame": conn.first_frame, "last_frame": conn.last_frame, "is_tls": conn.is_tls,
        "server_name": conn.server_name, "version": conn.version, "cipher": conn.cipher,
        "established": conn.established, "resumed": conn.resumed, "ssl_history": conn.ssl_history,
        "alerts": [(a.frame, a.code) for a in conn.alerts],
    }


def _standalone(conn: Any) -> bool:
    """Reported for what it holds itself: TLS seen, or a well-known TLS port. A connection
    without TLS on another port is reported only when some other connection has shown TLS on
    that port by the time it ends (tlsdissect.tcp.flows: learned TLS ports), so frames after the
    damage may legitimately decide it; the invariant leaves those out."""
    try:
        from tlsdissect.tcp.flows import TLS_PORTS
    except ImportError:
        TLS_PORTS = frozenset()
    ports = {int(conn.client.rsplit(":", 1)[1]), int(conn.server.rsplit(":", 1)[1])}
    return bool(conn.is_tls or ports & set(TLS_PORTS))


class _CpuLimit(BaseException):
    """A BaseException, like KeyboardInterrupt: the library's own ``except Exception`` around a
    decoder (which turns a bad record into an anomaly) must not swallow the limit."""


_cpu_limit_armed = False


def _on_cpu_limit(signum: int, frame: Any) -> None:
    if _cpu_limit_armed:  # the timer re-fires until the run is over; only the run is interrupted
        raise _CpuLimit("CPU limit reached")


def _peak_rss_mb() -> float:
    """This process's own peak RSS. Linux keeps ru_maxrss across execve, so a worker forked
    from a big pytest process would report the parent's size; VmHWM belongs to the current
    address space and starts afresh at exec."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cli_run(path: str, mode: str) -> tuple[int, str]:
    """``python -m tlsdissect`` in-process: (exit status, stderr); escaping exceptions propagate."""
    from tlsdissect import cli

    argv = [path, "--no-color"] if mode == "text" else [path, "--" + mode]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = cli.main(argv)
        except SystemExit as e:  # argparse
            rc = e.code if isinstance(e.code, int) else 2
    return rc, err.getvalue()


class _Worker:
    """State of a worker process: analyses of the originals (for the truncation invariant)."""

    def __init__(self) -> None:
        self.originals: dict[tuple[str, str | None], tuple[int, set[int], dict[int, int], list[dict[str, Any]]]] = {}
        self.tmpdir = tempfile.mkdtemp(prefix="tlsdissect-fuzz-")

    def original(self, path: str, keylog: str | None) -> tuple[int, set[int], dict[int, int], list[dict[str, Any]]]:
        """(end of the file header, record boundaries, frame ends, connection summaries), per
        capture and key log (decrypting changes what a connection shows)."""
        key = (path, keylog)
        if key not in self.originals:
            import tlsdissect

            data = unwrap(Path(path).read_bytes())
            report = tlsdissect.analyze(data, keylog=keylog)
            lay = layout(data)
            header_end = lay.records[0].end if lay.records else 0
            self.originals[key] = (header_end, {r.end for r in lay.records}, lay.frame_ends(),
                                   [_summary(c) for c in report.connections if _standalone(c)])
        return self.originals[key]

    def run(self, job: dict[str, Any]) -> Outcome:
        from rich.console import Console

        import tlsdissect
        from tlsdissect.report.text import render_report

        data: bytes = job["data"]
        keylog = job.get("keylog")
        out = Outcome("ok", cli=job.get("cli") or "")
        expected: list[dict[str, Any]] = []
        cut, intact = job.get("cut"), job.get("intact")
        mid_record = False
        frames_before = 0
        if intact is not None and job.get("original"):
            header_end, boundaries, ends, conns = self.original(job["original"], keylog)
            expected = [c for c in conns if ends.get(c["last_frame"], 1 << 62) <= intact]
            frames_before = sum(1 for e in ends.values() if e <= intact)
            mid_record = cut is not None and cut > header_end and cut not in boundaries
            out.kept_expected = len(expected)
        global _cpu_limit_armed
        old = signal.signal(signal.SIGPROF, _on_cpu_limit)
        _cpu_limit_armed = True
        t0 = time.process_time()
        signal.setitimer(signal.ITIMER_PROF, job.get("cpu_limit", CPU_LIMIT_S), 0.05)  # re-fires if swallowed
        try:
            try:
                report = tlsdissect.analyze(data, keylog=keylog)
                report.to_json()
                render_report(report, console=Console(file=io.StringIO(), no_color=True, width=120))
                out.connections, out.truncated = len(report.connections), report.truncated
                if expected:
                    got = {c.stream: _summary(c) for c in report.connections}
                    lost = [c for c in expected if got.get(c["stream"]) != c]
                    if lost:
                        c = lost[0]
                        out.status = "invariant"
                        out.message = (f"{len(lost)} of {len(expected)} connections finished before the "
                                       f"damage at byte {intact} differ; stream {c['stream']}: want {c}, got {got.get(c['stream'])}")
                if out.status == "ok" and report.frames < frames_before:
                    out.status = "invariant"
                    out.message = (f"{report.frames} frames read, but {frames_before} lie whole before the "
                                   f"damage at byte {intact}")
                if out.status == "ok" and mid_record and not report.truncated:
                    out.status = "invariant"
                    out.message = f"cut mid-record at {cut} but report.truncated is not set"
            except tlsdissect.TlsDissectError as e:
                out.status, out.error_type, out.message = "error", type(e).__name__, str(e)[:300]
                if expected:
                    out.status = "invariant"
                    out.message = (f"{type(e).__name__} ({e}) although {len(expected)} connections "
                                   f"finished before the damage at byte {intact}")
            if out.cli and out.status in ("ok", "error"):
                path = os.path.join(self.tmpdir, "mutant.pcap")
                Path(path).write_bytes(data)
                rc, err = _cli_run(path, out.cli)
                lines = [x for x in err.splitlines() if x.strip()]
                if rc not in (0, 1, 2):
                    out.status, out.message = "crash", f"CLI --{out.cli} exited {rc}"
                elif "Traceback (most recent call last)" in err:
                    out.status, out.message = "crash", f"CLI --{out.cli} printed a traceback: {err[-300:]!r}"
                elif rc == 2 and not (lines and lines[-1].startswith("tlsdissect: ")):
                    out.status, out.message = "crash", f"CLI --{out.cli} exit 2 without a reason: {err[-300:]!r}"
                elif out.status == "error" and rc != 2:
                    out.status, out.message = "crash", f"library raised {out.error_type} but CLI exited {rc}"
        except _CpuLimit:
            _cpu_limit_armed = False
            out.status, out.message = "hang", f"over {job.get('cpu_limit', CPU_LIMIT_S)} s of CPU"
            out.traceback = traceback.format_exc()
        except MemoryError:
            out.status, out.error_type = "memory", "MemoryError"
            out.traceback = traceback.format_exc()
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt):
                raise
            out.status, out.error_type, out.message = "crash", type(e).__name__, str(e)[:300]
            out.traceback = traceback.format_exc()
        finally:
            _cpu_limit_armed = False
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.signal(signal.SIGPROF, old)
        out.cpu_s = time.process_time() - t0
        out.peak_mb = _peak_rss_mb()
        if out.peak_mb > job.get("memory_cap_mb", MEMORY_CAP_MB) and out.status in ("ok", "error", "invariant"):
            out.status, out.message = "memory", f"peak RSS {out.peak_mb:.0f} MB"
        return out


def _serve(address_space_mb: int) -> None:
    """Worker process: read pickled jobs on stdin, answer pickled outcome dicts on stdout
    (the real fd 1; ``print`` from the pipeline goes to /dev/null instead)."""
    with contextlib.suppress(ValueError, OSError):
        limit = address_space_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    answers = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - lives as long as the process
    jobs = sys.stdin.buffer
    worker = _Worker()
    while True:
        try:
            job = pickle.load(jobs)
        except EOFError:
            break
        if job is None:
            break
        pickle.dump(worker.run(job).__dict__, answers)
        answers.flush()


class Checker:
    """Runs mutants through a worker process; replaces the worker after a hang, a kill, or a
    memory verdict (peak RSS never goes down in a process, so each memory verdict needs a
    fresh one, where it is confirmed before it counts)."""

    def __init__(self, cpu_limit: float = CPU_LIMIT_S, wall_limit: float = WALL_LIMIT_S,
                 memory_cap_mb: float = MEMORY_CAP_MB, address_space_mb: int = ADDRESS_SPACE_MB):
        self.cpu_limit, self.wall_limit = cpu_limit, wall_limit
        self.memory_cap_mb, self.address_space_mb = memory_cap_mb, address_space_mb
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def _start(self) -> None:
        code = (f"import sys; sys.path[:0] = {[str(HERE), str(HERE.parent)]!r}; "
                f"import mutations; mutations._serve({int(self.address_space_mb)})")
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=str(HERE.parent))

    def close(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(OSError):
                assert self.proc.stdin is not None
                pickle.dump(None, self.proc.stdin)
                self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def _kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            self.restarts += 1

    def __enter__(self) -> Checker:  # noqa: PYI034 - a final class in practice
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _once(self, job: dict[str, Any]) -> Outcome:
        if self.proc is None:
            self._start()
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        try:
            pickle.dump(job, self.proc.stdin)
            self.proc.stdin.flush()
            ready, _, _ = select.select([self.proc.stdout], [], [], self.wall_limit)
            if not ready:
                self._kill()
                return Outcome("hang", message=f"no answer in {self.wall_limit} s of wall time (killed)")
            out = Outcome(**pickle.load(self.proc.stdout))
        except (EOFError, OSError, pickle.UnpicklingError):
            code = self.proc.poll()
            self._kill()
            return Outcome("crash", error_type="WorkerDied", message=f"worker process died (exit {code})")
        if out.status in ("hang", "memory"):
            self._kill()
        return out

    def check(self, mutant: Mutant, original: str | None = None, keylog: str | None = None,
              cli: str = "", *, cpu_limit: float | None = None, memory_cap_mb: float | None = None,
              confirm: bool = True) -> Outcome:
        """Run the pipeline (analyze, JSON, text view; the CLI too when ``cli`` is "text", "json"
        or "jsonl") on one mutant. ``original``: the capture the mutant came from, for the
        kept-before-damage invariant. A hang or memory verdict is confirmed in a fresh worker
        unless ``confirm`` is False; the limits can be overridden for this call."""
        job = {"data": mutant.data, "keylog": keylog, "cut": mutant.cut, "intact": mutant.intact,
               "original": original, "cli": cli, "cpu_limit": cpu_limit or self.cpu_limit,
               "memory_cap_mb": memory_cap_mb or self.memory_cap_mb}
        out = self._once(job)
        if confirm and out.status in ("memory", "hang"):  # in a fresh worker: not another mutant's leftovers
            again = self._once(job)
            if again.status in ("ok", "error"):
                again.status = "unconfirmed"
                again.message = f"first run: {out.status} ({out.message}); fresh worker: fine"
            return again
        return out


def minimize(data: bytes, still_fails: Callable[[bytes], bool], budget: int = 400) -> bytes:
    """Shrink a failing capture by removing records (delta debugging over the records after
    the file header), then by cutting its end, while ``still_fails`` holds. At most ``budget``
    calls of ``still_fails``."""
    calls = 0

    def test(candidate: bytes) -> bool:
        nonlocal calls
        calls += 1
        return still_fails(candidate)

    try:
        lay = layout(data)
    except ValueError:
        lay = None
    if lay is not None and lay.records:
        head, pieces, _, tail = _pieces(data, lay)
        if tail and test(head + b"".join(pieces)):
            tail = b""
        n = 2
        while len(pieces) >= 2 and calls < budget:
            size = max(1, len(pieces) // n)
            removed = False
            for start in range(0, len(pieces), size):
                if calls >= budget:
                    break
                rest = pieces[:start] + pieces[start + size:]
                if rest and test(head + b"".join(rest) + tail):
                    pieces, removed = rest, True
                    n = max(n - 1, 2)
                    break
            if not removed:
                if size == 1:
                    break
                n = min(len(pieces), n * 2)
        data = head + b"".join(pieces) + tail
    lo, hi = 0, len(data)  # the shortest prefix that still fails (when failing is monotone)
    while lo < hi and calls < budget:
        mid = (lo + hi) // 2
        if test(data[:mid]):
            hi = mid
        else:
            lo = mid + 1
    return data[:hi] if hi < len(data) and still_fails(data[:hi]) else data


def keylog_for(capture: Path, root: Path | None = None) -> Path | None:
    """The key log kept next to a capture (lab keylog.txt, ssldump log.txt, premaster.txt),
    looking up to ``root``."""
    d = capture.parent
    while True:
        for name in ("keylog.txt", "premaster.txt", "log.txt"):
            if (d / name).is_file():
                return d / name
        if (root is not None and d == root) or d == d.parent:
            return None
        d = d.parent


def seeds(master: int) -> Iterator[tuple[int, int]]:
    """(index, mutant seed) pairs: mutant i of run ``master`` always gets the same seed."""
    i = 0
    while True:
        yield i, random.Random(f"{master}:{i}").getrandbits(48)
        i += 1


__all__ = [
    "KINDS",
    "Checker",
    "Field",
    "Layout",
    "Mutant",
    "Outcome",
    "Record",
    "keylog_for",
    "layout",
    "length_fields",
    "minimize",
    "mutate",
    "seeds",
    "unwrap",
]

if __name__ == "__main__":  # pragma: no cover - helper module
    sys.exit("tests/mutations.py is a helper module; run bench/fuzz.py")
