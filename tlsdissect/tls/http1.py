"""HTTP/1.x messages in one direction of decrypted application data: where each one ends.

With a key log the session reads the application data, and the HTTP framing says what the TLS
bytes cannot: whether a response was complete when the connection closed (Content-Length or
chunked encoding not finished: a truncated response), and what the server answered (a 400
"The SSL certificate error" from nginx, a 403, a 421). Sans-I/O: :meth:`Http1Reader.feed` takes
the plaintext of one record at a time, in order; memory stays bounded (a message head is kept
up to ``MAX_HEAD`` bytes, a body only as its first ``BODY_START`` bytes of an error answer).

Framing follows RFC 9112 section 6.3: no body for a HEAD request's answer, 1xx, 204 and 304;
a tunnel after a 2xx to CONNECT; chunked when the last transfer coding is chunked; otherwise
Content-Length; otherwise a response runs until the close (its end cannot be told from a
truncation) and a request has no body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

MAX_HEAD = 16384  # bytes of start line and header fields kept while a head comes in
BODY_START = 256  # bytes of an error answer's body kept (nginx's reason is in its HTML title)
MAX_CHUNK_LINE = 1024
MAX_MESSAGES = 4  # messages described in full; later ones are only counted


@dataclass(slots=True)
class Http1Message:
    """One request or response: its start line, where it is, and how its end is known."""

    line: str  # the start line (Latin-1)
    frame: int  # the frame whose record completed the head
    status: Optional[int] = None  # a response's status code
    method: Optional[str] = None  # a request's method
    framing: str = "none"  # none | content-length | chunked | close | tunnel
    expected: Optional[int] = None  # Content-Length
    received: int = 0  # body bytes read
    complete: bool = False
    end_frame: Optional[int] = None
    body_start: bytes = b""  # the first BODY_START bytes of a 4xx/5xx body

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {"line": self.line, "frame": self.frame, "framing": self.framing,
                                "complete": self.complete, "body_bytes": self.received}
        if self.status is not None:
            d["status"] = self.status
        if self.method is not None:
            d["method"] = self.method
        if self.expected is not None:
            d["content_length"] = self.expected
        if self.end_frame is not None:
            d["end_frame"] = self.end_frame
        if self.body_start:
            d["body_start"] = self.body_start.decode("latin-1")
        return d


def _header_fields(head: bytes) -> dict[str, str]:
    """Lower-cased field names to their (last, comma-joined for repeats) values."""
    fields: dict[str, str] = {}
    for raw in head.split(b"\n")[1:]:
        name, sep, value = raw.partition(b":")
        if not sep:
            continue
        key = name.strip().lower().decode("latin-1")
        val = value.strip().decode("latin-1")
        fields[key] = f"{fields[key]}, {val}" if key in fields else val
    return fields


class Http1Reader:
    """The messages of one direction (requests from the client, responses from the server)."""

    __slots__ = ("responses", "methods", "buf", "state", "current", "chunk_left", "messages", "last", "count",
                 "broken")

    def __init__(self, responses: bool, methods: Optional[list[str]] = None) -> None:
        self.responses = responses
        # Request methods in order (the client reader fills it, the server reader reads it):
        # a HEAD request's answer has no body.
        self.methods: list[str] = methods if methods is not None else []
        self.buf = bytearray()
        self.state = "head"  # head | body | chunk_size | chunk_data | chunk_crlf | trailer | tunnel | stopped
        self.current: Optional[Http1Message] = None
        self.chunk_left = 0
        self.messages: list[Http1Message] = []  # the first MAX_MESSAGES
        self.last: Optional[Http1Message] = None  # the latest message
        self.count = 0  # messages whose head was read
        self.broken: Optional[str] = None  # why reading stopped (not HTTP/1, a head over MAX_HEAD)

    # -- input ----------------------------------------------------------------------------
    def feed(self, data: bytes, frame: int) -> None:
        pos, end = 0, len(data)
        while pos < end and self.state not in ("tunnel", "stopped"):
            state = self.state
            if state == "head":
                pos = self._head(data, pos, frame)
            elif state == "body":
                pos = self._body(data, pos, frame)
            elif state == "chunk_data":
                take = min(self.chunk_left, end - pos)
                self._take(data, pos, take)
                pos += take
                self.chunk_left -= take
                if self.chunk_left == 0:
                    self.state = "chunk_crlf"
            else:  # chunk_size, chunk_crlf, trailer: line by line
                pos = self._chunk_line(data, pos, frame)

    def _head(self, data: bytes, pos: int, frame: int) -> int:
        buf = self.buf
        start = len(buf)
        buf += data[pos:]
        if not self._may_be_http(buf):
            self._stop("not an HTTP/1 response" if self.responses else "not an HTTP/1 request")
            return len(data)
        at = buf.find(b"\r\n\r\n", max(0, start - 3))
        if at < 0:
            if len(buf) > MAX_HEAD:
                self._stop("a message head longer than %d bytes" % MAX_HEAD)
            return len(data)
        head = bytes(buf[:at])
        used = at + 4 - start  # bytes of ``data`` (from pos) that belonged to the head
        del buf[:]
        if not head.strip():  # blank lines between messages are tolerated (RFC 9112 2.2)
            return pos + used
        self._begin(head, frame)
        return pos + used

    def _may_be_http(self, buf: bytearray) -> bool:
        """Whether a message head's first bytes can be HTTP/1 (blank lines between messages
        allowed): a response starts with ``HTTP/``, a request with a method token and a space."""
        start = bytes(buf[:24]).lstrip(b"\r\n")
        if not start:
            return True
        if self.responses:
            return b"HTTP/"[:len(start)] == start[:5]
        token = start.split(b" ", 1)
        if len(token) == 1:  # no space yet: a token so far?
            return len(start) < 20 and all(0x41 <= ch <= 0x5A or ch == 0x2D for ch in start)
        return 0 < len(token[0]) < 20 and all(0x41 <= ch <= 0x5A or ch == 0x2D for ch in token[0])

    def _begin(self, head: bytes, frame: int) -> None:
        line = head.split(b"\r\n", 1)[0]
        text = line.decode("latin-1")
        parts = text.split(" ", 2)
        msg = Http1Message(line=text, frame=frame)
        fields = _header_fields(head)
        if self.responses:
            if not parts[0].startswith("HTTP/1.") or len(parts) < 2 or not parts[1].isdigit():
                self._stop("not an HTTP/1 response")
                return
            msg.status = int(parts[1])
            method = self.methods[self.count] if self.count < len(self.methods) else None
            if msg.status < 200 or msg.status in (204, 304) or method == "HEAD":
                self._finish(msg, frame, count=msg.status >= 200)
                return
            if method == "CONNECT" and msg.status < 300:
                msg.framing = "tunnel"
                self._record(msg)
                self.state = "tunnel"
                return
        else:
            if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
                self._stop("not an HTTP/1 request")
                return
            msg.method = parts[0]
            if len(self.methods) < 64:
                self.methods.append(parts[0])
        coding = fields.get("transfer-encoding", "")
        length = fields.get("content-length", "").split(",")[0].strip()
        if coding:
            if coding.lower().rsplit(",", 1)[-1].strip() == "chunked":
                msg.framing = "chunked"
                self._record(msg)
                self.state = "chunk_size"
                return
            if self.responses:
                msg.framing = "close"
                self._record(msg)
                self.state = "body"
                return
        if length.isdigit():
            msg.framing = "content-length"
            msg.expected = int(length)
            if msg.expected == 0:
                self._finish(msg, frame)
                return
            self._record(msg)
            self.state = "body"
            return
        if self.responses:
            msg.framing = "close"
            self._record(msg)
            self.state = "body"
            return
        self._finish(msg, frame)  # a request without a body

    def _record(self, msg: Http1Message) -> None:
        self.count += 1
        if len(self.messages) < MAX_MESSAGES:
            self.messages.append(msg)
        self.last = self.current = msg

    def _finish(self, msg: Http1Message, frame: int, count: bool = True) -> None:
        msg.complete = True
        msg.end_frame = frame
        if count:
            self._record(msg)
        self.current = None
        self.state = "head"

    def _take(self, data: bytes, pos: int, n: int) -> None:
        msg = self.current
        assert msg is not None
        msg.received += n
        if msg.status is not None and msg.status >= 400 and len(msg.body_start) < BODY_START:
            msg.body_start += data[pos:pos + min(n, BODY_START - len(msg.body_start))]

    def _body(self, data: bytes, pos: int, frame: int) -> int:
        msg = self.current
        assert msg is not None
        n = len(data) - pos
        if msg.expected is not None:
            n = min(n, msg.expected - msg.received)
        self._take(data, pos, n)
        if msg.expected is not None and msg.received >= msg.expected:
            self._finish(msg, frame, count=False)
        return pos + n

    def _chunk_line(self, data: bytes, pos: int, frame: int) -> int:
        at = data.find(b"\n", pos)
        if at < 0:
            self.buf += data[pos:]
            if len(self.buf) > MAX_CHUNK_LINE:
                self._stop("a chunk-size line longer than %d bytes" % MAX_CHUNK_LINE)
            return len(data)
        line = bytes(self.buf) + data[pos:at]
        del self.buf[:]
        line = line.rstrip(b"\r")
        state = self.state
        msg = self.current
        assert msg is not None
        if state == "chunk_crlf":
            self.state = "chunk_size"
            if line:
                self._stop("chunk data not followed by CRLF")
        elif state == "chunk_size":
            size = line.split(b";", 1)[0].strip()
            try:
                n = int(size, 16)
            except ValueError:
                self._stop("a chunk size that is not hexadecimal")
                return at + 1
            if n == 0:
                self.state = "trailer"
            else:
                self.chunk_left = n
                self.state = "chunk_data"
        elif not line:  # the empty line after the trailer fields ends the message
            self._finish(msg, frame, count=False)
        return at + 1

    def _stop(self, why: str) -> None:
        self.broken = why
        self.state = "stopped"
        self.buf = bytearray()  # (nothing more is read: the memory goes)

    # -- output ---------------------------------------------------------------------------
    def speaks_http(self) -> bool:
        """Whether this side's data was read as HTTP/1 (a message head, or one coming in)."""
        return self.count > 0 or (self.broken is None and bool(self.buf))

    def open_message(self) -> Optional[Http1Message]:
        """The message still being read (its end not seen), if any; one that runs until the
        close (``framing == "close"``) or a tunnel is never open: its end is the close."""
        msg = self.current
        if msg is None or msg.framing in ("close", "tunnel"):
            return None
        return msg

    def summary(self) -> dict[str, object]:
        d: dict[str, object] = {"protocol": "http/1", "messages": self.count,
                                "first": [m.to_dict() for m in self.messages]}
        if self.last is not None and self.count > len(self.messages):
            d["last"] = self.last.to_dict()
        if self.state == "head" and self.buf:
            d["head_incomplete_bytes"] = len(self.buf)
        if self.broken:
            d["stopped"] = self.broken
        return d
