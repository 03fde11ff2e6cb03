"""CaptureReader against files built byte by byte from the format specifications, and against tshark.

The pcap files are assembled with ``struct`` following draft-ietf-opsawg-pcap (file header,
record header, the nanosecond magic, the LinkType/FCS field) and the pcapng files following
draft-ietf-opsawg-pcapng (SHB/IDB/EPB/SPB/obsolete PB/DSB, if_tsresol, if_tsoffset, several
sections of either byte order). Expected frame numbers, timestamps, link types and bytes are
the values written; where tshark is installed it reads the same hand-built files as a second
opinion, and reads every shared capture for the frame-by-frame comparison at the end.
"""

from __future__ import annotations

import gzip
import io
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import pytest

from watchdog import deadline

from tests.shared_captures import LAB_CAPTURES, shared_captures
from tlsdissect.capture.reader import CaptureReader
from tlsdissect.errors import CaptureError
from tlsdissect.capture.packet import ICMP_QUOTE, decode_tcp

TSHARK = shutil.which("tshark")
MERGECAP = shutil.which("mergecap")
CAPINFOS = shutil.which("capinfos")

# A few distinct frames (contents do not matter to the reader; they are just bytes).
FRAMES = [bytes([i]) * n for i, n in ((1, 60), (2, 1), (3, 0), (4, 1514), (5, 7))]


# -- pcap, per draft-ietf-opsawg-pcap ----------------------------------------------------------

def pcap_file(records: list[tuple[int, int, bytes]], *, endian: str = "<", nano: bool = False,
              linktype: int = 1, snaplen: int = 262144) -> bytes:
    """File header (magic, 2.4, zone, sigfigs, snaplen, LinkType) + (sec, frac, caplen, origlen) records."""
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = [struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    for sec, frac, data in records:
        out.append(struct.pack(endian + "IIII", sec, frac, len(data), len(data)) + data)
    return b"".join(out)


def read_all(source) -> tuple[list[tuple[int, float, int, bytes]], CaptureReader]:
    reader = CaptureReader(source)
    with reader:
        frames = [(n, ts, lt, bytes(d)) for n, ts, lt, d in reader]
    return frames, reader


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("nano", [False, True])
def test_pcap_byte_orders_and_resolutions(endian: str, nano: bool) -> None:
    frac_max = 999_999_999 if nano else 999_999
    unit = Fraction(1, 10**9) if nano else Fraction(1, 10**6)
    recs = [(5, 123, FRAMES[0]), (5, frac_max, FRAMES[1]), (6, 0, FRAMES[2]), (1_700_000_000, 1, FRAMES[3])]
    frames, reader = read_all(pcap_file(recs, endian=endian, nano=nano, linktype=228))
    assert [f[0] for f in frames] == [1, 2, 3, 4]
    assert [f[3] for f in frames] == [r[2] for r in recs]
    assert {f[2] for f in frames} == {228}
    for (sec, frac, _), (_, ts, _, _) in zip(recs, frames):
        exact = sec + frac * unit
        # small epochs: exact to the nanosecond; 1.7e9 s: float spacing is 2.4e-7 s
        assert ts == pytest.approx(float(exact), abs=1e-12 if sec < 100 else 5e-7)
    assert frames[1][1] < frames[2][1]  # 5.999999999 before 6.0
    assert reader.info.format == "pcap" and not reader.info.truncated and reader.info.frames == 4
    assert reader.info.interfaces[0].linktype == 228


def test_pcap_linktype_field_carries_fcs_bits() -> None:
    """LinkType is the low 16 bits; FCS length (top 4 bits) and the F bit (0x04000000) are not part of it."""
    data = pcap_file([(1, 0, FRAMES[0])], linktype=(4 << 28) | 0x04000000 | 1)
    frames, _ = read_all(data)
    assert frames[0][2] == 1


def test_pcap_written_by_scapy(tmp_path: Path) -> None:
    """scapy's writer (microseconds and nanoseconds) read back frame for frame."""
    from scapy.all import IP, TCP, Ether, wrpcap

    pkts = [Ether() / IP(dst="192.0.2.1") / TCP(dport=p) / (b"x" * p) for p in (1, 2, 3)]
    for nano in (False, True):
        for i, p in enumerate(pkts):  # a time the file can hold exactly (no writer rounding involved)
            p.time = Fraction(1_000 + i) + (Fraction(123_456_789, 10**9) if nano else Fraction(123_456, 10**6))
        path = tmp_path / f"s{nano}.pcap"
        wrpcap(str(path), pkts, nano=nano)
        frames, _ = read_all(path)
        assert [f[3] for f in frames] == [bytes(p) for p in pkts]
        want = [1_000.123456789 + i if nano else 1_000.123456 + i for i in range(3)]
        assert [f[1] for f in frames] == pytest.approx(want, abs=1e-9)
        assert [f[2] for f in frames] == [1, 1, 1]


# -- pcapng, per draft-ietf-opsawg-pcapng ------------------------------------------------------

def pad4(b: bytes) -> bytes:
    return b + b"\0" * (-len(b) % 4)


def opt(e: str, code: int, value: bytes) -> bytes:
    return struct.pack(e + "HH", code, len(value)) + pad4(value)


def opts(e: str, *items: bytes) -> bytes:
    return b"".join(items) + struct.pack(e + "HH", 0, 0) if items else b""


def block(e: str, btype: int, body: bytes) -> bytes:
    body = pad4(body)
    n = 12 + len(body)
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def shb(e: str, options: bytes = b"") -> bytes:
    return block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1) + options)


def idb(e: str, linktype: int, snaplen: int = 0, options: bytes = b"") -> bytes:
    return block(e, 1, struct.pack(e + "HHI", linktype, 0, snaplen) + options)


def epb(e: str, if_id: int, ts: int, data: bytes, options: bytes = b"", origlen: int | None = None) -> bytes:
    hdr = struct.pack(e + "IIIII", if_id, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data) if origlen is None else origlen)
    return block(e, 6, hdr + pad4(data) + options)


def spb(e: str, data: bytes, origlen: int | None = None) -> bytes:
    return block(e, 3, struct.pack(e + "I", len(data) if origlen is None else origlen) + pad4(data))


def obsolete_pb(e: str, if_id: int, ts: int, data: bytes) -> bytes:
    hdr = struct.pack(e + "HHIIII", if_id, 0, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data))
    return block(e, 2, hdr + pad4(data))


def dsb(e: str, stype: int, data: bytes) -> bytes:
    return block(e, 0x0A, struct.pack(e + "II", stype, len(data)) + pad4(data))


TLS_KEY_LOG = 0x544C534B  # "TLSK", pcapng DSB secrets type for an NSS key log
KEYLOG = b"CLIENT_RANDOM " + b"ab" * 32 + b" " + b"cd" * 48 + b"\n"
TSOFFSET = 1_600_000_000


def multi_section_pcapng(undescribed_interface: bool = True) -> tuple[bytes, list[tuple[int, Fraction | None, int, bytes]]]:
    """Two sections (LE then BE), four interfaces with different link types and clocks, every block kind.

    Returns the file and the expected (frame number, exact timestamp or None, link type, bytes)
    of every frame we should yield. Frame numbers are Wireshark's: custom blocks, systemd journal
    entries and sysdig events are numbered records in Wireshark (checked with tshark 4.0 on this
    very file), so they take a number although they carry no packet.
    """
    L, B = "<", ">"
    parts: list[bytes] = []
    want: list[tuple[int, Fraction | None, int, bytes]] = []
    n = 0

    def frame(blk: bytes, ts: Fraction | None = None, linktype: int = 0, data: bytes | None = None) -> None:
        nonlocal n
        n += 1
        parts.append(blk)
        if data is not None:
            want.append((n, ts, linktype, data))

    # section 1, little-endian
    parts.append(shb(L, opts(L, opt(L, 4, b"hand-built test file"))))
    parts.append(idb(L, 1, 0, opts(L, opt(L, 2, b"eth0"))))                       # if 0: Ethernet, default 10^-6
    parts.append(idb(L, 101, 0, opts(L, opt(L, 9, bytes([9])))))                  # if 1: raw IP, 10^-9
    parts.append(idb(L, 113, 96, opts(L, opt(L, 9, bytes([0x80 | 20])),           # if 2: SLL, 2^-20, +offset
                                     opt(L, 14, struct.pack(L + "q", TSOFFSET)))))
    frame(epb(L, 0, 1_700_000_000_250_000, FRAMES[0]), Fraction(1_700_000_000_250_000, 10**6), 1, FRAMES[0])
    frame(epb(L, 1, 1_700_000_001_000_000_007, FRAMES[1], opts(L, opt(L, 1, b"a comment"))),
          Fraction(1_700_000_001_000_000_007, 10**9), 101, FRAMES[1])
    frame(epb(L, 2, (3 << 20) + (1 << 19), FRAMES[4]), TSOFFSET + Fraction(7, 2), 113, FRAMES[4])  # 3.5 s after the offset
    parts.append(block(L, 4, b"\x00\x00\x00\x00"))  # Name Resolution Block: no packet, no number
    parts.append(block(L, 5, struct.pack(L + "III", 0, 0, 0)))  # Interface Statistics Block: likewise
    frame(block(L, 0x00000BAD, struct.pack(L + "I", 32473) + b"custom"))  # custom block: numbered, no packet
    parts.append(dsb(L, TLS_KEY_LOG, KEYLOG))
    frame(spb(L, FRAMES[3]), None, 1, FRAMES[3])  # SPB: interface 0, no timestamp
    frame(obsolete_pb(L, 1, 42_000_000_000, FRAMES[2]), Fraction(42), 101, FRAMES[2])
    frame(block(L, 9, b"__REALTIME_TIMESTAMP=1700000000000000\nMESSAGE=hi\n"))  # systemd journal entry
    frame(block(L, 0x204, struct.pack(L + "HQQIH", 0, 1_700_000_000 * 10**9, 1, 26, 1)))  # sysdig event
    if undescribed_interface:
        frame(epb(L, 7, 1, FRAMES[0]))  # interface 7 was never described: counted, not yielded
    frame(epb(L, 0, 2_000_000, FRAMES[3], origlen=4000), Fraction(2), 1, FRAMES[3])
    # section 2, big-endian: interface ids start again at 0
    parts.append(shb(B))
    parts.append(idb(B, 229, 64, opts(B, opt(B, 9, bytes([3])))))  # if 0: raw IPv6, milliseconds, snaplen 64
    frame(epb(B, 0, 1_700_000_000_123, FRAMES[4]), Fraction(1_700_000_000_123, 1000), 229, FRAMES[4])
    # SPB: captured length = min(original length, snaplen)
    frame(spb(B, FRAMES[3][:64], origlen=len(FRAMES[3])), None, 229, FRAMES[3][:64])
    parts.append(dsb(B, TLS_KEY_LOG, b"# second section\n"))
    return b"".join(parts), want


def assert_frames(got: list, want: list) -> None:
    assert [(n, lt, d) for n, _, lt, d in got] == [(n, lt, d) for n, _, lt, d in want]
    for (n, ts, _, _), (_, exact, _, _) in zip(got, want):
        if exact is not None:
            assert ts == pytest.approx(float(exact), abs=5e-7), n


def test_pcapng_sections_interfaces_and_block_kinds() -> None:
    data, want = multi_section_pcapng()
    frames, reader = read_all(data)
    assert_frames(frames, want)
    info = reader.info
    assert info.format == "pcapng" and not info.truncated
    assert info.frames == 12  # every packet block counts (even on an undescribed interface), and numbered non-packets
    assert [i.linktype for i in info.interfaces] == [1, 101, 113, 229]
    assert info.interfaces[0].name == "eth0"
    assert [(s.secrets_type, s.data) for s in info.secrets] == [(TLS_KEY_LOG, KEYLOG), (TLS_KEY_LOG, b"# second section\n")]


def test_pcapng_tsresol_power_of_two_keeps_sub_microsecond_steps() -> None:
    e = "<"
    data = shb(e) + idb(e, 1, 0, opts(e, opt(e, 9, bytes([0x80 | 30])))) + b"".join(
        epb(e, 0, (10 << 30) + k, b"x") for k in (0, 1, 1 << 29))
    frames, _ = read_all(data)
    assert [f[1] for f in frames] == pytest.approx([10.0, 10 + 2**-30, 10.5], abs=1e-12)
    assert frames[0][1] < frames[1][1]


@pytest.mark.skipif(TSHARK is None, reason="tshark not installed")
def test_hand_built_pcapng_matches_tshark(tmp_path: Path) -> None:
    """tshark reads the same hand-built file: same frame numbers, lengths, times (a second opinion on the file).

    Without the packet on an undescribed interface: tshark calls that file damaged and stops there,
    where our reader counts the packet and goes on.
    """
    data, want = multi_section_pcapng(undescribed_interface=False)
    path = tmp_path / "multi.pcapng"
    path.write_bytes(data)
    out = subprocess.run([TSHARK, "-n", "-r", str(path), "-T", "fields", "-e", "frame.number",
                          "-e", "frame.cap_len", "-e", "frame.time_epoch", "-e", "frame.protocols"],
                         check=False, capture_output=True, text=True, timeout=60, env=_tshark_env(tmp_path))
    rows = [line.split("\t") for line in out.stdout.splitlines()]
    frames, reader = read_all(path)
    assert_frames(frames, want)
    assert len(rows) == reader.info.frames == 11
    by_number = {n: (ts, d) for n, ts, _, d in frames}
    for number, cap_len, epoch, protocols in rows:
        n = int(number)
        if n not in by_number:
            assert protocols in ("data", "systemd_journal", "sysdig"), (n, protocols)
            continue
        ts, d = by_number[n]
        assert int(cap_len) == len(d), n
        if epoch:  # SPBs have no timestamp
            assert ts == pytest.approx(float(epoch), abs=1e-6), n


def test_pcapng_written_by_scapy(tmp_path: Path) -> None:
    from scapy.all import IP, TCP, Ether
    from scapy.utils import PcapNgWriter

    pkts = [Ether() / IP(dst="192.0.2.1") / TCP(dport=p) / (b"y" * p) for p in (5, 6)]
    for i, p in enumerate(pkts):
        p.time = 1_700_000_000 + i + Fraction(1, 4)
    path = tmp_path / "s.pcapng"
    w = PcapNgWriter(str(path))
    for p in pkts:
        w.write(p)
    w.close()
    frames, reader = read_all(path)
    assert [f[3] for f in frames] == [bytes(p) for p in pkts]
    assert [f[1] for f in frames] == pytest.approx([1_700_000_000.25, 1_700_000_001.25], abs=1e-6)
    assert reader.info.format == "pcapng"


# -- sources -----------------------------------------------------------------------------------

class _PipeLike:
    """A non-seekable stream that returns short reads, like a pipe."""

    def __init__(self, data: bytes):
        self._f = io.BytesIO(data)

    def read(self, n: int = -1) -> bytes:
        return self._f.read(min(n, 1000) if n and n > 0 else 1000)


def test_sources_agree(tmp_path: Path) -> None:
    data, want = multi_section_pcapng()
    path = tmp_path / "multi.pcapng"
    path.write_bytes(data)
    gz = tmp_path / "multi.pcapng.gz"
    gz.write_bytes(gzip.compress(data))
    reference, _ = read_all(data)
    assert_frames(reference, want)
    with open(path, "rb") as fh:
        from_file, _ = read_all(fh)
    for source in (str(path), path, bytearray(data), memoryview(data), io.BytesIO(data), _PipeLike(data), str(gz), gzip.compress(data)):
        got, _ = read_all(source)
        assert got == reference, type(source)
    assert from_file == reference
    assert read_all(gz)[1].info.compressed


# -- truncation at every byte --------------------------------------------------------------------

def _boundaries_pcap() -> tuple[bytes, list[int], list[int]]:
    """A small pcap, the offsets where its packet records end, and where every structure ends."""
    recs = [(10, i, FRAMES[i]) for i in (0, 1, 2, 4)]
    data = pcap_file(recs)
    ends, pos = [], 24
    for _, _, d in recs:
        pos += 16 + len(d)
        ends.append(pos)
    return data, ends, [24] + ends


def _boundaries_pcapng() -> tuple[bytes, list[int], list[int]]:
    e = "<"
    blocks = [shb(e), idb(e, 1, 0, opts(e, opt(e, 9, bytes([6])))), epb(e, 0, 10, FRAMES[0]),
              dsb(e, TLS_KEY_LOG, KEYLOG), epb(e, 0, 11, FRAMES[1]), spb(e, FRAMES[4]), epb(e, 0, 12, FRAMES[2])]
    data, ends, all_ends = b"", [], []
    for blk in blocks:
        data += blk
        all_ends.append(len(data))
        if struct.unpack_from("<I", blk)[0] in (3, 6):  # packet blocks end frames
            ends.append(len(data))
    return data, ends, all_ends


@pytest.mark.parametrize("kind", ["pcap", "pcapng"])
def test_truncated_at_every_byte(kind: str) -> None:
    """Cut anywhere: the frames before the cut, truncated unless the cut falls between two structures."""
    with deadline(60):
        data, ends, boundaries = _boundaries_pcap() if kind == "pcap" else _boundaries_pcapng()
        full, _ = read_all(data)
        assert len(full) == len(ends)
        for cut in range(len(data)):
            try:
                got, reader = read_all(data[:cut])
            except CaptureError as e:
                assert cut < boundaries[0], (cut, e)  # only a cut inside the file header is "not a capture"
                assert str(e)
                continue
            complete = sum(1 for end in ends if end <= cut)
            assert got == full[:complete], cut
            assert reader.info.truncated == (cut not in boundaries), cut
            if reader.info.truncated:
                assert reader.info.truncation_reason, cut


def test_truncated_gzip_keeps_frames_before_the_cut() -> None:
    data, _, _ = _boundaries_pcap()
    full, _ = read_all(data)
    z = gzip.compress(data)
    for cut in range(12, len(z) - 1, 3):
        try:
            got, reader = read_all(z[:cut])
        except CaptureError:
            continue
        assert got == full[: len(got)], cut
        assert reader.info.truncated or len(got) == len(full), cut


# -- not captures, corrupt captures --------------------------------------------------------------

NOT_CAPTURES = {
    "empty": b"",
    "three bytes": b"\xd4\xc3\xb2",
    "text": b"GET / HTTP/1.1\r\nHost: example\r\n\r\n",
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
    "zip": b"PK\x03\x04\x14\x00\x00\x00",
    "elf": b"\x7fELF\x02\x01\x01\x00",
    "raw tls": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    "pcap header cut": pcap_file([])[:20],
    "gzip of text": gzip.compress(b"hello world, not a capture\n"),
    "gzip of nothing": gzip.compress(b""),
    "gzip garbage": b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4,
    "modified pcap magic": struct.pack("<I", 0xA1B2CD34) + b"\0" * 40,
}


@pytest.mark.parametrize("name", sorted(NOT_CAPTURES))
def test_not_a_capture(name: str) -> None:
    with pytest.raises(CaptureError) as err:
        read_all(NOT_CAPTURES[name])
    msg = str(err.value)
    assert msg and "\n" not in msg


@pytest.mark.parametrize("head,words", [
    (b"%PDF-1.4\n", "PDF"), (b"PK\x03\x04", "ZIP"), (b"just some text\n", "text"), (b"", "empty"),
    (b"\x16\x03\x03\x00\x10", "TLS"),
])
def test_not_a_capture_says_what_it_is(head: bytes, words: str) -> None:
    with pytest.raises(CaptureError, match=words):
        read_all(head + b"\0" * 8 if head else head)


def test_missing_path_and_directory(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="no such file"):
        CaptureReader(tmp_path / "nope.pcap")
    with pytest.raises(CaptureError, match="directory"):
        CaptureReader(tmp_path)
    with pytest.raises(CaptureError):
        CaptureReader(12345)  # type: ignore[arg-type]


def test_text_mode_file_object_is_a_clear_error() -> None:
    with pytest.raises(CaptureError):
        read_all(io.StringIO("this is text, not bytes"))


CORRUPT = {
    # file -> (frames expected before the damage, must the reader flag it as truncated)
    "pcap caplen 0xfffffff0": (pcap_file([(1, 0, FRAMES[0])]) + struct.pack("<IIII", 2, 0, 0xFFFFFFF0, 60) + b"\0" * 64, 1, True),
    "pcap caplen just over 16 MiB": (pcap_file([(1, 0, FRAMES[0])]) + struct.pack("<IIII", 2, 0, 16 * 1024 * 1024 + 1, 60), 1, True),
    "pcap caplen past end of file": (pcap_file([(1, 0, FRAMES[0])]) + struct.pack("<IIII", 2, 0, 5000, 60) + b"\0" * 100, 1, True),
    "pcapng block length 0x7ffffffc": (shb("<") + idb("<", 1) + epb("<", 0, 1, FRAMES[0]) + struct.pack("<II", 6, 0x7FFFFFFC) + b"\0" * 64, 1, True),
    "pcapng block length 13": (shb("<") + idb("<", 1) + epb("<", 0, 1, FRAMES[0]) + struct.pack("<II", 6, 13) + b"\0" * 64, 1, True),
    "pcapng block length 0": (shb("<") + idb("<", 1) + struct.pack("<II", 6, 0) + b"\0" * 64, 0, True),
    "pcapng bad byte-order magic": (shb("<")[:8] + b"\x01\x02\x03\x04" + shb("<")[12:] + idb("<", 1), 0, True),
    "pcapng EPB too short": (shb("<") + idb("<", 1) + block("<", 6, b"\0" * 8), 0, True),
    "pcapng PB too short": (shb("<") + idb("<", 1) + block("<", 2, b"\0" * 8), 0, True),
    "pcapng IDB too short": (shb("<") + block("<", 1, b"") + epb("<", 0, 1, FRAMES[0]), 0, True),
    "pcapng IDB with bad option lengths": (shb("<") + block("<", 1, struct.pack("<HHI", 1, 0, 0) + struct.pack("<HH", 9, 200)) + epb("<", 0, 1, FRAMES[0]), 1, False),
    "pcapng EPB caplen larger than block": (shb("<") + idb("<", 1) + block("<", 6, struct.pack("<IIIII", 0, 0, 1, 9999, 9999) + b"\x01" * 8), 1, None),
    "pcapng DSB length larger than block": (shb("<") + idb("<", 1) + block("<", 0x0A, struct.pack("<II", TLS_KEY_LOG, 9999) + b"abcd") + epb("<", 0, 1, FRAMES[0]), 1, False),
}


@pytest.mark.parametrize("name", sorted(CORRUPT))
def test_corrupt_capture_keeps_what_came_before(name: str) -> None:
    data, before, truncated = CORRUPT[name]
    got, reader = read_all(data)
    assert len(got) == before
    if truncated is not None:
        assert reader.info.truncated == truncated
    if reader.info.truncated:
        assert reader.info.truncation_reason


def test_random_garbage_never_tracebacks() -> None:
    """Seeded garbage after each magic: only CaptureError, and iteration always ends."""
    with deadline(60):
        rng = random.Random(20261123)
        heads = [b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\x0a\x0d\x0d\x0a", b"\x1f\x8b", b""]
        for _ in range(400):
            data = rng.choice(heads) + rng.randbytes(rng.randrange(0, 300))
            try:
                frames, _ = read_all(data)
            except CaptureError:
                continue
            assert len(frames) < 300


def test_mutated_pcapng_never_tracebacks() -> None:
    with deadline(60):
        data, _ = multi_section_pcapng()
        rng = random.Random(7)
        for _ in range(400):
            b = bytearray(data)
            for _ in range(rng.randrange(1, 6)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            try:
                read_all(bytes(b))
            except CaptureError:
                pass


def test_corrupt_gzip_stream_is_not_a_traceback() -> None:
    with deadline(60):
        data, _, _ = _boundaries_pcap()
        z = bytearray(gzip.compress(data * 20, compresslevel=1))
        for i in range(20, len(z) - 20, max(1, len(z) // 60)):
            b = bytearray(z)
            b[i] ^= 0xFF
            try:
                read_all(bytes(b))
            except CaptureError:
                pass


# -- real captures: gzip, and tshark's frame-by-frame view -------------------------------------

def _small_real_captures() -> list[Path]:
    """A spread of real captures: the two smallest and two largest shared ones, each format.

    The shared folder is read-only; lab captures stand in only when it is absent (the lab
    rewrites its own files while other tests run).
    """
    shared = sorted((c.path for c in shared_captures()), key=lambda p: p.stat().st_size)
    picked: list[Path] = []
    for suffix in (".pcap", ".pcapng"):
        same = [p for p in shared if p.suffix == suffix]
        picked += same[:2] + same[-2:]
    return picked or sorted(LAB_CAPTURES.glob("*/capture.pcap"))[:3]


def test_gzip_of_real_captures_gives_identical_frames(tmp_path: Path) -> None:
    paths = _small_real_captures()
    if not paths:
        pytest.skip("no lab or shared captures available")
    for p in paths:
        plain, r1 = read_all(p)
        z = tmp_path / (p.name + ".gz")
        z.write_bytes(gzip.compress(p.read_bytes(), compresslevel=1))
        packed, r2 = read_all(z)
        assert packed == plain, p
        assert r2.info.compressed and not r1.info.compressed
        assert r1.info.truncated == r2.info.truncated


# Layers decode_tcp claims to follow on the way to TCP (tshark's frame.protocols names).
SUPPORTED_LAYERS = {
    "eth", "ethertype", "vlan", "ieee8021ad", "ip", "ipv6", "ipv6.hopopts", "ipv6.routing", "ipv6.dstopts",
    "ipv6.fraghdr", "ah", "sll", "raw", "null", "loop", "pppoes", "ppp", "mpls", "gre", "erspan",
    "udp", "vxlan", "gtp", "fcs", "frame",
}
# An ICMP error quotes the start of the offending packet: decode_tcp returns that TCP header marked
# ICMP_QUOTE (ports and sequence number only; tshark shows no tcp.len for it).
QUOTING_LAYERS = {"icmp", "icmpv6"}
# Tunnels tshark follows and decode_tcp does not claim to (frames are compared as "not TCP to us").
UNSUPPORTED_TUNNELS = {
    "capwap.data": "CAPWAP data (UDP 5247) carrying 802.11 frames: not in decode_tcp's tunnel list",
    "wlan": "802.11 inside CAPWAP",
}
# Per-capture exclusions with a reason each; empty today (every shared capture agrees frame for frame
# once the protocol-level exclusions above apply).
CAPTURE_EXCLUSIONS: dict[str, str] = {}

TSHARK_FIELDS = ("frame.number", "frame.cap_len", "frame.time_epoch", "frame.protocols",
                 "tcp.srcport", "tcp.dstport", "tcp.len", "ip.flags.mf", "ip.frag_offset")
CACHE_DIR = Path(tempfile.gettempdir()) / "tlsdissect-test-capture-tshark"


def _tshark_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["WIRESHARK_CONFIG_DIR"] = str(tmp)  # a user's Decode-As / preferences must not change the view
    return env


def _cache_key(path: Path) -> str:
    st = path.stat()
    import hashlib

    tshark_id = os.stat(TSHARK).st_mtime_ns if TSHARK else 0  # a tshark upgrade invalidates the cache
    h = hashlib.sha256(f"{path}|{st.st_size}|{st.st_mtime_ns}|{TSHARK_FIELDS}|{tshark_id}".encode()).hexdigest()[:24]
    return h


def _run_tshark(path: Path, tmp: Path) -> list[list[str]]:
    out = subprocess.run([TSHARK, "-n", "-r", str(path), "-T", "fields", "-E", "occurrence=a",
                          *[arg for f in TSHARK_FIELDS for arg in ("-e", f)]],
                         check=False, capture_output=True, text=True, timeout=600, env=_tshark_env(tmp))
    return [line.split("\t") for line in out.stdout.splitlines()]


def tshark_views(paths: list[Path]) -> dict[Path, list[list[str]]]:
    """tshark's rows for each capture, cached per file; uncached files go through one tshark run.

    tshark's start-up (~0.4 s, far more on a loaded machine) dominates on small files, so the
    uncached captures are concatenated with ``mergecap -a`` into one pcapng (interfaces and link
    types kept per file) and split again by ``capinfos`` frame counts. When the counts do not add
    up, each file is run on its own.
    """
    CACHE_DIR.mkdir(exist_ok=True)
    views: dict[Path, list[list[str]]] = {}
    todo = []
    for p in paths:
        cached = CACHE_DIR / (_cache_key(p) + ".tsv")
        if cached.exists():
            views[p] = [line.split("\t") for line in cached.read_text().splitlines()]
        else:
            todo.append(p)
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        if len(todo) > 1 and MERGECAP and CAPINFOS:
            merged = tmp / "all.pcapng"
            m = subprocess.run([MERGECAP, "-a", "-F", "pcapng", "-w", str(merged), *map(str, todo)],
                               check=False, capture_output=True, timeout=300)
            c = subprocess.run([CAPINFOS, "-c", "-M", "-T", "-r", *map(str, todo)],
                               check=False, capture_output=True, text=True, timeout=300)
            counts = [int(line.rsplit("\t", 1)[1]) for line in c.stdout.splitlines() if "\t" in line]
            if m.returncode == 0 and len(counts) == len(todo):
                rows = _run_tshark(merged, tmp)
                if len(rows) == sum(counts):
                    i = 0
                    for p, n in zip(todo, counts):
                        part = rows[i:i + n]
                        i += n
                        first = int(part[0][0]) - 1 if part else 0
                        views[p] = [[str(int(r[0]) - first)] + r[1:] for r in part]
                    todo = []
        for p in todo:
            views[p] = _run_tshark(p, tmp)
    for p in paths:
        cached = CACHE_DIR / (_cache_key(p) + ".tsv")
        if not cached.exists():
            cached.write_text("".join("\t".join(r) + "\n" for r in views[p]))
    return views


def tshark_expectation(row: list[str]) -> tuple[str, tuple[int, int, int] | None]:
    """('compare' or 'quote', (sport, dport, len) or None) or ('skip', reason) for one tshark row."""
    protocols = row[3].split(":")
    if "tcp" not in protocols:
        return "compare", None
    below = protocols[: protocols.index("tcp")]
    if QUOTING_LAYERS & set(below):
        return "quote", (int(row[4].split(",")[0]), int(row[5].split(",")[0]), 0)
    unsupported = [p for p in below if p in UNSUPPORTED_TUNNELS]
    if unsupported:
        return "skip", UNSUPPORTED_TUNNELS[unsupported[0]]
    if any("1" in v for v in row[7].split(",")) or any(v not in ("", "0") for v in row[8].split(",")):
        return "compare", None  # an IPv4 fragment: tshark reassembles, decode_tcp skips it
    if "ipv6.fraghdr" in below:
        return "skip", "IPv6 fragment header: tshark reassembles real fragments"
    odd = [p for p in below if p not in SUPPORTED_LAYERS]
    if odd:
        return "skip", f"layers {odd} not in decode_tcp's list"
    if not row[6]:
        return "compare", None  # tshark saw a TCP header it could not use (cut short)
    return "compare", (int(row[4].split(",")[0]), int(row[5].split(",")[0]), int(row[6].split(",")[0]))


@pytest.mark.skipif(TSHARK is None, reason="tshark not installed: it is the oracle of this test")
def test_frames_match_tshark_on_shared_captures() -> None:
    caps = [c for c in shared_captures() if c.relpath not in CAPTURE_EXCLUSIONS]
    if not caps:
        pytest.skip("shared captures not found (set TLSDISSECT_SHARED_CAPTURES)")
    views = tshark_views([c.path for c in caps])
    problems: list[str] = []
    compared = skipped = 0
    for c in caps:
        rows = views[c.path]
        try:
            frames, reader = read_all(c.path)
        except CaptureError as e:
            if rows:
                problems.append(f"{c.relpath}: we reject it ({e}); tshark reads {len(rows)} frames")
            continue
        if reader.info.frames != len(rows):
            problems.append(f"{c.relpath}: {reader.info.frames} frames, tshark {len(rows)}")
            continue
        ours = {n: (ts, lt, d) for n, ts, lt, d in frames}
        for row in rows:
            n = int(row[0])
            kind, want = tshark_expectation(row)
            if kind == "skip":
                skipped += 1
                continue
            compared += 1
            if n not in ours:
                problems.append(f"{c.relpath} frame {n}: not yielded")
                continue
            ts, lt, d = ours[n]
            if len(d) != int(row[1]):
                problems.append(f"{c.relpath} frame {n}: {len(d)} bytes, tshark {row[1]}")
            if row[2] and ts and abs(ts - float(row[2])) > 2e-6:
                problems.append(f"{c.relpath} frame {n}: time {ts!r}, tshark {row[2]}")
            seg = decode_tcp(lt, d)
            got = None if seg is None else (seg[2], seg[3], len(seg[7]))
            if (kind == "quote") != (seg is not None and bool(seg[6] & ICMP_QUOTE)):
                problems.append(f"{c.relpath} frame {n}: ICMP quote marking differs ({row[3]})")
            if got != want:
                problems.append(f"{c.relpath} frame {n}: decode_tcp {got}, tshark {want} ({row[3]})")
    assert not problems, f"{len(problems)} differences (first 20):\n" + "\n".join(problems[:20])
    assert compared >= 0.99 * (compared + skipped), (compared, skipped)  # exclusions stay the exception


def test_pcapng_big_endian_first_section() -> None:
    e = ">"
    data = shb(e) + idb(e, 101, 0, opts(e, opt(e, 9, bytes([6])), opt(e, 14, struct.pack(e + "q", -10)))) + \
        epb(e, 0, 5_000_001, FRAMES[1]) + spb(e, FRAMES[4])
    frames, reader = read_all(data)
    assert [(n, lt, d) for n, _, lt, d in frames] == [(1, 101, FRAMES[1]), (2, 101, FRAMES[4])]
    assert frames[0][1] == pytest.approx(5.000001 - 10, abs=1e-9)  # if_tsoffset is signed
    assert not reader.info.truncated


def test_stdin_source(monkeypatch: pytest.MonkeyPatch) -> None:
    """``-`` reads the binary stdin (sys.stdin.buffer)."""
    data, want = multi_section_pcapng()

    class FakeStdin:
        buffer = io.BytesIO(gzip.compress(data))

    monkeypatch.setattr(sys, "stdin", FakeStdin())
    frames, reader = read_all("-")
    assert_frames(frames, want)
    assert reader.name == "<stdin>" and reader.info.compressed


def test_reader_does_not_close_a_caller_file(tmp_path: Path) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(pcap_file([(1, 0, FRAMES[0])]))
    with open(path, "rb") as fh:
        read_all(fh)
        assert not fh.closed


@pytest.mark.skipif(TSHARK is None, reason="tshark not installed: it is the oracle of this test")
def test_cut_real_captures_keep_what_tshark_keeps(tmp_path: Path) -> None:
    """Real files cut mid-file: we keep exactly the frames tshark still shows, and say the file is cut."""
    import hashlib

    by_name = {c.relpath: c.path for c in shared_captures()}
    wanted = [
        "ntop+nDPI/tests/cfgs/default/pcap/sites.pcapng",  # 22 interfaces, µs and ns resolutions
        "ntop+nDPI/tests/cfgs/default/pcap/stun.pcap",  # a pcapng file named .pcap
        "ntop+nDPI/tests/cfgs/default/pcap/KakaoTalk_chat.pcap",  # Linux cooked (SLL)
        "FoxIO-LLC+ja4/pcap/tls-alpn-h2.pcap",  # BSD loopback (NULL)
        "ntop+nDPI/tests/cfgs/default/pcap/codm.pcap",  # raw IP
        "Lekensteyn+wireshark-notes/all/dump.pcapng",
    ]
    paths = [by_name[n] for n in wanted if n in by_name]
    if len(paths) < len(wanted) // 2:
        pytest.skip("shared captures not found (set TLSDISSECT_SHARED_CAPTURES)")
    CACHE_DIR.mkdir(exist_ok=True)
    for path in paths:
        data = path.read_bytes()
        for frac in (0.37, 0.71):
            cut = data[: int(len(data) * frac)]
            key = hashlib.sha256(cut).hexdigest()[:24]
            cached = CACHE_DIR / f"cut-{key}.txt"
            if not cached.exists():
                f = tmp_path / f"cut{path.suffix}"
                f.write_bytes(cut)
                out = subprocess.run([TSHARK, "-n", "-r", str(f), "-T", "fields", "-e", "frame.number"],
                                     check=False, capture_output=True, text=True, timeout=300, env=_tshark_env(tmp_path))
                cached.write_text(str(len(out.stdout.splitlines())))
            tshark_frames = int(cached.read_text())
            frames, reader = read_all(cut)
            assert reader.info.frames == tshark_frames, (path.name, frac)
            assert not frames or frames[-1][0] <= tshark_frames
            assert reader.info.truncated and reader.info.truncation_reason, (path.name, frac)


KEYLOG_LINE = re.compile(
    r"(CLIENT_RANDOM|RSA|CLIENT_EARLY_TRAFFIC_SECRET|CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET"
    r"|CLIENT_TRAFFIC_SECRET_\d+|SERVER_TRAFFIC_SECRET_\d+|EARLY_EXPORTER_SECRET|EXPORTER_SECRET) [0-9a-fA-F]+ [0-9a-fA-F]+"
)


def test_decryption_secrets_blocks_of_real_captures_are_whole_key_logs() -> None:
    """DSBs of real files hold NSS key logs: every line parses, so the block was cut at the right bytes."""
    caps = [c for c in shared_captures() if "secrets" in c.relpath or c.relpath.endswith(("http2-with-cookies.pcapng", "dtls.pcap"))]
    if not caps:
        pytest.skip("shared captures not found (set TLSDISSECT_SHARED_CAPTURES)")
    seen = 0
    for c in caps:
        _, reader = read_all(c.path)
        for s in reader.info.secrets:
            assert s.secrets_type == TLS_KEY_LOG
            lines = [line for line in s.data.decode("ascii").splitlines() if line.strip() and not line.startswith("#")]
            assert lines and all(KEYLOG_LINE.fullmatch(line) for line in lines), c.relpath
            seen += 1
    assert seen >= len(caps)
