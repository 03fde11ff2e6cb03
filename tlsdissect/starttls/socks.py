"""SOCKS 5 (RFC 1928, RFC 1929) and SOCKS 4/4a: a client asks a SOCKS proxy for a connection,
and TLS runs inside it once the proxy says it is made.

SOCKS 5: the client's greeting (``05``, the number of methods, the methods), the proxy's choice
(``05``, a method; ``FF``: none acceptable), an optional username/password exchange (``01``
... / ``01`` status), the CONNECT request (``05 01 00``, an address type, the address, the
port) and the proxy's reply (``05``, REP: ``00`` succeeded, ``01``-``08`` the reasons it did
not). SOCKS 4: the request (``04 01``, port, IPv4 address, user id, for 4a a host name) and the
reply (``00``, ``5A`` granted, ``5B``-``5D`` refused).
"""

from __future__ import annotations

from typing import Optional

from tlsdissect.starttls.exchange import Exchange, text

# RFC 1928 §6: the reply field of SOCKS 5.
SOCKS5_REPLIES = {
    0: "succeeded", 1: "general SOCKS server failure", 2: "connection not allowed by ruleset",
    3: "network unreachable", 4: "host unreachable", 5: "connection refused", 6: "TTL expired",
    7: "command not supported", 8: "address type not supported",
}
SOCKS4_REPLIES = {0x5A: "request granted", 0x5B: "request rejected or failed",
                  0x5C: "rejected: the proxy cannot reach the client's identd",
                  0x5D: "rejected: the identd user id does not match"}
_METHODS = {0: "no authentication", 1: "GSSAPI", 2: "username/password", 0xFF: "no acceptable methods"}
MAX_BUFFER = 600  # bytes of one direction held while a message is incomplete


def socks5_greeting(first: bytes) -> bool:
    """Whether ``first`` is exactly a SOCKS 5 greeting: 05, n, n methods."""
    return len(first) >= 3 and first[0] == 5 and 0 < first[1] == len(first) - 2


def socks4_request(first: bytes) -> bool:
    """Whether ``first`` is a SOCKS 4/4a CONNECT request: 04 01, port, address, a user id ending in 00."""
    return len(first) >= 9 and first[0] == 4 and first[1] == 1 and first[8:].count(b"\0") in (1, 2) \
        and first.endswith(b"\0")


def _address(data: bytes, at: int) -> Optional[tuple[str, int]]:
    """A SOCKS 5 address (type at ``at``) and port: (text, position after the port)."""
    kind = data[at] if len(data) > at else -1
    if kind == 1 and len(data) >= at + 7:
        return ".".join(str(b) for b in data[at + 1:at + 5]) + f":{int.from_bytes(data[at + 5:at + 7], 'big')}", at + 7
    if kind == 3 and len(data) > at + 1 and len(data) >= at + 4 + data[at + 1]:
        n = data[at + 1]
        return text(data[at + 2:at + 2 + n]) + f":{int.from_bytes(data[at + 2 + n:at + 4 + n], 'big')}", at + 4 + n
    if kind == 4 and len(data) >= at + 19:
        words = [data[at + 1 + i:at + 3 + i].hex() for i in range(0, 16, 2)]
        return "[" + ":".join(words) + f"]:{int.from_bytes(data[at + 17:at + 19], 'big')}", at + 19
    return None


class Socks(Exchange):
    protocol = "socks"

    def __init__(self, server: int) -> None:
        super().__init__(server)
        self.held = (bytearray(), bytearray())
        self.version = 0
        self.step = "greeting"  # greeting | method | auth | request | reply

    def feed(self, d: int, data: bytes, frame: int) -> None:
        buf = self.held[d]
        buf += data
        if len(buf) > MAX_BUFFER:
            self.done = True
            return
        while buf and not self.done:
            used = self._client(buf, frame) if d != self.server else self._server(buf, frame)
            if not used:
                return
            del buf[:used]

    def _client(self, buf: bytearray, frame: int) -> int:
        if self.step == "greeting":
            if buf[0] == 4 and socks4_request(bytes(buf)):
                self.version = 4
                port = int.from_bytes(buf[2:4], "big")
                ip = ".".join(str(b) for b in buf[4:8])
                parts = bytes(buf[8:]).split(b"\0")
                host = text(parts[1]) if ip.startswith("0.0.0.") and len(parts) > 2 and parts[1] else ip
                self.target = f"{host}:{port}"
                self.request(frame)
                self.step = "reply"
                return len(buf)
            if len(buf) < 2 or len(buf) < 2 + buf[1]:
                return 0
            self.version = 5
            self.step = "method"
            return 2 + buf[1]
        if self.step == "auth":  # RFC 1929: 01, ulen, user, plen, password (never kept)
            if len(buf) < 2 or len(buf) < 3 + buf[1] or len(buf) < 3 + buf[1] + buf[2 + buf[1]]:
                return 0
            return 3 + buf[1] + buf[2 + buf[1]]
        if self.step == "request":
            if len(buf) < 4:
                return 0
            found = _address(bytes(buf), 3)
            if found is None:
                return 0 if len(buf) < 262 else len(buf)
            self.target, used = found
            self.request(frame)
            self.step = "reply"
            return used
        if self.step == "after":  # TLS or more plain text after the answer: the prelude is over
            self.done = True
        return len(buf)

    def _server(self, buf: bytearray, frame: int) -> int:
        if self.step == "method":
            if len(buf) < 2:
                return 0
            method = buf[1]
            self.greeting = f"SOCKS5 method {method:#04x} ({_METHODS.get(method, 'other')})"
            self.mark("greeting", frame)
            if method == 0xFF:
                self.offered = False  # (no method the client offered: it cannot even ask)
                self.answer("FF", "no acceptable authentication methods", False, frame)
            else:
                self.step = "auth" if method == 2 else "request"
            return 2
        if self.step == "auth" or (self.step == "request" and buf[0] == 1):
            if len(buf) < 2:
                return 0
            if buf[1] != 0:
                self.answer(f"auth {buf[1]:#04x}", "username/password authentication failed (RFC 1929)", False, frame)
            self.step = "request"
            return 2
        if self.step == "reply":
            if self.version == 4:
                if len(buf) < 8:
                    return 0
                code = buf[1]
                self.answer(f"{code:#04x}", SOCKS4_REPLIES.get(code, "unknown reply"), code == 0x5A, frame)
                self.step = "after"
                return 8
            if len(buf) < 2:
                return 0
            code = buf[1]
            self.answer(f"{code:#04x}", SOCKS5_REPLIES.get(code, "unassigned reply"), code == 0, frame)
            self.step = "after"
            return len(buf)
        return len(buf)
