"""The hellos refused: the server answers the ClientHello with an alert, or the client answers
the ServerHello with one (versions, cipher suites, the server name, policy).

Rules for the deciding alert at ``client_hello`` from the server and at ``server_hello`` from
the client; in each group the last one always applies.
"""

from __future__ import annotations

from typing import Any, Optional

from tlsdissect.diagnosis.alert_codes import (
    ACCESS_DENIED, DECODE_ERROR, HANDSHAKE_FAILURE, ILLEGAL_PARAMETER, INAPPROPRIATE_FALLBACK, INSUFFICIENT_SECURITY,
    INTERNAL_ERROR, NO_APPLICATION_PROTOCOL, PROTOCOL_VERSION, UNRECOGNIZED_NAME)
from tlsdissect.diagnosis.candidate import Candidate, alert_label, by_alert, deciding
from tlsdissect.diagnosis.causes import CAUSES
from tlsdissect.diagnosis.facts import Facts
from tlsdissect.diagnosis.offer_lists import SCSVS, ext_list, offers_only_tls13, read_lists
from tlsdissect.diagnosis.verdict import make_evidence
from tlsdissect.tls import tables

FALLBACK_SCSV = 0x5600
assert FALLBACK_SCSV in SCSVS


# -- the server refuses the ClientHello ---------------------------------------------------
def legacy_protocol_refused(f: Facts) -> Optional[Candidate]:
    """A client that offers at most SSLv3 - TLS 1.1, refused: the server no longer speaks it."""
    code = deciding(f).code
    if code not in (PROTOCOL_VERSION, HANDSHAKE_FAILURE, INTERNAL_ERROR, INSUFFICIENT_SECURITY):
        return None
    ch = f.c.client_hello
    max_v = ch.max_version if ch is not None else None
    if max_v is None or not (0x0300 <= max_v < 0x0303):
        return None
    return by_alert(f, "legacy_protocol_rejected", "certain" if code == PROTOCOL_VERSION else "likely", [],
                    f"The client offers at most {tables.version_name(max_v)}, an obsolete protocol the server no "
                    f"longer accepts; the server refused the ClientHello with {alert_label(f)}.")


def versions_refused(f: Facts) -> Optional[Candidate]:
    """protocol_version: none of the offered versions suits the server."""
    if deciding(f).code != PROTOCOL_VERSION:
        return None
    ch = f.c.client_hello
    if ch is not None and ch.supported_versions and min(v for v in ch.supported_versions if not tables.is_grease(v)) >= 0x0304:
        detail = "The client offers only TLS 1.3, which the server does not support"
    else:
        offered = [tables.version_name(v) for v in ((ch.supported_versions or [ch.legacy_version]) if ch else [])
                   if not tables.is_grease(v)]
        detail = f"The client offers {', '.join(offered) or 'versions'} and the server accepts none of them"
    return by_alert(f, "protocol_version_mismatch", "certain", [], f"{detail}; the server answered {alert_label(f)}.")


def fallback_refused(f: Facts) -> Optional[Candidate]:
    """inappropriate_fallback: the client retried at a lower version (TLS_FALLBACK_SCSV) and
    the server, which has a higher one, refused the downgrade (RFC 7507)."""
    if deciding(f).code != INAPPROPRIATE_FALLBACK:
        return None
    ch = f.c.client_hello
    lines = []
    scsv = ch is not None and FALLBACK_SCSV in ch.cipher_suites
    top = tables.version_name(ch.max_version) if ch is not None else "a lower version"
    if ch is not None:
        hello = f.has("client_hello", "client")
        lines.append(make_evidence(
            (f"The ClientHello lists TLS_FALLBACK_SCSV and offers at most {top}: the client marks it as a retry "
             "at a lower version after an earlier attempt failed (RFC 7507)." if scsv else
             f"The ClientHello offers at most {top} and no TLS_FALLBACK_SCSV is visible in it."),
            [hello.frame] if hello else []))
    return by_alert(f, "inappropriate_fallback", "certain" if scsv else "likely",
                    [] if scsv else ["protocol_version_mismatch"],
                    f"The client retried with a lower version ({top}) after an earlier failure and the server, which "
                    f"supports a higher version, refused the downgrade with {alert_label(f)}. Both sides support a "
                    "higher version: look at why the first attempt failed (the same client's earlier connection to "
                    "this server).", lines)


def _hrr_group(f: Facts) -> Optional[int]:
    """The group the server's HelloRetryRequest asks for, if there was one."""
    hrr = f.c.hello_retry_request
    e = hrr.ext(51) if hrr is not None else None
    view = e._view() if e is not None else None
    return view.get("group") if view else None


def _peer_key(f: Facts) -> Optional[str]:
    """The server's certificate key type from another connection (``ECDSA`` for EC keys)."""
    seen = f.peer_server_key
    if seen is None:
        return None
    return "ECDSA" if seen[0] in ("EC", "ECDSA") else seen[0]


def offered_list_refused(f: Facts) -> Optional[Candidate]:
    """handshake_failure or insufficient_security: nothing in one of the ClientHello's lists is
    acceptable; the list much narrower than what common servers accept is the likely one."""
    if deciding(f).code not in (HANDSHAKE_FAILURE, INSUFFICIENT_SECURITY):
        return None
    ch = f.c.client_hello
    if ch is None:
        return by_alert(f, "no_shared_cipher", "possible", ["no_common_group", "no_common_signature_scheme"],
                        f"The server refused the ClientHello with {alert_label(f)}; the ClientHello is not in the "
                        "capture, so which of its lists (cipher suites, groups, signature schemes) has nothing "
                        "acceptable cannot be told.")
    server_key = _peer_key(f)
    readings = read_lists(ch, _hrr_group(f), server_key)
    hello = f.has("client_hello", "client")
    frames = [hello.frame] if hello else []
    lines = [make_evidence(r.line(), frames) for r in readings]
    if server_key is not None and f.peer_server_key is not None:
        lines.append(make_evidence(f"Stream {f.peer_server_key[1]} to the same server shows its certificate with an "
                                   f"{server_key} key.", []))
    narrow = [r for r in readings if r.narrow]
    label = alert_label(f)
    if narrow and (len(narrow) == 1 or narrow[0].narrowness > narrow[1].narrowness):
        top = narrow[0]
        others = [r.cause for r in readings if r is not top]
        return by_alert(f, top.cause, "likely", others,
                        f"The server refused the ClientHello with {label}. Of the client's lists, the {top.what} are "
                        "the narrow one next to what common servers accept: most likely the server accepts none of "
                        "them.", lines)
    if not narrow and offers_only_tls13(ch):
        return by_alert(f, "protocol_version_mismatch", "likely", [r.cause for r in readings],
                        f"The server refused the ClientHello with {label}. The client offers only TLS 1.3, with lists "
                        "any TLS 1.3 server accepts, so most likely the server does not speak TLS 1.3: a server "
                        "limited to TLS 1.2 that does not read supported_versions finds no TLS 1.2 cipher suite in "
                        "the hello and answers handshake_failure rather than protocol_version (Mbed TLS 2.x, "
                        "OpenSSL before 1.1.1, older Java and Windows servers).",
                        lines + [make_evidence("The ClientHello's supported_versions lists TLS 1.3 only, and all of "
                                               "its cipher suites are TLS 1.3 suites.", frames)])
    order = [r.cause for r in (narrow or readings)]
    why = (f"its {' and its '.join(r.what for r in narrow)} are equally narrow" if narrow else
           "each of its lists is an ordinary one that common servers accept")
    return by_alert(f, order[0], "possible", order[1:] + ["protocol_version_mismatch"],
                    f"The server refused the ClientHello with {label}: nothing in one of the client's lists is "
                    f"acceptable to it, and the capture cannot tell which ({why}). In order: "
                    + ", ".join(CAUSES[c].title.lower() for c in order) + ".", lines)


def name_unrecognized(f: Facts) -> Optional[Candidate]:
    """unrecognized_name: no site for the requested name, or a name required and not sent."""
    if deciding(f).code != UNRECOGNIZED_NAME:
        return None
    sni = f.c.server_name
    return by_alert(f, "sni_rejected", "certain", [],
                    (f"The server has no site for the requested name {sni}" if sni else
                     "The client sent no server name (SNI) and the server requires one")
                    + f"; it refused the handshake with {alert_label(f)}.")


def protocol_refused(f: Facts) -> Optional[Candidate]:
    """no_application_protocol: the server speaks none of the ALPN protocols the ClientHello
    lists (RFC 7301 3.2: it must refuse with this alert); certain when the list is in sight."""
    if deciding(f).code != NO_APPLICATION_PROTOCOL:
        return None
    ch = f.c.client_hello
    offered = list(ch.alpn) if ch is not None and ch.alpn else []
    if not offered:
        return by_alert(f, "alpn_mismatch", "likely", [],
                        f"The server refused the ClientHello with {alert_label(f)}: it speaks none of the application "
                        "protocols (ALPN) the client asked for; the ClientHello's list is not in sight.")
    hello = f.has("client_hello", "client")
    fallback = "http/1.1" in offered or "http/1.0" in offered
    line = make_evidence(f"The client offers ALPN {', '.join(offered)}"
                         + ("." if fallback else " and nothing to fall back on (no http/1.1): gRPC clients offer h2 "
                                                  "alone."), [hello.frame] if hello else [])
    return by_alert(f, "alpn_mismatch", "certain", [],
                    f"The server speaks none of the application protocols the client offers ({', '.join(offered)}) "
                    f"and refused the ClientHello with {alert_label(f)} (RFC 7301)"
                    + ("." if fallback else ": a gRPC client needs h2 end to end, so a proxy or load balancer in front "
                                            "of the service must have HTTP/2 enabled."), [line])


def access_denied(f: Facts) -> Optional[Candidate]:
    """access_denied at the hello: a policy on the name or the client."""
    if deciding(f).code != ACCESS_DENIED:
        return None
    return by_alert(f, "sni_rejected", "possible", ["unknown"],
                    f"The server refused the ClientHello with {alert_label(f)}: a policy (SNI/ACL) denies this client or name.")


def hello_field_invalid(f: Facts) -> Optional[Candidate]:
    """illegal_parameter or decode_error: a field of the ClientHello the server cannot accept."""
    if deciding(f).code not in (ILLEGAL_PARAMETER, DECODE_ERROR):
        return None
    return by_alert(f, "unknown", "possible", [],
                    f"The server found a field of the ClientHello invalid and refused it with {alert_label(f)} (a buggy or "
                    "unusual client, or a middlebox rewriting it).")


def internal_error_at_hello(f: Facts) -> Optional[Candidate]:
    """internal_error at the hello: OpenSSL's answer when nothing in it is acceptable; Go's
    crypto/tls (Caddy and other Go servers) when its certificate callback finds nothing for the
    name asked for. A hello whose lists are all ordinary and that names a server points to the
    second."""
    if deciding(f).code != INTERNAL_ERROR:
        return None
    ch = f.c.client_hello
    name = f.c.server_name
    if ch is not None and name and not any(r.narrow for r in read_lists(ch)):
        hello = f.has("client_hello", "client")
        return by_alert(f, "sni_rejected", "possible", ["no_shared_cipher", "peer_internal_error"],
                        f"The server refused the ClientHello with {alert_label(f)}. Its lists are ordinary ones any "
                        f"server accepts, and it asks for {name}: a server with no certificate for that name answers "
                        "this way (Go's crypto/tls, hence Caddy, when its certificate callback fails); OpenSSL-based "
                        "servers send it when nothing in the hello is acceptable.",
                        [make_evidence(f"The ClientHello asks for {name}; its cipher suites, groups and signature "
                                       "algorithms are all ordinary.", [hello.frame] if hello else [])])
    return by_alert(f, "no_shared_cipher", "possible", ["legacy_protocol_rejected", "unknown"],
                    f"The server refused the ClientHello with {alert_label(f)}; OpenSSL-based servers answer this way when "
                    "nothing in the hello is acceptable.")


def hello_refused(f: Facts) -> Candidate:
    """Any other alert in answer to the ClientHello (always applies)."""
    return by_alert(f, "unknown", "possible", [], f"The server refused the ClientHello with {alert_label(f)}.")


# -- the client refuses the ServerHello ---------------------------------------------------
def version_chosen_refused(f: Facts) -> Optional[Candidate]:
    """protocol_version or inappropriate_fallback from the client: the version the server chose."""
    if deciding(f).code not in (PROTOCOL_VERSION, INAPPROPRIATE_FALLBACK):
        return None
    return by_alert(f, "protocol_version_mismatch", "likely", [],
                    f"The server chose {f.c.version}, which the client does not accept; the client answered {alert_label(f)}.")


def retry_group_not_offered(f: Facts) -> Optional[Candidate]:
    """The server's HelloRetryRequest asks for a group the client never offered: the client must
    abort (RFC 8446 4.1.4, illegal_parameter); no group in common."""
    group = _hrr_group(f)
    ch = f.c.client_hello
    if group is None or ch is None:
        return None
    groups = ext_list(ch, 10, "groups") or []
    if group in groups:
        return None
    hrr = f.has("hello_retry_request", "server")
    offered = ", ".join(tables.group_name(g) for g in groups) or "none"
    return by_alert(f, "no_common_group", "likely", ["tls_implementation_bug"],
                    f"The server's HelloRetryRequest asks for {tables.group_name(group)}, which the client never "
                    f"offered (it offers {offered}); the client refused it with {alert_label(f)}: no key-exchange "
                    "group both accept.",
                    [make_evidence(f"The HelloRetryRequest selects {tables.group_name(group)}; the client's supported "
                                   f"groups: {offered}.", [hrr.frame] if hrr else [])])


def server_hello_refused(f: Facts) -> Candidate:
    """Any other alert from the client in answer to the ServerHello (always applies)."""
    c = f.c
    return by_alert(f, "unknown", "possible", ["protocol_version_mismatch", "no_shared_cipher"],
                    f"The client rejected the server's hello ({c.version}, {c.cipher}) with {alert_label(f)}.")
