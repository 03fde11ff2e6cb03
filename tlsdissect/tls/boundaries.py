"""Where TLS records start: a record header's plausibility, and the scans that find a record
boundary in bytes not known to begin at one (a direction picked up mid-stream, after a gap, or
after damage).

Pure functions of a buffer: the record layer keeps the state (what is buffered, the scan
budget) and decides what to do with a boundary found.
"""

from __future__ import annotations

import re
import struct
from typing import Any, Iterator, Optional

MAX_RECORD_PAYLOAD = 16384 + 2048  # RFC 5246 limit for protected records
_VALID_CT = (20, 21, 22, 23, 24)
# A record header as (content type << 8 | major version, minor version, length): one test of
# the first field tells a plausible header (RECORD_STARTS); the version is rebuilt where needed.
RECORD_HEADER = struct.Struct(">HBH").unpack_from  # (bound once: not per call of the record loop)
RECORD_STARTS = frozenset((ct << 8) | 3 for ct in _VALID_CT)
# The first three bytes of a plausible record header (content type 20-24, version 3.0-3.4): the
# resynchronisation scans find candidates with it in C instead of testing every position.
_HEADER_START = re.compile(b"[\x14-\x18]\x03[\x00-\x04]")


def plausible_header(buf: Any, pos: int) -> bool:
    """Could a TLS record start at buf[pos]? (content type, version 3.0-3.4, sane length; the
    five bytes of a header must be there)"""
    ctv, minor, length = RECORD_HEADER(buf, pos)
    return ctv in RECORD_STARTS and minor <= 4 and length <= MAX_RECORD_PAYLOAD


def _plausible_headers(buf: Any, start: int, last: int) -> Iterator[tuple[int, int]]:
    """(position, end of its record) of each plausible record header (``plausible_header``)
    starting from ``start`` to ``last``: the resynchronisation scans' candidates, found by one
    compiled pattern in C instead of a test at every position."""
    search = _HEADER_START.search
    m = search(buf, start, last + 3)
    while m is not None:
        pos = m.start()
        length = (buf[pos + 3] << 8) | buf[pos + 4]
        if length <= MAX_RECORD_PAYLOAD:
            yield pos, pos + 5 + length
        m = search(buf, pos + 1, last + 3)


def find_boundary(buf: Any, start: int) -> Optional[int]:
    """A position from ``start`` on where a record header starts and is followed by another one
    (or ends exactly at the end of ``buf``), to resynchronise after damage or a mid-stream start
    without trusting a single lucky match."""
    n = len(buf)
    end = n - 5
    for pos, nxt in _plausible_headers(buf, start, end):
        if nxt == n or (nxt <= end and plausible_header(buf, nxt)):
            return pos
    return None


def incomplete_record(buf: Any, start: int) -> Optional[int]:
    """The first position from ``start`` on where a record header begins (or its first bytes,
    at the end of ``buf``) whose record is not complete yet, if any."""
    n = len(buf)
    last = n - 5  # the last position with a whole header
    for pos, nxt in _plausible_headers(buf, start, last):
        # Not complete, or complete but the header after it has not fully arrived
        # (whether this is a real boundary is decided by that header).
        if nxt > n or (nxt < n and header_prefix(buf, nxt)):
            return pos
    for pos in range(max(start, last + 1), n):
        if header_prefix(buf, pos):
            return pos
    return None


def header_prefix(buf: Any, pos: int) -> bool:
    """The last (fewer than 5) bytes of ``buf``, from ``pos``, could begin a record header."""
    avail = len(buf) - pos
    return (avail < 5 and 20 <= buf[pos] <= 24 and (avail < 2 or buf[pos + 1] == 3)
            and (avail < 3 or buf[pos + 2] <= 4))
