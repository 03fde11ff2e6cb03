"""Properties of handshake message and extension parsing (tlsdissect.tls.handshake/extensions).

- Any bytes, any message type, any negotiated version and suite: parse_message returns or
  raises ParseError, nothing else (no IndexError, struct.error, UnicodeError, ValueError).
- Messages encoded here from the RFC structures (RFC 5246 7.4, RFC 8446 4, RFC 6066 3) with
  random field values parse back to those values; extensions with arbitrary contents inside
  a well-formed extensions block never fail their message (they carry ``error``).
- The real handshake messages of the lab captures, truncated or with bytes changed, still
  only ever raise ParseError.
"""

from __future__ import annotations

import functools
import struct
from typing import Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tlsdissect.tls import handshake as hs
from tlsdissect.tls import tables
from tlsdissect.errors import ParseError
from tlsdissect.tls.extensions import parse_extensions
from segmenting import examples, extract_conversations
from shared_captures import LAB_CAPTURES

VERSIONS = st.one_of(
    st.none(),
    st.sampled_from(
        (0x0002, 0x0300, 0x0301, 0x0302, 0x0303, 0x0304, 0x7F12, 0x7F1C, 0xFB17)
    ),
    st.integers(0, 0xFFFF),
)
# Suites that select each ServerKeyExchange layout (RFC 4492, 5246, 4279, 5054, 4346 export).
SUITES = st.one_of(
    st.none(),
    st.sampled_from(
        (
            0xC02F,
            0xC02B,
            0x009E,
            0x0033,
            0x0018,
            0xC018,
            0x008C,
            0x0090,
            0x00AE,
            0xC01A,
            0x0003,
            0x0062,
            0x002F,
            0x1301,
            0x00FF,
        )
    ),
    st.integers(0, 0xFFFF),
)
DECODED_EXTENSIONS = (
    0,
    1,
    5,
    10,
    11,
    13,
    16,
    21,
    22,
    23,
    27,
    28,
    35,
    41,
    42,
    43,
    44,
    45,
    47,
    49,
    50,
    51,
    17513,
    17613,
    65037,
    65281,
)
WHERE = (
    "client_hello",
    "server_hello",
    "hello_retry_request",
    "encrypted_extensions",
    "certificate",
    "certificate_request",
    "new_session_ticket",
)


def parse_or_parse_error(
    msg_type: int, body: bytes, ctx: hs.ParseContext
) -> Optional[object]:
    try:
        return hs.parse_message(msg_type, body, ctx)
    except ParseError:
        return None


def u16(n: int) -> bytes:
    return n.to_bytes(2, "big")


def u24(n: int) -> bytes:
    return n.to_bytes(3, "big")


def vec8(b: bytes) -> bytes:
    return bytes([len(b)]) + b


def vec16(b: bytes) -> bytes:
    return u16(len(b)) + b


def vec24(b: bytes) -> bytes:
    return u24(len(b)) + b


def extensions_block(exts: list[tuple[int, bytes]]) -> bytes:
    return vec16(b"".join(u16(t) + vec16(d) for t, d in exts))


@settings(max_examples=examples(600), deadline=None)
@given(
    msg_type=st.integers(0, 255),
    body=st.binary(max_size=400),
    version=VERSIONS,
    suite=SUITES,
)
def test_any_bytes_only_parse_error(msg_type: int, body: bytes, version, suite) -> None:
    parse_or_parse_error(msg_type, body, hs.ParseContext(version, suite))


ext_data = st.one_of(
    st.binary(max_size=60),
    st.binary(max_size=8).map(vec8),
    st.binary(max_size=8).map(vec16),
    st.lists(st.binary(max_size=6).map(vec16), max_size=3).map(
        lambda l: vec16(b"".join(l))
    ),
)
extension = st.tuples(
    st.one_of(st.sampled_from(DECODED_EXTENSIONS), st.integers(0, 0xFFFF)), ext_data
)


@settings(max_examples=examples(300), deadline=None)
@given(where=st.sampled_from(WHERE), exts=st.lists(extension, max_size=8))
def test_bad_extension_contents_never_fail_the_block(
    where: str, exts: list[tuple[int, bytes]]
) -> None:
    """extensions.py's contract: a malformed extension is kept with ``error``; only a block
    whose lengths do not add up raises."""
    block = extensions_block(exts)
    parsed = parse_extensions(hs.Cursor(block, "test").sub16("extensions"), where)
    assert [(e.type, e.length) for e in parsed] == [(t, len(d)) for t, d in exts]
    for e in parsed:
        assert e.error is None or e.decoded is None
        assert e.grease == tables.is_grease(e.type)


hostname = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12),
                    min_size=1, max_size=4).map(".".join)


@settings(max_examples=examples(200), deadline=None)
@given(
    version=st.integers(0x0300, 0x0303),
    random=st.binary(min_size=32, max_size=32),
    session_id=st.binary(max_size=32),
    suites=st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=40),
    name=hostname,
    versions=st.lists(st.integers(0, 0xFFFF), max_size=6),
    alpn=st.lists(
        st.text(alphabet="abcdefgh/1.2", min_size=1, max_size=10), max_size=4
    ),
    junk=st.lists(extension, max_size=4),
)
def test_client_hello_round_trip(
    version, random, session_id, suites, name, versions, alpn, junk
) -> None:
    sni = vec16(b"\x00" + vec16(name.encode()))
    alpn_ext = vec16(b"".join(vec8(p.encode()) for p in alpn))
    exts = [
        (0, sni),
        (43, vec8(b"".join(u16(v) for v in versions))),
        (16, alpn_ext),
    ] + [(t, d) for t, d in junk if t not in (0, 43, 16)]
    body = (
        u16(version)
        + random
        + vec8(session_id)
        + vec16(b"".join(u16(s) for s in suites))
        + vec8(b"\x00")
        + extensions_block(exts)
    )
    ch = hs.parse_message(hs.CLIENT_HELLO, body, hs.ParseContext())
    assert isinstance(ch, hs.ClientHello)
    assert (ch.legacy_version, ch.random, ch.session_id, ch.cipher_suites) == (
        version,
        random,
        session_id,
        suites,
    )
    assert ch.server_name == name
    assert ch.supported_versions == versions
    assert ch.alpn == alpn
    assert len(ch.extensions) == len(exts) and not ch.malformed


@settings(max_examples=examples(200), deadline=None)
@given(
    hrr=st.booleans(),
    suite=st.integers(0, 0xFFFF),
    selected=st.one_of(st.none(), st.integers(0, 0xFFFF)),
    group=st.integers(0, 0xFFFF),
    session_id=st.binary(max_size=32),
)
def test_server_hello_round_trip(hrr, suite, selected, group, session_id) -> None:
    random = hs.HRR_RANDOM if hrr else bytes(range(32))
    exts = [] if selected is None else [(43, u16(selected))]
    exts.append((51, u16(group) if hrr else u16(group) + vec16(b"\x42" * 32)))
    body = (
        u16(0x0303)
        + random
        + vec8(session_id)
        + u16(suite)
        + b"\x00"
        + extensions_block(exts)
    )
    sh = hs.parse_message(hs.SERVER_HELLO, body, hs.ParseContext())
    assert sh.is_hello_retry_request == hrr
    assert sh.cipher_suite == suite and sh.session_id == session_id
    assert sh.version == (0x0303 if selected is None else selected)
    ks = sh.ext(51)
    assert ks is not None and ks.decoded["group"] == group
    assert ("key_length" in ks.decoded) == (not hrr)


@settings(max_examples=examples(150), deadline=None)
@given(
    ders=st.lists(st.binary(max_size=300), max_size=5),
    tls13=st.booleans(),
    context=st.binary(max_size=4),
    ocsp=st.binary(max_size=40),
)
def test_certificate_round_trip(ders, tls13, context, ocsp) -> None:
    if tls13:
        status = (
            5,
            b"\x01" + vec24(ocsp),
        )  # RFC 8446 4.4.2.1: OCSP staple in the entry
        entries = b"".join(vec24(d) + extensions_block([status]) for d in ders)
        body = vec8(context) + vec24(entries)
    else:
        body = vec24(b"".join(vec24(d) for d in ders))
    cert = hs.parse_message(
        hs.CERTIFICATE, body, hs.ParseContext(0x0304 if tls13 else 0x0303)
    )
    assert cert.ders == ders
    if tls13:
        assert cert.request_context == context
        assert all(
            e.extensions[0].decoded
            == {"status_type": 1, "ocsp_response_length": len(ocsp)}
            for e in cert.entries
        )


@settings(max_examples=examples(100), deadline=None)
@given(
    curve=st.integers(0, 0xFFFF),
    point=st.binary(min_size=1, max_size=97),
    sig=st.binary(max_size=256),
    alg=st.integers(0, 0xFFFF),
)
def test_ecdhe_server_key_exchange_round_trip(curve, point, sig, alg) -> None:
    """RFC 8422 5.4: ServerECDHParams (named_curve) then a TLS 1.2 digitally-signed struct."""
    body = b"\x03" + u16(curve) + vec8(point) + u16(alg) + vec16(sig)
    ske = hs.parse_message(
        hs.SERVER_KEY_EXCHANGE, body, hs.ParseContext(0x0303, 0xC02F)
    )
    assert (ske.kind, ske.named_group, ske.public_key_length) == (
        "ecdhe",
        curve,
        len(point),
    )
    assert (ske.signature_algorithm, ske.signature_length) == (alg, len(sig))


# -- real messages, damaged ----------------------------------------------------------------


def _handshake_messages(stream: bytes) -> list[tuple[int, bytes]]:
    """Clear handshake messages at the start of a stream (up to the first non-handshake
    record), read from the record and handshake headers here, not by the engine."""
    payload = bytearray()
    pos = 0
    while pos + 5 <= len(stream) and stream[pos] == 22:
        n = int.from_bytes(stream[pos + 3 : pos + 5], "big")
        payload += stream[pos + 5 : pos + 5 + n]
        pos += 5 + n
    out = []
    i = 0
    while i + 4 <= len(payload):
        n = int.from_bytes(payload[i + 1 : i + 4], "big")
        if i + 4 + n > len(payload):
            break
        out.append((payload[i], bytes(payload[i + 4 : i + 4 + n])))
        i += 4 + n
    return out


@functools.lru_cache(maxsize=None)
def real_messages() -> tuple[tuple[int, bytes, Optional[int], Optional[int]], ...]:
    """(type, body, version, suite) of every clear handshake message of the lab captures;
    version and suite read from the ServerHello bytes (RFC 5246 7.4.1.3 layout)."""
    out = []
    for path in sorted(LAB_CAPTURES.glob("*/capture.pcap")):
        for conv in extract_conversations(path):
            if not conv.syn_seen:
                continue  # direction 1 is the server only when the SYN was captured
            server = _handshake_messages(conv.stream(1))
            version = suite = None
            for t, body in server:
                if t == 2 and len(body) >= 35 and len(body) >= 35 + body[34] + 2:
                    version = int.from_bytes(body[:2], "big")
                    suite = int.from_bytes(body[35 + body[34] : 37 + body[34]], "big")
            for t, body in _handshake_messages(conv.stream(0)) + server:
                out.append((t, body, version, suite))
    return tuple(out)


def test_real_messages_parse() -> None:
    """Sanity for the damage test below: undamaged, the real messages parse."""
    msgs = real_messages()
    if not msgs:
        pytest.skip("no lab captures in captures/")
    for t, body, version, suite in msgs:
        hs.parse_message(t, body, hs.ParseContext(version, suite))


@settings(max_examples=examples(400), deadline=None)
@given(data=st.data())
def test_damaged_real_messages_only_parse_error(data: st.DataObject) -> None:
    msgs = real_messages()
    if not msgs:
        pytest.skip("no lab captures in captures/")
    t, body, version, suite = data.draw(st.sampled_from(msgs), label="message")
    b = bytearray(body)
    for _ in range(data.draw(st.integers(0, 4), label="changes")):
        if not b:
            break
        i = data.draw(st.integers(0, len(b) - 1))
        kind = data.draw(st.sampled_from(("set", "truncate", "insert", "delete")))
        if kind == "set":
            b[i] = data.draw(st.sampled_from((0, 1, 0x7F, 0x80, 0xFF, b[i] ^ 1)))
        elif kind == "truncate":
            del b[i:]
        elif kind == "insert":
            b[i:i] = data.draw(st.binary(min_size=1, max_size=3))
        else:
            del b[i : i + data.draw(st.integers(1, 4))]
    ctx_version = data.draw(st.one_of(st.just(version), VERSIONS), label="version")
    parse_or_parse_error(t, bytes(b), hs.ParseContext(ctx_version, suite))


def test_sslv2_client_hello_fuzz_by_hand() -> None:
    """RFC 5246 E.2 layout; cipher_spec_length not a multiple of 3 is a ParseError."""
    good = (
        b"\x01\x03\x01"
        + struct.pack("!HHH", 6, 0, 16)
        + b"\x00\x00\x2f\x00\x00\x35"
        + b"C" * 16
    )
    ch = hs.parse_sslv2_client_hello(good)
    assert ch.cipher_suites == [0x2F, 0x35] and ch.legacy_version == 0x0301
    for cut in range(len(good)):
        with pytest.raises(ParseError):
            hs.parse_sslv2_client_hello(good[:cut])
    with pytest.raises(ParseError):
        hs.parse_sslv2_client_hello(
            b"\x01\x03\x01" + struct.pack("!HHH", 5, 0, 16) + b"\0" * 21
        )
