"""Why a QUIC handshake ended as it did: the cause named from what the capture shows of it.

A QUIC handshake fails with a CONNECTION_CLOSE. Its CRYPTO_ERROR (0x100 + a TLS alert) is read
with the same alert model as TLS over TCP (diagnosis.alerts), in the phase the close
interrupts; what narrows the alert's candidates is, in this order: the server chain's findings
when a key log opened the certificate (the same findings and alert sets as the TCP rules,
rules.server_certificate), the ALPN lists for no_application_protocol, the reason phrase when
the closing stack wrote its verification error there, and otherwise the alert model's first
reading. A close without a TLS alert is a QUIC transport error, named by RFC 9000's table; a
client whose Initial packets get no answer at all is a server that never answered (blocked UDP,
no QUIC listener). What the UDP path shows comes before a silence is called the server's: an ICMP
error quoting the client's Initial (diagnosis.udp_path), address validation that never completes,
a server stopped at its anti-amplification limit (diagnosis.quic_path), large datagrams lost while
small ones pass, a client that fell back to TCP. Each reading is one small function returning a
QuicDiagnosis or None; ``diagnose_quic`` tries them in order (the ranking, in one place).

With the key log's application secrets the 1-RTT packets are read too: the server's
HANDSHAKE_DONE proves the handshake completed, and a close after it (an HTTP/3 application
close such as H3_VERSION_FALLBACK, or a late CRYPTO_ERROR) is reported as late: the outcome
stays established with cause ok, as for a late alert over TCP (rules/late_alert.py); a late
CRYPTO_ERROR is the diagnosis' ``after_handshake`` problem ``late_alert_after_success``.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from tlsdissect.diagnosis import alerts
from tlsdissect.diagnosis.alert_codes import (
    BAD_CERTIFICATE, CERTIFICATE_REQUIRED, CERTIFICATE_UNKNOWN, NO_APPLICATION_PROTOCOL, PROTOCOL_VERSION, UNKNOWN_CA)
from tlsdissect.diagnosis import quic_path, udp_path
from tlsdissect.diagnosis.causes import remedy_lines
from tlsdissect.diagnosis.udp_verdict import UdpDiagnosis
from tlsdissect.diagnosis.verdict import after_handshake_problem
from tlsdissect.diagnosis.rules.server_certificate import FINDING_CAUSE, finding_expected, findings_for_alert
from tlsdissect.quic.h3 import H3_MEANINGS, is_http3

# What the reason phrase of a CONNECTION_CLOSE says, when a stack puts its certificate
# verification error there (aioquic passes OpenSSL's verify strings; ngtcp2's examples and
# quic-go their own words): phrase (lower case) -> the cause it names.
REASON_CAUSES: tuple[tuple[str, str], ...] = (
    ("unable to get local issuer", "server_cert_untrusted"),
    ("self signed", "server_cert_self_signed"),
    ("self-signed", "server_cert_self_signed"),
    ("certificate has expired", "server_cert_expired"),
    ("not yet valid", "server_cert_not_yet_valid"),
    ("hostname", "server_cert_hostname_mismatch"),
    ("doesn't match", "server_cert_hostname_mismatch"),
    ("not valid for", "server_cert_hostname_mismatch"),
    ("unknown authority", "server_cert_untrusted"),
    ("no common alpn", "alpn_mismatch"),
)

# QUIC transport errors (RFC 9000 §20.1) that name a catalogue cause.
TRANSPORT_CAUSES: dict[int, str] = {
    0x01: "peer_internal_error",  # INTERNAL_ERROR
    0x0A: "tls_implementation_bug",  # PROTOCOL_VIOLATION
    0x0B: "quic_address_validation_failed",  # INVALID_TOKEN: a Retry token the server does not accept
    0x11: "protocol_version_mismatch",  # VERSION_NEGOTIATION_ERROR
}


# The verdict on a QUIC handshake: the shape DTLS's diagnosis shares (diagnosis.udp_verdict).
QuicDiagnosis = UdpDiagnosis


def _line(text: str, *frames: Optional[int]) -> dict[str, Any]:
    return {"text": text, "frames": [f for f in frames if f is not None]}


def phase_of(q: Any) -> str:
    """The handshake phase a close interrupts: before the ServerHello; the server's certificate
    (the client closes after the server's Handshake packets reached it); the client's
    certificate (the server closes after asking for one); or right after the ServerHello."""
    close = q.close
    if q.server_hello is None:
        return "client_hello"
    if close is not None and close.sender == "client" and (q.packets["server"].get("handshake")
                                                           or q.server_certificates):
        return "server_certificate"
    if close is not None and close.sender == "server" and (q.certificate_requested
                                                           or q.client_certificates is not None):
        return "client_certificate"
    return "server_hello"


def _failed(q: Any, cause: str, confidence: str, explanation: str, evidence: list[dict[str, Any]],
            alternatives: Optional[list[str]] = None) -> "QuicDiagnosis":
    close = q.close
    alert = None
    if close is not None and close.tls_alert is not None:
        alert = {"code": close.tls_alert, "name": alerts.alert_name(close.tls_alert), "sender": close.sender}
    hidden = []
    if not q.handshake_keys and q.server_hello is not None:
        hidden.append("the server's certificate and the rest of the handshake (Handshake packets): supply the key "
                      "log (SSLKEYLOGFILE) to read them")
    return QuicDiagnosis(q.outcome(), cause, confidence, phase_of(q) if close is not None else None,
                         close.sender if close is not None else None, alert, explanation, evidence,
                         [a for a in (alternatives or []) if a != cause], remedy_lines(cause), hidden)


def _close_line(q: Any) -> dict[str, Any]:
    c = q.close
    text = f"The {c.sender} closed the connection with {c.error_name}"
    if c.tls_alert is not None:
        text += f" = TLS alert {alerts.alert_name(c.tls_alert)} ({c.tls_alert})"
    if c.reason:
        text += f', reason "{c.reason}"'
    level = "1-RTT" if c.level == "1rtt" else c.level
    return _line(text + f" ({level} packet).", c.frame)


def _late_close(q: Any) -> tuple[list[dict[str, Any]], Optional[dict[str, Any]]]:
    """The evidence line of a close on an established connection (what an HTTP/3 code means),
    and, for a late CRYPTO_ERROR, the after_handshake problem: it did not stop the handshake."""
    c = q.close
    line = _close_line(q)
    if c.late:
        line["text"] = line["text"][:-1] + (", after the server's HANDSHAKE_DONE: it ended the connection, not the "
                                            "handshake.")
    else:
        line["text"] = line["text"][:-1] + (", an application's close, not a handshake failure." if c.application_level
                                            else ", a close without error, not a handshake failure.")
    meaning = H3_MEANINGS.get(c.error_code) if c.application and is_http3(q.alpn_selected) else None
    if meaning:
        line["text"] += f" {c.error_name.split(' ')[0]}: {meaning}."
    if c.tls_alert is None or not c.late:
        return [line], None
    name = alerts.alert_name(c.tls_alert)
    after = after_handshake_problem(
        "late_alert_after_success", "certain", False,
        f"A late CRYPTO_ERROR after the handshake completed: the {c.sender} closed the connection with TLS alert "
        f"{name} ({c.tls_alert}) after the server's HANDSHAKE_DONE (frame {q.handshake_done_frame}); the handshake "
        "had succeeded.", [q.handshake_done_frame, c.frame])
    after["alert"] = {"code": c.tls_alert, "name": name, "sender": c.sender}
    return [line], after


def _leaf_line(q: Any, finding: Optional[str]) -> dict[str, Any]:
    """The server's leaf certificate as the key log let us read it, and the finding against it."""
    leaf = q.chain.certificates[0]
    why = f" ({finding})" if finding else "; no fault the capture can check"
    return _line(f"The server's certificate (read with the key log): {leaf.label}, issued by {leaf.issuer_label}{why}.",
                 q.server_certificates_frame)


def established(q: Any) -> Optional[QuicDiagnosis]:
    if q.outcome() != "established":
        return None
    if q.handshake_done_frame is not None:
        evidence = [_line("The server sent HANDSHAKE_DONE (in a 1-RTT packet, read with the key log): the handshake "
                          "completed.", q.handshake_done_frame)]
    else:
        evidence = [_line("Both sides sent 1-RTT packets: the handshake completed.")]
    if q.alpn_selected:
        evidence.append(_line(f"The server selected ALPN {q.alpn_selected}."))
    updates = [f"the {side} {n} time(s)" for side, n in q.key_updates.items() if n]
    if updates:
        evidence.append(_line(f"Key updates (RFC 9001 §6): {' and '.join(updates)}; the packets after them opened "
                              "with the next keys."))
    if q.http3_status is not None:
        evidence.append(_line(f"The server's first HTTP/3 response: HTTP/3 status {q.http3_status} (read with the key "
                              "log).", q.http3_status_frame))
    if q.zero_rtt_opened:
        taken = {True: "the server accepted it (early_data in its EncryptedExtensions)",
                 False: "the server refused it (no early_data in its EncryptedExtensions): the client sends it again "
                        "in 1-RTT packets"}.get(q.early_data_accepted, "whether the server accepted it is not read")
        evidence.append(_line(f"The client resumed a session and sent {q.zero_rtt_opened} 0-RTT packet(s) of early "
                              f"data (read with the key log); {taken}."))
    after = None
    if q.close is not None:
        lines, after = _late_close(q)
        evidence += lines
    sure = q.handshake_keys or q.handshake_done_frame is not None
    return QuicDiagnosis("established", "ok", "certain" if sure else "likely",
                         explanation="The QUIC handshake completed.", evidence=evidence, after_handshake=after)


def chain_explains(q: Any) -> Optional[QuicDiagnosis]:
    """The client's certificate alert, explained by the chain a key log let us read."""
    c = q.close
    if c is None or c.tls_alert is None or c.sender != "client" or q.chain is None \
            or phase_of(q) != "server_certificate":
        return None
    ids = q.chain.finding_ids()
    found = [fid for fid in findings_for_alert(ids, c.tls_alert) if fid in FINDING_CAUSE]
    if found:
        finding = found[0]
        text = next((f.text for f in q.chain.findings if f.id == finding), finding)
        sure = "certain" if finding_expected(finding, c.tls_alert) and len(found) == 1 else "likely"
        others = [FINDING_CAUSE[x] for x in found[1:]]
        if finding == "chain_incomplete" and q.chain.trust == "not_checked":
            # A leaf whose issuer is not sent: a missing intermediate, or a root the client lacks
            # (a private CA that issues leaves itself); only a trust store (--ca-file) tells.
            sure, others = "likely", others + ["server_cert_untrusted"]
        return _failed(q, FINDING_CAUSE[finding], sure, text, [_close_line(q), _leaf_line(q, finding)], others)
    if c.tls_alert in (UNKNOWN_CA, BAD_CERTIFICATE, CERTIFICATE_UNKNOWN) and "chain_incomplete" not in ids and q.chain.trust != "trusted":
        return _failed(q, "server_cert_untrusted", "likely",
                       "The chain the server sent is complete and in date, and the client did not trust its root "
                       "(or the client's trust store lacks it).",
                       [_close_line(q), _leaf_line(q, None)], ["server_cert_rejected"])
    return None


def alpn_refused(q: Any) -> Optional[QuicDiagnosis]:
    c = q.close
    if c is None or c.tls_alert != NO_APPLICATION_PROTOCOL:
        return None
    offered = offered_alpn(q)
    evidence = [_close_line(q)]
    if offered:
        evidence.append(_line(f"The client offered ALPN {', '.join(offered)}; HTTP/3 needs h3 on both sides.",
                              q.client_hello_frame))
    return _failed(q, "alpn_mismatch", "certain",
                   "No application protocol (ALPN) in common: the server speaks none of the protocols the "
                   "client offered.", evidence)


def client_certificate_required(q: Any) -> Optional[QuicDiagnosis]:
    c = q.close
    if c is None or c.tls_alert != CERTIFICATE_REQUIRED or c.sender != "server":
        return None
    sent = q.client_certificates
    return _failed(q, "client_cert_missing", "certain",
                   "The server requires a client certificate and the client sent none.",
                   [_close_line(q)] + ([_line("The client's Certificate message was empty.")] if sent == [] else []))


def reason_phrase(q: Any) -> Optional[QuicDiagnosis]:
    c = q.close
    if c is None or not c.reason:
        return None
    said = c.reason.lower()
    cause = next((cause for phrase, cause in REASON_CAUSES if phrase in said), None)
    if cause is None:
        return None
    return _failed(q, cause, "likely", f"The {c.sender}'s reason phrase names it: \"{c.reason}\".",
                   [_close_line(q)])


def alert_model(q: Any) -> Optional[QuicDiagnosis]:
    c = q.close
    if c is None or c.tls_alert is None:
        return None
    found = alerts.candidates(c.tls_alert, c.sender, phase_of(q))
    first = found[0]
    confidence = "likely" if first.likelihood == "likely" else "possible"
    if c.tls_alert == PROTOCOL_VERSION and q.server_hello is None:
        confidence = "likely"
    return _failed(q, first.cause, confidence, alerts.describe(c.tls_alert, c.sender, phase_of(q)),
                   [_close_line(q), _line(first.evidence)], [x.cause for x in found[1:4]])


def transport_error(q: Any) -> Optional[QuicDiagnosis]:
    c = q.close
    if c is None or c.tls_alert is not None or c.application_level:
        return None
    if c.error_code == 0:
        return None  # NO_ERROR: a graceful close, judged by what came before
    cause = TRANSPORT_CAUSES.get(c.error_code, "unknown")
    return _failed(q, cause, "likely" if cause != "unknown" else "possible",
                   f"A QUIC transport error (RFC 9000 §20.1), not a TLS alert: {c.error_name}.", [_close_line(q)])


def version_negotiation(q: Any) -> Optional[QuicDiagnosis]:
    if not q.version_negotiation or q.server_hello is not None:
        return None
    offered = ", ".join(str(v) for v in q.to_dict()["version_negotiation"])
    return _failed(q, "protocol_version_mismatch", "likely",
                   f"The server answered with Version Negotiation ({offered}) and no handshake followed: no QUIC "
                   "version in common.", [_line(f"The server supports {offered}.")])


# Datagrams of one flight: a client's Initial packets sent within this many seconds of each other
# are one try (a ClientHello split over two Initials), not a retransmission.
ONE_FLIGHT = 0.2


def no_answer(q: Any) -> Optional[QuicDiagnosis]:
    """The server sent nothing at all: whatever the client said when it gave up (a close of its
    own, e.g. after its handshake timeout) is about the silence, not its cause."""
    sent = q.packets["client"].get("initial", 0)
    if q.packets["server"] or not sent:
        return None
    evidence = [_line(f"{sent} Initial packet(s) from the client, nothing from the server.", q.client_hello_frame)]
    if q.close is None and q.end_time - q.start_time < ONE_FLIGHT:
        # One flight and no retransmission: a silent server would have had the Initial again
        # after the client's probe timeout (about a second, RFC 9002 §6.2).
        return QuicDiagnosis("incomplete", "unknown", "possible", "client_hello", None, None,
                             "The client's Initial got no answer in the capture, and the client never sent it "
                             "again, as a QUIC client does when its probe timeout (about a second) passes without "
                             "an answer: the capture ends first or lacks this connection's packets (a capture "
                             "filter, an export of selected packets), or the client dropped the attempt (raced "
                             "against TCP and won there). Nothing shows a silent server.", evidence, [], [])
    if q.close is not None:
        evidence.append(_line(f"The client then gave up: {_close_line(q)['text']}", q.close.frame))
    return QuicDiagnosis(q.outcome(), "server_no_response", "likely", "client_hello",
                         "client" if q.close is not None else None, None,
                         f"The client sent {sent} Initial packet(s) and the server never answered: UDP to the "
                         "server is blocked or dropped, or nothing listens for QUIC there (HTTP/3 clients then "
                         "fall back to TCP).", evidence, ["packets_dropped_on_path"], remedy_lines("server_no_response"))


def _from_path(q: Any, reading: Optional[udp_path.PathReading]) -> Optional[QuicDiagnosis]:
    """A path reading as the handshake's diagnosis (the client's close, if any, as a last line)."""
    if reading is None:
        return None
    evidence = [_line(text, *frames) for text, frames in reading.evidence]
    close = q.close
    if close is not None:
        said = _close_line(q)["text"]
        evidence.append(_line(f"The client then gave up: {said[0].lower()}{said[1:]}" if close.sender == "client"
                              else said, close.frame))
    phase = "client_hello" if q.server_hello is None else "server_hello"
    return QuicDiagnosis(q.outcome(), reading.cause, reading.confidence, phase,
                         "server" if close is not None and close.sender == "server" else None, None,
                         reading.explanation, evidence,
                         [a for a in reading.alternatives if a != reading.cause], remedy_lines(reading.cause))


def icmp_error(q: Any) -> Optional[QuicDiagnosis]:
    """An ICMP error quoting the client's datagrams, before the server answered anything."""
    if q.server_hello is not None:
        return None
    return _from_path(q, udp_path.icmp_reading(q.path, q.server, "QUIC Initial"))


def version_negotiation_failed(q: Any) -> Optional[QuicDiagnosis]:
    return _from_path(q, quic_path.no_common_version(q))


def retry_failed(q: Any) -> Optional[QuicDiagnosis]:
    return _from_path(q, quic_path.retry_failed(q))


def amplification_stall(q: Any) -> Optional[QuicDiagnosis]:
    return _from_path(q, quic_path.amplification_stall(q))


def large_datagrams_lost(q: Any) -> Optional[QuicDiagnosis]:
    if q.handshake_progressed or (q.close is not None and q.close.sender == "server"):
        return None
    return _from_path(q, udp_path.size_reading(q.path, "QUIC Initial"))


def fell_back_to_tcp(q: Any) -> Optional[QuicDiagnosis]:
    if q.packets["server"]:
        return None
    return _from_path(q, udp_path.fallback_reading(q.path, q.server, q.first_frame, "QUIC Initial"))


def unfinished(q: Any) -> QuicDiagnosis:
    hidden = [] if q.handshake_keys else [
        "a close sent at the Handshake level (encrypted): supply the key log (SSLKEYLOGFILE) to read it"]
    sent = {side: ", ".join(f"{n} {kind}" for kind, n in q.packets[side].items()) or "nothing"
            for side in ("client", "server")}
    return QuicDiagnosis("incomplete", "unknown", "possible", None, None, None,
                         "No 1-RTT packets from both sides and no CONNECTION_CLOSE the capture can read "
                         f"(the client sent {sent['client']}; the server sent {sent['server']}).", [], [], [], hidden)


RULES: tuple[Callable[[Any], Optional[QuicDiagnosis]], ...] = (
    established, icmp_error, version_negotiation_failed, retry_failed, amplification_stall, large_datagrams_lost,
    fell_back_to_tcp, no_answer, chain_explains, alpn_refused, client_certificate_required, reason_phrase, alert_model,
    transport_error, version_negotiation)


def diagnose_quic(q: Any) -> QuicDiagnosis:
    """The first rule that names a cause (RULES, in order), or what stays unknown."""
    for rule in RULES:
        found = rule(q)
        if found is not None:
            return found
    return unfinished(q)


def offered_alpn(q: Any) -> list[str]:
    ch = q.client_hello
    ext = ch.ext(16) if ch is not None else None
    decoded = ext.decoded if ext is not None else None
    names = decoded.get("protocols") if decoded else None
    return [str(n) for n in names] if isinstance(names, list) else []
