"""The TLS view of one connection: two record layers and what their events mean together.

It turns record events into the timeline, parses handshake messages, follows the negotiated
version (which decides how later records are read), and at the end derives the summary fields
(version, cipher, SNI, established, resumed, ssl_history). Directions are indexes 0/1 (0 = the
side whose packet was seen first); the client/server naming is resolved when the connection is
finished, because the roles may only become clear later (e.g. from the ClientHello).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Optional

from tlsdissect.tls import handshake as hs
from tlsdissect.tls import tables
from tlsdissect.directions import NONE_PAIR, pair_with
from tlsdissect.errors import ParseError
from tlsdissect.tls.handshake import (CERTIFICATE, CERTIFICATE_REQUEST, CERTIFICATE_STATUS, CLIENT_HELLO, CLIENT_KEY_EXCHANGE,
                        FINISHED, SERVER_HELLO, SERVER_KEY_EXCHANGE)
from tlsdissect.tls.records import CT_ALERT, CT_APPLICATION_DATA, CT_HANDSHAKE, RecordEvent, RecordLayer

# Zeek's ssl_history letters (client upper case, server lower case).
_HISTORY_LETTERS = {
    0: "h", 1: "c", 2: "s", 3: "v", 4: "t", 5: "e", 6: "j", 8: "o", 11: "x", 12: "k", 13: "r",
    14: "n", 15: "y", 16: "g", 20: "f", 21: "w", 22: "u", 23: "a", 24: "p", 254: "m",
}
MAX_HISTORY = 100
MAX_TIMELINE_PROTECTED = 24  # protected records listed in the timeline per direction
PROBABLE_ALERT_MAX = 24  # a protected record this small (2-byte alert + type + tag) is likely an alert

_ALERT_LEVELS = {1: "warning", 2: "fatal"}
# Server messages of a full handshake (absent from an abbreviated, resumed one).
_FULL_HANDSHAKE = frozenset((hs.CERTIFICATE, hs.SERVER_KEY_EXCHANGE, hs.SERVER_HELLO_DONE))
_PROTECTED_TYPES = {CT_HANDSHAKE: "handshake", CT_APPLICATION_DATA: "application_data", CT_ALERT: "alert"}
# Per handshake message type, filled as types are met (at most 256 entries): its name and its
# ssl_history letter as sent by direction 0 and by direction 1 (one look-up per message).
_MESSAGE_NAMES: dict[int, tuple[str, str, str]] = {}
_HRR_LETTERS = ("J", "j")  # a HelloRetryRequest's letter by direction
# Parse contexts by (version, cipher suite): read-only, shared by the connections that negotiate
# the same pair (two per connection otherwise: before and after the ServerHello). Bounded: cleared
# when full.
_CONTEXTS_MAX = 1024
_CONTEXTS: dict[tuple[Optional[int], Optional[int]], hs.ParseContext] = {}
# Messages whose parse cannot fail and whose parsed form the session does not keep: not parsed.
_NOT_PARSED = frozenset((hs.HELLO_REQUEST, hs.SERVER_HELLO_DONE, CLIENT_KEY_EXCHANGE, FINISHED, hs.END_OF_EARLY_DATA))


# Shared defaults of per-connection state that most connections never write: a pair is an
# immutable tuple replaced on write (pair_with), a collection is created at its first entry.
_EMPTY2 = ((), ())
_NO_ENTRIES: Any = MappingProxyType({})  # read-only: replaced by a dict of its own on first write


def _message_names(msg_type: int) -> tuple[str, str, str]:
    letter = _HISTORY_LETTERS.get(msg_type, "z")
    names = _MESSAGE_NAMES[msg_type] = (hs.message_name(msg_type), letter.upper(), letter)
    return names


def _parse_hello(parse: Any, body: bytes, info: dict[str, Any]) -> Any:
    """A hello parsed (it needs no parse context), or None with the error in ``info``."""
    try:
        return parse(body)
    except ParseError as e:
        info["error"] = str(e)
        return None


class TlsSession:
    """Per-connection TLS state; fed by the TCP layer with contiguous bytes per direction."""

    # Slots: one session per open connection, and a busy capture has thousands open.
    __slots__ = (
        "active_decryptor",
        "after_ccs_record",
        "alerts",
        "anomalies",
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
        "decrypt_notes",
        "decrypted_records",
        "decryptors",
        "finished",
        "first_data_frame",
        "handshake_messages",
        "history",
        "hrr",
        "keylog",
        "latest_server_hello",
        "layers",
        "not_tls",
        "partial_server_version",
        "pending_decryptors",
        "post_handshake",
        "protected_log",
        "server_hello",
        "server_hello_dir",
        "server_hellos_seen",
        "server_key_exchange",
        "server_name",
        "sslv2_server_hello",
        "timeline",
        "tls_seen",
        "version",
    )

    def __init__(self) -> None:
        self.layers = (RecordLayer(0), RecordLayer(1))
        # Timeline as (direction, frame, time, type, info) — names resolved at the end.
        self.timeline: list[tuple[int, int, float, str, dict[str, Any]]] = []
        self.anomalies: Any = ()  # list[(direction, frame, time, type, info)], created when needed
        self.client_hellos: list[tuple[int, Any]] = []  # (direction, ClientHello)
        self.server_name: Optional[str] = None  # of the first ClientHello (read once: a property)
        self.ctx: Optional[hs.ParseContext] = None  # see _ctx
        self.server_hello: Optional[hs.ServerHello] = None
        self.server_hello_dir: Optional[int] = None
        self.hrr: Optional[hs.ServerHello] = None
        self.server_hellos_seen = 0
        self.partial_server_version: Optional[int] = None
        self.latest_server_hello: Optional[hs.ServerHello] = None
        self.sslv2_server_hello: Optional[hs.Sslv2ServerHello] = None
        self.version: Optional[int] = None
        self.cipher: Optional[int] = None
        self.certificates: Any = _EMPTY2  # per direction: list[hs.Certificate] (lists made on first write)
        self.certificate_request: Optional[hs.CertificateRequest] = None
        self.server_key_exchange: Optional[hs.ServerKeyExchange] = None
        self.certificate_status: Optional[hs.CertificateStatus] = None
        # Pairs by direction: tuples replaced on write (pair_with); the lists of protected_log are
        # made at the first protected record.
        self.ccs: tuple[Optional[tuple[int, float]], Optional[tuple[int, float]]] = NONE_PAIR
        self.after_ccs_record: tuple[Optional[tuple[int, float, int]], Optional[tuple[int, float, int]]] = NONE_PAIR
        self.protected_log: Any = _EMPTY2
        # ssl_history letters, cased as if direction 0 were the client (swapcase() gives the
        # other reading); only the first MAX_HISTORY are kept, only those are reported.
        self.history: list[str] = []
        # list[(direction, frame, time, level, code, encrypted, length)], created at the first alert
        self.alerts: Any = ()
        self.not_tls: dict[int, str] = _NO_ENTRIES  # (a dict of its own from the first entry)
        self.tls_seen = False
        self.client_dir_hint: Optional[int] = None  # from the ClientHello/ServerHello
        self.handshake_messages: list[list[int]] = [[], []]  # plaintext types by direction
        self.app_data_records: list[int] = [0, 0]
        # Decryption (only when a key log is supplied): see _setup_decryption.
        self.keylog: Any = None  # tlsdissect.keys.keylog.KeyLog
        self.decryptors: Any = None  # decrypt.SessionDecryptors of the latest ServerHello
        self.pending_decryptors: Any = None  # TLS <= 1.2: installed at each side's next CCS
        self.active_decryptor: tuple[Any, Any] = NONE_PAIR
        self.decrypt_notes: Any = ()  # list[str] from the first note
        self.decrypted_records = 0
        self.client_key_exchange_body: bytes = b""
        self.finished: tuple[Optional[int], Optional[int]] = NONE_PAIR  # frame of each side's Finished
        self.first_data_frame: tuple[Optional[int], Optional[int]] = NONE_PAIR  # decrypted app data
        self.post_handshake: Any = ()  # list[(dir, frame, message)] after both Finished, from the first

    # -- input from the TCP layer -------------------------------------------------------
    def data(self, d: int, data: bytes, frame: int, ts: float) -> None:
        """Contiguous stream bytes of direction ``d`` (the TCP stage's in-order delivery)."""
        layer = self.layers[d]
        skip = layer.skip
        if skip > len(data):
            # The hot path of bulk transfer: inside a protected record that is skipped anyway,
            # account for the bytes and touch nothing else (RecordLayer.feed's own fast path,
            # without its call).
            layer.skip = skip - len(data)
            return
        # The layer hands its events straight to this session's on_* methods as it reads them
        # (no event objects for the frequent kinds, no list); set for the call only, so that the
        # layer holds no reference to its session between calls (no cycle to collect).
        layer.sink = self
        layer.feed(data, frame, ts)
        while layer.paused:
            layer.feed(b"", frame, ts)
        layer.sink = None

    def gap(self, d: int, missing: int, frame: int, ts: float) -> None:
        for ev in self.layers[d].gap(missing, frame, ts):
            self._event(d, ev)

    def finish(self, d: int, frame: int, ts: float) -> None:
        layer = self.layers[d]
        while layer.buf:  # (an empty record buffer has nothing to flush)
            events = layer.finish(frame, ts)
            for ev in events:
                self._event(d, ev)
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
    def _event(self, d: int, ev: RecordEvent) -> None:
        """Dispatch one record event: the frequent kinds by table, the rest in _other_event."""
        _HANDLERS.get(ev.kind, _other_event)(self, d, ev)

    # The record layer's sink interface (see RecordLayer.sink): on_event and the on_* methods
    # below; a sink sees each event as it is read, so the layer need not pause after a hello.
    on_event = _event
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
                info = {"length": ev.length, "encrypted": ev.encrypted}
                if ev.body:
                    info["preview"] = ev.body[:64].decode("latin-1")
                self.timeline.append((d, ev.frame, ev.time, "application_data", info))
        elif kind == "heartbeat":
            self.tls_seen = True
            self._note(d, "b")
            self.timeline.append((d, ev.frame, ev.time, "heartbeat", {"length": ev.length}))
        elif kind in ("sslv2_client_hello", "sslv2_server_hello"):
            self.tls_seen = True
            self._sslv2(d, ev)
        elif kind == "sslv2_message":
            names = {2: "sslv2_client_master_key", 3: "sslv2_client_finished", 5: "sslv2_server_verify",
                     6: "sslv2_server_finished", 7: "sslv2_request_certificate", 8: "sslv2_client_certificate",
                     0: "sslv2_error"}
            self.timeline.append((d, ev.frame, ev.time, "handshake",
                                  {"message": names.get(ev.msg_type, f"sslv2_message_{ev.msg_type}"),
                                   "code": ev.msg_type, "length": ev.length, "encrypted": False, "sslv2": True}))
        elif kind == "not_tls":
            if self.not_tls is _NO_ENTRIES:
                self.not_tls = {}
            self.not_tls[d] = ev.detail
            self.timeline.append((d, ev.frame, ev.time, "not_tls",
                                  {"looks_like": ev.detail, "first_bytes": ev.body[:32].decode("latin-1")}))
        elif kind == "starttls":
            self.timeline.append((d, ev.frame, ev.time, "starttls", {"after": ev.detail}))
        elif kind == "gap":
            self.timeline.append((d, ev.frame, ev.time, "gap", {"bytes": ev.length, "detail": ev.detail}))
        elif kind == "anomaly":
            self._anomaly((d, ev.frame, ev.time, "anomaly", {"name": ev.name or "anomaly", "detail": ev.detail}))

    def on_ccs(self, d: int, frame: int, ts: float, length: int, body: bytes, decrypted: bool, version: int) -> None:
        """A ChangeCipherSpec (a "ccs" RecordEvent's fields; only its frame and time matter here)."""
        self.tls_seen = True
        if self.ccs[d] is None:
            self.ccs = pair_with(self.ccs, d, (frame, ts))
        if self.keylog is not None and not self.tls13:
            self._ccs_decryption(d)
        if self.layers[d].decryptor is None and not self.tls13 and self.cipher is not None:
            self._null_cipher(d)
        self._note(d, "i")
        self.timeline.append((d, frame, ts, "change_cipher_spec", {}))

    def _ctx(self) -> hs.ParseContext:
        """The parse context for the next message: one object per (version, suite), shared by
        every connection (parse_message only reads it)."""
        ctx = self.ctx
        if ctx is None or ctx.version != self.version or ctx.cipher_suite != self.cipher:
            key = (self.version, self.cipher)
            ctx = _CONTEXTS.get(key)
            if ctx is None:
                if len(_CONTEXTS) >= _CONTEXTS_MAX:
                    _CONTEXTS.clear()
                ctx = _CONTEXTS[key] = hs.ParseContext(self.version, self.cipher)
            self.ctx = ctx
        return ctx

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
        self.handshake_messages[d].append(t)
        letter = names[1 + d]  # (cased for the sender, as _note does)
        # The types the session keeps something of go to their own method (one look-up, no
        # chain of tests); the others are parsed only to report a malformed one.
        on_message = _ON_MESSAGE.get(t)
        if on_message is not None:
            if on_message(self, d, frame, body, info):  # (a HelloRetryRequest)
                letter = _HRR_LETTERS[d]
        elif t not in _NOT_PARSED:
            self._parse(t, body, info)
        finished = self.finished
        if finished[0] is not None and finished[1] is not None and t != FINISHED:
            if not self.post_handshake:
                self.post_handshake = []
            self.post_handshake.append((d, frame, info["message"]))
        history = self.history  # (the body of _note, with the letter already cased)
        if len(history) < MAX_HISTORY:
            history.append(letter)
        self.timeline.append((d, frame, ts, "handshake", info))

    def _parse(self, t: int, body: bytes, info: dict[str, Any]) -> Any:
        """The message parsed in the current context, or None with the error in ``info``."""
        ctx = self.ctx
        if ctx is None or ctx.version != self.version or ctx.cipher_suite != self.cipher:
            ctx = self._ctx()
        try:
            return hs.parse_message(t, body, ctx)
        except ParseError as e:
            info["error"] = str(e)
            return None

    # Per kept message type (_ON_MESSAGE): (self, d, frame, body, info) -> is it a HelloRetryRequest.
    # A hello needs no parse context: its parser is called directly (what parse_message does).
    def _on_client_hello(self, d: int, frame: int, body: bytes, info: dict[str, Any]) -> bool:
        msg = _parse_hello(hs.parse_client_hello, body, info)
        if msg is None:
            return False
        facts = msg._known()  # (server name, highest version: one look-up for both)
        self._client_hello(d, msg, facts[2])
        if facts[2]:
            info["server_name"] = facts[2]
        top = facts[4]  # (ClientHello.max_version, from the facts at hand)
        info["max_version"] = tables.version_name(msg.legacy_version if top is None else top)
        info["cipher_suites"] = len(msg.cipher_suites)
        if msg.malformed:
            info["malformed"] = msg.malformed
        return False

    def _on_server_hello(self, d: int, frame: int, body: bytes, info: dict[str, Any]) -> bool:
        msg = _parse_hello(hs.parse_server_hello, body, info)
        if msg is None:
            return False
        if self.client_dir_hint is None:
            self.client_dir_hint = 1 - d
        version = msg.version
        if msg.is_hello_retry_request:
            self.hrr = msg
            info["message"] = "hello_retry_request"
            info["hello_retry_request"] = True
            ks = msg.ext(51)
            decoded = ks.decoded if ks else None  # (read once: a shared extension's is a copy)
            if decoded:
                info["selected_group"] = decoded.get("group_name")
            self._set_version(version)
            return True
        self.server_hellos_seen += 1
        self.latest_server_hello = msg
        if self.server_hello is None:
            self.server_hello = msg
            self.server_hello_dir = d
        elif self.keylog is not None and not self.tls13:
            self.pending_decryptors = "build"  # renegotiation: new keys at the next CCS
        self._set_version(version)
        self.cipher = msg.cipher_suite
        info["version"] = tables.version_name(version)
        info["cipher"] = tables.cipher_name(msg.cipher_suite)
        if msg.malformed:
            info["malformed"] = msg.malformed
        if self.keylog is not None:
            self._setup_decryption(d, msg)
        return False

    def _on_certificate(self, d: int, frame: int, body: bytes, info: dict[str, Any]) -> bool:
        msg = self._parse(CERTIFICATE, body, info)
        if msg is not None:
            certs = self.certificates
            if certs is _EMPTY2:
                certs = self.certificates = ([], [])
            certs[d].append(msg)
            info["certificates"] = len(msg.entries)
        return False

    def _on_certificate_request(self, d: int, frame: int, body: bytes, info: dict[str, Any]) -> bool:
        msg = self._parse(CERTIFICATE_REQUEST, body, info)
        if msg is not None:
            self.certificate_request = msg
            info["certificate_authorities"] = len(msg.certificate_authorities)
        return False

    def _on_server_key_exchange(self, d: int, frame: int, body: bytes, info: dict[str, Any]) -> bool:
        msg = self._parse(SERVER_KEY_EXCHANGE, body, info)
        if msg is not None:
            self.server_key_exchange = msg
            if msg.named_group is not None:
                info["group"] = tables.name_of(tables.SUPPORTED_GROUPS, msg.named_group)
            if msg.dh_prime_bits:
                info["dh_bits"] = msg.dh_prime_bits
        return False

    def _on_certificate_status(self, d: int, frame: int, body: bytes, info: dict[str, Any]) -> bool:
        msg = self._parse(CERTIFICATE_STATUS, body, info)
        if msg is not None:
            self.certificate_status = msg
        return False

    def _on_client_key_exchange(self, d: int, frame: int, body: bytes, info: dict[str, Any]) -> bool:
        self.client_key_exchange_body = body
        return False

    def _on_finished(self, d: int, frame: int, body: bytes, info: dict[str, Any]) -> bool:
        if self.finished[d] is None:
            self.finished = pair_with(self.finished, d, frame)
        return False

    def _client_hello(self, d: int, msg: Any, server_name: Optional[str]) -> None:
        """Record a ClientHello and its server name (a property: the caller reads it once)."""
        self.client_hellos.append((d, msg))
        if self.client_dir_hint is None:
            self.client_dir_hint = d
        if len(self.client_hellos) == 1:
            self.server_name = server_name

    def _set_version(self, version: int) -> None:
        self.version = version
        for layer in self.layers:
            layer.version_known = True
        if version == 0x0304 or (version >> 8) == 0x7F or (version >> 8) == 0xFB:
            for layer in self.layers:
                layer.tls13 = True  # CCS no longer switches; content type 23 is protected

    def _sslv2(self, d: int, ev: RecordEvent) -> None:
        try:
            if ev.kind == "sslv2_client_hello":
                msg = hs.parse_sslv2_client_hello(ev.body)
                self._client_hello(d, msg, msg.server_name)
                self._note(d, "c")
                self.timeline.append((d, ev.frame, ev.time, "handshake",
                                      {"message": "client_hello", "code": 1, "length": ev.length,
                                       "encrypted": False, "sslv2_format": True,
                                       "max_version": tables.version_name(msg.legacy_version)}))
                self.handshake_messages[d].append(1)
            else:
                sh = hs.parse_sslv2_server_hello(ev.body)
                self.sslv2_server_hello = sh
                self.layers[1 - d].to_sslv2()  # the client goes on in SSLv2 records
                self.version = 0x0002
                if self.client_dir_hint is None:
                    self.client_dir_hint = 1 - d
                self._note(d, "s")
                self.timeline.append((d, ev.frame, ev.time, "handshake",
                                      {"message": "server_hello", "code": 4, "length": ev.length,
                                       "encrypted": False, "sslv2": True}))
        except ParseError as e:
            self._anomaly((d, ev.frame, ev.time, "anomaly", {"name": "malformed_sslv2_message", "detail": str(e)}))

    def _alert(self, d: int, ev: RecordEvent) -> None:
        self.on_alert(d, ev.frame, ev.time, ev.level, ev.code, ev.encrypted, ev.length, ev.record_version)

    def on_alert(self, d: int, frame: int, ts: float, level: Optional[int], code: Optional[int], encrypted: bool,
                 length: int, version: int) -> None:
        """One alert (an "alert" RecordEvent's fields; level and code None when it is hidden)."""
        self.tls_seen = True
        if not self.alerts:
            self.alerts = []
        self.alerts.append((d, frame, ts, level, code, encrypted, length))
        info: dict[str, Any]
        if code is None:
            info = {"level": None, "code": None, "name": None, "encrypted": True, "length": length}
        else:
            self._note(d, "l")
            info = {"level": _ALERT_LEVELS.get(level, level), "code": code,  # type: ignore[arg-type]
                    "hex": f"0x{code:02x}", "name": tables.alert_name(code),
                    "encrypted": encrypted}
        self.timeline.append((d, frame, ts, "alert", info))

    def _protected(self, d: int, ev: RecordEvent) -> None:
        self.on_protected(d, ev.frame, ev.time, ev.content_type, ev.length, ev.record_version)

    def on_protected(self, d: int, frame: int, ts: float, ct: int, length: int, version: int) -> None:
        """One protected record we could not read (a "protected" RecordEvent's fields)."""
        self.tls_seen = True
        logs = self.protected_log
        if logs is _EMPTY2:
            logs = self.protected_log = ([], [])
        log = logs[d]
        if self.ccs[d] is not None and self.after_ccs_record[d] is None:
            self.after_ccs_record = pair_with(self.after_ccs_record, d, (frame, ts, length))
        if ct == CT_APPLICATION_DATA:
            self.app_data_records[d] += 1
        if len(log) < MAX_TIMELINE_PROTECTED:
            log.append((frame, ts, ct, length))
            ctype = _PROTECTED_TYPES.get(ct) or str(ct)
            self.timeline.append((d, frame, ts, "encrypted_record", {"content_type": ctype, "length": length}))
        elif self._established_guess():
            for layer in self.layers:
                layer.report_protected = False  # bulk data from here: count, do not list

    # -- decryption ---------------------------------------------------------------------
    def _anomaly(self, entry: tuple[int, int, float, str, dict[str, Any]]) -> None:
        if not self.anomalies:
            self.anomalies = []
        self.anomalies.append(entry)

    def _decrypt_note(self, note: str) -> None:
        if not self.decrypt_notes:
            self.decrypt_notes = []
        self.decrypt_notes.append(note)

    def _build_decryptors(self, sh: hs.ServerHello) -> Any:
        from tlsdissect.keys.decrypt import UnsupportedCipherSuite, session_decryptors

        if not self.client_hellos:
            return None
        ch = self.client_hellos[-1][1]
        premaster = None
        body = self.client_key_exchange_body
        if len(body) > 2:
            premaster = body[2:] if ((body[0] << 8) | body[1]) == len(body) - 2 else body
        try:
            sd = session_decryptors(
                self.keylog, sh.version, sh.cipher_suite, ch.random, sh.random,
                encrypt_then_mac=sh.ext(22) is not None, compression=sh.compression_method,
                encrypted_premaster=premaster,
            )
        except UnsupportedCipherSuite as e:
            self._decrypt_note(f"cannot decrypt: {e}")
            return None
        except Exception as e:  # bad secrets in the key log must not stop the analysis
            self._decrypt_note(f"cannot use the key log for this connection: {e}")
            return None
        if sd.missing:
            self._decrypt_note("key log has no " + ", ".join(sd.missing) + " for this client random")
        return sd

    def _setup_decryption(self, server: int, sh: hs.ServerHello) -> None:
        client = 1 - server
        if not self.tls13:
            # TLS <= 1.2: keys apply after each side's ChangeCipherSpec; an RSA pre-master
            # from the key log needs the ClientKeyExchange, so build at the first CCS.
            self.pending_decryptors = "build"
            return
        sd = self._build_decryptors(sh)
        self.decryptors = sd
        if sd is None:
            return
        from tlsdissect.keys.phases import direction_decryptor

        # TLS 1.3: one callable per direction follows the key phases itself (early data,
        # handshake keys, application keys after that side's Finished, each KeyUpdate).
        for d, side in ((server, "server"), (client, "client")):
            dec = direction_decryptor(sd, side)
            self.active_decryptor = pair_with(self.active_decryptor, d, dec)
            self.layers[d].decryptor = None if dec is None else self._counting(dec)

    def _null_cipher(self, d: int) -> None:
        """A NULL-encryption suite protects nothing: the record is the plaintext followed by
        its MAC, so the rest of the handshake (Finished, alerts) stays readable without keys."""
        info = tables.suite_info(self.cipher) if self.cipher is not None else None
        if info is None or info.cipher != "NULL" or info.kx == "NULL":
            return
        mac_len = {"MD5": 16, "SHA1": 20, "SHA256": 32, "SHA384": 48}.get(info.mac)
        if mac_len is None:
            return

        def strip_mac(ct: int, version: int, payload: bytes) -> tuple[int, bytes]:
            if len(payload) < mac_len:
                raise ValueError(f"record shorter than its {info.mac} MAC")
            return ct, payload[:-mac_len]

        strip_mac.protects = False  # type: ignore[attr-defined]
        self.layers[d].decryptor = strip_mac

    def _install(self, d: int, dec: Any) -> None:
        self.active_decryptor = pair_with(self.active_decryptor, d, dec)
        layer = self.layers[d]
        layer.decryptor = None if dec is None else self._counting(dec)

    def _counting(self, dec: Any) -> Any:
        def decrypt(ct: int, version: int, payload: bytes) -> tuple[int, bytes]:
            out = dec.decrypt(ct, version, payload)
            self.decrypted_records += 1
            return out

        return decrypt

    def _ccs_decryption(self, d: int) -> None:
        if self.pending_decryptors == "build" and self.server_hello is not None:
            sh = self.server_hello
            if self.server_hellos_seen > 1 and self.latest_server_hello is not None:
                sh = self.latest_server_hello
            self.pending_decryptors = self._build_decryptors(sh)
            self.decryptors = self.pending_decryptors
        sd = self.pending_decryptors
        if sd is None or sd == "build":
            return
        client = self.client_dir_hint if self.client_dir_hint is not None else 0
        self._install(d, sd.client if d == client else sd.server)

    def decryption_summary(self) -> Optional[dict[str, Any]]:
        if self.keylog is None:
            return None
        status = "decrypted" if self.decrypted_records else "not decrypted"
        if any(layer.anomalies and layer.decryptor is None and self.active_decryptor[i] for i, layer in enumerate(self.layers)):
            status = "failed"
        return {"status": status, "records_decrypted": self.decrypted_records, "notes": self.decrypt_notes or []}

    # -- conclusions --------------------------------------------------------------------
    @property
    def tls13(self) -> bool:
        v = self.version
        return v is not None and (v == 0x0304 or (v >> 8) in (0x7F, 0xFB))

    def _established_guess(self) -> bool:
        return bool(self.protected_log[0]) and bool(self.protected_log[1])

    def established(self, client: int) -> bool:
        """Did the handshake complete? (Our definition, docs/schema.md.)

        TLS <= 1.2: both sides sent ChangeCipherSpec followed by a protected record (their
        Finished), with no fatal alert in clear before. TLS 1.3: after the ServerHello the
        server sent its protected flight and the client a protected record larger than an
        alert (its Finished), and the server did not answer that with only a probable alert.
        """
        server = 1 - client
        if self.server_hello is None or self.sslv2_server_hello is not None:
            return False
        fin_c, fin_s = self.finished[client], self.finished[server]
        if fin_c is not None and fin_s is not None:
            # Both Finished messages were read (in clear or decrypted).
            last = max(fin_c, fin_s)
            for (ad, frame, ts, level, code, enc, ln) in self.alerts:
                if level == 2 and frame <= last:
                    return False
                if self.tls13 and level == 2 and ad == server and frame > fin_c:
                    # TLS 1.3: the server may still refuse the client's flight (its
                    # certificate) after the client's Finished, before any data of its own.
                    first_data = self.first_data_frame[server]
                    server_post = [f for (pd, f, m) in self.post_handshake if pd == server and f < frame]
                    if (first_data is None or first_data > frame) and not server_post:
                        return False
            return True
        for (ad, frame, ts, level, code, enc, ln) in self.alerts:
            if level == 2:
                return False
        if not self.tls13:
            return self.after_ccs_record[client] is not None and self.after_ccs_record[server] is not None
        sh_frame = self.server_hello_frame()
        client_recs = [r for r in self.protected_log[client] if r[0] >= sh_frame and r[2] == CT_APPLICATION_DATA]
        server_recs = [r for r in self.protected_log[server] if r[2] == CT_APPLICATION_DATA]
        if not server_recs:
            return False
        fin = next((r for r in client_recs if r[3] > PROBABLE_ALERT_MAX), None)
        if fin is None:
            return False
        after = [r for r in server_recs if r[0] > fin[0]]
        if after and after[0][3] <= PROBABLE_ALERT_MAX and all(r[3] <= PROBABLE_ALERT_MAX for r in after[:2]) \
                and not any(r[3] > PROBABLE_ALERT_MAX for r in after):
            # The server answered the client's Finished only with alert-sized records (no
            # session ticket, no data): a rejection, typically of the client certificate. A
            # client that sends its request meanwhile (curl does) does not change that.
            return False
        return True

    def server_hello_frame(self) -> int:
        for (d, frame, ts, typ, info) in self.timeline:
            if typ == "handshake" and info.get("code") == 2 and not info.get("hello_retry_request"):
                return frame
        return 0

    def resumed(self) -> bool:
        sh = self.server_hello
        if sh is None:
            return False
        if self.tls13:
            return sh.ext(41) is not None
        if self.client_hellos:
            ch = self.client_hellos[0][1]
            if sh.session_id and sh.session_id == ch.session_id:
                return True
        # Abbreviated handshake with a ticket: the server's CCS comes right after its hello,
        # with no Certificate / ServerKeyExchange / ServerHelloDone in between.
        d = self.server_hello_dir
        if d is not None and self.ccs[d] is not None:
            return _FULL_HANDSHAKE.isdisjoint(self.handshake_messages[d])
        return False

    def _note(self, d: int, letter: str) -> None:
        """One ssl_history letter (lower case) from direction ``d``."""
        history = self.history
        if len(history) < MAX_HISTORY:
            history.append(letter.upper() if d == 0 else letter)

    def ssl_history(self, client: int) -> str:
        h = "".join(self.history)
        return h if client == 0 else h.swapcase()


# Record events by kind: the three frequent ones go straight to their method (they set
# tls_seen themselves); every other kind to _other_event.
_HANDLERS: dict[str, Any] = {
    "handshake": TlsSession._handshake,
    "protected": TlsSession._protected,
    "alert": TlsSession._alert,
}
_other_event = TlsSession._other_event
# Handshake message types the session keeps something of, by type: their method (on_handshake).
_ON_MESSAGE: dict[int, Any] = {
    CLIENT_HELLO: TlsSession._on_client_hello,
    SERVER_HELLO: TlsSession._on_server_hello,
    CERTIFICATE: TlsSession._on_certificate,
    CERTIFICATE_REQUEST: TlsSession._on_certificate_request,
    SERVER_KEY_EXCHANGE: TlsSession._on_server_key_exchange,
    CERTIFICATE_STATUS: TlsSession._on_certificate_status,
    CLIENT_KEY_EXCHANGE: TlsSession._on_client_key_exchange,
    FINISHED: TlsSession._on_finished,
}
