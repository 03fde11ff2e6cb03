"""Failures after the first handshake: a renegotiation refused, or a client certificate asked
for later (a TLS 1.2 renegotiation, TLS 1.3 post-handshake authentication) and missing or
refused.

The readings take the alert, its name and the phase as arguments: the deciding readable
alert's (rule :func:`post_handshake_failure`), or the alert an encrypted renegotiation ends
with (:mod:`tlsdissect.diagnosis.rules.hidden_alerts`).
"""

from __future__ import annotations

from typing import Callable, Optional

from tlsdissect.diagnosis.alert_codes import CERT_ALERTS, CERTIFICATE_REQUIRED, HANDSHAKE_FAILURE, NO_CERTIFICATE, NO_RENEGOTIATION
from tlsdissect.diagnosis.candidate import Candidate, alert_label, deciding, ended_by_alert
from tlsdissect.diagnosis.facts import Facts, other_side
from tlsdissect.results.model import Alert, Event

Reading = Callable[[Facts, Alert, str, str], Optional[Candidate]]


def renegotiation_refused(f: Facts, a: Alert, name: str, phase: str) -> Optional[Candidate]:
    """A no_renegotiation alert anywhere, or the server aborting a renegotiation the client
    never took part in (no new ClientHello, no encrypted handshake record from it)."""
    if phase != "renegotiation":
        return None
    refusal = next((x for x in f.c.alerts if x.code == NO_RENEGOTIATION), None)
    if refusal is not None:
        initiator = other_side(refusal.sender)
        return ended_by_alert(a, phase, "renegotiation_refused", "certain", [],
                              f"The {initiator} started a renegotiation and the {refusal.sender} refused it "
                              f"(no_renegotiation, frame {refusal.frame}); the {a.sender} then aborted with {name}.",
                              [] if refusal is a else [f.alert_line(refusal)])
    client_hs_after = [e for e in f.hs if e.sender == "client" and e.info.get("message") == "client_hello"
                       and f.after_app_data(e.frame)]
    client_enc_after = [e for e in f.enc if e.sender == "client" and e.info.get("content_type") == "handshake"
                        and f.after_app_data(e.frame)]
    if a.code == NO_RENEGOTIATION or (not client_hs_after and not client_enc_after and a.sender == "server"):
        return ended_by_alert(a, phase, "renegotiation_refused", "certain" if a.code == NO_RENEGOTIATION else "likely", [],
                              "The server asked the client to renegotiate (to request a client certificate for a "
                              "protected location) and the client refused; the server then aborted with "
                              f"{name}.")
    return None


def _later_certificates(f: Facts, a: Alert) -> list[Event]:
    """The client's Certificate messages up to the alert."""
    return [e for e in f.hs if e.sender == "client" and e.info.get("message") == "certificate"
            and 0 < e.frame <= a.frame]


def certificate_missing_later(f: Facts, a: Alert, name: str, phase: str) -> Optional[Candidate]:
    """The server asked for a client certificate after the handshake and got none (an empty
    Certificate, certificate_required, or an alert that asks for one and no Certificate)."""
    code = a.code
    later_cert = _later_certificates(f, a)
    if not (code in (HANDSHAKE_FAILURE, CERTIFICATE_REQUIRED, NO_CERTIFICATE)
            or (later_cert and f.c.client_certificate_sent is False)):
        return None
    empty = any(e.info.get("certificates") == 0 for e in later_cert)
    if not (empty or code == CERTIFICATE_REQUIRED or not later_cert):
        return None
    where = "during a renegotiation" if phase == "renegotiation" else "in post-handshake authentication"
    return ended_by_alert(a, phase, "client_cert_missing", "certain" if empty or code == CERTIFICATE_REQUIRED else "likely", [],
                          f"The server requested a client certificate {where} (for a protected location) and the "
                          f"client sent none; the server aborted with {name}.")


def certificate_refused_later(f: Facts, a: Alert, name: str, phase: str) -> Optional[Candidate]:
    """A certificate alert after the handshake: the client certificate sent then, refused."""
    if a.code not in CERT_ALERTS:
        return None
    return ended_by_alert(a, phase, "client_cert_rejected", "likely", [],
                          f"The server rejected the client certificate sent {phase.replace('_', ' ')} with {name}.")


def post_handshake_abort(f: Facts, a: Alert, name: str, phase: str) -> Candidate:
    """Any other abort after the handshake (always applies)."""
    return ended_by_alert(a, phase, "unknown", "possible", [], f"The {a.sender} aborted {phase.replace('_', ' ')} with {name}.")


# In this order; the first that applies wins (the last always does).
READINGS: tuple[Reading, ...] = (renegotiation_refused, certificate_missing_later, certificate_refused_later,
                                 post_handshake_abort)


def read_post_handshake(f: Facts, a: Alert, name: str, phase: str) -> Candidate:
    """The first of READINGS that applies to alert ``a`` (named ``name``) at ``phase``."""
    for reading in READINGS:
        found = reading(f, a, name, phase)
        if found is not None:
            return found
    raise AssertionError("post_handshake_abort always applies")


def post_handshake_failure(f: Facts) -> Candidate:
    """The rule for the deciding alert at ``renegotiation`` or ``post_handshake_auth``."""
    return read_post_handshake(f, deciding(f), alert_label(f), f.phase)
