"""Round 7 of the TLS layer's speed work: the rewritten pieces against their definitions.

- plausible_header (one struct read) against the byte-by-byte definition;
- ClientHello._known (types found in C) against a loop over the extensions;
- on_handshake's per-type dispatch: a malformed message records parse_message's error and keeps
  nothing, a well-formed one is parsed as parse_message parses it;
- a record whose handshake header is read as one number: every message type and length.
"""

from __future__ import annotations

import random
import struct
from typing import Any, Optional

from tlsdissect.tls import handshake as hs
from tlsdissect.errors import ParseError
from tlsdissect.tls.extensions import parse_extension_block, parse_extensions
from tlsdissect.tls.records import MAX_RECORD_PAYLOAD, RecordLayer, plausible_header
from tlsdissect.tls.session import TlsSession


def _plausible_ref(buf: bytes, pos: int) -> bool:
    ct = buf[pos]
    if ct < 20 or ct > 24 or buf[pos + 1] != 3 or buf[pos + 2] > 4:
        return False
    return ((buf[pos + 3] << 8) | buf[pos + 4]) <= MAX_RECORD_PAYLOAD


def test_plausible_header_matches_its_definition() -> None:
    rng = random.Random(71)
    firsts = [0, 19, 20, 21, 22, 23, 24, 25, 0x80, 255]
    lengths = [0, 1, MAX_RECORD_PAYLOAD - 1, MAX_RECORD_PAYLOAD, MAX_RECORD_PAYLOAD + 1, 0xFFFF]
    for _ in range(20000):
        head = bytes([rng.choice(firsts), rng.choice([2, 3, 4]), rng.choice([0, 1, 3, 4, 5, 255])])
        buf = bytes(rng.randrange(256) for _ in range(rng.randrange(3))) + head
        buf += struct.pack(">H", rng.choice(lengths) if rng.random() < 0.7 else rng.randrange(65536))
        pos = len(buf) - 5
        for b in (buf, bytearray(buf)):
            assert plausible_header(b, pos) == _plausible_ref(b, pos), buf.hex()


def _known_ref(exts: list[Any]) -> tuple[Any, Any]:
    sni = next((e for e in exts if e.type == 0), None)
    sv = next((e for e in exts if e.type == 43), None)
    return sni, sv


def _ext(etype: int, body: bytes) -> bytes:
    return struct.pack(">HH", etype, len(body)) + body


def _sni(name: bytes) -> bytes:
    entry = b"\x00" + struct.pack(">H", len(name)) + name
    return _ext(0, struct.pack(">H", len(entry)) + entry)


def _versions(*vs: int) -> bytes:
    return _ext(43, bytes([2 * len(vs)]) + b"".join(struct.pack(">H", v) for v in vs))


def _hello(exts: list[bytes]) -> bytes:
    block = b"".join(exts)
    return (b"\x03\x03" + bytes(32) + b"\x00" + b"\x00\x02\x13\x01" + b"\x01\x00"
            + struct.pack(">H", len(block)) + block)


def test_known_facts_are_the_first_of_each_type() -> None:
    rng = random.Random(72)
    pool = [_sni(b"a.test"), _sni(b"b.test"), _versions(0x0304, 0x0303), _versions(0x0A0A, 0x0303),
            _versions(0x0A0A), _ext(10, b"\x00\x02\x00\x1d"), _ext(0x1A1A, b""), _ext(23, b""), _ext(43, b"\x01")]
    for _ in range(3000):
        exts = [rng.choice(pool) for _ in range(rng.randrange(8))]
        ch = hs.parse_client_hello(_hello(exts))
        sni, sv = _known_ref(ch.extensions)
        facts = ch._known()
        names = (sni.decoded or {}).get("host_names") if sni is not None else None
        assert facts[2] == (names[0] if names else None)
        versions = tuple((sv.decoded or {}).get("versions", ())) if sv is not None else ()
        assert facts[3] == versions
        real = [v for v in versions if (v & 0x0F0F) != 0x0A0A or (v >> 8) != (v & 0xFF)]
        assert facts[4] == (max(real) if real else None)


def test_extension_block_is_parse_extensions() -> None:
    rng = random.Random(73)
    pool = [_sni(b"c.test"), _versions(0x0304), _ext(10, b"\x00\x02\x00\x1d"), _ext(51, b"\x00\x06\x00\x1d\x00\x02ab"),
            _ext(0x2A2A, b"\x00"), _ext(16, b"\x00\x03\x02h2"), _ext(16, b"\x00\x09\x02h2")]
    for _ in range(2000):
        block = b"".join(rng.choice(pool) for _ in range(rng.randrange(6)))
        if rng.random() < 0.4:
            block = block[:rng.randrange(len(block) + 1)]
        body = b"xx" + block + b"yy"
        results = []
        for parse in ("cursor", "block"):
            try:
                if parse == "cursor":
                    exts = parse_extensions(hs.Cursor(body, "T extensions", 2, 2 + len(block)), "client_hello")
                else:
                    exts = parse_extension_block(body, 2, 2 + len(block), "T extensions", "client_hello")
                results.append(("ok", [e.to_dict() for e in exts]))
            except ParseError as e:
                results.append(("error", str(e)))
        assert results[0] == results[1]


def _record(t: int, body: bytes) -> bytes:
    msg = bytes([t]) + struct.pack(">I", len(body))[1:] + body
    return b"\x16\x03\x03" + struct.pack(">H", len(msg)) + msg


def _handshake_events(session: TlsSession, data: bytes) -> list[dict[str, Any]]:
    session.data(0, data, 1, 0.0)
    return [info for (d, frame, ts, typ, info) in session.timeline if typ == "handshake"]


def _parse(t: int, body: bytes) -> tuple[Optional[Any], Optional[str]]:
    try:
        return hs.parse_message(t, body, hs.ParseContext()), None
    except ParseError as e:
        return None, str(e)


def test_dispatch_keeps_what_parse_message_gives() -> None:
    rng = random.Random(74)
    good_ch = _hello([_sni(b"d.test"), _versions(0x0304, 0x0303)])
    good_sh = b"\x03\x03" + bytes(32) + b"\x00" + b"\x13\x01" + b"\x00" + struct.pack(">H", 6) + _ext(43, b"\x03\x04")
    good_cert = struct.pack(">I", 7)[1:] + struct.pack(">I", 4)[1:] + b"\x30\x02\x05\x00"
    samples = {1: good_ch, 2: good_sh, 11: good_cert, 12: b"\x03\x00\x17\x01\x04", 13: b"\x01\x01\x00\x00\x00\x00",
               22: b"\x01\x00\x00\x01\x00", 16: b"\x00\x01\x02", 20: bytes(12), 4: bytes(10), 15: b"\x04\x03\x00\x00"}
    for _ in range(1500):
        t = rng.choice(list(samples) + [0, 8, 14])  # (known types: others read as protected)
        body = samples.get(t, b"")
        if rng.random() < 0.6 and body:
            body = body[:rng.randrange(len(body))]
        s = TlsSession()
        (info,) = _handshake_events(s, _record(t, body))
        msg, error = _parse(t, body) if t not in (0, 14, 16, 20) else (None, None)
        assert info.get("error") == error, (t, body.hex())
        if t == 1:
            assert (s.client_hellos[0][1] if s.client_hellos else None) == msg
        elif t == 2:
            assert s.server_hello == msg
        elif t == 11:
            assert list(s.certificates[0]) == ([msg] if msg is not None else [])
        elif t == 12:
            assert s.server_key_exchange == msg
        elif t == 13:
            assert s.certificate_request == msg
        elif t == 22:
            assert s.certificate_status == msg
        elif t == 16:
            assert s.client_key_exchange_body == body
        elif t == 20:
            assert s.finished == (1, None)


def test_one_message_records_of_every_type_and_length() -> None:
    # The record path that reads the message header as one number, against the general path
    # (the same message split over two records goes through the handshake buffer).
    rng = random.Random(75)
    for t in range(256):
        for ln in (0, 1, 3, 4, 255, 256, 70000):
            body = bytes(rng.randrange(256) for _ in range(min(ln, 300)))
            whole, split = RecordLayer(), RecordLayer()
            msg = bytes([t]) + struct.pack(">I", ln)[1:] + body
            rec = b"\x16\x03\x03" + struct.pack(">H", len(msg)) + msg
            a = [(e.kind, e.msg_type, e.length, e.body) for e in whole.feed(rec, 1, 0.0)]
            cut = max(1, len(msg) // 2)
            parts = [msg[:cut], msg[cut:]] if len(msg) > 1 else [msg]
            b: list[Any] = []
            for p in parts:
                b += [(e.kind, e.msg_type, e.length, e.body)
                      for e in split.feed(b"\x16\x03\x03" + struct.pack(">H", len(p)) + p, 1, 0.0)]
            if a and a[0][0] == "handshake":
                assert [x for x in b if x[0] == "handshake"] == [x for x in a if x[0] == "handshake"], (t, ln)
