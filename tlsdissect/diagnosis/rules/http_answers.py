"""What the decrypted HTTP says after a completed handshake (the key log's gift).

The connection's ``http`` summary (tls/httpwatch.py) gives each side's messages or HTTP/2
streams and what was unfinished when the data stopped. Two readings come from it:

- **A refusal carrying the TLS reason.** Servers that complete the handshake and judge the
  TLS facts afterwards answer the request with an HTTP error: nginx's
  ``400 No required SSL certificate was sent`` and ``400 The SSL certificate error`` (its
  internal 496 and 495, which an ``error_page`` can show as such) for ssl_verify_client, a 403
  for a missing SNI (Apache's SSLStrictSNIVHostCheck) or a client certificate TLS 1.3 could not
  ask for, a 421 Misdirected Request when the request's host is not the one the connection's
  name (SNI) serves. Each is tied to its TLS cause in ``REFUSALS`` and the rules below.
- **A truncated response.** The server closed while its response was unfinished.
"""

from __future__ import annotations

from typing import Any, Optional

from tlsdissect.diagnosis.alert_codes import CLOSE_NOTIFY
from tlsdissect.diagnosis.candidate import Candidate, candidate
from tlsdissect.diagnosis.facts import Facts
from tlsdissect.diagnosis.verdict import make_evidence
from tlsdissect.results.model import Event

_NONE: tuple[Event, ...] = ()

# What an HTTP answer's body or status says about TLS (nginx's ngx_http_special_response.c
# texts; 495/496 are the codes nginx's ssl_verify_client errors have before they reach the client
# as 400), as (text in the body or None, status) -> the TLS reading.
CERT_ERROR, CERT_MISSING = "client certificate failed verification", "no client certificate"
REFUSALS: tuple[tuple[Optional[str], str, str], ...] = (
    ("No required SSL certificate was sent", "400", CERT_MISSING),
    ("The SSL certificate error", "400", CERT_ERROR),
    (None, "496", CERT_MISSING),
    (None, "495", CERT_ERROR),
)


def _answers(f: Facts) -> list[dict[str, Any]]:
    """The server's first HTTP answers (HTTP/1 messages or HTTP/2 streams) with a status."""
    http = f.c.extra.get("http")
    server = (http or {}).get("server") or {}
    return [m for m in server.get("first") or () if m.get("status") is not None]


def _request_host(f: Facts) -> str:
    http = f.c.extra.get("http") or {}
    for m in (http.get("client") or {}).get("first") or ():
        if m.get("authority"):
            return str(m["authority"])
    for e in f.by_type.get("application_data", _NONE):
        if e.sender == "client":
            for line in str(e.info.get("preview", "")).split("\r\n"):
                if line.lower().startswith("host:"):
                    return line[5:].strip()
            break
    return ""


def _reading(answer: dict[str, Any]) -> Optional[str]:
    status, body = str(answer.get("status")), str(answer.get("body_start", ""))
    for text, code, reading in REFUSALS:
        if status == code and (text is None or text in body):
            return reading
    return None


def _answer_line(answer: dict[str, Any]) -> str:
    line = answer.get("line") or f"HTTP/2 :status {answer.get('status')}"
    title = str(answer.get("body_start", ""))
    if "<title>" in title and "</title>" in title:
        name = title.split("<title>", 1)[1].split("</title>", 1)[0].strip()
        if name and name not in line:
            line += f" ({name})"
    return line


def http_refusal(f: Facts) -> Optional[Candidate]:
    """The server refused the request in HTTP for a TLS reason (see the module's docstring)."""
    answers = _answers(f)
    answer = next((a for a in answers if str(a["status"]) in ("400", "403", "421", "495", "496")), None)
    if answer is None:
        return None
    status = str(answer["status"])
    reading = _reading(answer)
    if reading is None and status not in ("403", "421"):
        return None  # a plain 400: client_auth_refused_later reads it with the handshake's facts
    f.note(f"The server answers the request with {_answer_line(answer)!r} (decrypted).", [answer["frame"]])
    if reading is not None:
        return _client_certificate_refused(f, answer, reading)
    ch = f.c.client_hello
    if ch is not None and not ch.server_name:
        return _refused_without_sni(f, status)
    if status == "421":
        return _misdirected(f)
    if f.tls13 and ch is not None and ch.ext(49) is None:
        close = f.c.tcp_close
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


def _refused_without_sni(f: Facts, status: str) -> Candidate:
    host = _request_host(f)
    close = f.c.tcp_close
    return candidate("established", "sni_rejected", "likely", failure_point="application_data",
                     aborted_by="server", how=close.how if close else None,
                     evidence=[make_evidence("The ClientHello carries no server name (SNI)"
                                             + (f", while the request asks for Host: {host}." if host else "."),
                                             [e.frame for e in f.hs[:1]])],
                     explanation=("The handshake completed without a server name (SNI), and the server refused "
                                  f"the request with HTTP {status}: a server that requires SNI for name-based "
                                  "virtual hosts (Apache's SSLStrictSNIVHostCheck) does this."))


def _misdirected(f: Facts) -> Candidate:
    host = _request_host(f)
    sni = f.c.server_name or ""
    close = f.c.tcp_close
    differs = bool(host) and host.rsplit(":", 1)[0].lower() != sni.lower()
    return candidate("established", "sni_rejected", "likely" if differs else "possible",
                     failure_point="application_data", aborted_by="server", how=close.how if close else None,
                     evidence=[make_evidence(f"The connection's server name (SNI) is {sni}; the request asks for "
                                             f"{host or 'a host not shown'}.", [e.frame for e in f.hs[:1]])],
                     explanation=("The server answered 421 Misdirected Request: this connection, set up for the name "
                                  f"{sni!r}, cannot serve the request's host"
                                  + (f" {host!r}" if host else "") + ". Clients that reuse one HTTP/2 connection "
                                  "for several names (a certificate covering them all) meet this when the server "
                                  "configures those names with different TLS settings (Apache: "
                                  "SSLStrictSNIVHostCheck, different SSL parameters per VirtualHost; nginx: "
                                  "different ssl_verify_client per server)."))


def _client_certificate_refused(f: Facts, answer: dict[str, Any], reading: str) -> Candidate:
    """nginx's ssl_verify_client answers: which client certificate problem the capture shows."""
    c = f.c
    close = c.tcp_close
    how = close.how if close else None
    line = _answer_line(answer)
    cert = next((e for e in f.hs if e.sender == "client" and e.info.get("message") == "certificate"), None)
    if reading == CERT_MISSING or c.client_certificate_sent is False:
        evidence = [make_evidence("The client answers the CertificateRequest with an empty Certificate.",
                                  [cert.frame])] if cert is not None and c.client_certificate_sent is False else []
        return candidate("established", "client_cert_missing", "certain", failure_point="application_data",
                         aborted_by="server", how=how, evidence=evidence,
                         explanation=(f"The server completed the handshake without the client certificate it requires "
                                      f"and refused the request: {line}. nginx's ssl_verify_client on answers so "
                                      "(Apache aborts the handshake instead)."))
    problem = f.client_certificate_problem()  # (notes what it finds)
    if problem == "client_cert_rejected":
        return candidate("established", "client_cert_rejected", "certain", failure_point="application_data",
                         aborted_by="server", how=how,
                         explanation=(f"The server could not verify the client certificate and refused the request: "
                                      f"{line}; the certificate findings above say why."))
    seen = c.client_certificate_sent is True
    hidden = [] if seen else ["which client certificate was sent (its Certificate message was not read)"]
    evidence = [make_evidence("The client sends its certificate" + (" (decrypted)." if cert.info.get("encrypted")
                                                                     else "."), [cert.frame])] if cert else []
    return candidate("established", "client_cert_revoked", "possible", failure_point="application_data",
                     aborted_by="server", how=how, alternatives=["client_cert_rejected"], hidden=hidden,
                     evidence=evidence,
                     explanation=(f"The server's verification of the client certificate failed and it refused the "
                                  f"request: {line}. "
                                  + ("The capture finds nothing wrong with the certificate it got (its dates, its "
                                     "client-auth usage, its issuer against the CA names the server asked for). "
                                     if seen else "")
                                  + "What a capture cannot check is revocation (nginx's ssl_crl, OCSP) and the "
                                  "server's own trust and depth settings (ssl_client_certificate, "
                                  "ssl_verify_depth); revocation is the reading named, and nginx's error log says "
                                  "which ('client SSL certificate verify error: (23:certificate revoked)')."))


def _server_close(f: Facts) -> Optional[Event]:
    """The server's FIN or RST, when the client had not closed before it."""
    closes = sorted((e for typ in ("fin", "rst") for e in f.by_type.get(typ, _NONE)), key=lambda e: e.frame)
    first = closes[0] if closes else None
    return first if first is not None and first.sender == "server" else None


def response_cut_short(f: Facts) -> Optional[Candidate]:
    """With the key log: the server closed while its HTTP response was unfinished (Content-Length
    or chunked encoding not complete, an HTTP/2 stream without END_STREAM): a truncated response,
    certain, whatever TLS said (a close_notify mid-response does not complete the HTTP message)."""
    http = f.c.extra.get("http") or {}
    cut = http.get("unfinished")
    if not cut or not cut.get("answered"):
        return None
    close = _server_close(f)
    if close is None:
        return None
    if cut.get("framing") == "content-length":
        how_far = f"{cut['body_bytes']} of the {cut['content_length']} body bytes its Content-Length announces"
    elif cut.get("framing") == "chunked":
        how_far = f"{cut['body_bytes']} body bytes, without the chunked encoding's last chunk"
    elif cut.get("framing") == "end_stream":
        how_far = f"{cut['body_bytes']} body bytes on HTTP/2 stream {cut['stream']}, which it never ended (no END_STREAM)"
    else:
        how_far = "part of the response head"
    status = f"HTTP {cut['status']}" if cut.get("status") else "its response"
    notify = next((a for a in f.c.alerts if a.sender == "server" and a.code == CLOSE_NOTIFY and a.frame <= close.frame),
                  None)
    last = (http.get("last_data_frame") or {}).get("server")
    frames = [x for x in (cut.get("frame"), last) if x is not None]
    evidence = [make_evidence(f"The server sends {status} (decrypted) and then only {how_far}.", frames or [close.frame]),
                make_evidence(f"The server closes the connection ({close.type.upper()}) "
                              + ("after a close_notify, which ends TLS cleanly but not the HTTP message."
                                 if notify else "without a close_notify."), [close.frame])]
    return candidate("established", "truncated_response", "certain", failure_point="application_data",
                     aborted_by="server", how=close.type, evidence=evidence,
                     explanation=(f"The handshake completed and the server started its answer ({status}), then closed "
                                  f"the connection with the response unfinished: {how_far}. The server process "
                                  "crashed, restarted or timed out, or a proxy in front of it gave up."))
