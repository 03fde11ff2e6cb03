"""Properties of the TLS record layer (tlsdissect.tls.records.RecordLayer) and the session on top.

- Arbitrary bytes, in arbitrary chunks, with gaps and capture ends anywhere, never raise, and
  what the layer holds stays under its documented caps (one record of at most 5 + 2**16 - 1
  bytes, RFC 8446 5.1's 16-bit length, plus one handshake message of at most
  MAX_HANDSHAKE_MESSAGE bytes).
- Handshake messages encoded here by hand (RFC 8446 4: type, 24-bit length, body), fragmented
  into records of random sizes and fed in random chunks, come out exactly, in order, however
  the bytes were chunked.
- A handshake header claiming 16 MB never makes the layer buffer 16 MB.
"""

from __future__ import annotations

import struct

from hypothesis import given, settings, example
from hypothesis import strategies as st

from segmenting import examples

from tlsdissect.tls.records import MAX_HANDSHAKE_MESSAGE, MAX_RECORD_PAYLOAD, RecordLayer
from tlsdissect.tls.session import TlsSession

# What a layer may hold between calls: an incomplete record (the record length field has 16
# bits) and an incomplete handshake message (capped by MAX_HANDSHAKE_MESSAGE).
PENDING_CAP = (5 + 0xFFFF) + (4 + MAX_HANDSHAKE_MESSAGE)

# Handshake types the layer reads as clear handshake messages (IANA TLS HandshakeType).
HS_TYPES = (0, 1, 2, 4, 5, 8, 11, 12, 13, 14, 15, 16, 20, 21, 22, 23, 24, 25)


def record(ct: int, payload: bytes, version: int = 0x0303) -> bytes:
    """A TLSPlaintext record (RFC 8446 5.1): type, legacy version, 16-bit length, payload."""
    return struct.pack("!BHH", ct, version, len(payload)) + payload


def hs_message(msg_type: int, body: bytes) -> bytes:
    """A Handshake structure (RFC 8446 4): type, uint24 length, body."""
    return bytes([msg_type]) + len(body).to_bytes(3, "big") + body


def client_hello(server_name: bytes = b"example.com") -> bytes:
    """A minimal TLS 1.2 ClientHello body, built field by field from RFC 5246 7.4.1.2 and
    the server_name extension of RFC 6066 3."""
    sni_entry = b"\x00" + len(server_name).to_bytes(2, "big") + server_name
    sni_list = len(sni_entry).to_bytes(2, "big") + sni_entry
    ext = b"\x00\x00" + len(sni_list).to_bytes(2, "big") + sni_list
    return (
        b"\x03\x03" + bytes(range(32))  # client_version, random
        + b"\x00"  # session_id: empty
        + b"\x00\x04\xc0\x2f\x00\x2f"  # two cipher suites
        + b"\x01\x00"  # compression: null
        + len(ext).to_bytes(2, "big") + ext
    )


def feed_all(layer: RecordLayer, chunks, gaps=()) -> list:
    """Feed chunks the way the session does (resume while paused); ``gaps`` holds indexes
    before which a gap of 10 bytes is reported. Checks the pending cap after every call."""
    events = []
    for i, chunk in enumerate(chunks):
        if i in gaps:
            events += layer.gap(10, i, 0.0)
        events += layer.feed(chunk, i, 0.0)
        while layer.paused:
            events += layer.feed(b"", i, 0.0)
        assert layer.pending_bytes() <= PENDING_CAP
    events += layer.finish(len(chunks), 0.0)
    return events


@st.composite
def chunked(draw: st.DrawFn, data: bytes, max_chunks: int = 30) -> list[bytes]:
    if len(data) < 2:
        return [data]
    points = sorted(set(draw(st.lists(st.integers(1, len(data) - 1), max_size=max_chunks))))
    edges = [0, *points, len(data)]
    return [data[edges[i]:edges[i + 1]] for i in range(len(edges) - 1)]


# Record-shaped bytes: mostly plausible headers, random lengths (also wrong ones) and bodies.
_header_ish = st.tuples(st.integers(18, 26), st.sampled_from((0x0300, 0x0301, 0x0303, 0x0304, 0x0200, 0x7F17)),
                        st.binary(max_size=300), st.one_of(st.none(), st.integers(0, 0xFFFF)))
tls_ish = st.lists(
    st.one_of(
        _header_ish.map(lambda t: struct.pack("!BHH", t[0], t[1], len(t[2]) if t[3] is None else t[3]) + t[2]),
        st.tuples(st.sampled_from(HS_TYPES + (3, 99)), st.binary(max_size=200)).map(
            lambda t: record(22, hs_message(*t))),
        st.binary(max_size=50),
    ),
    max_size=12,
).map(b"".join)


@settings(max_examples=examples(300), deadline=None)
@given(data=st.data(), stream=st.one_of(st.binary(max_size=2000), tls_ish),
       tls13=st.booleans(), midstream=st.booleans())
def test_arbitrary_bytes_never_raise(data: st.DataObject, stream: bytes, tls13: bool, midstream: bool) -> None:
    layer = RecordLayer()
    layer.tls13 = tls13
    layer.midstream = midstream
    chunks = data.draw(chunked(stream), label="chunks")
    gaps = data.draw(st.sets(st.integers(0, len(chunks) - 1), max_size=2), label="gaps")
    for ev in feed_all(layer, chunks, gaps):
        assert ev.kind in ("handshake", "alert", "ccs", "heartbeat", "protected", "not_tls",
                           "starttls", "gap", "anomaly", "sslv2_client_hello",
                           "sslv2_server_hello", "application_data")


@settings(max_examples=examples(150), deadline=None)
@given(data=st.data(), stream=st.one_of(st.binary(max_size=1500), tls_ish))
def test_session_never_raises(data: st.DataObject, stream: bytes) -> None:
    """The session parses what the layer hands up; only ParseError may come out of a parser
    and the session catches it, so nothing escapes. Both directions, then the summaries."""
    s = TlsSession()
    prefix = record(22, hs_message(1, client_hello()))
    for d, payload in ((0, prefix + stream), (1, stream)):
        for i, chunk in enumerate(data.draw(chunked(payload), label=f"chunks {d}")):
            s.data(d, chunk, i, 0.0)
        s.finish(d, 99, 0.0)
    s.established(0)
    s.resumed()
    s.ssl_history(0)


@st.composite
def handshake_flight(draw: st.DrawFn) -> tuple[list[tuple], bytes]:
    """Handshake messages (and alerts between them), fragmented into records of random sizes:
    the expected events, and the stream."""
    items: list[tuple] = []
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.integers(0, 5)) == 0:
            items.append(("alert", draw(st.sampled_from((1, 2))), draw(st.integers(0, 255))))
        else:
            size = draw(st.one_of(st.integers(0, 300), st.integers(0, 40000)))
            body = draw(st.binary(min_size=size, max_size=size)) if size <= 300 else bytes(range(256)) * (size // 256)
            items.append(("handshake", draw(st.sampled_from(HS_TYPES)), body))
    stream = bytearray()
    pending = bytearray()  # handshake bytes not yet put in records

    def flush() -> None:
        while pending:
            n = draw(st.integers(1, min(len(pending), 16384)))
            stream.extend(record(22, bytes(pending[:n])))
            del pending[:n]

    for item in items:
        if item[0] == "alert":
            flush()
            stream.extend(record(21, bytes(item[1:])))
        else:
            pending.extend(hs_message(item[1], item[2]))
    flush()
    return items, bytes(stream)


@settings(max_examples=examples(150), deadline=None)
@given(data=st.data(), flight=handshake_flight())
def test_handshake_messages_survive_any_fragmentation(data: st.DataObject, flight) -> None:
    items, stream = flight
    chunks = data.draw(chunked(stream, 60), label="chunks")
    events = feed_all(RecordLayer(), chunks)
    got = [("alert", e.level, e.code) if e.kind == "alert" else (e.kind, e.msg_type, e.body) for e in events]
    assert got == items
    whole = feed_all(RecordLayer(), [stream])
    assert [(e.kind, e.msg_type, e.body, e.level, e.code) for e in whole] == \
           [(e.kind, e.msg_type, e.body, e.level, e.code) for e in events]


@settings(max_examples=examples(150), deadline=None)
@given(data=st.data(), junk=st.binary(max_size=3000))
def test_client_hello_then_garbage(data: st.DataObject, junk: bytes) -> None:
    """Whatever follows a valid ClientHello, the ClientHello comes out first, intact."""
    body = client_hello()
    stream = record(22, hs_message(1, body), 0x0301) + junk
    events = feed_all(RecordLayer(), data.draw(chunked(stream), label="chunks"))
    assert events[0].kind == "handshake" and events[0].msg_type == 1 and events[0].body == body


def test_sixteen_megabyte_header_in_mid_record_is_an_anomaly() -> None:
    """A valid message followed by a Certificate header claiming 2**24 - 1 bytes: the valid one
    comes out, the huge one becomes an anomaly, and 2 MB of records after it are not held."""
    layer = RecordLayer()
    events = feed_all(layer, [record(22, hs_message(14, b"") + b"\x0b\xff\xff\xff" + b"x" * 100)])
    assert [(e.kind, e.msg_type) for e in events[:1]] == [("handshake", 14)]
    anomalies = [e for e in events if e.kind == "anomaly"]
    assert anomalies and anomalies[0].length == 0xFFFFFF and "cap" in anomalies[0].detail
    more = record(22, b"y" * 16384) * 128  # 2 MB of "continuation"
    feed_all(layer, [more[i:i + 1400] for i in range(0, len(more), 1400)])
    assert layer.pending_bytes() <= PENDING_CAP


def test_sixteen_megabyte_header_first_in_record_is_not_buffered() -> None:
    """The same claim as a record's first message reads as a handshake record whose content
    is hidden (the layer's rule for nonsense after a missed ChangeCipherSpec): no handshake
    event, nothing buffered."""
    layer = RecordLayer()
    events = feed_all(layer, [record(22, b"\x01\xff\xff\xff" + b"z" * 1000)])
    assert not [e for e in events if e.kind == "handshake"]
    assert [e.kind for e in events if e.kind in ("protected", "anomaly")]
    assert layer.pending_bytes() == 0


def test_largest_allowed_message_is_reassembled_with_bounded_buffer() -> None:
    """A message of exactly MAX_HANDSHAKE_MESSAGE bytes over 65 records, fed 1400 bytes at a
    time: one event with the whole body; the buffer never exceeds the cap."""
    body = bytes(range(256)) * (MAX_HANDSHAKE_MESSAGE // 256)
    msg = hs_message(11, body)
    stream = b"".join(record(22, msg[i:i + 16384]) for i in range(0, len(msg), 16384))
    events = feed_all(RecordLayer(), [stream[i:i + 1400] for i in range(0, len(stream), 1400)])
    assert [(e.kind, e.msg_type, len(e.body)) for e in events] == [("handshake", 11, len(body))]
    assert events[0].body == body


def test_oversized_record_is_reported_once() -> None:
    """A clear record longer than RFC 5246's 2**14 + 2048 limit, after a normal one: one
    anomaly, however many segments it arrives in."""
    rec = record(22, hs_message(14, b"")) + record(22, hs_message(11, b"\0" * (MAX_RECORD_PAYLOAD + 10)))
    for size in (len(rec), 1000, 7):
        events = feed_all(RecordLayer(), [rec[i:i + size] for i in range(0, len(rec), size)])
        assert [e.kind for e in events].count("anomaly") == 1, size


def test_capture_end_mid_record_counts_the_record_once() -> None:
    """A ServerHello in a record cut short by the capture: reported at finish, counted once."""
    sh = hs_message(2, b"\x03\x03" + bytes(32) + b"\x00\xc0\x2f\x00")
    rec = record(22, sh + hs_message(11, b"\0" * 5000))[:2000]
    layer = RecordLayer()
    events = feed_all(layer, [rec[:3], rec[3:700], rec[700:]])
    assert [(e.kind, e.msg_type) for e in events] == [("handshake", 2)]
    assert layer.records == 1


@settings(max_examples=examples(150), deadline=None)
@given(data=st.data(), greeting=st.sampled_from((b"220 mx.example ESMTP ready\r\n", b"* OK IMAP4rev1 ready\r\n",
                                                  b"+OK POP3 ready\r\n")),
       reply=st.sampled_from((b"220 2.0.0 Ready to start TLS\r\n", b". OK Begin TLS negotiation now\r\n")))
def test_starttls_switch_survives_any_cut(data: st.DataObject, greeting: bytes, reply: bytes) -> None:
    """Plain text, then (at the start of a later segment, as after a STARTTLS exchange) a
    TLS record carrying a ClientHello: the switch is seen and the ClientHello read, however
    the record's first bytes are cut (RFC 3207 4: TLS starts right after the 220 reply)."""
    body = client_hello()
    hello = record(22, hs_message(1, body), 0x0301)
    chunks = data.draw(chunked(greeting + reply), label="plain") + data.draw(chunked(hello), label="tls")
    events = feed_all(RecordLayer(), chunks)
    kinds = [e.kind for e in events]
    assert "starttls" in kinds
    hs_events = [e for e in events if e.kind == "handshake"]
    assert [(e.msg_type, e.body) for e in hs_events] == [(1, body)]


@settings(max_examples=examples(150), deadline=None)
@given(data=st.data(), cert_size=st.integers(0, 6000))
def test_record_after_a_short_preamble_survives_any_cut(data: st.DataObject, cert_size: int) -> None:
    """PostgreSQL answers an SSLRequest with the single byte 'S', then TLS starts (PostgreSQL
    protocol docs, "SSL Session Encryption"). A server that packs ServerHello and Certificate
    into one record makes that record span segments; where TCP cuts must not decide whether
    the TLS is seen."""
    sh = hs_message(2, b"\x03\x03" + bytes(32) + b"\x00\xc0\x2f\x00")
    cert = hs_message(11, (cert_size + 3).to_bytes(3, "big") + cert_size.to_bytes(3, "big") + b"\x30" * cert_size)
    stream = b"S" + record(22, sh + cert) + record(22, hs_message(14, b""))
    events = feed_all(RecordLayer(), data.draw(chunked(stream), label="chunks"))
    assert [(e.kind, e.msg_type) for e in events if e.kind == "handshake"] == [("handshake", 2), ("handshake", 11),
                                                                            ("handshake", 14)]


@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_plain_protocol_name_does_not_depend_on_the_first_segment(data: st.DataObject) -> None:
    """The PostgreSQL SSLRequest (length 8, code 80877103 = 04 d2 16 2f) and an HTTP status
    line are named the same however their first bytes are cut."""
    for stream, name in ((b"\x00\x00\x00\x08\x04\xd2\x16\x2f", "PostgreSQL SSLRequest"),
                         (b"HTTP/1.1 400 Bad Request\r\n\r\n", "HTTP response")):
        events = feed_all(RecordLayer(), data.draw(chunked(stream), label=name))
        assert [(e.kind, e.detail) for e in events] == [("not_tls", name)]


def test_stream_ending_while_detection_waits_is_named() -> None:
    """'S' plus the first bytes of a record, then the stream ends: still reported as not TLS
    (as it was named before detection learnt to wait), not left unnamed."""
    layer = RecordLayer()
    events = feed_all(layer, [b"S\x16\x03\x03\x10\x00" + b"\x02" * 40])
    assert [e.kind for e in events] == ["not_tls"]


@settings(max_examples=examples(40), deadline=None)
@given(junk=st.binary(max_size=600).map(lambda b: bytes(0x41 + x % 26 for x in b)),
       sizes=st.lists(st.integers(1, 16384), min_size=2, max_size=8), seg=st.integers(1, 3000),
       ct=st.sampled_from((23, 22)))
@example(junk=b"A", sizes=[1, 1], seg=4, ct=23)  # a complete record whose successor's header is cut
def test_midstream_pickup_resynchronises_for_any_segment_size(junk: bytes, sizes: list[int], seg: int, ct: int) -> None:
    """A capture that starts in the middle of a connection: the tail of a record (letters,
    which cannot start a record header), then whole records of up to 2**14 bytes. Every
    record after the tail is found, whether the bytes come in one piece or in segments much
    smaller than a record."""
    records = b"".join(record(ct, b"\x00" * n) for n in sizes)
    stream = junk + records
    layer = RecordLayer()
    layer.midstream = True
    layer.encrypted = True  # after the ChangeCipherSpec: every record is protected
    events = feed_all(layer, [stream[i:i + seg] for i in range(0, len(stream), seg)])
    assert [e.length for e in events if e.kind == "protected"] == sizes
