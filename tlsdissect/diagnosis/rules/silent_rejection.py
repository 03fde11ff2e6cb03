"""A client that rejects the server's certificate without an alert: it closes right after the
server's certificate flight.

Node.js reads the verification result in JavaScript and destroys the socket (in TLS 1.3 before
its Finished reaches the wire); other clients that check the certificate in the application
do the same (the alert model's ``STACK_HABITS`` with no alert: they are named in the evidence).
What tells this apart from a client that merely went away: the close comes as soon as the
client could have verified the chain (within ``PROMPT_SECONDS`` plus one round trip of the
server's flight) and the client sent nothing after the ServerHello. When the chain is visible
and has an error a client refuses (untrusted, incomplete, self-signed, expired, wrong name),
that error is named as the likely reason.

A rule of the ``NO_ALERT`` family: a server alert after the client's close (lighttpd answers
the bare FIN with ``decode_error``) does not decide (ranking._after_the_peer_closed).
"""

from __future__ import annotations

from typing import Optional

from tlsdissect.diagnosis.alerts import STACKS, silent_on_server_certificate
from tlsdissect.diagnosis.candidate import Candidate, candidate
from tlsdissect.diagnosis.facts import Facts
from tlsdissect.diagnosis.rules.server_certificate import FINDING_CAUSE
from tlsdissect.diagnosis.verdict import make_evidence
from tlsdissect.tls.conclusions import finished_record
from tlsdissect.results.model import Event

PROMPT_SECONDS = 0.1  # a client verifies a chain in milliseconds; a close this soon (plus one round trip) is its answer
# Chain findings a client rejects, most telling first (those FINDING_CAUSE names a cause for).
REJECTED_FINDINGS = ("tls_interception", "self_signed_leaf", "chain_incomplete", "untrusted_root", "expired", "not_yet_valid",
                      "hostname_mismatch", "not_a_ca", "path_len_exceeded", "must_staple_unmet")
_CLIENT_TLS = ("handshake", "encrypted_record", "change_cipher_spec", "alert")
_SERVER_FLIGHT = ("handshake", "encrypted_record", "change_cipher_spec")


def _round_trip(f: Facts, ch: Event) -> float:
    """An upper bound of one round trip as the capture shows it: SYN to SYN-ACK (captured at the
    client), or SYN-ACK to the ClientHello (captured at the server); 0 without a SYN-ACK."""
    syn, syn_ack = f.first_event("syn", "client"), f.first_event("syn_ack", "server")
    if syn_ack is None:
        return 0.0
    return max(syn_ack.time - syn.time if syn is not None else 0.0, ch.time - syn_ack.time)


def _server_flight_end(f: Facts, close_frame: int) -> Optional[Event]:
    """The server's last TLS record before the close."""
    last = None
    for e in f.c.events:
        if e.frame >= close_frame:
            break
        if e.sender == "server" and e.type in _SERVER_FLIGHT:
            last = e
    return last


def _stack_line() -> str:
    habits = silent_on_server_certificate()
    names = [STACKS[h.stack].split(" (")[0] for h in habits]
    sources = "; ".join(f"{STACKS[h.stack].split(' (')[0]}: {h.source}" for h in habits)
    said = " and ".join(names) if len(names) <= 2 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{said} {'does' if len(names) == 1 else 'do'} this when they reject the certificate ({sources})."


def client_closed_on_certificate(f: Facts) -> Optional[Candidate]:
    """The client closes (FIN or RST) right after the server's certificate flight, without an
    alert and without sending anything after the ServerHello."""
    c = f.c
    close = c.tcp_close
    if close is None or close.by != "client" or c.established:
        return None
    ch, sh = f.hellos()
    if ch is None or sh is None or sh.frame > close.frame:
        return None
    cert = f.has("certificate", "server", close.frame)
    hidden_flight = cert is None and f.tls13 and bool(f.protected("server", sh.frame - 1, close.frame))
    if cert is None and not hidden_flight:
        return None
    for typ in _CLIENT_TLS:  # the client sent nothing TLS after the ServerHello
        if typ == "change_cipher_spec" and f.tls13:
            continue  # (TLS 1.3's compatibility ChangeCipherSpec says nothing: wget2 sends it, then resets)
        for e in f.by_type.get(typ, ()):
            if e.sender == "client" and sh.frame < e.frame <= close.frame:
                return None
    flight_end = _server_flight_end(f, close.frame)
    if flight_end is None:
        return None
    waited = close.time - flight_end.time
    if waited > PROMPT_SECONDS + _round_trip(f, ch):
        return None  # a client that went away later: closed_without_alert's
    closes = "resets" if close.how == "rst" else "closes"
    what = "certificate" if cert is not None else "encrypted flight (which carries the certificate)"
    evidence = [make_evidence(f"The client {closes} the connection {waited * 1000:.1f} ms after the server's last "
                              f"handshake record (frame {flight_end.frame}), without an alert and without sending "
                              "anything after the ServerHello.", [flight_end.frame, close.frame])]
    evidence.append(make_evidence("The client closed right after the server's certificate without an alert: "
                                  + _stack_line(), [close.frame]))
    evidence += f.chain_lines()
    found = [fid for fid in REJECTED_FINDINGS if f.finding(fid) is not None]
    alternatives = [FINDING_CAUSE[fid] for fid in found]
    hidden: list[str] = []
    if found:
        finding = f.finding(found[0])
        reason = (f" The chain's own error is the likely reason: {finding.text if finding is not None else found[0]}")
        confidence = "likely"
    elif cert is None:
        reason = " The certificate is encrypted (TLS 1.3): the client's key log would show which error it has."
        hidden.append("the server's certificate (TLS 1.3 encrypts it); " + f.keys_hint())
        confidence = "possible"
        alternatives = ["server_cert_untrusted", "server_chain_incomplete", "server_cert_expired",
                        "server_cert_hostname_mismatch"]
    else:
        chain = f.server_chain
        top = chain.certificates[chain.path[-1]] if chain is not None and chain.certificates and chain.path else None
        reason = (f" The chain shows no error by itself; it ends at {top.label}, issued by {top.issuer_label}: a "
                  "client that does not trust that root rejects it (check with --ca-file and the client's CA "
                  "bundle)." if top is not None else " The chain shows no error by itself.")
        confidence = "possible"
        alternatives = ["server_cert_untrusted", "server_cert_hostname_mismatch"]
    alternatives.append("client_closed_without_alert")
    return candidate("failed", "client_rejected_cert_silently", confidence, failure_point="server_certificate",
                     aborted_by="client", how=close.how, alternatives=alternatives, evidence=evidence, hidden=hidden,
                     explanation=(f"The client {closes} the connection as soon as it had the server's {what}, without "
                                  "a TLS alert: a client that rejects the certificate silently (Node.js and clients "
                                  "that verify in the application do this)." + reason))


def _full_tls12_order(f: Facts, close_frame: int) -> bool:
    """A full TLS 1.2 handshake's order: the client's Finished, then the server's; the close
    comes after the server's Finished (a client that closes before it did not wait for it)."""
    client_ccs, server_ccs = f.first_event("change_cipher_spec", "client"), f.first_event("change_cipher_spec", "server")
    return client_ccs is not None and server_ccs is not None and client_ccs.frame <= server_ccs.frame < close_frame


def _only_its_flight_tls13(f: Facts, close_frame: int) -> bool:
    """TLS 1.3: the client sent nothing after its Finished (without keys: its last protected
    record is a Finished of the suite's exact size; with them: no application data), and
    it was a full handshake (no pre-shared key: a certificate to reject)."""
    if f.c.resumed:
        return False
    if f.by_type.get("application_data") or any(e.info.get("encrypted") for e in f.hs):  # (decrypted)
        return not any(e.sender == "client" for e in f.app_data())
    sh = f.hellos()[1]
    sent = f.protected("client", sh.frame if sh is not None else 0, close_frame)
    return bool(sent) and sent[-1].info.get("length") == finished_record(f.c.cipher_code)


def client_closed_after_handshake(f: Facts) -> Optional[Candidate]:
    """The handshake completed and the client closed (FIN or RST) at once, with no alert, not
    even close_notify, and no data: Node.js with TLS 1.2 verifies after both Finished and
    destroys the socket (the alert model's STACK_HABITS); wget on GnuTLS does the same in TLS 1.3
    (its Finished sent, then a reset). A rule of the AFTER_HANDSHAKE family."""
    c = f.c
    close = c.tcp_close
    if close is None or close.by != "client" or not c.established:
        return None
    if any(a.sender == "client" for a in c.alerts):
        return None  # (a close_notify is a client saying goodbye; curl's name check is another rule's)
    ch = f.hellos()[0]
    if ch is None or (f.tls13 and not _only_its_flight_tls13(f, close.frame)) or \
            (not f.tls13 and (f.app_data() or not _full_tls12_order(f, close.frame))):
        return None
    if not f.tls13 and f.has("certificate", "server") is None:
        return None  # (a resumed session: no certificate to reject)
    flight_end = _server_flight_end(f, close.frame)
    if flight_end is None:
        return None
    waited = close.time - flight_end.time
    if waited > PROMPT_SECONDS + _round_trip(f, ch):
        return None
    closes = "resets" if close.how == "rst" else "closes"
    evidence = [make_evidence(f"The handshake completes and the client {closes} the connection {waited * 1000:.1f} ms "
                              f"after the server's last handshake record (frame {flight_end.frame}): no alert, not "
                              "even close_notify, and no request.", [flight_end.frame, close.frame]),
                make_evidence("The client closed right after the server's certificate without an alert: "
                              + _stack_line(), [close.frame])]
    evidence += f.chain_lines()
    found = [fid for fid in REJECTED_FINDINGS if f.finding(fid) is not None]
    if f.tls13 and not found:
        # Browsers cancel a request right after the handshake too (an ad blocker, a navigation
        # away: real captures of reddit.com's page show a dozen), and TLS 1.3 hides the
        # certificate without the key log: a failure only when the chain shows an error.
        return candidate("established", "ok", "likely", evidence=evidence[:1],
                         alternatives=["client_rejected_cert_silently", "server_cert_untrusted"],
                         hidden=[] if f.server_chain is not None else
                         ["the server's certificate (TLS 1.3 encrypts it); " + f.keys_hint()],
                         explanation=(f"The TLS handshake completed ({c.version}, {c.cipher}); the client then "
                                      f"{closes} the connection at once without a request. A client that checks the "
                                      "certificate after the handshake and rejects it silently does this (wget on "
                                      "GnuTLS), and so does a browser that cancels the request. If the client "
                                      "reported a certificate error, the key log shows the certificate."))
    if found:
        finding = f.finding(found[0])
        reason = f" The chain's own error is the likely reason: {finding.text if finding is not None else found[0]}"
        alternatives = [FINDING_CAUSE[fid] for fid in found]
    else:
        reason = (" The chain shows no error by itself: a root the client does not trust, or its own name check, "
                  "would explain it (check with --ca-file).")
        alternatives = ["server_cert_untrusted", "server_cert_hostname_mismatch"]
    alternatives.append("client_closed_without_alert")
    return candidate("failed", "client_rejected_cert_silently", "likely" if found else "possible",
                     failure_point="server_certificate", aborted_by="client", how=close.how,
                     alternatives=alternatives, evidence=evidence,
                     explanation=(f"The handshake completed, then the client {closes} the connection at once without "
                                  "any alert or request: a client that checks the certificate after the handshake "
                                  "and rejects it silently (Node.js does this with TLS 1.2)." + reason))
