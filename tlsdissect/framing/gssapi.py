"""GSSAPI tokens of the FTP security extensions (RFC 2228) as GridFTP uses them: the GSI
mechanism's tokens are TLS records, base64 on FTP lines.

After ``AUTH GSSAPI`` and the server's ``334``, the client sends each token as ``ADAT <base64>``
and the server answers ``335 ADAT=<base64>`` (more to come) or ``235 ADAT=<base64>`` (done); the
protected commands that follow are ``ENC``/``MIC``/``CONF <base64>`` lines and their replies
``631``/``632``/``633 <base64>``, each token a TLS record of application data. The decoded
tokens, in order, are the TLS stream; other lines are skipped. A direction switches when a
segment starts with its first ``ADAT`` line (``starts_tokens``), as STARTTLS switches at the
segment that starts TLS.
"""

from __future__ import annotations

import binascii
from base64 import b64decode
from typing import Optional

from tlsdissect.framing.unwrapper import MAX_HELD, Piece, lost

# Lines whose rest is a token: the client's commands, the server's replies (RFC 2228 section 4)
TOKEN_PREFIXES = (b"ADAT ", b"ENC ", b"MIC ", b"CONF ", b"335 ADAT=", b"235 ADAT=", b"631 ", b"632 ", b"633 ")
_FIRST = (b"ADAT ", b"335 ADAT=", b"235 ADAT=")  # what the first token line of a direction starts with


def starts_tokens(segment: bytes) -> bool:
    """Does this segment of a plain-text FTP direction start its first GSSAPI token line?"""
    return segment.startswith(_FIRST)


class GssapiTokens:
    """One direction's token lines (an Unwrapper)."""

    name = "gssapi"
    __slots__ = ("buf", "problem")

    def __init__(self) -> None:
        self.buf = bytearray()  # an unfinished line
        self.problem: Optional[str] = None

    def feed(self, data: bytes, frame: int) -> list[Piece]:
        if self.problem is not None:
            return []
        buf = self.buf
        buf += data
        out: list[Piece] = []
        start = 0
        while True:
            end = buf.find(b"\n", start)
            if end < 0:
                break
            line = bytes(buf[start:end]).rstrip(b"\r")
            start = end + 1
            token = self._token(line)
            if token:
                out.append((token, frame))
            if self.problem is not None:
                buf.clear()
                return out
        del buf[:start]
        if len(buf) > MAX_HELD:
            buf.clear()
            lost(self, f"a GSSAPI token line longer than {MAX_HELD} bytes")
        return out

    def _token(self, line: bytes) -> bytes:
        for prefix in TOKEN_PREFIXES:
            if line.startswith(prefix):
                try:
                    return b64decode(line[len(prefix):].strip(), validate=True)
                except (binascii.Error, ValueError):
                    lost(self, f"a GSSAPI token line ({prefix.decode().strip()}) that is not base64")
                    return b""
        return b""  # (an FTP line that carries no token)

    def gap(self) -> None:
        self.buf.clear()
        lost(self, "bytes of the FTP control connection are missing from the capture: its GSSAPI tokens "
                   "cannot be followed on")
