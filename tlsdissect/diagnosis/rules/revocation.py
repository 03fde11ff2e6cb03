"""A certificate refused as revoked: the server's (by the client) or the client's (by the server).

``certificate_revoked`` (44) says it outright; a stapled OCSP response that says "revoked" (the
CertificateStatus message, x509.ocsp) is the evidence in the capture when the client's alert is
a vaguer certificate alert. The remedy names where the refused certificate's CA publishes its
status (CRL distribution points, OCSP responder), which is where to look the serial up.
"""

from __future__ import annotations

from typing import Any, Optional

from tlsdissect.diagnosis.alert_codes import BAD_CERTIFICATE_STATUS_RESPONSE, CERT_ALERTS, CERTIFICATE_REVOKED
from tlsdissect.diagnosis.candidate import Candidate, alert_label, by_alert, deciding
from tlsdissect.diagnosis.causes import remedy_lines
from tlsdissect.diagnosis.facts import Facts
from tlsdissect.diagnosis.verdict import Evidence, make_evidence


def _status_sources(leaf: Any) -> list[str]:
    """Where the leaf's CA publishes its revocation status, as one remedy line (none without)."""
    crls = tuple(getattr(leaf, "crl_distribution_points", ()) or ())
    ocsp = tuple(getattr(leaf, "aia_ocsp", ()) or ())
    parts = []
    if crls:
        parts.append("its CRL at " + ", ".join(crls))
    if ocsp:
        parts.append("OCSP answers at " + ", ".join(ocsp))
    if not parts:
        return []
    serial = getattr(leaf, "serial_hex", None)
    what = f"its serial {serial}" if serial else "it"
    return [f"The certificate's CA publishes {' and '.join(parts)}: look {what} up there."]


def _with_sources(cand: Candidate, leaf: Any) -> Candidate:
    """The catalogue's remedy for the candidate's cause, and where the CA says the status."""
    extra = _status_sources(leaf)
    if extra:
        cand.remedy = remedy_lines(cand.cause) + extra
    return cand


def _staple_says_revoked(f: Facts) -> Optional[str]:
    """The text of the stapled OCSP response's ``ocsp_revoked`` finding, if there is one."""
    for x in f.c.extra.get("chain_findings") or ():
        if x.get("id") == "ocsp_revoked":
            return str(x.get("text", ""))
    return None


def server_certificate_revoked(f: Facts) -> Optional[Candidate]:
    """The client refuses the server's certificate as revoked: certificate_revoked, or a
    certificate alert after a staple that says revoked."""
    a = deciding(f)
    staple = _staple_says_revoked(f)
    if a.sender != "client" or not (a.code == CERTIFICATE_REVOKED or (
            staple and a.code in CERT_ALERTS | {BAD_CERTIFICATE_STATUS_RESPONSE})):
        return None
    chain = f.server_chain
    leaf = chain.certificates[0] if chain is not None and chain.certificates else None
    lines: list[Evidence] = f.chain_lines()
    if staple:
        status_ev = f.has("certificate_status", "server", a.frame)
        lines.append(make_evidence(staple, [status_ev.frame] if status_ev else []))
    name = f" {leaf.label}" if leaf is not None else ""
    how = (" The server stapled an OCSP response that says so." if staple else
           " No stapled OCSP response says so: the client found it in a CRL or by asking the CA's OCSP responder.")
    cand = by_alert(f, "server_cert_revoked", "certain" if a.code == CERTIFICATE_REVOKED else "likely",
                    ["server_cert_rejected"],
                    f"The client refused the server's certificate{name} with {alert_label(f)}: its CA revoked it."
                    + how, lines)
    return _with_sources(cand, leaf)


def client_certificate_revoked(f: Facts) -> Optional[Candidate]:
    """The server refuses the client's certificate with certificate_revoked."""
    a = deciding(f)
    if a.sender != "server" or a.code != CERTIFICATE_REVOKED:
        return None
    chain = f.client_chain
    leaf = chain.certificates[0] if chain is not None and chain.certificates else None
    cert_msg = f.has("certificate", "client", a.frame)
    lines = []
    if leaf is not None:
        serial = f" (serial {leaf.serial_hex})" if leaf.serial_hex else ""
        lines.append(make_evidence(f"The client's certificate is {leaf.label}{serial}, issued by {leaf.issuer_label}.",
                                   [cert_msg.frame] if cert_msg else []))
    who = f" {leaf.label}" if leaf is not None else ""
    cand = by_alert(f, "client_cert_revoked", "certain", ["client_cert_rejected"],
                    f"The server refused the client certificate{who} with {alert_label(f)}: the server's CRL (or OCSP "
                    "check) lists it as revoked.", lines)
    return _with_sources(cand, leaf)
