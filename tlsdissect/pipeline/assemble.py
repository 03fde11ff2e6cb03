"""A finished conversation's result, assembled from what the TCP and TLS stages hand out.

The TCP stage (tcp.flows.TcpConnection) knows the packets, the close and the reassembly; its
consumer, the TLS stage's session (tls.session.TlsSession), knows the records and messages.
Neither builds results: here the pipeline flushes both, merges their timelines and writes the
:class:`~tlsdissect.results.model.Connection` that the later stages (certificates, diagnosis)
and the reports read.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Optional, cast

from tlsdissect.capture.packet import format_host
from tlsdissect.results.listcaps import DROPPED_KEYS, MAX_CHAIN_CERTIFICATES
from tlsdissect.results.model import Alert, Connection, DirectionStats, Event, TcpClose, round6, timeline_events
from tlsdissect.starttls.reader import worth_reporting
from tlsdissect.tcp.flows import TLS_PORTS
from tlsdissect.tcp.oneway import acked_not_captured
from tlsdissect.tcp.relays import Leg
from tlsdissect.tls import tables
from tlsdissect.tls.session import TlsSession, encapsulation

# What is assembled: a tcp.flows.TcpConnection, or an OpenVPN-over-UDP flow
# (pipeline.openvpn_udp.UdpFlow, which has the attributes read here). Typed loosely: the
# compiled build checks a declared class on every call, and a UdpFlow is no TcpConnection.
Conversation = Any
_ALERT_LEVELS = {1: "warning", 2: "fatal"}
_RANDOM_END = 43  # a hello record: 5-byte record header, 4-byte message header, 2-byte version, 32-byte random
_BY_FRAME = itemgetter(1)  # timeline tuples: (direction, frame, time, type, info)
# Names of directions 0 and 1, by which direction is the client's.
_NAMES: tuple[tuple[str, str], tuple[str, str]] = (("client", "server"), ("server", "client"))
_new_object = object.__new__
# What a plain-text server answers to TLS (or to a plain request on its TLS port): such a
# connection is reported even without TLS in it.
_HTTPS_PORT_ERRORS = (
    b"plain HTTP request was sent to HTTPS port",
    b"speaking plain HTTP to an SSL-enabled server port",
    b"Client sent an HTTP request to an HTTPS server",
)


def assemble(tcp: Conversation, capture_ended: bool, capture_end: Optional[float] = None) -> Connection:
    """The result of one conversation that has ended: what the TCP stage (``tcp``) and the TLS
    stage (its consumer, a TlsSession) hand out, put together. Flushes both stages first.
    ``capture_end``: the capture's last packet time, when the capture's end handed it out."""
    s = cast(TlsSession, tcp.consumer)  # (the pipeline's consumer: flows.FlowTable's new_consumer)
    last_frame = tcp.last_frame
    last_ts = tcp.last_ts
    for d in (0, 1):
        tcp.flush(d)
        s.finish(d, last_frame, last_ts)
    client = tcp.client_side()
    server = 1 - client
    names = _NAMES[client]
    # Timeline: TCP and TLS events merged in capture order (stable for equal frames).
    merged = tcp.tcp_events + s.full_timeline()  # (a new list: sorted in place, no second copy)
    merged.sort(key=_BY_FRAME)
    anomalies = timeline_events(s.anomalies, names) if s.anomalies else []
    for r in (0, 1):
        for note in tcp.notes(r):
            anomalies.append(Event(last_frame, last_ts, names[r], "anomaly", note))
    if tcp.early_retire:
        anomalies.append(Event(last_frame, last_ts, names[client], "anomaly", {
            "name": "memory_budget", "detail": tcp.early_retire}))
    # Made without Connection.__init__ (its keyword matching and default factories were a
    # third of this method): an empty instance and every field set here, once. A field
    # added to Connection is to be set here too (tests/test_json_connection_fields.py).
    conn = _new_object(Connection)
    conn.stream = tcp.stream
    conn.client = _endpoint(tcp.addr[client], tcp.port[client])
    conn.server = _endpoint(tcp.addr[server], tcp.port[server])
    conn.first_frame = tcp.first_frame
    conn.last_frame = last_frame
    conn.start_time = tcp.first_ts
    conn.end_time = last_ts
    conn.role_source = tcp.role_source
    conn.is_tls = s.tls_seen
    conn.not_tls = (s.not_tls.get(client) or s.not_tls.get(server)) if not s.tls_seen or s.not_tls else None
    if s.client_hellos:
        conn.client_hello = s.client_hellos[0][1]
        conn.server_name = s.server_name
    else:
        conn.client_hello = conn.server_name = None
    conn.server_hello = sh = s.server_hello
    conn.hello_retry_request = hrr = s.hrr
    extra: dict[str, Any] = {}
    _negotiated(conn, s, sh, hrr, extra)
    conn.established = s.established(client)
    conn.resumed = s.resumed()
    conn.ssl_history = s.ssl_history(client)
    conn.alerts = [Alert(f, t, names[d], _ALERT_LEVELS.get(level, None if level is None else str(level)),
                         code, None if code is None else tables.alert_name(code), enc, ln)
                   for (d, f, t, level, code, enc, ln) in s.alerts] if s.alerts else []
    conn.events = timeline_events(merged, names)
    close = tcp.first_close()
    conn.tcp_close = TcpClose(names[close[0]], close[1], close[2], close[3]) if close is not None else None
    server_certs = s.certificates[server]
    conn.server_certificates_der = _chain(server_certs[0], "server", s) if server_certs else []
    client_certs = s.certificates[client]
    if client_certs:
        conn.client_certificates_der = _chain(client_certs[0], "client", s)
        conn.client_certificate_sent = bool(client_certs[0].entries)
    else:
        conn.client_certificates_der = []
        conn.client_certificate_sent = None
    conn.certificate_request = s.certificate_request
    conn.server_key_exchange = s.server_key_exchange
    conn.server_key_exchange_signed = s.server_key_exchange_signed
    conn.server_certificate_verify_signed = s.server_certificate_verify_signed
    conn.key_log_ids = _key_log_ids(s) if s.client_hellos else ()
    conn.certificate_status = s.certificate_status
    conn.midstream = tcp.midstream
    conn.partial = capture_ended and tcp.closed_at is None
    conn.anomalies = anomalies
    layers = s.layers
    packets = tcp.packets
    payload_bytes = tcp.payload_bytes
    cl, sl = layers[client], layers[server]
    cr, sr = tcp.reasm[client], tcp.reasm[server]
    conn.client_stats = DirectionStats(packets[client], payload_bytes[client], cl.records, cl.protected_records,
                                       cl.bytes_by_type.get(23, 0), cr.retransmitted, cr.gaps, cr.gap_bytes)
    conn.server_stats = DirectionStats(packets[server], payload_bytes[server], sl.records, sl.protected_records,
                                       sl.bytes_by_type.get(23, 0), sr.retransmitted, sr.gaps, sr.gap_bytes)
    conn.last_records = {"client": _record_dicts(cl.recent_records()), "server": _record_dicts(sl.recent_records())}
    conn.starttls = s.layers[0].prelude.result(tcp.port[server]) if s.layers[0].prelude else None
    conn.encapsulation = encapsulation(s)
    conn.transport = tcp.transport
    conn.diagnosis = conn.extra_json = None
    conn.extra = extra
    dec = s.decryption_summary()
    if dec is not None:
        extra["decryption"] = dec
        http = s.http_summary()
        if http is not None:
            extra["http"] = http
    _tcp_extra(tcp, names, extra)
    if conn.partial and capture_end is not None:
        # How long the capture went on after this connection's last packet: whether a missing
        # answer had time to come (docs/schema.md).
        extra["capture_after_last_packet"] = round6(max(0.0, capture_end - last_ts))
    dropped = s.dropped
    if dropped:
        extra["dropped"] = {k: dropped[k] for k in DROPPED_KEYS if k in dropped}
    return conn


def _tcp_extra(tcp: Any, names: Any, extra: dict[str, Any]) -> None:
    """The TCP stage's entries of a connection's ``extra``: a reset inside a record, relay legs,
    stalled directions, zero windows and probes, IP TTLs."""
    rst_mid = tcp.rst_mid_record
    if rst_mid[0] or rst_mid[1]:
        extra["rst_mid_record"] = {names[d]: rst_mid[d] for d in (0, 1) if rst_mid[d]}
    after = tcp.after_own_reset
    if after[0] is not None or after[1] is not None:
        extra["sent_after_own_reset"] = {names[d]: after[d] for d in (0, 1) if after[d] is not None}
    opening = tcp.opening[0]
    if tcp.relay_legs and opening is not None and len(opening) >= _RANDOM_END and opening[0] == 0x16 \
            and opening[5] in (1, 2):
        # Only where the first bytes are a ClientHello (or ServerHello) record, random included:
        # 32 random bytes make them unique (a plain-text greeting before TLS would not).
        extra["relay_legs"] = [_relay_leg(leg, names) for leg in tcp.relay_legs]
    stalls = None
    for d in (0, 1):
        found = tcp.stall(d)
        if found is not None:
            if stalls is None:
                stalls = extra["stalled"] = {}
            stalls[names[d]] = found.to_dict()
    if tcp.watch is not None:
        extra.update(tcp.watch.summary(names, tcp.packets, tcp.last_ts))
    for d in (0, 1):
        if not tcp.packets[d] and tcp.packets[1 - d]:
            # Nothing of this side, yet its peer's ACKs climb: a one-way capture (tcp.oneway).
            missing = acked_not_captured(tcp.log[1 - d], 0)
            if missing:
                extra["acked_not_captured"] = {names[d]: missing}
    rst_ttl = tcp.rst_ttl
    rst_ttls: dict[str, int] = {}  # (no comprehension: one function call less per connection)
    if rst_ttl[0] is not None:
        rst_ttls[names[0]] = rst_ttl[0]
    if rst_ttl[1] is not None:
        rst_ttls[names[1]] = rst_ttl[1]
    ttls = tcp.ttls
    extra["ttl"] = {names[0]: ttls[0], names[1]: ttls[1], "rst": rst_ttls}


def _relay_leg(leg: Leg, names: Any) -> dict[str, Any]:
    """A relay leg's JSON (docs/schema.md): its stream, its first reset and, where the two legs'
    bytes differ, from which byte on, by side."""
    out: dict[str, Any] = {"stream": leg.stream, "reset_frame": leg.reset_frame,
                           "reset_time": None if leg.reset_time is None else round6(leg.reset_time)}
    differs = {names[d]: {"from_byte": found[0], "to_byte": found[1], "frame": found[2], "leg_frame": found[3]}
               for d, found in enumerate(leg.differs) if found is not None}
    if differs:
        out["bytes_differ"] = differs
    return out


def _chain(msg: Any, side: str, s: TlsSession) -> list[bytes]:
    """A Certificate message's certificates (DER), the first MAX_CHAIN_CERTIFICATES of them;
    the others are counted in the session's ``dropped``."""
    ders: list[bytes] = msg.ders
    if len(ders) > MAX_CHAIN_CERTIFICATES:
        s.drop(side + "_certificates", len(ders) - MAX_CHAIN_CERTIFICATES)
        del ders[MAX_CHAIN_CERTIFICATES:]
    return ders


def _negotiated(conn: Connection, s: TlsSession, sh: Any, hrr: Any, extra: dict[str, Any]) -> None:
    """Version, cipher suite and ALPN as the server's answer says (a ServerHello, else a
    HelloRetryRequest, else a ServerHello cut short or an SSLv2 server hello)."""
    conn.alpn = None
    if sh is not None:
        conn.version_code = version = sh.version
        conn.version = tables.version_name(version)
        conn.cipher_code = sh.cipher_suite
        conn.cipher = tables.cipher_name(sh.cipher_suite)
        alpn = sh.ext(16)
        decoded = alpn.decoded if alpn else None  # (read once: a shared extension's is a copy)
        if decoded and decoded.get("protocols"):
            conn.alpn = decoded["protocols"][0]
    elif hrr is not None:
        # Only a HelloRetryRequest came back: it already names the version and suite.
        conn.version_code = version = hrr.version
        conn.version = tables.version_name(version)
        conn.cipher_code = hrr.cipher_suite
        conn.cipher = tables.cipher_name(hrr.cipher_suite)
    else:
        conn.cipher_code = conn.cipher = None
        if s.partial_server_version is not None:
            conn.version_code = s.partial_server_version
            conn.version = tables.version_name(s.partial_server_version)
            extra["version_from_partial_server_hello"] = True
        elif s.sslv2_server_hello is not None:
            conn.version_code = 2
            conn.version = "SSLv2"
        else:
            conn.version_code = conn.version = None


def reportable(tcp: Conversation, tls_ports: Any) -> bool:
    """Report this conversation? TLS seen, or TLS was expected here (a TLS port, a plain-text
    server's complaint about TLS, a connection attempt to a port TLS was seen on)."""
    s = cast(TlsSession, tcp.consumer)
    if s.tls_seen:
        return True
    ports = set(tcp.port)
    if ports & TLS_PORTS or ports & tls_ports:
        return True
    if s.plain_text_has(_HTTPS_PORT_ERRORS):
        return True
    if _http_request_unanswered(tcp, s):
        return True
    prelude = s.layers[0].prelude
    if prelude and worth_reporting(prelude.result(tcp.port[1 - tcp.client_side()])):
        return True  # a STARTTLS exchange: TLS asked for, refused or not offered
    client_dir = tcp.client_dir
    if not any(tcp.payload_bytes) and tcp.isn[0 if client_dir is None else client_dir] is not None:
        # A connection attempt that never got to data: refused or unanswered SYN.
        client = client_dir if client_dir is not None else 0
        return tcp.isn[1 - client] is None
    return False


def _http_request_unanswered(tcp: Conversation, s: TlsSession) -> bool:
    """The client sent an HTTP request and the server closed (FIN or RST) without a byte: an
    HTTP server answers even a bad request; a TLS server that reads no ClientHello just closes
    (HAProxy, Node.js, Go), so plain HTTP went to a TLS port."""
    client = tcp.client_side()
    server = 1 - client
    plain = s.layers[client].plain
    if plain is None or plain.name != "HTTP request" or tcp.payload_bytes[server]:
        return False
    return tcp.fin[server] is not None or tcp.rst[server] is not None


def server_port(tcp: Conversation) -> Optional[int]:
    """The server's port when the conversation spoke TLS (what makes a port a TLS port)."""
    if cast(TlsSession, tcp.consumer).tls_seen:
        port: int = tcp.port[1 - tcp.client_side()]
        return port
    return None


def _record_dicts(records: list[tuple[int, float, int, int, bool]]) -> list[dict[str, Any]]:
    """``last_records`` entries as reported. Records of one segment share its time object, so
    the rounding runs once per segment, not once per record."""
    out = []
    prev: Optional[float] = None
    rounded = 0.0
    for (f, t, ct, ln, p) in records:
        if t is not prev:
            prev = t
            rounded = round6(t)
        out.append({"frame": f, "time": rounded, "content_type": ct, "length": ln, "protected": p})
    return out


# Formatted addresses: a server's address comes back on all its connections, a client's on
# each of its ports (and IPv6 formatting is slow). Bounded: cleared when full.
_ENDPOINTS_MAX = 4096  # (docs/limits.md)
_hosts: dict[bytes, str] = {}


def _endpoint(addr: bytes, port: int) -> str:
    text = _hosts.get(addr)
    if text is None:
        text = format_host(addr)
        if len(_hosts) >= _ENDPOINTS_MAX:
            _hosts.clear()
        _hosts[addr] = text
    return f"{text}:{port}"


def _key_log_ids(s: Any) -> tuple[bytes, ...]:
    """Connection.key_log_ids: the ClientHellos' randoms, and the encrypted pre-master's first
    8 bytes (an RSA key log line's identifier; its 2-byte length prefix left out, as decryption
    does)."""
    ids = [ch.random for _, ch in s.client_hellos]
    body = s.client_key_exchange_body
    if len(body) > 10:
        premaster = body[2:] if ((body[0] << 8) | body[1]) == len(body) - 2 else body
        ids.append(bytes(premaster[:8]))
    return tuple(ids)
