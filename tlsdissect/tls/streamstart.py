"""The record layer when a direction's bytes are not (or not yet) TLS records: its DETECT,
PLAIN and SSL2 modes.

At a stream's start, or after a gap or damage, :func:`classify_start` tells what the buffered
bytes are: a TLS record, an SSLv2-format hello, a plain-text protocol (plain HTTP on the TLS
port is the classic), a record boundary further on, or not enough to tell; :func:`detect` acts
on that. A plain-text stream's first bytes and name live in a :class:`PlainText`, which also
watches for the STARTTLS switch back to TLS; a direction that goes on in SSLv2 is read by an
:class:`Sslv2Stream`. The layer's TLS mode (records.RecordLayer) never comes here once a stream
has started with a record header.
"""

from __future__ import annotations

from typing import Any, Optional

from tlsdissect.framing.detect import recognise as recognise_framing
from tlsdissect.framing.gssapi import GssapiTokens, starts_tokens
from tlsdissect.framing.websocket import WebSocketFrames, upgrade_end
from tlsdissect.starttls.reader import PreludeReader
from tlsdissect.tls import framed
from tlsdissect.tls.boundaries import MAX_RECORD_PAYLOAD, find_boundary, incomplete_record, plausible_header
from tlsdissect.tls.recordevents import LOST, PLAIN, SSL2, TLS, Out, RecordEvent

# A records.RecordLayer (typed loosely: the record layer imports this module).
Layer = Any

PLAIN_SAMPLE = 4096  # bytes of a non-TLS stream kept to name it (error pages sit in the body)
MAX_RESYNC_SCAN = 256 * 1024  # bytes scanned for a record boundary before giving up
_HS_CLIENT_HELLO = 1
_HS_SERVER_HELLO = 2

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
_HTTP_NAMES = ("HTTP request", "HTTP response")  # (what may start a WebSocket upgrade)
_FTP_NAMES = ("SMTP/FTP greeting", "text protocol")  # (the two sides of an FTP control connection)
_LONGEST_SIGNATURE = max(len(p) for p, _ in _PLAIN_SIGNATURES)
# How long the start of a stream may wait for a record that began after a preamble.
DETECT_WAIT = 64 + 5 + MAX_RECORD_PAYLOAD

# classify_start's verdicts, each with a number (see there).
WAIT = 0  # not enough bytes to tell
TLS_RECORD = 1  # a record header at the start
SSLV2_HELLO = 2  # an SSLv2-format hello of the number's length (after its 2-byte header)
PLAIN_TEXT = 3  # not TLS: a plain-text (or unknown) protocol
BOUNDARY = 4  # damage, then a record boundary at the number
DROP = 5  # (mid-stream) no boundary yet: drop the number of bytes and keep looking


def describe_plaintext(data: bytes) -> str:
    """Name a non-TLS stream from its first bytes (plain HTTP on the TLS port is the classic)."""
    for prefix, name in _PLAIN_SIGNATURES:
        if data.startswith(prefix):
            return name
    if data and all(32 <= c < 127 or c in (9, 10, 13) for c in data[:64]):
        return "text protocol"
    return "unknown binary protocol"


def _signature_prefix(buf: Any) -> bool:
    """Are the bytes so far the beginning of a longer plain-protocol signature?"""
    data = bytes(buf)
    return any(len(p) > len(data) and p.startswith(data) for p, _ in _PLAIN_SIGNATURES)


def _looks_plaintext(buf: Any) -> bool:
    sample = bytes(buf[:16])
    return describe_plaintext(sample) != "unknown binary protocol"


def _sslv2_client_hello_header(buf: Any) -> bool:
    """SSLv2-compatible ClientHello: 2-byte length with the top bit set, type 1, version."""
    return (
        len(buf) >= 5 and buf[0] & 0x80 and buf[2] == 1
        and ((buf[3] == 0 and buf[4] == 2) or (buf[3] == 3 and buf[4] <= 4))
    )


def classify_start(buf: Any, midstream: bool) -> tuple[int, int]:
    """What the buffered bytes of a direction not (yet) read as TLS are: (verdict, number), the
    verdicts above. ``midstream``: picked up after the stream's start (or after a gap or
    damage), where only a record boundary is looked for."""
    if len(buf) < 5:
        return WAIT, 0
    if plausible_header(buf, 0):
        return TLS_RECORD, 0
    if _sslv2_client_hello_header(buf) or (buf[0] & 0x80 and buf[2] == 4):
        length = ((buf[0] & 0x7F) << 8) | buf[1]
        return (WAIT, 0) if len(buf) < 2 + length else (SSLV2_HELLO, length)
    if not midstream and len(buf) < _LONGEST_SIGNATURE and _signature_prefix(buf):
        return WAIT, 0  # e.g. 7 of the 8 bytes of a PostgreSQL SSLRequest: the next byte decides
    if not midstream and _looks_plaintext(buf):
        return PLAIN_TEXT, 0
    pos = find_boundary(buf, 1)
    if pos is not None:
        return BOUNDARY, pos
    if not midstream and len(buf) <= DETECT_WAIT and incomplete_record(buf, 1) is not None:
        # A record may start after a short preamble (PostgreSQL's 'S', a MySQL SSL
        # request) but continues past what arrived so far: whether it is followed by
        # another record must not depend on where TCP cut the stream, so wait.
        return WAIT, 0
    if midstream:
        # Picked up mid-stream or after a gap: keep looking for a record boundary, holding
        # only a few bytes, or from a record that may be starting but is not complete yet
        # (full-size records span many segments: dropping their headers would make
        # resynchronisation depend on the segment size).
        keep = incomplete_record(buf, 1)
        if keep is None or len(buf) - keep > DETECT_WAIT:
            keep = max(len(buf) - 4, 0)
        return DROP, keep
    return PLAIN_TEXT, 0


class PlainText:
    """A direction that is not TLS: its first bytes (to name it, and for the HTTPS-port error
    pages a server answers TLS with) and a watch for the STARTTLS switch back to TLS."""

    __slots__ = ("sample", "name", "hold")

    def __init__(self, first: Any) -> None:
        self.sample = bytearray(first[:PLAIN_SAMPLE])
        self.name = describe_plaintext(bytes(first[:512]))
        self.hold = b""  # a segment too short to tell whether TLS starts with it

    def watch(self, data: bytes) -> Optional[bytes]:
        """The next bytes of the stream; returns them (with any held before) when a hello's
        handshake record, or an alert record (its 2-byte body: a refused ClientHello), starts
        them (STARTTLS: TLS from here), else None."""
        sample = self.sample
        if len(sample) < PLAIN_SAMPLE:
            sample += data[:PLAIN_SAMPLE - len(sample)]
        # STARTTLS: a handshake record at the start of a later segment switches to TLS. The
        # six bytes that tell may arrive in several segments: hold a short segment that
        # could be their beginning and decide when the rest is there.
        if self.hold:
            data = self.hold + data
            self.hold = b""
        if len(data) < 6 and data[:1] in (b"\x15", b"\x16") and data[1:2] in (b"", b"\x03") and data[2:3] <= b"\x04":
            self.hold = data
            return None
        if len(data) >= 6 and data[1] == 3 and data[2] <= 4:
            if data[0] == 22 and data[5] in (_HS_CLIENT_HELLO, _HS_SERVER_HELLO):
                return data
            if data[0] == 21 and data[3] == 0 and data[4] == 2 and data[5] in (1, 2):
                return data  # an alert record: a server that said yes to STARTTLS, then refused the ClientHello
        return None


class Sslv2Stream:
    """A direction that goes on in SSLv2 after the hellos: its first message (the client's
    CLIENT-MASTER-KEY) is in clear, everything after it is encrypted and only counted."""

    __slots__ = ("buf", "encrypted")

    def __init__(self, buf: bytearray, encrypted: bool) -> None:
        self.buf = buf  # (the record layer's buffer: what waits in it is read as SSLv2)
        self.encrypted = encrypted

    def read(self, data: bytes) -> Optional[bytes]:
        """The next bytes; the clear message's body once it is complete, else None."""
        if self.encrypted:
            return None
        buf = self.buf
        buf += data
        if len(buf) < 3:
            return None
        if buf[0] & 0x80:  # a 2-byte header with the top bit set, else 3 bytes
            hlen, length = 2, ((buf[0] & 0x7F) << 8) | buf[1]
        else:
            hlen, length = 3, ((buf[0] & 0x3F) << 8) | buf[1]
        if len(buf) < hlen + length:
            if length > MAX_RECORD_PAYLOAD:
                self.encrypted = True
                buf.clear()
            return None
        body = bytes(buf[hlen:hlen + length])
        self.encrypted = True  # keys follow the master key: the rest is encrypted
        buf.clear()
        return body


# -- the record layer in the modes other than TLS (functions of the layer: its buffer and counters
# are the ones its TLS mode reads on with, whenever these modes switch to it) ---------------------

def detect(layer: Layer, frame: int, ts: float, out: Out) -> None:
    """The layer in DETECT mode: act on what its buffered bytes are (classify_start), unless
    they start a framing the TLS rides in (tlsdissect.framing; only at a stream's start)."""
    buf = layer.buf
    if layer.framing is None and not layer.midstream and layer.sink is not None:
        found = recognise_framing(buf)
        if isinstance(found, str):  # (FRAMING_WAIT)
            return
        if found is not None:
            framed.enter(layer, found, bytes(buf), frame, ts, out)
            return
    verdict, n = classify_start(buf, layer.midstream)
    if verdict == WAIT:
        return
    if verdict == TLS_RECORD:
        layer.enter_tls(buf[0])
        layer.read_records(buf, frame, ts, out)
    elif verdict == SSLV2_HELLO:
        _sslv2_hello(layer, n, frame, ts, out)
    elif verdict == PLAIN_TEXT:
        to_plain(layer, frame, ts, out)
    elif verdict == BOUNDARY:
        out.on_event(layer.side, RecordEvent("anomaly", frame, ts, length=n, name="skipped_to_record_boundary",
                                             detail=f"skipped {n} bytes to the next record boundary"))
        del buf[:n]
        layer.midstream = True
        layer.mode = TLS
        layer.read_records(buf, frame, ts, out)
    else:  # DROP: no boundary in sight (mid-stream); look on, within a budget
        layer.resync_scanned += n
        if layer.resync_scanned < MAX_RESYNC_SCAN:
            del buf[:n]
            return
        layer.mode = LOST
        out.on_event(layer.side, RecordEvent("anomaly", frame, ts, name="resync_failed",
                                             detail="no TLS record boundary found; giving up on this direction"))
        buf.clear()


def _sslv2_hello(layer: Layer, length: int, frame: int, ts: float, out: Out) -> None:
    """An SSLv2-format hello of ``length`` bytes (after its 2-byte header) starts the buffer."""
    buf = layer.buf
    body = bytes(buf[2:2 + length])
    kind = "sslv2_client_hello" if buf[2] == 1 else "sslv2_server_hello"
    out.on_event(layer.side, RecordEvent(kind, frame, ts, length=length, body=body))
    layer.records += 1
    del buf[:2 + length]
    if kind == "sslv2_client_hello":
        layer.mode = TLS  # the client goes on in TLS records once the server answers
        layer.paused = True
    else:
        layer.mode = SSL2
        buf.clear()
        layer.sslv2 = Sslv2Stream(buf, True)  # the server's next SSLv2 messages are already encrypted


def read_sslv2(layer: Layer, data: bytes, frame: int, ts: float, out: Out) -> None:
    """The layer in SSL2 mode: count the bytes, report the one message in clear."""
    layer.bytes_by_type[0] = layer.bytes_by_type.get(0, 0) + len(data)
    body = layer.sslv2.read(data)  # (set with mode SSL2)
    if body is not None:
        layer.records += 1
        if body:
            out.on_event(layer.side, RecordEvent("sslv2_message", frame, ts, msg_type=body[0], length=len(body),
                                                 body=body))


def to_plain(layer: Layer, frame: int, ts: float, out: Out) -> None:
    """The buffered bytes are not TLS: name them, keep the first, read on in PLAIN mode."""
    plain = layer.plain = PlainText(layer.buf)
    out.on_event(layer.side, RecordEvent("not_tls", frame, ts, detail=plain.name, body=bytes(plain.sample[:512])))
    layer.mode = PLAIN
    if plain.name in _HTTP_NAMES and layer.framing is None and layer.sink is not None:
        end = upgrade_end(bytes(plain.sample))
        if end is not None:  # a WebSocket upgrade: its frames follow the header block
            framed.enter(layer, WebSocketFrames(), bytes(layer.buf[end:]), frame, ts, out)
            return
    layer.buf.clear()


def read_plain(layer: Layer, data: bytes, frame: int, ts: float, out: Out) -> None:
    """The layer in PLAIN mode: sample the bytes, switch to TLS at a STARTTLS handshake."""
    plain: PlainText = layer.plain  # (set with mode PLAIN)
    seen = len(plain.sample)
    started = plain.watch(data)
    if plain.name in _FTP_NAMES and layer.framing is None and layer.sink is not None and starts_tokens(data):
        framed.enter(layer, GssapiTokens(), data, frame, ts, out)  # GridFTP: TLS records as GSSAPI tokens
        return
    if seen < PLAIN_SAMPLE and plain.name in _HTTP_NAMES and layer.framing is None and layer.sink is not None:
        end = upgrade_end(bytes(plain.sample))
        if end is not None:  # the header block of a WebSocket upgrade ended in this segment
            rest = bytes(plain.sample[end:]) + bytes(data[PLAIN_SAMPLE - seen:])
            framed.enter(layer, WebSocketFrames(), rest, frame, ts, out)
            return
    if started is not None:  # STARTTLS: TLS from here
        layer.mode = TLS
        out.on_event(layer.side, RecordEvent("starttls", frame, ts, detail=plain.name))
        layer.buf += started
        layer.read_records(layer.buf, frame, ts, out)


def start_prelude(layer: Layer, data: bytes) -> None:
    """A direction's first bytes, read while its session is the layer's sink: when they are no
    TLS record (and the connection's start is in the capture), a starttls PreludeReader that
    both layers of the connection share reads the plain-text exchange from here; when they are
    a record, neither layer has one (a server answering a ClientHello in plain text has no
    prelude)."""
    layers = getattr(layer.sink, "layers", None)  # (a sink that is no session: no prelude)
    if layers is None:
        layer.prelude = False
        return
    if layer.midstream or layer.buf or (len(data) >= 3 and data[0] == 22 and data[1] == 3) \
            or any(other.prelude is False for other in layers):
        for other in layers:
            if other.prelude is None:
                other.prelude = False
        return
    reader = PreludeReader()
    for other in layers:
        other.prelude = reader
