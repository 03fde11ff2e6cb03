"""The HTTP inside a decrypted session (tls/http1.py, http2.py, httpwatch.py).

Expectations come from the protocol (RFC 9112's message framing, RFC 9113's frame layout, the
RFC 7541 Appendix C header blocks), from the peers that made the lab captures (curl's own error
message) and from tshark with the key log, never from our own output.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import tlsdissect
from tlsdissect.tls.http1 import MAX_HEAD, Http1Reader
from tlsdissect.tls.http2 import MAX_HEADER_BLOCK, PREFACE, Http2Reader
from tlsdissect.tls.httpwatch import HttpWatch

CAPTURES = Path(__file__).resolve().parent.parent / "captures"


def _feed_bytewise(reader: Http1Reader | Http2Reader, data: bytes, frame: int = 1) -> None:
    for i in range(len(data)):  # the worst split: one byte per record
        reader.feed(data[i:i + 1], frame)


# -- HTTP/1 ----------------------------------------------------------------------------------
def test_content_length_body_complete_and_cut() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
    done = Http1Reader(responses=True)
    done.feed(head + b"0123456789", 5)
    assert done.open_message() is None and done.messages[0].complete and done.messages[0].end_frame == 5
    cut = Http1Reader(responses=True)
    cut.feed(head + b"0123", 5)
    msg = cut.open_message()
    assert msg is not None and (msg.status, msg.expected, msg.received) == (200, 10, 4)


def test_chunked_body_split_at_every_byte() -> None:
    body = b"4\r\nWiki\r\n5;ext=1\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\n"
    r = Http1Reader(responses=True)
    _feed_bytewise(r, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + body)
    assert r.open_message() is None and r.count == 1
    assert r.messages[0].framing == "chunked" and r.messages[0].received == 4 + 5 + 14
    cut = Http1Reader(responses=True)
    cut.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body[:20], 1)
    assert cut.open_message() is not None


def test_responses_without_a_body_and_pipelining() -> None:
    client = Http1Reader(responses=False)
    client.feed(b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n", 1)
    server = Http1Reader(responses=True, methods=client.methods)
    # 100 Continue is interim; the HEAD answer announces a length but has no body (RFC 9112 6.3).
    server.feed(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
                b"HTTP/1.1 204 No Content\r\n\r\n", 2)
    assert client.methods == ["HEAD", "GET"] and server.count == 2 and server.open_message() is None
    assert [m.status for m in server.messages] == [200, 204]


def test_body_until_close_is_never_open_and_a_huge_head_stops() -> None:
    r = Http1Reader(responses=True)
    r.feed(b"HTTP/1.0 200 OK\r\n\r\nsome body", 1)
    assert r.messages[0].framing == "close" and r.open_message() is None
    big = Http1Reader(responses=True)
    big.feed(b"HTTP/1.1 200 OK\r\nX: " + b"a" * (MAX_HEAD + 10), 1)
    assert big.broken and big.state == "stopped" and not big.buf


def test_error_answer_keeps_the_start_of_its_body() -> None:
    r = Http1Reader(responses=True)
    page = b"<html><head><title>400 The SSL certificate error</title></head></html>"
    r.feed(b"HTTP/1.1 400 Bad Request\r\nContent-Length: %d\r\n\r\n" % len(page) + page, 3)
    assert r.messages[0].body_start == page


def test_other_protocols_inside_tls_are_not_read_as_http() -> None:
    # openssl s_client/s_server exchanging lines (the shared ssldump samples): no HTTP at all.
    w = HttpWatch()
    w.feed(0, b"hello from the client\n", 20)
    w.feed(1, b"hi\n", 21)
    assert w.summary() is None
    # A request line being typed in: still possibly HTTP.
    w2 = HttpWatch()
    w2.feed(0, b"GET", 3)
    assert w2.summary() is not None


# -- HTTP/2 ----------------------------------------------------------------------------------
def _frame(ftype: int, flags: int, stream: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "big") + bytes([ftype, flags]) + stream.to_bytes(4, "big") + payload


# RFC 7541 C.5.1: the first response of the Appendix, ":status 302" and three more fields.
RFC7541_C51 = bytes.fromhex("4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120"
                            "474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d")


def test_h2_streams_end_reset_and_goaway() -> None:
    client = Http2Reader(client=True)
    # RFC 7541 C.3.1's request block: :method GET, :scheme http, :path /, :authority www.example.com.
    req = bytes.fromhex("828684410f7777772e6578616d706c652e636f6d")
    _feed_bytewise(client, PREFACE + _frame(4, 0, 0, b"") + _frame(1, 0x5, 1, req) + _frame(1, 0x5, 3, req))
    assert client.streams[1]["method"] == "GET" and client.streams[1]["authority"] == "www.example.com"
    server = Http2Reader(client=False)
    padded = bytes([3]) + b"body" + b"\0\0\0"
    server.feed(_frame(4, 0, 0, b"") + _frame(1, 0x4, 1, RFC7541_C51) + _frame(0, 0x8 | 0x1, 1, padded), 7)
    assert server.streams[1]["status"] == 302 and server.streams[1]["ended"]
    assert server.streams[1]["body_bytes"] == 4
    server.feed(_frame(1, 0x4, 3, b"\x88") + _frame(3, 0, 3, (8).to_bytes(4, "big"))
                + _frame(7, 0, 0, (3).to_bytes(4, "big") + (0).to_bytes(4, "big")), 8)
    assert server.streams[3]["status"] == 200 and server.streams[3]["reset"] == "CANCEL"
    assert not server.streams[3]["ended"]
    assert server.goaway == {"frame": 8, "last_stream": 3, "error": "NO_ERROR"}


def test_h2_endless_continuation_stays_bounded() -> None:
    server = Http2Reader(client=False)
    server.feed(_frame(1, 0, 1, b"\x88"), 1)  # HEADERS without END_HEADERS
    for _ in range(100):
        server.feed(_frame(9, 0, 1, b"\x00" * 16000), 2)
    assert len(server.block) <= MAX_HEADER_BLOCK and server.summary()["headers_undecoded"]


def test_h2_watch_finds_the_stream_the_server_left_open() -> None:
    req = bytes.fromhex("828684410f7777772e6578616d706c652e636f6d")
    w = HttpWatch()
    w.feed(0, PREFACE + _frame(1, 0x5, 1, req), 4)
    w.feed(1, _frame(4, 0, 0, b"") + _frame(1, 0x4, 1, b"\x88") + _frame(0, 0, 1, b"x" * 100), 6)
    s = w.summary()
    assert s is not None and s["protocol"] == "h2"
    assert s["unfinished"] == {"answered": True, "stream": 1, "status": 200, "framing": "end_stream", "frame": 6,
                               "body_bytes": 100}
    w.feed(1, _frame(0, 0x1, 1, b""), 9)
    assert w.summary()["unfinished"] is None  # type: ignore[index]


# -- on the lab's captures, against the peers and tshark ----------------------------------------
def _http(name: str) -> dict:
    folder = CAPTURES / name
    report = tlsdissect.analyze(folder / "capture.pcap", keylog=str(folder / "keylog.txt"))
    http = report.connections[0].extra.get("http")
    assert http is not None
    return http


def test_truncated_response_matches_curls_own_count() -> None:
    name = "wide_truncated_response_go_curl"
    observed = json.loads((CAPTURES / name / "expected.json").read_text())["observed"]
    remaining = int(re.search(r"with (\d+) bytes remaining", observed["client_error"]).group(1))  # type: ignore[union-attr]
    cut = _http(name)["unfinished"]
    assert cut["answered"] and cut["framing"] == "content-length"
    assert cut["content_length"] - cut["body_bytes"] == remaining


def _tshark(name: str, *fields: str, display: str) -> list[list[str]]:
    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed (the oracle for these checks)")
    folder = CAPTURES / name
    out = subprocess.run(["tshark", "-r", str(folder / "capture.pcap"), "-o", f"tls.keylog_file:{folder / 'keylog.txt'}",
                          "-Y", display, "-T", "fields", *[a for f in fields for a in ("-e", f)]],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    return [line.split("\t") for line in out.splitlines() if line.strip()]


def test_http1_answer_as_tshark_reads_it() -> None:
    name = "wide_client_cert_revoked_nginx13"
    rows = _tshark(name, "frame.number", "http.response.code", "http.content_length", display="http.response")
    frame, code, length = rows[0]
    first = _http(name)["server"]["first"][0]
    assert (first["frame"], first["status"], first["content_length"]) == (int(frame), int(code), int(length))
    assert first["complete"] and first["body_bytes"] == int(length)


def test_h2_stream_as_tshark_reads_it() -> None:
    name = "wide_lighttpd_h2_late_decode_error"
    rows = _tshark(name, "frame.number", "http2.headers.status", display="http2.headers.status")
    frame, status = rows[0]
    http = _http(name)
    stream = http["server"]["first"][0]
    assert stream["status"] == int(status.split(",")[0]) and stream["frame"] <= int(frame)
    ends = _tshark(name, "frame.number", "http2.streamid", "http2.flags.end_stream", display="http2.flags.end_stream == 1")
    server_end = [int(r[0]) for r in ends if r[0] and int(r[0]) >= int(frame)]
    assert stream["ended"] and stream["end_frame"] == server_end[0]
    assert http["unfinished"] is None
