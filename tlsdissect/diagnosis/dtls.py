"""Why a DTLS handshake failed: the failure the DTLS stage found, read with the alert model.

The same knowledge as for TLS over TCP, in the same places: the deciding alert is read by the
alert model (diagnosis.alerts) for its sender and phase; a client's refusal of the server's
certificate is named by the chain's findings as the TCP rules of diagnosis.rules.server_certificate
name it (the most telling finding for that alert; with none, an unknown_ca about a chain that
looks complete means the client does not trust its root). A flight resent unanswered names
``server_no_response`` (the client waited) or, when the server waited after sending its
certificate, the client's silent refusal of it (``client_rejected_cert_silently``). Before any of
these, what the UDP path shows (diagnosis.udp_path): an ICMP error quoting the client's datagrams.
"""

from __future__ import annotations

from typing import Any, Optional

from tlsdissect.diagnosis import alerts
from tlsdissect.diagnosis.alert_codes import UNKNOWN_CA
from tlsdissect.diagnosis.causes import CAUSES
from tlsdissect.diagnosis.rules.server_certificate import FINDING_CAUSE, findings_for_alert


def cause_from_chain(code: int, chain: Any) -> Optional[str]:
    """What the server chain's findings (an x509.chain.ChainAnalysis) say about a client's alert."""
    if chain is None or not chain.certificates:
        return None
    found = [fid for fid in findings_for_alert(set(chain.finding_ids()), code) if fid in FINDING_CAUSE]
    if found:
        return FINDING_CAUSE[found[0]]
    return "server_cert_untrusted" if code == UNKNOWN_CA else None


def _no_answer(a: Any) -> dict[str, Any]:
    f = a.failure
    cause = "client_rejected_cert_silently" if f.sender == "server" and a.server_certificates \
        else "server_no_response" if f.sender == "client" else "packets_dropped_on_path"
    other = "server" if f.sender == "client" else "client"
    what = "ClientHello" if f.phase == "client_hello" and f.sender == "client" else "flight"
    text = (f"The {f.sender} sent its {what} {f.sends} times (last in frame {f.frame}) and the {other} "
            + ("never answered." if f.last_answer_frame is None
               else f"did not answer after frame {f.last_answer_frame}.")
            + " A DTLS peer resends a flight only when its retransmission timer runs out (RFC 6347 §4.2.4).")
    return {"cause": cause, "likelihood": "likely", "title": CAUSES[cause].title, "candidates": [],
            "explanation": text}


def diagnose_dtls(a: Any, chain: Any = None) -> Optional[dict[str, Any]]:
    """The failure of a DTLS association (dtls.association.DtlsAssociation) read with the alert
    model: cause, its likelihood, the other readings; None when nothing failed."""
    from tlsdissect.diagnosis.udp_path import dtls_path_reading

    f = a.failure
    if f is None:
        return None
    path_said = dtls_path_reading(a)  # an ICMP error, or large datagrams lost (diagnosis.udp_path)
    if path_said is not None:
        return path_said
    if f.kind == "no_answer":
        return _no_answer(a)
    alert = f.alert
    if alert is None or alert.code is None:
        text = (f"The {f.sender} sent an encrypted alert in frame {f.frame} (epoch {alert.epoch if alert else '?'}) "
                "before the handshake completed: its description is hidden without the keys.")
        return {"cause": "unknown", "likelihood": "possible", "title": CAUSES["unknown"].title, "candidates": [],
                "explanation": text}
    readings = alerts.candidates(alert.code, f.sender, f.phase)
    refused = f.sender == "client" and f.phase in ("server_certificate", "key_exchange")
    confirmed = cause_from_chain(alert.code, chain) if refused else None
    cause = confirmed or readings[0].cause
    return {"cause": cause, "likelihood": "likely" if confirmed else readings[0].likelihood,
            "title": CAUSES[cause].title,
            "candidates": [{"cause": r.cause, "likelihood": r.likelihood} for r in readings[:5]],
            "explanation": alerts.describe(alert.code, f.sender, f.phase)}
