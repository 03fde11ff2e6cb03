"""The hellos refused: the server answers the ClientHello with an alert, or the client answers
the ServerHello with one (versions, cipher suites, the server name, policy).

Rules for the deciding alert at ``client_hello`` from the server and at ``server_hello`` from
the client; in each group the last one always applies.
"""

from __future__ import annotations

from typing import Optional

from tlsdissect.diagnosis.alert_codes import (
    ACCESS_DENIED, DECODE_ERROR, HANDSHAKE_FAILURE, ILLEGAL_PARAMETER, INAPPROPRIATE_FALLBACK, INSUFFICIENT_SECURITY,
    INTERNAL_ERROR, PROTOCOL_VERSION, UNRECOGNIZED_NAME)
from tlsdissect.diagnosis.candidate import Candidate, alert_label, by_alert, deciding
from tlsdissect.diagnosis.facts import Facts
from tlsdissect.tls import tables


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
    """protocol_version or inappropriate_fallback: none of the offered versions suits the server."""
    if deciding(f).code not in (PROTOCOL_VERSION, INAPPROPRIATE_FALLBACK):
        return None
    ch = f.c.client_hello
    if ch is not None and ch.supported_versions and min(v for v in ch.supported_versions if not tables.is_grease(v)) >= 0x0304:
        detail = "The client offers only TLS 1.3, which the server does not support"
    else:
        offered = [tables.version_name(v) for v in ((ch.supported_versions or [ch.legacy_version]) if ch else [])
                   if not tables.is_grease(v)]
        detail = f"The client offers {', '.join(offered) or 'versions'} and the server accepts none of them"
    return by_alert(f, "protocol_version_mismatch", "certain", [], f"{detail}; the server answered {alert_label(f)}.")


def no_shared_cipher(f: Facts) -> Optional[Candidate]:
    """handshake_failure or insufficient_security: nothing offered is acceptable."""
    if deciding(f).code not in (HANDSHAKE_FAILURE, INSUFFICIENT_SECURITY):
        return None
    ch = f.c.client_hello
    n = len(ch.cipher_suites) if ch else 0
    return by_alert(f, "no_shared_cipher", "likely", ["protocol_version_mismatch"],
                    f"None of the {n} cipher suites the client offers (or none of its key-exchange groups / "
                    f"signature algorithms) is acceptable to the server, which refused the ClientHello with {alert_label(f)}.")


def name_unrecognized(f: Facts) -> Optional[Candidate]:
    """unrecognized_name: no site for the requested name, or a name required and not sent."""
    if deciding(f).code != UNRECOGNIZED_NAME:
        return None
    sni = f.c.server_name
    return by_alert(f, "sni_rejected", "certain", [],
                    (f"The server has no site for the requested name {sni}" if sni else
                     "The client sent no server name (SNI) and the server requires one")
                    + f"; it refused the handshake with {alert_label(f)}.")


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
    """internal_error at the hello: OpenSSL's answer when nothing in it is acceptable."""
    if deciding(f).code != INTERNAL_ERROR:
        return None
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


def server_hello_refused(f: Facts) -> Candidate:
    """Any other alert from the client in answer to the ServerHello (always applies)."""
    c = f.c
    return by_alert(f, "unknown", "possible", ["protocol_version_mismatch", "no_shared_cipher"],
                    f"The client rejected the server's hello ({c.version}, {c.cipher}) with {alert_label(f)}.")
