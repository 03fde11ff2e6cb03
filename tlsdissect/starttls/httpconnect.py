"""HTTP CONNECT (RFC 9110 §9.3.6): a client asks an HTTP proxy for a tunnel, TLS runs inside.

The client sends ``CONNECT host:port HTTP/1.1`` and its header lines; the proxy answers with a
status line and headers. A 2xx opens the tunnel and the ClientHello follows on the same
connection; anything else (407 Proxy Authentication Required, 403 Forbidden, 502 Bad Gateway,
...) is the proxy's refusal, and the client never gets to TLS.
"""

from __future__ import annotations

from tlsdissect.starttls.exchange import LineExchange, text

MAX_HEADERS = 64  # header lines of the proxy's answer read at most


class HttpConnect(LineExchange):
    protocol = "http_connect"

    def __init__(self, server: int) -> None:
        super().__init__(server)
        self.headers = 0
        self.status_seen = False

    def _client_line(self, line: bytes, frame: int) -> None:
        if not self.requested:
            words = line.split()
            if len(words) >= 2 and words[0] == b"CONNECT":
                self.target = text(words[1])
                self.request(frame)

    def _server_line(self, line: bytes, frame: int) -> None:
        if not self.status_seen:
            words = line.split(None, 2)
            if len(words) < 2 or not words[0].startswith(b"HTTP/") or not words[1].isdigit():
                return
            self.status_seen = True
            self.greeting = text(line)
            code = text(words[1])
            reason = text(words[2]) if len(words) > 2 else ""
            if code in ("405", "501"):
                self.offered = False  # (not a proxy that does CONNECT at all)
            self.answer(code, reason, code.startswith("2"), frame)
            return
        if not line:
            self.done = True  # (the end of the answer's headers)
            return
        self.headers += 1
        if self.headers > MAX_HEADERS:
            self.done = True
        elif line[:19].lower() == b"proxy-authenticate:":
            self.capability_list([text(line)], True, frame)  # (what the proxy asks for: its realm, scheme)
