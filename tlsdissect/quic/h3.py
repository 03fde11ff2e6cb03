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


# -- the response status of an HTTP/3 request stream (RFC 9114 §4.1, §7.2; QPACK RFC 9204) ---------

# QPACK's static table (RFC 9204 Appendix A): the entries whose name is :status, with their value.
QPACK_STATIC_STATUS: dict[int, int] = {
    24: 103, 25: 200, 26: 304, 27: 404, 28: 503, 63: 100, 64: 204, 65: 206, 66: 302, 67: 400, 68: 403,
    69: 421, 70: 425, 71: 500,
}
H3_DATA, H3_HEADERS = 0x00, 0x01
MAX_FIELD_PREFIX = 1 << 20  # a prefix integer larger than this is no header block we read


class QpackError(ValueError):
    """A field section that does not decode (or uses what a static-only reader cannot)."""


def _prefix_int(buf: bytes, pos: int, bits: int) -> tuple[int, int]:
    """(value, next position) of a prefix integer (RFC 7541 §5.1) whose prefix is the low ``bits``
    bits of ``buf[pos]``."""
    if pos >= len(buf):
        raise QpackError("field section cut short")
    mask = (1 << bits) - 1
    value = buf[pos] & mask
    pos += 1
    if value < mask:
        return value, pos
    shift = 0
    while True:
        if pos >= len(buf) or shift > 28:
            raise QpackError("prefix integer cut short or too long")
        b = buf[pos]
        pos += 1
        value += (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def _string(buf: bytes, pos: int, bits: int) -> tuple[bytes, int]:
    """A string literal whose Huffman flag is the bit above a ``bits``-bit length prefix."""
    from hpack.huffman_table import decode_huffman  # (hpack: the same Huffman code, RFC 9204 §4.1.2)

    huffman = bool(buf[pos] & (1 << bits)) if pos < len(buf) else False
    length, pos = _prefix_int(buf, pos, bits)
    if pos + length > len(buf):
        raise QpackError("string literal cut short")
    raw = buf[pos:pos + length]
    try:
        return (decode_huffman(raw) if huffman else raw), pos + length
    except Exception as e:  # (hpack's HPACKDecodingError)
        raise QpackError(f"Huffman string does not decode: {e}") from None


def field_section_status(block: bytes) -> Optional[int]:
    """The :status of a HEADERS frame's field section: its first field line, which for a response
    is the :status pseudo-header (RFC 9114 §4.3.2), read with QPACK's static table only; None
    when that line refers to the dynamic table (raises QpackError for bytes that do not decode)."""
    _, pos = _prefix_int(block, 0, 8)  # Required Insert Count
    _, pos = _prefix_int(block, pos, 7)  # Delta Base (and its sign bit)
    if pos >= len(block):
        raise QpackError("empty field section")
    first = block[pos]
    if first & 0x80:  # Indexed Field Line: 1 T index(6)
        index, _ = _prefix_int(block, pos, 6)
        return QPACK_STATIC_STATUS.get(index) if first & 0x40 else None
    if first & 0x40:  # Literal Field Line with Name Reference: 01 N T index(4), value
        index, pos = _prefix_int(block, pos, 4)
        if not first & 0x10 or index not in QPACK_STATIC_STATUS:
            return None
        value, _ = _string(block, pos, 7)
    elif first & 0x20:  # Literal Field Line with Literal Name: 001 N H length(3), name, value
        name, pos = _string(block, pos, 3)
        if name != b":status":
            return None
        value, _ = _string(block, pos, 7)
    else:  # post-base references: the dynamic table
        return None
    status = int(value) if value.isdigit() and len(value) == 3 else 0
    return status if 100 <= status <= 599 else None  # (RFC 9110 §15: three digits, 1xx-5xx)


def response_status(stream: bytes) -> tuple[Optional[int], bool]:
    """(final :status, done) of the start of a response on a request stream: HTTP/3 frames
    (type, length, payload), the first HEADERS frame with a final (non-1xx) status; ``done``
    is False while the bytes so far end before it (more may come)."""
    from tlsdissect.quic.packets import QuicFormatError, varint

    pos = 0
    while True:
        try:
            ftype, p = varint(stream, pos)
            length, p = varint(stream, p)
        except QuicFormatError:
            return None, False
        if p + length > len(stream):
            return None, False
        if ftype == H3_DATA:
            return None, True  # data before any HEADERS: no response head to read
        if ftype == H3_HEADERS:
            try:
                status = field_section_status(stream[p:p + length])
            except QpackError:
                return None, True
            if status is None or status >= 200:
                return status, True
        pos = p + length
