"""What the capture shows of one DTLS association: the hellos, the flights, the alerts, and its
outcome (docs/schema.md, dtls).

Outcome, as far as a capture without keys can tell:

- ``established``: both sides sent their Finished (an epoch-1 handshake record after their
  ChangeCipherSpec, DTLS <= 1.2) or protected application records (DTLS 1.3: epoch 3), before
  any alert that ends the handshake;
- ``failed``: an alert ended the handshake (a fatal alert in clear, with its sender, or an
  encrypted alert from a side before the handshake completed), or one side sent its flight again
  and again after the other's last datagram and got no answer (a DTLS peer resends a flight only
  when its retransmission timer runs out, RFC 6347 §4.2.4);
- ``incomplete``: neither (a capture that starts late, ends early, or sees one direction only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Optional

from tlsdissect.dtls.records import version_name
from tlsdissect.tls.tables import alert_name, cipher_name

# Alerts that close rather than fail (a warning close_notify, user_canceled, no_renegotiation).
CLOSING_ALERTS = frozenset((0, 90, 100))


@dataclass(frozen=True, slots=True)
class DtlsAlert:
    sender: str  # client | server
    frame: int
    time: float
    epoch: int
    level: Optional[int]  # None: encrypted (epoch > 0) and not opened
    code: Optional[int]
    decrypted: bool = False  # encrypted, and opened with the key log's master secret

    @property
    def encrypted(self) -> bool:
        return self.code is None

    @property
    def ends_handshake(self) -> bool:
        return self.code is None or self.level == 2 or self.code not in CLOSING_ALERTS

    def to_dict(self) -> dict[str, Any]:
        return {"sender": self.sender, "frame": self.frame, "time": round(self.time, 6), "epoch": self.epoch,
                "level": {1: "warning", 2: "fatal"}.get(self.level, self.level) if self.level is not None else None,
                "code": self.code, "name": alert_name(self.code) if self.code is not None else None,
                "encrypted": self.encrypted, "decrypted": self.decrypted}


@dataclass(slots=True)
class Failure:
    """Why the handshake failed: the deciding alert, or a flight sent again and again unanswered."""

    kind: str  # alert | encrypted_alert | no_answer | icmp_error
    sender: str  # the alert's sender; for no_answer, the side that kept resending; for icmp_error, whose
    # datagram an ICMP error (port/host unreachable, too big) bounced
    frame: int
    phase: str  # diagnosis.alerts' phase words: client_hello, server_hello, server_certificate, ...
    alert: Optional[DtlsAlert] = None
    sends: int = 0  # no_answer: how many times the waiting side sent its last flight
    last_answer_frame: Optional[int] = None  # no_answer: the other side's last datagram

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "sender": self.sender, "frame": self.frame, "phase": self.phase,
                "alert": self.alert.to_dict() if self.alert is not None else None,
                "sends": self.sends or None, "last_answer_frame": self.last_answer_frame}


@dataclass
class DtlsAssociation:
    """One DTLS association (a UDP flow between two endpoints) as the capture shows it."""

    client: str
    server: str
    first_frame: int
    last_frame: int
    start_time: float
    end_time: float
    record_version: Optional[int] = None  # the first record's version field
    client_hello: Any = None  # tls.handshake.ClientHello (the last one, after any cookie exchange)
    first_client_hello: Any = None  # the first ClientHello (the one fingerprints are taken of)
    server_hello: Any = None  # tls.handshake.ServerHello (not a HelloRetryRequest)
    first_server_hello: Any = None  # the first ServerHello-type message, a HelloRetryRequest too (fingerprints)
    client_hello_frame: Optional[int] = None
    server_hello_frame: Optional[int] = None
    client_hellos: int = 0  # ClientHello messages (a cookie exchange makes two)
    client_hello_sends: int = 0  # datagrams carrying the start of the first ClientHello
    cookie: bytes = b""  # the cookie of the last ClientHello
    hello_verify_request_frame: Optional[int] = None
    hello_verify_cookie: Optional[bytes] = None
    hello_retry_request_frame: Optional[int] = None
    server_certificates: list[bytes] = field(default_factory=list)
    server_certificate_frame: Optional[int] = None
    server_certificate_time: Optional[float] = None
    client_certificates: list[bytes] = field(default_factory=list)
    certificate_request_frame: Optional[int] = None
    change_cipher_spec: dict[str, Optional[int]] = field(default_factory=lambda: {"client": None, "server": None})
    finished: dict[str, Optional[int]] = field(default_factory=lambda: {"client": None, "server": None})
    application_data: dict[str, Optional[int]] = field(default_factory=lambda: {"client": None, "server": None})
    alerts: list[DtlsAlert] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    retransmissions: dict[str, int] = field(default_factory=lambda: {"client": 0, "server": 0})
    datagrams: dict[str, int] = field(default_factory=lambda: {"client": 0, "server": 0})
    established_frame: Optional[int] = None
    master_secret_known: bool = False  # the key log held its master secret: encrypted alerts were opened
    failure: Optional[Failure] = None
    problems: list[str] = field(default_factory=list)
    # Filled in by the pipeline (tlsdissect.pipeline.dtls, diagnosis.dtls): fingerprints, the certificate
    # analysis and the verdict (a diagnosis.udp_verdict.UdpDiagnosis: the alert model's reading of a
    # failure, ``ok`` or ``unknown`` otherwise).
    fingerprints: Optional[dict[str, Any]] = None
    certificates_json: Optional[dict[str, Any]] = None
    diagnosis: Any = None
    path: Any = None  # capture.udp_path.UdpPath: datagram sizes, ICMP errors (dtls.flows fills it in)
    stream: Optional[int] = None  # Wireshark's udp.stream of the flow (the pipeline numbers UDP conversations)

    # What carries the handshake and what it is (as results.model.Connection's "tcp", "tls").
    transport: ClassVar[str] = "udp"
    protocol: ClassVar[str] = "dtls"

    @property
    def server_name(self) -> Optional[str]:
        ch = self.client_hello
        return ch.server_name if ch is not None else None

    @property
    def version(self) -> Optional[int]:
        """The negotiated version: the ServerHello's (supported_versions for DTLS 1.3)."""
        return self.server_hello.version if self.server_hello is not None else None

    @property
    def alpn(self) -> Optional[str]:
        sh = self.server_hello
        ext = sh.ext(16) if sh is not None else None
        names = ext._view().get("protocols") if ext is not None and ext._view() else None
        return str(names[0]) if names else None

    def outcome(self) -> str:
        if self.failure is not None:
            return "failed"
        return "established" if self.established_frame is not None else "incomplete"

    def to_dict(self) -> dict[str, Any]:
        ch, sh = self.client_hello, self.server_hello
        d: dict[str, Any] = {
            "transport": "udp", "protocol": "dtls", "stream": self.stream,
            "wireshark_filter": f"udp.stream eq {self.stream}" if self.stream is not None else None,
            "client": self.client, "server": self.server, "first_frame": self.first_frame,
            "last_frame": self.last_frame, "start_time": round(self.start_time, 6),
            "end_time": round(self.end_time, 6),
            "version": version_name(self.version), "record_version": version_name(self.record_version),
            "server_name": self.server_name,
            "cipher": cipher_name(sh.cipher_suite) if sh is not None else None,
            "alpn": self.alpn, "outcome": self.outcome(), "established_frame": self.established_frame,
            "failure": self.failure.to_dict() if self.failure is not None else None,
            "client_hello_frame": self.client_hello_frame, "server_hello_frame": self.server_hello_frame,
            "client_hello": ch.json_form() if ch is not None else None,
            "server_hello": sh.json_form() if sh is not None else None,
            "client_hellos": self.client_hellos, "client_hello_sends": self.client_hello_sends,
            "cookie": self.cookie.hex() if self.cookie else None,
            "hello_verify_request": None if self.hello_verify_request_frame is None else {
                "frame": self.hello_verify_request_frame,
                "cookie": (self.hello_verify_cookie or b"").hex()},
            "hello_retry_request_frame": self.hello_retry_request_frame,
            "server_certificate_frame": self.server_certificate_frame,
            "certificate_request_frame": self.certificate_request_frame,
            "change_cipher_spec": dict(self.change_cipher_spec), "finished": dict(self.finished),
            "application_data": dict(self.application_data),
            "alerts": [a.to_dict() for a in self.alerts],
            "messages": list(self.messages),
            "retransmissions": dict(self.retransmissions), "datagrams": dict(self.datagrams),
            "problems": list(self.problems), "fingerprints": self.fingerprints,
            "master_secret_known": self.master_secret_known,
            "path": self.path.to_dict() if self.path is not None else None,
        }
        d.update(self.certificates_json or {"server_certificates": [], "client_certificates": [],
                                            "chain_findings": []})
        # (the verdict of a failure only: null when nothing failed, as the field was from its start)
        dg = self.diagnosis
        d["diagnosis"] = dg.to_dict() if dg is not None and self.failure is not None else None
        return d
