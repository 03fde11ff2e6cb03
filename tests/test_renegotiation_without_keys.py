"""A client-initiated renegotiation refused, read without the key log (TLS 1.2: the alerts and
the new ClientHello are encrypted under the first handshake's keys, their record types are not).

The capture is the Apache lab's: openssl s_client starts a renegotiation right after the
handshake, before any data; Apache refuses it with a warning no_renegotiation and s_client gives
up with a fatal handshake_failure (tshark with the key log, expected.json). Without keys, what
tells is the order: the client's second protected handshake record (each side's first is its
Finished) and the server's answer with an alert and no handshake of its own.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tlsdissect

LAB = Path(__file__).resolve().parent.parent / "captures" / "tls12_client_renegotiation_rejected"
pytestmark = pytest.mark.skipif(not (LAB / "capture.pcap").exists(), reason="lab capture missing")


def _tshark_alerts() -> list[tuple[int, str, int]]:
    doc = json.loads((LAB / "expected.json").read_text())
    out = []
    for line in doc["observed"]["tshark_alerts"]:
        words = line.split()
        code = int(line.split("(")[1].split(")")[0])
        out.append((int(words[1]), words[3], code))  # frame, level, code
    return out


def test_refused_client_renegotiation_without_keys() -> None:
    doc = json.loads((LAB / "expected.json").read_text())
    e = doc["expected"]
    alerts = _tshark_alerts()
    fatal = next(a for a in alerts if a[1] == "fatal")
    c = tlsdissect.analyze(LAB / "capture.pcap").connections[0]
    g = c.diagnosis
    assert (g.outcome, g.cause, g.failure_point, g.aborted_by) == (e["outcome"], e["cause"], e["failure_point"],
                                                                     e["aborted_by"])
    assert g.alert is not None and g.alert.frame == fatal[0] and g.alert.encrypted
    assert "client started a renegotiation" in g.explanation


def test_the_same_with_the_key_log_reads_the_alerts() -> None:
    e = json.loads((LAB / "expected.json").read_text())["expected"]
    c = tlsdissect.analyze(LAB / "capture.pcap", keylog=str(LAB / "keylog.txt")).connections[0]
    assert c.diagnosis.cause == e["cause"]
    assert [(a.frame, a.code) for a in c.alerts] == [(f, code) for f, _, code in _tshark_alerts()]
