"""Later stages run on each DTLS association: fingerprints, certificates, the alert model.

The same pieces as for TLS over TCP: JA4 with transport ``d`` (FoxIO's JA4 specification: "d" for
DTLS) and JA3 of the ClientHello, JA4S/JA3S of the ServerHello; the server's (and client's)
chain judged by x509.chain at the time of the packet that carried it, with the same findings;
and the deciding alert read by the alert model (diagnosis.alerts) for the sender and phase,
with the chain's findings naming the cause of a client's refusal of the server's certificate as
the TCP rules of diagnosis.rules.server_certificate do. A flight resent unanswered names ``server_no_response``
(the client waited) or, when the server waited after sending its certificate, the client's
silent refusal of it (``client_rejected_cert_silently``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from tlsdissect.diagnosis import alerts
from tlsdissect.diagnosis.causes import CAUSES
from tlsdissect.diagnosis.alert_codes import UNKNOWN_CA
from tlsdissect.diagnosis.rules.server_certificate import _FINDINGS_BY_ALERT, _FINDINGS_OTHER_ALERT, FINDING_CAUSE

if TYPE_CHECKING:
    from tlsdissect.x509.chain import ChainAnalysis


def dtls_fingerprints(a: Any) -> Optional[dict[str, Any]]:
    """JA4 (transport ``d``) and JA3 of the first ClientHello (before any cookie exchange or
    HelloRetryRequest), JA4S/JA3S of the first ServerHello-type message (a HelloRetryRequest
    when there is one), as for TLS over TCP (docs/fingerprints.md)."""
    from tlsdissect.fingerprints import ja3, ja3s, ja4, ja4s

    ch, sh = a.first_client_hello, a.first_server_hello
    if ch is None and sh is None:
        return None
    j4, j4s = ja4(ch, "d"), ja4s(sh, "d")
    j3, j3s = ja3(ch), ja3s(sh)
    return {"ja4": j4.ja4 if j4 else None, "ja4_r": j4.ja4_r if j4 else None, "ja4s": j4s.ja4s if j4s else None,
            "ja3": j3[0] if j3 else None, "ja3s": j3s[0] if j3s else None}


def _chains(a: Any, trust: Any) -> tuple[Optional["ChainAnalysis"], dict[str, Any]]:
    from tlsdissect.x509.chain import analyze_chain  # (cryptography: loaded only when diagnosing)

    out: dict[str, Any] = {"server_certificates": [], "client_certificates": [], "chain_findings": []}
    server_chain = None
    if a.server_certificates:
        at = a.server_certificate_time if a.server_certificate_time is not None else a.start_time
        server_chain = analyze_chain(a.server_certificates, at=at, server_name=a.server_name, role="server",
                                     trust=trust)
        out["server_certificates"] = [c.to_dict() for c in server_chain.certificates]
        out["chain_findings"] += [f.to_dict("server") for f in server_chain.findings]
        out["trust"] = server_chain.trust
    if a.client_certificates:
        client_chain = analyze_chain(a.client_certificates, at=a.start_time, role="client")
        out["client_certificates"] = [c.to_dict() for c in client_chain.certificates]
        out["chain_findings"] += [f.to_dict("client") for f in client_chain.findings]
    return server_chain, out


def _cause_from_chain(code: int, chain: Optional["ChainAnalysis"]) -> Optional[str]:
    """What the server chain's findings say about a client's alert, as the TCP rules do
    (diagnosis.rules.server_certificate): the most telling finding for that alert names the
    cause; with none, an unknown_ca about a chain that looks complete means its root is not
    trusted by the client."""
    if chain is None or not chain.certificates:
        return None
    ids = set(chain.finding_ids())
    found = [fid for fid in _FINDINGS_BY_ALERT.get(code, _FINDINGS_OTHER_ALERT) if fid in ids and fid in FINDING_CAUSE]
    if found:
        return FINDING_CAUSE[found[0]]
    return "server_cert_untrusted" if code == UNKNOWN_CA else None


def dtls_diagnosis(a: Any, chain: Optional["ChainAnalysis"]) -> Optional[dict[str, Any]]:
    """The failure read with the alert model: cause, its likelihood, the other readings."""
    f = a.failure
    if f is None:
        return None
    if f.kind == "no_answer":
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
    alert = f.alert
    if alert is None or alert.code is None:
        text = (f"The {f.sender} sent an encrypted alert in frame {f.frame} (epoch {alert.epoch if alert else '?'}) "
                "before the handshake completed: its description is hidden without the keys.")
        return {"cause": "unknown", "likelihood": "possible", "title": CAUSES["unknown"].title, "candidates": [],
                "explanation": text}
    readings = alerts.candidates(alert.code, f.sender, f.phase)
    refused = f.sender == "client" and f.phase in ("server_certificate", "key_exchange")
    confirmed = _cause_from_chain(alert.code, chain) if refused else None
    cause = confirmed or readings[0].cause
    return {"cause": cause, "likelihood": "likely" if confirmed else readings[0].likelihood,
            "title": CAUSES[cause].title,
            "candidates": [{"cause": r.cause, "likelihood": r.likelihood} for r in readings[:5]],
            "explanation": alerts.describe(alert.code, f.sender, f.phase)}


def enrich_dtls(a: Any, diagnose: bool = True, trust: Any = None) -> None:
    """Fills in the association's fingerprints, and with ``diagnose`` its certificate analysis
    and diagnosis."""
    a.fingerprints = dtls_fingerprints(a)
    if diagnose:
        chain, a.certificates_json = _chains(a, trust)
        a.diagnosis = dtls_diagnosis(a, chain)
