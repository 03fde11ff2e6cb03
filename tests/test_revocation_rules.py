"""Revocation: certificate_revoked from either side names the revoked certificate's cause, and the
remedy says where its CA publishes the status (the certificate's own CRL distribution point and
OCSP responder URLs).

The lab's captures are the oracle for the causes: curl said "certificate revoked" (server's
certificate, tls12_server_cert_revoked_curl) and HAProxy sent certificate_revoked for a client
certificate on its CRL (wide_client_cert_revoked_haproxy; tshark decoded the alert).
"""

from __future__ import annotations

from pathlib import Path

import tlsdissect
from tlsdissect.diagnosis.rules.revocation import _status_sources
from tlsdissect.x509.parse import parse_certificate

from tests.certs_factory import lab_pki

CAPTURES = Path(__file__).resolve().parent.parent / "captures"


def test_where_the_ca_publishes_the_status() -> None:
    leaf = parse_certificate(lab_pki().leaf.der)
    [line] = _status_sources(leaf)
    assert "http://pki.lab.test/intermediate.crl" in line and "http://ocsp.lab.test" in line
    assert leaf.serial_hex and leaf.serial_hex in line
    assert _status_sources(parse_certificate(lab_pki().root.der)) == []  # it names neither


def test_server_certificate_revoked() -> None:
    conn = tlsdissect.analyze(CAPTURES / "tls12_server_cert_revoked_curl" / "capture.pcap").connections[0]
    d = conn.diagnosis
    assert (d.cause, d.confidence, d.aborted_by, d.alert.code) == ("server_cert_revoked", "certain", "client", 44)
    assert "server_cert_rejected" in d.alternatives


def test_client_certificate_revoked_names_the_certificate() -> None:
    conn = tlsdissect.analyze(CAPTURES / "wide_client_cert_revoked_haproxy" / "capture.pcap").connections[0]
    d = conn.diagnosis
    assert (d.cause, d.failure_point, d.aborted_by, d.alert.code) == ("client_cert_revoked", "client_certificate",
                                                                         "server", 44)
    assert any("CN=dave-revoked" in e.text for e in d.evidence)
