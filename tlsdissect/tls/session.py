"""The TLS view of one connection: two record layers and what their events mean together.

It turns record events into the timeline, parses handshake messages, follows the negotiated
version (which decides how later records are read), and at the end derives the summary fields
(version, cipher, SNI, established, resumed, ssl_history). Directions are indexes 0/1 (0 = the
side whose packet was seen first); the client/server naming is resolved when the connection is
finished, because the roles may only become clear later (e.g. from the ClientHello).

The record layers also hand the bytes of a direction that is not in TLS yet to the plain-text
prelude's reader (tlsdissect.starttls: STARTTLS and its kin; tls.streamstart.start_prelude).

The session is the TCP stage's consumer (tcp.consumer) and its record layers' sink; what it
keeps of each handshake message is written by :mod:`~tlsdissect.tls.handlers`, decryption with
a key log is a :class:`~tlsdissect.tls.decryption.Decryption` of its own, and the summaries of
a finished session are :mod:`~tlsdissect.tls.conclusions` (bound here as methods).
"""

from __future__ import annotations

from typing import Any, Optional, Union

from tlsdissect.directions import NONE_PAIR, pair_with
from tlsdissect.results.listcaps import MAX_ALERTS, MAX_ANOMALIES, MAX_EVENTS, MAX_HANDSHAKE_TYPES, MAX_POST_HANDSHAKE
from tlsdissect.tls import conclusions, framed
from tlsdissect.tls import handshake as hs
from tlsdissect.tls import tables
from tlsdissect.tls.decryption import Decryption, null_cipher_decryptor
from tlsdissect.tls.handlers import EMPTY2, NOT_PARSED, ON_MESSAGE, on_sslv2_hello, parse_in_context
from tlsdissect.tls.handshake import FINISHED
from tlsdissect.tls.httpwatch import HttpWatch
from tlsdissect.tls.transcript import collect as collect_transcript
from tlsdissect.tls.records import CT_APPLICATION_DATA, RecordEvent, RecordLayer

# Zeek's ssl_history letters (client upper case, server lower case).
_HISTORY_LETTERS = {
    0: "h", 1: "c", 2: "s", 3: "v", 4: "t", 5: "e", 6: "j", 8: "o", 11: "x", 12: "k", 13: "r",
    14: "n", 15: "y", 16: "g", 20: "f", 21: "w", 22: "u", 23: "a", 24: "p", 254: "m",
}
HISTORY_LETTERS = _HISTORY_LETTERS  # (read by the views for DTLS and QUIC handshakes: report.udp_rows)
MAX_HISTORY = 100
MAX_TIMELINE_PROTECTED = 24  # protected records listed in the timeline per direction

_ALERT_LEVELS = {1: "warning", 2: "fatal"}
_SSLV2_MESSAGES = {2: "sslv2_client_master_key", 3: "sslv2_client_finished", 5: "sslv2_server_verify",
                   6: "sslv2_server_finished", 7: "sslv2_request_certificate", 8: "sslv2_client_certificate",
                   0: "sslv2_error"}
# Per handshake message type, filled as types are met (at most 256 entries): its name and its
# ssl_history letter as sent by direction 0 and by direction 1 (one look-up per message).
_MESSAGE_NAMES: dict[int, tuple[str, str, str]] = {}
_HRR_LETTERS = ("J", "j")  # a HelloRetryRequest's letter by direction
# A kept message type's handler, or None: handlers.ON_MESSAGE.get bound once. (Not a method call
# in on_handshake: CPython 3.11 compiles a method call on an imported name as an attribute load,
# as for a module, which would bind a new method object at every message.)
_handler_for = ON_MESSAGE.get

# Shared defaults of per-connection state that most connections never write: a pair is an
# immutable tuple replaced on write (pair_with), a collection is created at its first entry
# (and handlers.EMPTY2 for a pair of lists).


def _level_name(level: Optional[int]) -> Union[str, int, None]:
    """An alert level's name, or the number itself when it has none (typed for mypyc, which
    checks what a dict's ``get`` returns against the dict's value type)."""
    return None if level is None else _ALERT_LEVELS.get(level, level)


def _message_names(msg_type: int) -> tuple[str, str, str]:
    letter = _HISTORY_LETTERS.get(msg_type, "z")
    names = _MESSAGE_NAMES[msg_type] = (hs.message_name(msg_type), letter.upper(), letter)
    return names


class TlsSession:
    """Per-connection TLS state; fed by the TCP layer with contiguous bytes per direction."""

    # Slots: one session per open connection, and a busy capture has thousands open.
    __slots__ = (
        "after_ccs_record",
        "alerts",
        "anomalies",
        "anomaly_index",
        "app_data_records",
        "ccs",
        "certificate_request",
        "certificate_status",
        "certificates",
        "cipher",
        "client_dir_hint",
        "client_hellos",
        "client_key_exchange_body",
        "ctx",
        "decryption",
        "dropped",
        "finished",
        "first_data_frame",
        "handshake_messages",
        "history",
        "hrr",
        "http",
        "keylog",
        "latest_server_hello",
        "layers",
        "not_tls",
        "partial_server_version",
        "post_handshake",
        "protected_log",
        "server_hello",
        "server_hello_dir",
        "server_hellos_seen",
        "server_certificate_verify_signed",
        "server_key_exchange",
        "server_key_exchange_signed",
        "server_name",
        "sslv2_server_hello",
        "timeline",
        "tls_seen",
        "transcript13",
        "version",
    )

    def __init__(self) -> None:
        self.layers = (RecordLayer(0), RecordLayer(1))
        # Timeline as (direction, frame, time, type, info) — names resolved at the end.
        self.timeline: list[tuple[int, int, float, str, dict[str, Any]]] = []
        self.anomalies: Any = ()  # list[(direction, frame, time, type, info)], created when needed
        # The kept anomalies by (direction, name, detail), to fold a repeat into its first
        # occurrence (a "count" in its info); created with the list.
        self.anomaly_index: Any = None
        # Entries not kept by the caps of results.listcaps, by list ("alerts", "events", ...).
        self.dropped: dict[str, int] = {}
        self.client_hellos: list[tuple[int, Any]] = []  # (direction, ClientHello)
        self.server_name: Optional[str] = None  # of the first ClientHello (read once: a property)
        self.ctx: Optional[hs.ParseContext] = None  # see handlers.parse_in_context
        self.server_hello: Optional[hs.ServerHello] = None
        self.server_hello_dir: Optional[int] = None
        self.hrr: Optional[hs.ServerHello] = None
        self.server_hellos_seen = 0
        self.partial_server_version: Optional[int] = None
        self.latest_server_hello: Optional[hs.ServerHello] = None
        self.sslv2_server_hello: Optional[hs.Sslv2ServerHello] = None
        self.version: Optional[int] = None
        self.cipher: Optional[int] = None
        self.certificates: Any = EMPTY2  # per direction: list[hs.Certificate] (lists made on first write)
        self.certificate_request: Optional[hs.CertificateRequest] = None
        self.server_key_exchange: Optional[hs.ServerKeyExchange] = None
        # (client random, server random, body) of that ServerKeyExchange when it carries a
        # signature: what x509.handshake_signature checks against the server's certificate.
        self.server_key_exchange_signed: Optional[tuple[bytes, bytes, bytes]] = None
        # TLS 1.3 with a key log: the messages up to the server's CertificateVerify (tls.transcript),
        # then (transcript hash, signature scheme, signature) of that CertificateVerify.
        self.transcript13: Any = None
        self.server_certificate_verify_signed: Optional[tuple[bytes, int, bytes]] = None
        self.certificate_status: Optional[hs.CertificateStatus] = None
        # Pairs by direction: tuples replaced on write (pair_with); the lists of protected_log are
        # made at the first protected record.
        self.ccs: tuple[Optional[tuple[int, float]], Optional[tuple[int, float]]] = NONE_PAIR
        self.after_ccs_record: tuple[Optional[tuple[int, float, int]], Optional[tuple[int, float, int]]] = NONE_PAIR
        self.protected_log: Any = EMPTY2
        # ssl_history letters, cased as if direction 0 were the client (swapcase() gives the
        # other reading); only the first MAX_HISTORY are kept, only those are reported.
        self.history: list[str] = []
        # list[(direction, frame, time, level, code, encrypted, length)], created at the first alert
        self.alerts: Any = ()
        self.not_tls: dict[int, str] = {}
        self.tls_seen = False
        self.client_dir_hint: Optional[int] = None  # from the ClientHello/ServerHello
        self.handshake_messages: list[list[int]] = [[], []]  # plaintext types by direction
        self.app_data_records: list[int] = [0, 0]
        # Decryption, only with a key log (set by the pipeline): made at the first ServerHello.
        self.keylog: Any = None  # tlsdissect.keys.keylog.KeyLog
        self.decryption: Optional[Decryption] = None
        self.client_key_exchange_body: bytes = b""
        self.finished: tuple[Optional[int], Optional[int]] = NONE_PAIR  # frame of each side's Finished
        self.first_data_frame: tuple[Optional[int], Optional[int]] = NONE_PAIR  # decrypted app data
        self.post_handshake: Any = ()  # list[(dir, frame, message)] after both Finished, from the first
        self.http: Optional[HttpWatch] = None  # HTTP in the decrypted data, made at its first record

    # -- input from the TCP layer -------------------------------------------------------
    def data(self, d: int, data: bytes, frame: int, ts: float) -> None:
        """Contiguous stream bytes of direction ``d`` (the TCP stage's in-order delivery)."""
        layer = self.layers[d]
        skip = layer.skip
        if skip > len(data) and layer.framing is None:
            # The hot path of bulk transfer: inside a protected record that is skipped anyway,
            # account for the bytes and touch nothing else (RecordLayer.feed's own fast path,
            # without its call).
            layer.skip = skip - len(data)
            return
        # The layer hands its events straight to this session's on_* methods as it reads them
        # (no event objects for the frequent kinds, no list); set for the call only, so that the
        # layer holds no reference to its session between calls (no cycle to collect).
        layer.sink = self
        if layer.framing is not None:  # TLS inside another protocol's units
            framed.feed(layer, data, frame, ts)
        else:
            layer.feed(data, frame, ts)
            while layer.paused:
                layer.feed(b"", frame, ts)
        layer.sink = None

    def gap(self, d: int, missing: int, frame: int, ts: float) -> None:
        for ev in self.layers[d].gap(missing, frame, ts):
            self.on_event(d, ev)

    def finish(self, d: int, frame: int, ts: float) -> None:
        layer = self.layers[d]
        while layer.buf:  # (an empty record buffer has nothing to flush)
            events = layer.finish(frame, ts)
            for ev in events:
                self.on_event(d, ev)
            if not layer.paused or not events:
                break
            layer.paused = False
        hsbuf = layer.hs
        if self.server_hello is None and len(hsbuf) >= 6 and hsbuf[0] == hs.SERVER_HELLO and self.client_hellos:
            # A ServerHello cut short (reset, capture end). Its legacy_version is the
            # negotiated version when the client offered nothing above TLS 1.2.
            legacy = (hsbuf[4] << 8) | hsbuf[5]
            if self.client_hellos[0][1].max_version <= 0x0303 and 0x0300 <= legacy <= 0x0303:
                self.partial_server_version = legacy
                if self.client_dir_hint is None:
                    self.client_dir_hint = 1 - d

    def plain_text_has(self, markers: tuple[bytes, ...]) -> bool:
        """Whether the first plain-text bytes of either direction (a stream that is not TLS)
        contain one of ``markers``."""
        return any(m in layer.plain.sample for layer in self.layers if layer.plain is not None for m in markers)

    def mid_record(self, d: int) -> int:
        """Bytes of a record direction ``d`` has started but not finished (0 between records):
        a reset in the middle of a record is a middlebox's, not a TLS stack's."""
        return self.layers[d].mid_record()

    def set_midstream(self, d: int) -> None:
        self.layers[d].midstream = True

    # -- record events ------------------------------------------------------------------
    # The record layer's sink interface (see RecordLayer.sink): on_event and the on_* methods
    # below; a sink sees each event as it is read, so the layer need not pause after a hello.
    def on_event(self, d: int, ev: RecordEvent) -> None:
        """Dispatch one record event: the frequent kinds by table, the rest in _other_event."""
        _HANDLERS.get(ev.kind, _other_event)(self, d, ev)

    pauses = False

    def _other_event(self, d: int, ev: RecordEvent) -> None:
        kind = ev.kind
        if kind == "ccs":
            self.on_ccs(d, ev.frame, ev.time, ev.length, ev.body, ev.encrypted, ev.record_version)
        elif kind == "application_data":  # decrypted application data
            self.app_data_records[d] += 1
            if self.first_data_frame[d] is None:
                self.first_data_frame = pair_with(self.first_data_frame, d, ev.frame)
            if self.app_data_records[d] == 1:
                info: dict[str, Any] = {"length": ev.length, "encrypted": ev.encrypted}
                if ev.body:
                    info["preview"] = ev.body[:64].decode("latin-1")
                self.add_event((d, ev.frame, ev.time, "application_data", info))
            if ev.body:
                self._http(d, ev.body, ev.frame)
        elif kind == "heartbeat":
            self.tls_seen = True
            self.note(d, "b")
            self.add_event((d, ev.frame, ev.time, "heartbeat", {"length": ev.length}))
        elif kind in ("sslv2_client_hello", "sslv2_server_hello"):
            self.tls_seen = True
            on_sslv2_hello(self, d, ev)
        elif kind == "sslv2_message":
            self.add_event((d, ev.frame, ev.time, "handshake",
                                  {"message": _SSLV2_MESSAGES.get(ev.msg_type, f"sslv2_message_{ev.msg_type}"),
                                   "code": ev.msg_type, "length": ev.length, "encrypted": False, "sslv2": True}))
        elif kind == "not_tls":
            self.not_tls[d] = ev.detail
            self.add_event((d, ev.frame, ev.time, "not_tls",
                                  {"looks_like": ev.detail, "first_bytes": ev.body[:32].decode("latin-1")}))
        elif kind == "starttls":
            self.add_event((d, ev.frame, ev.time, "starttls", {"after": ev.detail}))
        elif kind == "gap":
            self.add_event((d, ev.frame, ev.time, "gap", {"bytes": ev.length, "detail": ev.detail}))
        elif kind == "anomaly":
            self.add_anomaly((d, ev.frame, ev.time, "anomaly", {"name": ev.name or "anomaly", "detail": ev.detail}))

    def on_ccs(self, d: int, frame: int, ts: float, length: int, body: bytes, decrypted: bool, version: int) -> None:
        """A ChangeCipherSpec (a "ccs" RecordEvent's fields; only its frame and time matter here)."""
        self.tls_seen = True
        if self.ccs[d] is None:
            self.ccs = pair_with(self.ccs, d, (frame, ts))
        decryption = self.decryption
        if decryption is not None and not self.tls13:
            decryption.ccs(self, d)
        layer = self.layers[d]
        if layer.decryptor is None and not self.tls13 and self.cipher is not None:
            layer.decryptor = null_cipher_decryptor(self.cipher)
        self.note(d, "i")
        timeline = self.timeline
        if len(timeline) < MAX_EVENTS:
            timeline.append((d, frame, ts, "change_cipher_spec", {}))
        else:
            self.drop("events")

    def _handshake(self, d: int, ev: RecordEvent) -> None:
        self.on_handshake(d, ev.frame, ev.time, ev.msg_type, ev.length, ev.body, ev.encrypted, ev.detail,
                          ev.record_version)

    def on_handshake(self, d: int, frame: int, ts: float, t: int, length: int, body: bytes, encrypted: bool,
                     detail: str, version: int) -> None:
        """One handshake message (a "handshake" RecordEvent's fields)."""
        self.tls_seen = True
        names = _MESSAGE_NAMES.get(t)
        if names is None:
            names = _message_names(t)
        info: dict[str, Any] = {"message": names[0], "code": t, "length": length, "encrypted": encrypted}
        if detail:
            info["note"] = detail
        types = self.handshake_messages[d]
        if len(types) < MAX_HANDSHAKE_TYPES:
            types.append(t)
        letter = names[1 + d]  # (cased for the sender, as note does)
        # The types the session keeps something of go to their own handler (one look-up, no
        # chain of tests); the others are parsed only to report a malformed one.
        on_message = _handler_for(t)
        hrr = False
        if on_message is not None:
            if on_message(self, d, frame, body, info):  # (a HelloRetryRequest)
                letter = _HRR_LETTERS[d]
                hrr = True
        elif t not in NOT_PARSED:
            parse_in_context(self, t, body, info)
        if self.keylog is not None and self.transcript13 is not False:
            collect_transcript(self, d, t, length, body, hrr)
        finished = self.finished
        if finished[0] is not None and finished[1] is not None and t != FINISHED:
            if not self.post_handshake:
                self.post_handshake = []
            if len(self.post_handshake) < MAX_POST_HANDSHAKE:
                self.post_handshake.append((d, frame, info["message"]))
        history = self.history  # (the body of note, with the letter already cased)
        if len(history) < MAX_HISTORY:
            history.append(letter)
        timeline = self.timeline
        if len(timeline) < MAX_EVENTS:
            timeline.append((d, frame, ts, "handshake", info))
        else:
            self.drop("events")

    def _alert(self, d: int, ev: RecordEvent) -> None:
        self.on_alert(d, ev.frame, ev.time, ev.level, ev.code, ev.encrypted, ev.length, ev.record_version)

    def on_alert(self, d: int, frame: int, ts: float, level: Optional[int], code: Optional[int], encrypted: bool,
                 length: int, version: int) -> None:
        """One alert (an "alert" RecordEvent's fields; level and code None when it is hidden)."""
        self.tls_seen = True
        alerts = self.alerts
        if not alerts:
            alerts = self.alerts = []
        if len(alerts) < MAX_ALERTS:
            alerts.append((d, frame, ts, level, code, encrypted, length))
        else:
            self.drop("alerts")
        if len(self.timeline) >= MAX_EVENTS:
            self.drop("events")
            if code is not None:
                self.note(d, "l")
            return
        info: dict[str, Any]
        if code is None:
            info = {"level": None, "code": None, "name": None, "encrypted": True, "length": length}
        else:
            self.note(d, "l")
            info = {"level": _level_name(level), "code": code,
                    "hex": f"0x{code:02x}", "name": tables.alert_name(code),
                    "encrypted": encrypted}
        self.timeline.append((d, frame, ts, "alert", info))

    def _protected(self, d: int, ev: RecordEvent) -> None:
        self.on_protected(d, ev.frame, ev.time, ev.content_type, ev.length, ev.record_version)

    def on_protected(self, d: int, frame: int, ts: float, ct: int, length: int, version: int) -> None:
        """One protected record we could not read (a "protected" RecordEvent's fields)."""
        self.tls_seen = True
        logs = self.protected_log
        if logs is EMPTY2:
            logs = self.protected_log = ([], [])
        log = logs[d]
        if self.ccs[d] is not None and self.after_ccs_record[d] is None:
            self.after_ccs_record = pair_with(self.after_ccs_record, d, (frame, ts, length))
        if ct == CT_APPLICATION_DATA:
            self.app_data_records[d] += 1
        if len(log) < MAX_TIMELINE_PROTECTED:
            # Its timeline event is made from this entry when the connection is assembled
            # (full_timeline), at the place it would have had: the timeline's length now. (A
            # tuple and a dict less per listed record: ~12 KB of a connection in bulk transfer.)
            log.append((frame, ts, ct, length, len(self.timeline)))
        elif self.protected_log[0] and self.protected_log[1]:  # (both sides protected: established, by a guess)
            for layer in self.layers:
                layer.report_protected = False  # bulk data from here: count, do not list

    def add_anomaly(self, entry: tuple[int, int, float, str, dict[str, Any]]) -> None:
        """One anomaly; a repeat of a kept one (same direction, name and detail) adds to its
        ``count`` instead, and past MAX_ANOMALIES distinct ones they are only counted."""
        info = entry[4]
        key = (entry[0], info.get("name"), info.get("detail"))
        index = self.anomaly_index
        if index is None:
            self.anomalies = []
            index = self.anomaly_index = {}
        first = index.get(key)
        if first is not None:
            first["count"] = first.get("count", 1) + 1
        elif len(self.anomalies) < MAX_ANOMALIES:
            index[key] = info
            self.anomalies.append(entry)
        else:
            self.drop("anomalies")

    def add_event(self, entry: tuple[int, int, float, str, dict[str, Any]]) -> None:
        """One timeline entry, kept while the timeline holds fewer than MAX_EVENTS."""
        timeline = self.timeline
        if len(timeline) < MAX_EVENTS:
            timeline.append(entry)
        else:
            self.drop("events")

    def drop(self, what: str, n: int = 1) -> None:
        """``n`` entries of list ``what`` not kept (a cap of results.listcaps): counted."""
        dropped = self.dropped
        dropped[what] = dropped.get(what, 0) + n

    def note(self, d: int, letter: str) -> None:
        """One ssl_history letter (lower case) from direction ``d``."""
        history = self.history
        if len(history) < MAX_HISTORY:
            history.append(letter.upper() if d == 0 else letter)

    @property
    def tls13(self) -> bool:
        v = self.version
        return v is not None and (v == 0x0304 or (v >> 8) in (0x7F, 0xFB))

    # -- conclusions: what the pipeline reads of a finished session ------------------------
    # (methods, not ``established = conclusions.established``: mypyc compiles no such alias)
    def established(self, client: int) -> bool:
        return conclusions.established(self, client)

    def resumed(self) -> bool:
        return conclusions.resumed(self)

    def ssl_history(self, client: int) -> str:
        return conclusions.ssl_history(self, client)

    def full_timeline(self) -> list[tuple[int, int, float, str, dict[str, Any]]]:
        return conclusions.full_timeline(self)

    def _http(self, d: int, body: bytes, frame: int) -> None:
        """Decrypted application data to the HTTP watch, by side (0 client, 1 server)."""
        client = self.client_hellos[0][0] if self.client_hellos else self.client_dir_hint
        if client is None:
            return
        watch = self.http
        if watch is None:
            watch = self.http = HttpWatch()
        watch.feed(0 if d == client else 1, body, frame)

    def http_summary(self) -> Optional[dict[str, Any]]:
        """The connection's ``http`` entry (tls.httpwatch); None when no data was read."""
        return self.http.summary() if self.http is not None else None

    def decryption_summary(self) -> Optional[dict[str, Any]]:
        """The report's decryption entry; None without a key log."""
        if self.keylog is None:
            return None
        return (self.decryption or Decryption(self.keylog)).summary(self.layers)


def _encapsulation(s: TlsSession, d: int, ev: RecordEvent) -> None:
    """Direction ``d``'s TLS rides inside a framing from here (tls.framed; the layer keeps
    it); what came before (the HTTP upgrade of WebSocket frames) is no longer this
    direction's "not TLS"."""
    if d in s.not_tls:
        del s.not_tls[d]
    s.add_event((d, ev.frame, ev.time, "encapsulation", {"framing": ev.detail}))


def encapsulation(s: TlsSession) -> Optional[str]:
    """The framing the connection's TLS rode in (tlsdissect.framing), or None."""
    return next((layer.framing.name for layer in s.layers if layer.framing is not None), None)


# Record events by kind: the three frequent ones go straight to their method (they set
# tls_seen themselves); every other kind to _other_event.
_HANDLERS: dict[str, Any] = {
    "handshake": TlsSession._handshake,
    "protected": TlsSession._protected,
    "alert": TlsSession._alert,
    "encapsulation": _encapsulation,
}
_other_event = TlsSession._other_event
