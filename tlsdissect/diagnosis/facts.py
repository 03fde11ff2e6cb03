"""What one connection shows, gathered once for every rule, and the small scans rules ask it.

A :class:`Facts` holds the connection, its certificate analyses, its events grouped by type,
the deciding alert and its phase (set by :mod:`tlsdissect.diagnosis.ranking`), and the notes:
evidence lines and hidden items that stay whichever rule wins (the hellos, the deciding
alert, what a rule saw before it found that it does not apply). The scans stop at the first
match and read only the events of the type they ask about.
"""

from __future__ import annotations

from typing import Any, Optional

from tlsdissect.diagnosis.texts import alert_text, chain_texts, hello_text
from tlsdissect.diagnosis.verdict import Evidence, make_evidence
from tlsdissect.results.model import Alert, Connection, Event
from tlsdissect.tls.conclusions import PADDED_ALERT_MAX, client_certificate_shown, finished_record, min_finished_record

PROBABLE_ALERT_MAX = 24  # bytes: a protected alert is 2 bytes + inner type + 16-byte tag (+ padding)

_NONE: tuple[Event, ...] = ()


def events_by_type(events: list[Event]) -> dict[str, list[Event]]:
    """A connection's events grouped by type, each group in capture order: built in one pass
    so that the rules look at the few events of the type they ask about, not the timeline."""
    groups: dict[str, list[Event]] = {}
    for e in events:
        groups.setdefault(e.type, []).append(e)
    return groups


def other_side(side: str) -> str:
    return "server" if side == "client" else "client"


class Facts:
    """Facts about one connection, gathered once, and the scans the rules read them with."""

    __slots__ = ("c", "server_chain", "client_chain", "client_findings", "by_type", "hs", "enc", "evidence",
                 "hidden", "tls13", "alert", "phase", "after_handshake", "_data", "_data_min", "_hellos",
                 "peer_server_key", "server_signature")

    def __init__(self, conn: Connection, server_chain: Any = None, client_findings: Any = None,
                 client_chain: Any = None, by_type: Optional[dict[str, list[Event]]] = None,
                 peer_server_key: Optional[tuple[str, int]] = None, server_signature: Any = None):
        self.c = conn
        # The server's certificate key type as another connection to the same server showed it,
        # and that connection's stream (the pipeline's cross-connection memory), or None.
        self.peer_server_key = peer_server_key
        # (x509.handshake_signature.HandshakeSignatureCheck, the frame of the message that carries
        # the signature: the ServerKeyExchange, or TLS 1.3's CertificateVerify) or None
        self.server_signature = server_signature
        self.server_chain = server_chain  # x509.chain.ChainAnalysis or None
        self.client_chain = client_chain
        self.client_findings = client_findings or []  # list[ChainFinding] vs CertificateRequest
        if by_type is None:  # enrich passes the groups it made of the same events
            by_type = events_by_type(conn.events)
        self.by_type = by_type  # read-only: never mutate its lists
        self.hs: list[Event] = by_type.get("handshake") or []
        self.enc: list[Event] = by_type.get("encrypted_record") or []
        self._data: Optional[list[Event]] = None  # see app_data
        self._data_min: Optional[int] = None
        self._hellos: Optional[tuple[Optional[Event], Optional[Event]]] = None  # see hellos
        self.evidence: list[Evidence] = []  # notes: lines every candidate's own lines follow
        self.hidden: list[str] = []
        self.alert: Optional[Alert] = None  # the deciding alert (readable or encrypted), if any
        self.phase = ""  # the step the deciding alert's sender was at
        # A problem after a completed handshake that did not decide the outcome (a late
        # alert: rules/late_alert.py), as verdict.after_handshake_problem builds it.
        self.after_handshake: Optional[dict[str, Any]] = None
        v = conn.version_code
        self.tls13 = v is not None and (v == 0x0304 or (v >> 8) in (0x7F, 0xFB))

    # -- notes ---------------------------------------------------------------------------
    def note(self, text: str, frames: list[int]) -> None:
        """An evidence line that stays whichever rule wins."""
        self.evidence.append(make_evidence(text, frames))

    def note_hellos(self) -> None:
        """What the client offers and what the server chose: every TLS diagnosis starts here."""
        c = self.c
        ch = c.client_hello
        evidence = self.evidence
        if ch is not None:
            for f in self.hs:  # first_event("handshake", "client")
                if f.sender == "client":
                    evidence.append(make_evidence(hello_text(ch.server_name, ch.supported_versions or [ch.legacy_version],
                                                             len(ch.cipher_suites)), [f.frame]))
                    break
        version = c.version
        if version:
            for sh in self.hs:  # has("server_hello", "server")
                if sh.sender == "server" and sh.info.get("message") == "server_hello":
                    cipher = c.cipher
                    evidence.append(make_evidence(f"ServerHello chooses {version} with {cipher}." if cipher else
                                                  f"ServerHello chooses {version}.", [sh.frame]))
                    break

    def note_relay_legs(self) -> None:
        """The other legs of a relayed connection (``relay_legs``: the same first bytes both
        ways, the ClientHello's random included), whatever decides."""
        legs = self.c.extra.get("relay_legs")
        if not legs:
            return
        ch = self.hellos()[0]
        many = len(legs) > 1
        streams = ", ".join(str(leg["stream"]) for leg in legs)
        self.note(f"Stream{'s' if many else ''} {streams} carr{'y' if many else 'ies'} the same handshake bytes as "
                  "this one (the same ClientHello and server answer, randoms included): legs of one relayed "
                  "connection (a TCP proxy, a load balancer or a NAT seen on both sides).", [ch.frame] if ch else [])
        for leg in legs:
            for side, where in (leg.get("bytes_differ") or {}).items():
                self.note(f"The {side}'s bytes {where['from_byte']}-{where['to_byte'] - 1} differ on stream "
                          f"{leg['stream']} (frame {where['leg_frame']} there, frame {where['frame']} here): the "
                          "relay did not forward them unchanged.", [where["frame"]])

    def alert_line(self, a: Alert) -> Evidence:
        return make_evidence(alert_text(a), [a.frame])

    def chain_lines(self) -> list[Evidence]:
        """The server chain's evidence lines (none without a chain), at its Certificate's frame."""
        chain = self.server_chain
        if chain is None or not chain.certificates:
            return []
        cert_ev = self.has("certificate", "server")
        frames = [cert_ev.frame] if cert_ev else []
        return [make_evidence(text, frames) for text in chain_texts(chain)]

    def keys_hint(self) -> str:
        """Which key log lines would reveal what is hidden (the client writes them with
        SSLKEYLOGFILE; Wireshark and tlsdissect read the same format)."""
        ch = self.c.client_hello
        cr = ch.random.hex() if ch is not None else "<client random>"
        if self.tls13:
            labels = "CLIENT_HANDSHAKE_TRAFFIC_SECRET and SERVER_HANDSHAKE_TRAFFIC_SECRET (plus *_TRAFFIC_SECRET_0 after the handshake)"
        else:
            labels = "CLIENT_RANDOM"
        return f"key log lines {labels} for client random {cr} would reveal it (--keylog)"

    # -- scans of the per-type groups, stopping at the first match ------------------------
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

    def hellos(self) -> tuple[Optional[Event], Optional[Event]]:
        """The client's ClientHello and the server's ServerHello (or HelloRetryRequest) events,
        None for one not in the capture (worked out once: several rules start from them)."""
        found = self._hellos
        if found is None:
            found = self._hellos = (self.has("client_hello", "client"),
                                    self.has("server_hello", "server") or self.has("hello_retry_request", "server"))
        return found

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

    def app_data(self) -> list[Event]:
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

    def after_app_data(self, frame: int) -> bool:
        """Some application data precedes ``frame`` (the lowest data frame, worked out once)."""
        first = self._data_min
        if first is None:
            data = self.app_data()
            if not data:
                return False
            first = self._data_min = min(e.frame for e in data)
        return first < frame

    def client_sent_data_before(self, frame: int) -> bool:
        for e in self.c.events:
            if e.frame >= frame:
                break
            if e.sender == "client" and e.type in ("encrypted_record", "application_data") and \
                    e.info.get("content_type", "application_data") == "application_data":
                return True
        return False

    def finding(self, fid: str) -> Optional[Any]:
        """The server chain's first finding ``fid``, or None."""
        chain = self.server_chain
        if chain is not None:
            for f in chain.findings:
                if f.id == fid:
                    return f
        return None

    def client_certificate_problem(self) -> Optional[str]:
        """What was wrong with the client's answer to the CertificateRequest: none sent
        (``client_cert_missing``), or one the server did not ask for or cannot accept
        (``client_cert_rejected``, each finding noted); None when the capture shows nothing."""
        c = self.c
        if c.client_certificate_sent is False:
            return "client_cert_missing"
        bad = [x for x in self.client_findings if x.id == "issuer_not_requested"]
        if self.client_chain is not None:
            bad += [x for x in self.client_chain.findings if x.id in ("expired", "not_yet_valid", "eku_not_client_auth")]
        if not bad:
            return None
        frames = [e.frame for e in self.hs if e.sender == "client" and e.info.get("message") == "certificate"][:1]
        for x in bad:
            self.note(x.text, frames)
        return "client_cert_rejected"

    def probable_alert(self, sender: str, close_frame: int) -> Optional[Event]:
        """TLS 1.3 without keys: ``sender``'s last protected record up to the close, when it is
        small enough to be an encrypted alert."""
        if not self.tls13:
            return None
        for last in reversed(self.enc):  # the sender's last protected record up to the close
            if last.sender == sender and last.frame <= close_frame:
                length = last.info.get("length", 999)
                if length <= PROBABLE_ALERT_MAX:
                    return last
                if sender == "client" and length < min_finished_record(self.c.cipher_code) and not self.c.established \
                        and not self._client_sent_finished_sized():
                    return last  # (no Finished: an alert its stack pads, as Java's JSSE does)
                if sender == "server" and length <= PADDED_ALERT_MAX and self.client_certificate() is not None \
                        and not self.c.established:
                    return last  # (the one answer to a client certificate flight, too small for a ticket: padded)
                return None
        return None

    def request_answered(self) -> bool:
        """Application data went both ways after the handshake, the server's after the client's
        (a request answered). TLS 1.3 without keys: the client's first protected records are its
        handshake flight, up to a record of the Finished's exact size (or the first one), and a
        server record must be bigger than a padded alert."""
        data = self.app_data()
        client = [e for e in data if e.sender == "client"]
        if self.tls13 and not self.by_type.get("application_data"):
            fin = finished_record(self.c.cipher_code)
            flight_end = next((i for i, e in enumerate(client) if e.info.get("length") == fin), 0)
            client = client[flight_end + 1:]
        if not client:
            return False
        first = client[0].frame
        return any(e.sender == "server" and e.frame > first and e.info.get("length", 0) > PADDED_ALERT_MAX
                   for e in data)

    def client_certificate(self) -> Optional[str]:
        """TLS 1.3 without keys: "empty" when the sizes of the client's protected records show an
        empty Certificate before its Finished (so the server sent a CertificateRequest), "sent"
        when they show a Certificate and CertificateVerify, else None
        (tls.conclusions.client_certificate_shown)."""
        if not self.tls13:
            return None
        sh = self.hellos()[1]
        after = sh.frame if sh is not None else 0
        return client_certificate_shown([e.info.get("length", 0) for e in self.enc
                                         if e.sender == "client" and e.frame >= after], self.c.cipher_code)

    def _client_sent_finished_sized(self) -> bool:
        """Whether the client sent a protected record after the ServerHello big enough to be
        its Finished (tls.conclusions.min_finished_record)."""
        sh = self.hellos()[1]
        after = sh.frame if sh is not None else 0
        smallest = min_finished_record(self.c.cipher_code)
        return any(e.sender == "client" and e.frame > after and e.info.get("length", 0) >= smallest for e in self.enc)
