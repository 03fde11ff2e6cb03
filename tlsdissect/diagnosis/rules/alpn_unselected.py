"""The client needs the application protocol it offered, and the server selected none.

A server that does not speak ALPN (or has none of the offered protocols and ignores the
extension, as RFC 7301 allows) answers without an ALPN choice. A client that can fall back to
HTTP/1.1 goes on; one that offered no fallback (gRPC offers ``h2`` alone) gives up right after
the handshake without sending a byte: gRPC's C core (Python, C++, Ruby, ...) closes with a bare
FIN ("Cannot check peer: missing selected ALPN property"), grpc-go since 1.67 likewise after a
close_notify. The everyday cause is a TLS-terminating proxy or load balancer in front of a gRPC
service without HTTP/2 enabled. Rules of the AFTER_HANDSHAKE family.
"""

from __future__ import annotations

from typing import Optional

from tlsdissect.diagnosis.alert_codes import CLOSE_NOTIFY
from tlsdissect.diagnosis.candidate import Candidate, candidate
from tlsdissect.diagnosis.facts import PROBABLE_ALERT_MAX, Facts
from tlsdissect.diagnosis.rules.server_certificate import FINDING_CAUSE
from tlsdissect.diagnosis.rules.silent_rejection import REJECTED_FINDINGS
from tlsdissect.diagnosis.verdict import Evidence, make_evidence
from tlsdissect.tls.conclusions import finished_record

# ALPN ids a client can fall back on when the server selects none (plain HTTP/1.x over TLS).
FALLBACK_PROTOCOLS = frozenset({"http/1.1", "http/1.0"})


def _no_fallback_offered(f: Facts) -> Optional[list[str]]:
    """The ALPN list the client offered, when it has no protocol to fall back on; else None."""
    ch = f.c.client_hello
    offered = list(ch.alpn) if ch is not None and ch.alpn else []
    if not offered or FALLBACK_PROTOCOLS & set(offered):
        return None
    return offered


def _left_without_data(f: Facts) -> bool:
    """The client closed first, having sent nothing after the handshake but a goodbye."""
    c = f.c
    close = c.tcp_close
    if not c.established or close is None or close.by != "client":
        return False
    return all(a.code in (None, CLOSE_NOTIFY) for a in c.alerts if a.sender == "client" and a.frame <= close.frame)


def _others(f: Facts) -> list[str]:
    """The certificate refusals a silent close can also mean, those the chain explains first."""
    found = [FINDING_CAUSE[fid] for fid in REJECTED_FINDINGS if f.finding(fid) is not None and fid in FINDING_CAUSE]
    return found + [x for x in ("client_rejected_cert_silently", "server_cert_untrusted") if x not in found]


def _offer_line(f: Facts, offered: list[str]) -> Evidence:
    hello = f.has("client_hello", "client")
    return make_evidence(f"The client offers ALPN {', '.join(offered)} and nothing to fall back on (no http/1.1): "
                         "gRPC clients offer h2 alone.", [hello.frame] if hello else [])


def required_protocol_not_selected(f: Facts) -> Optional[Candidate]:
    """The server's ALPN answer is visible (TLS 1.2's ServerHello, TLS 1.3's EncryptedExtensions
    read with the key log) and selects nothing; the client, which offered no fallback, closed
    right after the handshake without sending data: alpn_mismatch, likely."""
    c = f.c
    offered = _no_fallback_offered(f)
    if offered is None or c.alpn or not _left_without_data(f):
        return None
    close = c.tcp_close
    assert close is not None
    if f.tls13:
        answer = f.has("encrypted_extensions", "server")
    else:
        answer = f.has("server_hello", "server")
    if answer is None or f.client_sent_data_before(close.frame) or f.by_type.get("application_data"):
        return None
    what = "EncryptedExtensions" if f.tls13 else "ServerHello"
    evidence = [_offer_line(f, offered),
                make_evidence(f"The server's {what} selects no application protocol (no ALPN extension).",
                              [answer.frame]),
                make_evidence("The handshake completes and the client closes the connection without sending any data.",
                              [close.frame])]
    return candidate("failed", "alpn_mismatch", "likely", failure_point="server_hello", aborted_by="client",
                     how=close.how, alternatives=_others(f), evidence=evidence + f.chain_lines(),
                     explanation=(f"The client offered only {', '.join(offered)} and the server selected no protocol "
                                  "(it ignores ALPN, or speaks none of them and says nothing, as RFC 7301 allows); "
                                  "the client, which has nothing to fall back on, gave up right after the handshake. "
                                  "gRPC clients do this ('Cannot check peer: missing selected ALPN property'): a "
                                  "TLS-terminating proxy or load balancer in front of a gRPC service needs HTTP/2 "
                                  "(h2) enabled."))


def required_protocol_hidden(f: Facts) -> Optional[Candidate]:
    """TLS 1.3 without the key log: a client that offered no ALPN fallback sent its Finished (and
    at most one alert-sized record) and closed without data. Such a client (gRPC) always sends
    its first bytes at once, so it refused something it read in the encrypted flight: the ALPN
    choice or the certificate. Failed, possible, with both named."""
    c = f.c
    offered = _no_fallback_offered(f)
    if not f.tls13 or offered is None or not _left_without_data(f) or f.by_type.get("application_data") \
            or f.has("encrypted_extensions", "server") is not None:
        return None
    close = c.tcp_close
    sh = f.hellos()[1]
    if close is None or sh is None:
        return None
    sent = f.protected("client", sh.frame, close.frame)
    if not sent or sent[0].info.get("length") != finished_record(c.cipher_code) or len(sent) > 2 \
            or (len(sent) == 2 and int(sent[1].info.get("length", 999)) > PROBABLE_ALERT_MAX):
        return None
    if len(f.protected("client", sh.frame)) != len(sent):
        return None  # (the client went on after its close)
    evidence = [_offer_line(f, offered),
                make_evidence(f"The client sends its Finished ({sent[0].info.get('length')} bytes)"
                              + (" and an alert-sized record" if len(sent) == 2 else "")
                              + " and closes the connection without sending any data.",
                              [e.frame for e in sent] + [close.frame])]
    return candidate("failed", "alpn_mismatch", "possible", failure_point="server_hello", aborted_by="client",
                     how=close.how, alternatives=_others(f), evidence=evidence,
                     hidden=["the server's ALPN choice (EncryptedExtensions) and its certificate (TLS 1.3 encrypts "
                             "both); " + f.keys_hint()],
                     explanation=(f"The client offered only {', '.join(offered)} (no http/1.1 to fall back on) and "
                                  "closed right after the handshake without sending a byte. Such a client (gRPC) "
                                  "speaks first as soon as the handshake is done, so it refused something in the "
                                  "server's encrypted flight: most often no ALPN protocol selected (a proxy or load "
                                  "balancer without HTTP/2 in front of a gRPC service), or the certificate. The "
                                  "key log shows which."))
