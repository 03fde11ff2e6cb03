"""HTTP/2 frames in one direction of decrypted application data: streams, how each one ended.

The frame layout is RFC 9113 section 4.1; header blocks are decoded with ``hpack`` (RFC 7541:
one decoder per direction, fed every block in order, since later blocks refer to the dynamic
table the earlier ones filled). What is kept per stream: its pseudo-header fields (``:status``,
``:method``, ``:path``), whether the sender ended it (END_STREAM on HEADERS or DATA) or reset it
(RST_STREAM and its error code), its body bytes, and for an error answer the body's first
bytes; and the GOAWAY, if any. A stream a client opened that the server neither ended nor reset
when the connection closed is an unfinished response. Memory stays bounded: a header block is
kept up to ``MAX_HEADER_BLOCK`` bytes, streams are described up to ``MAX_STREAMS``.
"""

from __future__ import annotations

from typing import Any, Optional

import hpack

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
MAX_HEADER_BLOCK = 65536
MAX_STREAMS = 100
BODY_START = 256
END_STREAM, END_HEADERS, PADDED, PRIORITY = 0x1, 0x4, 0x8, 0x20
DATA, HEADERS, RST_STREAM, SETTINGS, GOAWAY, CONTINUATION = 0, 1, 3, 4, 7, 9
_KEEP = (HEADERS, CONTINUATION, RST_STREAM, GOAWAY)  # frames whose payload is read (DATA is counted)
# RFC 9113 section 7 error codes, by value.
ERROR_CODES = ("NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
               "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
               "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED")


def error_name(code: int) -> str:
    return ERROR_CODES[code] if 0 <= code < len(ERROR_CODES) else f"0x{code:x}"


def looks_like_server_start(data: bytes) -> bool:
    """A server's HTTP/2 connection preface: a SETTINGS frame on stream 0."""
    return len(data) >= 9 and data[3] == SETTINGS and data[5:9] == b"\x00\x00\x00\x00" and \
        ((data[0] << 16) | (data[1] << 8) | data[2]) % 6 == 0


class Http2Reader:
    """The frames of one direction: the streams this side sent on, and its GOAWAY."""

    __slots__ = ("preface", "buf", "frame_type", "flags", "stream", "left", "payload", "pad", "streams",
                 "stream_count", "goaway", "decoder", "block", "block_stream", "broken")

    def __init__(self, client: bool) -> None:
        self.preface = len(PREFACE) if client else 0  # preface bytes still to skip
        self.buf = bytearray()  # a frame header being read
        self.frame_type = -1  # the frame being read (-1: between frames)
        self.flags = 0
        self.stream = 0
        self.left = 0  # its payload bytes still to come
        self.payload = bytearray()  # its payload, for the frames in _KEEP
        self.pad = -1  # a padded DATA frame's pad length once read (-1: not yet)
        self.streams: dict[int, dict[str, Any]] = {}
        self.stream_count = 0
        self.goaway: Optional[dict[str, Any]] = None
        self.decoder: Optional[hpack.Decoder] = hpack.Decoder()
        self.block = bytearray()  # a header block across HEADERS and CONTINUATION frames
        self.block_stream = 0
        self.broken: Optional[str] = None

    def feed(self, data: bytes, frame: int) -> None:
        pos, end = 0, len(data)
        if self.preface:
            skip = min(self.preface, end)
            if data[:skip] != PREFACE[len(PREFACE) - self.preface:][:skip]:
                self.broken = "no HTTP/2 client preface"
                self.preface = 0
                return
            self.preface -= skip
            pos = skip
        while pos < end and self.broken is None:
            if self.frame_type < 0:
                take = min(9 - len(self.buf), end - pos)
                self.buf += data[pos:pos + take]
                pos += take
                if len(self.buf) == 9:
                    self._start(frame)
                continue
            take = min(self.left, end - pos)
            self._payload(data, pos, take)
            pos += take
            self.left -= take
            if self.left == 0:
                self._end(frame)

    def _start(self, frame: int) -> None:
        h = self.buf
        self.left = (h[0] << 16) | (h[1] << 8) | h[2]
        self.frame_type, self.flags = h[3], h[4]
        self.stream = int.from_bytes(h[5:9], "big") & 0x7FFFFFFF
        del self.buf[:]
        del self.payload[:]
        self.pad = -1
        if self.frame_type in (HEADERS, DATA) and self.stream:
            self._stream(frame)
        if self.left == 0:
            self._end(frame)

    def _stream(self, frame: int) -> Optional[dict[str, Any]]:
        st = self.streams.get(self.stream)
        if st is None:
            self.stream_count += 1
            if len(self.streams) >= MAX_STREAMS:
                return None
            st = self.streams[self.stream] = {"stream": self.stream, "frame": frame, "ended": False,
                                              "body_bytes": 0}
        return st

    def _payload(self, data: bytes, pos: int, n: int) -> None:
        t = self.frame_type
        if t in _KEEP:
            if len(self.payload) + n > MAX_HEADER_BLOCK:
                self.decoder = None  # a block too big to keep: the later ones cannot be decoded
                return
            self.payload += data[pos:pos + n]
        elif t == DATA and self.stream:
            st = self.streams.get(self.stream)
            if st is None:
                return
            chunk = data[pos:pos + n]
            if self.flags & PADDED and self.pad < 0 and chunk:
                self.pad = chunk[0]
                chunk = chunk[1:]
            st["body_bytes"] += len(chunk)
            status = st.get("status")
            if status is not None and status >= 400 and len(st.get("body_start", "")) < BODY_START:
                st["body_start"] = st.get("body_start", "") + \
                    bytes(chunk[:BODY_START - len(st.get("body_start", ""))]).decode("latin-1")

    def _end(self, frame: int) -> None:
        t, flags, payload = self.frame_type, self.flags, bytes(self.payload)
        self.frame_type = -1
        st = self.streams.get(self.stream) if self.stream else None
        if t == DATA and st is not None:
            if self.pad > 0:
                st["body_bytes"] = max(0, st["body_bytes"] - self.pad)
            if flags & END_STREAM:
                st["ended"], st["end_frame"] = True, frame
        elif t == HEADERS:
            if flags & PADDED and payload:
                pad = payload[0]
                payload = payload[1:len(payload) - pad] if pad < len(payload) else b""
            if flags & PRIORITY:
                payload = payload[5:]
            self.block = bytearray(payload)
            self.block_stream = self.stream
            if st is not None and flags & END_STREAM:
                st["ended"], st["end_frame"] = True, frame
            if flags & END_HEADERS:
                self._headers_done()
        elif t == CONTINUATION:
            if len(self.block) + len(payload) > MAX_HEADER_BLOCK:
                self.decoder = None  # (as for a frame too big to keep)
                self.block = bytearray()
            elif self.decoder is not None:
                self.block += payload
            if flags & END_HEADERS:
                self._headers_done()
        elif t == RST_STREAM and st is not None and len(payload) >= 4:
            st["reset"] = error_name(int.from_bytes(payload[:4], "big"))
            st["end_frame"] = frame
        elif t == GOAWAY and len(payload) >= 8 and self.goaway is None:
            self.goaway = {"frame": frame, "last_stream": int.from_bytes(payload[:4], "big") & 0x7FFFFFFF,
                           "error": error_name(int.from_bytes(payload[4:8], "big"))}

    def _headers_done(self) -> None:
        block, self.block = bytes(self.block), bytearray()
        st = self.streams.get(self.block_stream)
        decoder = self.decoder
        if decoder is None:
            return
        try:
            fields = decoder.decode(block)
        except Exception:  # (hpack's errors: a block we cannot decode stops decoding for good)
            self.decoder = None
            return
        if st is None:
            return
        for raw_name, raw_value in fields:
            name = raw_name.decode("latin-1") if isinstance(raw_name, bytes) else str(raw_name)
            value = raw_value.decode("latin-1") if isinstance(raw_value, bytes) else str(raw_value)
            if name == ":status" and value.isdigit() and "status" not in st:
                st["status"] = int(value)
            elif name in (":method", ":path", ":authority") and name[1:] not in st:
                st[name[1:]] = value

    def speaks_http(self) -> bool:
        """Whether this side's data was read as HTTP/2 frames."""
        return self.broken is None

    def summary(self) -> dict[str, Any]:
        d: dict[str, Any] = {"protocol": "h2", "streams": self.stream_count,
                             "first": [dict(s) for s in list(self.streams.values())[:4]]}
        if self.goaway is not None:
            d["goaway"] = self.goaway
        if self.decoder is None:
            d["headers_undecoded"] = True
        if self.broken:
            d["stopped"] = self.broken
        return d
