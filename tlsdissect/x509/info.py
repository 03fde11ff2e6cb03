"""One decoded certificate: ``CertificateInfo``, what it says (the output's form), and ``_Parsed``,
that with the loaded certificate and the keys the chain checks compare by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, Literal

from cryptography import x509

from tlsdissect.x509.names import NameKey
from tlsdissect.x509.times import _iso


@dataclass(frozen=True)
class CertificateInfo:
    """What a certificate says, decoded once; immutable so cached copies can be shared."""

    der_length: int
    der_sha256: str
    parse_error: str | None = None
    der_hex: str | None = None  # kept only when the DER does not parse
    version: str | None = None
    subject: str = ""
    subject_common_name: str | None = None
    issuer: str = ""
    issuer_common_name: str | None = None
    # (OID, name as printed, value) per attribute, in certificate order
    subject_attributes: tuple[tuple[str, str, str], ...] = ()
    issuer_attributes: tuple[tuple[str, str, str], ...] = ()
    serial_hex: str | None = None
    san_dns: tuple[str, ...] = ()
    san_ip: tuple[str, ...] = ()
    san_other: tuple[str, ...] = ()
    not_before: datetime | None = None
    not_after: datetime | None = None
    key_type: str | None = None
    key_size: int | None = None
    key_curve: str | None = None
    signature_algorithm: str | None = None
    signature_hash: str | None = None
    sha256_fingerprint: str | None = None
    basic_constraints_ca: bool | None = None  # None: extension absent
    basic_constraints_path_len: int | None = None
    key_usage: tuple[str, ...] | None = None  # None: extension absent
    extended_key_usage: tuple[str, ...] | None = None  # None: extension absent
    subject_key_id: str | None = None
    authority_key_id: str | None = None
    aia_ca_issuers: tuple[str, ...] = ()
    aia_ocsp: tuple[str, ...] = ()
    crl_distribution_points: tuple[str, ...] = ()
    tls_features: tuple[str, ...] | None = None  # RFC 7633 TLS Feature ("status_request": OCSP must-staple); None: absent
    unknown_critical_extensions: tuple[str, ...] = ()
    self_issued: bool = False
    self_signed: bool = False
    field_errors: tuple[str, ...] = ()  # parts that could not be decoded (e.g. a bad extension)
    encoding_warnings: tuple[str, ...] = ()  # accepted today but not RFC 5280 conformant
    extensions_read: Literal["full", "partial", "none"] = "full"  # partial: lenient fallback after a DER fault

    @property
    def parsed(self) -> bool:
        return self.parse_error is None

    @property
    def label(self) -> str:
        """Short human name: CN=... when there is a CN, else the full subject."""
        if self.parse_error is not None:
            return f"an unparsable certificate (sha256 {self.der_sha256[:16]}…)"
        if self.subject_common_name:
            return f"CN={self.subject_common_name}"
        return self.subject or "a certificate with an empty subject"

    @property
    def issuer_label(self) -> str:
        if self.issuer_common_name:
            return f"CN={self.issuer_common_name}"
        return self.issuer or "an empty issuer name"

    @cached_property
    def _dict_template(self) -> tuple[dict[str, Any], tuple[tuple[str, tuple[Any, ...]], ...]]:
        """to_dict's values worked out once (dates formatted, sequences as tuples) and the
        (key, value) pairs that hold sequences: a cached certificate is reported on every
        connection that sends it."""
        d: dict[str, Any] = {
            "der_length": self.der_length,
            "der_sha256": self.der_sha256,
            "parse_error": self.parse_error,
            "der_hex": self.der_hex,
            "version": self.version,
            "subject": self.subject,
            "subject_common_name": self.subject_common_name,
            "issuer": self.issuer,
            "issuer_common_name": self.issuer_common_name,
            "subject_attributes": tuple(self.subject_attributes),
            "issuer_attributes": tuple(self.issuer_attributes),
            "serial_hex": self.serial_hex,
            "san_dns": tuple(self.san_dns),
            "san_ip": tuple(self.san_ip),
            "san_other": tuple(self.san_other),
            "not_before": _iso(self.not_before),
            "not_after": _iso(self.not_after),
            "key_type": self.key_type,
            "key_size": self.key_size,
            "key_curve": self.key_curve,
            "signature_algorithm": self.signature_algorithm,
            "signature_hash": self.signature_hash,
            "sha256_fingerprint": self.sha256_fingerprint,
            "basic_constraints_ca": self.basic_constraints_ca,
            "basic_constraints_path_len": self.basic_constraints_path_len,
            "key_usage": None if self.key_usage is None else tuple(self.key_usage),
            "extended_key_usage": None if self.extended_key_usage is None else tuple(self.extended_key_usage),
            "subject_key_id": self.subject_key_id,
            "authority_key_id": self.authority_key_id,
            "aia_ca_issuers": tuple(self.aia_ca_issuers),
            "aia_ocsp": tuple(self.aia_ocsp),
            "crl_distribution_points": tuple(self.crl_distribution_points),
            "tls_features": None if self.tls_features is None else tuple(self.tls_features),
            "unknown_critical_extensions": tuple(self.unknown_critical_extensions),
            "self_issued": self.self_issued,
            "self_signed": self.self_signed,
            "field_errors": tuple(self.field_errors),
            "encoding_warnings": tuple(self.encoding_warnings),
            "extensions_read": self.extensions_read,
        }
        return d, tuple([(k, v) for k, v in d.items() if type(v) is tuple])

    def to_dict(self) -> dict[str, Any]:
        template, sequences = self._dict_template
        d = template.copy()
        for k, v in sequences:
            d[k] = fresh_sequence(k, v)
        return d


NAME_ATTRIBUTE_KEYS = frozenset(("subject_attributes", "issuer_attributes"))


def fresh_sequence(key: str, value: tuple[Any, ...]) -> list[Any]:
    """A to_dict template's sequence as the caller's own list (a caller may change one
    connection's result): the name attributes as fresh ``{oid, name, value}`` objects."""
    if key in NAME_ATTRIBUTE_KEYS:
        return [{"oid": oid, "name": name, "value": text} for oid, name, text in value]
    return [*value]


@dataclass(frozen=True)
class _Parsed:
    info: CertificateInfo
    cert: x509.Certificate | None
    subject_key: NameKey | None
    issuer_key: NameKey | None
    spki_sha256: str | None = None  # identifies the key, for trust anchors and the signature cache
