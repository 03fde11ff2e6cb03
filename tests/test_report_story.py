"""The whole story on screen: the -v ladder, certificate tree and client offer, and warnings on
connections that worked, checked against tshark's own listing of each bundled capture and the
certificates' bytes (read with cryptography), not against our own output."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509

import tlsdissect
from tests.tshark_oracle import frame_senders

ROOT = Path(__file__).resolve().parents[1]
CAPTURES = sorted(p for p in (ROOT / "captures").iterdir() if (p / "tshark.txt").is_file())
ROW = re.compile(r"^ +(\d+) +(\d+\.\d{6})  \|(─ .* ─*▶|◀─* .* ─)\|$")


def _verbose(capture: Path) -> str:
    r = subprocess.run([sys.executable, "-m", "tlsdissect", "-v", "--no-color", "--all", str(capture)],
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    return r.stdout


@pytest.mark.parametrize("capture_dir", CAPTURES[::6], ids=lambda p: p.name)
def test_every_ladder_arrow_points_the_way_its_frame_travelled(capture_dir: Path) -> None:
    text = _verbose(capture_dir / "capture.pcap")
    senders = frame_senders(capture_dir)
    report = tlsdissect.analyze(capture_dir / "capture.pcap", include_all=True)
    clients = {c.client.replace("[", "").replace("]", "") for c in report}
    rows = [ROW.match(line) for line in text.splitlines()]
    rows = [m for m in rows if m]
    assert rows or not any(c.events for c in report)
    for m in rows:
        frame, arrow = int(m.group(1)), m.group(3)
        if frame not in senders:
            continue
        from_client = senders[frame] in clients
        assert arrow.endswith("▶") == from_client, (capture_dir.name, frame, senders[frame], arrow)


def test_the_certificate_tree_shows_what_the_certificate_bytes_say() -> None:
    cap = ROOT / "captures" / "tls12_missing_intermediate_openssl" / "capture.pcap"
    conn = tlsdissect.analyze(cap).connections[0]
    cert = x509.load_der_x509_certificate(conn.server_certificates_der[0])
    text = _verbose(cap)
    assert "server certificates (1 sent" in text
    assert f"validity: {cert.not_valid_before_utc:%Y-%m-%d} .. {cert.not_valid_after_utc:%Y-%m-%d}" in text
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    for name in sans.get_values_for_type(x509.DNSName):
        assert name in text.split("names:", 1)[1].splitlines()[0]
    assert f"key:      RSA {cert.public_key().key_size}" in text


def test_a_refused_client_hello_lists_what_was_offered_by_name() -> None:
    text = _verbose(ROOT / "captures" / "tls12_no_shared_cipher" / "capture.pcap")
    # expected.json: curl was run with --ciphers ECDHE-RSA-AES128-GCM-SHA256 (OpenSSL's name for 0xc02f)
    assert "cipher suites (2): TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_EMPTY_RENEGOTIATION_INFO_SCSV" in text
    assert "ALPN:              h2, http/1.1" in text


def test_a_working_connection_shows_its_certificate_warnings() -> None:
    # The lab's client sends its leaf without the intermediate that issued it (one certificate in
    # its Certificate message, tshark: "Certificate" with one entry); the handshake still completes.
    cap = ROOT / "captures" / "mtls_success_tls12" / "capture.pcap"
    conn = tlsdissect.analyze(cap).connections[0]
    assert conn.established and len(conn.client_certificates_der) == 1
    issuer_cn = x509.load_der_x509_certificate(conn.client_certificates_der[0]).issuer.get_attributes_for_oid(
        x509.NameOID.COMMON_NAME)[0].value
    r = subprocess.run([sys.executable, "-m", "tlsdissect", "--no-color", str(cap)],
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    lines = r.stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("✓ stream 0"))
    warning = lines[head + 1]
    assert warning.startswith("    warning: client certificate:") and warning.endswith("(chain_incomplete)")
    assert f"CN={issuer_cn}" in warning  # names the missing issuer
