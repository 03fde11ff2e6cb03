"""The client refuses the server's certificate: which finding of the chain explains its alert.

The same ``unknown_ca`` means a missing intermediate when the chain stops at a leaf whose
issuer is absent, a self-signed certificate when the leaf signs itself, and an untrusted
root when the chain is complete. Rules for the deciding alert at ``server_certificate`` or
``key_exchange`` from the client; the last one always applies.
"""

from __future__ import annotations

from typing import Optional

from tlsdissect.diagnosis.alert_codes import (
    BAD_CERTIFICATE, BAD_CERTIFICATE_STATUS_RESPONSE, CERT_ALERTS, CERTIFICATE_EXPIRED, CERTIFICATE_UNKNOWN, CLOSE_NOTIFY, INSUFFICIENT_SECURITY, UNKNOWN_CA,
    UNSUPPORTED_CERTIFICATE)
from tlsdissect.diagnosis.candidate import Candidate, alert_label, by_alert, deciding
from tlsdissect.diagnosis.facts import Facts
from tlsdissect.diagnosis.verdict import make_evidence
from tlsdissect.tls.conclusions import server_signature_length

# A client's certificate alert against the server chain's findings: which findings explain
# it, most telling first; the cause each names; the alerts a client sends for each.
_FINDINGS_BY_ALERT: dict[Optional[int], tuple[str, ...]] = {
    CERTIFICATE_EXPIRED: ("expired", "not_yet_valid"),
    # (OpenSSL's ssl_verify_alarm_type: an issuer that is no CA, or a path too long, is unknown_ca too)
    UNKNOWN_CA: ("tls_interception", "not_a_ca", "path_len_exceeded", "self_signed_leaf", "chain_incomplete", "untrusted_root", "expired", "not_yet_valid",
                 "hostname_mismatch"),
}
_FINDINGS_OTHER_ALERT = ("tls_interception", "not_yet_valid", "expired", "hostname_mismatch", "must_staple_unmet",
                         "self_signed_leaf", "chain_incomplete",
                         "untrusted_root", "eku_not_server_auth", "bad_signature", "weak_key", "weak_signature",
                         "not_a_ca", "path_len_exceeded")
FINDING_CAUSE = {"expired": "server_cert_expired", "not_yet_valid": "server_cert_not_yet_valid",
                 "hostname_mismatch": "server_cert_hostname_mismatch", "self_signed_leaf": "server_cert_self_signed",
                 "chain_incomplete": "server_chain_incomplete", "untrusted_root": "server_cert_untrusted",
                 "weak_key": "weak_server_key", "weak_signature": "weak_server_key",
                 "tls_interception": "tls_interception_untrusted", "not_a_ca": "server_cert_rejected",
                 "path_len_exceeded": "server_cert_rejected", "eku_not_server_auth": "server_cert_wrong_usage",
                 "must_staple_unmet": "ocsp_staple_missing"}
_EXPECTED_ALERTS = {
    "eku_not_server_auth": frozenset({UNSUPPORTED_CERTIFICATE, BAD_CERTIFICATE, CERTIFICATE_UNKNOWN}),
    # (GnuTLS: bad_certificate, wide4_must_staple_gnutls_go12; RFC 6066 names bad_certificate_status_response)
    "must_staple_unmet": frozenset({BAD_CERTIFICATE, CERTIFICATE_UNKNOWN, BAD_CERTIFICATE_STATUS_RESPONSE}),
    "not_a_ca": frozenset({UNKNOWN_CA, BAD_CERTIFICATE, CERTIFICATE_UNKNOWN}),
    "path_len_exceeded": frozenset({UNKNOWN_CA, BAD_CERTIFICATE, CERTIFICATE_UNKNOWN}),
    "tls_interception": frozenset({UNKNOWN_CA, BAD_CERTIFICATE, CERTIFICATE_UNKNOWN}),
    "expired": frozenset({CERTIFICATE_EXPIRED, BAD_CERTIFICATE, CERTIFICATE_UNKNOWN}),
    "not_yet_valid": frozenset({BAD_CERTIFICATE, CERTIFICATE_EXPIRED, CERTIFICATE_UNKNOWN}),
    "self_signed_leaf": frozenset({UNKNOWN_CA, BAD_CERTIFICATE, CERTIFICATE_UNKNOWN}),
    "chain_incomplete": frozenset({UNKNOWN_CA, BAD_CERTIFICATE, CERTIFICATE_UNKNOWN}),
    "untrusted_root": frozenset({UNKNOWN_CA, BAD_CERTIFICATE, CERTIFICATE_UNKNOWN}),
    "hostname_mismatch": frozenset({BAD_CERTIFICATE, CERTIFICATE_UNKNOWN, CLOSE_NOTIFY}),
    # (STACK_HABITS "weak_key": OpenSSL bad_certificate, JSSE and mbedTLS unsupported_certificate)
    "weak_key": frozenset({BAD_CERTIFICATE, UNSUPPORTED_CERTIFICATE, INSUFFICIENT_SECURITY, CERTIFICATE_UNKNOWN}),
    "weak_signature": frozenset({BAD_CERTIFICATE, UNSUPPORTED_CERTIFICATE, INSUFFICIENT_SECURITY, CERTIFICATE_UNKNOWN}),
}


def findings_for_alert(ids: set[str] | list[str], code: Optional[int]) -> list[str]:
    """The chain findings (ids) that can explain a client's alert ``code``, most telling first."""
    order = _FINDINGS_BY_ALERT.get(code, _FINDINGS_OTHER_ALERT)
    return [fid for fid in order if fid in ids]


def finding_expected(finding_id: str, code: Optional[int]) -> bool:
    """Whether ``code`` is an alert a client sends for this finding (the stacks' habits)."""
    return code in _EXPECTED_ALERTS.get(finding_id, ())


def _unseen(f: Facts) -> list[str]:
    """What is hidden when the certificate is not in the capture (TLS 1.3 encrypts it)."""
    return ["the server's certificate (TLS 1.3 encrypts it); " + f.keys_hint()] if f.tls13 else []


def unseen_certificate_expired(f: Facts) -> Optional[Candidate]:
    """certificate_expired about a certificate the capture does not show."""
    if f.server_chain is not None or deciding(f).code != CERTIFICATE_EXPIRED:
        return None
    return by_alert(f, "server_cert_expired", "likely", ["server_cert_not_yet_valid"],
                    f"The client refused the server's certificate with {alert_label(f)}: the certificate (or one in its "
                    "chain) was outside its validity period by the client's clock. The certificate itself is "
                    "not visible in the capture.", hidden=_unseen(f))


# RSA signatures of these lengths come from keys under 2048 bits (768 and 1024), which clients
# at OpenSSL's security level 2 and every browser refuse. (64 bytes is Ed25519; ECDSA
# signatures are DER and about 70-72, 102-104 or 137-139 bytes long.)
_WEAK_RSA_SIGNATURES = frozenset({96, 128})


def unseen_weak_key(f: Facts) -> Optional[Candidate]:
    """TLS 1.3 without keys, a certificate refused: the size of the server's CertificateVerify
    record gives its signature's length, and an RSA signature of 128 bytes is a 1024-bit key."""
    if f.server_chain is not None or not f.tls13:
        return None
    sh = f.hellos()[1]
    a = deciding(f)
    if sh is None or a.sender != "client":
        return None
    records = [e for e in f.protected("server", sh.frame - 1, a.frame)]
    signature = server_signature_length([e.info.get("length", 0) for e in records], f.c.cipher_code)
    if signature not in _WEAK_RSA_SIGNATURES:
        return None
    frames = sorted({e.frame for e in records[:4]})
    line = make_evidence(f"The server's encrypted flight comes one message per record; the record before its "
                         f"Finished, the CertificateVerify, holds a {signature}-byte signature: an RSA key of "
                         f"{signature * 8} bits.", frames)
    return by_alert(f, "weak_server_key", "likely", ["server_cert_rejected", "server_cert_untrusted"],
                    f"The client refused the server's certificate with {alert_label(f)}. The certificate is encrypted "
                    f"(TLS 1.3), but the size of the server's signature shows its key: RSA with {signature * 8} bits, "
                    "which clients refuse below 2048 bits (OpenSSL's default security level, browsers, Go).",
                    [line], hidden=_unseen(f))


def unseen_certificate_refused(f: Facts) -> Optional[Candidate]:
    """Any other refusal of a certificate the capture does not show."""
    if f.server_chain is not None:
        return None
    code = deciding(f).code
    return by_alert(f, "server_cert_rejected", "possible" if code not in CERT_ALERTS else "likely",
                    (["server_chain_incomplete", "server_cert_untrusted", "server_cert_self_signed"] if code == UNKNOWN_CA else
                     ["server_chain_incomplete", "server_cert_untrusted", "server_cert_expired", "server_cert_hostname_mismatch"]),
                    f"The client refused the server's certificate with {alert_label(f)}; the certificate itself is not "
                    "visible in the capture, so the exact reason cannot be told.", hidden=_unseen(f))


def finding_explains_refusal(f: Facts) -> Optional[Candidate]:
    """A finding of the chain that explains the alert (the most telling one for that alert);
    certain when it is the only one and the alert is one a client sends for it."""
    chain = f.server_chain
    if chain is None:
        return None
    code = deciding(f).code
    found = findings_for_alert({x.id for x in chain.findings}, code)
    if not found:
        return None
    evidence = f.chain_lines()
    fid = found[0]
    finding = f.finding(fid)
    others = [FINDING_CAUSE[x] for x in found[1:] if x in FINDING_CAUSE]
    conf = "certain" if finding_expected(fid, code) and len(found) == 1 else "likely"
    text = finding.text if finding is not None else ""
    return by_alert(f, FINDING_CAUSE.get(fid, "server_cert_rejected"), conf, others,
                    f"The client refused the server's certificate with {alert_label(f)}. {text}".strip(), evidence)


def root_not_trusted(f: Facts) -> Optional[Candidate]:
    """No finding explains a trust alert about a chain that looks complete: its root is not
    trusted by the client (after finding_explains_refusal)."""
    chain = f.server_chain
    if chain is None or not chain.certificates or deciding(f).code not in (UNKNOWN_CA, BAD_CERTIFICATE, CERTIFICATE_UNKNOWN):
        return None
    leaf_name = chain.certificates[0].label
    top = chain.certificates[chain.path[-1]] if chain.path else chain.certificates[-1]
    return by_alert(f, "server_cert_untrusted", "likely", ["server_chain_incomplete"],
                    f"The client refused the server's certificate {leaf_name} with {alert_label(f)}. The chain looks complete "
                    f"(it ends at {top.label}, issued by {top.issuer_label}), so the client does not trust that root CA.",
                    f.chain_lines())


def server_certificate_refused(f: Facts) -> Candidate:
    """Any other refusal of the server's certificate (always applies)."""
    chain = f.server_chain
    leaf = chain.certificates[0] if chain is not None and chain.certificates else None
    leaf_name = leaf.label if leaf else "the certificate"
    return by_alert(f, "server_cert_rejected", "possible", [],
                    f"The client refused the server's certificate {leaf_name} with {alert_label(f)}.", f.chain_lines())
