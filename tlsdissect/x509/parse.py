"""Decoding one DER certificate into ``CertificateInfo``, once per certificate (the parse cache).

Never raises on bad certificates: unparsable input becomes a ``CertificateInfo`` with
``parse_error`` set, its bytes kept as hex when they are few.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import replace
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519
from cryptography.x509.oid import PublicKeyAlgorithmOID

from tlsdissect.x509.extensions import _extensions
from tlsdissect.x509.info import CertificateInfo, _Parsed
from tlsdissect.x509.lru import CACHE_SIZE, _BoundedCache
from tlsdissect.x509.names import _first_cn, name_attributes, name_key, name_text
from tlsdissect.x509.signatures import _spki_hash, _verify_signature_uncached
from tlsdissect.x509.times import _utc

# Largest certificate whose raw bytes we keep as hex when it does not parse.
MAX_KEPT_DER = 16384

_KEY_OID_NAMES = {
    PublicKeyAlgorithmOID.RSAES_PKCS1_v1_5.dotted_string: "RSA",
    PublicKeyAlgorithmOID.RSASSA_PSS.dotted_string: "RSA-PSS",
    PublicKeyAlgorithmOID.EC_PUBLIC_KEY.dotted_string: "EC",
    PublicKeyAlgorithmOID.ED25519.dotted_string: "Ed25519",
    PublicKeyAlgorithmOID.ED448.dotted_string: "Ed448",
    PublicKeyAlgorithmOID.X25519.dotted_string: "X25519",
    PublicKeyAlgorithmOID.X448.dotted_string: "X448",
    PublicKeyAlgorithmOID.DSA.dotted_string: "DSA",
}

# Signature OIDs whose hash cryptography may refuse to name; used for weak-hash detection.
_SIG_OID_HASH = {
    "1.2.840.113549.1.1.2": "md2",
    "1.2.840.113549.1.1.3": "md4",
    "1.2.840.113549.1.1.4": "md5",
    "1.2.840.113549.1.1.5": "sha1",
    "1.3.14.3.2.29": "sha1",
    "1.2.840.10040.4.3": "sha1",
    "1.2.840.10045.4.1": "sha1",
    "1.2.840.113549.1.1.11": "sha256",
    "1.2.840.113549.1.1.12": "sha384",
    "1.2.840.113549.1.1.13": "sha512",
    "1.2.840.113549.1.1.14": "sha224",
    "1.2.840.10045.4.3.1": "sha224",
    "1.2.840.10045.4.3.2": "sha256",
    "1.2.840.10045.4.3.3": "sha384",
    "1.2.840.10045.4.3.4": "sha512",
}

_PARSE_CACHE: _BoundedCache[str, _Parsed] = _BoundedCache(CACHE_SIZE)


def _oid_name(oid: x509.ObjectIdentifier) -> str:
    name = getattr(oid, "_name", "Unknown OID")
    return oid.dotted_string if not name or name == "Unknown OID" else name


def _cert_time(cert: x509.Certificate, which: str) -> datetime:
    utc_value: datetime | None = getattr(cert, which + "_utc", None)  # cryptography >= 42
    if utc_value is not None:
        return utc_value
    return _utc(getattr(cert, which))


def _key_description(cert: x509.Certificate) -> tuple[str | None, int | None, str | None, str | None]:
    """(key type, size in bits, curve, error) without trusting the key to load."""
    try:
        oid_type = _KEY_OID_NAMES.get(cert.public_key_algorithm_oid.dotted_string)
        if oid_type is None:
            oid_type = _oid_name(cert.public_key_algorithm_oid)
    except Exception:  # noqa: BLE001
        oid_type = None
    try:
        key = cert.public_key()
    except Exception as exc:  # noqa: BLE001
        return oid_type, None, None, f"public key: {exc}"
    if isinstance(key, rsa.RSAPublicKey):
        return oid_type or "RSA", key.key_size, None, None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.key_size, key.curve.name, None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256, None, None
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456, None, None
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size, None, None
    if isinstance(key, x25519.X25519PublicKey):
        return "X25519", 256, None, None
    if isinstance(key, x448.X448PublicKey):
        return "X448", 448, None, None
    return oid_type or type(key).__name__, None, None, None


def _serial_hex(value: int) -> str:
    text = format(abs(value), "x")
    if len(text) % 2:
        text = "0" + text
    return ("-" if value < 0 else "") + text


def _load(der: bytes, digest: str) -> _Parsed:
    """Parse, turning cryptography's deprecation warnings (e.g. negative serials) into data."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parsed = _load_quiet(der, digest)
    notes = tuple(dict.fromkeys(str(w.message).split(". Loading")[0].rstrip(".") for w in caught))
    if notes and parsed.cert is not None:
        parsed = replace(parsed, info=replace(parsed.info, encoding_warnings=notes))
    return parsed


def _load_quiet(der: bytes, digest: str) -> _Parsed:
    base: dict[str, Any] = {"der_length": len(der), "der_sha256": digest}
    try:
        cert = x509.load_der_x509_certificate(der)
        subject_name = cert.subject
        issuer_name = cert.issuer
        fields: dict[str, Any] = dict(
            base,
            version=cert.version.name,
            subject=name_text(subject_name),
            subject_attributes=name_attributes(subject_name),
            subject_common_name=_first_cn(subject_name),
            issuer=name_text(issuer_name),
            issuer_attributes=name_attributes(issuer_name),
            issuer_common_name=_first_cn(issuer_name),
            not_before=_cert_time(cert, "not_valid_before"),
            not_after=_cert_time(cert, "not_valid_after"),
            sha256_fingerprint=digest,
        )
        subject_key = name_key(subject_name)
        issuer_key = name_key(issuer_name)
    except Exception as exc:  # noqa: BLE001 - cryptography raises many types on bad DER
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        hex_kept = der.hex() if len(der) <= MAX_KEPT_DER else None
        return _Parsed(CertificateInfo(parse_error=message, der_hex=hex_kept, **base), None, None, None)

    errors: list[str] = []
    try:
        fields["serial_hex"] = _serial_hex(cert.serial_number)
    except Exception as exc:  # noqa: BLE001
        errors.append(f"serial: {exc}")
    key_type, key_size, curve, key_error = _key_description(cert)
    fields.update(key_type=key_type, key_size=key_size, key_curve=curve)
    if key_error:
        errors.append(key_error)
    try:
        fields["signature_algorithm"] = _oid_name(cert.signature_algorithm_oid)
        sig_oid = cert.signature_algorithm_oid.dotted_string
    except Exception as exc:  # noqa: BLE001
        errors.append(f"signature algorithm: {exc}")
        sig_oid = ""
    try:
        hash_alg = cert.signature_hash_algorithm
        fields["signature_hash"] = hash_alg.name if hash_alg is not None else None
    except Exception:  # noqa: BLE001 - e.g. MD2, unknown algorithms
        fields["signature_hash"] = _SIG_OID_HASH.get(sig_oid)
    _extensions(cert, fields, errors)
    self_issued = subject_key == issuer_key
    self_signed = False
    if self_issued:
        self_signed = _verify_signature_uncached(cert, cert)[0] is True
    fields.update(self_issued=self_issued, self_signed=self_signed, field_errors=tuple(errors))
    return _Parsed(CertificateInfo(**fields), cert, subject_key, issuer_key, _spki_hash(cert))


def _parse(der: bytes) -> _Parsed:
    der = bytes(der)
    digest = hashlib.sha256(der).hexdigest()
    return _PARSE_CACHE.get_or_compute(digest, lambda: _load(der, digest))


def _safe_parse(der: Any) -> _Parsed:
    try:
        return _parse(der)
    except Exception:  # noqa: BLE001 - not bytes-like: report, do not raise
        return _Parsed(parse_certificate(der), None, None, None)


def parse_certificate(der: bytes) -> CertificateInfo:
    """Decode one DER certificate; never raises (bad input sets ``parse_error``)."""
    try:
        return _parse(der).info
    except Exception as exc:  # noqa: BLE001 - last resort, e.g. der not bytes-like
        try:
            raw = bytes(der)
        except Exception:  # noqa: BLE001
            raw = b""
        return CertificateInfo(
            der_length=len(raw),
            der_sha256=hashlib.sha256(raw).hexdigest(),
            parse_error=f"{type(exc).__name__}: {exc}",
            der_hex=raw.hex() if len(raw) <= MAX_KEPT_DER else None,
        )
