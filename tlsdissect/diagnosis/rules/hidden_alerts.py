"""Alerts the capture cannot read (encrypted, no key log): who sent them and when tells.

Rules for a deciding encrypted alert (TLS 1.2 after ChangeCipherSpec), at the phase
:func:`~tlsdissect.diagnosis.phases.hidden_alert_phase` gives; the last one always applies.
"""

from __future__ import annotations

from typing import Optional

from tlsdissect.diagnosis.candidate import Candidate, deciding, ended_by_alert
from tlsdissect.diagnosis.facts import Facts
from tlsdissect.diagnosis.phases import renegotiation_start
from tlsdissect.diagnosis.verdict import make_evidence
from tlsdissect.diagnosis.rules.post_handshake import read_post_handshake
from tlsdissect.results.model import Alert


def _renegotiation_alerts(f: Facts) -> tuple[Optional[Alert], Optional[Alert], bool]:
    """The server's and the client's first encrypted alerts from the deciding one on, and
    whether the client took part in the renegotiation (an encrypted handshake record from it
    after application data)."""
    first = deciding(f)
    hidden = [x for x in f.c.alerts if x.code is None and x.frame >= first.frame]
    server_alert = next((x for x in hidden if x.sender == "server"), None)
    client_alert = next((x for x in hidden if x.sender == "client"), None)
    client_renegotiated = any(
        e.sender == "client" and e.info.get("content_type") == "handshake" and f.after_app_data(e.frame)
        for e in f.enc)
    return server_alert, client_alert, client_renegotiated


# A TLS 1.2 renegotiation that ends in encrypted alerts, read from who sent what: the client
# answering the server's renegotiation with an alert of its own (and no new handshake) is a
# refusal (no_renegotiation); a client that did renegotiate and then got the server's alert
# most often lacked the certificate the server wanted (Apache's per-directory SSLVerifyClient
# is what renegotiates).
def client_renegotiation_refused(f: Facts) -> Optional[Candidate]:
    """The client started a renegotiation (its ClientHello under the first keys), the server
    took no part and answered with an alert: servers forbid client-initiated renegotiation
    (OpenSSL by default, Apache, nginx); a client that then gives up with an alert of its own
    (s_client's handshake_failure) is the deciding one."""
    if f.phase != "renegotiation":
        return None
    start = renegotiation_start(f)
    if start is None or start.sender != "client":
        return None
    if any(e.sender == "server" and e.info.get("content_type") == "handshake" and e.frame > start.frame for e in f.enc):
        return None  # (the server answered with a handshake of its own: it took part)
    server_alert, client_alert, _ = _renegotiation_alerts(f)
    if server_alert is None or server_alert.frame < start.frame:
        return None
    ended = client_alert if client_alert is not None and client_alert.frame > server_alert.frame else server_alert
    lines = [make_evidence(f"The client starts a renegotiation (frame {start.frame}: a {start.info.get('length')}-byte "
                           "encrypted handshake record after the handshake, its new ClientHello); the server sends no "
                           "handshake back, only an encrypted alert.", [start.frame, server_alert.frame])]
    if ended is not server_alert:
        lines.append(f.alert_line(ended))
    return ended_by_alert(ended, "renegotiation", "renegotiation_refused", "likely", [],
                          "The client started a renegotiation after the handshake and the server refused it with "
                          "an alert (most servers forbid client-initiated renegotiation: OpenSSL's default, Apache, "
                          "nginx)" + ("; the client then gave up with an alert of its own." if ended is not server_alert
                                      else ".") + " The alerts are encrypted; the key log would show no_renegotiation.",
                          lines)


def renegotiation_answered_with_alert(f: Facts) -> Optional[Candidate]:
    """The client answered the server's renegotiation with an alert, then the server aborted."""
    if f.phase != "renegotiation":
        return None
    server_alert, client_alert, client_renegotiated = _renegotiation_alerts(f)
    if client_alert is None or server_alert is None or client_alert.frame >= server_alert.frame or client_renegotiated:
        return None
    return ended_by_alert(server_alert, "renegotiation", "renegotiation_refused", "likely", [],
                          "After the handshake the server asked to renegotiate (an encrypted handshake "
                          "record after application data); the client answered with an alert instead of "
                          "a new handshake — a refusal — and the server then aborted. Apache does this "
                          "for per-directory client authentication.", [f.alert_line(server_alert)])


def renegotiated_then_aborted(f: Facts) -> Optional[Candidate]:
    """The client renegotiated and the server then aborted: most often no acceptable certificate."""
    if f.phase != "renegotiation":
        return None
    server_alert, _client_alert, client_renegotiated = _renegotiation_alerts(f)
    if server_alert is None or not client_renegotiated:
        return None
    return ended_by_alert(server_alert, "renegotiation", "client_cert_missing", "possible", ["client_cert_rejected"],
                          "The server renegotiated after the handshake (Apache does this to ask for a "
                          "client certificate for one location), the client took part, and the server "
                          "then aborted: most often the client had no acceptable certificate. The "
                          "renegotiation is encrypted; supply the key log to see it.",
                          [] if server_alert is deciding(f) else [f.alert_line(server_alert)])


def renegotiation_aborted(f: Facts) -> Optional[Candidate]:
    """Any other encrypted end of a renegotiation: read as a readable one would be, but never
    with more than "likely" (the alert's code is not seen)."""
    if f.phase != "renegotiation":
        return None
    server_alert, _client_alert, _renegotiated = _renegotiation_alerts(f)
    found = read_post_handshake(f, server_alert or deciding(f), "an encrypted alert", "renegotiation")
    if found.confidence == "certain":
        found.confidence = "likely"
    return found


def host_name_check_failed(f: Facts) -> Optional[Candidate]:
    """The client closes with an encrypted alert before sending data, and the certificate does
    not match the name: TLS 1.2 curl after its own host name check fails (encrypted close_notify)."""
    a = deciding(f)
    if a.sender != "client" or f.client_sent_data_before(a.frame):
        return None
    finding = f.finding("hostname_mismatch")
    if finding is None:
        return None
    return ended_by_alert(a, "server_certificate", "server_cert_hostname_mismatch", "likely", [],
                          "The handshake completed, then the client closed without sending a request "
                          "(curl does this after its own host name check fails). " + finding.text, f.chain_lines())


def client_closed_before_data(f: Facts) -> Optional[Candidate]:
    """The client closes with an encrypted alert before sending any data (after host_name_check_failed)."""
    a = deciding(f)
    if a.sender != "client" or f.client_sent_data_before(a.frame):
        return None
    return ended_by_alert(a, "server_certificate", "client_closed_without_alert" if f.c.established else "server_cert_rejected",
                          "possible", ["server_cert_rejected"],
                          "The client ended the session with an encrypted alert before sending any data.")


def hidden_alert_abort(f: Facts) -> Candidate:
    """Any other encrypted alert (always applies)."""
    a = deciding(f)
    return ended_by_alert(a, f.phase, "unknown", "possible", [],
                          f"The {a.sender} aborted with an encrypted alert during {f.phase.replace('_', ' ')}.")
