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
from tlsdissect.diagnosis.alerts import alert_name
from tlsdissect.diagnosis.causes import CAUSES, remedy_lines
from tlsdissect.diagnosis.rules.server_certificate import FINDING_CAUSE, findings_for_alert
from tlsdissect.diagnosis.udp_verdict import UdpDiagnosis


def cause_from_chain(code: int, chain: Any) -> Optional[str]:
    """What the server chain's findings (an x509.chain.ChainAnalysis) say about a client's alert."""
    if chain is None or not chain.certificates:
        return None
    found = [fid for fid in findings_for_alert(set(chain.finding_ids()), code) if fid in FINDING_CAUSE]
    if found:
        return FINDING_CAUSE[found[0]]
    return "server_cert_untrusted" if code == UNKNOWN_CA else None


def _line(text: str, *frames: Optional[int]) -> dict[str, Any]:
    return {"text": text, "frames": [f for f in frames if f is not None]}


def _failed(a: Any, cause: str, likelihood: str, explanation: str, evidence: list[dict[str, Any]],
            candidates: Optional[list[dict[str, Any]]] = None) -> UdpDiagnosis:
    """A failure's verdict: the alert model's likelihood word as the confidence (``rare`` reads as
    ``possible``), the deciding alert and who sent it, the phase, the remedy."""
    f = a.failure
    alert = None
    if f.alert is not None and f.alert.code is not None:
        alert = {"code": f.alert.code, "name": alert_name(f.alert.code), "sender": f.alert.sender}
    confidence = likelihood if likelihood in ("certain", "likely") else "possible"
    others = [c["cause"] for c in candidates or [] if c["cause"] != cause]
    return UdpDiagnosis("failed", cause, confidence, f.phase, f.sender if f.kind != "no_answer" else None, alert,
                        explanation, evidence, others, remedy_lines(cause), candidates=candidates or [],
                        likelihood=likelihood, protocol="DTLS")


def _no_answer(a: Any) -> UdpDiagnosis:
    f = a.failure
    cause = "client_rejected_cert_silently" if f.sender == "server" and a.server_certificates \
        else "server_no_response" if f.sender == "client" else "packets_dropped_on_path"
    other = "server" if f.sender == "client" else "client"
    what = "ClientHello" if f.phase == "client_hello" and f.sender == "client" else "flight"
    text = (f"The {f.sender} sent its {what} {f.sends} times (last in frame {f.frame}) and the {other} "
            + ("never answered." if f.last_answer_frame is None
               else f"did not answer after frame {f.last_answer_frame}.")
            + " A DTLS peer resends a flight only when its retransmission timer runs out (RFC 6347 §4.2.4).")
    evidence = [_line(f"The {f.sender} sent its {what} {f.sends} times; the {other} "
                      + ("sent nothing." if f.last_answer_frame is None
                         else f"sent nothing after frame {f.last_answer_frame}."), f.last_answer_frame, f.frame)]
    return _failed(a, cause, "likely", text, evidence)


def _alert_line(a: Any) -> dict[str, Any]:
    f = a.failure
    al = f.alert
    if al is None or al.code is None:
        return _line(f"The {f.sender} sent an encrypted alert (epoch {al.epoch if al else '?'}) before the handshake "
                     "completed.", f.frame)
    level = {1: "warning", 2: "fatal"}.get(al.level or 0, str(al.level))
    how = "encrypted, read with the key log" if getattr(al, "decrypted", False) else "in clear"
    return _line(f"The {f.sender} sent a {level} alert {alert_name(al.code)} ({al.code}) {how}, at "
                 f"{f.phase.replace('_', ' ')}.", f.frame)


def _unfailed(a: Any) -> UdpDiagnosis:
    """An association that did not fail: established (both Finished), or incomplete."""
    if a.outcome() == "established":
        sides = [f for f in (a.finished["client"], a.finished["server"]) if f is not None]
        evidence = [_line("Both sides sent their Finished (or protected records of the last epoch): the handshake "
                          "completed.", *sides)]
        return UdpDiagnosis("established", "ok", "likely", explanation="The DTLS handshake completed.",
                            evidence=evidence, protocol="DTLS")
    sent = a.datagrams
    return UdpDiagnosis("incomplete", "unknown", "possible",
                        explanation=f"No Finished from both sides and no alert (the client sent {sent['client']} "
                                    f"datagram(s), the server {sent['server']}): the capture may start late, end "
                                    "early or see one direction.", protocol="DTLS")


def diagnose_dtls(a: Any, chain: Any = None) -> UdpDiagnosis:
    """The verdict on a DTLS association (dtls.association.DtlsAssociation): a failure read with
    the alert model (cause, its likelihood, the other readings) and the server chain's findings;
    ``ok`` for an established one, ``unknown`` for one the capture does not show to its end."""
    from tlsdissect.diagnosis.udp_path import dtls_path_reading

    f = a.failure
    if f is None:
        return _unfailed(a)
    path_said = dtls_path_reading(a)  # an ICMP error, or large datagrams lost (diagnosis.udp_path)
    if path_said is not None:
        return path_said
    if f.kind == "no_answer":
        return _no_answer(a)
    alert = f.alert
    if alert is None or alert.code is None:
        text = (f"The {f.sender} sent an encrypted alert in frame {f.frame} (epoch {alert.epoch if alert else '?'}) "
                "before the handshake completed: its description is hidden without the keys.")
        found = _failed(a, "unknown", "possible", text, [_alert_line(a)])
        found.hidden = ["the alert's description (encrypted): DTLS keys would show it"]
        return found
    readings = alerts.candidates(alert.code, f.sender, f.phase)
    refused = f.sender == "client" and f.phase in ("server_certificate", "key_exchange")
    confirmed = cause_from_chain(alert.code, chain) if refused else None
    cause = confirmed or readings[0].cause
    evidence = [_alert_line(a)]
    if confirmed and chain is not None:
        texts = [x.text for x in chain.findings if FINDING_CAUSE.get(x.id) == confirmed]
        evidence.append(_line("The server's certificate chain: " + (texts[0] if texts else CAUSES[confirmed].title),
                              a.server_certificate_frame))
    else:
        evidence.append(_line(readings[0].evidence))
    return _failed(a, cause, "likely" if confirmed else readings[0].likelihood,
                   alerts.describe(alert.code, f.sender, f.phase), evidence,
                   [{"cause": r.cause, "likelihood": r.likelihood} for r in readings[:5]])
