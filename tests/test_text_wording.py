"""The text view's wording says what the packets say: the timeline's direction is the frame's
real direction (tshark's listing), a capture cut after the ClientHello is said to lack the
server's answer (the frames kept are known), no sentence is printed twice, and the alert record's
bytes quoted are the bytes of the frame (tshark's tcp.payload), with the unquoted part named."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import tlsdissect
from tests.tshark_oracle import frame_senders, tshark_path

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "captures"
TIMELINE = re.compile(r"^ {4} *(\d+)  (client → server|client ← server)  ")


def _text(capture: Path | str, *args: str) -> str:
    r = subprocess.run([sys.executable, "-m", "tlsdissect", "--no-color", *args, str(capture)],
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert r.returncode in (0, 1), r.stderr
    return r.stdout


@pytest.mark.parametrize("name", ["tls12_missing_intermediate_openssl", "tls13_client_cert_missing",
                                  "server_closed_on_hello", "tls12_client_cert_missing"])
def test_the_timeline_arrow_goes_from_the_frame_s_sender(name: str) -> None:
    """'client → server' for what the client sent, 'client ← server' for the server's, as in the
    ladder (client on the left): never a bare '→ client' that reads 'to the client'."""
    text = _text(LAB / name / "capture.pcap")
    senders = frame_senders(LAB / name)
    (conn,) = tlsdissect.analyze(LAB / name / "capture.pcap")
    rows = [m for m in map(TIMELINE.match, text.splitlines()) if m]
    assert rows, text
    for m in rows:
        frame, direction = int(m.group(1)), m.group(2)
        from_client = senders[frame] == conn.client
        assert from_client == (direction == "client → server"), (frame, senders[frame], direction)
    assert "→ client " not in text and "← server " not in text.replace("client ← server", "")


def _pcap_frames(path: Path) -> tuple[bytes, list[bytes]]:
    """A classic little-endian pcap's global header and its records (header + data), in order."""
    raw = path.read_bytes()
    assert raw[:4] == b"\xd4\xc3\xb2\xa1"
    records, pos = [], 24
    while pos + 16 <= len(raw):
        caplen = struct.unpack_from("<I", raw, pos + 8)[0]
        records.append(raw[pos:pos + 16 + caplen])
        pos += 16 + caplen
    return raw[:24], records


def test_a_capture_cut_after_the_client_hello_says_the_server_s_answer_is_missing(tmp_path: Path) -> None:
    # tls12_success's tshark listing: frames 1-3 the TCP handshake, 4 the Client Hello, 5 the
    # server's ACK, 6 its Server Hello ... Keep frames 1-5: the server has not answered yet.
    listing = (LAB / "tls12_success" / "tshark.txt").read_text().splitlines()
    assert "Client Hello" in listing[3] and "Server Hello" in listing[5]
    head, records = _pcap_frames(LAB / "tls12_success" / "capture.pcap")
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(head + b"".join(records[:5]))
    text = _text(cut)
    assert "the capture ends before the server's answer to the ClientHello" in text
    assert "ends before client hello" not in text


def test_a_capture_without_the_client_hello_says_so() -> None:
    """The verdict of a connection whose capture starts after the ClientHello (the server's
    flight is its last handshake message) names the ClientHello as what is missing, not a
    step the capture 'ends before'."""
    from tlsdissect.diagnosis.verdict import Diagnosis

    d = Diagnosis("incomplete", "unknown", "possible", failure_point="client_hello", how="capture_ended",
                  last_completed={"message": "server_hello_done", "sender": "server", "frame": 6, "encrypted": False})
    assert d.verdict == "Incomplete: the capture does not show the ClientHello."
    d.last_completed = {"message": "client_hello", "sender": "client", "frame": 4, "encrypted": False}
    assert d.verdict == "Incomplete: the capture ends before the server's answer to the ClientHello."


def _tuning_captures() -> list[Path]:
    """The bundled captures but the held-out ones (their sidecar says so; nothing else is read)."""
    return [cap for cap in sorted(LAB.glob("*/capture.pcap"))
            if not json.loads((cap.parent / "expected.json").read_text()).get("held_out")]


def test_no_sentence_is_printed_twice_in_a_diagnosis() -> None:
    """Across the bundled captures: an evidence line's sentence is not also in the explanation
    printed above it (it used to be, word for word, for certificate findings)."""
    seen = 0
    for cap in _tuning_captures()[::3]:
        lines = _text(cap).splitlines()
        evidence = [re.sub(r"^ +- (frames? [\d, ]+: )?", "", x) for x in lines if x.startswith("      - ")]
        prose = [x.strip() for x in lines if x.startswith("    ") and not x.startswith("     ")]
        for ev in evidence:
            if len(ev) > 30:
                seen += 1
                assert not any(ev in p for p in prose), (cap.parent.name, ev)
    assert seen > 50


def test_the_alert_record_bytes_are_the_frame_s_and_say_what_is_left_out() -> None:
    if tshark_path() is None:
        pytest.skip("tshark is the oracle for the frame's bytes")
    cap = LAB / "tls12_missing_intermediate_openssl" / "capture.pcap"
    (conn,) = tlsdissect.analyze(cap)
    line = next(e for e in conn.diagnosis.evidence if "record bytes" in e.text)
    (frame,) = line.frames
    payload = bytes.fromhex(subprocess.run(
        [tshark_path() or "tshark", "-r", str(cap), "-Y", f"frame.number == {frame}", "-T", "fields",
         "-e", "tcp.payload"], capture_output=True, text=True, check=True, timeout=60).stdout.strip().replace(":", ""))
    assert len(payload) == 7 and payload[0] == 0x15  # one alert record: type, version, length 2, body
    m = re.search(r"record bytes 15 \[version\] 00 02 \| ([0-9a-f]{2}) ([0-9a-f]{2}) \(type, version, length \| "
                  r"level, description\)", line.text)
    assert m, line.text
    assert payload[3:5] == b"\x00\x02" and bytes([int(m.group(1), 16), int(m.group(2), 16)]) == payload[5:7]
    assert ".." not in line.text


def test_a_probable_cause_keeps_an_acronym_s_capitals() -> None:
    from tlsdissect.diagnosis.causes import CAUSES
    from tlsdissect.diagnosis.verdict import Diagnosis

    for cause, entry in CAUSES.items():
        verdict = Diagnosis("failed", cause, "likely", failure_point="client_hello", aborted_by="server",
                            how="fin").verdict
        first = entry.title.split()[0]
        assert verdict.startswith("Probably: " + (first if first.isupper() and len(first) > 1 else first.lower())), verdict


@pytest.mark.parametrize("name", ["tls13_no_shared_cipher", "wide_no_common_group_s_server"])
def test_the_offer_names_the_key_shares_tshark_reads(name: str) -> None:
    """-v's offer part lists the ClientHello's key shares by name (the key_share extension's
    groups, as tshark's tls.handshake.extensions_key_share_group reads them)."""
    tshark = tshark_path()
    capture = ROOT / "captures" / name / "capture.pcap"
    if tshark is None or not capture.is_file():
        pytest.skip("tshark or the capture is missing")
    groups = subprocess.run([tshark, "-n", "-r", str(capture), "-Y", "tls.handshake.type == 1", "-T", "fields",
                             "-e", "tls.handshake.extensions_key_share_group"],
                            capture_output=True, text=True).stdout.split()[0].split(",")
    from tlsdissect.tls import tables

    names = [tables.name_of(tables.SUPPORTED_GROUPS, int(g)) for g in groups]
    run = subprocess.run([sys.executable, "-m", "tlsdissect", "-v", "--no-color", str(capture)],
                         capture_output=True, text=True, cwd=ROOT)
    line = next(x for x in run.stdout.splitlines() if x.strip().startswith("key shares:"))
    assert line.split(":", 1)[1].strip() == ", ".join(names)
