"""PostgreSQL (protocol 3, "SSL Session Encryption"): SSLRequest answered by one byte.

The client's 8-byte SSLRequest (code 80877103) is answered 'S' (TLS follows) or 'N' (this
server does not do TLS); a server too old for the request, or refusing the connection, answers
an ErrorResponse ('E': fields such as 'C' SQLSTATE and 'M' message). A GSSENCRequest (80877104)
before it is answered 'N' or 'G' the same way. After 'N' a client that allows plain text sends
its StartupMessage; one that requires TLS sends nothing more.
"""

from __future__ import annotations

import struct

from tlsdissect.starttls.exchange import Exchange, looks_like_tls, text

SSL_REQUEST = struct.pack("!II", 8, 80877103)
GSSENC_REQUEST = struct.pack("!II", 8, 80877104)
MAX_ERROR = 4096  # bytes of an ErrorResponse waited for


def error_fields(body: bytes) -> dict[str, str]:
    """An ErrorResponse's fields (type letter -> text), read from its body."""
    out: dict[str, str] = {}
    for part in body.split(b"\x00"):
        if part:
            out.setdefault(chr(part[0]), text(part[1:]))
    return out


class PostgreSql(Exchange):
    protocol = "postgresql"

    def __init__(self, server: int) -> None:
        super().__init__(server)
        self.client_buf = bytearray()
        self.server_buf = bytearray()
        self.waiting: list[bytes] = []  # requests sent, in order, not answered yet ("ssl", "gss")

    def feed(self, d: int, data: bytes, frame: int) -> None:
        if d == self.server:
            self.server_buf += data[:MAX_ERROR]
            self._server(frame)
            return
        if self.accepted is not None:
            if self.accepted is False:
                self.client_after_answer(data, frame, data[:1] == b"X")
            return
        buf = self.client_buf
        buf += data[:64]
        while len(buf) >= 8 and not self.done:
            head = bytes(buf[:8])
            if head == SSL_REQUEST:
                self.request(frame)
                self.waiting.append(b"ssl")
            elif head == GSSENC_REQUEST:
                self.waiting.append(b"gss")
            elif looks_like_tls(head):
                self.done = True
                return
            else:
                if not self.requested:
                    self.went_on_in_plain_text(frame)  # a StartupMessage straight away
                self.done = True
                return
            del buf[:8]

    def _server(self, frame: int) -> None:
        buf = self.server_buf
        while buf and self.waiting and not self.done:
            kind = self.waiting[0]
            first = buf[0]
            if first == ord("E"):
                if len(buf) < 5:
                    return
                length = struct.unpack("!I", bytes(buf[1:5]))[0]
                if len(buf) < 1 + length and len(buf) < MAX_ERROR:
                    return
                fields = error_fields(bytes(buf[5:1 + length]))
                self.answer(fields.get("C", "E"), fields.get("M", ""), False, frame)
                self.done = True
                return
            del buf[:1]
            self.waiting.pop(0)
            if kind == b"gss":
                continue  # 'G' or 'N' to GSS encryption: not the TLS question
            if first == ord("S"):
                self.offered = True
                self.answer("S", "", True, frame)
            elif first == ord("N"):
                self.no_tls_answer = True
                self.answer("N", "", False, frame)
            else:
                self.done = True  # not an answer to an SSLRequest
