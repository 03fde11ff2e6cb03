"""What the common TLS stacks enable by default: key-exchange groups, signature schemes and
TLS 1.3 cipher suites, as data in one place, with where each list was read.

A server left at its defaults accepts what its library enables; a refused ClientHello whose
list meets every stack's default list is an ordinary one, and a list that meets few of them (or
holds one entry where clients send a dozen) is the narrow one that the refusal most likely
turns on (:mod:`tlsdissect.diagnosis.offer_lists` does the comparison).

Codes are IANA's (``tls.tables.SUPPORTED_GROUPS``, ``SIGNATURE_SCHEMES``, ``CIPHER_SUITES``);
only the server-side defaults matter here, which for these stacks are the same lists their
clients offer. Post-quantum hybrids that some releases add on top (X25519MLKEM768) are left
out: no stack accepts only them by default.
"""

from __future__ import annotations

from dataclasses import dataclass

# Groups (supported_groups / key_share)
X25519, SECP256R1, SECP384R1, SECP521R1, X448 = 0x001D, 0x0017, 0x0018, 0x0019, 0x001E
FFDHE2048, FFDHE3072, FFDHE4096, FFDHE6144, FFDHE8192 = 0x0100, 0x0101, 0x0102, 0x0103, 0x0104
# Signature schemes
ECDSA_P256_SHA256, ECDSA_P384_SHA384, ECDSA_P521_SHA512 = 0x0403, 0x0503, 0x0603
ED25519, ED448 = 0x0807, 0x0808
PSS_RSAE_SHA256, PSS_RSAE_SHA384, PSS_RSAE_SHA512 = 0x0804, 0x0805, 0x0806
PSS_PSS_SHA256, PSS_PSS_SHA384, PSS_PSS_SHA512 = 0x0809, 0x080A, 0x080B
PKCS1_SHA256, PKCS1_SHA384, PKCS1_SHA512, PKCS1_SHA1, ECDSA_SHA1 = 0x0401, 0x0501, 0x0601, 0x0201, 0x0203
# TLS 1.3 cipher suites
AES_128_GCM, AES_256_GCM, CHACHA20 = 0x1301, 0x1302, 0x1303

# Which certificate key a signature scheme can sign with (TLS 1.3 names; for TLS 1.2 the
# same codes mean hash + signature algorithm, with the same key types).
SCHEME_KEY_TYPES: dict[int, str] = {
    ECDSA_P256_SHA256: "ECDSA", ECDSA_P384_SHA384: "ECDSA", ECDSA_P521_SHA512: "ECDSA", ECDSA_SHA1: "ECDSA",
    0x0303: "ECDSA", 0x0103: "ECDSA",
    PSS_RSAE_SHA256: "RSA", PSS_RSAE_SHA384: "RSA", PSS_RSAE_SHA512: "RSA",
    PSS_PSS_SHA256: "RSA-PSS", PSS_PSS_SHA384: "RSA-PSS", PSS_PSS_SHA512: "RSA-PSS",
    PKCS1_SHA256: "RSA", PKCS1_SHA384: "RSA", PKCS1_SHA512: "RSA", PKCS1_SHA1: "RSA", 0x0301: "RSA", 0x0101: "RSA",
    ED25519: "Ed25519", ED448: "Ed448",
    0x0202: "DSA", 0x0302: "DSA", 0x0402: "DSA", 0x0502: "DSA", 0x0602: "DSA",
}
# The key types servers' certificates carry in practice, most common first.
COMMON_KEY_TYPES: tuple[str, ...] = ("RSA", "ECDSA")


@dataclass(frozen=True)
class StackDefaults:
    """One stack's default-enabled lists, and where they were read."""

    stack: str  # a key of diagnosis.alerts.STACKS
    groups: frozenset[int]
    signature_schemes: frozenset[int]
    tls13_suites: frozenset[int]
    source: str


_ALL_TLS13 = frozenset({AES_128_GCM, AES_256_GCM, CHACHA20})
_RSA_PSS_PKCS1 = frozenset({PSS_RSAE_SHA256, PSS_RSAE_SHA384, PSS_RSAE_SHA512,
                            PKCS1_SHA256, PKCS1_SHA384, PKCS1_SHA512})

STACK_DEFAULTS: tuple[StackDefaults, ...] = (
    StackDefaults(
        "openssl",
        frozenset({X25519, SECP256R1, X448, SECP521R1, SECP384R1, FFDHE2048, FFDHE3072, FFDHE4096, FFDHE6144,
                   FFDHE8192}),
        _RSA_PSS_PKCS1 | {ECDSA_P256_SHA256, ECDSA_P384_SHA384, ECDSA_P521_SHA512, ED25519, ED448,
                          PSS_PSS_SHA256, PSS_PSS_SHA384, PSS_PSS_SHA512},
        _ALL_TLS13,
        "OpenSSL 3.0 ssl/t1_lib.c (supported_groups_default, tls12_sigalgs) and TLS_DEFAULT_CIPHERSUITES in "
        "include/openssl/ssl.h; the same lists are in the lab's curl / s_client ClientHellos "
        "(captures/tls12_no_shared_cipher, captures/tls13_no_shared_cipher)"),
    StackDefaults(
        "boringssl",
        frozenset({X25519, SECP256R1, SECP384R1}),
        _RSA_PSS_PKCS1 | {ECDSA_P256_SHA256, ECDSA_P384_SHA384},
        _ALL_TLS13,
        "BoringSSL ssl/extensions.cc (kDefaultGroups, kVerifySignatureAlgorithms) and ssl/ssl_cipher.cc"),
    StackDefaults(
        "gnutls",
        frozenset({SECP256R1, SECP384R1, SECP521R1, X25519, FFDHE2048, FFDHE3072, FFDHE4096, FFDHE6144,
                   FFDHE8192}),
        _RSA_PSS_PKCS1 | {ECDSA_P256_SHA256, ECDSA_P384_SHA384, ECDSA_P521_SHA512, ED25519,
                          PSS_PSS_SHA256, PSS_PSS_SHA384, PSS_PSS_SHA512},
        _ALL_TLS13,
        "GnuTLS lib/priority.c, priority string NORMAL (_supported_groups_normal, _sign_priority_default, "
        "_cipher_priority_normal)"),
    StackDefaults(
        "go",
        frozenset({X25519, SECP256R1, SECP384R1, SECP521R1}),
        _RSA_PSS_PKCS1 | {ECDSA_P256_SHA256, ECDSA_P384_SHA384, ECDSA_P521_SHA512, ED25519, PKCS1_SHA1, ECDSA_SHA1},
        _ALL_TLS13,
        "Go src/crypto/tls/common.go (defaultCurvePreferences, supportedSignatureAlgorithms) and "
        "cipher_suites.go (defaultCipherSuitesTLS13)"),
    StackDefaults(
        "nss",
        frozenset({X25519, SECP256R1, SECP384R1, SECP521R1, FFDHE2048, FFDHE3072}),
        _RSA_PSS_PKCS1 | {ECDSA_P256_SHA256, ECDSA_P384_SHA384, ECDSA_P521_SHA512, PKCS1_SHA1, ECDSA_SHA1},
        _ALL_TLS13,
        "NSS lib/ssl/sslsock.c (ssl_named_groups enabled by default, defaultSignatureSchemes)"),
    StackDefaults(
        "rustls",
        frozenset({X25519, SECP256R1, SECP384R1}),
        _RSA_PSS_PKCS1 | {ECDSA_P256_SHA256, ECDSA_P384_SHA384, ED25519},
        _ALL_TLS13,
        "rustls crypto providers ring / aws-lc-rs (ALL_KX_GROUPS, SUPPORTED_SIG_ALGS, TLS13 suites)"),
)


def accepted_by_all(attr: str) -> frozenset[int]:
    """The codes of ``attr`` (groups, signature_schemes, tls13_suites) every stack enables."""
    sets: list[frozenset[int]] = [getattr(d, attr) for d in STACK_DEFAULTS]
    common = sets[0]
    for s in sets[1:]:
        common = common & s
    return common


def stacks_accepting(attr: str, offered: frozenset[int]) -> list[str]:
    """The stacks whose default ``attr`` list meets ``offered``."""
    return [d.stack for d in STACK_DEFAULTS if getattr(d, attr) & offered]


UNIVERSAL_GROUPS = accepted_by_all("groups")  # x25519, secp256r1, secp384r1
UNIVERSAL_SCHEMES = accepted_by_all("signature_schemes")
UNIVERSAL_TLS13_SUITES = accepted_by_all("tls13_suites")
