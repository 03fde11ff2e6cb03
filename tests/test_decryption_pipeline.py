"""Decryption through the whole pipeline (analyze with a key log), on captures others made.

Independent truths: the ssldump samples decrypt to what tshark decrypts with the same key
log; the wireshark-notes dumps carry HTTP; the lab's TLS 1.3 failures have TLS 1.2 twins whose
alerts are in clear; a pcapng Decryption Secrets Block built here by hand carries the keys.
"""

from __future__ import annotations

import collections
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

import tlsdissect
from tests.shared_captures import shared_captures_dir

SHARED = shared_captures_dir()
SSLDUMP = SHARED / "adulau+ssldump" / "samples"
NOTES = SHARED / "Lekensteyn+wireshark-notes"
LAB = Path(__file__).resolve().parent.parent / "captures"

needs_shared = pytest.mark.skipif(not SSLDUMP.is_dir(), reason="shared captures not available")


def _client_plaintext(conn: tlsdissect.Connection) -> str:
    for e in conn.events:
        if e.type == "application_data" and e.sender == "client":
            return str(e.info.get("preview", ""))
    return ""


@needs_shared
@pytest.mark.parametrize("pcap", sorted(p.name for p in SSLDUMP.glob("*.pcap")) if SSLDUMP.is_dir() else [])
def test_ssldump_samples_decrypt_completely(pcap: str) -> None:
    report = tlsdissect.analyze(SSLDUMP / pcap, keylog=str(SSLDUMP / "log.txt"))
    assert report.connections
    for conn in report.connections:
        dec = conn.extra["decryption"]
        assert dec["status"] == "decrypted", dec
        assert not any("decryption failed" in a.info.get("detail", "") for a in conn.anomalies)
        # Every protected record went through the decryptor: none is left opaque.
        assert conn.client_stats.protected_records == 0
        assert conn.server_stats.protected_records == 0
        assert _client_plaintext(conn), "no decrypted client data"


@needs_shared
@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize("pcap", sorted(p.name for p in SSLDUMP.glob("*.pcap")) if SSLDUMP.is_dir() else [])
def test_ssldump_plaintext_equals_tshark(pcap: str) -> None:
    """The client's first decrypted bytes are what tshark decrypts with the same key log."""
    out = subprocess.run(
        ["tshark", "-r", str(SSLDUMP / pcap), "-o", f"tls.keylog_file:{SSLDUMP / 'log.txt'}", "-q",
         "-z", "follow,tls,raw,0"], capture_output=True, text=True, timeout=120).stdout
    # Both directions' chunks (tshark's "Node 0" is whichever side it saw first).
    chunks = [ln.strip() for ln in out.splitlines()
              if ln.strip() and not ln.startswith(("=", "Follow:", "Filter:", "Node"))]
    assert chunks, out
    client_bytes = b"".join(bytes.fromhex(c) for c in chunks)
    conn = tlsdissect.analyze(SSLDUMP / pcap, keylog=str(SSLDUMP / "log.txt")).connections[0]
    ours = _client_plaintext(conn).encode("latin-1")
    n = min(len(ours), 32)
    assert n > 0 and ours[:n] in client_bytes


@needs_shared
@pytest.mark.parametrize("sub", ["all", "ssl3"])
def test_wireshark_notes_every_session_decrypts_to_http(sub: str) -> None:
    folder = NOTES / sub
    report = tlsdissect.analyze(folder / "dump.pcapng", keylog=str(folder / "premaster.txt"))
    per_suite: collections.Counter[str] = collections.Counter()
    failed = []
    for conn in report.connections:
        text = " ".join(str(e.info.get("preview", "")) for e in conn.events if e.type == "application_data")
        if "HTTP/1." in text:
            per_suite[conn.cipher or "?"] += 1
        else:
            failed.append((conn.stream, conn.cipher, conn.extra.get("decryption")))
    assert not failed, failed
    assert sum(per_suite.values()) == len(report.connections) > 10


TWINS = [
    ("tls12_client_cert_missing", "tls13_client_cert_missing"),
    ("tls12_client_cert_unknown_ca", "tls13_client_cert_unknown_ca"),
    ("tls12_missing_intermediate_curl", "tls13_missing_intermediate_curl"),
    ("tls12_untrusted_root_curl", "tls13_untrusted_root_curl"),
    ("tls12_expired_curl", "tls13_expired_curl"),
]


@pytest.mark.parametrize("tls12,tls13", [t for t in TWINS if (LAB / t[1] / "keylog.txt").exists()])
def test_tls13_with_keys_equals_its_tls12_twin(tls12: str, tls13: str) -> None:
    def diag(name: str, keys: bool) -> tlsdissect.Connection:
        folder = LAB / name
        keylog = str(folder / "keylog.txt") if keys and (folder / "keylog.txt").exists() else None
        return tlsdissect.analyze(folder / "capture.pcap", keylog=keylog).connections[0]

    a = diag(tls12, False).diagnosis
    b = diag(tls13, True).diagnosis
    assert (b.cause, b.aborted_by, b.how, b.failure_point) == (a.cause, a.aborted_by, a.how, a.failure_point)
    assert b.alert is not None and a.alert is not None
    # TLS 1.3 says certificate_required where TLS 1.2 can only say handshake_failure.
    same_meaning = {(40, 116)}
    assert a.alert.code == b.alert.code or (a.alert.code, b.alert.code) in same_meaning


def _pcapng_with_secrets(pcap: Path, keylog: bytes, after_packets: int = 0) -> bytes:
    """Rewrite a little-endian µs pcap as pcapng with a Decryption Secrets Block first
    (what `editcap --inject-secrets tls,keys.txt` produces), following the pcapng spec; or,
    with ``after_packets``, after that many packets (keys arriving mid-capture)."""
    raw = pcap.read_bytes()
    assert raw[:4] == b"\xd4\xc3\xb2\xa1"
    linktype = struct.unpack_from("<I", raw, 20)[0] & 0xFFFF

    def block(btype: int, body: bytes) -> bytes:
        body += b"\0" * (-len(body) % 4)
        n = len(body) + 12
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    dsb = block(0x0A, struct.pack("<II", 0x544C534B, len(keylog)) + keylog)
    out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)),
           block(1, struct.pack("<HHI", linktype, 0, 0))]
    if not after_packets:
        out.append(dsb)
    pos = 24
    packets = 0
    while pos + 16 <= len(raw):
        if after_packets and packets == after_packets:
            out.append(dsb)
        packets += 1
        sec, usec, caplen, origlen = struct.unpack_from("<IIII", raw, pos)
        data = raw[pos + 16:pos + 16 + caplen]
        ts = sec * 1_000_000 + usec
        out.append(block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, caplen, origlen) + data))
        pos += 16 + caplen
    return b"".join(out)


@pytest.mark.skipif(not (LAB / "tls13_client_cert_missing" / "keylog.txt").exists(), reason="lab capture missing")
def test_keys_embedded_in_pcapng_are_used() -> None:
    folder = LAB / "tls13_client_cert_missing"
    data = _pcapng_with_secrets(folder / "capture.pcap", (folder / "keylog.txt").read_bytes())
    conn = tlsdissect.analyze(data).connections[0]
    assert conn.extra["decryption"]["status"] == "decrypted"
    assert conn.diagnosis.alert.name == "certificate_required"
    assert conn.diagnosis.cause == "client_cert_missing"


@pytest.mark.skipif(not (LAB / "tls13_success" / "keylog.txt").exists(), reason="lab capture missing")
def test_wrong_and_missing_keys_are_reported_not_guessed(tmp_path: Path) -> None:
    folder = LAB / "tls13_success"
    lines = (folder / "keylog.txt").read_text().splitlines()
    wrong = []
    for ln in lines:
        parts = ln.split()
        if len(parts) == 3:
            secret = bytes.fromhex(parts[2])
            parts[2] = bytes(b ^ 0x55 for b in secret).hex()
        wrong.append(" ".join(parts))
    bad = tmp_path / "wrong.txt"
    bad.write_text("\n".join(wrong) + "\n")
    conn = tlsdissect.analyze(folder / "capture.pcap", keylog=str(bad)).connections[0]
    assert any("decryption failed" in a.info.get("detail", "") for a in conn.anomalies)
    assert not any(e.type == "application_data" and e.info.get("encrypted") for e in conn.events)
    assert conn.diagnosis.cause == "ok"  # the handshake still completed, as the bytes show

    empty = tmp_path / "other.txt"
    empty.write_text("CLIENT_RANDOM " + "00" * 32 + " " + "11" * 48 + "\n")
    conn = tlsdissect.analyze(folder / "capture.pcap", keylog=str(empty)).connections[0]
    notes = " ".join(conn.extra["decryption"]["notes"])
    assert "SERVER_HANDSHAKE_TRAFFIC_SECRET" in notes
