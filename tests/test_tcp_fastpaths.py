"""The per-packet fast paths give what the general code gives (helper "tcp")."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from tlsdissect.packet import _ether, decode_flow


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
