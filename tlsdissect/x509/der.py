"""A minimal DER reader: one TLV, one OID, with every length checked against the data.

Enough to walk a Name from a CertificateRequest, an extension block ``cryptography`` refused,
or the first certificate of an OpenSSL "TRUSTED CERTIFICATE" blob.
"""

from __future__ import annotations


class _DerError(ValueError):
    pass


def _read_tlv(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """Read one DER TLV at ``pos``; return (tag, content_start, content_end)."""
    if pos + 2 > end:
        raise _DerError("truncated TLV header")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise _DerError("high tag numbers are not used in names")
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4:
            raise _DerError("indefinite or oversized length")
        if pos + count > end:
            raise _DerError("truncated length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > end:
        raise _DerError("length runs past the end of the data")
    return tag, pos, pos + length


def _decode_oid(body: bytes) -> str:
    if not body:
        raise _DerError("empty OID")
    arcs: list[int] = []
    value = 0
    for byte in body:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if body[-1] & 0x80:
        raise _DerError("unterminated OID arc")
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(a) for a in head + arcs[1:])
