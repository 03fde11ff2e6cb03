"""QUIC packet headers (RFC 9000 §17, RFC 9369 for version 2) and variable-length integers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

VERSION_1 = 0x00000001
VERSION_2 = 0x6B3343CF

# Long-header packet types by version (RFC 9000 §17.2, RFC 9369 §3.2).
_TYPES_V1 = {0: "initial", 1: "0rtt", 2: "handshake", 3: "retry"}
_TYPES_V2 = {1: "initial", 2: "0rtt", 3: "handshake", 0: "retry"}

MAX_CID = 20  # RFC 9000 §17.2: connection IDs of version 1 are at most 20 bytes


class QuicFormatError(ValueError):
    """Bytes that are not a QUIC packet of a version we read."""


def varint(buf: bytes, pos: int) -> tuple[int, int]:
    """(value, next position) of the variable-length integer at ``pos`` (RFC 9000 §16)."""
    if pos >= len(buf):
        raise QuicFormatError("variable-length integer cut short")
    first = buf[pos]
    size = 1 << (first >> 6)
    if pos + size > len(buf):
        raise QuicFormatError("variable-length integer cut short")
    value = first & 0x3F
    for b in buf[pos + 1:pos + size]:
        value = (value << 8) | b
    return value, pos + size


def version_name(version: int) -> str:
    if version == VERSION_1:
        return "QUICv1"
    if version == VERSION_2:
        return "QUICv2"
    if version >> 8 == 0xFF0000:
        return f"draft-{version & 0xFF}"
    if version & 0x0F0F0F0F == 0x0A0A0A0A:
        return f"0x{version:08x} (reserved, forces version negotiation)"
    return f"0x{version:08x}"


@dataclass
class LongHeader:
    """A long-header packet as far as it is readable without keys."""

    version: int
    kind: str  # initial | 0rtt | handshake | retry | version_negotiation | unknown
    dcid: bytes
    scid: bytes
    start: int  # offset of the packet in its datagram
    end: int  # offset just past it (coalesced packets follow)
    pn_offset: int = 0  # where the (protected) packet number starts
    token: bytes = b""
    supported_versions: tuple[int, ...] = ()  # a Version Negotiation packet's list
    retry_token: bytes = b""


def parse_long_header(buf: bytes, start: int) -> LongHeader:
    """The long-header packet at ``start`` of a datagram (raises QuicFormatError)."""
    if len(buf) - start < 7:
        raise QuicFormatError("long header cut short")
    first = buf[start]
    version = int.from_bytes(buf[start + 1:start + 5], "big")
    pos = start + 5
    dcid_len = buf[pos]
    dcid = buf[pos + 1:pos + 1 + dcid_len]
    pos += 1 + dcid_len
    if pos >= len(buf):
        raise QuicFormatError("connection IDs cut short")
    scid_len = buf[pos]
    scid = buf[pos + 1:pos + 1 + scid_len]
    pos += 1 + scid_len
    if pos > len(buf) or len(dcid) != dcid_len or len(scid) != scid_len:
        raise QuicFormatError("connection IDs cut short")
    if version == 0:  # Version Negotiation: the rest of the datagram lists versions
        versions = tuple(int.from_bytes(buf[p:p + 4], "big") for p in range(pos, len(buf) - 3, 4))
        return LongHeader(0, "version_negotiation", dcid, scid, start, len(buf), supported_versions=versions)
    types = _TYPES_V2 if version == VERSION_2 else _TYPES_V1
    if version not in (VERSION_1, VERSION_2) and version >> 8 != 0xFF0000:
        return LongHeader(version, "unknown", dcid, scid, start, len(buf))
    if dcid_len > MAX_CID or scid_len > MAX_CID:
        raise QuicFormatError(f"connection ID longer than {MAX_CID} bytes")
    kind = types[(first >> 4) & 0x03]
    if kind == "retry":  # token, then a 16-byte integrity tag, to the datagram's end
        return LongHeader(version, kind, dcid, scid, start, len(buf), retry_token=buf[pos:len(buf) - 16])
    token = b""
    if kind == "initial":
        token_len, pos = varint(buf, pos)
        token = buf[pos:pos + token_len]
        pos += token_len
    length, pos = varint(buf, pos)
    end = pos + length
    if end > len(buf) or length < 20:
        raise QuicFormatError("packet length runs past the datagram")
    return LongHeader(version, kind, dcid, scid, start, end, pn_offset=pos, token=token)


def looks_like_quic_long_header(buf: bytes) -> Optional[int]:
    """The version of a datagram that starts with a QUIC long header (fixed bit set, or a
    Version Negotiation packet), else None: how a flow is recognised as QUIC, by its bytes."""
    if len(buf) < 7 or not buf[0] & 0x80:
        return None
    version = int.from_bytes(buf[1:5], "big")
    if version != 0 and not buf[0] & 0x40:
        return None
    if version in (0, VERSION_1, VERSION_2) or version >> 8 == 0xFF0000:
        return version
    return None
