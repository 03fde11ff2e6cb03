"""JA4X (FoxIO, technical_details/JA4X.md): how a certificate was made, not what it says.

Three 12-hex SHA-256 prefixes joined by ``_``: over the issuer's RDN attribute OIDs, the
subject's, and the extensions' OIDs, each list in certificate order, each OID as the hex of its
DER content octets (``550403`` for commonName), comma-joined; ``000000000000`` for an empty list.
"""

from __future__ import annotations

import hashlib
import warnings
from functools import lru_cache
from typing import Optional

from cryptography import x509

EMPTY_HASH = "000000000000"


def oid_hex(dotted: str) -> str:
    """The DER content octets of an OBJECT IDENTIFIER, in hex (X.690 §8.19)."""
    arcs = [int(a) for a in dotted.split(".")]
    values = [arcs[0] * 40 + arcs[1], *arcs[2:]]
    out = bytearray()
    for v in values:
        chunk = [v & 0x7F]
        v >>= 7
        while v:
            chunk.append(0x80 | (v & 0x7F))
            v >>= 7
        out.extend(reversed(chunk))
    return out.hex()


def _hash12(oids: list[str]) -> str:
    if not oids:
        return EMPTY_HASH
    return hashlib.sha256(",".join(oid_hex(o) for o in oids).encode("ascii")).hexdigest()[:12]


def _name_oids(name: x509.Name) -> list[str]:
    return [attr.oid.dotted_string for rdn in name.rdns for attr in rdn]


@lru_cache(maxsize=2048)  # (a capture's servers send the same few certificates again and again)
def ja4x(der: bytes) -> Optional[str]:
    """JA4X of one DER certificate; None when it cannot be parsed far enough to list them."""
    try:
        with warnings.catch_warnings():  # (x509.parse reports a negative serial and the like)
            warnings.simplefilter("ignore")
            cert = x509.load_der_x509_certificate(der)
            issuer, subject = _name_oids(cert.issuer), _name_oids(cert.subject)
            extensions = [e.oid.dotted_string for e in cert.extensions]
    except (ValueError, TypeError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType):
        return None
    return f"{_hash12(issuer)}_{_hash12(subject)}_{_hash12(extensions)}"
