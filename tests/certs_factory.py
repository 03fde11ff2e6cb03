"""Build test certificates with cryptography, so each test knows the truth by construction.

Keys are cached per (kind, slot) because RSA generation is the slow part; EC P-256
is the default to keep the suite fast.  All validity periods are relative to
``REF_TIME``, a fixed instant that tests pass as the capture time.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

REF_TIME = datetime(2026, 6, 1, 12, 0, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


@functools.cache
def make_key(kind: str = "ec256", slot: int = 0) -> Any:
    """A private key of ``kind``; ``slot`` gives distinct keys of the same kind."""
    del slot  # only part of the cache key
    if kind == "ec256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ec384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "ec192":
        return ec.generate_private_key(ec.SECP192R1())
    if kind == "rsa2048":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "rsa1024":
        return rsa.generate_private_key(public_exponent=65537, key_size=1024)
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(kind)


def name(cn: str | None, org: str | None = None) -> x509.Name:
    attrs = []
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    if cn is not None:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


@dataclass
class Issued:
    """A built certificate with the key that belongs to it."""

    cert: x509.Certificate
    key: Any

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def build(
    cn: str | None,
    *,
    issuer: Issued | None = None,
    key: Any = None,
    subject: x509.Name | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    dns: Sequence[str] = (),
    ips: Sequence[str] = (),
    ca: bool | None = None,
    path_len: int | None = None,
    eku: Sequence[x509.ObjectIdentifier] | None = None,
    key_cert_sign: bool | None = None,
    hash_alg: hashes.HashAlgorithm | None = None,
    pss: bool = False,
    aia_issuer_url: str | None = None,
    ocsp_url: str | None = None,
    crl_url: str | None = None,
    serial: int | None = None,
    ski: bool = True,
    signer_key: Any = None,
) -> Issued:
    """One certificate; self-signed when ``issuer`` is None.

    ``signer_key`` overrides the key that signs (to forge a bad signature).
    """
    key = key if key is not None else make_key()
    subj = subject if subject is not None else name(cn)
    if signer_key is None:
        signer_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subj)
        .issuer_name(issuer.cert.subject if issuer else subj)
        .public_key(key.public_key())
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(not_before or REF_TIME - 30 * DAY)
        .not_valid_after(not_after or REF_TIME + 60 * DAY)
    )
    if dns or ips:
        sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
        sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=path_len), critical=True)
    if key_cert_sign is not None:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=key_cert_sign,
                crl_sign=key_cert_sign,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if ski:
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        if issuer is not None:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()), critical=False
            )
    access = []
    if aia_issuer_url:
        access.append(
            x509.AccessDescription(
                AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(aia_issuer_url)
            )
        )
    if ocsp_url:
        access.append(
            x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))
        )
    if access:
        builder = builder.add_extension(x509.AuthorityInformationAccess(access), critical=False)
    if crl_url:
        builder = builder.add_extension(
            x509.CRLDistributionPoints(
                [x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)]
            ),
            critical=False,
        )
    if isinstance(signer_key, ed25519.Ed25519PrivateKey):
        cert = builder.sign(signer_key, None)
    elif pss:
        cert = builder.sign(
            signer_key,
            hash_alg or hashes.SHA256(),
            rsa_padding=padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
        )
    else:
        cert = builder.sign(signer_key, hash_alg or hashes.SHA256())
    return Issued(cert, key)


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(body)) + body


def _children(der: bytes) -> list[bytes]:
    """Raw child TLVs of the DER SEQUENCE ``der`` (definite lengths only: our own output)."""

    def header(pos: int) -> tuple[int, int]:
        first = der[pos + 1]
        if first < 0x80:
            return pos + 2, first
        count = first & 0x7F
        return pos + 2 + count, int.from_bytes(der[pos + 2 : pos + 2 + count], "big")

    start, length = header(0)
    out, pos = [], start
    while pos < start + length:
        body, n = header(pos)
        out.append(der[pos : body + n])
        pos = body + n
    return out


# Signature AlgorithmIdentifiers (RFC 5758 §3.2, RFC 3279 §2.2) for digests cryptography refuses to sign with.
ECDSA_WITH_SHA1 = bytes.fromhex("300906072a8648ce3d0401")
SHA1_WITH_RSA = bytes.fromhex("300d06092a864886f70d0101050500")
MD5_WITH_RSA = bytes.fromhex("300d06092a864886f70d0101040500")


def resign_legacy(issued: Issued, signer_key: Any, algorithm_id: bytes, digest: hashes.HashAlgorithm) -> bytes:
    """Re-sign a certificate with a legacy digest (SHA-1, MD5) the builder no longer allows.

    Rebuilds TBSCertificate with ``algorithm_id`` in its signature field (RFC 5280 §4.1.2.3)
    and signs it with hazmat primitives; returns the new DER.
    """
    tbs_fields = _children(_children(issued.der)[0])
    tbs_fields[2] = algorithm_id
    tbs = _tlv(0x30, b"".join(tbs_fields))
    if isinstance(signer_key, ec.EllipticCurvePrivateKey):
        signature = signer_key.sign(tbs, ec.ECDSA(digest))
    else:
        signature = signer_key.sign(tbs, padding.PKCS1v15(), digest)
    return _tlv(0x30, tbs + algorithm_id + _tlv(0x03, b"\x00" + signature))


SERVER_AUTH = [ExtendedKeyUsageOID.SERVER_AUTH]
CLIENT_AUTH = [ExtendedKeyUsageOID.CLIENT_AUTH]


@dataclass
class LabPKI:
    """Root → intermediate → leaf for www.lab.test, plus the pieces tests vary."""

    root: Issued
    intermediate: Issued
    leaf: Issued

    @property
    def chain(self) -> list[bytes]:
        """What a well-configured server sends: leaf then intermediate (root omitted)."""
        return [self.leaf.der, self.intermediate.der]


@functools.cache
def lab_pki() -> LabPKI:
    root = build("Lab Root CA", key=make_key("ec384", 1), ca=True, key_cert_sign=True)
    inter = build(
        "Lab Intermediate CA",
        issuer=root,
        key=make_key("ec256", 2),
        ca=True,
        path_len=0,
        key_cert_sign=True,
        aia_issuer_url="http://pki.lab.test/root.der",
    )
    leaf = build(
        "www.lab.test",
        issuer=inter,
        key=make_key("ec256", 3),
        dns=["www.lab.test", "lab.test"],
        ca=False,
        eku=SERVER_AUTH,
        aia_issuer_url="http://pki.lab.test/intermediate.der",
        ocsp_url="http://ocsp.lab.test",
        crl_url="http://pki.lab.test/intermediate.crl",
    )
    return LabPKI(root, inter, leaf)


def leaf_variant(cn: str = "www.lab.test", **kwargs: Any) -> Issued:
    """A leaf issued by the lab intermediate with some property changed."""
    pki = lab_pki()
    kwargs.setdefault("dns", ["www.lab.test"] if cn == "www.lab.test" else [])
    kwargs.setdefault("ca", False)
    kwargs.setdefault("eku", SERVER_AUTH)
    kwargs.setdefault("key", make_key("ec256", 10))
    return build(cn, issuer=pki.intermediate, **kwargs)
