"""Distinguished names: comparison keys, common names, and the RFC 4514 text of raw DER names.

A certificate's names come decoded by ``cryptography``; the CA names of a CertificateRequest are
bare DER, walked here with the minimal reader of ``der``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from tlsdissect.x509.der import _decode_oid, _DerError, _read_tlv

# A Name's comparison form: per RDN (in order), its (dotted OID, normalised value) pairs, sorted.
NameKey = tuple[tuple[tuple[str, str], ...], ...]


# Attribute types cryptography prints as bare OIDs, by the short names OpenSSL prints
# (crypto/objects/objects.txt; `openssl x509 -nameopt RFC2253` shows them): a person reading
# "2.5.4.5=..." has to look it up. The types cryptography names itself (CN, L, ST, O, OU, C,
# STREET, DC, UID) keep its names. tests/test_x509_names.py checks these against openssl.
OPENSSL_ATTRIBUTE_NAMES: dict[str, str] = {
    "2.5.4.4": "SN", "2.5.4.5": "serialNumber", "2.5.4.12": "title", "2.5.4.13": "description",
    "2.5.4.15": "businessCategory", "2.5.4.16": "postalAddress", "2.5.4.17": "postalCode",
    "2.5.4.18": "postOfficeBox", "2.5.4.20": "telephoneNumber", "2.5.4.41": "name", "2.5.4.42": "GN",
    "2.5.4.43": "initials", "2.5.4.44": "generationQualifier", "2.5.4.45": "x500UniqueIdentifier",
    "2.5.4.46": "dnQualifier", "2.5.4.65": "pseudonym", "2.5.4.72": "role", "2.5.4.97": "organizationIdentifier",
    "1.2.840.113549.1.9.1": "emailAddress", "1.2.840.113549.1.9.2": "unstructuredName",
    "1.2.840.113549.1.9.8": "unstructuredAddress",
    "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionL", "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionST",
    "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionC",
}
NAME_OVERRIDES: dict[x509.ObjectIdentifier, str] = {
    x509.ObjectIdentifier(oid): name for oid, name in OPENSSL_ATTRIBUTE_NAMES.items()}


def name_text(name: x509.Name) -> str:
    """RFC 4514 text of a Name with OpenSSL's attribute names where cryptography has none."""
    return name.rfc4514_string(NAME_OVERRIDES)


def name_attributes(name: x509.Name) -> tuple[tuple[str, str, str], ...]:
    """The Name's attributes in certificate order, each (OID, the name we print, the value;
    ``#hex`` for a value that is not a string): the OIDs kept for the JSON."""
    out = []
    for rdn in name.rdns:
        for attr in rdn:
            oid = attr.oid.dotted_string
            value = attr.value
            out.append((oid, OPENSSL_ATTRIBUTE_NAMES.get(oid) or _short_name(attr),
                        value if isinstance(value, str) else "#" + value.hex()))
    return tuple(out)


def _short_name(attr: x509.NameAttribute[Any]) -> str:
    """cryptography's own name for the attribute type (CN, O, ...), else the dotted OID."""
    return attr.rfc4514_string().split("=", 1)[0]


def _norm_value(value: str | bytes) -> str:
    """RFC 5280 §7.1-style comparison form: case-folded, whitespace collapsed."""
    if isinstance(value, bytes):
        return "#" + value.hex()
    return " ".join(value.split()).casefold()


def name_key(name: x509.Name) -> NameKey:
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
            return attr.rfc4514_string(NAME_OVERRIDES)
        except Exception:  # noqa: BLE001, S110 - value not representable: use the generic form below
            pass
    return f"{OPENSSL_ATTRIBUTE_NAMES.get(oid, oid)}=#{raw_tlv.hex()}"


def decode_distinguished_name(der: bytes) -> str:
    """RFC 4514 string of one DER Name (e.g. from a CertificateRequest); raises ValueError."""
    rdns = _parse_name_der(bytes(der))
    return ",".join("+".join(_attr_rfc4514(*attr) for attr in rdn) for rdn in reversed(rdns))


def _name_der_key(der: bytes) -> NameKey:
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
