"""The result model: what ``analyze`` returns, and its stable JSON form.

Field names in ``to_dict`` are relied on by users' scripts (docs/schema.md): add, never
rename. Times are epoch seconds (float); frames are Wireshark's 1-based frame numbers;
``sender`` is "client" or "server".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

from tlsdissect.results import jsontext
from tlsdissect.results.outcome import outcome_of


SCHEMA_VERSION = 1

# The rich Jupyter views of a "connection" and a "report", filled in by tlsdissect.report.notebook
# when it is imported (the package's __init__ does): the model names its renderers by this table
# only, so the results stay below the report stage.
HTML_VIEWS: dict[str, Callable[[Any], str]] = {}
# The fingerprint computation (tlsdissect.fingerprints registers "connection" when imported):
# this model reads the hellos through it without importing a stage.
FINGERPRINTERS: dict[str, Callable[[Any], Any]] = {}


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
    """One step of a connection's timeline. (timeline_events makes these without __init__:
    a field added here is to be set there too.)"""

    frame: int
    time: float
    sender: str  # "client" | "server"
    type: str  # syn, syn_ack, fin, rst, handshake, change_cipher_spec, alert, ...
    info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
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
    frame: int
    time: float
    sender: str
    level: Optional[str]  # "warning" | "fatal" | None when encrypted
    code: Optional[int]
    name: Optional[str]
    encrypted: bool
    length: int = 2

    @property
    def hex(self) -> Optional[str]:
        """The form Wireshark shows, e.g. '0x2f'."""
        return _alert_hex(self.code)

    @property
    def fatal(self) -> bool:
        return self.level == "fatal"

    def to_dict(self) -> dict[str, Any]:
        return {
            "frame": self.frame, "time": round6(self.time), "sender": self.sender,
            "level": self.level, "code": self.code, "hex": self.hex, "name": self.name,
            "encrypted": self.encrypted,
        }


@dataclass(slots=True)
class TcpClose:
    by: str  # "client" | "server"
    how: str  # "fin" | "rst"
    frame: int
    time: float

    def to_dict(self) -> dict[str, Any]:
        return {"by": self.by, "how": self.how, "frame": self.frame, "time": round6(self.time)}


@dataclass(slots=True)
class DirectionStats:
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
    """One TCP connection and the TLS that it carried (or tried to)."""

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
    diagnosis: Any = None  # filled by tlsdissect.diagnosis.reasoner when available
    extra: dict[str, Any] = field(default_factory=dict)  # findings from later stages
    # Entries of ``extra`` already serialised (jsontext.shared forms) because many connections
    # carry the same value (decoded certificates): json_value() writes these instead.
    extra_json: Optional[dict[str, Any]] = field(default=None, repr=False, compare=False)

    @property
    def wireshark_filter(self) -> str:
        return f"tcp.stream eq {self.stream}"

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
            "wireshark_filter": f"tcp.stream eq {self.stream}",
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
    out = obj.__dict__.copy()
    for k, v in out.items():
        t = type(v)  # (ints, strings and None first: one isinstance call per field was most of this)
        if t is not int and t is not str and v is not None and isinstance(v, (bytes, bytearray)):
            out[k] = v.hex()  # (a value replaced, no key added: the iteration goes on)
    return out


@dataclass
class Report:
    """The result of analysing one capture."""

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

    def __iter__(self) -> Iterator[Connection]:
        return iter(self.connections)

    REPR_LINES = 40  # connections listed by repr(report); the rest are counted

    def __repr__(self) -> str:
        """A few lines (a REPL's view): the capture, then one line per connection."""
        failed = sum(1 for c in self.connections if c.outcome == "failed")
        lines = [f"<Report {self.capture!r}: {len(self.connections)} connection(s), {failed} failed"
                 + (", truncated" if self.truncated else "")]
        lines += [f"  {c!r}" for c in self.connections[:self.REPR_LINES]]
        if len(self.connections) > self.REPR_LINES:
            lines.append(f"  ... {len(self.connections) - self.REPR_LINES} more")
        return "\n".join(lines) + ">"

    def __len__(self) -> int:
        return len(self.connections)

    def to_dict(self) -> dict[str, Any]:
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
        return d

    def _repr_html_(self) -> str:  # Jupyter
        return HTML_VIEWS["report"](self)

    def failures(self) -> list[Connection]:
        """Connections with a diagnosed problem (failed handshakes and refusals)."""
        return [c for c in self.connections if outcome_of(c) == "failed"]

    def to_json(self, indent: Optional[int] = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_dataframe(self) -> Any:
        """One row per connection (needs pandas): docs/schema.md's DataFrame section lists the
        columns. Times are ``datetime64[ns, UTC]``; outcome, cause and confidence are categoricals;
        ``outcome`` is the same as the text view's and ``failures()``'s."""
        try:
            import pandas  # noqa: F401
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("to_dataframe() needs pandas: pip install pandas") from e
        return rows_frame([connection_row(c, self.capture) for c in self.connections])


def rows_frame(rows: list[dict[str, Any]]) -> Any:
    """DataFrame rows (connection_row) as the DataFrame with its documented dtypes: the one
    place those are set (Report.to_dataframe, the Parquet writer)."""
    import pandas as pd

    df = pd.DataFrame(rows, columns=list(DATAFRAME_COLUMNS))
    for col in ("start_time", "end_time"):
        df[col] = pd.to_datetime(df[col], unit="s", utc=True).astype("datetime64[ns, UTC]")
    # (microseconds: a certificate may be valid until 9999, past what nanoseconds can hold)
    df["server_cert_not_after"] = pd.to_datetime(df["server_cert_not_after"], unit="s", utc=True).astype(
        "datetime64[us, UTC]")
    for col in CATEGORY_COLUMNS:
        df[col] = df[col].astype("category")
    df["duration"] = pd.to_timedelta(df["duration"], unit="s")
    return df


CATEGORY_COLUMNS = ("outcome", "cause", "confidence", "aborted_by", "failure_point", "version")


# The DataFrame's columns, in order (docs/schema.md): add, never rename.
DATAFRAME_COLUMNS = (
    "capture", "stream", "client", "server", "server_name", "version", "cipher", "alpn", "established",
    "resumed", "ssl_history", "last_alert", "outcome", "cause", "confidence", "aborted_by", "failure_point",
    "start_time", "end_time", "duration", "first_frame", "server_cert_subject", "server_cert_issuer",
    "server_cert_not_after", "ja3", "ja3s", "ja4", "ja4s",
)


def connection_row(c: Connection, capture: str) -> dict[str, Any]:
    """A connection's DataFrame row (also the shape a Dask partition builds)."""
    last = c.alerts[-1] if c.alerts else None
    diag = c.diagnosis
    leaf = (c.extra.get("server_certificates") or [None])[0] or {}
    not_after = leaf.get("not_after")
    if not_after:
        from datetime import datetime, timezone

        try:
            not_after = datetime.strptime(not_after, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            not_after = None
    return {
        "capture": capture, "stream": c.stream, "client": c.client, "server": c.server,
        "server_name": c.server_name, "version": c.version, "cipher": c.cipher, "alpn": c.alpn,
        "established": c.established, "resumed": c.resumed, "ssl_history": c.ssl_history,
        "last_alert": last.name if last else None, "outcome": c.outcome,
        "cause": getattr(diag, "cause", None), "confidence": getattr(diag, "confidence", None),
        "aborted_by": getattr(diag, "aborted_by", None), "failure_point": getattr(diag, "failure_point", None),
        "start_time": c.start_time, "end_time": c.end_time, "duration": c.end_time - c.start_time,
        "first_frame": c.first_frame, "server_cert_subject": leaf.get("subject"),
        "server_cert_issuer": leaf.get("issuer"), "server_cert_not_after": not_after or None,
        **_fingerprint_columns(c),
    }


def _fingerprint_columns(c: Connection) -> dict[str, Optional[str]]:
    fp = c.fingerprints
    if fp is None:
        return {"ja3": None, "ja3s": None, "ja4": None, "ja4s": None}
    return {"ja3": fp.ja3, "ja3s": fp.ja3s, "ja4": fp.ja4, "ja4s": fp.ja4s}
