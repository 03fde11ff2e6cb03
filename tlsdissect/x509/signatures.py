"""Signatures: does an issuer's key sign a certificate? Checked with ``cryptography``, remembered per
(certificate, issuer key) pair, and the key hash that names an issuer's key."""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tlsdissect.x509.info import _Parsed
from tlsdissect.x509.lru import CACHE_SIZE, _BoundedCache

_ECDSA_SIG_OIDS = frozenset(
    {"1.2.840.10045.4.1", "1.2.840.10045.4.3.1", "1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3", "1.2.840.10045.4.3.4"}
)
_RSA_PKCS1_SIG_OIDS = frozenset(
    {"1.2.840.113549.1.1." + str(n) for n in (2, 3, 4, 5, 11, 12, 13, 14)} | {"1.3.14.3.2.29"}
)

_VERIFY_CACHE: _BoundedCache[tuple[str, str], tuple[bool | None, str]] = _BoundedCache(CACHE_SIZE)


def _verify_signature_uncached(cert: x509.Certificate, issuer: x509.Certificate) -> tuple[bool | None, str]:
    """(True: verifies, False: does not, None: cannot tell) and why, for cert signed by issuer's key."""
    try:
        key = issuer.public_key()
    except Exception as exc:  # noqa: BLE001
        return None, f"the issuer's public key cannot be used ({exc})"
    try:
        params = cert.signature_algorithm_parameters
    except Exception as exc:  # noqa: BLE001
        return None, f"unsupported signature algorithm ({exc})"
    try:
        hash_alg = cert.signature_hash_algorithm
    except Exception:  # noqa: BLE001
        hash_alg = None
    sig, tbs = cert.signature, cert.tbs_certificate_bytes
    sig_oid = cert.signature_algorithm_oid.dotted_string
    if params is None and hash_alg is not None:
        # cryptography gives no parameters for some legacy OIDs (e.g. ecdsa-with-SHA1)
        if sig_oid in _ECDSA_SIG_OIDS:
            params = ec.ECDSA(hash_alg)
        elif sig_oid in _RSA_PKCS1_SIG_OIDS:
            params = padding.PKCS1v15()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if not isinstance(params, (padding.PKCS1v15, padding.PSS)) or hash_alg is None:
                return False, "the signature is not an RSA signature"
            key.verify(sig, tbs, params, hash_alg)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            if not isinstance(params, ec.ECDSA):
                return False, "the signature is not an ECDSA signature"
            key.verify(sig, tbs, params)
        elif isinstance(key, ed25519.Ed25519PublicKey):
            if sig_oid != "1.3.101.112":
                return False, "the signature is not an Ed25519 signature"
            key.verify(sig, tbs)
        elif isinstance(key, ed448.Ed448PublicKey):
            if sig_oid != "1.3.101.113":
                return False, "the signature is not an Ed448 signature"
            key.verify(sig, tbs)
        elif isinstance(key, dsa.DSAPublicKey):
            if hash_alg is None:
                return None, "unsupported DSA signature hash"
            key.verify(sig, tbs, hash_alg)
        else:
            return None, f"keys of type {type(key).__name__} cannot sign certificates"
    except InvalidSignature:
        return False, "the signature does not verify"
    except UnsupportedAlgorithm as exc:
        return None, f"the signature algorithm is not supported here ({exc})"
    except (ValueError, TypeError) as exc:
        return False, f"the signature does not fit the key ({exc})"
    except Exception as exc:  # noqa: BLE001
        return None, f"signature check failed ({exc})"
    return True, "the signature verifies"


def _verify_pair(child: _Parsed, issuer: _Parsed) -> tuple[bool | None, str]:
    """Cached: does ``issuer``'s key sign ``child``? Keyed by child DER and issuer key."""
    child_cert, issuer_cert = child.cert, issuer.cert
    if child_cert is None or issuer_cert is None:
        return None, "a certificate did not parse"
    key = (child.info.der_sha256, issuer.spki_sha256 or issuer.info.der_sha256)
    return _VERIFY_CACHE.get_or_compute(key, lambda: _verify_signature_uncached(child_cert, issuer_cert))


def _spki_hash(cert: x509.Certificate) -> str:
    try:
        spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    except Exception:  # noqa: BLE001 - unusable key: fall back to the whole certificate
        spki = cert.public_bytes(Encoding.DER)
    return hashlib.sha256(spki).hexdigest()
