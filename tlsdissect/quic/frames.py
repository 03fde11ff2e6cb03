"""QUIC frames (RFC 9000 §12.4, §19): the ones that tell how a handshake went are read, the
others skipped by their encoding.

Read: CRYPTO, CONNECTION_CLOSE (0x1c transport, 0x1d application), HANDSHAKE_DONE (the server's
word that the handshake is confirmed, RFC 9001 §4.1.2), NEW_CONNECTION_ID (the connection IDs
a side issues: the short headers sent to it carry them) and STREAM (the start of an HTTP/3
response). Skipped: PADDING, PING, ACK, and in
1-RTT packets every other frame of RFC 9000 §19 and DATAGRAM (RFC 9221). Initial and Handshake
packets may carry only PADDING, PING, ACK, CRYPTO and CONNECTION_CLOSE (§12.4): anything else
there is a protocol violation, and reading stops at it, as it does at a frame type we do not
know (its length cannot be told).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Union

from tlsdissect.quic.packets import QuicFormatError, varint


@dataclass
class CryptoFrame:
    offset: int
    data: bytes


@dataclass
class ConnectionClose:
    error_code: int
    frame_type: int | None  # the frame that caused it (transport close, 0x1c); None for 0x1d
    reason: str
    application: bool  # 0x1d: an application (e.g. HTTP/3) error code


@dataclass
class HandshakeDone:
    """HANDSHAKE_DONE (0x1e): sent by the server once the handshake is complete (1-RTT only)."""


@dataclass
class NewConnectionId:
    sequence: int
    cid: bytes


@dataclass
class StreamFrame:
    stream_id: int
    offset: int
    data: bytes


Frame = Union[CryptoFrame, ConnectionClose, HandshakeDone, NewConnectionId, StreamFrame]

# Frames made of a fixed number of variable-length integers (RFC 9000 §19): type -> how many.
_VARINT_FRAMES: dict[int, int] = {
    0x04: 3,  # RESET_STREAM: stream ID, application error code, final size
    0x05: 2,  # STOP_SENDING: stream ID, application error code
    0x10: 1,  # MAX_DATA
    0x11: 2,  # MAX_STREAM_DATA
    0x12: 1, 0x13: 1,  # MAX_STREAMS
    0x14: 1,  # DATA_BLOCKED
    0x15: 2,  # STREAM_DATA_BLOCKED
    0x16: 1, 0x17: 1,  # STREAMS_BLOCKED
    0x19: 1,  # RETIRE_CONNECTION_ID
}
_FIXED_FRAMES: dict[int, int] = {0x1A: 8, 0x1B: 8}  # PATH_CHALLENGE, PATH_RESPONSE: 8 bytes of data
HANDSHAKE_DONE = 0x1E


def _ack(payload: bytes, pos: int, ecn: bool) -> int:
    """The position after an ACK frame's fields: largest, delay, range count, first range, the
    ranges, and the ECN counts of type 0x03."""
    _, pos = varint(payload, pos)
    _, pos = varint(payload, pos)
    count, pos = varint(payload, pos)
    _, pos = varint(payload, pos)
    for _ in range(min(count, 10_000)):
        _, pos = varint(payload, pos)
        _, pos = varint(payload, pos)
    if ecn:
        for _ in range(3):
            _, pos = varint(payload, pos)
    return pos


def _skip(payload: bytes, pos: int, ftype: int) -> int:
    """The position after a 1-RTT frame that is skipped; -1 for a type of unknown length."""
    end = len(payload)
    if ftype in _VARINT_FRAMES:
        for _ in range(_VARINT_FRAMES[ftype]):
            _, pos = varint(payload, pos)
        return pos
    if ftype in _FIXED_FRAMES:
        return pos + _FIXED_FRAMES[ftype]
    if ftype == 0x07:  # NEW_TOKEN
        length, pos = varint(payload, pos)
        return pos + length
    if ftype == 0x30:  # DATAGRAM without a length: to the end (RFC 9221 §4)
        return end
    if ftype == 0x31:
        length, pos = varint(payload, pos)
        return pos + length
    return -1


def frames(payload: bytes, one_rtt: bool = False) -> Iterator[Frame]:
    """The frames read (see the module's docstring) of a decrypted packet payload; ``one_rtt``
    for a 1-RTT (or 0-RTT) packet, where every frame type may come."""
    pos = 0
    end = len(payload)
    while pos < end:
        ftype, pos = varint(payload, pos)
        if ftype == 0x00 or ftype == 0x01:  # PADDING, PING
            continue
        if ftype in (0x02, 0x03):
            pos = _ack(payload, pos, ftype == 0x03)
        elif ftype == 0x06:  # CRYPTO
            offset, pos = varint(payload, pos)
            length, pos = varint(payload, pos)
            if pos + length > end:
                raise QuicFormatError("CRYPTO frame runs past its packet")
            yield CryptoFrame(offset, payload[pos:pos + length])
            pos += length
        elif ftype in (0x1C, 0x1D):  # CONNECTION_CLOSE
            code, pos = varint(payload, pos)
            frame_type = None
            if ftype == 0x1C:
                frame_type, pos = varint(payload, pos)
            length, pos = varint(payload, pos)
            reason = payload[pos:pos + length].decode("utf-8", "replace")
            pos += length
            yield ConnectionClose(code, frame_type, reason, ftype == 0x1D)
        elif not one_rtt:
            return  # not allowed in Initial and Handshake packets: nothing more we can trust
        elif ftype == HANDSHAKE_DONE:
            yield HandshakeDone()
        elif 0x08 <= ftype <= 0x0F:  # STREAM: ID, offset (OFF bit 0x04), length (LEN bit 0x02) or to the end
            stream_id, pos = varint(payload, pos)
            offset = 0
            if ftype & 0x04:
                offset, pos = varint(payload, pos)
            length = end - pos
            if ftype & 0x02:
                length, pos = varint(payload, pos)
            if pos + length > end:
                raise QuicFormatError("STREAM frame runs past its packet")
            yield StreamFrame(stream_id, offset, payload[pos:pos + length])
            pos += length
        elif ftype == 0x18:  # NEW_CONNECTION_ID: sequence, retire prior to, length, ID, reset token
            sequence, pos = varint(payload, pos)
            _, pos = varint(payload, pos)
            if pos >= end:
                raise QuicFormatError("NEW_CONNECTION_ID frame cut short")
            length = payload[pos]
            cid = payload[pos + 1:pos + 1 + length]
            pos += 1 + length + 16
            if pos > end or not 1 <= length <= 20:
                raise QuicFormatError("NEW_CONNECTION_ID frame cut short or with a bad length")
            yield NewConnectionId(sequence, cid)
        else:
            pos = _skip(payload, pos, ftype)
            if pos < 0:
                return  # a frame type we do not know: its length cannot be told
            if pos > end:
                raise QuicFormatError(f"frame 0x{ftype:x} runs past its packet")
