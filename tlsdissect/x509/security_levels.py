"""OpenSSL's security levels: which level of a client first refuses a key, group or signature.

Most TLS clients seen in practice run OpenSSL (curl, Python, Node.js, the openssl tools), and
what they refuse as "too weak" is their security level (``@SECLEVEL=N`` in a cipher string,
``CipherString`` in openssl.cnf). Upstream's default is level 1; Debian and Ubuntu raise it
to 2, and RHEL's DEFAULT crypto policy has the same 2048-bit floor. Data in one place for the
chain findings and the diagnosis to name the level that refuses what the capture shows.

Source: the OpenSSL manual page SSL_CTX_set_security_level(3), "Default callback behaviour"
(OpenSSL 1.1.0 to 3.x): levels 1-5 ask for 80, 112, 128, 192 and 256 bits of security, which
means RSA, DSA and DH moduli of at least 1024, 2048, 3072, 7680 and 15360 bits and ECC keys of
at least 160, 224, 256, 384 and 512 bits. Signature hashes: OpenSSL 3.x counts a SHA-1
certificate signature as 63 bits and an MD5 one as 39 (crypto/x509/x509_set.c,
x509_sig_info_init(): "no longer accepted at security level 1"); in TLS handshake signatures
it counts SHA-1 as 65, MD5 as 39 and TLS 1.0/1.1's MD5+SHA-1 as 67 bits (the OpenSSL project's
vote of May 2020 for 3.0), which is why TLS < 1.2 needs level 0 there. OpenSSL 1.1.1 still
counted SHA-1 as 80 bits: it refuses SHA-1 from level 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

SOURCE = "OpenSSL SSL_CTX_set_security_level(3), \"Default callback behaviour\""


@dataclass(frozen=True)
class SecurityLevel:
    level: int
    security_bits: int  # the minimum strength every parameter must offer
    min_rsa_dsa_dh_bits: int  # RSA, DSA and finite-field DH moduli shorter than this are refused
    min_ecc_bits: int  # EC keys shorter than this are refused
    also: str  # the level's other exclusions, as the manual lists them


SECURITY_LEVELS: tuple[SecurityLevel, ...] = (
    SecurityLevel(0, 0, 0, 0, "everything is permitted"),
    SecurityLevel(1, 80, 1024, 160, "cipher suites with an MD5 MAC; since OpenSSL 3.0 also MD5 and SHA-1 signatures "
                                    "(and so TLS 1.0/1.1)"),
    SecurityLevel(2, 112, 2048, 224, "RC4 suites, SSLv3 and compression"),
    SecurityLevel(3, 128, 3072, 256, "suites without forward secrecy, TLS 1.0, session tickets"),
    SecurityLevel(4, 192, 7680, 384, "suites with a SHA-1 MAC, TLS versions below 1.2"),
    SecurityLevel(5, 256, 15360, 512, "(the same, stronger keys)"),
)

# OpenSSL 3.x's security bits of a signature hash that is weaker than half its digest length.
WEAK_SIGNATURE_HASH_BITS: dict[str, int] = {"md2": 0, "md4": 0, "md5": 39, "sha1": 63}
DEFAULT_LEVEL_NOTE = "upstream OpenSSL defaults to level 1; Debian, Ubuntu and RHEL run clients at level 2"


def level_refusing_modulus(bits: int) -> Optional[int]:
    """The lowest level that refuses an RSA/DSA key or DH group of ``bits`` bits (None: none does)."""
    for lv in SECURITY_LEVELS:
        if bits < lv.min_rsa_dsa_dh_bits:
            return lv.level
    return None


def level_refusing_ecc(bits: int) -> Optional[int]:
    """The lowest level that refuses an EC key of ``bits`` bits (None: none does)."""
    for lv in SECURITY_LEVELS:
        if bits < lv.min_ecc_bits:
            return lv.level
    return None


def level_refusing_signature_hash(hash_name: str) -> Optional[int]:
    """The lowest level at which OpenSSL 3.x refuses a certificate signed with ``hash_name``."""
    bits = WEAK_SIGNATURE_HASH_BITS.get(hash_name)
    if bits is None:
        return None
    for lv in SECURITY_LEVELS:
        if bits < lv.security_bits:
            return lv.level
    return None


def refused_from(level: Optional[int]) -> str:
    """"OpenSSL refuses it from security level 2 (...)": the words the findings use."""
    if level is None:
        return ""
    return f"OpenSSL clients refuse it from security level {level} ({DEFAULT_LEVEL_NOTE})"


# When clients began refusing small DH groups: 512/768-bit ones after Logjam (May 2015: browsers
# and OpenSSL 1.0.2b raised the floor to 1024 bits), 1024-bit ones when Debian 10 (July 2019)
# shipped OpenSSL clients at security level 2. A capture older than that gets a warning only.
DH_UNDER_1024_REFUSED_FROM = datetime(2015, 5, 20, tzinfo=timezone.utc)
DH_UNDER_2048_REFUSED_FROM = datetime(2019, 7, 6, tzinfo=timezone.utc)


def weak_dh_group_finding(prime_bits: int, at: Optional[float]) -> Optional[tuple[str, str]]:
    """(severity, text) of the finding for a ServerKeyExchange DH group of ``prime_bits`` bits
    seen at capture time ``at`` (epoch seconds; None: unknown); None when levels 1 and 2 accept
    it."""
    level = level_refusing_modulus(prime_bits)
    if level is None or level > 2:
        return None
    since = DH_UNDER_1024_REFUSED_FROM if level == 1 else DH_UNDER_2048_REFUSED_FROM
    then = at is not None and at == at and at < since.timestamp()
    return ("warning" if then else "error",
            f"The ServerKeyExchange's Diffie-Hellman group has a {prime_bits}-bit prime; {refused_from(level)}, "
            "and browsers no longer offer DHE suites at all"
            + (" (clients of the capture's time still accepted it)." if then else "."))
