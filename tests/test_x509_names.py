"""Certificate names read with OpenSSL's attribute names, never bare OIDs.

The oracle is the openssl command: ``openssl x509 -noout -subject -nameopt RFC2253`` prints a
certificate's subject with OpenSSL's short names, in RFC 2253 order; our ``subject`` must be the
same string for every attribute type we name after OpenSSL.
"""

from __future__ import annotations

import datetime
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tlsdissect.x509.names import OPENSSL_ATTRIBUTE_NAMES
from tlsdissect.x509.parse import parse_certificate


def _certificate(attributes: list[tuple[str, str]]) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.ObjectIdentifier(oid), value) for oid, value in attributes])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


# One value per attribute type; the country-like ones need two letters.
VALUES = {"1.3.6.1.4.1.311.60.2.1.3": "US", "2.5.4.6": "US"}
ATTRIBUTES = [("2.5.4.3", "www.example.com"), ("2.5.4.10", "Example Ltd"), ("2.5.4.6", "US")] + [
    (oid, VALUES.get(oid, f"v{i}")) for i, oid in enumerate(OPENSSL_ATTRIBUTE_NAMES)]


def test_subject_equals_openssl_rfc2253() -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed")
    der = _certificate(ATTRIBUTES)
    out = subprocess.run([openssl, "x509", "-inform", "DER", "-noout", "-subject", "-nameopt", "RFC2253"],
                         input=der, capture_output=True, check=True).stdout.decode()
    theirs = out.strip().removeprefix("subject=")
    info = parse_certificate(der)
    assert info.subject == theirs
    assert info.issuer == theirs


def test_no_bare_oid_and_oids_kept_in_json() -> None:
    info = parse_certificate(_certificate(ATTRIBUTES))
    d = info.to_dict()
    assert not any(part.split("=", 1)[0][0].isdigit() for part in info.subject.split(","))
    attrs = d["subject_attributes"]
    assert [a["oid"] for a in attrs] == [oid for oid, _ in ATTRIBUTES]
    assert {a["oid"]: a["name"] for a in attrs}["2.5.4.5"] == "serialNumber"
    d["subject_attributes"][0]["value"] = "changed"  # one result's change reaches no other
    assert info.to_dict()["subject_attributes"][0]["value"] == "www.example.com"
