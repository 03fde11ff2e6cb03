"""TCP connection tracking: the table of conversations, their numbering and their end.

Every TCP conversation gets a stream number the way Wireshark assigns ``tcp.stream``: in the
order conversations are first seen, all TCP counted (TLS or not), and a SYN whose initial
sequence number differs from the one already seen in that direction starts a new
conversation on the same addresses and ports (port reuse).

A connection is handed out (``finished``) when it has closed (RST, or FIN from both sides)
and stayed quiet for a short linger time, when it idles out, when port reuse replaces it, or
when the capture ends; that is what lets ``iter_connections`` run in bounded memory.
"""

from __future__ import annotations

import zlib
from operator import itemgetter
from typing import Any, Optional, Union

from .model import Alert, Connection, DirectionStats, Event, TcpClose, round6, timeline_events
from .packet import _SPLIT_KEY, ACK, FIN, ICMP_QUOTE, PSH, RST, SYN, flow_key, format_host
from .session import NONE_PAIR, TlsSession, pair_with
from .tcp import StreamReassembler
from . import tables

# Ports where TLS is expected (a connection to them is reported even if no TLS appeared).
TLS_PORTS = frozenset((443, 465, 563, 585, 614, 636, 853, 989, 990, 992, 993, 994, 995, 1443,
                       2376, 3269, 4443, 5061, 5223, 5986, 6443, 6697, 8443, 8883, 9443, 10443))
CLOSED_LINGER = 2.0  # seconds of capture time a closed connection waits for stragglers
IDLE_TIMEOUT = 300.0  # seconds without a packet before an open connection is handed out
SWEEP_INTERVAL = 1.0  # seconds of capture time between sweeps of the table
TOMBSTONE_TTL = 120.0  # a retired connection's addresses keep its stream number this long
# Memory budget (like Suricata's flow memcap and emergency timeouts): with more than
# BUSY_ACTIVE connections open, those idle for BUSY_IDLE_TIMEOUT are handed out at once (and
# say so), closed ones after BUSY_CLOSED_LINGER; above MAX_ACTIVE, the longest idle are handed
# out whatever their idle time.
BUSY_ACTIVE = 2_000
BUSY_IDLE_TIMEOUT = 5.0
BUSY_CLOSED_LINGER = 0.5  # and closed connections wait this long instead of CLOSED_LINGER
MAX_ACTIVE = 20_000

_CONTROL = SYN | FIN | RST
SYN_OR_QUOTE = SYN | ICMP_QUOTE  # (an ICMP quote has no other flag)
# TCP flags byte -> (any of SYN/FIN/RST, ACK, RST) as booleans: TcpConnection.packet indexes this
# once per packet instead of computing three ``&`` (each a generic binary operation in CPython).
_FLAG_BITS: tuple[tuple[bool, bool, bool], ...] = tuple(
    (bool(f & _CONTROL), bool(f & ACK), bool(f & RST)) for f in range(256))
# And for a control packet: TCP flags byte -> (SYN, FIN) as booleans.
_SYN_FIN: tuple[tuple[bool, bool], ...] = tuple((bool(f & SYN), bool(f & FIN)) for f in range(256))
# A segment's flags (an ICMP quote's included) -> whether it needs FlowTable.flow even for a known
# conversation (SYN, or an ICMP quote): analyzer._run's test per packet, without the "&".
NEEDS_FLOW_TABLE: tuple[bool, ...] = tuple(bool(f & SYN_OR_QUOTE) for f in range(ICMP_QUOTE + 1))
_ALERT_LEVELS = {1: "warning", 2: "fatal"}
_ZERO_PAIR = (0, 0)
_BY_FRAME = itemgetter(1)  # timeline tuples: (direction, frame, time, type, info)
# Names of directions 0 and 1, by which direction is the client's.
_NAMES: tuple[tuple[str, str], tuple[str, str]] = (("client", "server"), ("server", "client"))
_new_object = object.__new__
_NO_ENTRY = (None, 0)  # FlowTable._retire's stand-in for a flow key not in the table

_HTTPS_PORT_ERRORS = (
    b"plain HTTP request was sent to HTTPS port",
    b"speaking plain HTTP to an SSL-enabled server port",
    b"Client sent an HTTP request to an HTTPS server",
)


class TcpConnection:
    """One TCP conversation being tracked."""

    __slots__ = (
        "stream", "addr", "port", "reasm", "client_dir", "role_source", "isn", "first_frame",
        "last_frame", "first_ts", "last_ts", "packets", "payload_bytes", "tcp_events", "fin",
        "rst", "session", "ttls", "closed_at", "syn_seen", "midstream", "rst_ttl", "rst_mid_record",
        "tentative", "early_retire", "retire_seq", "keys",
    )
    shadow = False  # analysed here (see ShadowConnection)

    def __init__(self, stream: int, src: bytes, sport: int, dst: bytes, dport: int, frame: int, ts: float):
        self.stream = stream
        self.addr = (src, dst)
        self.port = (sport, dport)
        self.reasm = (StreamReassembler(), StreamReassembler())
        self.client_dir: Optional[int] = None
        self.role_source = "port"
        self.isn: list[Optional[int]] = [None, None]
        self.first_frame = frame
        self.last_frame = frame
        self.first_ts = ts
        self.last_ts = ts
        self.packets = [0, 0]
        self.payload_bytes = [0, 0]
        self.tcp_events: list[tuple[int, int, float, str, dict[str, Any]]] = []
        # fin, rst, rst_ttl, rst_mid_record and tentative: per direction, immutable pairs that
        # start shared and are replaced on write (session.pair_with): most stay untouched.
        self.fin: tuple[Optional[tuple[int, float]], Optional[tuple[int, float]]] = NONE_PAIR
        self.rst: tuple[Optional[tuple[int, float]], Optional[tuple[int, float]]] = NONE_PAIR
        self.session = TlsSession()
        self.ttls: list[list[int]] = [[], []]  # first TTLs per direction (middlebox evidence)
        self.rst_ttl: tuple[Optional[int], Optional[int]] = NONE_PAIR
        self.rst_mid_record: tuple[int, int] = _ZERO_PAIR
        self.tentative: tuple[Any, Any] = NONE_PAIR  # (seq, zeros, frame, time) held per direction
        self.closed_at: Optional[float] = None
        self.syn_seen = False
        self.midstream = False
        self.early_retire: Optional[str] = None  # why it was handed out before its idle timeout
        self.retire_seq = -1  # position in the table's retirement order (the order results come out)

    def packet(self, d: int, frame: int, ts: float, seq: int, ack: int, flags: int, payload: bytes, ttl: int) -> None:
        self.last_frame = frame
        self.last_ts = ts
        self.packets[d] += 1
        control, acks, rst = _FLAG_BITS[flags]
        ttls = self.ttls[d]
        if len(ttls) < 4 and not rst:
            ttls.append(ttl)
        if control:
            # SYN, FIN and RST: sequence origins, roles and the end of the conversation (here, not
            # in a method of their own: a call less for each of a short connection's five or so).
            syn, fin = _SYN_FIN[flags]
            if syn:
                if self.isn[d] is None:
                    self.isn[d] = seq
                    self.reasm[d].syn(seq)
                    kind = "syn_ack" if acks else "syn"
                    self.tcp_events.append((d, frame, ts, kind, {}))
                elif self.isn[d] != seq and not self.payload_bytes[d]:
                    # A repeated SYN(-ACK) with another ISN before any data: which one counts is
                    # decided by the first data segment (see StreamReassembler.syn_candidate).
                    self.reasm[d].syn_candidate(seq)
                if not self.syn_seen and self.packets[d] + self.packets[1 - d] <= 2:
                    self.syn_seen = True
                if self.client_dir is None or self.role_source != "syn":
                    self.client_dir = (1 - d) if acks else d
                    self.role_source = "syn"
            if fin and self.fin[d] is None:
                self.fin = pair_with(self.fin, d, (frame, ts))
                self.reasm[d].fin(seq, len(payload))
                self.tcp_events.append((d, frame, ts, "fin", {}))
                if self.fin[1 - d] is not None and self.closed_at is None:  # FIN from both sides
                    self.closed_at = ts
            if rst:
                if self.rst[d] is None:
                    self.rst = pair_with(self.rst, d, (frame, ts))
                    self.rst_ttl = pair_with(self.rst_ttl, d, ttl)
                    missing = self.session.layers[d].mid_record()
                    if missing > 0 and not self.reasm[d].pending:
                        # The sender resets while its own TLS record is unfinished: no TLS stack
                        # does that (it would finish the record or send an alert).
                        self.rst_mid_record = pair_with(self.rst_mid_record, d, missing)
                    self.tcp_events.append((d, frame, ts, "rst", {"ttl": ttl}))
                self.closed_at = ts
        if acks:
            other = self.reasm[1 - d]
            if other.pending:
                # The ACK may prove that bytes beyond a hole were received: release them now.
                self._to_session(1 - d, other.acked(ack, frame, ts))
            else:
                other.peer_ack = ack
        if payload and not rst:
            n = len(payload)
            if n <= 6 and not flags & PSH and not any(payload):
                # Maybe Ethernet padding counted as payload by a broken IP length (some taps do
                # it even on SYN-ACKs), maybe real zeros (the end of a ClientHello's padding
                # extension). Hold them: if the next segment starts at the same sequence
                # number, they were padding; otherwise they are delivered first.
                tseq = (seq + 1) & 0xFFFFFFFF if flags & SYN else seq
                held = self.tentative[d]
                if held is None or held[0] == tseq:  # (a repeat of the same zeros changes nothing)
                    if held is None:
                        self.tentative = pair_with(self.tentative, d, (tseq, payload, frame, ts))
                    return
            self.payload_bytes[d] += n
            held = self.tentative[d]
            if held is not None:
                self.tentative = pair_with(self.tentative, d, None)
                if held[0] != seq:
                    self._feed(d, held[0], held[1], held[2], held[3])
            if control and syn:  # (syn is set when control is)
                seq = (seq + 1) & 0xFFFFFFFF  # data on a SYN (TCP Fast Open) follows the SYN
            elif not self.syn_seen and self.packets[d] == 1 and not self.midstream:
                self._start_midstream()
            r = self.reasm[d]
            if seq == r.next_seq and not r.pending:
                # In order with nothing buffered (next_seq cannot match before the stream's
                # origin is known): what StreamReassembler.segment would do, without the
                # bookkeeping; the bytes go straight to the session.
                nxt = seq + n  # (seq + n) & 0xFFFFFFFF, without the slower "&" (n < 2**32)
                r.next_seq = nxt if nxt <= 0xFFFFFFFF else nxt - 0x100000000
                r.next_abs += n  # type: ignore[operator]
                session = self.session
                layer = session.layers[d]
                if layer.skip > n:
                    # The hot path of bulk transfer: inside a protected record we are skipping
                    # anyway. Account for the bytes and touch nothing else.
                    layer.skip -= n
                else:
                    session.data(d, payload, frame, ts)
                return
            self._to_session(d, r.segment(seq, payload, frame, ts))

    def _to_session(self, d: int, chunks: list) -> None:
        """Hand reassembled bytes (and holes, as ints) of direction ``d`` to the TLS session."""
        session = self.session
        for data, cframe, cts in chunks:
            if type(data) is int:
                session.gap(d, data, cframe, cts)
            else:
                session.data(d, data, cframe, cts)

    def _feed(self, d: int, seq: int, payload: bytes, frame: int, ts: float) -> None:
        self.payload_bytes[d] += len(payload)
        self._to_session(d, self.reasm[d].segment(seq, payload, frame, ts))

    def _start_midstream(self) -> None:
        self.midstream = True
        self.session.set_midstream(0)
        self.session.set_midstream(1)

    # -- the end ------------------------------------------------------------------------
    def finish(self, capture_ended: bool) -> Connection:
        """Flush what is buffered and build the result."""
        s = self.session
        last_frame = self.last_frame
        last_ts = self.last_ts
        reasm = self.reasm
        for d in (0, 1):
            held = self.tentative[d]
            if held is not None:  # zeros nothing contradicted: they were data after all
                self.tentative = pair_with(self.tentative, d, None)
                self._feed(d, held[0], held[1], held[2], held[3])
            if reasm[d].pending:
                self._to_session(d, reasm[d].flush(last_frame, last_ts))
            s.finish(d, last_frame, last_ts)
        client = self._client_dir()
        server = 1 - client
        names = _NAMES[client]
        # Timeline: TCP and TLS events merged in capture order (stable for equal frames).
        merged = self.tcp_events + s.timeline  # (a new list: sorted in place, no second copy)
        merged.sort(key=_BY_FRAME)
        anomalies = timeline_events(s.anomalies, names) if s.anomalies else []
        for r in (0, 1):
            rs = reasm[r]
            if rs.overlap_conflicts:
                anomalies.append(Event(last_frame, last_ts, names[r], "anomaly", {
                    "name": "conflicting_retransmission",
                    "detail": f"{rs.overlap_conflicts} retransmitted segment(s) carried different bytes (possible injection)"}))
            if rs.cap_hits:
                anomalies.append(Event(last_frame, last_ts, names[r], "anomaly", {
                    "name": "out_of_order_cap",
                    "detail": f"out-of-order buffer cap reached {rs.cap_hits} time(s); bytes skipped as a gap"}))
        if self.early_retire:
            anomalies.append(Event(last_frame, last_ts, names[client], "anomaly", {
                "name": "memory_budget", "detail": self.early_retire}))
        # Made without Connection.__init__ (its keyword matching and default factories were a
        # third of this method): an empty instance and every field set here, once. A field
        # added to Connection is to be set here too (tests/test_json_connection_fields.py).
        conn = _new_object(Connection)
        conn.stream = self.stream
        conn.client = _endpoint(self.addr[client], self.port[client])
        conn.server = _endpoint(self.addr[server], self.port[server])
        conn.first_frame = self.first_frame
        conn.last_frame = last_frame
        conn.start_time = self.first_ts
        conn.end_time = last_ts
        conn.role_source = self.role_source
        conn.is_tls = s.tls_seen
        conn.not_tls = (s.not_tls.get(client) or s.not_tls.get(server)) if not s.tls_seen or s.not_tls else None
        if s.client_hellos:
            conn.client_hello = s.client_hellos[0][1]
            conn.server_name = s.server_name
        else:
            conn.client_hello = conn.server_name = None
        conn.server_hello = sh = s.server_hello
        conn.hello_retry_request = hrr = s.hrr
        conn.alpn = None
        extra: dict[str, Any] = {}
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
        conn.established = s.established(client)
        conn.resumed = s.resumed()
        conn.ssl_history = s.ssl_history(client)
        conn.alerts = [Alert(f, t, names[d], _ALERT_LEVELS.get(level, None if level is None else str(level)),
                             code, None if code is None else tables.alert_name(code), enc, ln)
                       for (d, f, t, level, code, enc, ln) in s.alerts] if s.alerts else []
        conn.events = timeline_events(merged, names)
        conn.tcp_close = self._tcp_close(names)
        server_certs = s.certificates[server]
        conn.server_certificates_der = server_certs[0].ders if server_certs else []
        client_certs = s.certificates[client]
        if client_certs:
            conn.client_certificates_der = client_certs[0].ders
            conn.client_certificate_sent = bool(client_certs[0].entries)
        else:
            conn.client_certificates_der = []
            conn.client_certificate_sent = None
        conn.certificate_request = s.certificate_request
        conn.server_key_exchange = s.server_key_exchange
        conn.certificate_status = s.certificate_status
        conn.midstream = self.midstream
        conn.partial = capture_ended and self.closed_at is None
        conn.anomalies = anomalies
        layers = s.layers
        packets = self.packets
        payload_bytes = self.payload_bytes
        cl, sl = layers[client], layers[server]
        cr, sr = reasm[client], reasm[server]
        conn.client_stats = DirectionStats(packets[client], payload_bytes[client], cl.records, cl.protected_records,
                                           cl.bytes_by_type.get(23, 0), cr.retransmitted, cr.gaps, cr.gap_bytes)
        conn.server_stats = DirectionStats(packets[server], payload_bytes[server], sl.records, sl.protected_records,
                                           sl.bytes_by_type.get(23, 0), sr.retransmitted, sr.gaps, sr.gap_bytes)
        conn.last_records = {"client": _record_dicts(cl.recent_records()), "server": _record_dicts(sl.recent_records())}
        conn.diagnosis = None
        conn.extra = extra
        conn.extra_json = None
        dec = s.decryption_summary()
        if dec is not None:
            extra["decryption"] = dec
        rst_mid = self.rst_mid_record
        if rst_mid[0] or rst_mid[1]:
            extra["rst_mid_record"] = {names[d]: rst_mid[d] for d in (0, 1) if rst_mid[d]}
        rst_ttl = self.rst_ttl
        rst_ttls: dict[str, int] = {}  # (no comprehension: one function call less per connection)
        if rst_ttl[0] is not None:
            rst_ttls[names[0]] = rst_ttl[0]
        if rst_ttl[1] is not None:
            rst_ttls[names[1]] = rst_ttl[1]
        ttls = self.ttls
        extra["ttl"] = {names[0]: ttls[0], names[1]: ttls[1], "rst": rst_ttls}
        return conn

    def _client_dir(self) -> int:
        if self.role_source == "syn" and self.client_dir is not None:
            return self.client_dir
        hint = self.session.client_dir_hint
        if hint is not None:
            self.role_source = "client_hello"
            return hint
        self.role_source = "port"
        p0, p1 = self.port
        if (p1 in TLS_PORTS) != (p0 in TLS_PORTS):
            return 0 if p1 in TLS_PORTS else 1
        return 0 if p0 >= p1 else 1  # the ephemeral (higher) port is the client's

    def _tcp_close(self, names: tuple[str, str]) -> Optional[TcpClose]:
        """The first FIN or RST (an RST before a FIN of the same frame, direction 0 first)."""
        first: Optional[tuple[int, float]] = None
        by = how = ""
        for d in (0, 1):
            mark = self.rst[d]
            if mark is not None and (first is None or mark[0] < first[0]):
                first, by, how = mark, names[d], "rst"
            mark = self.fin[d]
            if mark is not None and (first is None or mark[0] < first[0]):
                first, by, how = mark, names[d], "fin"
        if first is None:
            return None
        return TcpClose(by, how, first[0], first[1])  # (positional: keyword matching cost more than the rest)

    def interesting(self, tls_ports: set[int]) -> bool:
        """Report this connection? TLS seen, or TLS was expected here."""
        s = self.session
        if s.tls_seen:
            return True
        ports = set(self.port)
        if ports & TLS_PORTS or ports & tls_ports:
            return True
        for layer in s.layers:
            if any(m in layer.plain_sample for m in _HTTPS_PORT_ERRORS):
                return True
        if not any(self.payload_bytes) and self.isn[0 if self.client_dir is None else self.client_dir] is not None:
            # A connection attempt that never got to data: refused or unanswered SYN.
            client = self.client_dir if self.client_dir is not None else 0
            return self.isn[1 - client] is None
        return False


class ShadowConnection:
    """A conversation another worker analyses (a sharded run, ``--jobs`` on one file).

    Every worker reads every packet; it tracks the other workers' conversations only as far
    as the shared decisions need them — where a conversation starts (stream numbers), when it
    closes or idles out (retirement order, the open-connection budget) and its tombstone — so
    that all workers number and order connections exactly as a single process does.
    """

    __slots__ = ("stream", "addr", "port", "isn", "packets", "fin", "closed_at", "last_frame", "last_ts",
                 "early_retire", "retire_seq", "keys")
    shadow = True

    def __init__(self, stream: int, src: bytes, sport: int, dst: bytes, dport: int, frame: int, ts: float):
        self.stream = stream
        self.addr = (src, dst)
        self.port = (sport, dport)
        self.isn: list[Optional[int]] = [None, None]
        self.packets = [0, 0]
        self.fin = [False, False]
        self.closed_at: Optional[float] = None
        self.last_frame = frame
        self.last_ts = ts
        self.early_retire: Optional[str] = None
        self.retire_seq = -1

    def packet(self, d: int, frame: int, ts: float, seq: int, ack: int, flags: int, payload: bytes, ttl: int) -> None:
        # The same state changes as TcpConnection.packet makes to these fields.
        self.last_frame = frame
        self.last_ts = ts
        self.packets[d] += 1
        if flags & (SYN | FIN | RST):
            if flags & SYN and self.isn[d] is None:
                self.isn[d] = seq
            if flags & FIN:
                self.fin[d] = True
            if flags & RST:
                self.closed_at = ts
            if self.fin[0] and self.fin[1] and self.closed_at is None:
                self.closed_at = ts


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


def shard_of(src: bytes, sport: int, dst: bytes, dport: int, shards: int) -> int:
    """Which of ``shards`` workers analyses this conversation (the same for both directions,
    and in every process: crc32, not Python's per-process salted hash)."""
    return zlib.crc32(_tomb_key(src, sport, dst, dport)) % shards


def _reverse(key: bytes) -> bytes:
    """The flow key of the other direction."""
    n = (len(key) - 4) >> 1
    return key[n:2 * n] + key[:n] + key[-2:] + key[-4:-2]


def _tomb_key(src: bytes, sport: int, dst: bytes, dport: int) -> bytes:
    """One compact key for both directions of a conversation (shard_of's)."""
    a = src + sport.to_bytes(2, "big")
    b = dst + dport.to_bytes(2, "big")
    return a + b if a <= b else b + a


Conversation = Union[TcpConnection, ShadowConnection]


class FlowTable:
    """All TCP conversations of a capture, keyed by both directions' 4-tuples."""

    def __init__(self, busy_active: int = BUSY_ACTIVE, max_active: int = MAX_ACTIVE,
                 shard: Optional[tuple[int, int]] = None) -> None:
        self.busy_active = busy_active
        self.max_active = max_active
        self.shard = shard  # (this worker, workers): analyse only the conversations shard_of gives us
        self.retired = 0  # connections retired so far (shadows included): the retire_seq counter
        self.table: dict[bytes, tuple[Conversation, int]] = {}  # flow key -> (conversation, direction)
        self.active: dict[int, Conversation] = {}
        self.next_stream = 0
        self.done: list[TcpConnection] = []
        self.tls_ports: set[int] = set()  # server ports TLS was seen on, in this capture
        self.keylog: Any = None  # tlsdissect.keylog.KeyLog when decrypting
        # Addresses of retired connections (the lesser of the two directions' flow keys) ->
        # retired at, in retirement order so that expiry pops from the front.
        self.tombstones: dict[bytes, float] = {}
        self.stragglers = 0
        self.early_retired = 0  # connections handed out early by the memory budget
        self._last_sweep = None  # type: Optional[float]

    def packet(self, frame: int, ts: float, seg: tuple) -> None:
        """One segment in decode_tcp's form (src, dst, sport, dport, seq, ack, flags, payload, ttl)."""
        src, dst, sport, dport, seq, ack, flags, payload, ttl = seg
        self.flow(frame, ts, (flow_key(src, dst, sport, dport), seq, ack, flags, payload, ttl))

    def flow(self, frame: int, ts: float, seg: tuple) -> None:
        """One segment in decode_flow's form (key, seq, ack, flags, payload, ttl): the per-packet path
        (analyzer._run handles its commonest case, a known conversation's packet without SYN, itself)."""
        key, seq, ack, flags, payload, ttl = seg
        entry = self.table.get(key)
        if entry is None:
            if self.tombstones and not (flags & SYN and not flags & ACK) \
                    and min(key, _reverse(key)) in self.tombstones:
                # A straggler (late ACK, retransmitted FIN) of a connection already handed out:
                # it belongs to that stream number, and carries nothing we still need.
                self.stragglers += 1
                return
            conn = self._new(key, frame, ts)
            if flags & ICMP_QUOTE:  # Wireshark numbers the quoted conversation; so do we
                return
            d = 0
        else:
            conn, d = entry
            if flags & SYN_OR_QUOTE and not flags & ACK:
                if flags & ICMP_QUOTE:
                    return
                isn = conn.isn[d]
                if (isn is not None and isn != seq) or (isn is None and conn.packets[d] and conn.closed_at is not None):
                    # A new connection on the same addresses and ports.
                    self._retire(conn, ts)
                    conn = self._new(key, frame, ts)
                    d = 0
        conn.packet(d, frame, ts, seq, ack, flags, payload, ttl)

    def _new(self, key: bytes, frame: int, ts: float) -> Conversation:
        """A conversation whose first packet went ``key``'s way (that is direction 0)."""
        src, dst, sport, dport = _SPLIT_KEY[len(key)](key)  # split_key(key), without the call
        conn: Conversation
        if self.shard is not None and shard_of(src, sport, dst, dport, self.shard[1]) != self.shard[0]:
            conn = ShadowConnection(self.next_stream, src, sport, dst, dport, frame, ts)
        else:
            conn = TcpConnection(self.next_stream, src, sport, dst, dport, frame, ts)
            conn.session.keylog = self.keylog
        self.next_stream += 1
        back = dst + src + key[-2:] + key[-4:-2]  # _reverse(key), without the call
        conn.keys = (key, back)  # (for _retire)
        self.table[key] = (conn, 0)
        self.table[back] = (conn, 1)
        self.active[conn.stream] = conn
        return conn

    def _retire(self, conn: Conversation, now: float) -> None:
        """Hand ``conn`` out at capture time ``now``; its addresses keep a tombstone from then."""
        self.active.pop(conn.stream, None)
        conn.retire_seq = self.retired
        self.retired += 1
        table = self.table
        key, back = conn.keys
        # Both directions' entries go, when they are still this conversation's (a later one on the
        # same addresses and ports may hold them by now); _NO_ENTRY stands for a missing one.
        mine = table.get(key, _NO_ENTRY)[0] is conn
        if mine:
            del table[key]
        if table.get(back, _NO_ENTRY)[0] is conn:
            del table[back]
            mine = True
        if mine:
            tkey = key if key <= back else back
            self.tombstones.pop(tkey, None)  # re-inserted at the end: the dict stays in time order
            self.tombstones[tkey] = now
        if not conn.shadow:
            self.done.append(conn)

    def sweep(self, now: float) -> None:
        """Retire connections that closed a while ago or went idle (capture time)."""
        if self._last_sweep is not None and now - self._last_sweep < SWEEP_INTERVAL:
            return
        self._last_sweep = now
        busy = len(self.active) > self.busy_active
        idle_timeout = BUSY_IDLE_TIMEOUT if busy else IDLE_TIMEOUT
        linger = BUSY_CLOSED_LINGER if busy else CLOSED_LINGER
        quiet = min(linger, idle_timeout)  # a connection quiet for less stays, closed or not
        for conn in list(self.active.values()):
            idle = now - conn.last_ts
            if idle <= quiet:
                continue
            if idle > linger and conn.closed_at is not None:
                self._retire(conn, now)
            elif idle > idle_timeout:
                if busy and idle <= IDLE_TIMEOUT:
                    self._early(conn, f"handed out after {idle:.1f} s without packets because more "
                                      f"than {self.busy_active} connections were open (memory budget); later packets "
                                      "of this connection are not analysed")
                self._retire(conn, now)
        if len(self.active) > self.max_active:
            for conn in sorted(self.active.values(), key=lambda c: c.last_ts)[: len(self.active) - self.max_active]:
                self._early(conn, f"handed out because more than {self.max_active} connections were open "
                                  "(memory budget); later packets of this connection are not analysed")
                self._retire(conn, now)
        tombs = self.tombstones
        while tombs:
            k = next(iter(tombs))
            if now - tombs[k] <= TOMBSTONE_TTL:
                break
            del tombs[k]

    def _early(self, conn: Conversation, why: str) -> None:
        conn.early_retire = why
        self.early_retired += 1

    def retire_all(self) -> None:
        for conn in list(self.active.values()):
            self._retire(conn, conn.last_ts)

    def take_done(self) -> list[TcpConnection]:
        done = self.done
        self.done = []
        return done

    def note_tls(self, conn: TcpConnection) -> None:
        if conn.session.tls_seen:
            client = conn._client_dir()
            self.tls_ports.add(conn.port[1 - client])
