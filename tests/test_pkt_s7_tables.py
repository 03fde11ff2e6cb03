"""The per-packet path's tables and arithmetic that stand for bit operations (helper "pkt").

analyzer._run and TcpConnection.packet index tables by a segment's flags instead of testing
bits with "&", and the in-order fast path wraps the next sequence number with a comparison:
these tests compare each with the operation it replaces, on every input or on random and edge
ones.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tlsdissect.pipeline.analyzer import Sessions
from tlsdissect.tcp.flows import NEEDS_FLOW_TABLE, SYN_OR_QUOTE, _SYN_FIN, FlowTable
from tlsdissect.capture.packet import ACK, FIN, ICMP_QUOTE, PSH, SYN, flow_key


def test_flag_tables_match_the_bit_tests() -> None:
    assert ICMP_QUOTE > 0xFF  # above every TCP flags byte
    assert len(NEEDS_FLOW_TABLE) == ICMP_QUOTE + 1
    for f in list(range(256)) + [ICMP_QUOTE]:
        assert NEEDS_FLOW_TABLE[f] == bool(f & SYN_OR_QUOTE)
    for f in range(256):
        assert _SYN_FIN[f] == (bool(f & SYN), bool(f & FIN))


def _in_order_next_seq(seq: int, n: int) -> int:
    """The fast path's next sequence number (flows.TcpConnection.packet)."""
    table = FlowTable(Sessions())
    a, b = b"\x0a\x00\x00\x01", b"\x0a\x00\x00\x02"
    isn = (seq - 1) & 0xFFFFFFFF
    table.flow(1, 0.0, (flow_key(a, b, 40000, 443), isn, 0, SYN, b"", 64, 65535))
    conn = table.table[flow_key(a, b, 40000, 443)][0]
    conn.packet(0, 2, 0.1, seq, 0, ACK | PSH, b"\x16" * n, 64, 65535)
    return conn.reasm[0].next_seq


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.integers(0, 0xFFFFFFFF), st.integers(0xFFFFFF00, 0xFFFFFFFF), st.integers(0, 0x100)),
       st.integers(1, 3000))
def test_in_order_next_seq_wraps_like_the_mask(seq: int, n: int) -> None:
    assert _in_order_next_seq(seq, n) == (seq + n) & 0xFFFFFFFF


def test_in_order_next_seq_edges() -> None:
    for seq, n in ((0xFFFFFFFF, 1), (0xFFFFFFFF, 2), (0xFFFFFFFE, 2), (0xFFFFFF00, 0x100), (0, 1), (1, 7)):
        assert _in_order_next_seq(seq, n) == (seq + n) & 0xFFFFFFFF
