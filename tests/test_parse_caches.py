"""The handshake parsers' shared caches: bounded, and never a way for one connection's result
to change another's (docs/limits.md lists them)."""

from __future__ import annotations

import struct

from tlsdissect.tls import extensions

from tlsdissect.tls import handshake

from tlsdissect.tls import jsonforms
from tlsdissect.tls.handshake import parse_client_hello


def _ext(etype: int, body: bytes) -> bytes:
    return struct.pack(">HH", etype, len(body)) + body


def _sni(name: str) -> bytes:
    host = name.encode()
    entry = b"\x00" + struct.pack(">H", len(host)) + host
    return _ext(0, struct.pack(">H", len(entry)) + entry)


def _groups(*groups: int) -> bytes:
    raw = b"".join(struct.pack(">H", g) for g in groups)
    return _ext(10, struct.pack(">H", len(raw)) + raw)


def _hello(*exts: bytes, suites: tuple[int, ...] = (0x1301, 0xC02F)) -> bytes:
    """A ClientHello body as RFC 8446 section 4.1.2 lays it out."""
    suite_bytes = b"".join(struct.pack(">H", s) for s in suites)
    block = b"".join(exts)
    return (b"\x03\x03" + bytes(range(32)) + b"\x00" + struct.pack(">H", len(suite_bytes)) + suite_bytes
            + b"\x01\x00" + struct.pack(">H", len(block)) + block)


def test_repeated_extensions_share_a_decode_but_not_objects() -> None:
    body = _hello(_sni("a.example"), _groups(29, 23), _ext(35, b""), _ext(21, b"\x00" * 7))
    first, second = parse_client_hello(body), parse_client_hello(body)
    assert second.extensions[1]._template is not None  # found by its bytes, decode shared
    assert first == second
    first.extensions[1].decoded["groups"].append(99)  # a user changes one connection's result
    first.extensions[0].decoded["host_names"][0] = "changed"
    third = parse_client_hello(body)
    assert second.extensions[1].decoded["groups"] == [29, 23]
    assert third.extensions[1].decoded["groups"] == [29, 23]
    assert third.server_name == "a.example"
    assert third.extensions[1].to_dict() == {"type": 10, "name": "supported_groups", "length": 6,
                                             "groups": [29, 23], "groups_names": ["x25519", "secp256r1"]}
    assert third.extensions[2].decoded == {"ticket_length": 0}
    assert third.extensions[3].decoded == {"padding_length": 7}


def test_extension_caches_are_bounded() -> None:
    for i in range(extensions._CACHE_MAX + 50):
        parse_client_hello(_hello(_groups(i & 0xFFFF, 29)))
        assert len(extensions._decode_cache) <= extensions._CACHE_MAX
        assert sum(len(v) for v in extensions._repeats.values()) <= extensions._CACHE_MAX


def test_cipher_suite_caches_are_bounded() -> None:
    for i in range(handshake._SUITES_MAX + 20):
        hello = parse_client_hello(_hello(suites=(i & 0xFFFF, 0x1301)))
        hello.json_form()
        hello.json_form(True)
        assert len(handshake._suites_cache) <= handshake._SUITES_MAX
        assert len(jsonforms._suite_names) <= jsonforms._SUITE_NAMES_MAX


def test_hello_facts_follow_a_changed_extension_list() -> None:
    hello = parse_client_hello(_hello(_sni("a.example")))
    assert hello.server_name == "a.example"
    assert hello.max_version == 0x0303  # no supported_versions: the legacy version
    hello.extensions = parse_client_hello(_hello(_sni("b.example"), _ext(43, b"\x04\x03\x04\x03\x03"))).extensions
    assert hello.server_name == "b.example"
    assert hello.supported_versions == [0x0304, 0x0303]
    assert hello.max_version == 0x0304
    hello.extensions.pop(0)  # changed in place
    assert hello.server_name is None
