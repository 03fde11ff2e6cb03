"""The server refuses the client's certificate: none sent, one it cannot see, or one it rejects.

Rules for the deciding alert at ``client_certificate`` from the server, each starting from
what the server asked for (its CertificateRequest's CA names) and what the client answered;
the last one always applies.
"""

from __future__ import annotations

from typing import Optional

from tlsdissect.diagnosis.alert_codes import CERT_ALERTS, CERTIFICATE_REQUIRED, HANDSHAKE_FAILURE, NO_CERTIFICATE, UNKNOWN_CA
from tlsdissect.diagnosis.candidate import Candidate, alert_label, by_alert, deciding
from tlsdissect.diagnosis.facts import Facts
from tlsdissect.diagnosis.texts import requested_cas
from tlsdissect.diagnosis.verdict import Evidence, make_evidence


def _request_and_answer(f: Facts) -> tuple[tuple[str, ...], list[Evidence]]:
    """The CA names the server's CertificateRequest accepts, and the lines saying what it asked
    and what the client's Certificate message (up to the alert) carries."""
    c = f.c
    lines = []
    ca_names: tuple[str, ...] = ()
    req = c.certificate_request
    if req is not None:
        ca_names, text = requested_cas(req.certificate_authorities)
        cr_ev = f.has("certificate_request", "server")
        lines.append(make_evidence(text, [cr_ev.frame] if cr_ev else []))
    cert_msg = f.has("certificate", "client", deciding(f).frame)
    if cert_msg is not None:
        lines.append(make_evidence(
            "The client's Certificate message is empty." if not c.client_certificate_sent else
            f"The client sends {len(c.client_certificates_der)} certificate(s).", [cert_msg.frame]))
    return ca_names, lines


def client_certificate_missing(f: Facts) -> Optional[Candidate]:
    """An empty client Certificate, or (before TLS 1.3) none at all and an alert that asks for one."""
    sent = f.c.client_certificate_sent
    if sent is not False:
        a = deciding(f)
        if f.tls13 or a.code not in (HANDSHAKE_FAILURE, CERTIFICATE_REQUIRED, NO_CERTIFICATE) \
                or f.has("certificate", "client", a.frame) is not None:
            return None
    ca_names, lines = _request_and_answer(f)
    return by_alert(f, "client_cert_missing", "certain" if sent is False else "likely", [],
                    "The server requires a client certificate and the client did not send one"
                    + (f" (it accepts certificates issued by {ca_names[0]})" if len(ca_names) == 1 else "")
                    + f"; the server aborted with {alert_label(f)}.", lines)


def client_flight_unseen(f: Facts) -> Optional[Candidate]:
    """TLS 1.3 without keys: the client's certificate flight is encrypted; the alert tells."""
    if f.c.client_certificate_sent is not None or not f.tls13:
        return None
    _names, lines = _request_and_answer(f)
    hidden = ["the CertificateRequest and the client's Certificate (encrypted in TLS 1.3); " + f.keys_hint()]
    if deciding(f).code == CERTIFICATE_REQUIRED:
        return by_alert(f, "client_cert_missing", "certain", [],
                        "The server requires a client certificate and the client did not send one; the server "
                        f"aborted with {alert_label(f)}.", lines, hidden)
    return by_alert(f, "client_cert_rejected", "likely", ["client_cert_missing"],
                    f"The server aborted with {alert_label(f)} right after the client's certificate flight.", lines, hidden)


def client_certificate_refused(f: Facts) -> Candidate:
    """A certificate was sent and refused (always applies): the finding that says why, if any."""
    _names, lines = _request_and_answer(f)
    code = deciding(f).code
    reason = ""
    for x in f.client_findings:
        if x.id == "issuer_not_requested":
            reason = x.text
            break
    client_chain = f.client_chain
    if not reason and client_chain is not None:
        for x in client_chain.findings:
            if x.id in ("expired", "not_yet_valid", "eku_not_client_auth", "self_signed_leaf"):
                reason = x.text
                break
    if reason:
        cert_msg = f.has("certificate", "client", deciding(f).frame)
        lines.append(make_evidence(reason, [cert_msg.frame] if cert_msg else []))
    leaf = client_chain.certificates[0] if client_chain is not None and client_chain.certificates else None
    who = f" {leaf.label} (issued by {leaf.issuer_label})" if leaf else ""
    expl = f"The server rejected the client certificate{who} with {alert_label(f)}."
    if reason:
        expl += " " + reason
    elif code == UNKNOWN_CA:
        expl += " The server does not trust the CA that issued it."
    return by_alert(f, "client_cert_rejected", "certain" if reason or code in CERT_ALERTS else "likely", [], expl, lines)
