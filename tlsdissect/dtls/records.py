"""DTLS records in a UDP datagram: the plaintext header of DTLS 1.0/1.2 (RFC 6347 §4.1) and the
DTLS 1.3 unified header of protected records (RFC 9147 §4).

A DTLSPlaintext header is content type (1), version (2), epoch (2), a 48-bit sequence number (6)
and the fragment's length (2): 13 bytes. A datagram may carry several records back to back. A
DTLS 1.3 protected record starts with a byte 0b001CSLEE (connection ID present, 16-bit sequence
number, length present, the epoch's two low bits); its content type is encrypted.

``looks_like_dtls`` decides from the bytes alone whether a datagram is DTLS (not from the
port): every record's header must be well formed and the lengths must end exactly at the
datagram's end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

CT_CHANGE_CIPHER_SPEC = 20
CT_ALERT = 21
CT_HANDSHAKE = 22
CT_APPLICATION_DATA = 23
CT_HEARTBEAT = 24
CT_TLS12_CID = 25  # RFC 9146: a record with a connection ID (its real type is encrypted)
CONTENT_TYPES = frozenset((20, 21, 22, 23, 24, 25))

DTLS_1_0 = 0xFEFF
DTLS_1_2 = 0xFEFD
DTLS_1_3 = 0xFEFC
DTLS_BAD_VER = 0x0100  # OpenSSL's pre-RFC DTLS (Cisco AnyConnect still speaks it)
RECORD_VERSIONS = frozenset((DTLS_1_0, DTLS_1_2, DTLS_1_3, DTLS_BAD_VER))
VERSION_NAMES = {DTLS_1_0: "DTLSv1.0", DTLS_1_2: "DTLSv1.2", DTLS_1_3: "DTLSv1.3", DTLS_BAD_VER: "DTLS 0x0100"}

HEADER_LEN = 13
MAX_RECORDS_PER_DATAGRAM = 64  # a datagram holds at most ~64 KB: more records than this is not DTLS


@dataclass(frozen=True, slots=True)
class DtlsRecord:
    """One record: its header's fields and its (plaintext or protected) fragment."""

    content_type: Optional[int]  # None: a DTLS 1.3 protected record (the type is encrypted)
    version: Optional[int]  # None in the unified header
    epoch: int  # the full epoch; a unified header carries only its two low bits
    sequence: int
    fragment: bytes
    unified: bool = False  # a DTLS 1.3 unified header (RFC 9147 §4)

    @property
    def protected(self) -> bool:
        """Encrypted: any record of epoch > 0 (the epoch's keys came from the handshake)."""
        return self.unified or self.epoch > 0


def version_name(version: Optional[int]) -> Optional[str]:
    if version is None:
        return None
    return VERSION_NAMES.get(version, f"0x{version:04x}")


def _plaintext_header_ok(data: bytes, pos: int) -> Optional[int]:
    """The end of the plaintext record at ``pos`` when its header is DTLS, else None."""
    if pos + HEADER_LEN > len(data):
        return None
    if data[pos] not in CONTENT_TYPES or ((data[pos + 1] << 8) | data[pos + 2]) not in RECORD_VERSIONS:
        return None
    end = pos + HEADER_LEN + ((data[pos + 11] << 8) | data[pos + 12])
    return end if end <= len(data) else None


def _unified_end(data: bytes, pos: int) -> Optional[tuple[int, int]]:
    """(header length, record end) of the unified header at ``pos``; None when it cannot be read
    (a connection ID of unknown length, or a length past the datagram)."""
    first = data[pos]
    if first & 0xE0 != 0x20 or first & 0x10:  # not 001xxxxx, or a connection ID (length unknown)
        return None
    head = 1 + (2 if first & 0x08 else 1)
    if first & 0x04:
        if pos + head + 2 > len(data):
            return None
        end = pos + head + 2 + ((data[pos + head] << 8) | data[pos + head + 1])
        head += 2
    else:
        end = len(data)
    return (head, end) if end <= len(data) and pos + head <= end else None


def looks_like_dtls(data: bytes) -> bool:
    """Whether a datagram starts a DTLS flow: plaintext records only (a flow is only taken up
    from a record whose header says DTLS; unified headers count once the flow is known), whose
    lengths end exactly at the datagram's end."""
    pos = 0
    n = 0
    while pos < len(data):
        end = _plaintext_header_ok(data, pos)
        if end is None or n >= MAX_RECORDS_PER_DATAGRAM:
            return False
        pos, n = end, n + 1
    return n > 0


def parse_datagram(data: bytes, epoch_hint: int = 0) -> tuple[list[DtlsRecord], Optional[str]]:
    """The records of one datagram, and a problem when its end could not be read (the records
    before it are kept). ``epoch_hint``: the sender's highest epoch so far, which completes a
    unified header's two epoch bits."""
    records: list[DtlsRecord] = []
    pos = 0
    while pos < len(data):
        if len(records) >= MAX_RECORDS_PER_DATAGRAM:
            return records, f"more than {MAX_RECORDS_PER_DATAGRAM} records in one datagram"
        first = data[pos]
        if first & 0xE0 == 0x20:
            unified = _unified_end(data, pos)
            if unified is None:
                return records, "a DTLS 1.3 record whose header cannot be read (connection ID or bad length)"
            head, unified_end = unified
            seq = (data[pos + 1] << 8 | data[pos + 2]) if first & 0x08 else data[pos + 1]
            low = first & 0x03
            epoch = epoch_hint - ((epoch_hint - low) % 4) if epoch_hint >= low else low
            epoch = epoch if epoch >= 0 else low
            records.append(DtlsRecord(None, None, epoch, seq, data[pos + head:unified_end], True))
            pos = unified_end
            continue
        end = _plaintext_header_ok(data, pos)
        if end is None:
            return records, f"bytes at offset {pos} of the datagram are not a DTLS record"
        records.append(DtlsRecord(
            first, (data[pos + 1] << 8) | data[pos + 2], (data[pos + 3] << 8) | data[pos + 4],
            int.from_bytes(data[pos + 5:pos + 11], "big"), data[pos + HEADER_LEN:end]))
        pos = end
    return records, None
