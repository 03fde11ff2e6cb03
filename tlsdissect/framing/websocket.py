"""WebSocket (RFC 6455): the frames after an HTTP upgrade, whose data is a tunnelled TLS
stream (wstunnel, proxies that carry TCP over WebSocket).

A frame: FIN, three reserved bits and the opcode; the mask bit and a 7-bit length (126: a
16-bit length follows, 127: a 64-bit one); the 4-byte masking key when masked (every frame a
client sends); the payload, XORed with the key. The payloads of the data frames (text, binary
and their continuations) are the inner stream, handed out as they arrive (a frame is never
held whole); control frames (close, ping, pong) are skipped. A frame with a reserved bit set
(permessage-deflate compression) or an opcode RFC 6455 does not define stops the reader.

``upgrade_end`` tells where the HTTP upgrade's header block ends: a request with
``Upgrade: websocket`` or a ``101`` response with it; each direction switches after its own.
"""

from __future__ import annotations

import re
from typing import Optional

from tlsdissect.framing.unwrapper import Piece, lost

_DATA_OPCODES = (0, 1, 2)  # continuation, text, binary
_CONTROL_OPCODES = (8, 9, 10)  # close, ping, pong
_UPGRADE = re.compile(rb"\r\nupgrade:[ \t]*websocket[ \t]*\r\n", re.IGNORECASE)
_REQUEST = re.compile(rb"[A-Z]+ \S+ HTTP/1\.[01]\r\n")
_SWITCHING = re.compile(rb"HTTP/1\.[01] 101[ \r]")
_MAX_HEADER = 14  # 2 bytes, a 64-bit length, a masking key


def upgrade_end(head: bytes) -> Optional[int]:
    """Where the header block of a WebSocket upgrade (request, or 101 response) that ``head``
    starts with ends (the offset after its blank line); None when ``head`` is no such message,
    or its header block has not ended in it."""
    end = head.find(b"\r\n\r\n")
    if end < 0 or not (_REQUEST.match(head) or _SWITCHING.match(head)):
        return None
    return end + 4 if _UPGRADE.search(head, 0, end + 2) else None


def _unmask(chunk: bytes, key: bytes, offset: int) -> bytes:
    """``chunk`` XORed with the masking key, ``offset`` bytes into the frame's payload."""
    n = len(chunk)
    turn = offset & 3
    stream = (key[turn:] + key[:turn]) * (n // 4 + 1)
    return (int.from_bytes(chunk, "big") ^ int.from_bytes(stream[:n], "big")).to_bytes(n, "big")


class WebSocketFrames:
    """One direction's frames after the upgrade (an Unwrapper)."""

    name = "websocket"
    __slots__ = ("buf", "remaining", "key", "offset", "data", "problem")

    def __init__(self) -> None:
        self.buf = bytearray()  # an unfinished frame header
        self.remaining = 0  # payload bytes of the current frame still to come
        self.key = b""  # its masking key (b"": not masked)
        self.offset = 0  # payload bytes of the current frame read so far
        self.data = False  # the current frame is a data frame (its payload is handed out)
        self.problem: Optional[str] = None

    def feed(self, data: bytes, frame: int) -> list[Piece]:
        out: list[Piece] = []
        pos = 0
        while pos < len(data) and self.problem is None:
            if self.remaining:
                take = data[pos:pos + self.remaining]
                pos += len(take)
                self.remaining -= len(take)
                if self.data:
                    out.append((_unmask(take, self.key, self.offset) if self.key else take, frame))
                self.offset += len(take)
                continue
            before = len(self.buf)
            self.buf += data[pos:pos + _MAX_HEADER - before]
            used = self._header()
            if used is None:  # (14 bytes hold any header: the segment was used up)
                break
            pos += used - before
            self.buf.clear()
        return out

    def _header(self) -> Optional[int]:
        """Read a frame header from ``buf``: its length, or None when it is not whole yet."""
        buf = self.buf
        if len(buf) < 2:
            return None
        b0, b1 = buf[0], buf[1]
        opcode = b0 & 0x0F
        size = b1 & 0x7F
        n = 2 + (2 if size == 126 else 8 if size == 127 else 0) + (4 if b1 & 0x80 else 0)
        if len(buf) < n:
            return None
        if b0 & 0x70:
            lost(self, "a WebSocket frame with a reserved bit set (compressed with permessage-deflate?): its "
                       "payload is not the tunnelled bytes as they are")
            return n
        if opcode not in _DATA_OPCODES and opcode not in _CONTROL_OPCODES:
            lost(self, f"a WebSocket frame with opcode {opcode}, which RFC 6455 does not define")
            return n
        p = 2
        if size == 126:
            size = int.from_bytes(buf[2:4], "big")
            p = 4
        elif size == 127:
            size = int.from_bytes(buf[2:10], "big")
            p = 10
        self.key = bytes(buf[p:p + 4]) if b1 & 0x80 else b""
        self.remaining = size
        self.offset = 0
        self.data = opcode in _DATA_OPCODES
        return n

    def gap(self) -> None:
        lost(self, "bytes of the WebSocket stream are missing from the capture: its frames cannot be followed on")
