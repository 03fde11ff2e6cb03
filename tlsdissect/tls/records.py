"""The TLS record layer for one direction, as a sans-I/O state machine.

Feed it the contiguous bytes of one TCP direction (from :mod:`tlsdissect.tcp.reassembly`); it returns
record-level events: complete handshake messages (reassembled across records and segments,
several per record), alerts, ChangeCipherSpec, heartbeats, protected records, and what it
recognised instead when the stream is not TLS. It never raises on bad bytes: damage becomes an
``anomaly`` event and parsing resynchronises at the next recognisable record header.

Protected records are not buffered: their length is read from the header and the payload is
skipped by arithmetic, so bulk application data costs a subtraction per segment. Without a
decryptor nothing of a protected record is kept beyond its header.

The caller (the session) must see a ChangeCipherSpec or ServerHello before the records after
it are parsed, because those change how the rest is read. The session sets
:attr:`RecordLayer.sink` for the duration of its calls: the events then go to it as they are
read (the frequent kinds as method calls with their fields, no event object), so it has seen
such an event before the layer reads on. Without a sink, the same calls go to an
:class:`EventList`, which feed returns: the layer then stops after such an event and, when
bytes are left to read, sets :attr:`RecordLayer.paused`; the caller resumes with
``feed(b"", ...)`` (an SSLv2-format ClientHello pauses either way).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional, Sequence

CT_CHANGE_CIPHER_SPEC = 20
CT_ALERT = 21
CT_HANDSHAKE = 22
CT_APPLICATION_DATA = 23
CT_HEARTBEAT = 24
_VALID_CT = (20, 21, 22, 23, 24)

MAX_RECORD_PAYLOAD = 16384 + 2048  # RFC 5246 limit for protected records
# A record header as (content type << 8 | major version, minor version, length): one test of
# the first field tells a plausible header (_RECORD_STARTS); the version is rebuilt where needed.
_RECORD_HEADER = struct.Struct(">HBH").unpack_from  # (bound once: not per call of _parse_records)
_RECORD_STARTS = frozenset((ct << 8) | 3 for ct in _VALID_CT)
# A handshake message header as one number: type << 24 | body length.
_HANDSHAKE_HEADER = struct.Struct(">I").unpack_from
# The first three bytes of a plausible record header (content type 20-24, version 3.0-3.4): the
# resynchronisation scans find candidates with it in C instead of testing every position.
_HEADER_START = re.compile(b"[\x14-\x18]\x03[\x00-\x04]")
MAX_HANDSHAKE_MESSAGE = 1 << 20  # cap for one reassembled handshake message
PLAIN_SAMPLE = 4096  # bytes of a non-TLS stream kept to name it (error pages sit in the body)
LAST_RECORDS = 8  # records per direction kept for the report (the failure point's neighbourhood)
_TRIM_AT = 2 * LAST_RECORDS  # the record list is trimmed to LAST_RECORDS when longer than this
MAX_RESYNC_SCAN = 256 * 1024  # bytes scanned for a record boundary before giving up
_HS_CLIENT_HELLO = 1
_HS_SERVER_HELLO = 2
_KNOWN_HS_TYPES = frozenset((0, 1, 2, 3, 4, 5, 6, 8, 11, 12, 13, 14, 15, 16, 20, 21, 22, 23, 24, 25, 254))

# Record-layer modes
DETECT = 0  # nothing seen yet: is this TLS at all?
TLS = 1
SSL2 = 2
PLAIN = 3  # not TLS (maybe a STARTTLS protocol that switches later)
LOST = 4  # garbage we could not resynchronise on


@dataclass(slots=True)
class RecordEvent:
    """One thing the record layer saw. ``kind`` says which fields matter:

    handshake: msg_type, body (message without its 4-byte header), encrypted (decrypted)
    alert: level, code, encrypted; an alert whose content is hidden has level = code = None
    ccs, heartbeat: length
    protected: content_type, length (a record we could not read)
    not_tls: detail (what it looks like), sample
    starttls: detail
    gap: length (bytes missing), detail
    anomaly: name (a stable identifier, see docs/schema.md), detail
    sslv2_client_hello / sslv2_server_hello: body (the SSLv2 message)
    """

    kind: str
    frame: int
    time: float
    content_type: int = 0
    length: int = 0
    msg_type: int = -1
    body: bytes = b""
    level: Optional[int] = None
    code: Optional[int] = None
    encrypted: bool = False
    detail: str = ""
    record_version: int = 0
    name: str = ""


class EventList(list):
    """Events as RecordEvents, for a caller that set no sink (feed's, gap's and finish's
    result): the calls a sink gets (see RecordLayer.sink), collected. Such a caller must see a
    hello or a CCS before the records after it are read, so the layer pauses after one."""

    __slots__ = ()
    pauses = True

    def on_event(self, side: int, ev: RecordEvent) -> None:
        self.append(ev)

    def on_handshake(self, side: int, frame: int, ts: float, t: int, length: int, body: bytes, encrypted: bool,
                     detail: str, version: int) -> None:
        # Positional arguments (the field order of RecordEvent): one per handshake message.
        self.append(RecordEvent("handshake", frame, ts, CT_HANDSHAKE, length, t, body, None, None, encrypted,
                                detail, version))

    def on_protected(self, side: int, frame: int, ts: float, ct: int, length: int, version: int) -> None:
        self.append(RecordEvent("protected", frame, ts, ct, length, -1, b"", None, None, True, "", version))

    def on_alert(self, side: int, frame: int, ts: float, level: Optional[int], code: Optional[int],
                 encrypted: bool, length: int, version: int) -> None:
        self.append(RecordEvent("alert", frame, ts, CT_ALERT, length, -1, b"", level, code, encrypted, "", version))

    def on_ccs(self, side: int, frame: int, ts: float, length: int, body: bytes, decrypted: bool,
               version: int) -> None:
        self.append(RecordEvent("ccs", frame, ts, CT_CHANGE_CIPHER_SPEC, length, -1, body, None, None, decrypted,
                                "", version))


# Where a method puts its events: the layer's sink (the session) or an EventList; both take the
# same calls (on_handshake, on_protected, on_alert and on_ccs; on_event for every other kind).
_Out = Any

# A decryptor turns (content_type, record_version, payload) into (inner_type, plaintext) or
# raises; supplied by the key-log machinery when keys are available.
Decryptor = Callable[[int, int, bytes], tuple[int, bytes]]

_PLAIN_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"GET ", "HTTP request"), (b"POST ", "HTTP request"), (b"HEAD ", "HTTP request"),
    (b"PUT ", "HTTP request"), (b"DELETE ", "HTTP request"), (b"OPTIONS ", "HTTP request"),
    (b"PATCH ", "HTTP request"), (b"CONNECT ", "HTTP request"), (b"TRACE ", "HTTP request"),
    (b"PRI * HTTP/2", "HTTP/2 cleartext preface"),
    (b"HTTP/1.", "HTTP response"), (b"HTTP/2", "HTTP response"),
    (b"SSH-", "SSH banner"),
    (b"220 ", "SMTP/FTP greeting"), (b"220-", "SMTP/FTP greeting"),
    (b"EHLO", "SMTP command"), (b"HELO", "SMTP command"), (b"STARTTLS", "STARTTLS command"),
    (b"* OK", "IMAP greeting"), (b"+OK", "POP3 greeting"),
    (b"<?xml", "XML (XMPP?)"), (b"<stream:stream", "XMPP stream"),
    (b"RFB ", "VNC banner"), (b"\x00\x00\x00\x08\x04\xd2\x16\x2f", "PostgreSQL SSLRequest"),
)


def describe_plaintext(data: bytes) -> str:
    """Name a non-TLS stream from its first bytes (plain HTTP on the TLS port is the classic)."""
    for prefix, name in _PLAIN_SIGNATURES:
        if data.startswith(prefix):
            return name
    if data and all(32 <= c < 127 or c in (9, 10, 13) for c in data[:64]):
        return "text protocol"
    return "unknown binary protocol"


def plausible_header(buf: Any, pos: int) -> bool:
    """Could a TLS record start at buf[pos]? (content type, version 3.0-3.4, sane length; the
    five bytes of a header must be there)"""
    ctv, minor, length = _RECORD_HEADER(buf, pos)
    return ctv in _RECORD_STARTS and minor <= 4 and length <= MAX_RECORD_PAYLOAD


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


def _sslv2_client_hello_header(buf: Any) -> bool:
    """SSLv2-compatible ClientHello: 2-byte length with the top bit set, type 1, version."""
    return (
        len(buf) >= 5 and buf[0] & 0x80 and buf[2] == 1
        and ((buf[3] == 0 and buf[4] == 2) or (buf[3] == 3 and buf[4] <= 4))
    )


class RecordLayer:
    """Parse the TLS records of one direction; see the module docstring."""

    __slots__ = (
        "mode", "buf", "skip", "skip_record", "hs",
        "encrypted", "tls13", "decryptor", "report_protected", "reporting", "paused", "records",
        "bytes_by_type", "protected_records", "last_records", "resync_scanned",
        "midstream", "plain_name", "anomalies", "hs_resume", "version_known", "plain_sample", "plain_hold",
        "rest", "rest_pos", "side", "sink",
    )

    def __init__(self, side: int = 0) -> None:
        self.mode = DETECT
        self.buf = bytearray()
        self.skip = 0  # bytes of the current protected record still to skip
        self.skip_record: Optional[tuple[int, int, int]] = None  # (ctype, length, version) to report
        self.hs = bytearray()  # handshake message reassembly
        self.encrypted = False  # every record from now on is protected
        self.tls13 = False  # content type 23 is protected, others are clear
        self.version_known = False  # the session saw the ServerHello
        self.plain_sample: Any = b""  # the first bytes of a stream that is not TLS (a bytearray from _to_plain)
        self.decryptor: Optional[Decryptor] = None
        self.report_protected = True  # emit 'protected' events (off once bulk data flows)
        # report_protected as this call reads it: the session turns it off while it handles an
        # event, and the layer follows at the points where the session would have seen its events
        # without a sink (the start of a call, a hello, a CCS), whichever way they are handed out.
        self.reporting = True
        self.paused = False
        self.records = 0
        self.bytes_by_type: dict[int, int] = {}
        self.protected_records = 0
        # (frame, time, ctype, length, protected): the last LAST_RECORDS are reported. A list trimmed
        # now and then, not a deque(maxlen=...): that costs 600 bytes per direction of every connection.
        self.last_records: list[tuple[int, float, int, int, bool]] = []
        self.resync_scanned = 0
        self.midstream = False  # the direction was picked up after its start
        self.plain_name = ""
        self.plain_hold = b""  # a segment too short to tell whether TLS starts with it
        self.anomalies = 0
        self.hs_resume: Optional[tuple[int, bool]] = None  # handshake bytes queued by a pause
        # A pause inside a segment read in place: the segment and where reading resumes (no
        # copy of the rest into ``buf`` and out again; only while the caller resumes).
        self.rest: Optional[bytes] = None
        self.rest_pos = 0
        # Where feed's events go: set by the session for the call, straight to it, as calls
        # with their fields (on_handshake, on_protected, on_alert, on_ccs: no event object;
        # every other kind as a RecordEvent, on_event), all with ``side``, this direction's
        # index. None: the same calls fill an EventList, which feed returns.
        self.side = side
        self.sink: Any = None

    def _note_record(self, record: tuple[int, float, int, int, bool]) -> None:
        lr = self.last_records
        lr.append(record)
        if len(lr) > _TRIM_AT:
            del lr[:-LAST_RECORDS]

    def recent_records(self) -> list[tuple[int, float, int, int, bool]]:
        """The last LAST_RECORDS records of this direction (the failure point's neighbourhood)."""
        return self.last_records[-LAST_RECORDS:]

    # -- input --------------------------------------------------------------------------
    def feed(self, data: bytes, frame: int, ts: float) -> Sequence[RecordEvent]:
        """Consume contiguous stream bytes; return the events completed by them (with a
        ``sink``, they went to it as they happened, and nothing is returned)."""
        self.paused = False
        self.reporting = self.report_protected
        sink = self.sink
        out: Any = EventList() if sink is None else sink
        rest = self.rest
        if rest is not None:
            self.rest = None
            if not data and self.hs_resume is None and self.mode == TLS:
                self._parse_records(rest, frame, ts, out, self.rest_pos)
                if self.paused and not self.buf and self.hs_resume is None and self.rest is None:
                    self.paused = False
                return () if out is sink else out
            self.buf += rest[self.rest_pos:]  # (not resumed the usual way: queue it as bytes waiting)
        if self.hs_resume is not None:
            version, decrypted = self.hs_resume
            self.hs_resume = None
            self._handshake(b"", version, frame, ts, out, decrypted)
            if self.paused:
                if data:
                    self.buf += data
            elif data or self.buf:
                more = self.feed(data, frame, ts)
                if out is not sink:
                    out.extend(more)
            return () if out is sink else out
        skip = self.skip
        if skip:
            n = len(data)
            if n < skip:  # fast path: the whole segment lies inside a protected record
                self.skip = skip - n
                return ()
            data = data[skip:]
            self.skip = 0
            self._finish_skipped(frame, ts, out)
        mode = self.mode
        if mode == TLS:
            buf = self.buf
            if not buf:
                # Nothing buffered: read the records straight from the segment's bytes (no
                # copy into the buffer and out again); only an unfinished record is kept.
                self._parse_records(data, frame, ts, out)
            elif data:
                buf += data
                self._parse_records(buf, frame, ts, out)
            else:
                # Resumed after a pause: what waits in the buffer arrived already; one copy
                # to bytes makes every record's payload a single slice.
                data = bytes(buf)
                buf.clear()
                self._parse_records(data, frame, ts, out)
        elif mode == DETECT:
            if not self.buf and len(data) >= 5 and plausible_header(data, 0):
                self._enter_tls(data[0])  # the usual start of a TLS stream, read in place
                self._parse_records(data, frame, ts, out)
            else:
                if data:
                    self.buf += data
                self._detect(frame, ts, out)
        elif mode == PLAIN:
            self._plain(data, frame, ts, out)
        elif mode == SSL2:
            self._sslv2_records(data, frame, ts, out)
        # LOST: nothing more to read
        if self.paused and not self.buf and self.hs_resume is None and self.rest is None:
            self.paused = False  # nothing left to read after the pausing event: no need to resume
        return () if out is sink else out

    def gap(self, missing: int, frame: int, ts: float) -> list[RecordEvent]:
        """The TCP layer lost ``missing`` bytes here."""
        out = EventList()
        self.plain_hold = b""
        self.rest = None
        if self.mode in (PLAIN, SSL2, LOST):
            return out
        if self.skip and missing <= self.skip and not self.buf:
            # The hole lies inside a protected record we were skipping anyway: no harm done.
            self.skip -= missing
            out.on_event(self.side, RecordEvent("gap", frame, ts, length=missing, detail="inside a protected record"))
            return out
        lost_msg = bool(self.hs) or bool(self.buf)
        self.buf.clear()
        self.hs.clear()
        self.skip = 0
        self.skip_record = None
        if self.mode == TLS:
            self.mode = DETECT
            self.midstream = True
        detail = "lost part of a record; resynchronising" if lost_msg else "resynchronising"
        out.on_event(self.side, RecordEvent("gap", frame, ts, length=missing, detail=detail))
        return out

    # -- detection ----------------------------------------------------------------------
    def _detect(self, frame: int, ts: float, out: _Out) -> None:
        buf = self.buf
        if len(buf) < 5:
            return
        if plausible_header(buf, 0):
            self._enter_tls(buf[0])
            self._parse_records(buf, frame, ts, out)
            return
        if _sslv2_client_hello_header(buf) or (buf[0] & 0x80 and buf[2] == 4):
            length = ((buf[0] & 0x7F) << 8) | buf[1]
            if len(buf) < 2 + length:
                return
            body = bytes(buf[2:2 + length])
            kind = "sslv2_client_hello" if buf[2] == 1 else "sslv2_server_hello"
            out.on_event(self.side, RecordEvent(kind, frame, ts, length=length, body=body))
            self.records += 1
            del buf[:2 + length]
            if kind == "sslv2_client_hello":
                self.mode = TLS  # the client goes on in TLS records once the server answers
                self.paused = True
            else:
                self.mode = SSL2
                self.encrypted = True  # the server's next SSLv2 messages are already encrypted
                buf.clear()
            return
        if not self.midstream and len(buf) < _LONGEST_SIGNATURE and _signature_prefix(buf):
            return  # e.g. 7 of the 8 bytes of a PostgreSQL SSLRequest: the next byte decides
        if not self.midstream and _looks_plaintext(buf):
            self._to_plain(frame, ts, out)
            return
        pos = self._find_boundary(1)
        if pos is not None:
            out.on_event(self.side, RecordEvent("anomaly", frame, ts, length=pos, name="skipped_to_record_boundary",
                                   detail=f"skipped {pos} bytes to the next record boundary"))
            del buf[:pos]
            self.midstream = True
            self.mode = TLS
            self._parse_records(buf, frame, ts, out)
            return
        if not self.midstream and len(buf) <= _DETECT_WAIT and self._incomplete_record(1) is not None:
            # A record may start after a short preamble (PostgreSQL's 'S', a MySQL SSL
            # request) but continues past what arrived so far: whether it is followed by
            # another record must not depend on where TCP cut the stream, so wait.
            return
        if self.midstream:
            # Picked up mid-stream or after a gap: keep looking for a record boundary, within
            # a budget, holding only a few bytes, or from a record that may be starting but
            # is not complete yet (full-size records span many segments: dropping their
            # headers would make resynchronisation depend on the segment size).
            keep = self._incomplete_record(1)
            if keep is None or len(buf) - keep > _DETECT_WAIT:
                keep = max(len(buf) - 4, 0)
            self.resync_scanned += keep
            if self.resync_scanned < MAX_RESYNC_SCAN:
                del buf[:keep]
                return
            self.mode = LOST
            out.on_event(self.side, RecordEvent("anomaly", frame, ts, name="resync_failed",
                                   detail="no TLS record boundary found; giving up on this direction"))
            buf.clear()
            return
        self._to_plain(frame, ts, out)

    def _enter_tls(self, first_type: int) -> None:
        """A record header starts the stream: read it as TLS from here."""
        if first_type != CT_ALERT and first_type != CT_HANDSHAKE:
            self.midstream = True  # a stream does not begin with CCS or application data
        self.mode = TLS

    def to_sslv2(self) -> None:
        """The server answered in SSLv2: this direction's next records are SSLv2 too."""
        self.mode = SSL2
        self.encrypted = False

    def _sslv2_records(self, data: bytes, frame: int, ts: float, out: _Out) -> None:
        """SSLv2 records: the first message after the hellos (CLIENT-MASTER-KEY) is in clear,
        everything after it is encrypted and only counted."""
        self.bytes_by_type[0] = self.bytes_by_type.get(0, 0) + len(data)
        if self.encrypted:
            return
        buf = self.buf
        buf += data
        if len(buf) < 3:
            return
        if buf[0] & 0x80:
            hlen, length = 2, ((buf[0] & 0x7F) << 8) | buf[1]
        else:
            hlen, length = 3, ((buf[0] & 0x3F) << 8) | buf[1]
        if len(buf) < hlen + length:
            if length > MAX_RECORD_PAYLOAD:
                self.encrypted = True
                buf.clear()
            return
        body = bytes(buf[hlen:hlen + length])
        del buf[:hlen + length]
        self.records += 1
        if body:
            out.on_event(self.side, RecordEvent("sslv2_message", frame, ts, msg_type=body[0], length=length, body=body))
        self.encrypted = True  # keys follow the master key: the rest is encrypted
        buf.clear()

    def _to_plain(self, frame: int, ts: float, out: _Out) -> None:
        self.plain_sample = bytearray(self.buf[:PLAIN_SAMPLE])
        sample = bytes(self.buf[:512])
        self.plain_name = describe_plaintext(sample)
        out.on_event(self.side, RecordEvent("not_tls", frame, ts, detail=self.plain_name, body=sample))
        self.mode = PLAIN
        self.buf.clear()

    def _plain(self, data: bytes, frame: int, ts: float, out: _Out) -> None:
        if len(self.plain_sample) < PLAIN_SAMPLE:
            self.plain_sample += data[:PLAIN_SAMPLE - len(self.plain_sample)]
        # STARTTLS: a handshake record at the start of a later segment switches to TLS. The
        # six bytes that tell may arrive in several segments: hold a short segment that
        # could be their beginning and decide when the rest is there.
        if self.plain_hold:
            data = self.plain_hold + data
            self.plain_hold = b""
        if len(data) < 6 and data[:1] == b"\x16" and data[1:2] in (b"", b"\x03") and data[2:3] <= b"\x04":
            self.plain_hold = data
            return
        if (
            len(data) >= 6 and data[0] == 22 and data[1] == 3 and data[2] <= 4
            and data[5] in (_HS_CLIENT_HELLO, _HS_SERVER_HELLO)
        ):
            self.mode = TLS
            out.on_event(self.side, RecordEvent("starttls", frame, ts, detail=self.plain_name))
            self.buf += data
            self._parse_records(self.buf, frame, ts, out)

    def _incomplete_record(self, start: int) -> Optional[int]:
        """The first position from ``start`` on where a record header begins (or its first
        bytes, at the end of the buffer) whose record is not complete yet, if any."""
        buf = self.buf
        n = len(buf)
        last = n - 5  # the last position with a whole header
        for pos, nxt in _plausible_headers(buf, start, last):
            # Not complete, or complete but the header after it has not fully arrived
            # (whether this is a real boundary is decided by that header).
            if nxt > n or (nxt < n and self._header_prefix(nxt)):
                return pos
        for pos in range(max(start, last + 1), n):
            if self._header_prefix(pos):
                return pos
        return None

    def _header_prefix(self, pos: int) -> bool:
        """The last (fewer than 5) bytes of the buffer, from ``pos``, could begin a record header."""
        buf = self.buf
        avail = len(buf) - pos
        return (avail < 5 and 20 <= buf[pos] <= 24 and (avail < 2 or buf[pos + 1] == 3)
                and (avail < 3 or buf[pos + 2] <= 4))

    def _find_boundary(self, start: int) -> Optional[int]:
        """A position where a record header starts and is followed by another one (or ends
        exactly at the end of what we have), to resynchronise after damage or a mid-stream
        start without trusting a single lucky match."""
        buf = self.buf
        n = len(buf)
        end = n - 5
        for pos, nxt in _plausible_headers(buf, start, end):
            if nxt == n or (nxt <= end and plausible_header(buf, nxt)):
                return pos
        return None

    # -- records ------------------------------------------------------------------------
    def _parse_records(self, buf: Any, frame: int, ts: float, out: _Out, pos: int = 0) -> None:
        """Read the records in ``buf`` from ``pos``: either ``self.buf`` (bytes were waiting)
        or, when nothing was, the new segment's bytes themselves; what is left unread ends up
        in ``self.buf`` either way, except after a pause inside a segment's bytes, which
        keeps them as ``rest`` for the resume."""
        n = len(buf)
        encrypted = self.encrypted  # changes only with a CCS (which pauses this loop, or see below)
        bytes_by_type = self.bytes_by_type
        last_records = self.last_records
        side = self.side
        report = self.reporting
        while n - pos >= 5:
            ctv, minor, length = _RECORD_HEADER(buf, pos)
            if ctv not in _RECORD_STARTS:
                # Not a record header: the stream is damaged or we lost our place.
                if buf is not self.buf:  # resynchronisation works on the buffer
                    self.buf += buf[pos:]
                    buf = self.buf
                    n = len(buf)
                    pos = 0
                self.anomalies += 1
                detail = f"invalid record header {bytes(buf[pos:pos + 5]).hex()}"
                nxt = self._find_boundary(pos + 1)
                if nxt is None:
                    out.on_event(self.side, RecordEvent("anomaly", frame, ts, name="invalid_record_header",
                                           detail=detail + "; resynchronising"))
                    del buf[:pos]
                    self.mode = DETECT
                    self.midstream = True
                    self.resync_scanned = 0
                    self._detect(frame, ts, out)
                    return
                out.on_event(self.side, RecordEvent("anomaly", frame, ts, length=nxt - pos, name="invalid_record_header",
                                       detail=f"{detail}; skipped {nxt - pos} bytes"))
                pos = nxt
                continue
            ct = ctv >> 8
            start = pos + 5
            stop = start + length
            protected = encrypted or ct == CT_APPLICATION_DATA
            if protected and ct == CT_HANDSHAKE and not self.version_known and n - start >= 4:
                # A CCS switched us to protected, but no ServerHello told the version (a one-sided
                # capture): TLS 1.3 clients send CCS before a second ClientHello. A record that
                # starts with a sane handshake header is read in clear.
                t = buf[pos + 5]
                ln = (buf[pos + 6] << 16) | (buf[pos + 7] << 8) | buf[pos + 8]
                if t in (1, 2) and ln + 4 <= length:
                    protected = False
            skipped = protected and self.decryptor is None
            if stop > n and not skipped:
                # Wait for the rest of the record; it is counted (once) when complete, however
                # many segments it takes.
                break
            if length > MAX_RECORD_PAYLOAD:
                self.anomalies += 1
                out.on_event(self.side, RecordEvent("anomaly", frame, ts, content_type=ct, length=length, name="record_too_long",
                                       detail=f"record length {length} exceeds the TLS limit"))
            self.records += 1
            if ct in bytes_by_type:
                bytes_by_type[ct] += length
            else:
                bytes_by_type[ct] = length
            if skipped:
                self.protected_records += 1
                if stop > n:
                    # The record continues in later segments: skip it without buffering.
                    self.skip = stop - n
                    self.skip_record = (ct, length, 0x0300 | minor)
                    pos = n
                    break
                last_records.append((frame, ts, ct, length, True))  # (as below)
                pos = stop
                if report or ct != CT_APPLICATION_DATA:
                    # (_protected_event, without a call: one of these per protected record)
                    if ct == CT_ALERT:
                        out.on_alert(side, frame, ts, None, None, True, length, 0x0300 | minor)
                    else:
                        out.on_protected(side, frame, ts, ct, length, 0x0300 | minor)
                continue
            # (_note_record without a call; trimmed once per call, below)
            last_records.append((frame, ts, ct, length, protected))
            pos = stop
            version = 0x0300 | minor
            if protected:
                self._decrypt(ct, version, bytes(buf[start:pos]), frame, ts, out)
            elif ct == CT_HANDSHAKE:  # (the messages are sliced from the buffer, not from a copy)
                hdr = _HANDSHAKE_HEADER(buf, start)[0] if length >= 4 else -1  # type << 24 | length
                t = hdr >> 24
                if not self.hs and t in _KNOWN_HS_TYPES and (hdr & 0xFFFFFF) + 4 == length:
                    # The usual record: one whole message of a known type (what _handshake would
                    # find, without the call).
                    body = buf[start + 4:pos] if type(buf) is bytes else bytes(buf[start + 4:pos])
                    out.on_handshake(side, frame, ts, t, length - 4, body, False, "", version)
                    if t == _HS_SERVER_HELLO or t == _HS_CLIENT_HELLO:
                        if out.pauses:
                            self.paused = True  # the caller must learn the version before the next record
                            break
                        report = self.reporting = self.report_protected  # (a sink has seen the hello)
                    # (a handshake message neither pauses nor changes what ``encrypted`` reads)
                    continue
                else:
                    self._handshake(buf, version, frame, ts, out, False, start, pos, True)
            else:
                self._content(ct, version, bytes(buf[start:pos]), frame, ts, out, False)
            if self.paused:
                break
            # A sink has seen the record's events already (no pause): read on, with a CCS's
            # switch to protected records (unchanged when the events are collected instead).
            encrypted = self.encrypted
            report = self.reporting
        if len(last_records) > _TRIM_AT:
            del last_records[:-LAST_RECORDS]
        if buf is self.buf:
            if pos:
                del buf[:pos]
        elif pos < n:
            if self.paused and type(buf) is bytes and self.hs_resume is None:
                self.rest = buf
                self.rest_pos = pos
            else:
                self.buf += buf[pos:] if pos else buf

    def _protected_event(self, ct: int, length: int, version: int, frame: int, ts: float, out: Any) -> None:
        """A protected record we do not read (an alert if its type says so) as an event in ``out``."""
        if ct == CT_ALERT:
            out.on_alert(self.side, frame, ts, None, None, True, length, version)
        else:
            out.on_protected(self.side, frame, ts, ct, length, version)

    def _finish_skipped(self, frame: int, ts: float, out: _Out) -> None:
        rec = self.skip_record
        self.skip_record = None
        if rec is None:
            return
        ct, length, version = rec
        self._note_record((frame, ts, ct, length, True))
        if self.reporting or ct != CT_APPLICATION_DATA:
            self._protected_event(ct, length, version, frame, ts, out)

    def _decrypt(self, ct: int, version: int, payload: bytes, frame: int, ts: float,
                 out: _Out) -> None:
        decryptor = self.decryptor
        try:
            inner_type, plaintext = decryptor(ct, version, payload)  # type: ignore[misc]
        except Exception as e:  # a wrong key or a cipher we cannot do: say so, keep counting
            out.on_event(self.side, RecordEvent("anomaly", frame, ts, content_type=ct, length=len(payload),
                                   name="decryption_failed", detail=f"decryption failed: {e}"))
            self.decryptor = None
            self._protected_event(ct, len(payload), version, frame, ts, out)
            return
        # A NULL-cipher "decryptor" only strips the MAC: what it returns was never hidden.
        self._content(inner_type, version, plaintext, frame, ts, out, getattr(decryptor, "protects", True))

    def _content(self, ct: int, version: int, payload: bytes, frame: int, ts: float,
                 out: _Out, decrypted: bool) -> None:
        if ct == CT_HANDSHAKE:
            self._handshake(payload, version, frame, ts, out, decrypted)
        elif ct == CT_ALERT:
            if len(payload) % 2 or not payload:
                out.on_event(self.side, RecordEvent("anomaly", frame, ts, content_type=ct, length=len(payload),
                                       name="bad_alert_length", detail=f"alert record of {len(payload)} bytes"))
                if len(payload) > 2 and not decrypted:
                    # Longer than an alert: a protected alert whose CCS we did not see.
                    out.on_event(self.side, RecordEvent("alert", frame, ts, content_type=ct, length=len(payload),
                                           encrypted=True, record_version=version))
                return
            if len(payload) > 2 and not decrypted and payload[0] not in (1, 2):
                out.on_event(self.side, RecordEvent("alert", frame, ts, content_type=ct, length=len(payload),
                                       encrypted=True, record_version=version))
                return
            for i in range(0, len(payload), 2):
                out.on_alert(self.side, frame, ts, payload[i], payload[i + 1], decrypted, 2, version)
        elif ct == CT_CHANGE_CIPHER_SPEC:
            if not self.tls13 and not decrypted:  # TLS <= 1.2: a CCS switches this direction to protected
                self.encrypted = True
            out.on_ccs(self.side, frame, ts, len(payload), payload[:4], decrypted, version)
            if out.pauses:
                self.paused = True
            else:  # (a sink has seen the CCS before the next record is read: no pause)
                self.reporting = self.report_protected
        elif ct == CT_HEARTBEAT:
            out.on_event(self.side, RecordEvent("heartbeat", frame, ts, content_type=ct, length=len(payload),
                                   encrypted=decrypted, body=payload[:3]))
        elif ct == CT_APPLICATION_DATA:
            if self.reporting:
                out.on_event(self.side, RecordEvent("application_data", frame, ts, content_type=ct,
                                       length=len(payload), encrypted=decrypted, body=payload[:64]))

    def _handshake(self, data: Any, version: int, frame: int, ts: float, out: _Out,
                   decrypted: bool, start: int = 0, end: Optional[int] = None, whole: bool = False) -> None:
        """The handshake bytes ``data[start:end]`` (one record's payload): complete messages
        become events, an unfinished one waits in ``self.hs``. A hello pauses the layer: with
        ``whole`` (a plaintext record read by _parse_records) after the rest of its record, as
        the messages of one record do not depend on the version (the session still sees them
        in order, after the hello); otherwise right after the hello."""
        if end is None:
            end = len(data)
        hs = self.hs
        if hs:
            hs += data[start:end]
            buf: Any = hs
            pos = 0
            n = len(hs)
        else:
            if not decrypted and end - start >= 4:
                # A handshake record whose first message makes no sense is a protected one we
                # were not told about (capture started after the CCS, or a cipher we missed).
                t = data[start]
                ln = (data[start + 1] << 16) | (data[start + 2] << 8) | data[start + 3]
                size = end - start
                if t not in _KNOWN_HS_TYPES or ln > MAX_HANDSHAKE_MESSAGE or (
                    self.midstream and t in (0, 20) and ln + 4 != size and ln + 4 > size
                ):
                    out.on_event(self.side, RecordEvent("protected", frame, ts, content_type=CT_HANDSHAKE,
                                           length=size, encrypted=True, record_version=version))
                    return
            buf = data  # nothing waiting: messages are sliced from the record itself
            pos = start
            n = end
        in_bytes = type(buf) is bytes  # (a slice of bytes is already bytes: no second copy)
        while n - pos >= 4:
            t = buf[pos]
            ln = (buf[pos + 1] << 16) | (buf[pos + 2] << 8) | buf[pos + 3]
            if ln > MAX_HANDSHAKE_MESSAGE:
                self.anomalies += 1
                out.on_event(self.side, RecordEvent("anomaly", frame, ts, content_type=CT_HANDSHAKE, length=ln,
                                       name="handshake_message_over_cap",
                                       detail=f"handshake message of {ln} bytes exceeds the {MAX_HANDSHAKE_MESSAGE}-byte cap; dropped"))
                hs.clear()
                return
            stop = pos + 4 + ln
            if stop > n:
                break
            body = buf[pos + 4:stop] if in_bytes else bytes(buf[pos + 4:stop])
            pos = stop
            out.on_handshake(self.side, frame, ts, t, ln, body, decrypted, "", version)
            if t == _HS_SERVER_HELLO or t == _HS_CLIENT_HELLO:
                if not out.pauses:  # (a sink has seen the hello already: no pause)
                    self.reporting = self.report_protected
                    continue
                # The session must learn the version before later records are read. Stop here;
                # what is left in the handshake buffer is read when the caller resumes.
                self.paused = True
                if whole:
                    continue
                if pos < n:
                    self.hs_resume = (version, decrypted)
                break
        if buf is hs:
            if pos:
                del hs[:pos]
        elif pos < n:
            hs += buf[pos:n]

    def finish(self, frame: int, ts: float) -> list[RecordEvent]:
        """The stream ended. Complete handshake messages inside a record whose end was never
        seen are still worth reporting (the capture often stops mid-Certificate, after a
        complete ServerHello); they are marked ``detail='truncated record'``."""
        out = EventList()
        buf = self.buf
        if self.mode == DETECT and not self.midstream and len(buf) >= 5:
            # Detection was still waiting for the rest of a record or of a signature.
            self._to_plain(frame, ts, out)
            return out
        if self.mode != TLS or len(buf) < 5 or self.paused or self.skip:
            return out
        if buf[0] != CT_HANDSHAKE or not plausible_header(buf, 0) or self.encrypted:
            return out
        version = (buf[1] << 8) | buf[2]
        payload = bytes(buf[5:])
        buf.clear()
        self.records += 1  # its header was seen; complete records are counted as they finish
        self.bytes_by_type[CT_HANDSHAKE] = self.bytes_by_type.get(CT_HANDSHAKE, 0) + len(payload)
        self._handshake(payload, version, frame, ts, out, False)
        for ev in out:
            ev.detail = "truncated record"
        return out

    def mid_record(self) -> int:
        """Bytes of a record this side has started but not finished (0 when between records)."""
        if self.mode != TLS:
            return 0
        if self.skip:
            return self.skip
        if len(self.buf) >= 5:
            return 5 + ((self.buf[3] << 8) | self.buf[4]) - len(self.buf)
        return 5 - len(self.buf) if self.buf else 0

    def pending_bytes(self) -> int:
        rest = len(self.rest) - self.rest_pos if self.rest is not None else 0
        return len(self.buf) + len(self.hs) + rest


_LONGEST_SIGNATURE = max(len(p) for p, _ in _PLAIN_SIGNATURES)
# How long the start of a stream may wait for a record that began after a preamble.
_DETECT_WAIT = 64 + 5 + MAX_RECORD_PAYLOAD


def _signature_prefix(buf: Any) -> bool:
    """Are the bytes so far the beginning of a longer plain-protocol signature?"""
    data = bytes(buf)
    return any(len(p) > len(data) and p.startswith(data) for p, _ in _PLAIN_SIGNATURES)


def _looks_plaintext(buf: Any) -> bool:
    sample = bytes(buf[:16])
    return describe_plaintext(sample) != "unknown binary protocol"
