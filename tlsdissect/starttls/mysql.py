"""MySQL / MariaDB (the client/server protocol): the greeting's CLIENT_SSL flag and the SSL request.

Packets are a 3-byte little-endian length and a sequence number. The server speaks first: its
greeting (protocol 10) carries capability flags, CLIENT_SSL (0x0800) among them when it can do
TLS; an error packet (0xff, code and message) instead refuses the connection. A client that
wants TLS answers with a 32-byte SSL request (the capability flags with CLIENT_SSL, nothing
else) and starts TLS at once: the server's next bytes are its TLS answer. A longer answer is
the HandshakeResponse: the client goes on in plain text.
"""

from __future__ import annotations

import struct
from typing import Optional

from tlsdissect.starttls.exchange import Exchange, looks_like_tls, text

CLIENT_SSL = 0x0800
SSL_REQUEST_LENGTH = 32
MAX_PACKET = 4096  # bytes of one packet waited for
# The lower capability flags by name (the greeting's capability list).
_FLAGS = ((0x0001, "LONG_PASSWORD"), (0x0002, "FOUND_ROWS"), (0x0004, "LONG_FLAG"), (0x0008, "CONNECT_WITH_DB"),
          (0x0010, "NO_SCHEMA"), (0x0020, "COMPRESS"), (0x0040, "ODBC"), (0x0080, "LOCAL_FILES"),
          (0x0100, "IGNORE_SPACE"), (0x0200, "PROTOCOL_41"), (0x0400, "INTERACTIVE"), (CLIENT_SSL, "SSL"),
          (0x1000, "IGNORE_SIGPIPE"), (0x2000, "TRANSACTIONS"), (0x8000, "SECURE_CONNECTION"))


def packet(buf: bytes) -> Optional[tuple[int, bytes]]:
    """(sequence number, payload) of the complete packet that starts ``buf``, else None."""
    if len(buf) < 4:
        return None
    length = buf[0] | buf[1] << 8 | buf[2] << 16
    if len(buf) < 4 + length:
        return None
    return buf[3], bytes(buf[4:4 + length])


def greeting_version(buf: bytes) -> Optional[str]:
    """The server version of a protocol-10 greeting packet starting ``buf`` (the reader's
    identification), else None."""
    if len(buf) < 7 or buf[3] != 0 or buf[4] != 0x0A:
        return None
    end = buf.find(b"\x00", 5, 5 + 64)
    version = buf[5:end] if end > 5 else b""
    return text(version) if version and all(32 <= c < 127 for c in version) else None


class MySql(Exchange):
    protocol = "mysql"

    def __init__(self, server: int) -> None:
        super().__init__(server)
        self.bufs = (bytearray(), bytearray())
        self.greeted = False

    def feed(self, d: int, data: bytes, frame: int) -> None:
        if d == self.server:
            if self.requested and looks_like_tls(data):
                self.offered = True
                self.accepted = True
                self.mark("answer", frame)
                self.done = True
                return
            buf = self.bufs[d]
            buf += data[:MAX_PACKET]
            got = packet(bytes(buf))
            if got is not None:
                del buf[:4 + len(got[1])]
                self._server_packet(got[1], frame)
            return
        if looks_like_tls(data):  # TLS right after the SSL request, in a segment of its own
            return
        buf = self.bufs[d]
        buf += data[:MAX_PACKET]
        got = packet(bytes(buf))
        if got is not None and self.greeted:
            del buf[:4 + len(got[1])]
            self._client_packet(got[1], frame)

    def _server_packet(self, payload: bytes, frame: int) -> None:
        if payload[:1] == b"\xff" and len(payload) >= 3:
            code = struct.unpack("<H", payload[1:3])[0]
            message = payload[9:] if payload[3:4] == b"#" else payload[3:]
            if not self.greeted:
                self.greeting = text(message)
                self.mark("greeting", frame)
            self.answer(str(code), text(message), False, frame)
            self.done = True
            return
        if self.greeted or payload[:1] != b"\x0a":
            return
        self.greeted = True
        end = payload.find(b"\x00", 1)
        self.greeting = text(payload[1:end]) if end > 0 else ""
        self.mark("greeting", frame)
        at = end + 1 + 4 + 8 + 1  # version, connection id, scramble part 1, filler
        if end > 0 and len(payload) >= at + 2:
            flags = struct.unpack("<H", payload[at:at + 2])[0]
            self.capability_list([name for bit, name in _FLAGS if flags & bit], bool(flags & CLIENT_SSL), frame)

    def _client_packet(self, payload: bytes, frame: int) -> None:
        if self.requested:
            return
        flags = struct.unpack("<H", payload[:2])[0] if len(payload) >= 2 else 0
        if len(payload) == SSL_REQUEST_LENGTH and flags & CLIENT_SSL:
            self.request(frame)
        else:
            self.went_on_in_plain_text(frame)
