"""A completed handshake: what followed it tells whether it was really a success.

A client that closes at once on a certificate that does not match the name (curl's own host
name check), what the decrypted HTTP says (rules/http_answers.py: a refusal carrying the TLS
reason, a truncated response), a server that wanted a client certificate and refused the
request afterwards (nginx's ssl_verify_client), a reset without close_notify; otherwise success. Rules for an established
connection with no deciding alert; the last one always applies.
"""

from __future__ import annotations

from typing import Optional

from tlsdissect.diagnosis.alert_codes import CLOSE_NOTIFY
from tlsdissect.diagnosis.candidate import Candidate, candidate
from tlsdissect.diagnosis.facts import PROBABLE_ALERT_MAX, Facts, other_side
from tlsdissect.diagnosis.rules.server_certificate import FINDING_CAUSE
from tlsdissect.diagnosis.rules.silent_rejection import REJECTED_FINDINGS
from tlsdissect.diagnosis.verdict import make_evidence
from tlsdissect.results.model import Event
from tlsdissect.tls.conclusions import finished_record

_NONE: tuple[Event, ...] = ()


def closed_at_once_on_name_mismatch(f: Facts) -> Optional[Candidate]:
    """curl's host name check: the handshake completes, then the client closes at once (no
    data ever) and the certificate does not match the name."""
    finding = f.finding("hostname_mismatch")
    if finding is None or f.client_sent_data_before(10**12):
        return None
    c = f.c
    evidence = f.chain_lines()
    notify = next((a for a in c.alerts if a.sender == "client" and a.code == CLOSE_NOTIFY), None)
    if notify is not None:
        evidence.append(f.alert_line(notify))
    return candidate("failed", "server_cert_hostname_mismatch", "likely", failure_point="server_certificate",
                     aborted_by="client", how="alert" if notify else (c.tcp_close.how if c.tcp_close else "fin"),
                     alert=notify, evidence=evidence,
                     explanation=("The handshake completed but the client closed without sending a request, as "
                                  "curl does when its host name check fails. " + finding.text))


def client_auth_refused_later(f: Facts) -> Optional[Candidate]:
    """A server that asked for a client certificate, got none (or a bad one), completed the
    handshake anyway and then closed: nginx's ssl_verify_client answers HTTP 400 this way.
    Before TLS 1.3 only (a 1.3 client's certificate flight is encrypted)."""
    c = f.c
    if c.certificate_request is None or c.client_certificate_sent is None or f.tls13:
        return None
    problem = f.client_certificate_problem()
    if problem is None:
        return None
    resp = next((e for e in f.by_type.get("application_data", _NONE) if e.sender == "server"), None)
    preview = str(resp.info.get("preview", "")) if resp is not None else ""
    server_refused = preview[9:12] in ("400", "403", "495", "496") if preview.startswith("HTTP/") else None
    if server_refused is False:
        return None  # the server answered normally: client authentication was optional
    if server_refused is None:
        # Without the key log we cannot see whether the server refused the request: the
        # handshake itself succeeded, so say so, and name the risk.
        return candidate("established", "ok", "likely", alternatives=[problem],
                         explanation=(f"The TLS handshake completed ({c.version}, {c.cipher}), but the server asked "
                                      "for a client certificate and the client "
                                      + ("sent none" if problem == "client_cert_missing" else "sent one the server did not ask for")
                                      + ". A server that requires it (nginx ssl_verify_client on) refuses the request "
                                      "inside the encrypted session; supply the key log to see its answer."))
    assert resp is not None  # (the refusal was read from it)
    evidence = [make_evidence(f"The server answers HTTP {preview[9:12]} (decrypted): {preview.split(chr(13))[0]!r}.",
                              [resp.frame])]
    cert_ev = next((e for e in f.hs if e.sender == "client" and e.info.get("message") == "certificate"), None)
    if problem == "client_cert_missing" and cert_ev is not None:
        evidence.append(make_evidence("The client answers the CertificateRequest with an empty Certificate.", [cert_ev.frame]))
    close = c.tcp_close
    return candidate("established", problem, "certain", failure_point="application_data", aborted_by="server",
                     how=close.how if close is not None else None, evidence=evidence,
                     explanation=("The server asked for a client certificate and "
                                  + ("got none" if problem == "client_cert_missing" else "got one it does not accept")
                                  + ", completed the handshake anyway, and then refused the request"
                                  + f" (HTTP {preview[9:12]})"
                                  + ": nginx's ssl_verify_client behaves like this (Apache aborts the handshake instead)."))


def reset_after_handshake(f: Facts) -> Optional[Candidate]:
    """A reset after the handshake with no close_notify before it from the side that reset
    (nor a close from the other side first, nor a probable encrypted alert)."""
    c = f.c
    close = c.tcp_close
    if close is None or close.how != "rst":
        return None
    by = close.by
    said_bye = any(a.sender == by and a.frame <= close.frame for a in c.alerts)
    peer = other_side(by)
    peer_closed = any(e.sender == peer and e.frame < close.frame
                      for typ in ("fin", "rst") for e in f.by_type.get(typ, _NONE)) or \
        any(a.sender == peer and a.frame < close.frame for a in c.alerts)
    if said_bye or peer_closed or f.probable_alert(by, close.frame) is not None:
        return None
    if by == "client" and f.request_answered():
        # Browsers and HTTP clients close a pooled connection they are done with by a reset
        # (Chrome does, with unread bytes): after an answered request that is no failure.
        return candidate("established", "ok", "likely", evidence=[make_evidence(
            "The client resets the connection after its request was answered, without a close_notify: browsers and "
            "HTTP clients close pooled connections this way.", [close.frame])],
            explanation=(f"The TLS handshake completed ({c.version}, {c.cipher}) and data went both ways; the client "
                         "then reset the connection instead of closing the TLS session, as browsers do with a "
                         "connection they no longer need."))
    return candidate("established", "connection_reset", "likely", failure_point="application_data",
                     aborted_by=by, how="rst", alternatives=["middlebox_reset"],
                     evidence=[make_evidence(f"The {by} resets the connection after the handshake without a close_notify.",
                                             [close.frame])],
                     explanation=(f"The handshake completed, then the {by} reset the connection without closing the TLS "
                                  "session first: the application crashed, was killed, or gave up."))


MAX_REQUEST_RECORDS = 4  # client records a request fits in (more: a one-way stream, no answer expected)


def closed_without_answer(f: Facts) -> Optional[Candidate]:
    """The client sent data (its request) and the server closed with a bare FIN, having sent no
    data at all and no close_notify: the application behind TLS gave up, crashed or timed out
    (a TCP-mode proxy's server timeout closes the client's side this way: HAProxy's
    ``timeout server``); curl says "Empty reply from server". TLS 1.3 needs the key log (its
    session tickets look like data)."""
    c = f.c
    close = c.tcp_close
    if close is None or close.by != "server" or close.how != "fin" or any(a.sender == "server" for a in c.alerts):
        return None
    if f.tls13 and not f.by_type.get("application_data"):
        return None
    data = f.app_data()
    requests = [e for e in data if e.sender == "client"]
    request = requests[0] if requests else None
    if request is None or request.frame > close.frame or any(e.sender == "server" for e in data):
        return None
    if len(requests) > MAX_REQUEST_RECORDS:
        return None  # (a client streaming data one way, as syslog over TLS does, expects no answer)
    waited = close.time - request.time
    return candidate("established", "server_closed_without_alert", "likely", failure_point="application_data",
                     aborted_by="server", how="fin", alternatives=["middlebox_reset"],
                     evidence=[make_evidence(f"The client sends data (frame {request.frame}); the server sends nothing "
                                             f"back and closes the connection {waited:.1f} s later with a FIN, without "
                                             "a close_notify.", [request.frame, close.frame])],
                     explanation=("The handshake completed and the client sent its request, but the server closed "
                                  f"the connection {waited:.1f} s later without answering and without closing the TLS "
                                  "session (no close_notify): the application behind TLS gave up, crashed or timed out. "
                                  "A proxy in TCP mode closes the client's side like this when its timeout for the "
                                  "backend fires (HAProxy's `timeout server`); HTTP clients report an empty reply "
                                  "(curl: 'Empty reply from server')."))

def client_left_after_its_finished(f: Facts) -> Optional[Candidate]:
    """TLS 1.3 without keys: right after its Finished the client sends one alert-sized record
    and closes, having sent no data. A probe that only connects does this (``openssl s_client
    </dev/null``, health checks: the STARTTLS lab's s_client captures), and so does curl after
    its own host name check fails (an encrypted close_notify too): the bytes are the same, so
    the handshake's success stands, "likely", with the certificate refusals as alternatives."""
    c = f.c
    close = c.tcp_close
    if not f.tls13 or close is None or c.alerts:
        return None
    sh = f.hellos()[1]
    if sh is None:
        return None
    sent = f.protected("client", sh.frame, close.frame)
    if close.by != "client" and (len(sent) < 2 or sent[-1].frame >= close.frame):
        return None  # (a server's close counts only as the answer to the client's goodbye)
    if len(sent) < 2 or sent[-1].info.get("length", 999) > PROBABLE_ALERT_MAX \
            or sent[-2].info.get("length") != finished_record(c.cipher_code):
        return None
    if len(f.protected("client", sh.frame)) != len(sent):
        return None  # (the client went on after its close: not a goodbye)
    probable, fin = sent[-1], sent[-2]
    evidence = [make_evidence(f"Right after its Finished ({fin.info.get('length')} bytes) the client sends a "
                              f"{probable.info.get('length')}-byte encrypted record, the size of an encrypted alert, "
                              "and closes the connection without having sent anything.", [fin.frame, probable.frame,
                                                                                        close.frame])]
    return candidate("established", "ok", "likely",
                     alternatives=["server_cert_hostname_mismatch", "server_cert_rejected"], evidence=evidence,
                     hidden=["the certificate and the alert's description (TLS 1.3 encrypts both); " + f.keys_hint()],
                     explanation=(f"The TLS handshake completed ({c.version}, {c.cipher}); the client then said "
                                  "goodbye at once (a probable encrypted alert) and closed without sending anything. "
                                  "A probe that only connects does this (openssl s_client </dev/null, a health "
                                  "check), and so does a client that rejects the certificate after the handshake "
                                  "(curl when its own host name check or its public-key pinning fails). If the client reported an error, its "
                                  "key log shows the certificate."))


def client_goodbye_before_data(f: Facts) -> Optional[Candidate]:
    """TLS <= 1.2, or TLS 1.3 read with the key log: right after the handshake the client sends
    an (encrypted) alert and closes, having sent no data: a client that checks the chain itself
    after the handshake and gives up (nginx's proxy_ssl_verify, curl's host name check or its
    public-key pinning: a close_notify either way), or a probe that only connects. The server
    may close first in answer to that goodbye. A chain error that such a client refuses names
    the refusal; otherwise the success stands, "likely", with the refusal as the alternative."""
    c = f.c
    close = c.tcp_close
    if close is None or (f.tls13 and f.has("encrypted_extensions", "server") is None):
        return None  # (TLS 1.3 without keys: client_left_after_its_finished reads the sizes)
    goodbye = next((a for a in c.alerts if a.sender == "client"), None)
    if goodbye is None or goodbye.code not in (None, CLOSE_NOTIFY) or goodbye.frame > close.frame \
            or (close.by != "client" and goodbye.frame == close.frame) \
            or f.client_sent_data_before(goodbye.frame + 1):  # (data in the goodbye's own frame came before it)
        return None
    line = make_evidence("Right after the handshake the client sends " + (
        "an encrypted alert" if goodbye.code is None else "close_notify") + " and closes the connection without "
        "having sent any data.", [goodbye.frame, close.frame])
    found = [fid for fid in REJECTED_FINDINGS if f.finding(fid) is not None]
    if found:
        finding = f.finding(found[0])
        return candidate("failed", "client_rejected_cert_silently", "likely", failure_point="server_certificate",
                         aborted_by="client", how="alert", alert=goodbye,
                         alternatives=[FINDING_CAUSE[x] for x in found if x in FINDING_CAUSE],
                         evidence=[line] + f.chain_lines(),
                         explanation=("The handshake completed, then the client closed before sending anything: a "
                                      "client that verifies the chain after the handshake and gives up without an "
                                      "error alert (nginx's proxy_ssl_verify does). "
                                      + (finding.text if finding is not None else "")))
    return candidate("established", "ok", "likely", evidence=[line],
                     alternatives=["client_rejected_cert_silently", "server_cert_untrusted"],
                     explanation=(f"The TLS handshake completed ({c.version}, {c.cipher}); the client then closed "
                                  "without sending anything. A probe that only connects does this, and so does a "
                                  "client that checks the certificate after the handshake against a trust store "
                                  "the capture cannot show (nginx's proxy_ssl_verify, a private CA) or against a "
                                  "pinned public key (curl --pinnedpubkey): if the client logged a verification "
                                  "error, that is the reason (check with --ca-file)."))


def client_certificate_unread(f: Facts) -> Optional[Candidate]:
    """TLS 1.3 without the key log: the client's encrypted second flight has the shape of a
    client certificate (Certificate, CertificateVerify and Finished; or an empty Certificate and
    Finished), so the server asked for one. Whether it then refused the request (nginx answers
    HTTP 400 inside the session) only the key log shows: success, likely, with the refusals as
    alternatives and the answer named as hidden."""
    if not f.tls13 or f.by_type.get("application_data") or any(e.info.get("encrypted") for e in f.hs):
        return None
    _, sh = f.hellos()
    flight = [e for e in f.enc if e.sender == "client" and (sh is None or e.frame > sh.frame)]
    if not flight:
        return None
    flight = [e for e in flight if e.frame == flight[0].frame]
    sizes = [int(e.info.get("length", 0)) for e in flight]
    shown = f.client_certificate()
    if shown == "sent":
        sent, alternatives = "sent one (Certificate, CertificateVerify and Finished)", ["client_cert_rejected",
                                                                                      "client_cert_revoked"]
    elif shown == "empty":
        sent, alternatives = "had none to send (an empty Certificate, then Finished)", ["client_cert_missing"]
    else:
        return None
    c = f.c
    return candidate("established", "ok", "likely", alternatives=alternatives,
                     evidence=[make_evidence(f"The client's encrypted second flight is {len(sizes)} records of "
                                             f"{', '.join(map(str, sizes))} bytes: the server asked for a client "
                                             f"certificate and the client {sent}.", [flight[0].frame])],
                     hidden=["the server's answer to the request (a server that checks the client certificate "
                             "after the handshake, as nginx's ssl_verify_client does, refuses inside the encrypted "
                             "session with HTTP 400); " + f.keys_hint()],
                     explanation=(f"The TLS handshake completed ({c.version}, {c.cipher}) and the server asked "
                                  "for a client certificate. Whether it then accepted the client's answer is "
                                  "decided inside the encrypted session; supply the key log to see its answer."))


def handshake_completed(f: Facts) -> Candidate:
    """Nothing went wrong that the capture shows (always applies)."""
    c = f.c
    return candidate("established", "ok", "certain",
                     explanation=f"The TLS handshake completed ({c.version}, {c.cipher}).")

