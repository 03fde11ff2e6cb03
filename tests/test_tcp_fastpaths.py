"""The per-packet fast paths give what the general code gives (helper "tcp")."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from tlsdissect.capture.packet import _ether, decode_flow


def _general(data: bytes):
    try:
        return _ether(data, 0, 0)
    except (struct.error, IndexError):
        return None


def _frame(ipv6: bool, body: bytes, patch: list[tuple[int, int]], cut: int) -> bytes:
    if ipv6:
        head = bytearray(b"\x00" * 12 + b"\x86\xdd" + b"\x60" + b"\x00" * 3 + b"\x00\x20" + b"\x06\x40"
                         + bytes(range(32)) + b"\x01\xbb\xc0\x00" + b"\x00" * 8 + b"\x50\x18" + b"\x00" * 6)
    else:
        head = bytearray(b"\x00" * 12 + b"\x08\x00" + b"\x45\x00\x00\x40" + b"\x00" * 4 + b"\x40\x06"
                         + b"\x00" * 2 + bytes(range(12)) + b"\x00" * 8 + b"\x50\x18" + b"\x00" * 6)
    frame = head + body
    for pos, value in patch:
        if pos < len(frame):
            frame[pos] = value
    return bytes(frame[:cut])


@settings(max_examples=3000, deadline=None)
@given(st.booleans(), st.binary(max_size=40),
       st.lists(st.tuples(st.integers(12, 60), st.integers(0, 255)), max_size=4), st.integers(0, 140))
def test_ethernet_fast_path_matches_general_path(ipv6, body, patch, cut):
    data = _frame(ipv6, body, patch, cut)
    assert decode_flow(1, data) == _general(data)


def test_flag_table_matches_the_flag_tests():
    from tlsdissect.tcp.flows import _CONTROL, _FLAG_BITS
    from tlsdissect.capture.packet import ACK, RST

    for f in range(256):
        assert _FLAG_BITS[f] == (bool(f & _CONTROL), bool(f & ACK), bool(f & RST))


def test_shared_pairs_are_replaced_on_write_not_changed_in_place():
    from tlsdissect.capture.packet import ACK, FIN, RST, SYN, flow_key
    from tlsdissect.pipeline.analyzer import Sessions
    from tlsdissect.tcp.flows import FlowTable

    table = FlowTable(Sessions())
    a, b = b"\x0a\x00\x00\x01", b"\x0a\x00\x00\x02"
    k0, k1 = flow_key(a, b, 40000, 443), flow_key(b, a, 443, 40000)
    table.flow(1, 0.0, (k0, 100, 0, SYN, b"", 64, 65535))
    first = table.table[k0][0]
    table.flow(2, 0.1, (k1, 500, 101, SYN | ACK, b"", 60, 65535))
    table.flow(3, 0.2, (k0, 101, 501, ACK | FIN, b"", 64, 65535))
    assert first.fin == ((3, 0.2), None)
    table.flow(4, 0.3, (k1, 501, 102, RST, b"", 61, 65535))
    assert first.rst == (None, (4, 0.3)) and first.rst_ttl == (None, 61)
    # another connection still starts from untouched pairs
    table.flow(5, 0.4, (flow_key(a, b, 40001, 443), 7, 0, SYN, b"", 64, 65535))
    other = table.table[flow_key(a, b, 40001, 443)][0]
    assert other.fin == (None, None) and other.rst == (None, None) and other.rst_mid_record == (0, 0)
