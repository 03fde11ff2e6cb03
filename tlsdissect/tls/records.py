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

The layer itself is the TLS mode's record loop (framing, skipping protected records, pausing).
What a record's payload says is :mod:`~tlsdissect.tls.recordcontent`; the modes for bytes that
are not (yet) TLS records (detection, plain text, SSLv2) are :mod:`~tlsdissect.tls.streamstart`;
where records start, to resynchronise, is :mod:`~tlsdissect.tls.boundaries`.
"""

from __future__ import annotations

import struct
from typing import Any, Optional, Sequence

from tlsdissect.tls.boundaries import (MAX_RECORD_PAYLOAD, RECORD_HEADER, RECORD_STARTS, find_boundary,
                                       plausible_header)
from tlsdissect.tls.recordcontent import (HS_CLIENT_HELLO, HS_SERVER_HELLO, KNOWN_HS_TYPES, MAX_HANDSHAKE_MESSAGE,
                                          open_protected, protected_event, read_content, read_handshake)
from tlsdissect.tls.recordevents import (CT_ALERT, CT_APPLICATION_DATA, CT_CHANGE_CIPHER_SPEC, CT_HANDSHAKE,
                                         CT_HEARTBEAT, DETECT, LOST, PLAIN, SSL2, TLS, Decryptor, EventList, Out,
                                         RecordEvent)
from tlsdissect.tls import framed
from tlsdissect.tls.streamstart import (PlainText, Sslv2Stream, detect, read_plain, read_sslv2, start_prelude,
                                        to_plain)

__all__ = [  # (what other modules and the tests take from here: the layer and its vocabulary)
    "CT_ALERT", "CT_APPLICATION_DATA", "CT_CHANGE_CIPHER_SPEC", "CT_HANDSHAKE", "CT_HEARTBEAT", "DETECT", "LOST",
    "MAX_HANDSHAKE_MESSAGE", "MAX_RECORD_PAYLOAD", "PLAIN", "SSL2", "TLS", "Decryptor", "EventList", "RecordEvent",
    "RecordLayer", "plausible_header",
]

# A handshake message header as one number: type << 24 | body length.
_HANDSHAKE_HEADER = struct.Struct(">I").unpack_from
LAST_RECORDS = 8  # records per direction kept for the report (the failure point's neighbourhood)
_TRIM_AT = 2 * LAST_RECORDS  # the record list is trimmed to LAST_RECORDS when longer than this


class RecordLayer:
    """Parse the TLS records of one direction; see the module docstring."""

    __slots__ = (
        "mode", "buf", "skip", "skip_record", "hs",
        "encrypted", "tls13", "decryptor", "report_protected", "reporting", "paused", "records",
        "bytes_by_type", "protected_records", "last_records", "resync_scanned",
        "midstream", "plain", "sslv2", "anomalies", "hs_resume", "version_known",
        "rest", "rest_pos", "side", "sink", "prelude", "framing", "framing_noted",
    )

    def __init__(self, side: int = 0) -> None:
        self.mode = DETECT
        self.buf = bytearray()
        self.skip = 0  # bytes of the current protected record still to skip
        self.skip_record: Optional[tuple[int, int, int]] = None  # (ctype, length, version) to report
        self.hs = bytearray()  # handshake message reassembly (recordcontent.read_handshake)
        self.encrypted = False  # every record from now on is protected
        self.tls13 = False  # content type 23 is protected, others are clear
        self.version_known = False  # the session saw the ServerHello
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
        self.plain: Optional[PlainText] = None  # a stream that is not TLS: its first bytes and name
        self.sslv2: Optional[Sslv2Stream] = None  # a direction that goes on in SSLv2
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
        # The plain-text exchange before TLS (STARTTLS, SSLRequest, ...): a starttls PreludeReader
        # shared by the connection's two layers, made at the first bytes that are no TLS record;
        # False once the connection started in TLS (streamstart.start_prelude).
        self.prelude: Any = None
        # The framing the direction's TLS rides in (a tlsdissect.framing Unwrapper: OpenVPN,
        # WebSocket, GSSAPI tokens), once recognised; the session then feeds the layer through
        # tls.framed, which unwraps each segment first. framing_noted: its problem was reported.
        self.framing: Any = None
        self.framing_noted = False

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
                self.read_records(rest, frame, ts, out, self.rest_pos)
                if self.paused and self._nothing_waits():
                    self.paused = False
                return () if out is sink else out
            self.buf += rest[self.rest_pos:]  # (not resumed the usual way: queue it as bytes waiting)
        if self.hs_resume is not None:
            version, decrypted = self.hs_resume
            self.hs_resume = None
            read_handshake(self, b"", version, frame, ts, out, decrypted)
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
                self.read_records(data, frame, ts, out)
            elif data:
                buf += data
                self.read_records(buf, frame, ts, out)
            else:
                # Resumed after a pause: what waits in the buffer arrived already; one copy
                # to bytes makes every record's payload a single slice.
                data = bytes(buf)
                buf.clear()
                self.read_records(data, frame, ts, out)
        elif mode == DETECT:
            if self.prelude is None and data and self.sink is not None:
                start_prelude(self, data)
            if self.prelude and data:
                self.prelude.data(self.side, data, frame)
            if not self.buf and len(data) >= 5 and plausible_header(data, 0):
                self.enter_tls(data[0])  # the usual start of a TLS stream, read in place
                self.read_records(data, frame, ts, out)
            else:
                if data:
                    self.buf += data
                detect(self, frame, ts, out)
        elif mode == PLAIN:
            if self.prelude and data:
                self.prelude.data(self.side, data, frame)
            read_plain(self, data, frame, ts, out)
        elif mode == SSL2:
            read_sslv2(self, data, frame, ts, out)
        # LOST: nothing more to read
        if self.paused and self._nothing_waits():
            self.paused = False  # nothing left to read after the pausing event: no need to resume
        return () if out is sink else out

    def _nothing_waits(self) -> bool:
        """No bytes, handshake message or segment rest queued (after a pause). A method of its
        own: read after calls that may set them, where the type checker (and so mypyc) would
        still take ``rest`` for the None assigned before the call."""
        return not self.buf and self.hs_resume is None and self.rest is None

    def gap(self, missing: int, frame: int, ts: float) -> list[RecordEvent]:
        """The TCP layer lost ``missing`` bytes here."""
        out = EventList()
        if self.framing is not None:
            framed.gap(self, frame, ts, out)
            return out
        if self.plain is not None:
            self.plain.hold = b""
        if self.prelude:
            self.prelude.stopped = True  # a hole in the prelude: what follows cannot be read in order
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

    # -- the other modes: see streamstart --------------------------------------------
    def enter_tls(self, first_type: int) -> None:
        """A record header starts the stream: read it as TLS from here."""
        if first_type != CT_ALERT and first_type != CT_HANDSHAKE:
            self.midstream = True  # a stream does not begin with CCS or application data
        self.mode = TLS

    def to_sslv2(self) -> None:
        """The server answered in SSLv2: this direction's next records are SSLv2 too."""
        self.mode = SSL2
        self.sslv2 = Sslv2Stream(self.buf, False)

    # -- records ------------------------------------------------------------------------
    def read_records(self, buf: Any, frame: int, ts: float, out: Out, pos: int = 0) -> None:
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
            ctv, minor, length = RECORD_HEADER(buf, pos)
            if ctv not in RECORD_STARTS:
                # Not a record header: the stream is damaged or we lost our place.
                if buf is not self.buf:  # resynchronisation works on the buffer
                    self.buf += buf[pos:]
                    buf = self.buf
                    n = len(buf)
                    pos = 0
                pos = self._skip_damage(pos, frame, ts, out)
                if pos < 0:
                    return  # (detection read on)
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
                    # (recordcontent.protected_event, without a call: one of these per protected record)
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
                open_protected(self, ct, version, bytes(buf[start:pos]), frame, ts, out)
            elif ct == CT_HANDSHAKE:  # (the messages are sliced from the buffer, not from a copy)
                hdr = _HANDSHAKE_HEADER(buf, start)[0] if length >= 4 else -1  # type << 24 | length
                t = hdr >> 24
                if not self.hs and t in KNOWN_HS_TYPES and (hdr & 0xFFFFFF) + 4 == length:
                    # The usual record: one whole message of a known type (what read_handshake would
                    # find, without the call).
                    body = buf[start + 4:pos] if type(buf) is bytes else bytes(buf[start + 4:pos])
                    out.on_handshake(side, frame, ts, t, length - 4, body, False, "", version)
                    if t == HS_SERVER_HELLO or t == HS_CLIENT_HELLO:
                        if out.pauses:
                            self.paused = True  # the caller must learn the version before the next record
                            break
                        report = self.reporting = self.report_protected  # (a sink has seen the hello)
                    # (a handshake message neither pauses nor changes what ``encrypted`` reads)
                    continue
                else:
                    read_handshake(self, buf, version, frame, ts, out, False, start, pos, True)
            else:
                read_content(self, ct, version, bytes(buf[start:pos]), frame, ts, out, False)
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

    def _skip_damage(self, pos: int, frame: int, ts: float, out: Out) -> int:
        """An invalid record header at ``self.buf[pos]``: the position of the next record boundary
        to read on from, or -1 when there is none and detection took over what is left."""
        buf = self.buf
        self.anomalies += 1
        detail = f"invalid record header {bytes(buf[pos:pos + 5]).hex()}"
        nxt = find_boundary(buf, pos + 1)
        if nxt is None:
            out.on_event(self.side, RecordEvent("anomaly", frame, ts, name="invalid_record_header",
                                                detail=detail + "; resynchronising"))
            del buf[:pos]
            self.mode = DETECT
            self.midstream = True
            self.resync_scanned = 0
            detect(self, frame, ts, out)
            return -1
        out.on_event(self.side, RecordEvent("anomaly", frame, ts, length=nxt - pos, name="invalid_record_header",
                                            detail=f"{detail}; skipped {nxt - pos} bytes"))
        return nxt

    def _finish_skipped(self, frame: int, ts: float, out: Out) -> None:
        rec = self.skip_record
        self.skip_record = None
        if rec is None:
            return
        ct, length, version = rec
        self._note_record((frame, ts, ct, length, True))
        if self.reporting or ct != CT_APPLICATION_DATA:
            protected_event(self, ct, length, version, frame, ts, out)

    def finish(self, frame: int, ts: float) -> list[RecordEvent]:
        """The stream ended. Complete handshake messages inside a record whose end was never
        seen are still worth reporting (the capture often stops mid-Certificate, after a
        complete ServerHello); they are marked ``detail='truncated record'``."""
        out = EventList()
        buf = self.buf
        if self.mode == DETECT and not self.midstream and len(buf) >= 5:
            # Detection was still waiting for the rest of a record or of a signature.
            to_plain(self, frame, ts, out)
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
        read_handshake(self, payload, version, frame, ts, out, False)
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
