"""The frames an Initial packet may carry (RFC 9000 §12.4, §19): PADDING, PING, ACK, CRYPTO,
CONNECTION_CLOSE. Anything else is a protocol violation at this level; reading stops there."""

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


Frame = Union[CryptoFrame, ConnectionClose]


def frames(payload: bytes) -> Iterator[Frame]:
    """The CRYPTO and CONNECTION_CLOSE frames of a decrypted Initial/Handshake payload."""
    pos = 0
    end = len(payload)
    while pos < end:
        ftype, pos = varint(payload, pos)
        if ftype == 0x00 or ftype == 0x01:  # PADDING, PING
            continue
        if ftype in (0x02, 0x03):  # ACK: largest, delay, range count, first range, ranges, ECN
            _, pos = varint(payload, pos)
            _, pos = varint(payload, pos)
            count, pos = varint(payload, pos)
            _, pos = varint(payload, pos)
            for _ in range(min(count, 10_000)):
                _, pos = varint(payload, pos)
                _, pos = varint(payload, pos)
            if ftype == 0x03:
                for _ in range(3):
                    _, pos = varint(payload, pos)
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
        else:
            return  # not allowed in Initial packets: nothing more we can trust
