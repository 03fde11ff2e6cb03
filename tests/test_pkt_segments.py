"""CaptureReader.segments() gives each frame's decode_flow result, flat (helper "pkt").

The pcap reader decodes the common Ethernet + IPv4 + TCP frame in its own loop (a copy of
decode_flow's fast path, without the call); these tests compare it with decode_flow on random
and edge frames, for pcap (fast path) and pcapng (decode_flow itself), and check that the
reader's own results (frames, truncation) stay those of plain iteration.
"""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from tlsdissect.capture.reader import NO_SEGMENT, CaptureReader
from tlsdissect.capture.packet import decode_flow

from tests.test_tcp_fastpaths import _frame  # (the same frame maker: Ethernet + IPv4/IPv6 + TCP, patched, cut)


def _pcap(frames: list[bytes], linktype: int = 1, cut: int = 0) -> bytes:
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)
    for i, f in enumerate(frames):
        out += struct.pack("<IIII", 1000 + i, i * 7, len(f), len(f) + 3) + f
    return out[:len(out) - cut] if cut else out


def _pcapng(frames: list[bytes]) -> bytes:
    shb = struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1) + struct.pack("<I", 28)
    idb = struct.pack("<IIHHI", 1, 20, 1, 0, 0) + struct.pack("<I", 20)
    out = shb + idb
    for i, f in enumerate(frames):
        pad = (-len(f)) % 4
        blen = 32 + len(f) + pad
        out += struct.pack("<IIIIIII", 6, blen, 0, 0, i, len(f), len(f)) + f + b"\0" * pad + struct.pack("<I", blen)
    return out


def _both(data: bytes) -> tuple[list, list]:
    plain = [(n, ts, lt) + (decode_flow(lt, d) or NO_SEGMENT) for n, ts, lt, d in CaptureReader(data)]
    reader = CaptureReader(data)
    decoded = list(reader.segments())
    return plain, decoded


_frames = st.lists(
    st.builds(_frame, st.booleans(), st.binary(max_size=40),
              st.lists(st.tuples(st.integers(12, 60), st.integers(0, 255)), max_size=4), st.integers(0, 140)),
    max_size=6)


@settings(max_examples=1500, deadline=None)
@given(_frames, st.integers(0, 20))
def test_pcap_segments_match_decode_flow(frames: list[bytes], cut: int) -> None:
    data = _pcap(frames)
    data = data[:max(24, len(data) - cut)]  # (cut inside the records, never the file header)
    plain, decoded = _both(data)
    assert decoded == plain
    a, b = CaptureReader(data), CaptureReader(data)
    list(a)
    list(b.segments())
    assert a.info == b.info


@settings(max_examples=300, deadline=None)
@given(_frames, st.sampled_from([0, 101, 113, 147]))
def test_other_link_types_and_pcapng_match_decode_flow(frames: list[bytes], linktype: int) -> None:
    plain, decoded = _both(_pcap(frames, linktype=linktype))
    assert decoded == plain
    plain, decoded = _both(_pcapng(frames))
    assert decoded == plain


def test_edge_frames() -> None:
    base = _frame(False, b"hello", [], 200)
    edges = [
        base,
        base[:54], base[:53], base[:60],
        _frame(False, b"x", [(16, 0), (17, 0)], 200),  # total length 0 (TSO)
        _frame(False, b"x", [(16, 0), (17, 19)], 200),  # total length below the header
        _frame(False, b"x", [(16, 0x10), (17, 0)], 200),  # total length beyond the frame
        _frame(False, b"x", [(46, 0x40)], 200),  # TCP header length 16
        _frame(False, b"x", [(46, 0xF0)], 200),  # TCP header length 60, beyond the payload
        _frame(False, b"x", [(20, 0x20)], 200),  # more fragments
        _frame(False, b"x", [(21, 0x01)], 200),  # fragment offset
        _frame(False, b"x", [(20, 0x40)], 200),  # don't fragment: still the fast path
        _frame(False, b"x", [(14, 0x46)], 200),  # IP options: general path
        _frame(False, b"x", [(23, 17)], 200),  # UDP
        _frame(True, b"hello", [], 200),
        _frame(True, b"hello", [], 73),
    ]
    plain, decoded = _both(_pcap(edges))
    assert decoded == plain
    assert decoded[0][3] is not None and decoded[0][7] == b"hello"


@settings(max_examples=500, deadline=None)
@given(st.sampled_from([4, 16]), st.binary(min_size=32, max_size=32), st.integers(0, 65535), st.integers(0, 65535))
def test_flow_key_split_and_reverse(size: int, addrs: bytes, sport: int, dport: int) -> None:
    from tlsdissect.tcp.flows import _reverse
    from tlsdissect.capture.packet import flow_key, split_key

    src, dst = addrs[:size], addrs[16:16 + size]
    key = flow_key(src, dst, sport, dport)
    assert split_key(key) == (src, dst, sport, dport)
    assert _reverse(key) == flow_key(dst, src, dport, sport)
    assert _reverse(_reverse(key)) == key


def _tcp_frame(key: int, d: int, flags: int, seq: int, ack: int, payload: bytes) -> bytes:
    a, b = bytes((10, 0, 0, 1 + key)), bytes((10, 0, 1, 1))
    ports = (40000 + key, 443)
    src, dst = (a, b) if d == 0 else (b, a)
    sport, dport = ports if d == 0 else ports[::-1]
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 0x50, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64 - d, 6, 0, src, dst)
    return b"\x00" * 12 + b"\x08\x00" + ip + tcp


_packets = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1),
                              st.sampled_from([0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x19, 0x01]),
                              st.integers(0, 3), st.binary(max_size=12)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(_packets)
def test_run_loop_gives_what_flow_table_flow_gives(packets: list) -> None:
    """_run hands a known conversation's packets without SYN to the conversation itself (its
    copy of FlowTable.flow's common case): the results equal feeding every packet to flow()."""
    from tlsdissect.pipeline.analyzer import Options, _finish, iter_connections
    from tlsdissect.pipeline.analyzer import Sessions
    from tlsdissect.tcp.flows import FlowTable

    seqs = {}
    frames = []
    for key, d, flags, step, payload in packets:
        seq = seqs.get((key, d), 1000 * (key + 1) + 100 * d)
        frames.append(_tcp_frame(key, d, flags, seq, 7, payload))
        seqs[(key, d)] = seq + step * len(payload) // 2 + (1 if flags & 0x03 else 0)
    data = _pcap(frames)
    ours = [c.to_dict() for c in iter_connections(data, include_all=True, diagnose=False)]
    sessions = Sessions()
    table = FlowTable(sessions)
    opts = Options(include_all=True, diagnose=False)
    for frame, ts, _lt, *seg in CaptureReader(data).segments():
        table.flow(frame, ts, tuple(seg))
        sessions.capture_end = ts  # (the capture's last packet time, as _run keeps it)
    table.retire_all()
    theirs = [c.to_dict() for c in (_finish(conn, sessions, True, opts) for conn in table.take_done())]
    assert ours == theirs
