"""Hostile captures, 6: a retransmission that rewrites bytes is reported, with both frames.

Before, only two buffered copies were compared: a rewriting copy that came after the original
had been delivered (the injection race an on-path attacker wins or loses) was just counted as
a retransmission. Now each direction keeps (a reference to) the last bytes it delivered and
compares what comes again; TCP keep-alives (one garbage byte just below the edge) are not
rewrites.
"""

from __future__ import annotations

from tlsdissect.pipeline.analyzer import analyze
from tlsdissect.tcp.reassembly import LAST_BYTES, StreamReassembler

from tests.hostile.tcp_hostile_pcaps import rewritten_after_delivery

ISN = 0xFFFFFFF0
MASK = 0xFFFFFFFF


def seq(offset: int) -> int:
    return (ISN + 1 + offset) & MASK


def test_a_rewritten_client_hello_is_reported_with_both_frames() -> None:
    capture, first, second = rewritten_after_delivery("real.example", "evil.example")
    (conn,) = analyze(capture).connections
    assert conn.server_name == "real.example"  # the copy the server acknowledged
    (note,) = [a.info for a in conn.anomalies if a.info["name"] == "conflicting_retransmission"]
    assert note["frames"] == [first, second]
    assert "possible injection" in note["detail"]
    assert f"frame {second} carried other bytes than frame {first}" in note["detail"]
    assert conn.client_stats.retransmissions == 1


def test_identical_retransmissions_and_keep_alives_are_not_conflicts() -> None:
    r = StreamReassembler()
    r.syn(ISN)
    r.segment(seq(0), b"hello world", 1, 0.0)
    assert r.segment(seq(0), b"hello world", 2, 0.0) == []  # an honest retransmission
    assert r.segment(seq(10), b"\x00", 3, 0.0) == []  # a keep-alive: 1 byte at next - 1
    assert r.retransmitted == 2 and r.overlap_conflicts == 0


def test_the_first_differing_byte_is_named() -> None:
    r = StreamReassembler()
    r.syn(ISN)
    r.segment(seq(0), b"abcdefghij" * 20, 1, 0.0)
    forged = bytearray(b"abcdefghij" * 20)
    forged[137] ^= 1
    r.segment(seq(100), bytes(forged[100:]), 2, 0.0)  # the last 100 bytes, again
    assert r.overlap_conflicts == 1
    assert r.first_conflict == (1, 2, seq(137))


def test_a_partial_overlap_is_compared_and_its_new_part_kept() -> None:
    r = StreamReassembler()
    r.syn(ISN)
    r.segment(seq(0), b"0123456789", 1, 0.0)
    out = r.segment(seq(5), b"XXXXXabcde", 2, 0.0)  # 5 bytes again (other ones), then 5 new
    assert out == [(b"abcde", 2, 0.0)]
    assert r.first_conflict == (1, 2, seq(5))


def test_only_the_last_delivered_bytes_are_kept() -> None:
    """The bound: what a direction keeps is its last delivery, at most LAST_BYTES of it (a
    reference to the payload, no copy and no hash on the per-packet path); a rewrite of older
    bytes goes by as a plain retransmission."""
    r = StreamReassembler()
    r.syn(ISN)
    big = bytes(range(256)) * (2 * LAST_BYTES // 256)
    r.segment(seq(0), big, 1, 0.0)
    assert len(r.last) == LAST_BYTES
    r.segment(seq(0), b"\xff" * 10, 2, 0.0)  # before the kept tail: not compared
    assert r.overlap_conflicts == 0 and r.retransmitted == 1
    r.segment(seq(len(big) - 10), b"\xff" * 10, 3, 0.0)  # inside it
    assert r.overlap_conflicts == 1


def test_buffered_copies_report_both_frames_too() -> None:
    r = StreamReassembler()
    r.syn(ISN)
    r.segment(seq(0), b"a", 1, 0.0)
    r.segment(seq(5), b"56789", 2, 0.0)  # after a hole: buffered
    r.segment(seq(7), b"7Z9", 3, 0.0)  # a second copy, partly other bytes
    assert r.first_conflict == (2, 3, seq(8))
    out = r.segment(seq(1), b"1234", 4, 0.0)
    assert b"".join(c for c, _f, _t in out) == b"123456789"  # the first copy won


def test_in_order_bytes_are_compared_with_buffered_ones() -> None:
    """In order, bytes go out as they are (as a receiver takes them); a buffered copy of some of
    them that differs is a conflict."""
    r = StreamReassembler()
    r.syn(ISN)
    r.segment(seq(4), b"EFGH", 1, 0.0)
    out = r.segment(seq(0), b"abcdef", 2, 0.0)
    assert b"".join(c for c, _f, _t in out) == b"abcdefGH"
    assert r.first_conflict == (1, 2, seq(4))
