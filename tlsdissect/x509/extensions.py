"""A certificate's extensions as ``CertificateInfo`` fields: names, constraints, usages, key ids, URLs.

Read with ``cryptography``; when it rejects the whole extension block over a small DER fault,
the identity fields are read by hand (``_lenient_extensions``) so that the host name and EKU
checks still run.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from tlsdissect.x509.der import _decode_oid, _DerError, _read_tlv

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

# RFC 7633's TLS Feature values are TLS extension numbers: status_request (5) is "OCSP must-staple".
_TLS_FEATURE_NAMES = {5: "status_request", 17: "status_request_v2"}
TLS_FEATURE_OID = "1.3.6.1.5.5.7.1.24"


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
            elif oid == TLS_FEATURE_OID:  # SEQUENCE OF INTEGER (extension numbers)
                features = []
                _t, fstart, fend = _read_tlv(value, 0, len(value))
                while fstart < fend:
                    _t, istart, iend = _read_tlv(value, fstart, fend)
                    number = int.from_bytes(value[istart:iend], "big")
                    features.append(_TLS_FEATURE_NAMES.get(number, str(number)))
                    fstart = iend
                fields["tls_features"] = tuple(features)
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
    features = get(x509.TLSFeature)
    if features is not None:
        fields["tls_features"] = tuple(_TLS_FEATURE_NAMES.get(int(t.value), str(int(t.value))) for t in features)
    try:
        fields["unknown_critical_extensions"] = tuple(
            ext.oid.dotted_string for ext in exts if ext.critical and isinstance(ext.value, x509.UnrecognizedExtension)
        )
    except Exception as exc:  # noqa: BLE001
        errors.append(f"extensions: {exc}")
