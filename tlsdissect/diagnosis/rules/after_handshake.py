"""A completed handshake: what followed it tells whether it was really a success.

A client that closes at once on a certificate that does not match the name (curl's own host
name check), an HTTP refusal read with the key log (a name or a client certificate the server
wanted), a server that wanted a client certificate and refused the request afterwards (nginx's
ssl_verify_client), a reset without close_notify; otherwise success. Rules for an established
connection with no deciding alert; the last one always applies.
"""

from __future__ import annotations

from typing import Optional

from tlsdissect.diagnosis.alert_codes import CLOSE_NOTIFY
from tlsdissect.diagnosis.candidate import Candidate, candidate
from tlsdissect.diagnosis.facts import Facts, other_side
from tlsdissect.diagnosis.verdict import make_evidence
from tlsdissect.results.model import Event

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


def http_refusal(f: Facts) -> Optional[Candidate]:
    """Decrypted HTTP tells what TLS bytes cannot: a 403 for a missing SNI (Apache's
    SSLStrictSNIVHostCheck) or for a client certificate TLS 1.3 could not ask for. The
    refusal is noted even when neither explains it."""
    app = f.by_type.get("application_data")
    if not app:
        return None
    c = f.c
    resp = next((e for e in app if e.sender == "server"
                 and str(e.info.get("preview", "")).startswith("HTTP/")), None)
    if resp is None:
        return None
    status = str(resp.info.get("preview", ""))[9:12]
    if status not in ("403", "421"):
        return None
    req = next((e for e in app if e.sender == "client"), None)
    f.note(f"The server answers the request with HTTP {status} (decrypted).", [resp.frame])
    close = c.tcp_close
    ch = c.client_hello
    if ch is not None and not ch.server_name:
        host = ""
        if req is not None:
            for line in str(req.info.get("preview", "")).split("\r\n"):
                if line.lower().startswith("host:"):
                    host = line[5:].strip()
        return candidate("established", "sni_rejected", "likely", failure_point="application_data",
                         aborted_by="server", how=close.how if close else None,
                         evidence=[make_evidence("The ClientHello carries no server name (SNI)"
                                                 + (f", while the request asks for Host: {host}." if host else "."),
                                                 [e.frame for e in f.hs[:1]])],
                         explanation=("The handshake completed without a server name (SNI), and the server refused "
                                      f"the request with HTTP {status}: a server that requires SNI for name-based "
                                      "virtual hosts (Apache's SSLStrictSNIVHostCheck) does this."))
    if f.tls13 and ch is not None and ch.ext(49) is None:
        return candidate("established", "client_cert_missing", "possible", failure_point="post_handshake_auth",
                         aborted_by="server", how=close.how if close else None, alternatives=["unknown"],
                         evidence=[make_evidence("The client did not offer post_handshake_auth, so a TLS 1.3 server "
                                                 "cannot ask it for a certificate after the handshake.",
                                                 [e.frame for e in f.hs[:1]])],
                         explanation=(f"The server refused the request with HTTP {status}. With TLS 1.3 a server that "
                                      "wants a client certificate for one location (Apache's per-directory "
                                      "SSLVerifyClient) must use post-handshake authentication, which this client "
                                      "did not offer."))
    return None


def _client_certificate_problem(f: Facts) -> Optional[str]:
    """What was wrong with the client's answer to the CertificateRequest (none sent, or one
    the server did not ask for or cannot accept: noted), or None."""
    c = f.c
    if c.client_certificate_sent is False:
        return "client_cert_missing"
    bad = [x for x in f.client_findings if x.id == "issuer_not_requested"]
    if f.client_chain is not None:
        bad += [x for x in f.client_chain.findings if x.id in ("expired", "not_yet_valid", "eku_not_client_auth")]
    if not bad:
        return None
    for x in bad:
        f.note(x.text, [e.frame for e in f.hs if e.sender == "client" and e.info.get("message") == "certificate"][:1])
    return "client_cert_rejected"


def client_auth_refused_later(f: Facts) -> Optional[Candidate]:
    """A server that asked for a client certificate, got none (or a bad one), completed the
    handshake anyway and then closed: nginx's ssl_verify_client answers HTTP 400 this way.
    Before TLS 1.3 only (a 1.3 client's certificate flight is encrypted)."""
    c = f.c
    if c.certificate_request is None or c.client_certificate_sent is None or f.tls13:
        return None
    problem = _client_certificate_problem(f)
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
    return candidate("established", "connection_reset", "likely", failure_point="application_data",
                     aborted_by=by, how="rst", alternatives=["middlebox_reset"],
                     evidence=[make_evidence(f"The {by} resets the connection after the handshake without a close_notify.",
                                             [close.frame])],
                     explanation=(f"The handshake completed, then the {by} reset the connection without closing the TLS "
                                  "session first: the application crashed, was killed, or gave up."))


def handshake_completed(f: Facts) -> Candidate:
    """Nothing went wrong that the capture shows (always applies)."""
    c = f.c
    return candidate("established", "ok", "certain",
                     explanation=f"The TLS handshake completed ({c.version}, {c.cipher}).")
