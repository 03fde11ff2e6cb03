"""Certificate and certificate-chain analysis at capture time.

The engine hands us the DER certificates a peer sent in its Certificate message;
we parse them with ``cryptography`` and explain what a client (or server, for
client certificates) would object to *at the time of the capture*: missing
issuers, wrong order, expiry, name mismatch, weak keys and signatures, EKU, and
(optionally) whether the chain reaches a trust anchor.

Everything here is a pure function over bytes and never raises on bad
certificates: unparsable input becomes a ``CertificateInfo`` with ``parse_error``
set and an ``unparsable_certificate`` finding.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import math
import os
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from cryptography import x509

from tlsdissect.errors import TlsDissectError
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa, x448, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import (
    AuthorityInformationAccessOID,
    ExtendedKeyUsageOID,
    NameOID,
    PublicKeyAlgorithmOID,
)

from tlsdissect.x509.hostname import match_hostname, parse_ip_literal

Severity = Literal["error", "warning", "info"]
Role = Literal["server", "client"]
TrustState = Literal["trusted", "untrusted_root", "not_checked"]

CACHE_SIZE = 1024
# Largest certificate whose raw bytes we keep as hex when it does not parse.
MAX_KEPT_DER = 16384
WEAK_HASHES = frozenset({"md2", "md4", "md5", "sha1"})
MIN_RSA_DSA_BITS = 2048
MIN_EC_BITS = 224
# Browsers and OpenSSL stopped accepting these around these dates; earlier captures get a warning only.
SHA1_REJECTED_FROM = datetime(2017, 1, 1, tzinfo=timezone.utc)
WEAK_KEY_REJECTED_FROM = datetime(2014, 1, 1, tzinfo=timezone.utc)
# Packet times before this are a reset clock (epoch 0 and friends), not a real capture date.
EARLIEST_CREDIBLE_TIME = datetime(2000, 1, 1, tzinfo=timezone.utc)


# --------------------------------------------------------------------------- results


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return _utc(value).isoformat().replace("+00:00", "Z")


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


@dataclass(frozen=True)
class ChainFinding:
    """One observation about a chain, phrased for a human, with the certificates concerned."""

    id: str
    severity: Severity
    text: str
    certificates: tuple[int, ...] = ()

    def to_dict(self, role: str | None = None) -> dict[str, Any]:
        """The JSON form; ``role`` ("server"/"client") is added as a last key when given."""
        d = {
            "id": self.id,
            "severity": self.severity,
            "text": self.text,
            "certificates": list(self.certificates),
        }
        if role is not None:
            d["role"] = role
        return d


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
            d[k] = [*v]  # fresh lists: a caller may change one connection's result
        return d


@dataclass
class ChainAnalysis:
    """Result of ``analyze_chain``: decoded certificates, findings and the trust verdict."""

    certificates: list[CertificateInfo]
    findings: list[ChainFinding]
    trust: TrustState = "not_checked"
    path: list[int] = field(default_factory=list)  # indexes from the leaf up, as issuers link them
    trust_anchor: str | None = None  # subject of the anchor that made the chain trusted

    def finding_ids(self) -> list[str]:
        return [f.id for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "certificates": [c.to_dict() for c in self.certificates],
            "findings": [f.to_dict() for f in self.findings],
            "trust": self.trust,
            "path": list(self.path),
            "trust_anchor": self.trust_anchor,
        }


# --------------------------------------------------------------------------- cache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _BoundedCache(Generic[K, V]):
    """Thread-safe LRU dict: repeated chains (same DER over many connections) cost once."""

    def __init__(self, maxsize: int) -> None:
        self._maxsize = maxsize
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: K, compute: Callable[[], V]) -> V:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key]
        value = compute()
        with self._lock:
            self.misses += 1
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._maxsize:
                self._data.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._data)


@dataclass(frozen=True)
class _Parsed:
    info: CertificateInfo
    cert: x509.Certificate | None
    subject_key: tuple | None
    issuer_key: tuple | None
    spki_sha256: str | None = None  # identifies the key, for trust anchors and the signature cache


_PARSE_CACHE: _BoundedCache[str, _Parsed] = _BoundedCache(CACHE_SIZE)
_VERIFY_CACHE: _BoundedCache[tuple[str, str], tuple[bool | None, str]] = _BoundedCache(CACHE_SIZE)


def cache_stats() -> dict[str, int]:
    """Hit/miss counters of the parse cache, for benchmarks and diagnostics."""
    return {"size": len(_PARSE_CACHE), "hits": _PARSE_CACHE.hits, "misses": _PARSE_CACHE.misses}


def clear_caches() -> None:
    _PARSE_CACHE.clear()
    _VERIFY_CACHE.clear()
    _CLIENT_CHECK_CACHE.clear()
    _FMT_TIME_CACHE.clear()


# --------------------------------------------------------------------------- names


def _norm_value(value: str | bytes) -> str:
    """RFC 5280 §7.1-style comparison form: case-folded, whitespace collapsed."""
    if isinstance(value, bytes):
        return "#" + value.hex()
    return " ".join(value.split()).casefold()


def name_key(name: x509.Name) -> tuple:
    """Comparison key for a Name (RDN order kept, attributes in an RDN unordered)."""
    return tuple(tuple(sorted((attr.oid.dotted_string, _norm_value(attr.value)) for attr in rdn)) for rdn in name.rdns)


def _first_cn(name: x509.Name) -> str | None:
    try:
        attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    except Exception:  # noqa: BLE001 - odd encodings must not abort parsing
        return None
    if not attrs:
        return None
    value = attrs[0].value
    return value if isinstance(value, str) else value.hex()


class _DerError(ValueError):
    pass


def _read_tlv(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """Read one DER TLV at ``pos``; return (tag, content_start, content_end)."""
    if pos + 2 > end:
        raise _DerError("truncated TLV header")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise _DerError("high tag numbers are not used in names")
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4:
            raise _DerError("indefinite or oversized length")
        if pos + count > end:
            raise _DerError("truncated length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > end:
        raise _DerError("length runs past the end of the data")
    return tag, pos, pos + length


def _decode_oid(body: bytes) -> str:
    if not body:
        raise _DerError("empty OID")
    arcs: list[int] = []
    value = 0
    for byte in body:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if body[-1] & 0x80:
        raise _DerError("unterminated OID arc")
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(a) for a in head + arcs[1:])


_STRING_DECODERS: dict[int, str] = {
    0x0C: "utf-8",  # UTF8String
    0x12: "ascii",  # NumericString
    0x13: "ascii",  # PrintableString
    0x14: "latin-1",  # TeletexString (commonly Latin-1 in practice)
    0x16: "ascii",  # IA5String
    0x1A: "ascii",  # VisibleString
    0x1C: "utf-32-be",  # UniversalString
    0x1E: "utf-16-be",  # BMPString
}


def _parse_name_der(der: bytes) -> list[list[tuple[str, int, str | bytes, bytes]]]:
    """Minimal DER walk of a Name: RDNs of (oid, tag, decoded value, raw TLV)."""
    tag, start, end = _read_tlv(der, 0, len(der))
    if tag != 0x30:
        raise _DerError("a Name must be a SEQUENCE")
    if end != len(der):
        raise _DerError("trailing bytes after the Name")
    rdns: list[list[tuple[str, int, str | bytes, bytes]]] = []
    pos = start
    while pos < end:
        set_tag, set_start, set_end = _read_tlv(der, pos, end)
        if set_tag != 0x31:
            raise _DerError("an RDN must be a SET")
        attrs: list[tuple[str, int, str | bytes, bytes]] = []
        apos = set_start
        while apos < set_end:
            seq_tag, seq_start, seq_end = _read_tlv(der, apos, set_end)
            if seq_tag != 0x30:
                raise _DerError("an attribute must be a SEQUENCE")
            oid_tag, oid_start, oid_end = _read_tlv(der, seq_start, seq_end)
            if oid_tag != 0x06:
                raise _DerError("an attribute type must be an OID")
            oid = _decode_oid(der[oid_start:oid_end])
            val_tag, val_start, val_end = _read_tlv(der, oid_end, seq_end)
            raw_tlv = der[oid_end:val_end]
            body = der[val_start:val_end]
            codec = _STRING_DECODERS.get(val_tag)
            value: str | bytes
            if codec is not None:
                try:
                    value = body.decode(codec)
                except UnicodeDecodeError:
                    value = raw_tlv
            else:
                value = raw_tlv
            attrs.append((oid, val_tag, value, raw_tlv))
            apos = seq_end
        if not attrs:
            raise _DerError("empty RDN")
        rdns.append(attrs)
        pos = set_end
    return rdns


def _attr_rfc4514(oid: str, tag: int, value: str | bytes, raw_tlv: bytes) -> str:
    """Format like cryptography prints certificate names; '#hex' for non-string values."""
    if isinstance(value, str):
        try:
            from cryptography.x509.name import _ASN1Type

            asn1_type = _ASN1Type(tag)
        except (ImportError, ValueError):
            asn1_type = None
        try:
            try:
                attr = x509.NameAttribute(x509.ObjectIdentifier(oid), value, asn1_type, _validate=False)
            except TypeError:  # older cryptography without _validate
                attr = x509.NameAttribute(x509.ObjectIdentifier(oid), value, asn1_type)
            return attr.rfc4514_string()
        except Exception:  # noqa: BLE001, S110 - value not representable: use the generic form below
            pass
    return f"{oid}=#{raw_tlv.hex()}"


def decode_distinguished_name(der: bytes) -> str:
    """RFC 4514 string of one DER Name (e.g. from a CertificateRequest); raises ValueError."""
    rdns = _parse_name_der(bytes(der))
    return ",".join("+".join(_attr_rfc4514(*attr) for attr in rdn) for rdn in reversed(rdns))


def _name_der_key(der: bytes) -> tuple:
    rdns = _parse_name_der(bytes(der))
    return tuple(
        tuple(sorted((oid, _norm_value(value if isinstance(value, str) else raw[2:])) for oid, _t, value, raw in rdn))
        for rdn in rdns
    )


def decode_distinguished_names(ca_names: Sequence[bytes]) -> list[str]:
    """Display form of the certificate_authorities list; never raises."""
    out: list[str] = []
    for der in ca_names:
        try:
            out.append(decode_distinguished_name(der))
        except Exception as exc:  # noqa: BLE001
            out.append(f"<undecodable name: {len(der)} bytes, {exc}>")
    return out


# --------------------------------------------------------------------------- parsing

_KEY_USAGE_ATTRS = (
    ("digital_signature", "digitalSignature"),
    ("content_commitment", "nonRepudiation"),
    ("key_encipherment", "keyEncipherment"),
    ("data_encipherment", "dataEncipherment"),
    ("key_agreement", "keyAgreement"),
    ("key_cert_sign", "keyCertSign"),
    ("crl_sign", "cRLSign"),
)

_EKU_NAMES = {
    ExtendedKeyUsageOID.SERVER_AUTH.dotted_string: "serverAuth",
    ExtendedKeyUsageOID.CLIENT_AUTH.dotted_string: "clientAuth",
    ExtendedKeyUsageOID.CODE_SIGNING.dotted_string: "codeSigning",
    ExtendedKeyUsageOID.EMAIL_PROTECTION.dotted_string: "emailProtection",
    ExtendedKeyUsageOID.TIME_STAMPING.dotted_string: "timeStamping",
    ExtendedKeyUsageOID.OCSP_SIGNING.dotted_string: "OCSPSigning",
    "2.5.29.37.0": "anyExtendedKeyUsage",
    "1.3.6.1.4.1.311.10.3.3": "msSGC",
    "2.16.840.1.113730.4.1": "nsSGC",
}

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


_ECDSA_SIG_OIDS = frozenset(
    {"1.2.840.10045.4.1", "1.2.840.10045.4.3.1", "1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3", "1.2.840.10045.4.3.4"}
)
_RSA_PKCS1_SIG_OIDS = frozenset(
    {"1.2.840.113549.1.1." + str(n) for n in (2, 3, 4, 5, 11, 12, 13, 14)} | {"1.3.14.3.2.29"}
)


def _oid_name(oid: x509.ObjectIdentifier) -> str:
    name = getattr(oid, "_name", "Unknown OID")
    return oid.dotted_string if not name or name == "Unknown OID" else name


def _cert_time(cert: x509.Certificate, which: str) -> datetime:
    utc_value = getattr(cert, which + "_utc", None)  # cryptography >= 42
    if utc_value is not None:
        return utc_value
    return _utc(getattr(cert, which))


def _general_name_text(gn: x509.GeneralName) -> str:
    if isinstance(gn, x509.RFC822Name):
        return "email:" + gn.value
    if isinstance(gn, x509.UniformResourceIdentifier):
        return "URI:" + gn.value
    if isinstance(gn, x509.DirectoryName):
        return "DirName:" + gn.value.rfc4514_string()
    if isinstance(gn, x509.RegisteredID):
        return "RID:" + gn.value.dotted_string
    if isinstance(gn, x509.OtherName):
        return "othername:" + gn.type_id.dotted_string
    if isinstance(gn, x509.DNSName):
        return "DNS:" + gn.value
    if isinstance(gn, x509.IPAddress):
        return "IP:" + str(gn.value)
    return repr(gn)


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


def _lenient_extensions(tbs: bytes, fields: dict[str, Any]) -> bool:
    """Read SAN, EKU and basicConstraints by hand when cryptography rejects the extension block.

    Real certificates with small DER faults (e.g. basicConstraints CA:FALSE encoded explicitly)
    are accepted by OpenSSL; reading the identity fields lets hostname and EKU checks still run.
    """
    try:
        _t, start, end = _read_tlv(tbs, 0, len(tbs))
        pos, ext_block = start, None
        while pos < end:
            tag, body, nxt = _read_tlv(tbs, pos, end)
            if tag == 0xA3:
                ext_block = (body, nxt)
            pos = nxt
        if ext_block is None:
            return False
        _t, seq_start, seq_end = _read_tlv(tbs, *ext_block)
        pos = seq_start
        while pos < seq_end:
            _t, ext_start, ext_end = _read_tlv(tbs, pos, seq_end)
            pos = ext_end
            _t, oid_start, oid_end = _read_tlv(tbs, ext_start, ext_end)
            oid = _decode_oid(tbs[oid_start:oid_end])
            tag, vstart, vend = _read_tlv(tbs, oid_end, ext_end)
            if tag == 0x01:  # critical flag
                tag, vstart, vend = _read_tlv(tbs, vend, ext_end)
            value = tbs[vstart:vend]
            if oid == "2.5.29.17":
                dns, ips, other = [], [], []
                _t, gstart, gend = _read_tlv(value, 0, len(value))
                while gstart < gend:
                    gtag, bstart, bend = _read_tlv(value, gstart, gend)
                    gname = value[bstart:bend]
                    if gtag == 0x82:
                        dns.append(gname.decode("ascii", "replace"))
                    elif gtag == 0x87 and len(gname) in (4, 16):
                        ips.append(str(ipaddress.ip_address(gname)))
                    else:
                        other.append(f"tag{gtag & 0x1F}:{gname.hex()}")
                    gstart = bend
                fields.update(san_dns=tuple(dns), san_ip=tuple(ips), san_other=tuple(other))
            elif oid == "2.5.29.37":
                ekus = []
                _t, estart, eend = _read_tlv(value, 0, len(value))
                while estart < eend:
                    _t, ostart, oend = _read_tlv(value, estart, eend)
                    dotted = _decode_oid(value[ostart:oend])
                    ekus.append(_EKU_NAMES.get(dotted, dotted))
                    estart = oend
                fields["extended_key_usage"] = tuple(ekus)
            elif oid == "2.5.29.19":
                _t, bstart, bend = _read_tlv(value, 0, len(value))
                ca, path_len = False, None
                while bstart < bend:
                    btag, cstart, cend = _read_tlv(value, bstart, bend)
                    if btag == 0x01:
                        ca = value[cstart:cend] != b"\x00"
                    elif btag == 0x02:
                        path_len = int.from_bytes(value[cstart:cend], "big")
                    bstart = cend
                fields.update(basic_constraints_ca=ca, basic_constraints_path_len=path_len)
        return True
    except (_DerError, ValueError, IndexError):
        return False


def _extensions(cert: x509.Certificate, fields: dict[str, Any], errors: list[str]) -> None:
    try:
        exts = cert.extensions
    except Exception as exc:  # noqa: BLE001
        try:
            lenient = _lenient_extensions(cert.tbs_certificate_bytes, fields)
        except Exception:  # noqa: BLE001
            lenient = False
        if lenient:
            errors.append(f"extensions: {exc} (subjectAltName, extendedKeyUsage and basicConstraints read leniently)")
            fields["extensions_read"] = "partial"
        else:
            errors.append(f"extensions: {exc}")
            fields["extensions_read"] = "none"
        return

    # Extension values by class, the first of each (cryptography rejects duplicates anyway):
    # what get_extension_for_class finds, without an isinstance scan of all of them per class.
    by_class: dict[type, Any] = {}
    for ext in exts:
        by_class.setdefault(type(ext.value), ext.value)
    get = by_class.get

    san = get(x509.SubjectAlternativeName)
    if san is not None:
        dns, ips, other = [], [], []
        for gn in san:
            if isinstance(gn, x509.DNSName):
                dns.append(gn.value)
            elif isinstance(gn, x509.IPAddress):
                ips.append(str(gn.value))
            else:
                other.append(_general_name_text(gn))
        fields.update(san_dns=tuple(dns), san_ip=tuple(ips), san_other=tuple(other))
    bc = get(x509.BasicConstraints)
    if bc is not None:
        fields.update(basic_constraints_ca=bc.ca, basic_constraints_path_len=bc.path_length)
    ku = get(x509.KeyUsage)
    if ku is not None:
        usages = [name for attr, name in _KEY_USAGE_ATTRS if getattr(ku, attr)]
        if ku.key_agreement:
            if ku.encipher_only:
                usages.append("encipherOnly")
            if ku.decipher_only:
                usages.append("decipherOnly")
        fields["key_usage"] = tuple(usages)
    eku = get(x509.ExtendedKeyUsage)
    if eku is not None:
        fields["extended_key_usage"] = tuple(_EKU_NAMES.get(o.dotted_string, o.dotted_string) for o in eku)
    ski = get(x509.SubjectKeyIdentifier)
    if ski is not None:
        fields["subject_key_id"] = ski.digest.hex()
    aki = get(x509.AuthorityKeyIdentifier)
    if aki is not None and aki.key_identifier is not None:
        fields["authority_key_id"] = aki.key_identifier.hex()
    aia = get(x509.AuthorityInformationAccess)
    if aia is not None:
        issuers, ocsp = [], []
        for desc in aia:
            if not isinstance(desc.access_location, x509.UniformResourceIdentifier):
                continue
            if desc.access_method == AuthorityInformationAccessOID.CA_ISSUERS:
                issuers.append(desc.access_location.value)
            elif desc.access_method == AuthorityInformationAccessOID.OCSP:
                ocsp.append(desc.access_location.value)
        fields.update(aia_ca_issuers=tuple(issuers), aia_ocsp=tuple(ocsp))
    crl = get(x509.CRLDistributionPoints)
    if crl is not None:
        urls = [gn.value for dp in crl for gn in (dp.full_name or []) if isinstance(gn, x509.UniformResourceIdentifier)]
        fields["crl_distribution_points"] = tuple(urls)
    try:
        fields["unknown_critical_extensions"] = tuple(
            ext.oid.dotted_string for ext in exts if ext.critical and isinstance(ext.value, x509.UnrecognizedExtension)
        )
    except Exception as exc:  # noqa: BLE001
        errors.append(f"extensions: {exc}")


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
            subject=subject_name.rfc4514_string(),
            subject_common_name=_first_cn(subject_name),
            issuer=issuer_name.rfc4514_string(),
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


# --------------------------------------------------------------------------- signatures


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
    if child.cert is None or issuer.cert is None:
        return None, "a certificate did not parse"
    key = (child.info.der_sha256, issuer.spki_sha256 or issuer.info.der_sha256)
    return _VERIFY_CACHE.get_or_compute(key, lambda: _verify_signature_uncached(child.cert, issuer.cert))  # type: ignore[arg-type]


def _spki_hash(cert: x509.Certificate) -> str:
    try:
        spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    except Exception:  # noqa: BLE001 - unusable key: fall back to the whole certificate
        spki = cert.public_bytes(Encoding.DER)
    return hashlib.sha256(spki).hexdigest()


# --------------------------------------------------------------------------- trust store

_PEM_CERT_RE = re.compile(
    rb"-----BEGIN (?:TRUSTED |X509 )?CERTIFICATE-----\s*(.+?)\s*-----END (?:TRUSTED |X509 )?CERTIFICATE-----",
    re.DOTALL,
)


class TrustStoreError(TlsDissectError, ValueError):
    """A trust store location is missing or holds no certificate."""


def _der_prefix(blob: bytes) -> bytes:
    """First DER TLV of ``blob`` (drops OpenSSL 'TRUSTED CERTIFICATE' aux data)."""
    try:
        _tag, _start, end = _read_tlv(blob, 0, len(blob))
        return blob[:end]
    except _DerError:
        return blob


def _certs_from_blob(blob: bytes) -> tuple[list[bytes], int]:
    """DER certificates in a PEM bundle or single DER file, and the count of undecodable PEM blocks."""
    ders: list[bytes] = []
    bad = 0
    matches = list(_PEM_CERT_RE.finditer(blob))
    if matches:
        for m in matches:
            try:
                ders.append(_der_prefix(base64.b64decode(b"".join(m.group(1).split()), validate=True)))
            except (binascii.Error, ValueError):
                bad += 1
    elif blob[:1] == b"\x30":
        ders.append(_der_prefix(blob))
    return ders, bad


@dataclass
class TrustStore:
    """Trust anchors (root or pinned certificates) looked up by subject name."""

    anchors: list[_Parsed]
    source: str = ""
    skipped: int = 0  # entries that did not parse
    _by_subject: dict[tuple, list[_Parsed]] = field(default_factory=dict, repr=False)
    _spki: set[tuple[tuple, str | None]] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        unique: dict[str, _Parsed] = {}
        for p in self.anchors:
            unique.setdefault(p.info.der_sha256, p)
        self.anchors = list(unique.values())
        for p in self.anchors:
            assert p.cert is not None and p.subject_key is not None
            self._by_subject.setdefault(p.subject_key, []).append(p)
            self._spki.add((p.subject_key, p.spki_sha256))

    def __len__(self) -> int:
        return len(self.anchors)

    @classmethod
    def from_ders(cls, ders: Iterable[bytes], source: str = "certificates") -> TrustStore:
        anchors, skipped = [], 0
        for der in ders:
            parsed = _parse(der)
            if parsed.cert is None:
                skipped += 1
            else:
                anchors.append(parsed)
        return cls(anchors, source, skipped)

    @classmethod
    def from_ca_file(cls, path: str | os.PathLike[str]) -> TrustStore:
        """Load a PEM bundle (or one DER certificate); raises TrustStoreError with the reason."""
        p = Path(path)
        try:
            blob = p.read_bytes()
        except OSError as exc:
            raise TrustStoreError(f"cannot read CA file {p}: {exc.strerror or exc}") from exc
        ders, bad = _certs_from_blob(blob)
        store = cls.from_ders(ders, source=str(p))
        store.skipped += bad
        if not store.anchors:
            raise TrustStoreError(f"CA file {p} holds no readable certificate")
        return store

    @classmethod
    def from_ca_path(cls, path: str | os.PathLike[str]) -> TrustStore:
        """Load every certificate file in a directory (PEM or DER, c_rehash links included)."""
        p = Path(path)
        if not p.is_dir():
            raise TrustStoreError(f"CA path {p} is not a directory")
        ders: list[bytes] = []
        bad = 0
        for entry in sorted(p.iterdir()):
            try:
                if not entry.is_file() or entry.stat().st_size > 8 * 1024 * 1024:
                    continue
                blob = entry.read_bytes()
            except OSError:
                bad += 1
                continue
            found, skipped = _certs_from_blob(blob)
            ders.extend(found)
            bad += skipped
        store = cls.from_ders(ders, source=str(p))
        store.skipped += bad
        if not store.anchors:
            raise TrustStoreError(f"CA path {p} holds no readable certificate")
        return store

    @classmethod
    def system(cls) -> TrustStore:
        """The operating system bundle, else certifi's; opt-in because it is not the capture's client."""
        for candidate in (
            "/etc/ssl/certs/ca-certificates.crt",
            "/etc/pki/tls/certs/ca-bundle.crt",
            "/etc/ssl/cert.pem",
        ):
            if os.path.isfile(candidate):
                return cls.from_ca_file(candidate)
        try:
            import certifi  # type: ignore[import-not-found]

            return cls.from_ca_file(certifi.where())
        except ImportError as exc:
            raise TrustStoreError("no system CA bundle found and certifi is not installed") from exc

    def contains(self, parsed: _Parsed) -> bool:
        """The certificate is an anchor (same subject and key, as RFC 5280 trust anchors are)."""
        if parsed.cert is None or parsed.subject_key is None:
            return False
        return (parsed.subject_key, parsed.spki_sha256) in self._spki

    def find_issuer(self, parsed: _Parsed) -> _Parsed | None:
        """An anchor whose name and key issued ``parsed``."""
        if parsed.cert is None or parsed.issuer_key is None:
            return None
        for anchor in self._by_subject.get(parsed.issuer_key, []):
            if _verify_pair(parsed, anchor)[0] is True:
                return anchor
        return None


# --------------------------------------------------------------------------- chain analysis


def _duration(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 120:
        n, unit = int(seconds), "second"
    elif seconds < 2 * 3600:
        n, unit = int(seconds // 60), "minute"
    elif seconds < 2 * 86400:
        n, unit = int(seconds // 3600), "hour"
    else:
        n, unit = int(seconds // 86400), "day"
    return f"{n} {unit}{'' if n == 1 else 's'}"


_FMT_TIME_CACHE: dict[tuple[int, ...], str] = {}
_FMT_TIME_CACHE_MAX = 4096  # whole seconds remembered (cleared when full)


def _fmt_time(value: datetime) -> str:
    """UTC to the second; remembered because every connection quotes its capture time and a
    busy capture packs hundreds of them into each second."""
    utc = _utc(value)
    # Keyed on exactly the fields shown (a tuple hashes several times faster than a datetime).
    key = (utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second)
    text = _FMT_TIME_CACHE.get(key)
    if text is None:
        if len(_FMT_TIME_CACHE) >= _FMT_TIME_CACHE_MAX:
            _FMT_TIME_CACHE.clear()
        text = _FMT_TIME_CACHE[key] = utc.strftime("%Y-%m-%d %H:%M:%S UTC")
    return text


_fromtimestamp = datetime.fromtimestamp
_UTC = timezone.utc
_GAP_LIMIT = timedelta(seconds=2e9)  # see Retimer.__call__


def _to_datetime(at: datetime | float) -> datetime:
    """The capture time as aware UTC; a clear TypeError for anything that is not a time."""
    if isinstance(at, datetime):
        return _utc(at)
    if isinstance(at, (int, float)) and not isinstance(at, bool):
        try:
            return datetime.fromtimestamp(float(at), tz=timezone.utc)
        except (OverflowError, OSError, ValueError) as exc:
            raise TypeError(f"capture time {at!r} is not a usable epoch time: {exc}") from exc
    raise TypeError(f"capture time must be a datetime or epoch seconds, not {type(at).__name__}")


class _ChainContext:
    """Bookkeeping shared by the chain checks."""

    def __init__(self, parsed: list[_Parsed], role: Role) -> None:
        self.parsed = parsed
        self.role = role
        self.findings: list[ChainFinding] = []

    def add(self, fid: str, severity: Severity, text: str, certs: Iterable[int] = ()) -> None:
        self.findings.append(ChainFinding(fid, severity, text, tuple(certs)))

    def who(self, index: int) -> str:
        return _who(self.role, index, self.parsed[index].info)


def _who(role: str, index: int, info: CertificateInfo) -> str:
    if index == 0:
        return f"the {role}'s certificate {info.label}"
    return f"certificate #{index} ({info.label}) in the {role}'s chain"


def _issuer_url_text(info: CertificateInfo) -> str:
    if info.aia_ca_issuers:
        return "issuer URL " + ", ".join(info.aia_ca_issuers)
    return "the certificate gives no issuer URL"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


VALIDITY_FINDINGS = ("expired", "not_yet_valid")  # the findings that quote the capture time


def _validity_gap(fid: str, info: CertificateInfo, at: datetime) -> float | None:
    """Seconds by which ``at`` lies outside the validity period on the side of finding ``fid``
    (VALIDITY_FINDINGS); None when the certificate is not in that state at ``at``."""
    if fid == "expired" and info.not_after is not None and at > info.not_after:
        return (at - info.not_after).total_seconds()
    if fid == "not_yet_valid" and info.not_before is not None and at < info.not_before:
        return (info.not_before - at).total_seconds()
    return None


def _validity_wording(fid: str, info: CertificateInfo, who: str) -> tuple[str, str, str]:
    """The text of validity finding ``fid`` around its two time-dependent parts: the text is
    head + how long + middle + capture time + tail."""
    if fid == "expired":
        return (f"{who} expired ", f" before the capture (not valid after {_fmt_time(info.not_after)}; "  # type: ignore[arg-type]
                "capture time ", ").")
    return (f"{who} becomes valid only ", f" after the capture (not valid before {_fmt_time(info.not_before)}; "  # type: ignore[arg-type]
            "capture time ", "); check the clocks of the client, of the capturing host and of the machine "
            "that issued the certificate.")


def _validity_text(fid: str, info: CertificateInfo, who: str, at: datetime) -> str | None:
    """The text of validity finding ``fid`` of one certificate at time ``at``; None when the
    certificate is not in that state then."""
    gap = _validity_gap(fid, info, at)
    if gap is None:
        return None
    head, middle, tail = _validity_wording(fid, info, who)
    return head + _duration(gap) + middle + _fmt_time(at) + tail


def _validity_findings(info: CertificateInfo, who: str, at: datetime) -> list[tuple[str, str]]:
    """(id, text) of the validity-period findings of one certificate at time ``at``."""
    out = []
    for fid in VALIDITY_FINDINGS:
        text = _validity_text(fid, info, who, at)
        if text is not None:
            out.append((fid, text))
    return out


def _with_findings(analysis: ChainAnalysis, findings: list[ChainFinding]) -> ChainAnalysis:
    """``replace(analysis, findings=findings)`` without its walk over the fields: ChainAnalysis
    has no __post_init__, so its attributes with other findings are what replace builds."""
    new = object.__new__(ChainAnalysis)
    new.__dict__.update(analysis.__dict__)
    new.findings = findings
    return new


def _with_text(finding: ChainFinding, text: str) -> ChainFinding:
    """``ChainFinding(finding.id, finding.severity, text, finding.certificates)`` without the
    frozen dataclass's one object.__setattr__ call per field."""
    new = object.__new__(ChainFinding)
    attrs = new.__dict__
    attrs.update(finding.__dict__)
    attrs["text"] = text
    return new


class Retimer:
    """One analysis with its validity findings worded for the capture time it is called with.

    A cache (enrich.py) reuses an analysis at other instants of the same span — where the same
    certificates are expired or not yet valid — so each connection's report quotes its own
    capture time and how long before it the certificate expired. Only those two parts of the
    texts change, and a busy capture mostly repeats the previous connection's (the time is
    quoted to the second): then the previous result is handed out again (results are shared
    read-only, as cached analyses without validity findings always were) instead of a new one."""

    __slots__ = ("analysis", "_validity", "_bounds", "_whole", "_last", "_second")

    def __init__(self, analysis: ChainAnalysis, role: str) -> None:
        self.analysis = analysis
        # (position in findings, finding, its certificate, wording around the time-dependent parts)
        self._validity = tuple(
            (pos, f, info, _validity_wording(f.id, info, _cap(_who(role, f.certificates[0], info))))
            for pos, f in enumerate(analysis.findings)
            if f.id in VALIDITY_FINDINGS and len(f.certificates) == 1
            for info in (analysis.certificates[f.certificates[0]],)
        )
        # _validity_gap's operands for each: (expired finding?, the validity bound it compares with)
        self._bounds = tuple((f.id == "expired", info.not_after if f.id == "expired" else info.not_before)
                             for _pos, f, info, _wording in self._validity)
        # When all bounds are whole UTC seconds, the parts are the same all through one second
        # of capture time (its instant .000000 excepted), see __call__; then the capture times
        # for which the bounds are all nearer than _GAP_LIMIT: (after this, before this), None
        # where there is no limit (beyond the datetime range).
        self._whole: tuple[datetime | None, datetime | None] | None = None
        bounds = [b for _expired, b in self._bounds if b is not None]
        if all(b.tzinfo is _UTC and b.microsecond == 0 for b in bounds):
            after = before = None
            if bounds:
                try:
                    after = max(bounds) - _GAP_LIMIT
                except OverflowError:
                    pass
                try:
                    before = min(bounds) + _GAP_LIMIT
                except OverflowError:
                    pass
            self._whole = (after, before)
        self._last: tuple[list[str | None], ChainAnalysis] | None = None
        # (lowest, highest capture time as a float, the result for them): see __call__
        self._second: tuple[float, float, ChainAnalysis] | None = None

    def __call__(self, at: float) -> ChainAnalysis:
        if not self._validity:
            return self.analysis
        second = self._second
        if second is not None and type(at) is float and second[0] <= at <= second[1]:
            return second[2]
        if type(at) is float:  # _to_datetime's common case, without its checks
            try:
                when = _fromtimestamp(at, _UTC)
            except (OverflowError, OSError, ValueError):
                when = _to_datetime(at)  # raises its TypeError
        else:
            when = _to_datetime(at)
        # Everything in the texts that depends on the time: equal parts, equal texts.
        # (``when`` is aware UTC here: _fmt_time's key and cache, without its conversion.)
        stamp = _FMT_TIME_CACHE.get((when.year, when.month, when.day, when.hour, when.minute, when.second))
        parts: list[str | None] = [_fmt_time(when) if stamp is None else stamp]
        for expired, bound in self._bounds:  # _validity_gap, then _duration
            if bound is None:
                parts.append(None)
            elif expired:
                parts.append(_duration((when - bound).total_seconds()) if when > bound else None)
            else:
                parts.append(_duration((bound - when).total_seconds()) if when < bound else None)
        last = self._last
        if last is not None and last[0] == parts:
            result = last[1]
        else:
            findings = list(self.analysis.findings)
            for (pos, f, _info, (head, middle, tail)), ago in zip(self._validity, parts[1:]):
                if ago is not None:
                    findings[pos] = _with_text(f, head + ago + middle + parts[0] + tail)
            result = _with_findings(self.analysis, findings)
            self._last = (parts, result)  # one assignment: safe to read from other threads
        # The same parts hold for every instant strictly inside this second when the bounds are
        # whole seconds: the capture time is quoted to the second; an "expired" gap lies in
        # (k, k+1) s and a "not yet valid" one in (k-1, k) s for one whole k, where _duration's
        # whole counts of seconds, minutes, hours or days cannot change, and which certificates
        # are out of their validity periods cannot either. Gaps under _GAP_LIMIT keep a
        # microsecond visible in the float seconds _duration reads. The float capture times
        # that fromtimestamp rounds into that open second s include [s + 2 us, s + 1 s - 2 us]
        # (times from 1970 to 2106, where a float is finer than half a microsecond); s is the
        # whole part of ``at`` when fromtimestamp did not round it up to the next second.
        second = None
        whole = self._whole
        if whole is not None and type(at) is float and 0.0 <= at < 4294967296.0 and when.microsecond \
                and (whole[0] is None or when > whole[0]) and (whole[1] is None or when < whole[1]):
            s = float(int(at))
            second = (s + 2e-6, s + 1.0 - 2e-6, result)
        self._second = second
        return result


def _per_certificate_checks(ctx: _ChainContext, index: int, at: datetime | None) -> None:
    """Checks of one certificate on its own; ``at`` None when the capture clock is not credible."""
    info = ctx.parsed[index].info
    era = at if at is not None else datetime.max.replace(tzinfo=timezone.utc)
    who = _cap(ctx.who(index))
    if at is not None:
        for fid, text in _validity_findings(info, who, at):
            ctx.add(fid, "error", text, [index])
    weak = False
    if info.key_type in ("RSA", "RSA-PSS", "DSA") and info.key_size is not None and info.key_size < MIN_RSA_DSA_BITS:
        weak = True
    if info.key_type == "EC" and info.key_size is not None and info.key_size < MIN_EC_BITS:
        weak = True
    if weak:
        then = era < WEAK_KEY_REJECTED_FROM
        ctx.add(
            "weak_key",
            "warning" if then else "error",
            f"{who} has a {info.key_size}-bit {info.key_type} key; current clients (browsers, OpenSSL at "
            f"security level 2) reject {info.key_type} keys under "
            f"{MIN_EC_BITS if info.key_type == 'EC' else MIN_RSA_DSA_BITS} bits"
            + (" (clients of the capture's time still accepted it)." if then else "."),
            [index],
        )
    if info.signature_hash in WEAK_HASHES and not info.self_signed:
        then = info.signature_hash == "sha1" and era < SHA1_REJECTED_FROM
        ctx.add(
            "weak_signature",
            "warning" if then else "error",
            f"{who} is signed with {info.signature_algorithm} ({info.signature_hash.upper()}); "
            "current clients reject certificates signed with MD5 or SHA-1"
            + (" (clients of the capture's time still accepted SHA-1)." if then else "."),
            [index],
        )
    if info.unknown_critical_extensions:
        ctx.add(
            "unknown_critical_extension",
            "warning",
            f"{who} has critical extensions clients do not know "
            f"({', '.join(info.unknown_critical_extensions)}); RFC 5280 makes them reject it.",
            [index],
        )
    if info.encoding_warnings:
        ctx.add(
            "nonconforming_encoding",
            "info" if info.self_signed else "warning",
            f"{who} breaks RFC 5280 encoding rules ({'; '.join(info.encoding_warnings)}); lenient clients "
            "accept it, strict parsers may not.",
            [index],
        )
    if info.field_errors:
        unread = (
            " Its extensions (names, key usages, constraints) could not be read, so they were not checked."
            if info.extensions_read == "none"
            else ""
        )
        ctx.add(
            "certificate_field_error",
            "warning",
            f"Parts of {ctx.who(index)} could not be decoded ({'; '.join(info.field_errors)}); strict "
            f"clients may reject it.{unread}",
            [index],
        )


def _find_issuer_in_chain(
    ctx: _ChainContext, child: int, candidates: list[int], exclude: set[int]
) -> tuple[int | None, list[tuple[int, str]], list[int]]:
    """Pick the chain certificate that issued ``child``: (index, failed candidates, unverifiable ones)."""
    child_p = ctx.parsed[child]
    names = [j for j in candidates if j not in exclude and ctx.parsed[j].subject_key == child_p.issuer_key]
    # Prefer the certificate right after the child, then an AKI/SKI match.
    aki = child_p.info.authority_key_id
    names.sort(key=lambda j: (j != child + 1, not (aki and ctx.parsed[j].info.subject_key_id == aki), j))
    failed: list[tuple[int, str]] = []
    unknown: list[int] = []
    assert child_p.cert is not None
    for j in names:
        ok, why = _verify_pair(child_p, ctx.parsed[j])
        if ok is True:
            return j, failed, unknown
        if ok is None:
            unknown.append(j)
        else:
            failed.append((j, why))
    if unknown:
        return unknown[0], failed, unknown
    return None, failed, unknown


def analyze_chain(
    ders: Sequence[bytes],
    *,
    at: datetime | float,
    server_name: str | None = None,
    role: Role = "server",
    trust: TrustStore | None = None,
) -> ChainAnalysis:
    """Explain a Certificate message's chain as a peer would have judged it at time ``at``.

    ``ders`` are the certificates in the order sent; ``at`` is the packet time (naive
    datetimes are taken as UTC; epoch seconds accepted).  Never raises on bad certificates.
    """
    if role not in ("server", "client"):
        raise ValueError(f"role must be 'server' or 'client', not {role!r}")
    try:
        when: datetime | None = _to_datetime(at)
    except TypeError:
        if isinstance(at, bool) or not isinstance(at, (int, float)) or not math.isfinite(at):
            raise
        when = None  # a finite epoch outside years 1-9999: a corrupt packet timestamp, judged as below
    parsed = [_safe_parse(d) for d in ders]
    ctx = _ChainContext(parsed, role)
    infos = [p.info for p in parsed]
    if not parsed:
        if role == "server":
            ctx.add(
                "empty_chain",
                "error",
                "The server sent an empty Certificate message: it has no certificate to prove its identity.",
            )
        else:
            ctx.add("empty_chain", "info", "The client sent an empty Certificate message (no client certificate).")
        return ChainAnalysis(infos, ctx.findings)

    for i, p in enumerate(parsed):
        if p.cert is None:
            ctx.add(
                "unparsable_certificate",
                "error",
                f"Certificate #{i} in the {role}'s chain ({p.info.der_length} bytes, sha256 "
                f"{p.info.der_sha256[:16]}…) cannot be parsed: {p.info.parse_error}.",
                [i],
            )

    # Duplicates: keep the first copy, flag the others.
    first_seen: dict[str, int] = {}
    duplicates: set[int] = set()
    for i, p in enumerate(parsed):
        if p.cert is None:
            continue
        if p.info.der_sha256 in first_seen:
            duplicates.add(i)
            j = first_seen[p.info.der_sha256]
            ctx.add(
                "duplicate_certificate",
                "warning",
                f"Certificate #{i} ({p.info.label}) is a copy of certificate #{j}; the {role} sends it twice.",
                [j, i],
            )
        else:
            first_seen[p.info.der_sha256] = i
    usable = [i for i, p in enumerate(parsed) if p.cert is not None and i not in duplicates]

    credible_time: datetime | None = when
    if when is None or when < EARLIEST_CREDIBLE_TIME:
        credible_time = None
        ctx.add(
            "capture_time_implausible",
            "info",
            f"The capture's clock reads {_fmt_time(when) if when else f'{at:.0f} s from 1970 (outside the years 1-9999)'}, "
            "so its timestamps are not real; certificate validity periods were not judged.",
        )
    for i in usable:
        _per_certificate_checks(ctx, i, credible_time)

    analysis = ChainAnalysis(infos, ctx.findings)
    if parsed[0].cert is None:
        return analysis  # no leaf to build from; per-certificate findings only

    # Build the issuer path from the leaf using names and signatures.
    path = [0]
    missing_issuer = False
    broken = False
    top_is_root = False
    while True:
        cur = path[-1]
        cur_p = parsed[cur]
        if cur_p.info.self_signed:
            top_is_root = True
            break
        issuer, failed, unknown = _find_issuer_in_chain(ctx, cur, usable, set(path))
        if issuer is None and not failed and cur_p.info.self_issued:
            # Same subject and issuer but no other certificate of that name: a root whose own
            # signature either fails or cannot be checked here.
            assert cur_p.cert is not None
            ok, why = _verify_pair(cur_p, cur_p)
            if ok is None:
                ctx.add(
                    "signature_not_checked",
                    "info",
                    f"The self-signature of {ctx.who(cur)} could not be checked here ({why}).",
                    [cur],
                )
                top_is_root = True
            else:
                broken = True
                ctx.add(
                    "bad_signature",
                    "error",
                    f"{_cap(ctx.who(cur))} names itself as issuer but its signature does not verify with "
                    f"its own key ({why}); it was altered or is not the self-signed certificate it claims to be.",
                    [cur],
                )
            break
        if issuer is None:
            if failed:
                broken = True
                for j, why in failed:
                    key_note = ""
                    aki, ski = cur_p.info.authority_key_id, parsed[j].info.subject_key_id
                    if aki and ski and aki != ski:
                        key_note = (
                            f" It was issued by a different key of that CA (authority key id {aki}, the "
                            f"sent certificate has key id {ski}): the {role} sends the wrong version of "
                            f"{parsed[j].info.label}."
                        )
                    ctx.add(
                        "bad_signature",
                        "error",
                        f"The signature on {ctx.who(cur)} does not verify with the key of its issuer "
                        f"{parsed[j].info.label} (certificate #{j}): {why}.{key_note}",
                        [cur, j],
                    )
            else:
                missing_issuer = True
            break
        if unknown and issuer in unknown:
            ctx.add(
                "signature_not_checked",
                "info",
                f"The signature on {ctx.who(cur)} by {parsed[issuer].info.label} could not be checked here "
                f"({_verify_pair(cur_p, parsed[issuer])[1]}).",
                [cur, issuer],
            )
        path.append(issuer)
    analysis.path = path

    # Order: each certificate should be followed by its issuer (RFC 5246 §7.4.2; RFC 8446 §4.4.2 SHOULD).
    sequence = usable
    for k in range(len(path) - 1):
        child, issuer = path[k], path[k + 1]
        if sequence.index(issuer) != sequence.index(child) + 1:
            after = sequence[sequence.index(child) + 1] if sequence.index(child) + 1 < len(sequence) else None
            follower = (
                f"certificate #{after} ({parsed[after].info.label}) follows it instead"
                if after is not None
                else "nothing follows it"
            )
            ctx.add(
                "wrong_order",
                "warning",
                f"Certificate #{child} ({parsed[child].info.label}) is issued by certificate #{issuer} "
                f"({parsed[issuer].info.label}), but {follower}. TLS 1.2 requires each certificate to be "
                "followed by its issuer; TLS 1.3 clients should tolerate other orders, older ones may fail.",
                [child, issuer],
            )

    # Certificates that are not part of the path.
    for i in usable:
        if i not in path and not broken:
            ctx.add(
                "unrelated_certificate",
                "warning",
                f"Certificate #{i} ({parsed[i].info.label}) does not belong to the chain of "
                f"{parsed[0].info.label}; clients ignore it or fail on it.",
                [i],
            )

    # CA constraints of the issuers on the path.
    for k in range(1, len(path)):
        idx = path[k]
        info = parsed[idx].info
        child = path[k - 1]
        if info.self_signed and info.version == "v1":
            pass  # legacy v1 roots carry no extensions; clients accept them as anchors
        elif info.basic_constraints_ca is not True:
            ctx.add(
                "not_a_ca",
                "error",
                f"Certificate #{idx} ({info.label}) issued {parsed[child].info.label} but is not a CA "
                'certificate (no basicConstraints CA:TRUE); clients reject the chain ("invalid CA certificate").',
                [idx, child],
            )
        elif info.key_usage is not None and "keyCertSign" not in info.key_usage:
            ctx.add(
                "not_a_ca",
                "error",
                f"Certificate #{idx} ({info.label}) issued {parsed[child].info.label} but its key usage "
                f"({', '.join(info.key_usage) or 'empty'}) lacks keyCertSign; clients reject the chain.",
                [idx, child],
            )
        below = sum(1 for m in path[1:k] if not parsed[m].info.self_issued)
        if info.basic_constraints_path_len is not None and below > info.basic_constraints_path_len:
            ctx.add(
                "path_len_exceeded",
                "error",
                f"Certificate #{idx} ({info.label}) allows at most {info.basic_constraints_path_len} "
                f"intermediate CA(s) below it (pathLenConstraint) but the chain has {below}.",
                [idx],
            )

    leaf = parsed[0].info
    top = path[-1]
    top_info = parsed[top].info

    # Trust evaluation.
    anchor_name: str | None = None
    if trust is not None:
        for idx in path:
            if trust.contains(parsed[idx]):
                anchor_name = parsed[idx].info.subject
                break
            anchor = trust.find_issuer(parsed[idx])
            if anchor is not None:
                anchor_name = anchor.info.subject
                break
        analysis.trust = "trusted" if anchor_name is not None else "untrusted_root"
        analysis.trust_anchor = anchor_name
        if anchor_name is not None:
            ctx.add(
                "trusted",
                "info",
                f"The chain of {leaf.label} leads to the trust anchor {anchor_name} ({trust.source}).",
                path,
            )

    if top_is_root:
        if len(path) == 1:
            ctx.add(
                "self_signed_leaf",
                "warning" if anchor_name else "error",
                f"The {role} sent a self-signed certificate {leaf.label}; peers accept it only if they "
                "have pinned or imported exactly this certificate.",
                [0],
            )
        else:
            ctx.add(
                "root_included",
                "info",
                f"The {role} also sends the self-signed root {top_info.label} (certificate #{top}); "
                "peers must already have it, so sending it only costs bytes.",
                [top],
            )
        if trust is not None and anchor_name is None:
            ctx.add(
                "untrusted_root",
                "error",
                f"The chain of {leaf.label} ends at the self-signed {top_info.label}, which is not in the "
                f"trust store ({trust.source}).",
                [top],
            )
    elif missing_issuer:
        if trust is not None and anchor_name is None and top_info.basic_constraints_ca is True:
            ctx.add(
                "untrusted_root",
                "error",
                f"The chain of {leaf.label} ends at the CA {top_info.label}, whose issuer "
                f"{top_info.issuer_label} is neither in the chain nor in the trust store ({trust.source}): "
                f"that root is not trusted, or an intermediate is missing ({_issuer_url_text(top_info)}).",
                [top],
            )
        elif trust is not None and anchor_name is None:
            ctx.add(
                "chain_incomplete",
                "error",
                _incomplete_text(role, parsed, path) + " It is neither in the chain nor in the trust store "
                f"({trust.source}).",
                [top],
            )
        elif trust is None and top_info.basic_constraints_ca is not True:
            ctx.add(
                "chain_incomplete",
                "warning",
                _incomplete_text(role, parsed, path)
                + " Clients that do not fetch missing intermediates (OpenSSL, curl, Java, most non-browser"
                ' clients) fail with "unable to get local issuer certificate" unless that issuer is a root'
                " they trust.",
                [top],
            )

    # Identity checks on the leaf.
    extensions_unreadable = leaf.extensions_read == "none"
    if role == "server" and server_name and not extensions_unreadable:
        result = match_hostname(
            server_name, dns_names=leaf.san_dns, ip_addresses=leaf.san_ip, common_name=leaf.subject_common_name
        )
        if not result.matched and parse_ip_literal(server_name) is not None:
            dns_note = f" (it names {', '.join(leaf.san_dns)})" if leaf.san_dns else ""
            ctx.add(
                "hostname_mismatch",
                "error",
                f"The server's certificate {leaf.label} is not valid for the IP address {server_name}: "
                f"{result.reason}{dns_note}.",
                [0],
            )
        elif not result.matched:
            names = ", ".join(result.checked_identities) or "no name at all"
            source = "its common name (it has no DNS SAN)" if result.used_common_name else "its SAN entries"
            ctx.add(
                "hostname_mismatch",
                "error",
                f"The server's certificate {leaf.label} is valid for {names} ({source}), not for the "
                f"requested name {server_name}"
                + (f" ({result.reason})." if result.reason and result.reason != "no entry matches" else "."),
                [0],
            )
        elif result.used_common_name:
            ctx.add(
                "hostname_cn_only",
                "warning",
                f"The server's certificate {leaf.label} names {server_name} only in its common name and has "
                "no subjectAltName; browsers and RFC 6125 clients ignore the common name and reject it.",
                [0],
            )
    wanted = "serverAuth" if role == "server" else "clientAuth"
    if (
        not extensions_unreadable
        and leaf.extended_key_usage is not None
        and not (wanted in leaf.extended_key_usage or "anyExtendedKeyUsage" in leaf.extended_key_usage)
    ):
        ctx.add(
            f"eku_not_{'server' if role == 'server' else 'client'}_auth",
            "error",
            f"The {role}'s certificate {leaf.label} is not allowed for TLS {role} authentication: its extended "
            f"key usage lists {', '.join(leaf.extended_key_usage) or 'nothing'} but not {wanted}.",
            [0],
        )
    return analysis


def _incomplete_text(role: str, parsed: list[_Parsed], path: list[int]) -> str:
    top = parsed[path[-1]].info
    if len(path) == 1:
        return (
            f"The {role} sent only {top.label}; its issuer {top.issuer_label} is missing from the chain "
            f"({_issuer_url_text(top)})."
        )
    sent = " → ".join(parsed[i].info.label for i in path)
    return (
        f"The {role}'s chain ({sent}) stops at {top.label}; its issuer {top.issuer_label} is missing from "
        f"the chain ({_issuer_url_text(top)})."
    )


# --------------------------------------------------------------------------- client certificates

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
        keys: dict[tuple, str] = {}
        for der, text in zip(ca_names, requested):
            try:
                keys[_name_der_key(der)] = text
            except Exception:  # noqa: BLE001 - already shown as undecodable
                continue
        match: tuple[int, str, str] | None = None
        for i, p in usable:
            if p.issuer_key in keys:
                match = (i, "issued by", keys[p.issuer_key])  # type: ignore[index]
                break
            if p.subject_key in keys:
                match = (i, "is", keys[p.subject_key])  # type: ignore[index]
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
