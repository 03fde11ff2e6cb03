"""A repeated extension is one shared, read-only SharedExtension: it reads, compares, copies,
pickles and serialises like the Extension of its own that a first occurrence gets, and no
connection can change what another sees through it."""

from __future__ import annotations

import copy
import pickle
import struct

import pytest

from tlsdissect.tls import extensions
from tlsdissect.tls.extensions import Extension, SharedExtension
from tlsdissect.tls.handshake import parse_client_hello


def _ext(etype: int, body: bytes) -> bytes:
    return struct.pack(">HH", etype, len(body)) + body


def _hello(*exts: bytes) -> bytes:
    block = b"".join(exts)
    return (b"\x03\x03" + bytes(range(32)) + b"\x00" + b"\x00\x04\x13\x01\xc0\x2f" + b"\x01\x00"
            + struct.pack(">H", len(block)) + block)


_SNI = _ext(0, b"\x00\x0e\x00\x00\x0bshared.test")
_GROUPS = _ext(10, b"\x00\x04\x00\x1d\x00\x17")
_BODY = _hello(_SNI, _GROUPS, _ext(0x0A0A, b""), _ext(51, b"\x00\x06\x00\x1d\x00\x02\xab\xcd"),
               _ext(0x1A1A, b"\x00"), _ext(0x7777, b""), _ext(0x7778, b"\x01\x02"))


def test_repeats_are_shared_and_read_only() -> None:
    parse_client_hello(_BODY)  # (the first occurrence fills the cache)
    second, third = parse_client_hello(_BODY), parse_client_hello(_BODY)
    assert second.extensions[0] is third.extensions[0] and isinstance(second.extensions[0], SharedExtension)
    assert second.extensions[1] is third.extensions[1]
    assert second.extensions[3] is not third.extensions[3]  # key_share: never cached
    assert second.extensions[2] is third.extensions[2] and second.extensions[2].grease  # GREASE, empty
    assert second.extensions[4] is third.extensions[4] and second.extensions[4].raw == b"\x00"
    assert second.extensions[5] is third.extensions[5]  # an unknown type, empty
    assert second.extensions[6] is not third.extensions[6]  # unknown, with data: not kept
    shared = second.extensions[1]
    with pytest.raises(AttributeError):
        shared.decoded = {}
    with pytest.raises(AttributeError):
        shared.error = "x"
    groups = shared.decoded
    groups["groups"].append(99)  # a fresh copy: nobody else sees the change
    assert third.extensions[1].decoded["groups"] == [29, 23]
    assert third.server_name == "shared.test"


def test_shared_reads_like_its_own_extension() -> None:
    parse_client_hello(_BODY)
    hello = parse_client_hello(_BODY)
    for e in hello.extensions:
        own = Extension(e.type, e.name, e.length, e.decoded, e.error, e.grease, e.raw)
        assert e == own and own == e
        assert repr(e) == repr(own)
        assert e.to_dict() == own.to_dict()
        for c in (copy.copy(e), copy.deepcopy(e), pickle.loads(pickle.dumps(e))):
            assert c == e and c.to_dict() == e.to_dict()
            c.decoded = {"changed": True}  # a copy is the caller's own
    assert copy.deepcopy(hello) == hello
    assert pickle.loads(pickle.dumps(hello)) == hello


def test_undecoded_repeats_are_bounded() -> None:
    for t in range(1000, 1000 + extensions._CACHE_MAX + 50):
        parse_client_hello(_hello(_ext(t, b"")))
        assert len(extensions._decode_cache) <= extensions._CACHE_MAX
        assert sum(len(v) for v in extensions._repeats.values()) <= extensions._CACHE_MAX
