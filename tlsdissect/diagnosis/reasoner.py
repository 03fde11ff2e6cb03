"""Diagnosis: where the handshake stopped, who gave up and how, why, and what to change.

The reasoning works from the phase and the bytes, not from the alert name alone: the same
``unknown_ca`` means a missing intermediate when the chain stops at a leaf whose issuer is
absent, a self-signed certificate when the leaf signs itself, and an untrusted root when the
chain is complete. Each conclusion carries a confidence ("certain" when the bytes prove it,
"likely" when they strongly suggest it, "possible" when it is one reading among others), the
evidence with frame numbers, and the alternatives the evidence leaves open.

Input is a finished :class:`~tlsdissect.results.model.Connection` plus the certificate analyses of
:mod:`tlsdissect.pipeline.enrich`; nothing here reads packets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from tlsdissect.tls import tables
from tlsdissect.diagnosis.causes import CAUSES, remedy_lines, suggested_check
from tlsdissect.results.model import Alert, Connection, Event

PROBABLE_ALERT_MAX = 24  # bytes: a protected alert is 2 bytes + inner type + 16-byte tag (+ padding)

# Alert codes
CLOSE_NOTIFY = 0
HANDSHAKE_FAILURE = 40
NO_CERTIFICATE = 41
BAD_CERTIFICATE = 42
UNSUPPORTED_CERTIFICATE = 43
CERTIFICATE_REVOKED = 44
CERTIFICATE_EXPIRED = 45
CERTIFICATE_UNKNOWN = 46
ILLEGAL_PARAMETER = 47
UNKNOWN_CA = 48
ACCESS_DENIED = 49
DECODE_ERROR = 50
DECRYPT_ERROR = 51
PROTOCOL_VERSION = 70
INSUFFICIENT_SECURITY = 71
INTERNAL_ERROR = 80
INAPPROPRIATE_FALLBACK = 86
NO_RENEGOTIATION = 100
UNRECOGNIZED_NAME = 112
CERTIFICATE_REQUIRED = 116
BAD_RECORD_MAC = 20

CERT_ALERTS = frozenset({BAD_CERTIFICATE, UNSUPPORTED_CERTIFICATE, CERTIFICATE_REVOKED, CERTIFICATE_EXPIRED,
                         CERTIFICATE_UNKNOWN, UNKNOWN_CA, ACCESS_DENIED, 113, 114})
CLIENT_CERT_ALERTS = CERT_ALERTS | {HANDSHAKE_FAILURE, CERTIFICATE_REQUIRED, ILLEGAL_PARAMETER, NO_CERTIFICATE,
                                    DECRYPT_ERROR}


_new = object.__new__


@dataclass(slots=True)
class Evidence:
    text: str
    frames: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "frames": self.frames}


def _evidence(text: str, frames: list[int]) -> Evidence:
    """``Evidence(text, frames)`` without the class call (which runs the dataclass's __init__
    as a Python frame entered from C, a few times per connection); tests/test_diag_speed.py
    holds the two equal."""
    e = _new(Evidence)
    e.text = text
    e.frames = frames
    return e


# Verdict wording, looked up once per connection (module constants: not rebuilt per call).
_WHO = {"client": "the client", "server": "the server", "middlebox": "a middlebox", "unknown": "an unknown party"}
_HOW = {"alert": "with a TLS alert", "rst": "with a TCP reset", "fin": "by closing the connection",
        "no_response": "by never answering", "capture_ended": "(the capture ends first)"}


# Verdict lines by what they are made of (outcome, cause, how, failure point, who aborted,
# confidence, alert name and hex): a capture repeats a few dozen. Bounded: cleared when full.
_VERDICTS_MAX = 1024
_VERDICTS: dict[tuple[Any, ...], str] = {}


def _title(cause: str) -> str:
    c = CAUSES.get(cause)
    return c.title if c is not None else cause


@dataclass(slots=True)
class Diagnosis:
    outcome: str  # established | failed | incomplete | not_tls
    cause: str
    confidence: str  # certain | likely | possible
    failure_point: Optional[str] = None
    last_completed: Optional[dict[str, Any]] = None
    aborted_by: Optional[str] = None  # client | server | middlebox | unknown
    how: Optional[str] = None  # alert | rst | fin | no_response | capture_ended
    alert: Optional[dict[str, Any]] = None
    alternatives: list[str] = field(default_factory=list)
    explanation: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    remedy: list[str] = field(default_factory=list)
    check_command: Optional[str] = None
    check_command_withheld: Optional[str] = None  # why there is no check_command (a hostile name)
    wireshark_filter: str = ""
    hidden: list[str] = field(default_factory=list)  # what the capture cannot show without keys

    @property
    def verdict(self) -> str:
        alert = self.alert
        key = (self.outcome, self.cause, self.how, self.failure_point, self.aborted_by, self.confidence,
               alert.get("name") if alert else None, alert.get("hex") if alert else None)
        text = _VERDICTS.get(key)
        if text is None:
            text = self._verdict()
            if len(_VERDICTS) >= _VERDICTS_MAX:
                _VERDICTS.clear()
            _VERDICTS[key] = text
        return text

    def _verdict(self) -> str:
        if self.outcome == "established" and self.cause == "ok":
            return "Handshake completed."
        how = self.how
        point = self.failure_point
        if how == "capture_ended":
            where = (point or "handshake").replace("_", " ")
            return f"Incomplete: the capture ends before {where}."
        if how == "no_response":
            where = f" to the {point.replace('_', ' ')}" if point else ""
            return f"{_title(self.cause)}: no answer{where}" + (", the client gave up." if self.aborted_by == "client" else ".")
        who = _WHO.get(self.aborted_by or "", "nobody")
        how_text = _HOW.get(how or "", "")
        title = _title(self.cause)
        if self.confidence == "possible":
            title = "Possibly: " + title[0].lower() + title[1:]
        elif self.confidence == "likely":
            title = "Probably: " + title[0].lower() + title[1:]
        where = f" at {point.replace('_', ' ')}" if point else ""
        alert = ""
        if self.alert and self.alert.get("name"):
            alert = f" [{self.alert['name']} {self.alert['hex']}]"
        return f"{title}. Stopped{where} by {who} {how_text}{alert}.".replace("  ", " ")

    def to_dict(self) -> dict[str, Any]:
        evidence = []  # (a loop, not a list comprehension: no function object made per call)
        for e in self.evidence:
            evidence.append({"text": e.text, "frames": e.frames})
        return {
            "outcome": self.outcome,
            "failure_point": self.failure_point,
            "last_completed": self.last_completed,
            "aborted_by": self.aborted_by,
            "how": self.how,
            "alert": self.alert,
            "cause": self.cause,
            "confidence": self.confidence,
            "alternatives": self.alternatives,
            "explanation": self.explanation,
            "evidence": evidence,
            "remedy": self.remedy,
            "check_command": self.check_command,
            "check_command_withheld": self.check_command_withheld,
            "wireshark_filter": self.wireshark_filter,
            "verdict": self.verdict,
            "hidden": self.hidden,
        }


def _diagnosis(outcome: str, cause: str, confidence: str, failure_point: Optional[str] = None,
               aborted_by: Optional[str] = None, how: Optional[str] = None, alert: Optional[dict[str, Any]] = None,
               alternatives: Optional[list[str]] = None, explanation: str = "") -> Diagnosis:
    """``Diagnosis(...)`` for the reasoner's decisions, the other fields at their defaults
    (tests/test_enrich_diagnosis_factory.py holds the two equal): a call of the dataclass
    with keywords went through the interpreter's generic class-call path and cost twice this."""
    d = _new(Diagnosis)
    d.outcome = outcome
    d.cause = cause
    d.confidence = confidence
    d.failure_point = failure_point
    d.last_completed = None
    d.aborted_by = aborted_by
    d.how = how
    d.alert = alert
    d.alternatives = [] if alternatives is None else alternatives
    d.explanation = explanation
    d.evidence = []
    d.remedy = []
    d.check_command = None
    d.check_command_withheld = None
    d.wireshark_filter = ""
    d.hidden = []
    return d


# A client's certificate alert against the server chain's findings: which findings explain
# it, most telling first; the cause each names; the alerts a client sends for each.
_FINDINGS_BY_ALERT: dict[Optional[int], tuple[str, ...]] = {
    CERTIFICATE_EXPIRED: ("expired", "not_yet_valid"),
    UNKNOWN_CA: ("self_signed_leaf", "chain_incomplete", "untrusted_root", "expired", "not_yet_valid", "hostname_mismatch"),
}
_FINDINGS_OTHER_ALERT = ("not_yet_valid", "expired", "hostname_mismatch", "self_signed_leaf", "chain_incomplete",
                         "untrusted_root", "eku_not_server_auth", "bad_signature", "weak_key", "weak_signature")
_FINDING_CAUSE = {"expired": "server_cert_expired", "not_yet_valid": "server_cert_not_yet_valid",
                  "hostname_mismatch": "server_cert_hostname_mismatch", "self_signed_leaf": "server_cert_self_signed",
                  "chain_incomplete": "server_chain_incomplete", "untrusted_root": "server_cert_untrusted"}
_EXPECTED_ALERTS = {
    "expired": frozenset({CERTIFICATE_EXPIRED, BAD_CERTIFICATE, CERTIFICATE_UNKNOWN}),
    "not_yet_valid": frozenset({BAD_CERTIFICATE, CERTIFICATE_EXPIRED, CERTIFICATE_UNKNOWN}),
    "self_signed_leaf": frozenset({UNKNOWN_CA, BAD_CERTIFICATE, CERTIFICATE_UNKNOWN}),
    "chain_incomplete": frozenset({UNKNOWN_CA, BAD_CERTIFICATE, CERTIFICATE_UNKNOWN}),
    "untrusted_root": frozenset({UNKNOWN_CA, BAD_CERTIFICATE, CERTIFICATE_UNKNOWN}),
    "hostname_mismatch": frozenset({BAD_CERTIFICATE, CERTIFICATE_UNKNOWN, CLOSE_NOTIFY}),
}


def _alert_dict(a: Alert) -> dict[str, Any]:
    return {"code": a.code, "hex": a.hex, "name": a.name, "level": a.level, "sender": a.sender,
            "encrypted": a.encrypted, "frame": a.frame}


def _other(side: str) -> str:
    return "server" if side == "client" else "client"


# Bounded memo tables (cleared when full) for text that depends only on values real traffic
# repeats: the versions a client offers (and the name it asks for), the CA list a server
# requests, the server (and name) a failure's check command is for. Never keyed on whole
# hellos or randoms.
_MEMO_MAX = 2048
_offer_texts: dict[tuple[tuple[int, ...], int], str] = {}
_hello_texts: dict[tuple[Any, ...], str] = {}  # (server name, suite count, *offered versions)
_ca_names: dict[tuple[bytes, ...], tuple[tuple[str, ...], str]] = {}
_checks: dict[tuple[str, str, str], tuple[Optional[str], Optional[str]]] = {}
_alert_texts: dict[tuple[Any, ...], str] = {}  # (sender, level, code, name, encrypted, length)
_chain_evidence: dict[int, tuple[Any, tuple[str, ...]]] = {}  # id(analysis) -> (analysis, texts)
_UNSEEN = object()


def _memo_put(table: dict[Any, Any], key: Any, value: Any) -> Any:
    if len(table) >= _MEMO_MAX:
        table.clear()
    table[key] = value
    return value


def _offer_text(offered: Sequence[int], suites: int) -> str:
    """' offers TLSv1.3, TLSv1.2 and 17 cipher suites.' for a ClientHello (GREASE left out)."""
    key = (tuple(offered), suites)
    text = _offer_texts.get(key)
    if text is None:
        names = [tables.version_name(v) for v in offered if not tables.is_grease(v)]
        text = _memo_put(_offer_texts, key, f" offers {', '.join(names)} and {suites} cipher suites.")
    return text


def _hello_text(sni: Optional[str], offered: Sequence[int], suites: int) -> str:
    """'ClientHello for www.example.com offers TLSv1.3, TLSv1.2 and 17 cipher suites.'"""
    key = (sni, suites, *offered)
    text = _hello_texts.get(key)
    if text is None:
        text = _memo_put(_hello_texts, key, ("ClientHello for " + sni if sni else "ClientHello without SNI")
                         + _offer_text(offered, suites))
    return text


def _requested_cas(ders: list[bytes]) -> tuple[tuple[str, ...], str]:
    """A CertificateRequest's CA names and the evidence sentence about them, memoised on the
    DER names: a server sends the same list on every connection (decoding them is costly)."""
    try:
        hit = _ca_names.get(key := tuple(ders))
    except TypeError:  # unhashable (not bytes): decode without the memo
        hit = key = None
    if hit is None:
        from tlsdissect.x509.names import decode_distinguished_names

        names = tuple(decode_distinguished_names(ders))
        text = ("The server's CertificateRequest accepts certificates issued by: " + "; ".join(names) + "."
                if names else "The server requests a client certificate.")
        hit = (names, text)
        if key is not None:
            _memo_put(_ca_names, key, hit)
    return hit


def _by_type(events: list[Event]) -> dict[str, list[Event]]:
    """A connection's events grouped by type, each group in capture order: built in one pass
    so that the rules look at the few events of the type they ask about, not the timeline."""
    groups: dict[str, list[Event]] = {}
    for e in events:
        groups.setdefault(e.type, []).append(e)
    return groups


def _alert_text(a: Alert) -> str:
    """The evidence sentence for an alert (remembered in _alert_texts by what it quotes)."""
    code = a.code
    if code is None:
        return f"The {a.sender} sends an encrypted alert record ({a.length} bytes); its content is hidden without keys."
    if a.encrypted:
        return f"The {a.sender} sends a {a.level} alert {a.name} ({a.hex}) (decrypted with the key log)."
    return (f"The {a.sender} sends a {a.level} alert {a.name} ({a.hex}); record bytes "
            f"15 .. .. 00 02 {1 if a.level == 'warning' else 2:02x} {code:02x}.")


def _chain_texts(chain: Any) -> tuple[str, ...]:
    """The server chain's evidence sentences: what its Certificate message carries, then its
    errors and warnings (remembered in _chain_evidence per analysis: cached analyses are shared)."""
    hit = _chain_evidence.get(id(chain))
    if hit is not None and hit[0] is chain:
        return hit[1]
    certs = chain.certificates
    names = " → ".join(ci.label for ci in certs)
    texts = (f"The server's Certificate message carries {len(certs)} certificate(s): {names}.",
             *[f.text for f in chain.findings if f.severity in ("error", "warning") or f.id in ("root_included",)])
    _memo_put(_chain_evidence, id(chain), (chain, texts))  # (the entry holds the chain: its id stays its own)
    return texts


_NONE: tuple[Event, ...] = ()


class _Reasoner:
    """Facts about one connection, gathered once, and the rules that read them."""

    __slots__ = ("c", "server_chain", "client_chain", "client_findings", "by_type", "hs", "enc", "evidence",
                 "hidden", "tls13", "_data", "_data_min")

    def __init__(self, conn: Connection, server_chain: Any = None, client_findings: Any = None,
                 client_chain: Any = None, by_type: Optional[dict[str, list[Event]]] = None):
        self.c = conn
        self.server_chain = server_chain  # x509.chain.ChainAnalysis or None
        self.client_chain = client_chain
        self.client_findings = client_findings or []  # list[ChainFinding] vs CertificateRequest
        if by_type is None:  # enrich passes the groups it made of the same events
            by_type = _by_type(conn.events)
        self.by_type = by_type  # read-only: never mutate its lists
        self.hs: list[Event] = by_type.get("handshake") or []
        self.enc: list[Event] = by_type.get("encrypted_record") or []
        self._data: Optional[list[Event]] = None  # see _app_data
        self._data_min: Optional[int] = None
        self.evidence: list[Evidence] = []
        self.hidden: list[str] = []
        v = conn.version_code
        self.tls13 = v is not None and (v == 0x0304 or (v >> 8) in (0x7F, 0xFB))

    def _keys_hint(self) -> str:
        """Which key log lines would reveal what is hidden (the client writes them with
        SSLKEYLOGFILE; Wireshark and tlsdissect read the same format)."""
        ch = self.c.client_hello
        cr = ch.random.hex() if ch is not None else "<client random>"
        if self.tls13:
            labels = "CLIENT_HANDSHAKE_TRAFFIC_SECRET and SERVER_HANDSHAKE_TRAFFIC_SECRET (plus *_TRAFFIC_SECRET_0 after the handshake)"
        else:
            labels = "CLIENT_RANDOM"
        return f"key log lines {labels} for client random {cr} would reveal it (--keylog)"

    # -- small fact helpers (scans of the per-type groups, stopping at the first match) ---
    def msgs(self, sender: Optional[str] = None, before: Optional[int] = None) -> list[Event]:
        return [e for e in self.hs if (sender is None or e.sender == sender)
                and (before is None or e.frame <= before)]

    def names(self, sender: str, before: Optional[int] = None) -> list[Optional[str]]:
        """The handshake message names ``sender`` had sent (up to frame ``before``)."""
        return [e.info.get("message") for e in self.hs if e.sender == sender and (before is None or e.frame <= before)]

    def has(self, message: str, sender: Optional[str] = None, before: Optional[int] = None) -> Optional[Event]:
        for e in self.hs:
            if (sender is None or e.sender == sender) and (before is None or e.frame <= before) \
                    and e.info.get("message") == message:
                return e
        return None

    def last_hs(self, before: Optional[int] = None, sender: Optional[str] = None) -> Optional[Event]:
        for e in reversed(self.hs):
            if (sender is None or e.sender == sender) and (before is None or e.frame <= before):
                return e
        return None

    def first_event(self, typ: str, sender: Optional[str] = None) -> Optional[Event]:
        for e in self.by_type.get(typ, _NONE):
            if sender is None or e.sender == sender:
                return e
        return None

    def sent(self, sender: str, types: tuple[str, ...], after: Optional[int] = None) -> bool:
        """``sender`` sent an event of one of ``types`` (after frame ``after``)."""
        by_type = self.by_type
        for typ in types:
            for e in by_type.get(typ, _NONE):
                if e.sender == sender and (after is None or e.frame > after):
                    return True
        return False

    def protected(self, sender: str, after: int = 0, before: Optional[int] = None) -> list[Event]:
        return [e for e in self.enc if e.sender == sender and e.frame > after and (before is None or e.frame <= before)]

    def _app_data(self) -> list[Event]:
        """Application data records (encrypted, or decrypted with the key log) in capture
        order; computed on first use."""
        data = self._data
        if data is None:
            enc = self.enc
            app = self.by_type.get("application_data")
            if app and enc:  # both kinds: keep their interleaving
                both = [e for e in self.c.events if e.type in ("encrypted_record", "application_data")]
            else:
                both = app or enc
            data = self._data = [e for e in both if e.info.get("content_type", "application_data") == "application_data"]
        return data

    def hello_facts(self) -> None:
        c = self.c
        ch = c.client_hello
        evidence = self.evidence
        if ch is not None:
            for f in self.hs:  # first_event("handshake", "client")
                if f.sender == "client":
                    evidence.append(_evidence(_hello_text(ch.server_name, ch.supported_versions or [ch.legacy_version],
                                                         len(ch.cipher_suites)), [f.frame]))
                    break
        version = c.version
        if version:
            for sh in self.hs:  # has("server_hello", "server")
                if sh.sender == "server" and sh.info.get("message") == "server_hello":
                    cipher = c.cipher
                    evidence.append(_evidence(f"ServerHello chooses {version} with {cipher}." if cipher else
                                             f"ServerHello chooses {version}.", [sh.frame]))
                    break

    def alert_evidence(self, a: Alert) -> None:
        key = (a.sender, a.level, a.code, a.name, a.encrypted, a.length)
        text = _alert_texts.get(key)
        if text is None:
            text = _memo_put(_alert_texts, key, _alert_text(a))
        self.evidence.append(_evidence(text, [a.frame]))

    # -- the decision ---------------------------------------------------------------------
    def run(self) -> Diagnosis:
        c = self.c
        d = self._decide()
        d.wireshark_filter = f"tcp.stream eq {c.stream}"  # Connection.wireshark_filter
        if not d.evidence:
            d.evidence = self.evidence
        d.hidden = self.hidden
        # The last handshake message before the deciding alert (all of them without one).
        alert = d.alert
        hs = self.hs
        last = None
        if alert:  # last_hs(before=the alert's frame)
            limit = alert["frame"]
            for e in reversed(hs):
                if limit is None or e.frame <= limit:
                    last = e
                    break
        elif hs:
            last = hs[-1]
        if last is not None:
            info = last.info
            d.last_completed = {"message": info.get("message"), "sender": last.sender, "frame": last.frame,
                                "encrypted": bool(info.get("encrypted"))}
        else:
            d.last_completed = None
        cause = d.cause
        if cause != "ok":
            if not d.remedy:
                d.remedy = remedy_lines(cause)
            if d.check_command is None:
                # The cause's check command filled in for the server ("host:port", IPv6 in
                # brackets) and name, or why it is withheld, remembered.
                server = c.server
                sni = c.server_name or ""
                key = (cause, server, sni)
                command = _checks.get(key, _UNSEEN)
                if command is _UNSEEN:
                    host, _, port = server.rpartition(":")
                    command = _memo_put(_checks, key, suggested_check(cause, host.strip("[]"), port, sni))
                d.check_command, d.check_command_withheld = command
        return d

    def _decide(self) -> Diagnosis:
        c = self.c
        if not c.is_tls:
            if not c.client_stats.bytes and not c.server_stats.bytes:
                return self._no_alert_case()  # a TCP connection that never carried data
            return self._not_tls()
        if "not_tls" in self.by_type and self.first_event("not_tls", "server") is not None \
                and self.first_event("not_tls", "client") is None:
            return self._not_tls()
        self.hello_facts()
        # The deciding alert is the first fatal one in clear; failing that, a warning alert
        # that ends things (the client refusing renegotiation, SSLv3's no_certificate).
        fatal = warn = hidden = None
        for a in c.alerts:
            code = a.code
            if code is None:
                if hidden is None:
                    hidden = a
            elif a.level == "fatal":
                fatal = a
                break
            elif warn is None and (code == NO_RENEGOTIATION or code == NO_CERTIFICATE):
                warn = a
        if fatal is None:
            fatal = warn
        if fatal is not None:
            return self._alert_case(fatal)
        if c.established and hidden is not None and not self.tls13 \
                and self._post_handshake_phase(hidden.frame) == "renegotiation":
            return self._hidden_alert_case(hidden)  # an encrypted alert inside a renegotiation
        if c.established:
            return self._after_handshake()
        if hidden is not None:
            return self._hidden_alert_case(hidden)
        return self._no_alert_case()

    # -- not TLS --------------------------------------------------------------------------
    def _not_tls(self) -> Diagnosis:
        c = self.c
        client_plain = self.first_event("not_tls", "client")
        server_plain = self.first_event("not_tls", "server")
        close = c.tcp_close
        how = close.how if close else ("capture_ended" if c.partial else None)
        by = close.by if close else None
        if client_plain is not None and client_plain.info.get("looks_like", "").startswith("HTTP"):
            text = client_plain.info.get("first_bytes", "")[:40].split("\r")[0]
            self.evidence.append(_evidence(f"The client sends plain text, not a ClientHello: {text!r}.", [client_plain.frame]))
            conf = "likely"
            if server_plain is not None:
                sample = server_plain.info.get("first_bytes", "")
                self.evidence.append(_evidence(f"The server answers in plain text: {sample[:40].splitlines()[0] if sample else ''!r}.", [server_plain.frame]))
                conf = "certain" if "HTTP/1." in sample else "likely"
            return _diagnosis("not_tls", "plaintext_http_on_tls_port", conf, failure_point="client_hello",
                             aborted_by=by, how=how,
                             explanation=(f"The client spoke plain HTTP to {c.server}, a port that expects TLS; "
                                          "the server could not make sense of it and the exchange ended there."))
        if server_plain is not None and client_plain is None:
            sample = server_plain.info.get("first_bytes", "")
            looks = server_plain.info.get("looks_like", "")
            self.evidence.append(_evidence(f"The server answers in plain text ({looks}): {sample[:40].splitlines()[0] if sample else ''!r}.", [server_plain.frame]))
            return _diagnosis("not_tls", "tls_to_plaintext_server", "certain" if looks.startswith("HTTP") else "likely",
                             failure_point="client_hello", aborted_by=by or "server", how=how,
                             explanation=(f"The client started a TLS handshake with {c.server}, but the server on "
                                          f"that port speaks plain text ({looks}), not TLS."))
        what = c.not_tls or "no payload"
        return _diagnosis("not_tls", "not_tls", "certain", aborted_by=by, how=how,
                         explanation=f"This connection does not carry TLS (it looks like {what}).")

    # -- with a readable alert ------------------------------------------------------------
    def _alert_case(self, a: Alert) -> Diagnosis:
        self.alert_evidence(a)
        phase = self._phase_at(a.frame, a.sender)
        cause, conf, alts, expl = self._cause_for_alert(a, phase)
        return _diagnosis("failed", cause, conf, failure_point=phase, aborted_by=a.sender, how="alert",
                         alert=_alert_dict(a), alternatives=alts, explanation=expl)

    def _phase_at(self, frame: int, sender: str) -> str:
        """Which step the aborting side was at: what it had received from the other side."""
        if self.has("client_hello", "client", frame) is None:
            return "client_hello"
        if self.c.established:
            return self._post_handshake_phase(frame)
        sh = self.has("server_hello", "server", frame) or self.has("hello_retry_request", "server", frame)
        if sh is None:
            return "client_hello"
        if sender == "client":
            # What the server sent last decides: its certificate, its key exchange, its Finished.
            peer_msgs = self.names("server", frame)
            if "certificate" in peer_msgs or (self.tls13 and self.protected("server", 0, frame)):
                return "server_certificate"
            if peer_msgs and peer_msgs[-1] in ("server_hello", "hello_retry_request"):
                return "server_hello"
            return "server_certificate" if "server_key_exchange" not in peer_msgs else "key_exchange"
        # The server aborts after the client's second flight.
        client_names = [e.info.get("message") for e in self.hs
                        if e.sender == "client" and sh.frame < e.frame <= frame]
        if "certificate" in client_names or self.has("certificate_request", "server", frame) is not None:
            return "client_certificate"
        if "client_key_exchange" in client_names:
            return "key_exchange" if "finished" not in client_names else "finished"
        if self.tls13 and self.protected("client", sh.frame, frame):
            return "client_certificate"
        return "server_hello" if sender == "server" and not client_names else "finished"

    def _post_handshake_phase(self, frame: int) -> str:
        """After both Finished: a renegotiation (TLS <= 1.2), post-handshake auth (1.3), or data."""
        # The first handshake ends with the first application data (or, failing that, the
        # second Finished): handshake messages after that point are post-handshake.
        data = self._app_data()
        if data:
            last_fin = data[0].frame
        else:
            fin = [e for e in self.hs if e.info.get("message") == "finished"]
            if len(fin) < 2:
                return "application_data"
            last_fin = fin[1].frame
        names = [e.info.get("message") for e in self.hs if last_fin < e.frame <= frame]
        if self.tls13:
            return "post_handshake_auth" if "certificate_request" in names else "application_data"
        if "hello_request" in names or "client_hello" in names:
            return "renegotiation"
        enc_hs = [e for e in self.enc if last_fin < e.frame <= frame and e.info.get("content_type") == "handshake"
                  and self._after_app_data(e.frame)]
        if enc_hs:
            # Data flowing again after the renegotiation means it succeeded.
            last = enc_hs[-1].frame
            if any(last < e.frame < frame for e in data):
                return "application_data"
            return "renegotiation"
        return "application_data"

    def _after_app_data(self, frame: int) -> bool:
        """Some application data precedes ``frame`` (the lowest data frame, worked out once)."""
        first = self._data_min
        if first is None:
            data = self._app_data()
            if not data:
                return False
            first = self._data_min = min(e.frame for e in data)
        return first < frame

    def _cause_for_alert(self, a: Alert, phase: str) -> tuple[str, str, list[str], str]:
        c = self.c
        code = a.code
        name = f"{a.name} ({a.hex})"
        if phase == "client_hello" and a.sender == "server":
            return self._server_rejects_hello(a, name)
        if phase == "server_hello" and a.sender == "client":
            if code == PROTOCOL_VERSION or code == INAPPROPRIATE_FALLBACK:
                return ("protocol_version_mismatch", "likely", [],
                        f"The server chose {c.version}, which the client does not accept; the client answered {name}.")
            return ("unknown", "possible", ["protocol_version_mismatch", "no_shared_cipher"],
                    f"The client rejected the server's hello ({c.version}, {c.cipher}) with {name}.")
        if phase in ("server_certificate", "key_exchange") and a.sender == "client":
            return self._client_rejects_server_cert(a, name, phase)
        if phase == "client_certificate" and a.sender == "server":
            return self._server_rejects_client_cert(a, name)
        if phase in ("renegotiation", "post_handshake_auth"):
            return self._post_handshake_failure(a, name, phase)
        if phase == "finished":
            return ("unknown", "possible", [],
                    f"The {a.sender} rejected the end of the handshake with {name}: typically the Finished "
                    "check failed (a TLS bug, a middlebox altering bytes, or mismatched pre-shared keys).")
        return ("unknown", "possible", [],
                f"The {a.sender} aborted with {name} during {phase.replace('_', ' ')}; the capture does not show why.")

    def _server_rejects_hello(self, a: Alert, name: str) -> tuple[str, str, list[str], str]:
        c = self.c
        ch = c.client_hello
        code = a.code
        max_v = ch.max_version if ch is not None else None
        legacy = max_v is not None and max_v < 0x0303 and max_v >= 0x0300
        if legacy and code in (PROTOCOL_VERSION, HANDSHAKE_FAILURE, INTERNAL_ERROR, INSUFFICIENT_SECURITY):
            return ("legacy_protocol_rejected", "certain" if code == PROTOCOL_VERSION else "likely", [],
                    f"The client offers at most {tables.version_name(max_v)}, an obsolete protocol the server no "
                    f"longer accepts; the server refused the ClientHello with {name}.")
        if code in (PROTOCOL_VERSION, INAPPROPRIATE_FALLBACK):
            if ch is not None and ch.supported_versions and min(v for v in ch.supported_versions if not tables.is_grease(v)) >= 0x0304:
                detail = "The client offers only TLS 1.3, which the server does not support"
            else:
                offered = [tables.version_name(v) for v in ((ch.supported_versions or [ch.legacy_version]) if ch else [])
                           if not tables.is_grease(v)]
                detail = f"The client offers {', '.join(offered) or 'versions'} and the server accepts none of them"
            return ("protocol_version_mismatch", "certain", [], f"{detail}; the server answered {name}.")
        if code in (HANDSHAKE_FAILURE, INSUFFICIENT_SECURITY):
            n = len(ch.cipher_suites) if ch else 0
            return ("no_shared_cipher", "likely", ["protocol_version_mismatch"],
                    f"None of the {n} cipher suites the client offers (or none of its key-exchange groups / "
                    f"signature algorithms) is acceptable to the server, which refused the ClientHello with {name}.")
        if code == UNRECOGNIZED_NAME:
            sni = c.server_name
            return ("sni_rejected", "certain", [],
                    (f"The server has no site for the requested name {sni}" if sni else
                     "The client sent no server name (SNI) and the server requires one")
                    + f"; it refused the handshake with {name}.")
        if code == ACCESS_DENIED:
            return ("sni_rejected", "possible", ["unknown"],
                    f"The server refused the ClientHello with {name}: a policy (SNI/ACL) denies this client or name.")
        if code in (ILLEGAL_PARAMETER, DECODE_ERROR):
            return ("unknown", "possible", [],
                    f"The server found a field of the ClientHello invalid and refused it with {name} (a buggy or "
                    "unusual client, or a middlebox rewriting it).")
        if code == INTERNAL_ERROR:
            return ("no_shared_cipher", "possible", ["legacy_protocol_rejected", "unknown"],
                    f"The server refused the ClientHello with {name}; OpenSSL-based servers answer this way when "
                    "nothing in the hello is acceptable.")
        return ("unknown", "possible", [], f"The server refused the ClientHello with {name}.")

    def _finding(self, fid: str) -> Optional[Any]:
        """The server chain's first finding ``fid``, or None."""
        chain = self.server_chain
        if chain is not None:
            for f in chain.findings:
                if f.id == fid:
                    return f
        return None

    def _cert_evidence(self) -> None:
        chain = self.server_chain
        if chain is None or not chain.certificates:
            return
        cert_ev = self.has("certificate", "server")
        frames = [cert_ev.frame] if cert_ev else []
        self.evidence += [_evidence(text, frames) for text in _chain_texts(chain)]

    def _client_rejects_server_cert(self, a: Alert, name: str, phase: str) -> tuple[str, str, list[str], str]:
        self._cert_evidence()
        chain = self.server_chain
        code = a.code
        if chain is None:
            if self.tls13:
                self.hidden.append("the server's certificate (TLS 1.3 encrypts it); " + self._keys_hint())
            if code == CERTIFICATE_EXPIRED:
                return ("server_cert_expired", "likely", ["server_cert_not_yet_valid"],
                        f"The client refused the server's certificate with {name}: the certificate (or one in its "
                        "chain) was outside its validity period by the client's clock. The certificate itself is "
                        "not visible in the capture.")
            return ("server_cert_rejected", "possible" if code not in CERT_ALERTS else "likely",
                    (["server_chain_incomplete", "server_cert_untrusted", "server_cert_self_signed"] if code == UNKNOWN_CA else
                     ["server_chain_incomplete", "server_cert_untrusted", "server_cert_expired", "server_cert_hostname_mismatch"]),
                    f"The client refused the server's certificate with {name}; the certificate itself is not "
                    "visible in the capture, so the exact reason cannot be told.")
        ids = {f.id for f in chain.findings}
        order = _FINDINGS_BY_ALERT.get(code, _FINDINGS_OTHER_ALERT)
        found = [fid for fid in order if fid in ids]
        if found:
            fid = found[0]
            f = self._finding(fid)
            others = [_FINDING_CAUSE[x] for x in found[1:] if x in _FINDING_CAUSE]
            conf = "certain" if code in _EXPECTED_ALERTS.get(fid, ()) and len(found) == 1 else "likely"
            text = f.text if f is not None else ""
            return (_FINDING_CAUSE.get(fid, "server_cert_rejected"), conf, others,
                    f"The client refused the server's certificate with {name}. {text}".strip())
        leaf = chain.certificates[0] if chain.certificates else None
        leaf_name = leaf.label if leaf else "the certificate"
        # No finding explains it: a complete chain the client does not trust.
        if code in (UNKNOWN_CA, BAD_CERTIFICATE, CERTIFICATE_UNKNOWN) and chain.certificates:
            top = chain.certificates[chain.path[-1]] if chain.path else chain.certificates[-1]
            return ("server_cert_untrusted", "likely", ["server_chain_incomplete"],
                    f"The client refused the server's certificate {leaf_name} with {name}. The chain looks complete "
                    f"(it ends at {top.label}, issued by {top.issuer_label}), so the client does not trust that root CA.")
        return ("server_cert_rejected", "possible", [],
                f"The client refused the server's certificate {leaf_name} with {name}.")

    def _server_rejects_client_cert(self, a: Alert, name: str) -> tuple[str, str, list[str], str]:
        c = self.c
        code = a.code
        cert_msg = self.has("certificate", "client", a.frame)
        req = c.certificate_request
        ca_names: tuple[str, ...] = ()
        if req is not None:
            ca_names, text = _requested_cas(req.certificate_authorities)
            cr_ev = self.has("certificate_request", "server")
            self.evidence.append(_evidence(text, [cr_ev.frame] if cr_ev else []))
        sent = c.client_certificate_sent
        if cert_msg is not None:
            self.evidence.append(_evidence(
                "The client's Certificate message is empty." if not sent else
                f"The client sends {len(c.client_certificates_der)} certificate(s).", [cert_msg.frame]))
        if sent is False or (cert_msg is None and code in (HANDSHAKE_FAILURE, CERTIFICATE_REQUIRED, NO_CERTIFICATE) and not self.tls13):
            return ("client_cert_missing", "certain" if sent is False else "likely", [],
                    "The server requires a client certificate and the client did not send one"
                    + (f" (it accepts certificates issued by {ca_names[0]})" if len(ca_names) == 1 else "")
                    + f"; the server aborted with {name}.")
        if sent is None and self.tls13:
            # TLS 1.3 without keys: the client's certificate flight is encrypted.
            self.hidden.append("the CertificateRequest and the client's Certificate (encrypted in TLS 1.3); " + self._keys_hint())
            if code == CERTIFICATE_REQUIRED:
                return ("client_cert_missing", "certain", [],
                        f"The server requires a client certificate and the client did not send one; the server aborted with {name}.")
            return ("client_cert_rejected", "likely", ["client_cert_missing"],
                    f"The server aborted with {name} right after the client's certificate flight.")
        # A certificate was sent and refused: find the reason.
        reason = ""
        for f in self.client_findings:
            if f.id == "issuer_not_requested":
                reason = f.text
                break
        client_chain = self.client_chain
        if not reason and client_chain is not None:
            for f in client_chain.findings:
                if f.id in ("expired", "not_yet_valid", "eku_not_client_auth", "self_signed_leaf"):
                    reason = f.text
                    break
        if reason:
            self.evidence.append(_evidence(reason, [cert_msg.frame] if cert_msg else []))
        leaf = client_chain.certificates[0] if client_chain is not None and client_chain.certificates else None
        who = f" {leaf.label} (issued by {leaf.issuer_label})" if leaf else ""
        expl = f"The server rejected the client certificate{who} with {name}."
        if reason:
            expl += " " + reason
        elif code == UNKNOWN_CA:
            expl += " The server does not trust the CA that issued it."
        return ("client_cert_rejected", "certain" if reason or code in CERT_ALERTS else "likely", [], expl)

    def _post_handshake_failure(self, a: Alert, name: str, phase: str) -> tuple[str, str, list[str], str]:
        c = self.c
        code = a.code
        client_certs = [e for e in self.hs if e.sender == "client" and e.info.get("message") == "certificate"
                        and e.frame > 0]
        later_cert = [e for e in client_certs if e.frame <= a.frame]
        if phase == "renegotiation":
            refusal = next((x for x in c.alerts if x.code == NO_RENEGOTIATION), None)
            if refusal is not None:
                if refusal is not a:
                    self.alert_evidence(refusal)
                initiator = _other(refusal.sender)
                return ("renegotiation_refused", "certain", [],
                        f"The {initiator} started a renegotiation and the {refusal.sender} refused it "
                        f"(no_renegotiation, frame {refusal.frame}); the {a.sender} then aborted with {name}.")
            client_hs_after = [e for e in self.hs if e.sender == "client" and e.info.get("message") == "client_hello"
                               and self._after_app_data(e.frame)]
            client_enc_after = [e for e in self.enc if e.sender == "client" and e.info.get("content_type") == "handshake"
                                and self._after_app_data(e.frame)]
            if a.code == NO_RENEGOTIATION or (not client_hs_after and not client_enc_after and a.sender == "server"):
                return ("renegotiation_refused", "certain" if a.code == NO_RENEGOTIATION else "likely", [],
                        "The server asked the client to renegotiate (to request a client certificate for a "
                        "protected location) and the client refused; the server then aborted with "
                        f"{name}.")
        if code in (HANDSHAKE_FAILURE, CERTIFICATE_REQUIRED, NO_CERTIFICATE) or (
            later_cert and c.client_certificate_sent is False
        ):
            empty = any(e.info.get("certificates") == 0 for e in later_cert)
            if empty or code == CERTIFICATE_REQUIRED or not later_cert:
                where = "during a renegotiation" if phase == "renegotiation" else "in post-handshake authentication"
                return ("client_cert_missing", "certain" if empty or code == CERTIFICATE_REQUIRED else "likely", [],
                        f"The server requested a client certificate {where} (for a protected location) and the "
                        f"client sent none; the server aborted with {name}.")
        if code in CERT_ALERTS:
            return ("client_cert_rejected", "likely", [],
                    f"The server rejected the client certificate sent {phase.replace('_', ' ')} with {name}.")
        return ("unknown", "possible", [], f"The {a.sender} aborted {phase.replace('_', ' ')} with {name}.")

    # -- encrypted alert without keys -----------------------------------------------------
    def _hidden_alert_case(self, a: Alert) -> Diagnosis:
        c = self.c
        self.alert_evidence(a)
        self.hidden.append("the alert's description (encrypted); " + self._keys_hint())
        phase = self._phase_at(a.frame, a.sender)
        if c.established or phase in ("renegotiation", "application_data"):
            phase = self._post_handshake_phase(a.frame)
        if phase == "renegotiation":
            return self._hidden_renegotiation(a)
        # A client that closes right after the handshake without sending data: TLS 1.2 curl
        # after a failed host name check sends an encrypted close_notify.
        if a.sender == "client" and not self._client_sent_data_before(a.frame):
            f = self._finding("hostname_mismatch")
            if f is not None:
                self._cert_evidence()
                return _diagnosis("failed", "server_cert_hostname_mismatch", "likely", failure_point="server_certificate",
                                 aborted_by="client", how="alert", alert=_alert_dict(a),
                                 explanation=("The handshake completed, then the client closed without sending a request "
                                              "(curl does this after its own host name check fails). " + f.text))
            return _diagnosis("failed", "client_closed_without_alert" if c.established else "server_cert_rejected", "possible",
                             failure_point="server_certificate", aborted_by="client", how="alert", alert=_alert_dict(a),
                             alternatives=["server_cert_rejected"],
                             explanation="The client ended the session with an encrypted alert before sending any data.")
        return _diagnosis("failed", "unknown", "possible", failure_point=phase, aborted_by=a.sender, how="alert",
                         alert=_alert_dict(a), explanation=f"The {a.sender} aborted with an encrypted alert during {phase.replace('_', ' ')}.")

    def _hidden_renegotiation(self, first: Alert) -> Diagnosis:
        """A TLS 1.2 renegotiation that ends in encrypted alerts, read from who sent what.

        The client answering the server's renegotiation with an alert of its own (and no new
        handshake) is a refusal (no_renegotiation); a client that did renegotiate and then got
        the server's alert most often lacked the certificate the server wanted (Apache's
        per-directory SSLVerifyClient is what renegotiates)."""
        c = self.c
        hidden = [x for x in c.alerts if x.code is None and x.frame >= first.frame]
        server_alert = next((x for x in hidden if x.sender == "server"), None)
        client_alert = next((x for x in hidden if x.sender == "client"), None)
        deciding = server_alert or first
        client_renegotiated = any(
            e.sender == "client" and e.info.get("content_type") == "handshake" and self._after_app_data(e.frame)
            for e in self.enc)
        if client_alert is not None and server_alert is not None and client_alert.frame < server_alert.frame \
                and not client_renegotiated:
            self.alert_evidence(server_alert)
            return _diagnosis("failed", "renegotiation_refused", "likely", failure_point="renegotiation",
                             aborted_by="server", how="alert", alert=_alert_dict(server_alert),
                             explanation=("After the handshake the server asked to renegotiate (an encrypted handshake "
                                          "record after application data); the client answered with an alert instead of "
                                          "a new handshake — a refusal — and the server then aborted. Apache does this "
                                          "for per-directory client authentication."))
        if server_alert is not None and client_renegotiated:
            if server_alert is not first:
                self.alert_evidence(server_alert)
            return _diagnosis("failed", "client_cert_missing", "possible", failure_point="renegotiation",
                             aborted_by="server", how="alert", alert=_alert_dict(server_alert),
                             alternatives=["client_cert_rejected"],
                             explanation=("The server renegotiated after the handshake (Apache does this to ask for a "
                                          "client certificate for one location), the client took part, and the server "
                                          "then aborted: most often the client had no acceptable certificate. The "
                                          "renegotiation is encrypted; supply the key log to see it."))
        cause, conf, alts, expl = self._post_handshake_failure(deciding, "an encrypted alert", "renegotiation")
        return _diagnosis("failed", cause, "likely" if conf == "certain" else conf, failure_point="renegotiation",
                         aborted_by=deciding.sender, how="alert", alert=_alert_dict(deciding), alternatives=alts,
                         explanation=expl)

    def _client_sent_data_before(self, frame: int) -> bool:
        for e in self.c.events:
            if e.frame >= frame:
                break
            if e.sender == "client" and e.type in ("encrypted_record", "application_data") and \
                    e.info.get("content_type", "application_data") == "application_data":
                return True
        return False

    # -- established ----------------------------------------------------------------------
    def _after_handshake(self) -> Diagnosis:
        c = self.c
        # curl's host name check: the handshake completes, then the client closes at once.
        f = self._finding("hostname_mismatch")
        if f is not None and not self._client_sent_data_before(10**12):
            self._cert_evidence()
            notify = next((a for a in c.alerts if a.sender == "client" and a.code == CLOSE_NOTIFY), None)
            if notify is not None:
                self.alert_evidence(notify)
            return _diagnosis("failed", "server_cert_hostname_mismatch", "likely", failure_point="server_certificate",
                             aborted_by="client", how="alert" if notify else (c.tcp_close.how if c.tcp_close else "fin"),
                             alert=_alert_dict(notify) if notify else None,
                             explanation=("The handshake completed but the client closed without sending a request, as "
                                          "curl does when its host name check fails. " + f.text))
        # (Each rule is called only when the facts it starts from are there: decrypted
        # application data, a CertificateRequest, a closing reset.)
        if "application_data" in self.by_type:
            refused = self._http_refusal()
            if refused is not None:
                return refused
        if c.certificate_request is not None:
            client_auth = self._client_auth_after_handshake()
            if client_auth is not None:
                return client_auth
        close = c.tcp_close
        if close is not None and close.how == "rst":
            reset = self._reset_after_handshake()
            if reset is not None:
                return reset
        return _diagnosis("established", "ok", "certain",
                         explanation=f"The TLS handshake completed ({c.version}, {c.cipher}).")

    def _client_auth_after_handshake(self) -> Optional[Diagnosis]:
        """A server that asked for a client certificate, got none (or a bad one), completed the
        handshake anyway and then closed: nginx's ssl_verify_client answers HTTP 400 this way."""
        c = self.c
        if c.certificate_request is None or c.client_certificate_sent is None or self.tls13:
            return None
        close = c.tcp_close
        problem = None
        if c.client_certificate_sent is False:
            problem = "client_cert_missing"
        else:
            bad = [f for f in self.client_findings if f.id == "issuer_not_requested"]
            if self.client_chain is not None:
                bad += [f for f in self.client_chain.findings if f.id in ("expired", "not_yet_valid", "eku_not_client_auth")]
            if bad:
                problem = "client_cert_rejected"
                for f in bad:
                    self.evidence.append(_evidence(f.text, [e.frame for e in self.hs if e.sender == "client"
                                                           and e.info.get("message") == "certificate"][:1]))
        if problem is None:
            return None
        resp = next((e for e in self.by_type.get("application_data", _NONE) if e.sender == "server"), None)
        preview = str(resp.info.get("preview", "")) if resp is not None else ""
        server_refused = preview[9:12] in ("400", "403", "495", "496") if preview.startswith("HTTP/") else None
        if server_refused is False:
            return None  # the server answered normally: client authentication was optional
        if server_refused is None:
            # Without the key log we cannot see whether the server refused the request: the
            # handshake itself succeeded, so say so, and name the risk.
            return _diagnosis("established", "ok", "likely", alternatives=[problem],
                             explanation=(f"The TLS handshake completed ({c.version}, {c.cipher}), but the server asked "
                                          "for a client certificate and the client "
                                          + ("sent none" if problem == "client_cert_missing" else "sent one the server did not ask for")
                                          + ". A server that requires it (nginx ssl_verify_client on) refuses the request "
                                          "inside the encrypted session; supply the key log to see its answer."))
        if server_refused:
            self.evidence.append(_evidence(f"The server answers HTTP {preview[9:12]} (decrypted): {preview.split(chr(13))[0]!r}.", [resp.frame]))
        cert_ev = next((e for e in self.hs if e.sender == "client" and e.info.get("message") == "certificate"), None)
        if problem == "client_cert_missing" and cert_ev is not None:
            self.evidence.append(_evidence("The client answers the CertificateRequest with an empty Certificate.", [cert_ev.frame]))
        return _diagnosis("established", problem, "certain" if server_refused else "likely",
                         failure_point="application_data", aborted_by="server",
                         how=close.how if close is not None else None,
                         explanation=("The server asked for a client certificate and "
                                      + ("got none" if problem == "client_cert_missing" else "got one it does not accept")
                                      + ", completed the handshake anyway, and then refused the request"
                                      + (f" (HTTP {preview[9:12]})" if server_refused else " and closed the connection")
                                      + ": nginx's ssl_verify_client behaves like this (Apache aborts the handshake instead)."))

    def _http_refusal(self) -> Optional[Diagnosis]:
        """Decrypted HTTP tells what TLS bytes cannot: a 403 for a missing SNI (Apache's
        SSLStrictSNIVHostCheck) or for a client certificate TLS 1.3 could not ask for."""
        c = self.c
        app = self.by_type.get("application_data")
        if not app:
            return None
        resp = next((e for e in app if e.sender == "server"
                     and str(e.info.get("preview", "")).startswith("HTTP/")), None)
        if resp is None:
            return None
        status = str(resp.info.get("preview", ""))[9:12]
        if status not in ("403", "421"):
            return None
        req = next((e for e in self.by_type.get("application_data", _NONE) if e.sender == "client"), None)
        self.evidence.append(_evidence(f"The server answers the request with HTTP {status} (decrypted).", [resp.frame]))
        close = c.tcp_close
        ch = c.client_hello
        if ch is not None and not ch.server_name:
            host = ""
            if req is not None:
                for line in str(req.info.get("preview", "")).split("\r\n"):
                    if line.lower().startswith("host:"):
                        host = line[5:].strip()
            self.evidence.append(_evidence("The ClientHello carries no server name (SNI)"
                                          + (f", while the request asks for Host: {host}." if host else "."),
                                          [e.frame for e in self.hs[:1]]))
            return _diagnosis("established", "sni_rejected", "likely", failure_point="application_data",
                             aborted_by="server", how=close.how if close else None,
                             explanation=("The handshake completed without a server name (SNI), and the server refused "
                                          f"the request with HTTP {status}: a server that requires SNI for name-based "
                                          "virtual hosts (Apache's SSLStrictSNIVHostCheck) does this."))
        if self.tls13 and ch is not None and ch.ext(49) is None:
            self.evidence.append(_evidence("The client did not offer post_handshake_auth, so a TLS 1.3 server cannot "
                                          "ask it for a certificate after the handshake.", [e.frame for e in self.hs[:1]]))
            return _diagnosis("established", "client_cert_missing", "possible", failure_point="post_handshake_auth",
                             aborted_by="server", how=close.how if close else None, alternatives=["unknown"],
                             explanation=(f"The server refused the request with HTTP {status}. With TLS 1.3 a server that "
                                          "wants a client certificate for one location (Apache's per-directory "
                                          "SSLVerifyClient) must use post-handshake authentication, which this client "
                                          "did not offer."))
        return None

    def _reset_after_handshake(self) -> Optional[Diagnosis]:
        """A reset after the handshake with no close_notify before it from the side that reset."""
        c = self.c
        close = c.tcp_close
        if close is None or close.how != "rst":
            return None
        by = close.by
        said_bye = any(a.sender == by and a.frame <= close.frame for a in c.alerts)
        peer = _other(by)
        peer_closed = any(e.sender == peer and e.frame < close.frame
                          for typ in ("fin", "rst") for e in self.by_type.get(typ, _NONE)) or \
            any(a.sender == peer and a.frame < close.frame for a in c.alerts)
        if said_bye or peer_closed or self._probable_alert(by, close.frame) is not None:
            return None
        self.evidence.append(_evidence(f"The {by} resets the connection after the handshake without a close_notify.", [close.frame]))
        return _diagnosis("established", "connection_reset", "likely", failure_point="application_data",
                         aborted_by=by, how="rst", alternatives=["middlebox_reset"],
                         explanation=(f"The handshake completed, then the {by} reset the connection without closing the TLS "
                                      "session first: the application crashed, was killed, or gave up."))

    # -- no alert at all ------------------------------------------------------------------
    def _no_alert_case(self) -> Diagnosis:
        c = self.c
        close = c.tcp_close
        ch = self.has("client_hello", "client")
        rst = self.by_type.get("rst", _NONE)
        if ch is None:
            if not c.client_stats.bytes:
                if "syn_ack" not in self.by_type:
                    refused = self.first_event("rst", "server") is not None
                    self.evidence.append(_evidence("The client's SYN " + ("is refused with a reset." if refused else "gets no answer."),
                                                  [e.frame for e in c.events if e.type in ("syn", "rst")][:3]))
                    return _diagnosis("failed", "connection_reset" if refused else "server_no_response", "certain",
                                     failure_point="tcp_connect", aborted_by="server" if refused else "unknown",
                                     how="rst" if refused else "no_response",
                                     explanation=("The server refused the TCP connection (port closed)." if refused else
                                                  "The server never answered the TCP connection request."))
            return _diagnosis("incomplete", "unknown", "possible", failure_point="client_hello",
                             how="capture_ended" if c.partial else (close.how if close else None),
                             aborted_by=close.by if close else None,
                             explanation="The capture does not contain this connection's ClientHello (it starts mid-connection).")
        sh = self.has("server_hello", "server") or self.has("hello_retry_request", "server")
        # Middlebox: resets both ways at once, or a reset whose TTL differs from the endpoint's.
        mb = self._middlebox_evidence() if rst else ""  # (it reads the resets: none, nothing to say)
        if mb:
            first_rst = rst[0]
            if sh is not None:
                phase = self._phase_at(first_rst.frame, _other(first_rst.sender))
            else:
                # The server had started its answer (a partial ServerHello) or not at all.
                phase = "server_hello" if c.server_stats.bytes else "client_hello"
            return _diagnosis("failed", "middlebox_reset", "likely", failure_point=phase,
                             aborted_by="middlebox", how="rst",
                             explanation=("The connection was reset by something on the path, not by the endpoints: "
                                          + mb))
        if sh is None:
            if not self.sent("server", ("handshake", "encrypted_record", "alert")):
                if close is None and (c.end_time - ch.time) < 1.0:
                    step = self._next_step()
                    return _diagnosis("incomplete", "unknown", "possible", failure_point=step, how="capture_ended",
                                     aborted_by="unknown",
                                     explanation=("The capture ends right after the ClientHello, before the server "
                                                  "could answer; nothing shows a failure."))
                if close is None or (close.by == "client" and close.how == "fin"):
                    who = "client" if close else None
                    waited = ""
                    if close is not None:
                        waited = f" The client gave up after {close.time - ch.time:.1f} s."
                        self.evidence.append(_evidence("The client closes the connection.", [close.frame]))
                    return _diagnosis("incomplete", "server_no_response", "certain" if close else "likely",
                                     failure_point="client_hello", aborted_by=who,
                                     how="no_response",
                                     explanation=f"The server accepted the TCP connection but never answered the ClientHello.{waited}")
                self.evidence.append(_evidence(f"The {close.by} {'resets' if close.how == 'rst' else 'closes'} the connection.", [close.frame]))
                if close.by == "server":
                    if close.how == "rst":
                        return _diagnosis("failed", "connection_reset", "likely", failure_point="client_hello",
                                         aborted_by="server", how="rst", alternatives=["middlebox_reset", "sni_rejected"],
                                         explanation="The server reset the connection in answer to the ClientHello, without a TLS alert.")
                    return _diagnosis("failed", "server_closed_without_alert", "likely", failure_point="client_hello",
                                     aborted_by="server", how="fin", alternatives=["sni_rejected", "no_shared_cipher"],
                                     explanation="The server closed the connection in answer to the ClientHello, without a TLS alert.")
                return _diagnosis("failed", "connection_reset", "possible", failure_point="client_hello",
                                 aborted_by=close.by, how=close.how,
                                 explanation="The client reset the connection before the server answered.")
        # The handshake got somewhere and stopped without an alert in clear.
        waited = self._unanswered_flight()
        if waited is not None:
            last_client, phase = waited
            if close is not None:
                self.evidence.append(_evidence(
                    f"The server sends nothing after the client's {last_client.info.get('message', 'flight')}; "
                    f"the client gives up {close.time - last_client.time:.1f} s later.", [last_client.frame, close.frame]))
            return _diagnosis("incomplete", "server_no_response", "likely", failure_point=phase,
                             aborted_by="client" if close is not None else None, how="no_response",
                             alternatives=["middlebox_reset"],
                             explanation=("The client sent its part of the handshake and the server never answered it"
                                          + (f"; the client gave up after {close.time - last_client.time:.1f} s." if close else ".")
                                          + " A server that hangs, or a device on the path that drops the server's "
                                          "packets, looks like this."))
        if close is None:
            step = self._next_step()
            return _diagnosis("incomplete", "unknown", "possible", failure_point=step,
                             how="capture_ended", aborted_by="unknown",
                             explanation=(f"The capture ends before the handshake does (the next step, "
                                          f"{step.replace('_', ' ')}, is not in it). Nothing shows a failure; "
                                          "capture longer or with a larger buffer to see the end."))
        phase = self._phase_at(close.frame, close.by)
        # TLS 1.3 without keys: a small protected record right before the close is a probable alert.
        probable = self._probable_alert(close.by, close.frame)
        if probable is not None:
            self.evidence.append(_evidence(
                f"The {close.by} sends a {probable.info.get('length')}-byte encrypted record right before closing: "
                "the size of an encrypted alert.", [probable.frame]))
            self.hidden.append("the alert's description (TLS 1.3 encrypts it); " + self._keys_hint())
            if close.by == "client":
                self.hidden.append("the server's certificate (TLS 1.3 encrypts it); " + self._keys_hint())
                return _diagnosis("failed", "server_cert_rejected", "possible", failure_point="server_certificate",
                                 aborted_by="client", how="alert",
                                 alert={"code": None, "hex": None, "name": None, "level": None, "sender": "client",
                                        "encrypted": True, "frame": probable.frame, "probable": True},
                                 alternatives=["server_chain_incomplete", "server_cert_untrusted", "server_cert_hostname_mismatch",
                                               "server_cert_expired"],
                                 explanation=("Right after the server's encrypted handshake flight the client sent a probable "
                                              "encrypted alert and closed: most often the client refused the server's "
                                              "certificate. The certificate and the alert are encrypted in TLS 1.3; supply "
                                              "the client's key log to see which."))
            big_flight = sum(e.info.get("length", 0) for e in self.protected("client", 0, probable.frame)) > 300
            return _diagnosis("failed", "client_cert_rejected" if big_flight else "client_cert_missing", "possible",
                             failure_point="client_certificate", aborted_by="server", how="alert",
                             alert={"code": None, "hex": None, "name": None, "level": None, "sender": "server",
                                    "encrypted": True, "frame": probable.frame, "probable": True},
                             alternatives=["client_cert_missing" if big_flight else "client_cert_rejected"],
                             explanation=("Right after the client's encrypted flight the server sent a probable encrypted "
                                          "alert and closed: typical of a server that requires a client certificate and "
                                          + ("rejects the one it got." if big_flight else "did not get one.")
                                          + " Supply the key log to read the alert."))
        by = close.by
        if self.tls13 and phase == "server_certificate" and self.has("certificate", "server") is None:
            phase = "server_hello"  # the rest of the server's flight is encrypted: we only saw its hello
        self.evidence.append(_evidence(f"The {by} {'resets' if close.how == 'rst' else 'closes'} the connection without a TLS alert.", [close.frame]))
        if close.how == "rst":
            return _diagnosis("failed", "connection_reset", "likely", failure_point=phase, aborted_by=by, how="rst",
                             alternatives=["middlebox_reset"],
                             explanation=f"The {by} reset the connection during {phase.replace('_', ' ')} without a TLS alert.")
        cause = "client_closed_without_alert" if by == "client" else "server_closed_without_alert"
        return _diagnosis("failed", cause, "likely", failure_point=phase, aborted_by=by, how="fin",
                         explanation=f"The {by} closed the connection during {phase.replace('_', ' ')} without a TLS alert.")

    def _next_step(self) -> str:
        """The handshake step that was due when the capture ended."""
        names = {(e.sender, e.info.get("message")) for e in self.hs}
        if ("client", "client_hello") not in names or not (("server", "server_hello") in names or ("server", "hello_retry_request") in names):
            return "client_hello"
        if self.c.established:
            return "application_data"
        if self.tls13:
            return "finished"
        if ("client", "client_key_exchange") in names or self.first_event("change_cipher_spec", "client") is not None:
            return "finished"
        if ("server", "server_hello_done") in names:
            return "key_exchange"
        return "server_certificate"

    def _unanswered_flight(self) -> Optional[tuple[Event, str]]:
        """The client's last handshake flight got no answer at all, and the client waited
        (at least a second) before closing: the server (or the path) went silent."""
        c = self.c
        # (The tests that need no scan of the timeline first.)
        if c.server_stats.bytes == 0:
            return None  # nothing at all from the server: handled as "no answer to the ClientHello"
        close = c.tcp_close
        if close is not None and close.by != "client":
            return None
        for last in reversed(c.events):  # the client's last handshake step
            if last.sender == "client" and last.type in ("handshake", "encrypted_record", "change_cipher_spec"):
                break
        else:
            return None
        if self.sent("server", ("handshake", "encrypted_record", "alert", "not_tls"), after=last.frame):
            return None
        if close is not None and close.time - last.time < 1.0:
            return None
        if close is None and c.end_time - last.time < 1.0:
            return None
        names = self.names("client")
        phase = "finished" if ("client_key_exchange" in names or "finished" in names or
                               self.first_event("change_cipher_spec", "client") is not None) else "key_exchange"
        return last, phase

    def _probable_alert(self, sender: str, close_frame: int) -> Optional[Event]:
        if not self.tls13:
            return None
        for last in reversed(self.enc):  # the sender's last protected record up to the close
            if last.sender == sender and last.frame <= close_frame:
                return last if last.info.get("length", 999) <= PROBABLE_ALERT_MAX else None
        return None

    def _middlebox_evidence(self) -> str:
        c = self.c
        rsts = self.by_type.get("rst", _NONE)
        if not rsts:
            return ""
        senders = {e.sender for e in rsts}
        if len(senders) == 2:
            t = [e.time for e in rsts]
            if max(t) - min(t) < 0.002:
                frames = [e.frame for e in rsts]
                self.evidence.append(_evidence("Both directions receive a reset within 2 ms of each other.", frames))
                return "both sides got a reset at the same moment, which neither endpoint would do itself."
        ttl = c.extra.get("ttl") or {}
        rst_ttl = ttl.get("rst") or {}
        for side, value in rst_ttl.items():
            earlier = ttl.get(side) or []
            if earlier and value is not None and all(abs(value - x) > 2 for x in earlier):
                frame = next(e.frame for e in rsts if e.sender == side)
                self.evidence.append(_evidence(
                    f"The reset 'from the {side}' has IP TTL {value}, while the {side}'s own packets had TTL "
                    f"{', '.join(map(str, earlier))}.", [frame]))
                return f"the reset claiming to come from the {side} has a different IP TTL than the {side}'s own packets."
        # A reset in the middle of a record: no TLS stack stops mid-record without an alert.
        mid = c.extra.get("rst_mid_record") or {}
        for side, missing in mid.items():
            frame = next(e.frame for e in rsts if e.sender == side)
            self.evidence.append(_evidence(
                f"The reset 'from the {side}' arrives while the {side}'s TLS record is unfinished ({missing} bytes "
                "still to come).", [frame]))
            return (f"the reset claiming to come from the {side} cut its own TLS record in the middle, which a TLS "
                    "endpoint never does (it finishes the record or sends an alert).")
        return ""


def diagnose(conn: Connection, server_chain: Any = None, client_chain: Any = None,
             client_findings: Any = None) -> Diagnosis:
    """Diagnose one connection (certificate analyses are optional inputs)."""
    return _Reasoner(conn, server_chain, client_findings, client_chain).run()
