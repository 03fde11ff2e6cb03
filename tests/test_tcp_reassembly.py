"""Properties of the TCP reassembler (tlsdissect.tcp.reassembly.StreamReassembler).

The reference is the byte stream itself: a random stream is cut into segments, shuffled
within a window, duplicated and overlapped, with the initial sequence number near 2**32 so
sequence numbers wrap inside the stream. Whatever the order, the reassembler must hand out
exactly the stream; with a segment missing, exactly one gap of that segment's length where it
was; and each byte must be attributed to the frame in which it became contiguous (computed
here from the coverage of the segments seen so far, independently of the reassembler).
"""

from __future__ import annotations

from typing import Union

from hypothesis import given, settings
from hypothesis import strategies as st

from segmenting import examples

from tlsdissect.tcp.reassembly import StreamReassembler

MASK32 = 0xFFFFFFFF
ISN = st.one_of(st.integers(0xFFFFFFFF - 4000, 0xFFFFFFFF), st.integers(0, 0xFFFFFFFF))

Segment = tuple[int, bytes]  # (stream offset, payload)


@st.composite
def cut(draw: st.DrawFn, stream: bytes, max_segments: int = 40) -> list[Segment]:
    """The stream cut into consecutive non-empty segments."""
    n = len(stream)
    if n == 1:
        return [(0, stream)]
    points = sorted(set(draw(st.lists(st.integers(1, n - 1), max_size=min(n - 1, max_segments)))))
    edges = [0, *points, n]
    return [(edges[i], stream[edges[i]:edges[i + 1]]) for i in range(len(edges) - 1)]


@st.composite
def scrambled(draw: st.DrawFn, stream: bytes, segs: list[Segment]) -> list[Segment]:
    """Reorder within a window, add duplicates and segments overlapping several others."""
    window = draw(st.integers(0, 6))
    keyed = [(i + draw(st.integers(0, window)), i, s) for i, s in enumerate(segs)]
    for j in draw(st.lists(st.integers(0, len(segs) - 1), max_size=4)):
        keyed.append((j + draw(st.integers(0, window + 3)), len(keyed), segs[j]))
    n = len(stream)
    for _ in range(draw(st.integers(0, 3))):
        a = draw(st.integers(0, n - 1))
        b = draw(st.integers(a + 1, n))
        where = next(i for i, (o, s) in enumerate(segs) if o + len(s) > a)
        keyed.append((where + draw(st.integers(-2, window + 3)), len(keyed), (a, stream[a:b])))
    keyed.sort(key=lambda k: (k[0], k[1]))
    return [s for _, _, s in keyed]


def feed(isn: int, segments: list[Segment], r: StreamReassembler | None = None):
    """SYN, then each segment as frame 1, 2, ...; then a flush as frame len+1."""
    r = r or StreamReassembler()
    r.syn(isn)
    chunks: list[tuple[Union[bytes, int], int, float]] = []
    for frame, (off, data) in enumerate(segments, start=1):
        chunks += r.segment((isn + 1 + off) & MASK32, data, frame, float(frame))
    flush_frame = len(segments) + 1
    chunks += r.flush(flush_frame, float(flush_frame))
    return r, chunks, flush_frame


def contiguous_frames(n: int, segments: list[Segment], flush_frame: int) -> list[int]:
    """For each stream byte, the first frame after which all bytes up to it had been seen
    (bytes never made contiguous get the flush frame)."""
    seen = bytearray(n)
    frame_of = [flush_frame] * n
    edge = 0
    for frame, (off, data) in enumerate(segments, start=1):
        seen[off:off + len(data)] = b"\x01" * len(data)
        while edge < n and seen[edge]:
            frame_of[edge] = frame
            edge += 1
    return frame_of


def per_byte(chunks) -> tuple[bytes, list[int], list[tuple[int, int]]]:
    """Delivered bytes, the frame of each, and the gaps as (position, length)."""
    out = bytearray()
    frames: list[int] = []
    gaps: list[tuple[int, int]] = []
    for data, frame, _ts in chunks:
        if isinstance(data, int):
            gaps.append((len(out), data))
            out += b"\0" * data
            frames += [frame] * data
        else:
            out += data
            frames += [frame] * len(data)
    return bytes(out), frames, gaps


@settings(max_examples=examples(200), deadline=None)
@given(data=st.data(), stream=st.binary(min_size=1, max_size=2000), isn=ISN)
def test_any_order_yields_the_stream(data: st.DataObject, stream: bytes, isn: int) -> None:
    segs = data.draw(cut(stream), label="segments")
    order = data.draw(scrambled(stream, segs), label="order")
    r, chunks, flush_frame = feed(isn, order)
    out, frames, gaps = per_byte(chunks)
    assert gaps == []
    assert out == stream
    assert frames == contiguous_frames(len(stream), order, flush_frame)
    assert not r.pending and r.pending_bytes == 0
    assert r.gaps == 0 and r.overlap_conflicts == 0
    assert r.next_seq == (isn + 1 + len(stream)) & MASK32


@settings(max_examples=examples(150), deadline=None)
@given(data=st.data(), stream=st.binary(min_size=3, max_size=2000), isn=ISN)
def test_a_missing_segment_is_one_gap_in_its_place(data: st.DataObject, stream: bytes, isn: int) -> None:
    segs = data.draw(cut(stream).filter(lambda s: len(s) >= 2), label="segments")
    lost = data.draw(st.integers(0, len(segs) - 2), label="lost segment")  # data follows it
    a, hole = segs[lost]
    kept = [s for i, s in enumerate(segs) if i != lost]
    order = data.draw(scrambled(stream, kept).map(
        lambda o: [s for s in o if s[0] + len(s[1]) <= a or s[0] >= a + len(hole)]), label="order")
    r, chunks, flush_frame = feed(isn, order)
    out, frames, gaps = per_byte(chunks)
    assert gaps == [(a, len(hole))]
    assert out[:a] == stream[:a] and out[a + len(hole):] == stream[a + len(hole):]
    assert len(out) == len(stream)
    assert r.gaps == 1 and r.gap_bytes == len(hole)
    # Before the hole: the frame that made each byte contiguous; from the hole on: the flush.
    assert frames[:a] == contiguous_frames(len(stream), order, flush_frame)[:a]
    assert set(frames[a:]) == {flush_frame}


@settings(max_examples=examples(100), deadline=None)
@given(data=st.data(), stream=st.binary(min_size=3, max_size=2000), isn=ISN)
def test_acknowledged_hole_is_reported_at_once(data: st.DataObject, stream: bytes, isn: int) -> None:
    """In order, one segment missing, and the receiver has acknowledged the whole stream: the
    gap is reported by the first segment after the hole, not held until the flush."""
    segs = data.draw(cut(stream).filter(lambda s: len(s) >= 2), label="segments")
    lost = data.draw(st.integers(0, len(segs) - 2), label="lost segment")
    a, hole = segs[lost]
    r = StreamReassembler()
    r.syn(isn)
    r.peer_ack = (isn + 1 + len(stream)) & MASK32
    chunks = []
    for frame, (off, payload) in enumerate(segs, start=1):
        if frame - 1 == lost:
            continue
        chunks += r.segment((isn + 1 + off) & MASK32, payload, frame, 0.0)
    out, frames, gaps = per_byte(chunks)
    assert out == stream[:a] + b"\0" * len(hole) + stream[a + len(hole):]
    assert gaps == [(a, len(hole))]
    assert frames[a] == lost + 2  # the frame of the segment right after the hole
    assert r.flush(99, 0.0) == []


@settings(max_examples=examples(150), deadline=None)
@given(data=st.data(), stream=st.binary(min_size=4, max_size=2000), isn=ISN)
def test_ack_past_a_hole_releases_what_follows(data: st.DataObject, stream: bytes, isn: int) -> None:
    """Segments in order with up to two lost; then the receiver's ACK number P arrives. Every
    hole that ends at or before P (the receiver has its bytes) becomes a gap at once, with the
    bytes after it up to the next hole, attributed to the ACK's frame; later holes wait."""
    segs = data.draw(cut(stream).filter(lambda s: len(s) >= 3), label="segments")
    lost = sorted(data.draw(st.sets(st.integers(0, len(segs) - 2), min_size=1, max_size=2), label="lost"))
    r = StreamReassembler()
    r.syn(isn)
    delivered = bytearray()
    for frame, (off, payload) in enumerate(segs, start=1):
        if frame - 1 in lost:
            continue
        for item, _f, _t in r.segment((isn + 1 + off) & MASK32, payload, frame, 0.0):
            assert not isinstance(item, int)
            delivered += item
    first_hole = segs[lost[0]][0]
    assert bytes(delivered) == stream[:first_hole]
    ack_pos = data.draw(st.integers(0, len(stream)), label="ack position")
    released = r.acked((isn + 1 + ack_pos) & MASK32, 777, 1.0)
    # Expected, from the holes: release through every hole whose end the ACK covers.
    expected: list = []
    pos = first_hole
    holes: list[tuple[int, int]] = []
    for i in lost:  # adjacent lost segments make one hole
        a, b = segs[i][0], segs[i][0] + len(segs[i][1])
        if holes and holes[-1][1] == a:
            holes[-1] = (holes[-1][0], b)
        else:
            holes.append((a, b))
    for k, (a, b) in enumerate(holes):
        if ack_pos < b or a != pos:
            break
        expected.append(b - a)
        nxt = holes[k + 1][0] if k + 1 < len(holes) else len(stream)
        expected.append(stream[b:nxt])
        pos = nxt
    got = [item for item, _f, _t in released]
    assert [g for g in got if isinstance(g, int)] == [e for e in expected if isinstance(e, int)]
    assert b"".join(g for g in got if not isinstance(g, int)) == b"".join(e for e in expected if not isinstance(e, int))
    assert all(f == 777 for _i, f, _t in released)
    rest = r.flush(800, 2.0)  # whatever was not released comes out at the end, nothing twice
    out, _frames, gaps = per_byte([(bytes(delivered), 0, 0.0)] + released + rest)
    assert len(out) == len(stream) and [g[1] for g in gaps] == [b - a for a, b in holes]


@settings(max_examples=examples(150), deadline=None)
@given(data=st.data(), stream=st.binary(min_size=2, max_size=3000), isn=ISN,
       cap=st.integers(1, 600), acked=st.booleans())
def test_delivered_bytes_are_never_wrong(data: st.DataObject, stream: bytes, isn: int, cap: int, acked: bool) -> None:
    """With a tiny out-of-order cap, an ACK that covers everything, losses and any order:
    every delivered byte is the stream's byte at that position, gaps included, and the
    buffer never holds more than the cap plus one segment."""
    segs = data.draw(cut(stream, 60), label="segments")
    order = data.draw(scrambled(stream, segs), label="order")
    drop = data.draw(st.sets(st.integers(0, len(order) - 1), max_size=3), label="dropped")
    order = [s for i, s in enumerate(order) if i not in drop]
    r = StreamReassembler(max_pending=cap)
    r.syn(isn)
    if acked:
        r.peer_ack = (isn + 1 + len(stream)) & MASK32
    pos = 0
    biggest = 0
    for frame, (off, payload) in enumerate(order, start=1):
        biggest = max(biggest, len(payload))
        for item, _f, _t in r.segment((isn + 1 + off) & MASK32, payload, frame, 0.0):
            if isinstance(item, int):
                assert item > 0
                pos += item
            else:
                assert item == stream[pos:pos + len(item)]
                pos += len(item)
        assert r.pending_bytes <= cap + 2 * biggest  # overlapping copies count twice
    for item, _f, _t in r.flush(0, 0.0):
        if isinstance(item, int):
            pos += item
        else:
            assert item == stream[pos:pos + len(item)]
            pos += len(item)
    assert pos <= len(stream)
    assert r.pending_bytes == 0


@settings(max_examples=examples(50), deadline=None)
@given(stream=st.binary(min_size=1, max_size=500), isn=ISN, data=st.data())
def test_conflicting_retransmission_keeps_the_first_bytes(stream: bytes, isn: int, data: st.DataObject) -> None:
    """A retransmission of delivered bytes with other content changes nothing delivered
    (the first copy wins, as the receiver's stack kept it)."""
    segs = data.draw(cut(stream), label="segments")
    r = StreamReassembler()
    r.syn(isn)
    chunks = []
    for frame, (off, payload) in enumerate(segs, start=1):
        chunks += r.segment((isn + 1 + off) & MASK32, payload, frame, 0.0)
    forged = bytes(b ^ 0xFF for b in stream)
    assert r.segment((isn + 1) & MASK32, forged, 999, 0.0) == []
    out, _frames, gaps = per_byte(chunks + r.flush(1000, 0.0))
    assert out == stream and gaps == []


def test_wrap_example_by_hand() -> None:
    """ISN 0xFFFFFFFE: the first data byte has sequence number 0xFFFFFFFF, the second 0."""
    r = StreamReassembler()
    r.syn(0xFFFFFFFE)
    assert r.segment(0x00000001, b"CD", 2, 0.0) == []  # ahead of the expected byte: buffered
    assert r.segment(0xFFFFFFFF, b"AB", 3, 0.0) == [(b"AB", 3, 0.0), (b"CD", 3, 0.0)]
    r.fin(0x00000003, 0)
    assert r.finished


def test_fin_marks_the_end() -> None:
    r = StreamReassembler()
    r.syn(100)
    r.segment(101, b"hello", 1, 0.0)
    r.fin(106, 0)
    assert r.finished
    r2 = StreamReassembler()
    r2.syn(100)
    r2.fin(106, 0)
    r2.segment(104, b"lo", 1, 0.0)  # the end is known, the start is missing
    assert not r2.finished
