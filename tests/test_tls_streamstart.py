"""streamstart.classify_start, the record layer's question at a stream's start (and after a gap
or damage), on bytes whose answer is known by construction; PlainText's STARTTLS watch; the
SSLv2 stream's one clear message."""

from __future__ import annotations

import struct

from tlsdissect.tls.streamstart import (BOUNDARY, DROP, PLAIN_TEXT, SSLV2_HELLO, TLS_RECORD, WAIT, PlainText,
                                        Sslv2Stream, classify_start)


def _record(ct: int, payload: bytes) -> bytes:
    return struct.pack("!BHH", ct, 0x0303, len(payload)) + payload


def test_verdicts_on_known_starts() -> None:
    hello = _record(22, b"\x01\x00\x00\x02\x03\x03")
    assert classify_start(bytearray(hello), False) == (TLS_RECORD, 0)
    assert classify_start(bytearray(hello[:4]), False) == (WAIT, 0)  # fewer than a header
    assert classify_start(bytearray(b"GET / HTTP/1.1\r\n"), False) == (PLAIN_TEXT, 0)
    # 7 of the 8 bytes of a PostgreSQL SSLRequest: the next byte decides.
    assert classify_start(bytearray(b"\x00\x00\x00\x08\x04\xd2\x16"), False) == (WAIT, 0)
    # An SSLv2-format ClientHello: 2-byte length with the top bit set, type 1, version 3.1.
    v2 = b"\x01\x03\x01" + bytes(9) + b"\xaa" * 16
    assert classify_start(bytearray(struct.pack("!H", 0x8000 | len(v2)) + v2), False) == (SSLV2_HELLO, len(v2))
    assert classify_start(bytearray(struct.pack("!H", 0x8000 | len(v2)) + v2[:10]), False) == (WAIT, 0)


def test_midstream_looks_for_a_boundary_only() -> None:
    junk = b"\x99\x42\x07" * 5
    two = _record(23, b"x" * 40) + _record(23, b"y" * 8)
    assert classify_start(bytearray(junk + two), True) == (BOUNDARY, len(junk))
    # Text picked up mid-stream is not named plain text: no boundary yet, keep the last 4 bytes.
    text = b"hello world, this is not a record"
    assert classify_start(bytearray(text), True) == (DROP, len(text) - 4)
    # A record that may be starting is kept from its header on.
    started = junk + _record(23, b"z" * 100)[:30]
    assert classify_start(bytearray(started), True) == (DROP, len(junk))


def test_plain_text_watch_switches_at_a_handshake_record_cut_anywhere() -> None:
    starttls = _record(22, b"\x01\x00\x00\x02\x03\x03")
    for cut in range(1, 6):
        plain = PlainText(bytearray(b"220 mail.example ESMTP\r\n"))
        assert plain.name == "SMTP/FTP greeting"
        assert plain.watch(starttls[:cut]) is None  # could be the start of a record: held
        assert plain.watch(starttls[cut:]) == starttls
    plain = PlainText(bytearray(b"220 ready\r\n"))
    assert plain.watch(b"250 OK\r\n") is None and bytes(plain.sample) == b"220 ready\r\n250 OK\r\n"


def test_sslv2_stream_reads_one_clear_message() -> None:
    buf = bytearray()
    stream = Sslv2Stream(buf, False)
    msg = b"\x02" + b"m" * 20  # CLIENT-MASTER-KEY
    wire = struct.pack("!H", 0x8000 | len(msg)) + msg
    assert stream.read(wire[:7]) is None
    assert stream.read(wire[7:]) == msg
    assert stream.read(wire) is None and not buf  # encrypted from here: only counted
    assert Sslv2Stream(bytearray(), True).read(wire) is None
