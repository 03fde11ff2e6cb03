"""The server refuses the client's certificate without an alert: it asked for one, read the
client's answer, and closed.

A server that requires a client certificate and rejects the one it got (or gets none) normally
says so with an alert (certificate_required, bad_certificate, unknown_ca...). Some close
instead: Python's asyncio drops the transport before OpenSSL's alert is flushed ("peer did not
return a certificate", "certificate verify failed: certificate revoked"), and other
event-loop servers do likewise. What the capture shows is then the server's CertificateRequest
(TLS 1.2, or TLS 1.3 with the key log; the shape of the client's encrypted flight without it),
the client's answer, and the server's FIN or RST right after it, with nothing more from the
server: no ChangeCipherSpec and Finished (TLS 1.2), no session ticket nor data (TLS 1.3).
"""

from __future__ import annotations

from typing import Optional

from tlsdissect.diagnosis.candidate import Candidate, candidate
from tlsdissect.diagnosis.facts import Facts
from tlsdissect.diagnosis.verdict import Evidence, make_evidence
from tlsdissect.results.model import Event

PROMPT_CLOSE = 1.0  # seconds: a server verifies (even against a local CRL) and closes well within this


def _client_answer(f: Facts) -> Optional[tuple[str, Optional[Event]]]:
    """What the client answered the server's request with ("empty" or "sent") and the event
    that shows it; None when the capture does not show that the server asked."""
    c = f.c
    if f.has("certificate_request", "server") is not None:
        cert = f.has("certificate", "client")
        if cert is None:
            return None
        return ("sent" if c.client_certificate_sent else "empty"), cert
    if f.tls13 and f.has("encrypted_extensions", "server") is None:  # (the flight was not decrypted)
        shown = f.client_certificate()  # the sizes of the client's encrypted flight
        if shown is not None:
            sh = f.hellos()[1]
            flight = f.protected("client", sh.frame if sh is not None else 0)
            return shown, flight[0] if flight else None
    return None


def _client_chain_lines(f: Facts, shown_at: Event) -> list[Evidence]:
    """The client's certificate and the finding of its chain that a server refuses, if any."""
    chain = f.client_chain
    if chain is None or not chain.certificates:
        return []
    leaf = chain.certificates[0]
    lines = [make_evidence(f"The client's certificate: {leaf.label}, issued by {leaf.issuer_label}.", [shown_at.frame])]
    lines += [make_evidence(x.text, [shown_at.frame]) for x in chain.findings
              if x.id in ("expired", "not_yet_valid", "eku_not_client_auth", "self_signed_leaf")][:1]
    return lines


def server_left_after_client_certificate(f: Facts) -> Optional[Candidate]:
    """The server asked for a client certificate, got the client's answer, and closed within
    PROMPT_CLOSE without an alert and without going on with the handshake or the data: it
    refused the answer. An empty Certificate is client_cert_missing; a certificate it rejected
    (untrusted, revoked, expired: the capture does not say which) is client_cert_rejected."""
    c = f.c
    close = c.tcp_close
    if close is None or close.by != "server" or any(a.sender == "server" and a.frame <= close.frame for a in c.alerts):
        return None
    found = _client_answer(f)
    if found is None:
        return None
    answer, shown_at = found
    if shown_at is None:
        return None
    if close.frame <= shown_at.frame or close.time - shown_at.time > PROMPT_CLOSE:
        return None
    # Nothing from the server between the client's answer and its close: no ChangeCipherSpec or
    # Finished (TLS 1.2), no ticket and no data (TLS 1.3).
    if any(e.sender == "server" and shown_at.frame < e.frame < close.frame and e.type in (
            "handshake", "change_cipher_spec", "encrypted_record", "application_data") for e in c.events):
        return None
    closes = "resets" if close.how == "rst" else "closes"
    how_seen = ("its CertificateRequest" if f.has("certificate_request", "server") is not None else
                "the shape of the client's encrypted flight (an empty Certificate before its Finished)"
                if answer == "empty" else
                "the shape of the client's encrypted flight (Certificate, CertificateVerify and Finished)")
    evidence = [make_evidence(f"The server asked for a client certificate ({how_seen}); the client answers with "
                              + ("an empty Certificate." if answer == "empty" else "a certificate."), [shown_at.frame]),
                make_evidence(f"{(close.time - shown_at.time) * 1000:.1f} ms later the server {closes} the connection "
                              "without an alert and without going on with the handshake.", [close.frame])]
    if answer == "empty":
        return candidate("failed", "client_cert_missing", "likely", failure_point="client_certificate",
                         aborted_by="server", how=close.how, alternatives=["server_closed_without_alert"],
                         evidence=evidence,
                         explanation=("The server requires a client certificate, the client has none to send, and "
                                      f"the server {closes} the connection at once without the alert it should send "
                                      "(certificate_required): Python's asyncio servers drop the connection before "
                                      "OpenSSL's alert leaves ('peer did not return a certificate')."))
    return candidate("failed", "client_cert_rejected", "likely", failure_point="client_certificate",
                     aborted_by="server", how=close.how,
                     alternatives=["client_cert_revoked", "client_cert_missing", "server_closed_without_alert"],
                     evidence=evidence + _client_chain_lines(f, shown_at),
                     explanation=("The server asked for a client certificate, read the one the client sent, and "
                                  f"{closes} the connection at once without an alert: it refused the certificate "
                                  "(an issuer it does not trust, a revoked or expired certificate: its log says "
                                  "which). Python's asyncio servers drop the connection before OpenSSL's alert "
                                  "leaves ('certificate verify failed')."))
