"""The client's Certificate against the server's CertificateRequest: was it issued by a CA the
server named, and can its key sign with a scheme the server accepts?"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tlsdissect.x509.findings import ChainFinding
from tlsdissect.x509.info import CertificateInfo
from tlsdissect.x509.names import NameKey, _name_der_key, decode_distinguished_names
from tlsdissect.x509.parse import _safe_parse

SIGNATURE_SCHEME_NAMES = {
    0x0201: "rsa_pkcs1_sha1",
    0x0203: "ecdsa_sha1",
    0x0202: "dsa_sha1",
    0x0301: "rsa_pkcs1_sha224",
    0x0302: "dsa_sha224",
    0x0303: "ecdsa_sha224",
    0x0401: "rsa_pkcs1_sha256",
    0x0402: "dsa_sha256",
    0x0403: "ecdsa_secp256r1_sha256",
    0x0501: "rsa_pkcs1_sha384",
    0x0502: "dsa_sha384",
    0x0503: "ecdsa_secp384r1_sha384",
    0x0601: "rsa_pkcs1_sha512",
    0x0602: "dsa_sha512",
    0x0603: "ecdsa_secp521r1_sha512",
    0x0804: "rsa_pss_rsae_sha256",
    0x0805: "rsa_pss_rsae_sha384",
    0x0806: "rsa_pss_rsae_sha512",
    0x0807: "ed25519",
    0x0808: "ed448",
    0x0809: "rsa_pss_pss_sha256",
    0x080A: "rsa_pss_pss_sha384",
    0x080B: "rsa_pss_pss_sha512",
    0x081A: "ecdsa_brainpoolP256r1tls13_sha256",
    0x081B: "ecdsa_brainpoolP384r1tls13_sha384",
    0x081C: "ecdsa_brainpoolP512r1tls13_sha512",
}


def signature_scheme_name(code: int) -> str:
    return SIGNATURE_SCHEME_NAMES.get(code, f"0x{code:04x}")


def _scheme_key_type(code: int) -> str | None:
    """Key type a SignatureScheme (or TLS 1.2 hash/signature pair) needs."""
    if 0x0804 <= code <= 0x0806:
        return "RSA"
    if 0x0809 <= code <= 0x080B:
        return "RSA-PSS"
    if code == 0x0807:
        return "Ed25519"
    if code == 0x0808:
        return "Ed448"
    if 0x081A <= code <= 0x081C:
        return "EC"
    hash_byte, sig_byte = code >> 8, code & 0xFF
    if 1 <= hash_byte <= 6:
        return {1: "RSA", 2: "DSA", 3: "EC"}.get(sig_byte)
    return None


# Client-chain checks by (chain, requested CA names, signature schemes): the same clients
# answer the same server's request on every connection, and nothing here depends on the time.
_CLIENT_CHECK_CACHE: dict[tuple[Any, ...], list[ChainFinding]] = {}
_CLIENT_CHECK_CACHE_MAX = 1024  # combinations remembered (cleared when full)


def check_client_chain_against_request(
    ders: Sequence[bytes],
    *,
    ca_names: Sequence[bytes] = (),
    signature_algorithms: Sequence[int] = (),
) -> list[ChainFinding]:
    """Compare the client's Certificate with the server's CertificateRequest.

    ``ca_names`` are the DER DistinguishedNames of certificate_authorities;
    ``signature_algorithms`` the SignatureScheme codes the server accepts.
    ECDSA schemes are matched on key type only (TLS 1.2 codes do not bind the curve).
    """
    key = (tuple(ders), tuple(ca_names), tuple(signature_algorithms))
    try:
        found = _CLIENT_CHECK_CACHE.get(key)
    except TypeError:  # unhashable input (e.g. bytearray): judged without the cache
        return _client_chain_findings(ders, ca_names, signature_algorithms)
    if found is None:
        if len(_CLIENT_CHECK_CACHE) >= _CLIENT_CHECK_CACHE_MAX:
            _CLIENT_CHECK_CACHE.clear()
        found = _CLIENT_CHECK_CACHE[key] = _client_chain_findings(ders, ca_names, signature_algorithms)
    return list(found)  # the findings are immutable; the list is the caller's own


def _client_chain_findings(
    ders: Sequence[bytes], ca_names: Sequence[bytes], signature_algorithms: Sequence[int]
) -> list[ChainFinding]:
    findings: list[ChainFinding] = []
    requested = decode_distinguished_names(ca_names)
    if not ders:
        wanted = f" issued by {_one_of(requested)}" if requested else ""
        findings.append(
            ChainFinding(
                "client_cert_missing",
                "warning",
                f"The server asked for a client certificate{wanted}, but the client sent an empty Certificate "
                "message; a server that requires one aborts the handshake (alert certificate_required in TLS 1.3, "
                "usually handshake_failure in TLS 1.2) or, like nginx, completes it and refuses the request "
                "(HTTP 400).",
            )
        )
        return findings
    parsed = [_safe_parse(d) for d in ders]
    usable = [(i, p) for i, p in enumerate(parsed) if p.cert is not None]

    if ca_names:
        keys: dict[NameKey, str] = {}
        for der, text in zip(ca_names, requested):
            try:
                keys[_name_der_key(der)] = text
            except Exception:  # noqa: BLE001 - already shown as undecodable
                continue
        match: tuple[int, str, str] | None = None
        for i, p in usable:
            if p.issuer_key in keys:
                match = (i, "issued by", keys[p.issuer_key])
                break
            if p.subject_key in keys:
                match = (i, "is", keys[p.subject_key])
                break
        if match is not None:
            i, verb, name = match
            findings.append(
                ChainFinding(
                    "issuer_requested",
                    "info",
                    f"The client's certificate #{i} ({parsed[i].info.label}) {verb} {name}, which the server's "
                    "CertificateRequest lists as acceptable.",
                    (i,),
                )
            )
        elif usable:
            sent_issuers = list(dict.fromkeys(p.info.issuer for _i, p in usable))
            sent = (
                f"one issued by {sent_issuers[0]}"
                if len(sent_issuers) == 1
                else "a chain whose certificates are issued by " + "; ".join(sent_issuers)
            )
            findings.append(
                ChainFinding(
                    "issuer_not_requested",
                    "error",
                    f"The server accepts only certificates issued by {_one_of(requested)}; the client sent {sent}.",
                    tuple(i for i, _p in usable),
                )
            )

    if signature_algorithms and usable and usable[0][0] == 0:
        leaf_info = parsed[0].info
        key_type = leaf_info.key_type
        accepted = {_scheme_key_type(c) for c in signature_algorithms}
        if key_type is not None and key_type not in accepted:
            findings.append(
                ChainFinding(
                    "client_key_not_accepted",
                    "error",
                    f"The client's certificate {leaf_info.label} has {_key_phrase(leaf_info)} key, but the "
                    "server's CertificateRequest allows only "
                    f"{', '.join(signature_scheme_name(c) for c in signature_algorithms)}; the client cannot "
                    "sign an acceptable CertificateVerify with it.",
                    (0,),
                )
            )
    return findings


def _key_phrase(info: CertificateInfo) -> str:
    detail = info.key_curve or (f"{info.key_size}-bit" if info.key_size else "")
    text = f"{info.key_type} {detail}".strip() if info.key_type != "EC" else f"EC {detail}".strip()
    return ("an " if text[:1] in "AEIOU" else "a ") + text


def _one_of(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    return "one of " + "; ".join(names)
