"""The result model: what ``analyze`` returns, and its stable JSON form.

Field names in ``to_dict`` are relied on by users' scripts (docs/schema.md): add, never
rename. Times are epoch seconds (float); frames are Wireshark's 1-based frame numbers;
``sender`` is "client" or "server".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any, Callable, ClassVar, Iterator, Optional

from tlsdissect.results import jsontext
from tlsdissect.results import starttls as starttls_results
from tlsdissect.results.outcome import outcome_of


SCHEMA_VERSION = 1

# The rich Jupyter views of a "connection" and a "report", filled in by tlsdissect.report.notebook
# when it is imported (the package's __init__ does): the model names its renderers by this table
# only, so the results stay below the report stage.
HTML_VIEWS: dict[str, Callable[..., str]] = {}
# The fingerprint computation (tlsdissect.fingerprints registers "connection" when imported):
# this model reads the hellos through it without importing a stage.
FINGERPRINTERS: dict[str, Callable[[Any], Any]] = {}
# The DataFrame row of a QUIC handshake or DTLS association (tlsdissect.report.udp_rows registers
# "udp" when imported): Report.to_dataframe adds their rows by this table.
ROW_MAKERS: dict[str, Callable[[Any, str], dict[str, Any]]] = {}
# The writer of an annotated pcapng (tlsdissect.report.annotate registers "report" when imported):
# Report.annotate calls it by this table, as the views above.
ANNOTATORS: dict[str, Callable[..., Any]] = {}


def round6(t: float) -> float:
    """``round(t, 6)``, exactly, at a fifth of its cost for capture times.

    round() converts to decimal and back (~1 us). Below 2**52 the product t * 1e6 is off
    the exact one by at most a quarter, so when its fraction is not near one half, the
    nearest integer N is known for sure, and N / 1e6 (one correctly rounded division) is the
    double nearest to N * 10**-6, which is what round() returns. Microsecond timestamps
    always take this path; anything else (ties, negative, huge, not a float) asks round().
    (N is found in float arithmetic: adding and taking away 2**52 rounds p to the nearest
    integer, exactly, and p - N is exact too; p % 1.0 would call fmod, which costs ~20 times
    as much for capture times' 51-bit values, and int(p) makes an int by a slow path.)"""
    if type(t) is float:
        p = t * 1e6
        if 0.0 < p < 4e15:
            n = (p + 4503599627370496.0) - 4503599627370496.0  # (2.0 ** 52)
            f = p - n
            if f * f < 0.0625:  # |f| < 1/4 (a square rounded up to 1/16 only sends it to round())
                return n / 1e6
    return round(t, 6)


def _events_list(events: list["Event"]) -> list[dict[str, Any]]:
    """``[e.to_dict() for e in events]`` without a method call per event, and rounding a time
    once per run of events sharing it (a segment's records share one time object)."""
    out: list[dict[str, Any]] = []
    append = out.append
    prev: Optional[float] = None
    rounded = 0.0
    for e in events:
        t = e.time
        if t is not prev:
            prev = t
            rounded = round6(t)
        append({"frame": e.frame, "time": rounded, "sender": e.sender, "type": e.type, **e.info})
    return out


_HEX_BYTES = tuple(f"0x{i:02x}" for i in range(256))


def _alert_hex(code: Optional[int]) -> Optional[str]:
    """An alert code as Wireshark shows it ('0x2f'); the 256 one-byte forms written once."""
    if code is None:
        return None
    return _HEX_BYTES[code] if 0 <= code < 256 else f"0x{code:02x}"


def _alerts_list(alerts: list["Alert"]) -> list[dict[str, Any]]:
    """``[a.to_dict() for a in alerts]`` without a method call per alert."""
    return [{"frame": a.frame, "time": round6(a.time), "sender": a.sender, "level": a.level, "code": a.code,
             "hex": _alert_hex(a.code), "name": a.name, "encrypted": a.encrypted}
            for a in alerts]


@dataclass(slots=True)
class Event:
    """One step of a connection's timeline: a TCP flag (SYN, FIN, RST), a TLS handshake
    message, an alert, a protected record, a gap in the capture (docs/schema.md, Events).

    Attributes:
        frame: Wireshark's frame number of the packet that carried (or completed) it.
        time: its capture time, epoch seconds.
        sender: ``"client"`` or ``"server"``.
        type: ``syn``, ``syn_ack``, ``fin``, ``rst``, ``handshake``, ``change_cipher_spec``,
            ``alert``, ``encrypted_record``, ``application_data``, ``gap``, ``not_tls``, ...
        info: the type's own fields, as in the JSON (e.g. ``{"message": "client_hello", ...}``).
    """
    # (timeline_events makes these without __init__: a field added here is to be set there too.)

    frame: int
    time: float
    sender: str  # "client" | "server"
    type: str  # syn, syn_ack, fin, rst, handshake, change_cipher_spec, alert, ...
    info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Its JSON form (``connections[].events[]``)."""
        d = {"frame": self.frame, "time": round6(self.time), "sender": self.sender, "type": self.type}
        d.update(self.info)
        return d


_new = object.__new__


def timeline_events(rows: list[tuple[int, int, float, str, dict[str, Any]]],
                    names: tuple[str, str]) -> list[Event]:
    """Events from timeline rows (direction, frame, time, type, info); ``names``: the sender
    of each direction. Made without a call of Event.__init__ each (a Python frame per event,
    a dozen per connection): an empty instance and its five fields set here."""
    out: list[Event] = []
    append = out.append
    for (d, f, t, typ, info) in rows:
        e = _new(Event)
        e.frame = f
        e.time = t
        e.sender = names[d]
        e.type = typ
        e.info = info
        append(e)
    return out


@dataclass(slots=True)
class Alert:
    """One TLS alert record (RFC 8446 §6): who sent it, in which frame, and what it says.

    ``level``, ``code`` and ``name`` are None when the alert is encrypted and no key log
    could read it (TLS 1.3 after the ServerHello, TLS 1.2 after ChangeCipherSpec). A
    diagnosis's deciding alert (``Diagnosis.alert``) is one of the connection's ``alerts``,
    or, with ``probable`` set, a protected record that only has the size of an alert.

    Attributes:
        frame: Wireshark's frame number of the record.
        time: epoch seconds.
        sender: ``"client"`` or ``"server"``.
        level: ``"warning"`` or ``"fatal"``; None when encrypted and unread.
        code: the AlertDescription number, e.g. 48; None when encrypted and unread.
        name: its IANA name, e.g. ``"unknown_ca"``.
        encrypted: it was sent under encryption (and read with the key log, or not read).
        length: the record's length in bytes (2 for an alert in clear).
        probable: not a readable alert but a protected record the size of one.
    """

    frame: int  # Wireshark's frame number of the record
    time: float  # epoch seconds
    sender: str  # "client" | "server"
    level: Optional[str]  # "warning" | "fatal" | None when encrypted
    code: Optional[int]  # the AlertDescription number, e.g. 48
    name: Optional[str]  # its IANA name, e.g. "unknown_ca"
    encrypted: bool  # sent under encryption (read with the key log, or not read at all)
    length: int = 2  # the record's length in bytes (2 for an alert in clear)
    probable: bool = False  # not a readable alert: an encrypted record the size of one

    @property
    def hex(self) -> Optional[str]:
        """The form Wireshark shows, e.g. '0x2f'."""
        return _alert_hex(self.code)

    @property
    def fatal(self) -> bool:
        """A fatal alert (an encrypted one is not known to be)."""
        return self.level == "fatal"

    def to_dict(self) -> dict[str, Any]:
        """Its JSON form in ``connections[].alerts[]`` (docs/schema.md, Alert)."""
        return {
            "frame": self.frame, "time": round6(self.time), "sender": self.sender,
            "level": self.level, "code": self.code, "hex": self.hex, "name": self.name,
            "encrypted": self.encrypted,
        }


@dataclass(slots=True)
class TcpClose:
    """The first FIN or RST of a connection: who closed it (``by``: client or server), how
    (``fin`` or ``rst``), in which frame and when."""

    by: str  # "client" | "server"
    how: str  # "fin" | "rst"
    frame: int
    time: float

    def to_dict(self) -> dict[str, Any]:
        """Its JSON form (``connections[].tcp_close``)."""
        return {"by": self.by, "how": self.how, "frame": self.frame, "time": round6(self.time)}


@dataclass(slots=True)
class DirectionStats:
    """What one side sent: packets, TCP payload bytes, TLS records, retransmissions, gaps."""

    packets: int = 0
    bytes: int = 0  # TCP payload bytes
    records: int = 0
    protected_records: int = 0
    application_data_bytes: int = 0
    retransmissions: int = 0
    gaps: int = 0
    gap_bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"packets": self.packets, "bytes": self.bytes, "records": self.records,
                "protected_records": self.protected_records,
                "application_data_bytes": self.application_data_bytes,
                "retransmissions": self.retransmissions, "gaps": self.gaps, "gap_bytes": self.gap_bytes}


@dataclass(slots=True)
class Connection:
    """One TCP connection and the TLS that it carried (or tried to).

    ``repr(conn)`` is one line; in Jupyter the connection shows its verdict, evidence, fix and
    timeline. ``to_dict()`` is the JSON form (docs/schema.md, Connection), where every field
    below is explained.

    Attributes:
        stream: Wireshark's ``tcp.stream`` number (``wireshark_filter`` selects it).
        client: the client's ``address:port`` (IPv6 as ``[addr]:port``).
        server: the server's ``address:port``.
        first_frame: its first frame (Wireshark's numbering).
        last_frame: its last frame.
        start_time: time of its first packet, epoch seconds.
        end_time: time of its last packet, epoch seconds.
        server_name: the SNI host name of the ClientHello, if any.
        version: the TLS version the server chose, e.g. ``"TLSv1.3"``.
        cipher: the cipher suite the server chose (IANA name).
        alpn: the protocol the server selected with ALPN.
        established: the handshake completed (docs/schema.md, Definitions).
        resumed: an earlier session was resumed.
        ssl_history: the handshake in Zeek's letters, e.g. ``"CsxknL"``.
        alerts: every alert record, in order (:class:`Alert`).
        events: the timeline, TCP and TLS merged in capture order (:class:`Event`).
        tcp_close: the first FIN or RST (:class:`TcpClose`), if any.
        diagnosis: why it ended as it did: a
            :class:`tlsdissect.Diagnosis` (None with ``diagnose=False``).
        extra: the later stages' findings: ``server_certificates``, ``chain_findings``,
            ``trust``, ``ocsp``, ``decryption``, ... (docs/schema.md).
        midstream: the capture does not show the connection's start.
        partial: the capture ended (or was cut) while the connection was open.
    """

    stream: int
    client: str
    server: str
    first_frame: int
    last_frame: int
    start_time: float
    end_time: float
    role_source: str = "port"  # how we know who is the client: syn | client_hello | port
    is_tls: bool = False
    not_tls: Optional[str] = None  # what the stream looks like when it is not TLS
    server_name: Optional[str] = None
    version: Optional[str] = None
    version_code: Optional[int] = None
    cipher: Optional[str] = None
    cipher_code: Optional[int] = None
    alpn: Optional[str] = None
    established: bool = False
    resumed: bool = False
    ssl_history: str = ""
    alerts: list[Alert] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    tcp_close: Optional[TcpClose] = None
    # The TLS stage's message objects (tls.handshake.ClientHello, ServerHello, CertificateRequest):
    # each gives its own JSON form (json_form), so this model needs no import of the TLS stage.
    client_hello: Any = None
    server_hello: Any = None
    hello_retry_request: Any = None
    server_certificates_der: list[bytes] = field(default_factory=list)
    client_certificates_der: list[bytes] = field(default_factory=list)
    client_certificate_sent: Optional[bool] = None  # None: no Certificate message seen
    certificate_request: Any = None
    server_key_exchange: Any = None
    # (client random, server random, ServerKeyExchange body) when it is signed: not in the JSON,
    # read by the certificate stage to check the signature (handshake_signatures).
    server_key_exchange_signed: Optional[tuple[bytes, bytes, bytes]] = field(default=None, repr=False)
    # TLS 1.3 with a key log: (transcript hash, scheme, signature) of the server's CertificateVerify;
    # not in the JSON either (handshake_signatures).
    server_certificate_verify_signed: Optional[tuple[bytes, int, bytes]] = field(default=None, repr=False)
    # What names this connection's lines in a key log: the client random of each ClientHello
    # (renegotiations too) and the first 8 bytes of the encrypted RSA pre-master secret, if any.
    # Not in the JSON; --annotate embeds only the key log lines these name.
    key_log_ids: tuple[bytes, ...] = field(default=(), repr=False)
    certificate_status: Any = None
    midstream: bool = False  # the capture does not show the connection's start
    partial: bool = False  # the capture ended (or was cut) while the connection was open
    anomalies: list[Event] = field(default_factory=list)
    client_stats: DirectionStats = field(default_factory=DirectionStats)
    server_stats: DirectionStats = field(default_factory=DirectionStats)
    last_records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # The plain-text exchange before TLS (results.starttls.StartTls): STARTTLS, SSLRequest, ...;
    # None for a connection that started in TLS or whose first bytes are no protocol read there.
    starttls: Any = None
    # The framing the TLS rode inside ("openvpn", "websocket", "gssapi"; tlsdissect.framing), or
    # None for TLS straight on the TCP stream.
    encapsulation: Optional[str] = None
    # "tcp", or "udp" for TLS inside OpenVPN over UDP (then ``stream`` is Wireshark's udp.stream)
    transport: str = "tcp"
    diagnosis: Any = None  # filled by tlsdissect.diagnosis.reasoner when available
    extra: dict[str, Any] = field(default_factory=dict)  # findings from later stages
    # Entries of ``extra`` already serialised (jsontext.shared forms) because many connections
    # carry the same value (decoded certificates): json_value() writes these instead.
    extra_json: Optional[dict[str, Any]] = field(default=None, repr=False, compare=False)

    # What carries the handshake and what it is (docs/schema.md): the same attributes as a QUIC
    # handshake's ("udp", "quic") and a DTLS association's ("udp", "dtls"), so that the views
    # and scripts that take all three can tell them apart.
    # (``transport`` is a field above: "udp" for TLS inside OpenVPN over UDP)
    protocol: ClassVar[str] = "tls"

    @property
    def wireshark_filter(self) -> str:
        """The Wireshark display filter that shows this connection."""
        return f"{self.transport}.stream eq {self.stream}"

    @property
    def outcome(self) -> str:
        """established, failed, incomplete or not_tls: the one meaning every view uses
        (results.outcome.outcome_of)."""
        return outcome_of(self)

    @property
    def fingerprints(self) -> Any:
        """JA3/JA3S/JA4/JA4S/JA4X (a tlsdissect.fingerprints.Fingerprints), worked out when
        asked; None for a connection without a hello or certificate."""
        compute = FINGERPRINTERS.get("connection")
        return compute(self) if compute is not None else None

    def __repr__(self) -> str:
        """One line (typing ``conn`` in a REPL): stream, endpoints, SNI, version, outcome, cause."""
        cause = getattr(self.diagnosis, "cause", None)
        parts = [f"stream={self.stream}", f"{self.client} -> {self.server}"]
        if self.server_name:
            parts.append(f"sni={self.server_name!r}")
        if self.version:
            parts.append(self.version)
        parts.append(self.outcome)
        if cause:
            parts.append(f"cause={cause}")
        return f"<Connection {' '.join(parts)}>"

    def _repr_html_(self) -> str:  # Jupyter
        return HTML_VIEWS["connection"](self)

    def to_dict(self) -> dict[str, Any]:
        """The connection as JSON-ready data, with the field names of docs/schema.md."""
        return self._dict(False)

    def json_value(self) -> dict[str, Any]:
        """``to_dict()`` for immediate serialisation with ``jsontext.dumps`` (the command line's
        JSON): the parts that repeat across connections (hello extensions, cipher-suite lists)
        are serialised once and shared, so the result is only for writing out, not for reading."""
        return self._dict(True)

    def _dict(self, shared: bool) -> dict[str, Any]:
        tc = self.tcp_close
        ch = self.client_hello
        sh = self.server_hello
        hrr = self.hello_retry_request
        cr = self.certificate_request
        ske = self.server_key_exchange
        d: dict[str, Any] = {
            "transport": self.transport,
            "protocol": "tls",
            "stream": self.stream,
            "client": self.client,
            "server": self.server,
            "server_name": self.server_name,
            "version": self.version,
            "cipher": self.cipher,
            "established": self.established,
            "resumed": self.resumed,
            "ssl_history": self.ssl_history,
            "alerts": _alerts_list(self.alerts) if self.alerts else [],
            "events": _events_list(self.events),
            "tcp_close": {"by": tc.by, "how": tc.how, "frame": tc.frame, "time": round6(tc.time)} if tc else None,
            "is_tls": self.is_tls,
            "not_tls": self.not_tls,
            "alpn": self.alpn,
            "first_frame": self.first_frame,
            "last_frame": self.last_frame,
            "start_time": round6(self.start_time),
            "end_time": round6(self.end_time),
            "role_source": self.role_source,
            "midstream": self.midstream,
            "partial": self.partial,
            "wireshark_filter": f"{self.transport}.stream eq {self.stream}",
            "client_hello": ch.json_form(shared) if ch is not None else None,
            "server_hello": sh.json_form(shared) if sh is not None else None,
            "hello_retry_request": hrr.json_form(shared) if hrr is not None else None,
            "client_certificate_sent": self.client_certificate_sent,
            "certificate_request": cr.json_form() if cr is not None else None,
            "server_key_exchange": _plain_dict(ske) if ske is not None else None,
            "anomalies": _events_list(self.anomalies) if self.anomalies else [],
            "stats": {"client": self.client_stats.to_dict(), "server": self.server_stats.to_dict()},
            "last_records": self.last_records,
        }
        if self.starttls is not None:
            d["starttls"] = self.starttls.to_dict()
        if self.encapsulation is not None:
            d["encapsulation"] = self.encapsulation
        fp = self.fingerprints
        d["fingerprints"] = fp.to_dict() if fp is not None else None
        d.update(self.extra)
        if shared and self.extra_json:
            for key, form in self.extra_json.items():  # the same keys: their places in the output stay
                d[key] = jsontext.embed(form)
        if self.diagnosis is not None:
            d["diagnosis"] = self.diagnosis.to_dict() if hasattr(self.diagnosis, "to_dict") else self.diagnosis
        d["outcome"] = outcome_of(self)
        return d


def _plain_dict(obj: Any) -> Optional[dict[str, Any]]:
    """An object's fields as a dict, bytes as hex. (A copy of its __dict__ with only the
    bytes values replaced: building the dict key by key cost twice as much.)"""
    if obj is None:
        return None
    own = getattr(obj, "__dict__", None)
    # (a dataclass of the compiled build, a native class, has no __dict__: its fields, in order)
    out: dict[str, Any] = own.copy() if own is not None else {f.name: getattr(obj, f.name) for f in fields(obj)}
    for k, v in out.items():
        t = type(v)  # (ints, strings and None first: one isinstance call per field was most of this)
        if t is not int and t is not str and v is not None and isinstance(v, (bytes, bytearray)):
            out[k] = v.hex()  # (a value replaced, no key added: the iteration goes on)
    return out


@dataclass
class Report:
    """The result of analysing one capture: its connections, by stream number, and what the
    capture was. Iterating over a report gives its connections.

        >>> report = tlsdissect.analyze("capture.pcap")
        >>> report.failures()           # the connections whose outcome is "failed"
        >>> report.to_dataframe()       # one row per connection (pandas)

    Attributes:
        capture: the capture's name as given (a path, or ``<bytes>`` ...).
        connections: the TLS connections (every TCP one with ``include_all``), by stream.
        frames: how many frames the capture holds.
        format: ``pcap`` or ``pcapng`` (gzip'd or not).
        truncated: the capture is cut short; ``truncation_reason`` says where and how.
        tcp_connections: every TCP conversation seen, TLS or not.
        undecoded_frames: frames that carried no TCP segment we could read.
        warnings: what the run noticed about the capture (unsupported link types, ...).
    """

    capture: str
    connections: list[Connection] = field(default_factory=list)
    frames: int = 0
    format: str = ""
    truncated: bool = False
    truncation_reason: str = ""
    tcp_connections: int = 0  # every TCP conversation, TLS or not
    linktypes: list[int] = field(default_factory=list)
    undecoded_frames: int = 0
    warnings: list[str] = field(default_factory=list)
    # QUIC handshakes (tlsdissect.quic.QuicHandshake: each gives its own to_dict), in flow order
    quic: list[Any] = field(default_factory=list)
    # DTLS associations (tlsdissect.dtls.DtlsAssociation: each gives its own to_dict), in flow order
    dtls: list[Any] = field(default_factory=list)

    def __iter__(self) -> Iterator[Connection]:
        return iter(self.connections)

    REPR_LINES = 40  # connections listed by repr(report); the rest are counted

    def __repr__(self) -> str:
        """A few lines (a REPL's view): the capture, then one line per connection."""
        failed = len(self.failures())
        udp = f", {len(self.quic)} QUIC and {len(self.dtls)} DTLS handshake(s)" if self.quic or self.dtls else ""
        lines = [f"<Report {self.capture!r}: {len(self.connections)} connection(s){udp}, {failed} failed"
                 + (", truncated" if self.truncated else "")]
        lines += [f"  {c!r}" for c in self.connections[:self.REPR_LINES]]
        if len(self.connections) > self.REPR_LINES:
            lines.append(f"  ... {len(self.connections) - self.REPR_LINES} more")
        return "\n".join(lines) + ">"

    def __len__(self) -> int:
        return len(self.connections)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (docs/schema.md): what ``tlsdissect --json`` writes."""
        d = {
            "schema_version": SCHEMA_VERSION,
            "capture": self.capture,
            "format": self.format,
            "frames": self.frames,
            "truncated": self.truncated,
            "truncation_reason": self.truncation_reason or None,
            "tcp_connections": self.tcp_connections,
            "undecoded_frames": self.undecoded_frames,
            "warnings": self.warnings,
            "connections": [c.to_dict() for c in self.connections],
        }
        if self.quic:  # (present only when the capture has QUIC handshakes)
            d["quic"] = [q.to_dict() for q in self.quic]
        if self.dtls:  # (present only when the capture has DTLS handshakes)
            d["dtls"] = [a.to_dict() for a in self.dtls]
        return d

    def _repr_html_(self) -> str:  # Jupyter
        return HTML_VIEWS["report"](self)

    def to_html(self, show: str = "auto") -> str:
        """The report as one self-contained HTML page, for a ticket (tlsdissect.report.html):
        ``show`` "all" lists every connection, "failed" the ones not established, "auto" all
        unless there are more than 100 (then the summary and the ones not established)."""
        return HTML_VIEWS["page"](self, show=show)

    def failures(self) -> list[Any]:
        """Connections with a diagnosed problem (failed handshakes and refusals), then the QUIC
        handshakes and DTLS associations that failed (``transport`` "udp"; ``protocol`` "quic" or
        "dtls"; their ``diagnosis`` has the same verdict fields): what the exit status counts."""
        return [c for c in self.connections if outcome_of(c) == "failed"] + self.udp_failures()

    def udp_failures(self) -> list[Any]:
        """The QUIC handshakes and DTLS associations that failed, in that order."""
        return [h for h in (*self.quic, *self.dtls) if outcome_of(h) == "failed"]

    def to_json(self, indent: Optional[int] = 2) -> str:
        """``to_dict()`` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent)

    def annotate(self, out: Any, source: Any = None, keylog: Any = None) -> Any:
        """Write the capture again as pcapng to ``out`` (a path or a binary file), each finding a
        packet comment on its frames, and, with ``keylog`` (a path, paths or a KeyLog), the
        lines for these connections as a Decryption Secrets Block. ``source`` is the capture
        analysed (default: the path this report was made from). Returns what was written
        (report.annotate.Annotated; docs/schema.md)."""
        return ANNOTATORS["report"](self, out, source, keylog)

    def to_dataframe(self) -> Any:
        """One row per connection, then one per QUIC handshake and DTLS association (``transport``
        and ``protocol`` tell them apart; needs pandas 2): docs/schema.md's DataFrame section lists the
        columns. Times are ``datetime64[ns, UTC]``, ``duration`` a timedelta; ``outcome``,
        ``cause``, ``confidence``, ``aborted_by``, ``failure_point`` and ``version`` are
        categoricals; ``outcome`` is the same as the text view's and ``failures()``'s.

            >>> df = report.to_dataframe()
            >>> df[df.outcome == "failed"].groupby("cause", observed=True).size()
        """
        try:
            import pandas  # noqa: F401
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("to_dataframe() needs pandas: pip install pandas") from e
        rows = [connection_row(c, self.capture) for c in self.connections]
        udp_row = ROW_MAKERS.get("udp")
        if udp_row is not None:
            rows += [udp_row(h, self.capture) for h in (*self.quic, *self.dtls)]
        return rows_frame(rows)


def rows_frame(rows: list[dict[str, Any]]) -> Any:
    """DataFrame rows (connection_row) as the DataFrame with its documented dtypes: the one
    place those are set (Report.to_dataframe, the Parquet writer)."""
    import pandas as pd

    df = pd.DataFrame(rows, columns=list(DATAFRAME_COLUMNS))
    # Each column's dtype set here, not inferred from its values: a capture without a value in a
    # column (or without a connection) gives the same dtypes as any other, so that the frames of
    # many captures concatenate (tlsdissect.dask). Text is pandas' own string dtype (str from
    # pandas 3, object before).
    text = pd.Series(["x"]).dtype
    for col in TEXT_COLUMNS:
        df[col] = df[col].astype(text)
    for col in ("stream", "first_frame"):
        df[col] = df[col].astype("int64")
    for col in ("established", "resumed"):
        df[col] = df[col].astype(bool)
    for col in ("start_time", "end_time"):
        # Whole microseconds, as in the JSON (round6): float seconds straight to nanoseconds
        # would show the float's error (…713032 ns for a packet stamped …713 us).
        micros = (df[col].astype("float64") * 1e6).round().astype("Int64")  # (an error row has none: NaT)
        df[col] = pd.to_datetime(micros, unit="us", utc=True).astype("datetime64[ns, UTC]")
    # (microseconds: a certificate may be valid until 9999, past what nanoseconds can hold)
    df["server_cert_not_after"] = pd.to_datetime(df["server_cert_not_after"], unit="s", utc=True).astype(
        "datetime64[us, UTC]")
    # Categories always of strings, also for a column without a value (astype("category") would
    # make those of objects there): the frames of several captures then concatenate as categoricals.
    for col in CATEGORY_COLUMNS:
        values = DATAFRAME_CATEGORIES.get(col)
        found = sorted(df[col].dropna().unique())
        if values is None:  # (the values in this frame)
            df[col] = pd.Categorical(df[col], categories=pd.Index(found, dtype=str))
        else:  # (a value outside the known ones, if ever, is added at the end rather than lost)
            extra = [v for v in found if v not in values]
            df[col] = pd.Categorical(df[col], categories=pd.Index([*values, *extra], dtype=str))
    df["duration"] = df["end_time"] - df["start_time"]
    return df


TEXT_COLUMNS = ("capture", "client", "server", "server_name", "cipher", "alpn", "ssl_history", "last_alert",
                "server_cert_subject", "server_cert_issuer", "ja3", "ja3s", "ja4", "ja4s", "quic_version",
                "starttls_answer_code", "starttls_answer_text")
CATEGORY_COLUMNS = ("outcome", "cause", "confidence", "aborted_by", "failure_point", "version", "transport",
                    "protocol", "starttls_protocol", "starttls_result")


# The DataFrame's columns, in order (docs/schema.md): add, never rename.
DATAFRAME_COLUMNS = (
    "capture", "stream", "client", "server", "server_name", "version", "cipher", "alpn", "established",
    "resumed", "ssl_history", "last_alert", "outcome", "cause", "confidence", "aborted_by", "failure_point",
    "start_time", "end_time", "duration", "first_frame", "server_cert_subject", "server_cert_issuer",
    "server_cert_not_after", "ja3", "ja3s", "ja4", "ja4s", "transport", "protocol", "quic_version",
    "starttls_protocol", "starttls_result", "starttls_answer_code", "starttls_answer_text",
)


# The columns with a fixed set of values, categoricals with these categories (in this order) on
# every DataFrame, so that frames of several captures concatenate into categoricals again.
# ``cause`` and ``failure_point`` are the diagnosis's vocabulary: tlsdissect.diagnosis.verdict
# adds them when it is imported (the package's __init__ imports it).
DATAFRAME_CATEGORIES: dict[str, list[str]] = {
    "outcome": ["established", "failed", "incomplete", "not_tls"],
    "confidence": ["certain", "likely", "possible"],
    "aborted_by": ["client", "server", "middlebox", "unknown"],
    "transport": ["tcp", "udp"],
    "protocol": ["tls", "quic", "dtls"],
    "starttls_protocol": list(starttls_results.PROTOCOLS),
    "starttls_result": list(starttls_results.RESULTS),
}


def connection_row(c: Connection, capture: str) -> dict[str, Any]:
    """A connection's DataFrame row (also the shape a Dask partition builds)."""
    last = c.alerts[-1] if c.alerts else None
    diag = c.diagnosis
    return {
        "capture": capture, "stream": c.stream, "client": c.client, "server": c.server,
        "server_name": c.server_name, "version": c.version, "cipher": c.cipher, "alpn": c.alpn,
        "established": c.established, "resumed": c.resumed, "ssl_history": c.ssl_history,
        "last_alert": last.name if last else None, "outcome": c.outcome,
        "cause": getattr(diag, "cause", None), "confidence": getattr(diag, "confidence", None),
        "aborted_by": getattr(diag, "aborted_by", None), "failure_point": getattr(diag, "failure_point", None),
        "start_time": c.start_time, "end_time": c.end_time, "duration": c.end_time - c.start_time,
        "first_frame": c.first_frame, **certificate_columns(c.extra.get("server_certificates") or []),
        **_fingerprint_columns(c), "transport": c.transport, "protocol": "tls", "quic_version": None,
        **starttls_columns(c.starttls),
    }


def certificate_columns(certificates: list[dict[str, Any]]) -> dict[str, Any]:
    """The server's leaf certificate's columns, from the JSON's ``server_certificates``."""
    leaf: dict[str, Any] = certificates[0] if certificates else {}
    not_after = leaf.get("not_after")
    if not_after:
        from datetime import datetime, timezone

        try:
            not_after = datetime.strptime(not_after, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            not_after = None
    return {"server_cert_subject": leaf.get("subject"), "server_cert_issuer": leaf.get("issuer"),
            "server_cert_not_after": not_after or None}


def starttls_columns(starttls: Any) -> dict[str, Any]:
    """Where a connection's plain-text prelude (STARTTLS, SSLRequest: results.starttls.StartTls)
    stopped and what the server answered; empty for a connection that began in TLS."""
    if starttls is None:
        return {"starttls_protocol": None, "starttls_result": None, "starttls_answer_code": None,
                "starttls_answer_text": None}
    return {"starttls_protocol": starttls.protocol, "starttls_result": starttls.result,
            "starttls_answer_code": starttls.answer_code, "starttls_answer_text": starttls.answer_text}


def _fingerprint_columns(c: Connection) -> dict[str, Optional[str]]:
    fp = c.fingerprints
    if fp is None:
        return {"ja3": None, "ja3s": None, "ja4": None, "ja4s": None}
    return {"ja3": fp.ja3, "ja3s": fp.ja3s, "ja4": fp.ja4, "ja4s": fp.ja4s}
