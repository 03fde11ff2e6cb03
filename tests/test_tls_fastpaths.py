"""The fast paths of the record layer's resynchronisation scans and of the ServerKeyExchange
parser agree with the plain definitions they replace."""

from __future__ import annotations

import random
from typing import Optional

import pytest

from tlsdissect.tls import handshake as hs
from tlsdissect.errors import ParseError
from tlsdissect.tls.boundaries import find_boundary, header_prefix, incomplete_record, plausible_header


def _find_boundary_ref(buf: bytearray, start: int) -> Optional[int]:
    end = len(buf) - 5
    for pos in range(start, end + 1):
        if not plausible_header(buf, pos):
            continue
        nxt = pos + 5 + ((buf[pos + 3] << 8) | buf[pos + 4])
        if nxt == len(buf) or (nxt <= end and plausible_header(buf, nxt)):
            return pos
    return None


def _incomplete_record_ref(buf: bytearray, start: int) -> Optional[int]:
    n = len(buf)
    for pos in range(start, n):
        if n - pos >= 5:
            if plausible_header(buf, pos):
                nxt = pos + 5 + ((buf[pos + 3] << 8) | buf[pos + 4])
                if nxt > n or (nxt < n and header_prefix(buf, nxt)):
                    return pos
        elif header_prefix(buf, pos):
            return pos
    return None


def test_resync_scans_match_the_per_position_definition() -> None:
    rng = random.Random(7)
    alphabet = [0x14, 0x15, 0x16, 0x17, 0x18, 0x03, 0x00, 0x01, 0x04, 0x05, 0x13, 0x19, 0x47, 0xFF]
    for _ in range(4000):
        buf = bytearray(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        if len(buf) > 8 and rng.random() < 0.5:
            p, ln = rng.randint(0, len(buf) - 5), rng.randint(0, len(buf))
            buf[p:p + 5] = bytes([0x16, 3, rng.randint(0, 5), ln >> 8, ln & 0xFF])
        for start in range(4):
            assert find_boundary(buf, start) == _find_boundary_ref(buf, start)
            assert incomplete_record(buf, start) == _incomplete_record_ref(buf, start)


def _ske(group: int, public: bytes, alg: Optional[int], sig: bytes) -> bytes:
    out = bytes([3, group >> 8, group & 0xFF, len(public)]) + public
    if alg is not None:
        out += bytes([alg >> 8, alg & 0xFF])
    return out + len(sig).to_bytes(2, "big") + sig


def test_ecdhe_server_key_exchange_fast_path() -> None:
    body = _ske(29, b"k" * 32, 0x0804, b"s" * 256)
    ske = hs.parse_server_key_exchange(body, 0xC02F, 0x0303)
    assert (ske.kind, ske.named_group, ske.public_key_length, ske.signature_algorithm, ske.signature_length) == (
        "ecdhe", 29, 32, 0x0804, 256)
    old = hs.parse_server_key_exchange(_ske(23, b"k" * 65, None, b"s" * 71), 0xC013, 0x0301)
    assert (old.named_group, old.public_key_length, old.signature_algorithm, old.signature_length) == (23, 65, None, 71)
    bare = hs.parse_server_key_exchange(body[:36], 0xC02F, 0x0303)  # no signature at all
    assert (bare.signature_algorithm, bare.signature_length) == (None, 0)
    for cut in (1, 3, 20, 37, 39, 100):  # truncated: the careful reads word the error
        with pytest.raises(ParseError):
            hs.parse_server_key_exchange(body[:cut], 0xC02F, 0x0303)
