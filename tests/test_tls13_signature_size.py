"""TLS 1.3 without keys: the server's signature length read from the size of its encrypted
CertificateVerify record (tls.conclusions.server_signature_length), against tshark's decryption of
the same message with the lab's key logs (``tls.handshake.client_cert_vrfy.sig_len``), on every
TLS 1.3 lab capture with a key log whose server sends one message per record; and the 1024-bit
RSA keys of the wide labs read as such without keys.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import tlsdissect
from tlsdissect.tls.conclusions import server_signature_length

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
TSHARK = shutil.which("tshark")


def _tls13_with_keys() -> list[Path]:
    out = []
    for sidecar in sorted(CAPTURES.glob("*/expected.json")):
        expected = json.loads(sidecar.read_text())["expected"]
        if expected.get("version") == "TLSv1.3" and (sidecar.parent / "keylog.txt").exists():
            out.append(sidecar.parent)
    return out


def _tshark_server_signature(folder: Path, server_port: str) -> int | None:
    out = subprocess.run([TSHARK or "tshark", "-r", str(folder / "capture.pcap"), "-o",
                          f"tls.keylog_file:{folder / 'keylog.txt'}", "-Y", "tls.handshake.type == 15", "-T", "fields",
                          "-e", "tcp.srcport", "-e", "tls.handshake.client_cert_vrfy.sig_len"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    for line in out.splitlines():
        port, _, length = line.partition("\t")
        if port == server_port and length:
            return int(length.split(",")[0])
    return None


@pytest.mark.skipif(TSHARK is None, reason="tshark is the oracle")
def test_signature_length_from_record_sizes_matches_tshark_s_decryption() -> None:
    compared = 0
    for folder in _tls13_with_keys():
        report = tlsdissect.analyze(folder / "capture.pcap")  # (no key log: sizes only)
        conn = report.connections[0]
        if conn.version != "TLSv1.3":
            continue
        server_port = conn.server.rsplit(":", 1)[1]
        sh = next((e for e in conn.events if e.type == "handshake" and e.info.get("message") == "server_hello"), None)
        if sh is None:
            continue
        lengths = [e.info.get("length", 0) for e in conn.events
                   if e.type == "encrypted_record" and e.sender == "server" and e.frame >= sh.frame]
        ours = server_signature_length(lengths, conn.cipher_code)
        if ours is None:
            continue
        assert ours == _tshark_server_signature(folder, server_port), folder.name
        compared += 1
        if compared == 16:
            break  # (enough peers and key types; each tshark run costs a second or two)
    assert compared >= 10


@pytest.mark.parametrize("name", ["wide_weak_rsa1024_s_server_python", "wide2_weak_rsa1024_go_s_client"])
def test_a_1024_bit_server_key_is_seen_through_tls13_encryption(name: str) -> None:
    folder = CAPTURES / name
    expected = json.loads((folder / "expected.json").read_text())["expected"]
    conn = tlsdissect.analyze(folder / "capture.pcap").connections[0]
    assert conn.diagnosis.cause == expected["cause"] == "weak_server_key"
