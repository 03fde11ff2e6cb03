"""HTTP/3's error codes, the ones an application CONNECTION_CLOSE (0x1d) carries on an HTTP/3
connection: RFC 9114 §8.1 (HTTP/3), RFC 9204 §6 (QPACK) and RFC 9297 §5.2 (HTTP Datagrams).

An application error code means something only to the application protocol the handshake
chose (ALPN): these names are given when that protocol is HTTP/3 (``h3``, or a draft ``h3-NN``).
"""

from __future__ import annotations

from typing import Optional

H3_ERRORS: dict[int, str] = {
    0x33: "H3_DATAGRAM_ERROR",
    0x100: "H3_NO_ERROR",
    0x101: "H3_GENERAL_PROTOCOL_ERROR",
    0x102: "H3_INTERNAL_ERROR",
    0x103: "H3_STREAM_CREATION_ERROR",
    0x104: "H3_CLOSED_CRITICAL_STREAM",
    0x105: "H3_FRAME_UNEXPECTED",
    0x106: "H3_FRAME_ERROR",
    0x107: "H3_EXCESSIVE_LOAD",
    0x108: "H3_ID_ERROR",
    0x109: "H3_SETTINGS_ERROR",
    0x10A: "H3_MISSING_SETTINGS",
    0x10B: "H3_REQUEST_REJECTED",
    0x10C: "H3_REQUEST_CANCELLED",
    0x10D: "H3_REQUEST_INCOMPLETE",
    0x10E: "H3_MESSAGE_ERROR",
    0x10F: "H3_CONNECT_ERROR",
    0x110: "H3_VERSION_FALLBACK",
    0x200: "QPACK_DECOMPRESSION_FAILED",
    0x201: "QPACK_ENCODER_STREAM_ERROR",
    0x202: "QPACK_DECODER_STREAM_ERROR",
}

# What the codes that end a connection for a reason a user can act on mean (the others are
# one peer's complaint about the other's HTTP/3 implementation).
H3_MEANINGS: dict[int, str] = {
    0x100: "a graceful close, nothing went wrong",
    0x107: "the peer closed because of excessive load (too many requests or streams)",
    0x10B: "the server rejected the request before processing any of it; it can be retried",
    0x10C: "the request or its response was cancelled",
    0x110: "the server asks the client to retry the request over HTTP/1.1 or HTTP/2 (TCP)",
}

H3_NO_ERROR = 0x100


def is_http3(alpn: Optional[str]) -> bool:
    return alpn is not None and (alpn == "h3" or alpn.startswith("h3-"))


def is_reserved(code: int) -> bool:
    """A reserved code (0x1f * N + 0x21) that peers send to exercise unknown codes (RFC 9114 §8.1)."""
    return code >= 0x21 and (code - 0x21) % 0x1F == 0


def h3_error_name(code: int) -> Optional[str]:
    """The HTTP/3 name of an application error code, None when it has none."""
    name = H3_ERRORS.get(code)
    if name is None and is_reserved(code):
        return "reserved (greasing)"
    return name
